import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/core/crc32.js';
import { CHECKPOINT_FORMAT_VERSION, decodeCheckpointPrefix, encodeCheckpoint, encodeCheckpointPrefix } from '../../src/core/checkpoint.js';
import { InfoBatch, InfoBatchError, InfoBatchPolicy, UcbPolicy, type PruningPolicy } from '../../src/index.js';
import { expectCode, runEpochs, syntheticLoss } from './helpers.js';

/** Rewrites the stored CRC so that a crafted checkpoint passes the checksum. */
function withValidCrc(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** The JSON header and sections of a version-2 or -3 checkpoint, to craft variants of it. */
function unpack(bytes: Uint8Array): { header: Record<string, unknown>; sections: Uint8Array[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const prefix = 16 + 8 * count;
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(prefix, prefix + headerLength))) as Record<string, unknown>;
  const sections: Uint8Array[] = [];
  let offset = prefix + headerLength;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(16 + 8 * i, true) + view.getUint32(20 + 8 * i, true) * 2 ** 32;
    sections.push(bytes.slice(offset, offset + length));
    offset += length;
  }
  return { header, sections };
}

/** A run stopped in the middle of epoch 1 (two batches of 32 done and marked). */
function midEpochRun(options: Partial<ConstructorParameters<typeof InfoBatch>[0]> = {}): InfoBatch {
  const ib = new InfoBatch({ numSamples: 300, numEpochs: 6, seed: 5, ...options });
  runEpochs(ib, 0, 1);
  const plan = ib.beginEpoch(1);
  const batches = [...plan.batches(32)];
  for (const batch of batches.slice(0, 2)) ib.recordLosses(batch.indices, Array.from(batch.indices, (i) => syntheticLoss(i, 1)));
  ib.markPosition(1, 64);
  return ib;
}

