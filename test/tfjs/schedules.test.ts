import { describe, expect, it } from 'vitest';
import { InfoBatch } from '../../src/core/info-batch.js';
import { cosineSchedule, OneCycle, oneCycleSchedule, stepSchedule } from '../../src/tfjs/schedules.js';

describe('cosineSchedule', () => {
  it('starts at baseLr and decays to just above minLr at the last epoch', () => {
    const lr = cosineSchedule({ baseLr: 0.1, totalEpochs: 10, minLr: 0.001 });
    expect(lr(0)).toBe(0.1);
    expect(lr(5)).toBeCloseTo(0.001 + 0.099 / 2, 12);
    expect(lr(9)).toBeCloseTo(0.001 + (0.099 * (1 + Math.cos((Math.PI * 9) / 10))) / 2, 12);
    expect(lr(9)).toBeGreaterThan(0.001);
    for (let e = 1; e < 10; e++) expect(lr(e)).toBeLessThan(lr(e - 1));
  });

  it('rejects epochs outside the run and bad options', () => {
    const lr = cosineSchedule({ baseLr: 0.1, totalEpochs: 10 });
    expect(() => lr(10)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => cosineSchedule({ baseLr: 0.1, totalEpochs: 10, minLr: 0.2 })).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE', message: expect.stringContaining("'minLr'") }));
    expect(() => cosineSchedule({ baseLr: 0.1, totalEpochs: 0 })).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
});

describe('stepSchedule', () => {
  it('decays every stepSize epochs or at milestones', () => {
    const every = stepSchedule({ baseLr: 1, stepSize: 3, gamma: 0.5 });
    expect([0, 2, 3, 5, 6].map(every)).toEqual([1, 1, 0.5, 0.5, 0.25]);
    const milestones = stepSchedule({ baseLr: 0.1, milestones: [10, 20] });
    expect(milestones(9)).toBe(0.1);
    expect(milestones(10)).toBeCloseTo(0.01, 15);
    expect(milestones(25)).toBeCloseTo(0.001, 15);
  });

  it('needs exactly one of stepSize and milestones, milestones increasing', () => {
    expect(() => stepSchedule({ baseLr: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('neither') }));
    expect(() => stepSchedule({ baseLr: 1, stepSize: 2, milestones: [3] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('both') }));
    expect(() => stepSchedule({ baseLr: 1, milestones: [5, 5] })).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE', message: expect.stringContaining('milestones[1]') }));
  });
});

describe('oneCycleSchedule', () => {
  it('goes from maxLr/divFactor up to maxLr and down to the final lr at the last step, never past it', () => {
    const lr = oneCycleSchedule({ maxLr: 0.1, totalSteps: 101, pctStart: 0.3 });
    expect(lr(0)).toBeCloseTo(0.1 / 25, 15);
    expect(lr(30)).toBeCloseTo(0.1, 15);
    expect(lr(100)).toBeCloseTo(0.1 / 25 / 1e4, 15);
    expect(() => lr(101)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
});

describe('OneCycle', () => {
  it('stays within each epoch step budget of a real InfoBatch run and ends at the final lr', () => {
    // Scores with a spread: plans shrink in the pruning epochs, so the step count changes per epoch.
    const numSamples = 1000;
    const numEpochs = 8;
    const batchSize = 64;
    const ib = new InfoBatch({ numSamples, numEpochs, seed: 5 });
    const schedule = new OneCycle({ maxLr: 0.5, totalEpochs: numEpochs, pctStart: 0.25 });
    const rates: number[] = [];
    const stepCounts: number[] = [];
    for (let epoch = 0; epoch < numEpochs; epoch++) {
      const plan = ib.beginEpoch(epoch);
      const steps = plan.numBatches(batchSize);
      stepCounts.push(steps);
      schedule.beginEpoch(epoch, steps);
      let step = 0;
      for (const batch of plan.batches(batchSize)) {
        rates.push(schedule.lr(step++));
        ib.recordLosses(batch.indices, Array.from(batch.indices, (i) => (i % 10) / 10 + 0.01));
      }
      expect(step).toBe(steps);
      // One step past the budget is refused, not extrapolated.
      expect(() => schedule.lr(steps)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE', message: expect.stringContaining(`epoch ${epoch} has only ${steps} steps`) }));
    }
    expect(new Set(stepCounts).size).toBeGreaterThan(1);
    expect(rates[0]).toBeCloseTo(0.5 / 25, 15);
    expect(rates.at(-1)).toBeCloseTo(0.5 / 25 / 1e4, 15);
    expect(Math.max(...rates)).toBeLessThanOrEqual(0.5);
    expect(rates.every((r) => r > 0 && Number.isFinite(r))).toBe(true);
    // Warm-up rises and annealing falls monotonically around the peak.
    const peak = rates.indexOf(Math.max(...rates));
    for (let i = 1; i <= peak; i++) expect(rates[i]).toBeGreaterThanOrEqual(rates[i - 1]!);
    for (let i = peak + 1; i < rates.length; i++) expect(rates[i]).toBeLessThanOrEqual(rates[i - 1]!);
  });

  it('places each epoch on its share of the cycle, whatever its length', () => {
    const schedule = new OneCycle({ maxLr: 1, totalEpochs: 4, pctStart: 0.5, divFactor: 10, finalDivFactor: 100 });
    // Epoch 2 starts at progress 0.5, the peak, whether it has 3 steps or 300.
    expect(schedule.lrAt(2, 0, 3)).toBe(1);
    expect(schedule.lrAt(2, 0, 300)).toBe(1);
    expect(schedule.lrAt(0, 0, 7)).toBeCloseTo(0.1, 15);
    expect(schedule.lrAt(3, 0, 1)).toBeCloseTo(0.001, 15); // a one-step last epoch is at the end
    expect(schedule.lrAt(3, 4, 5)).toBeCloseTo(0.001, 15);
  });

  it('refuses lr before beginEpoch and bad epochs or step counts', () => {
    const schedule = new OneCycle({ maxLr: 1, totalEpochs: 2 });
    expect(() => schedule.lr(0)).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => schedule.beginEpoch(2, 10)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => schedule.beginEpoch(0, 0)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => new OneCycle({ maxLr: 1, totalEpochs: 2, pctStart: 1 })).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE', message: expect.stringContaining("'pctStart'") }));
    expect(() => new OneCycle({ maxLr: 1, totalEpochs: 2, totalSteps: 100 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