describe('mid-epoch resume', () => {
  it('gives back the plan in progress after load (the issue repro: 1000, not 877)', () => {
    const ib = new InfoBatch({ numSamples: 1000, numEpochs: 10 });
    const p = ib.beginEpoch(0);
    const [b] = p.batches(500);
    ib.recordLosses(b!.indices, Float32Array.from(b!.indices, (i) => i / 1000));
    const resumed = InfoBatch.loadState(ib.saveState());
    const again = resumed.beginEpoch(0);
    expect(again.length).toBe(1000);
    expect(again.indices).toEqual(p.indices);
    expect(again.weights).toEqual(p.weights);
    expect(again.stats).toEqual(p.stats);
  });

  it('keeps the plan of the epoch in progress in a live run too: beginEpoch(e) twice gives the same plan', () => {
    const ib = new InfoBatch({ numSamples: 200, numEpochs: 4 });
    runEpochs(ib, 0, 1);
    const first = ib.beginEpoch(1);
    ib.recordLosses([0, 1, 2], [9, 9, 9]);
    expect(ib.beginEpoch(1).indices).toEqual(first.indices);
    expect(ib.summary().epochsPlanned).toBe(2);
  });

  it('records the position reached and reports where to continue', () => {
    const ib = new InfoBatch({ numSamples: 100, numEpochs: 3 });
    expect(ib.resumePoint()).toEqual({ epoch: 0, position: 0 });
    const plan = ib.beginEpoch(0);
    expect(ib.resumePoint()).toEqual({ epoch: 0, position: 0 });
    ib.markPosition(0, 40);
    expect(ib.resumePoint()).toEqual({ epoch: 0, position: 40 });
    expect(InfoBatch.loadState(ib.saveState()).resumePoint()).toEqual({ epoch: 0, position: 40 });
    ib.markPosition(0, plan.length);
    expect(ib.resumePoint()).toEqual({ epoch: 1, position: 0 });
    expect(InfoBatch.loadState(ib.saveState()).resumePoint()).toEqual({ epoch: 1, position: 0 });
  });

  it('rejects a bad position with state unchanged', () => {
    const ib = new InfoBatch({ numSamples: 100, numEpochs: 3 });
    expectCode(() => ib.markPosition(0, 0), 'INVALID_STATE', /markPosition.*no epoch has begun/);
    ib.beginEpoch(0);
    ib.markPosition(0, 10);
    expectCode(() => ib.markPosition(1, 5), 'INVALID_STATE', /epoch 1 .*epoch in progress is 0/);
    expectCode(() => ib.markPosition(0, 101), 'OUT_OF_RANGE', /'position' passed to InfoBatch.markPosition must be in \[0, 100\] but got 101/);
    expectCode(() => ib.markPosition(0, 1.5), 'INVALID_TYPE', /'position'/);
    expect(ib.resumePoint()).toEqual({ epoch: 0, position: 10 });
  });

  it('property: resuming from a checkpoint saved after any batch gives the uninterrupted run', () => {
    const numSamples = 157;
    const numEpochs = 5;
    const batchSize = 16;
    const train = (ib: InfoBatch, stopAfter: number): { order: number[]; bytes?: Uint8Array } => {
      const order: number[] = [];
      let steps = 0;
      const { epoch: from, position } = ib.resumePoint();
      for (let epoch = from; epoch < numEpochs; epoch++) {
        const plan = ib.beginEpoch(epoch);
        for (let start = epoch === from ? position : 0; start < plan.length; start += batchSize) {
          const indices = plan.indices.subarray(start, Math.min(start + batchSize, plan.length));
          order.push(...Array.from(indices, (i, j) => i * 1000 + Math.round(plan.weights[start + j]! * 100)));
          ib.recordLosses(indices, Array.from(indices, (i) => syntheticLoss(i, epoch)));
          ib.markPosition(epoch, start + indices.length);
          if (++steps === stopAfter) return { order, bytes: ib.saveState() };
        }
      }
      return { order };
    };
    const options = { numSamples, numEpochs, seed: 9 };
    const reference = new InfoBatch(options);
    const whole = train(reference, -1).order;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (stopAfter) => {
        const first = train(new InfoBatch(options), stopAfter);
        if (first.bytes === undefined) return;
        const resumed = InfoBatch.loadState(first.bytes);
        const rest = train(resumed, -1).order;
        expect([...first.order, ...rest]).toEqual(whole);
        expect(new Uint8Array(resumed.scores.buffer)).toEqual(new Uint8Array(reference.scores.buffer));
        expect(resumed.summary()).toEqual(reference.summary());
      }),
      { numRuns: 40, seed: 12 },
    );
  });

  it('loads a version-1 checkpoint (no epoch in progress: resumes at the next epoch)', () => {
    const ib = new InfoBatch({ numSamples: 50, numEpochs: 4, seed: 2 });
    runEpochs(ib, 0, 2);
    // Version 1 layout: u32 section lengths, sections scores and planned lengths only.
    const header = new TextEncoder().encode(JSON.stringify({
      library: 'infobatch', numSamples: 50, numEpochs: 4, seed: 2, scoreSmoothing: 'last', allowNegativeLosses: false,
      policy: ib.policy.config, lossesRecorded: ib.summary().lossesRecorded,
    }));
    const scores = new Uint8Array(ib.scores.slice().buffer);
    const planned = new Uint8Array(Int32Array.of(50, ib.summary().samplesVisited - 50, -1, -1).buffer);
    const bytes = new Uint8Array(16 + 8 + header.length + scores.length + planned.length + 4);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0x4b434249, true);
    view.setUint32(4, 1, true);
    view.setUint32(8, header.length, true);
    view.setUint32(12, 2, true);
    view.setUint32(16, scores.length, true);
    view.setUint32(20, planned.length, true);
    bytes.set(header, 24);
    bytes.set(scores, 24 + header.length);
    bytes.set(planned, 24 + header.length + scores.length);
    const resumed = InfoBatch.loadState(withValidCrc(bytes));
    expect(resumed.resumePoint()).toEqual({ epoch: 2, position: 0 });
    expect(resumed.beginEpoch(2).indices).toEqual(ib.beginEpoch(2).indices);
  });
});

/** The rest of a run from `ib` (its resume point to the end): every plan and the final scores. */
function finish(ib: InfoBatch): { plans: number[][]; weights: number[][]; scores: Float32Array } {
  const plans: number[][] = [];
  const weights: number[][] = [];
  const { epoch: from, position } = ib.resumePoint();
  for (let epoch = from; epoch < ib.numEpochs; epoch++) {
    const plan = ib.beginEpoch(epoch);
    plans.push(Array.from(plan.indices));
    weights.push(Array.from(plan.weights));
    for (let start = epoch === from ? position : 0; start < plan.length; start += 32) {
      const indices = plan.indices.subarray(start, start + 32);
      ib.recordLosses(indices, Array.from(indices, (i) => syntheticLoss(i, epoch)));
      ib.markPosition(epoch, start + indices.length);
    }
  }
  return { plans, weights, scores: Float32Array.from(ib.scores) };
}

describe('checkpoints in chunks, the compact plan, and the formats before it', () => {
  it('property: chunks of any size concatenate to saveState() and load (as chunks) to the same run', () => {
    const ib = midEpochRun({ policy: new UcbPolicy() });
    const whole = ib.saveState();
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 2000 }), (chunkBytes) => {
        const chunks = [...ib.saveStateChunks({ chunkBytes })];
        expect(chunks.every((c) => c.length <= chunkBytes)).toBe(true);
        expect(chunks.length).toBe(Math.ceil(whole.length / chunkBytes));
        expect(Buffer.concat(chunks)).toEqual(Buffer.from(whole));
        expect(InfoBatch.loadState(chunks).saveState()).toEqual(whole);
      }),
      { numRuns: 30, seed: 31 },
    );
    expect(finish(InfoBatch.loadState([...ib.saveStateChunks({ chunkBytes: 97 })]))).toEqual(finish(InfoBatch.loadState(whole)));
  });

  it('refuses chunks read while the state changes, and a bad chunkBytes', () => {
    const ib = midEpochRun();
    const chunks = ib.saveStateChunks({ chunkBytes: 64 });
    chunks.next();
    ib.recordLosses([1], [0.5]);
    expectCode(() => chunks.next(), 'INVALID_STATE', /the state changed .* while its chunks were being read/);
    expectCode(() => [...ib.saveStateChunks({ chunkBytes: 2 })], 'OUT_OF_RANGE', /'chunkBytes'.*got 2/);
  });

  it('keeps the plan in progress in about 1.1 bytes per sample: a checkpoint of N samples is about 5 N bytes', () => {
    const numSamples = 100_000;
    const ib = new InfoBatch({ numSamples, numEpochs: 4, seed: 3 });
    runEpochs(ib, 0, 1);
    const plan = ib.beginEpoch(1);
    expect(plan.length).toBeLessThan(numSamples); // a pruned epoch, two distinct weights
    ib.markPosition(1, 64);
    const bytes = ib.saveState().length;
    // scores 4 N, member bits N / 8, one weight id per kept sample; the arrays would be 8 per kept sample.
    expect(bytes).toBeLessThan(4 * numSamples + numSamples / 8 + plan.length + 2000);
    expect(bytes).toBeGreaterThan(4 * numSamples);
  });

  it('resumes exactly a policy whose selection is not in ascending id order (its plan kept as arrays)', () => {
    // InfoBatch's own selection, listed in descending id order.
    const descending = (): PruningPolicy => {
      const base = new InfoBatchPolicy();
      return {
        config: { name: 'descending-infobatch' },
        attach: (numSamples, numEpochs) => base.attach(numSamples, numEpochs),
        planEpoch: (context) => {
          const { buffers: _own, ...withoutBuffers } = context;
          const { indices, weights, ...rest } = base.planEpoch(withoutBuffers);
          return { ...rest, indices: indices.slice().reverse(), weights: weights.slice().reverse() };
        },
      };
    };
    const ib = new InfoBatch({ numSamples: 300, numEpochs: 6, seed: 5, policy: descending() });
    runEpochs(ib, 0, 1);
    const plan = ib.beginEpoch(1);
    for (const batch of [...plan.batches(32)].slice(0, 2)) ib.recordLosses(batch.indices, Array.from(batch.indices, (i) => syntheticLoss(i, 1)));
    ib.markPosition(1, 64);
    const bytes = ib.saveState();
    expect(unpack(bytes).header['epochInProgress']).toMatchObject({ encoding: 'explicit', length: plan.length });
    const resumed = InfoBatch.loadState(bytes, { policy: descending() });
    expect(Array.from(resumed.beginEpoch(1).indices)).toEqual(Array.from(plan.indices));
    expect(finish(resumed)).toEqual(finish(ib));
  });

  it('loads a version-2 checkpoint (the plan in progress as its two arrays) and continues the same run', () => {
    const ib = midEpochRun();
    const plan = ib.beginEpoch(1);
    const { header, sections } = unpack(ib.saveState());
    const progress = { ...(header['epochInProgress'] as Record<string, unknown>) };
    delete progress['length'];
    delete progress['encoding'];
    delete progress['random'];
    const v2 = encodeCheckpoint({ ...header, epochInProgress: progress }, [sections[0]!, sections[1]!, new Uint8Array(plan.indices.slice().buffer), new Uint8Array(plan.weights.slice().buffer)]);
    new DataView(v2.buffer).setUint32(4, 2, true); // the same container, version 2
    const resumed = InfoBatch.loadState(withValidCrc(v2));
    expect(resumed.resumePoint()).toEqual({ epoch: 1, position: 64 });
    expect(finish(resumed)).toEqual(finish(InfoBatch.loadState(ib.saveState())));
  });
});

describe('checkpoint section lengths', () => {
  it('encodes lengths of sections above 4 GiB (numSamples up to 2^31 - 1) without allocating them', () => {
    const big = 4 * (2 ** 31 - 1);
    const prefix = encodeCheckpointPrefix(123, [big, big, 8]);
    expect(decodeCheckpointPrefix(prefix)).toEqual({ version: CHECKPOINT_FORMAT_VERSION, headerLength: 123, sectionLengths: [big, big, 8] });
  });

  it('refuses a checkpoint whose declared sizes exceed its bytes, before allocating', () => {
    const ib = new InfoBatch({ numSamples: 10, numEpochs: 5 });
    const { header, sections } = unpack(ib.saveState());
    const crafted = withValidCrc(encodeCheckpoint({ ...header, numSamples: 2e8 }, sections));
    expectCode(() => InfoBatch.loadState(crafted), 'CORRUPT_CHECKPOINT', /'scores'.*40 bytes.*2e\+?8|'scores'.*800000000/);
  });
});

describe('checkpoint contents are checked', () => {
  const craft = (edit: (parts: { header: Record<string, unknown>; sections: Uint8Array[] }) => void, options = {}): Uint8Array => {
    const parts = unpack(midEpochRun(options).saveState());
    edit(parts);
    return encodeCheckpoint(parts.header, parts.sections);
  };
  const setF32 = (section: Uint8Array, i: number, v: number): void => new DataView(section.buffer, section.byteOffset).setFloat32(i * 4, v, true);
  const setI32 = (section: Uint8Array, i: number, v: number): void => new DataView(section.buffer, section.byteOffset).setInt32(i * 4, v, true);

  it.each([
    ['a negative score', (p: { sections: Uint8Array[] }) => setF32(p.sections[0]!, 3, -5), /'scores\[3\]'.*-5/],
    ['an infinite score', (p: { sections: Uint8Array[] }) => setF32(p.sections[0]!, 7, Infinity), /'scores\[7\]'.*Infinity/],
    ['a planned length above numSamples', (p: { sections: Uint8Array[] }) => setI32(p.sections[1]!, 0, 500), /'plannedLengths\[0\]'.*500/],
    ['a planned length below -1', (p: { sections: Uint8Array[] }) => setI32(p.sections[1]!, 4, -7), /'plannedLengths\[4\]'.*-7/],
    // Version 3 keeps the plan in progress as a member bit set, a weight id per member and a palette.
    ['a plan member beyond numSamples', (p: { sections: Uint8Array[] }) => setI32(p.sections[2]!, 9, new DataView(p.sections[2]!.buffer, p.sections[2]!.byteOffset).getInt32(36, true) | (1 << 20)), /'planMembers' has a sample id beyond numSamples - 1 \(299\)/],
    ['a plan member too many', (p: { sections: Uint8Array[] }) => setI32(p.sections[2]!, 0, -1), /'planMembers' holds \d+ samples but 'epochInProgress.length' is/],
    ['a weight id outside the palette', (p: { sections: Uint8Array[] }) => (p.sections[3]![4] = 7), /'planWeightIds\[4\]' is 7 but the palette holds 2 weights/],
    ['a NaN palette weight', (p: { sections: Uint8Array[] }) => setF32(p.sections[4]!, 1, NaN), /'planPalette\[1\]'.*NaN/],
  ])('refuses %s with a valid CRC', (_name, edit, message) => {
    expectCode(() => InfoBatch.loadState(craft(edit)), 'CORRUPT_CHECKPOINT', message);
  });

  it.each([
    ['no policy', (h: Record<string, unknown>) => delete h['policy'], /'policy'/],
    ['a negative lossesRecorded', (h: Record<string, unknown>) => (h['lossesRecorded'] = -3), /'lossesRecorded'.*-3/],
    ['a position past the plan', (h: Record<string, unknown>) => ((h['epochInProgress'] as Record<string, unknown>)['position'] = 10_000), /'epochInProgress.position'.*10000/],
    ['an epoch out of range', (h: Record<string, unknown>) => ((h['epochInProgress'] as Record<string, unknown>)['epoch'] = 6), /'epochInProgress.epoch'.*6/],
    ['an unknown plan encoding', (h: Record<string, unknown>) => ((h['epochInProgress'] as Record<string, unknown>)['encoding'] = 'zip'), /'epochInProgress.encoding' is "zip"/],
    ['a generator state of zeros', (h: Record<string, unknown>) => ((h['epochInProgress'] as Record<string, unknown>)['random'] = [0, 0, 0, 0]), /'epochInProgress.random'/],
    ['a string numSamples', (h: Record<string, unknown>) => (h['numSamples'] = '300'), /'numSamples'.*"300"/],
  ])('refuses a header with %s', (_name, edit, message) => {
    expectCode(() => InfoBatch.loadState(craft((p) => edit(p.header))), 'CORRUPT_CHECKPOINT', message);
  });

  it('refuses a plan whose length disagrees with plannedLengths', () => {
    const bytes = craft((p) => setI32(p.sections[1]!, 1, 10));
    expectCode(() => InfoBatch.loadState(bytes), 'CORRUPT_CHECKPOINT', /'planMembers'.*plannedLengths\[1\]/);
  });

  it('accepts negative scores when the run allows negative losses', () => {
    const bytes = craft((p) => setF32(p.sections[0]!, 3, -5), { allowNegativeLosses: true });
    expect(InfoBatch.loadState(bytes).scores[3]).toBe(-5);
  });

  it('leaves state unchanged when restoreState refuses', () => {
    const target = midEpochRun();
    const before = target.saveState();
    expect(() => target.restoreState(craft((p) => setF32(p.sections[0]!, 3, -5)))).toThrow(InfoBatchError);
    expect(target.saveState()).toEqual(before);
  });

  it('property: a flipped bit or a truncation is always refused', () => {
    const bytes = midEpochRun({ policy: new UcbPolicy() }).saveState();
    fc.assert(
      fc.property(fc.nat(bytes.length * 8 - 1), (bit) => {
        const flipped = bytes.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expect(() => InfoBatch.loadState(flipped)).toThrow(InfoBatchError);
      }),
      { numRuns: 300, seed: 21 },
    );
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (length) => {
        expect(() => InfoBatch.loadState(bytes.subarray(0, length))).toThrow(InfoBatchError);
      }),
      { numRuns: 100, seed: 22 },
    );
  });

  it('property: crafted bytes with a valid CRC are refused with an InfoBatchError or load a sane state', () => {
    const bytes = midEpochRun().saveState();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 5), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), (edits) => {
        const crafted = bytes.slice();
        for (const [position, xor] of edits) crafted[position]! ^= xor;
        let resumed: InfoBatch;
        try {
          resumed = InfoBatch.loadState(withValidCrc(crafted));
        } catch (error) {
          expect(error).toBeInstanceOf(InfoBatchError);
          return;
        }
        const summary = resumed.summary();
        expect(summary.savedFraction).toBeGreaterThanOrEqual(0);
        expect(summary.savedFraction).toBeLessThanOrEqual(1);
        for (const score of resumed.scores) expect(Number.isNaN(score) || (score >= 0 && Number.isFinite(score))).toBe(true);
        const { epoch, position } = resumed.resumePoint();
        if (epoch < resumed.numEpochs) expect(position).toBeLessThanOrEqual(resumed.beginEpoch(epoch).length);
        expect(InfoBatch.loadState(resumed.saveState()).saveState()).toEqual(resumed.saveState());
      }),
      { numRuns: 150, seed: 23 },
    );
  });
});

describe('losses above the float32 range', () => {
  it('are refused with NON_FINITE_LOSS, state unchanged', () => {
    const ib = new InfoBatch({ numSamples: 4, numEpochs: 4 });
    ib.recordLosses([1], [2]);
    expectCode(() => ib.recordLosses([0], [4e38]), 'NON_FINITE_LOSS', /'losses\[0\]'.*4e\+38.*float32/);
    expectCode(() => ib.recordLosses([0, 2], [1, -4e38]), 'NON_FINITE_LOSS', /'losses\[1\]'/);
    expect(Array.from(ib.scores)).toEqual([NaN, 2, NaN, NaN]);
    expect(ib.summary().lossesRecorded).toBe(1);
    expectCode(() => ib.recordLosses([0], BigInt64Array.of(1n) as never), 'INVALID_TYPE', /'losses\[0\]'.*bigint 1/);
    ib.recordLosses([0], [3.4e38]); // just inside
    expect(ib.scores[0]).toBe(Math.fround(3.4e38));
  });
});

describe('the resume loop of docs/reference.md (linked from the README)', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'reference.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Resume contract'));
  // The snippet's import line is for the reader; the loop gets InfoBatch as a parameter.
  const code = (/```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '').replace(/^import .*$/m, '');
  const loop = new Function('InfoBatch', 'bytes', 'numSamples', 'numEpochs', 'batchSize', 'trainOn', 'timeToSave', 'save', code) as (
    ...args: [typeof InfoBatch, Uint8Array | undefined, number, number, number, (indices: Int32Array, weights: Float32Array) => number[], () => boolean, (bytes: Uint8Array) => void]
  ) => void;

  /** Runs the documented loop; `crashAfter` steps in, it saves and throws, as a killed process would stop. */
  function run(bytes: Uint8Array | undefined, visits: string[], crashAfter = -1): Uint8Array | undefined {
    let steps = 0;
    let saved: Uint8Array | undefined;
    const trainOn = (indices: Int32Array, weights: Float32Array): number[] => {
      const done = visits.length; // the model's progress: the same with or without an interruption
      visits.push(...Array.from(indices, (i, j) => `${i}:${weights[j]}`));
      steps++;
      return Array.from(indices, (i) => syntheticLoss(i, done % 7));
    };
    try {
      loop(InfoBatch, bytes, 203, 6, 16, trainOn, () => steps === crashAfter, (b) => {
        saved = b;
        throw new Error('crash');
      });
    } catch (error) {
      if ((error as Error).message !== 'crash') throw error;
    }
    return saved;
  }

  it('is in the docs and, interrupted anywhere, gives the uninterrupted run', () => {
    expect(code).toContain('ib.resumePoint()');
    const whole: string[] = [];
    run(undefined, whole);
    expect(whole.length).toBeGreaterThan(203 * 3);
    for (const crashAfter of [1, 7, 13, 14, 30, 41]) {
      const visits: string[] = [];
      const bytes = run(undefined, visits, crashAfter);
      expect(bytes).toBeDefined();
      run(bytes, visits);
      expect(visits).toEqual(whole);
    }
  });
});
