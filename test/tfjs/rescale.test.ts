/**
 * Optimizer-aware rescaling (`rescaleMode`): which mode each optimizer gets, the rate each step
 * sees and its restoration, equivalence with the paper's form under plain SGD, bit-identity of
 * `'loss'` with the objective `Σ w·l / B` minimised directly, and checkpoints that keep the user's
 * rate. (Resume after SIGKILL in `'step'` mode: resume-kill.test.ts trains with Adam and RMSProp,
 * which `'auto'` runs in `'step'` mode, and checks `meanStepScale` > 1 there.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfoBatch } from '../../src/core/info-batch.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { stepScale } from '../../src/core/rescale.js';
import type { EpochPlan } from '../../src/core/epoch-plan.js';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch } from '../../src/tfjs/fit.js';
import { InfoBatchTfjs } from '../../src/tfjs/info-batch-tfjs.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { chooseRescaleMode, withScaledLearningRate } from '../../src/tfjs/rescale.js';
import { trainWithInfoBatch, type TrainOptions } from '../../src/tfjs/trainer.js';

const N = 400;
const split = makeSyntheticDataset({ numSamples: N, numTest: 10, seed: 4 });
const FEATURES = split.train.sampleShape[0]!;
const CLASSES = split.train.numClasses;
const BATCH = 32;
const EPOCHS = 4;
const loss = (yTrue: tf.Tensor, yPred: tf.Tensor) => softmaxCrossEntropy(yTrue, yPred);

let x: tf.Tensor2D;
let y: tf.Tensor1D;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
  x = tf.tensor2d(split.train.x, [N, FEATURES]);
  y = tf.tensor1d(split.train.y, 'int32');
});

afterAll(() => tf.dispose([x, y]));

function mlp(seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, activation: 'relu', inputShape: [FEATURES], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!)))));
  return worst;
}

/** Records the optimizer's learning rate at every `applyGradients` (that is, every step). */
function spyRates(optimizer: tf.Optimizer): number[] {
  const rates: number[] = [];
  const apply = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (grads) => {
    rates.push((optimizer as unknown as { learningRate: number }).learningRate);
    apply(grads);
  };
  return rates;
}

async function train(optimizer: tf.Optimizer, extra: Partial<TrainOptions> = {}, seed = 7): Promise<{ weights: Float32Array[]; plans: EpochPlan[]; result: Awaited<ReturnType<typeof trainWithInfoBatch>> }> {
  const model = mlp(seed);
  const plans: EpochPlan[] = [];
  try {
    const result = await trainWithInfoBatch(model, { x, y }, {
      epochs: EPOCHS,
      batchSize: BATCH,
      optimizer,
      loss,
      infobatch: { seed: 3 },
      callbacks: { onEpochBegin: (_epoch, plan) => void plans.push(plan) },
      ...extra,
    });
    return { weights: weightsOf(model), plans, result };
  } finally {
    model.dispose();
  }
}

describe("chooseRescaleMode ('auto')", () => {
  const cases: Array<[string, () => tf.Optimizer, 'loss' | 'step']> = [
    ['SGD', () => tf.train.sgd(0.1), 'loss'],
    ['Momentum', () => tf.train.momentum(0.1, 0.9), 'loss'],
    ['Adam', () => tf.train.adam(0.01), 'step'],
    ['Adamax', () => tf.train.adamax(0.01), 'step'],
    ['RMSProp', () => tf.train.rmsprop(0.01), 'step'],
    ['Adagrad', () => tf.train.adagrad(0.01), 'step'],
    ['Adadelta', () => tf.train.adadelta(0.01), 'step'],
  ];
  for (const [name, make, expected] of cases) {
    it(`gives '${expected}' to tfjs's ${name}`, () => {
      const optimizer = make();
      const choice = chooseRescaleMode('test', 'auto', optimizer);
      expect(choice).toMatchObject({ mode: expected, optimizer: name });
      expect(choice.reason).toMatch(name);
      optimizer.dispose();
    });
  }

  it("gives 'step' to an unknown optimizer with a numeric learningRate and 'loss' to one without", () => {
    class Custom extends tf.Optimizer {
      learningRate: unknown = 0.1;
      applyGradients(): void {}
      getConfig(): tf.serialization.ConfigDict {
        return {};
      }
      override getClassName(): string {
        return 'MyOptimizer';
      }
    }
    const custom = new Custom();
    expect(chooseRescaleMode('test', 'auto', custom).mode).toBe('step');
    custom.learningRate = undefined;
    expect(chooseRescaleMode('test', 'auto', custom).mode).toBe('loss');
    expect(() => chooseRescaleMode('test', 'step', custom)).toThrow(/'rescaleMode' passed to test is 'step', but MyOptimizer has no numeric 'learningRate'/);
    expect(chooseRescaleMode('test', 'loss', tf.train.adam(0.1)).mode).toBe('loss');
  });
});

describe('withScaledLearningRate', () => {
  it('scales the rate for the update and restores it after, also when the update throws, without leaking', () => {
    for (const optimizer of [tf.train.sgd(0.1), tf.train.adam(0.01)]) {
      const rate = (optimizer as unknown as { learningRate: number }).learningRate;
      const before = tf.memory().numTensors;
      const seen = withScaledLearningRate(optimizer, 1.5, () => (optimizer as unknown as { learningRate: number }).learningRate);
      expect(seen).toBeCloseTo(rate * 1.5, 12);
      expect((optimizer as unknown as { learningRate: number }).learningRate).toBe(rate);
      expect(() => withScaledLearningRate(optimizer, 2, () => {
        throw new Error('boom');
      })).toThrow('boom');
      expect((optimizer as unknown as { learningRate: number }).learningRate).toBe(rate);
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
    }
  });
});

describe("rescaleMode in trainWithInfoBatch", () => {
  it("under Adam ('auto' = 'step') each step sees the user's rate × the batch's Σw/B, and the rate is the user's after the run", async () => {
    const before = tf.memory().numTensors;
    const optimizer = tf.train.adam(0.01);
    const rates = spyRates(optimizer);
    const { plans, result } = await train(optimizer);
    expect(result.rescale.mode).toBe('step');
    const expected = plans.flatMap((plan) => Array.from(plan.batches(BATCH), (batch) => 0.01 * stepScale(batch.weights)));
    expect(rates).toHaveLength(expected.length);
    rates.forEach((rate, i) => expect(rate).toBeCloseTo(expected[i]!, 12));
    expect(rates.some((rate) => rate > 0.0101)).toBe(true); // pruned epochs up-weight
    expect((optimizer as unknown as { learningRate: number }).learningRate).toBe(0.01);
    // The epochs report the mean factor they applied: 1 in full-data epochs, above 1 when pruning.
    expect(result.epochs[0]!.meanStepScale).toBe(1);
    expect(result.epochs[1]!.meanStepScale).toBeGreaterThan(1);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a per-epoch schedule's rate is what the factor multiplies", async () => {
    const optimizer = tf.train.adam(0.01);
    const rates = spyRates(optimizer);
    const { plans } = await train(optimizer, { learningRate: (epoch) => 0.01 / (epoch + 1) });
    const expected = plans.flatMap((plan) => Array.from(plan.batches(BATCH), (batch) => (0.01 / (plan.epoch + 1)) * stepScale(batch.weights)));
    rates.forEach((rate, i) => expect(rate).toBeCloseTo(expected[i]!, 12));
    optimizer.dispose();
  });

  it("'loss' under Adam steps at the user's rate and equals minimising Σ w·l / B directly, bit for bit", async () => {
    const optimizer = tf.train.adam(0.01);
    const rates = spyRates(optimizer);
    const engine = await train(optimizer, { rescaleMode: 'loss' });
    expect(engine.result.rescale.mode).toBe('loss');
    expect(new Set(rates)).toEqual(new Set([0.01]));
    optimizer.dispose();

    // The same plans (aligned to the batch size, as trainWithInfoBatch builds them), trained by hand with the paper's objective.
    const model = mlp(7);
    const manual = tf.train.adam(0.01);
    const ib = new InfoBatch({ numSamples: N, numEpochs: EPOCHS, seed: 3, alignToBatchSize: BATCH });
    const ibt = new InfoBatchTfjs(ib, { rescaleMode: 'loss' });
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      for (const batch of (await ibt.beginEpoch(epoch)).batches(BATCH)) {
        tf.tidy(() => {
          const ids = tf.tensor1d(batch.indices, 'int32');
          const xs = tf.gather(x, ids);
          const ys = tf.gather(y, ids);
          manual.minimize(() => {
            const perSample = loss(ys, model.apply(xs, { training: true }) as tf.Tensor);
            const objective = tf.div(tf.sum(tf.mul(perSample, tf.tensor1d(batch.weights))), batch.indices.length) as tf.Scalar;
            ibt.update(perSample, batch); // records the scores as the engine does
            return objective;
          });
        });
      }
    }
    await ibt.flush();
    expect(maxDifference(weightsOf(model), engine.weights)).toBe(0);
    model.dispose();
    manual.dispose();
  });

  it("'step' under plain SGD makes the same updates as 'loss' (no penalties), within float rounding", async () => {
    const loss1 = tf.train.sgd(0.2);
    const step1 = tf.train.sgd(0.2);
    const byLoss = await train(loss1, { rescaleMode: 'loss' });
    const byStep = await train(step1, { rescaleMode: 'step' });
    expect(byStep.result.rescale.mode).toBe('step');
    expect(byStep.plans.map((p) => p.length)).toEqual(byLoss.plans.map((p) => p.length));
    expect(byStep.plans.some((p) => p.length < N)).toBe(true);
    expect(maxDifference(byStep.weights, byLoss.weights)).toBeLessThan(1e-5);
    // And training moved the weights: the comparison is not between two untouched models.
    const untouched = mlp(7);
    expect(maxDifference(weightsOf(untouched), byLoss.weights)).toBeGreaterThan(1e-2);
    untouched.dispose();
    loss1.dispose();
    step1.dispose();
  });

  it("'step' under Adam differs from 'loss' (the mode is applied)", async () => {
    const a = tf.train.adam(0.01);
    const b = tf.train.adam(0.01);
    const byLoss = await train(a, { rescaleMode: 'loss' });
    const byStep = await train(b, { rescaleMode: 'step' });
    expect(maxDifference(byStep.weights, byLoss.weights)).toBeGreaterThan(1e-4);
    a.dispose();
    b.dispose();
  });

  it("restores the user's rate when a step throws, and leaks nothing", async () => {
    const before = tf.memory().numTensors;
    const optimizer = tf.train.adam(0.01);
    const model = mlp(7);
    let calls = 0;
    await expect(trainWithInfoBatch(model, { x, y }, {
      epochs: EPOCHS,
      batchSize: BATCH,
      optimizer,
      infobatch: { seed: 3 },
      // Throws inside the step of epoch 1 (pruned, scaled rate), after the loss-shape check.
      loss: (yt, yp) => {
        if (++calls === 1 + Math.ceil(N / BATCH) + 3) throw new Error('loss exploded');
        return loss(yt, yp);
      },
    })).rejects.toThrow('loss exploded');
    expect((optimizer as unknown as { learningRate: number }).learningRate).toBe(0.01);
    model.dispose();
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a bad rescaleMode before training, naming it', async () => {
    const optimizer = tf.train.adam(0.01);
    const model = mlp(7);
    const weights = weightsOf(model);
    await expect(train(optimizer, { rescaleMode: 'steps' as never })).rejects.toThrow(/'rescaleMode' passed to trainWithInfoBatch must be one of 'auto', 'loss', 'step' but got "steps"/);
    await expect(fitWithInfoBatch(model, x, y, { rescaleMode: 'x' as never })).rejects.toThrow(InfoBatchError);
    expect(maxDifference(weightsOf(model), weights)).toBe(0);
    model.dispose();
    optimizer.dispose();
  });

  it("a checkpoint taken in 'step' mode holds the user's rate, not the scaled one", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infobatch-rescale-'));
    try {
      const optimizer = tf.train.adam(0.01);
      // Stops right after a checkpoint written mid-epoch in a pruned epoch.
      const model = mlp(7);
      await trainWithInfoBatch(model, { x, y }, { epochs: EPOCHS, batchSize: BATCH, optimizer, loss, infobatch: { seed: 3 }, checkpoint: { dir, everySteps: 17 } });
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { body?: { optimizer?: { learningRate?: number } }; optimizer?: { learningRate?: number } };
      const saved = manifest.body?.optimizer?.learningRate ?? manifest.optimizer?.learningRate;
      expect(saved).toBe(0.01);
      model.dispose();
      optimizer.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('InfoBatchTfjs.minimize (the three-line loop)', () => {
  it("scales the rate by Σw/B under Adam, uses the weighted mean as the direction, and equals trainWithInfoBatch's run", async () => {
    const optimizer = tf.train.adam(0.01);
    const rates = spyRates(optimizer);
    const model = mlp(7);
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: N, numEpochs: EPOCHS, seed: 3, alignToBatchSize: BATCH }));
    const expected: number[] = [];
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      for (const batch of (await ibt.beginEpoch(epoch)).batches(BATCH)) {
        expected.push(0.01 * stepScale(batch.weights));
        tf.tidy(() => {
          const ids = tf.tensor1d(batch.indices, 'int32');
          const xs = tf.gather(x, ids);
          const ys = tf.gather(y, ids);
          ibt.minimize(optimizer, batch, () => loss(ys, model.apply(xs, { training: true }) as tf.Tensor));
        });
      }
    }
    await ibt.flush();
    rates.forEach((rate, i) => expect(rate).toBeCloseTo(expected[i]!, 12));
    const engineOptimizer = tf.train.adam(0.01);
    const engine = await train(engineOptimizer);
    expect(maxDifference(weightsOf(model), engine.weights)).toBeLessThan(1e-6);
    model.dispose();
    optimizer.dispose();
    engineOptimizer.dispose();
  });

  it('leaks nothing and restores the rate when the loss throws inside the step', async () => {
    const optimizer = tf.train.adam(0.01);
    const model = mlp(7);
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: N, numEpochs: EPOCHS, seed: 3, alignToBatchSize: BATCH }), { rescaleMode: 'step' });
    const plan = await ibt.beginEpoch(0);
    const [batch] = plan.batches(BATCH);
    const xs = tf.gather(x, tf.tensor1d(batch!.indices, 'int32'));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      expect(() => ibt.minimize(optimizer, batch!, () => {
        model.apply(xs, { training: true });
        throw new Error('bad loss');
      })).toThrow('bad loss');
    }
    expect(tf.memory().numTensors).toBe(before);
    expect((optimizer as unknown as { learningRate: number }).learningRate).toBe(0.01);
    expect(() => ibt.minimize(optimizer, batch!, 'nope' as never)).toThrow(/'perSampleLoss' passed to InfoBatchTfjs.minimize must be a function/);
    tf.dispose(xs);
    model.dispose();
    optimizer.dispose();
  });
});

describe('rescaleMode in fitWithInfoBatch', () => {
  it("reports the mode in History.params and the mean factor per epoch; 'rmsprop' gets 'step', 'sgd' gets 'loss'", async () => {
    for (const [name, mode] of [['rmsprop', 'step'], ['sgd', 'loss']] as const) {
      const model = mlp(7);
      model.compile({ optimizer: name, loss: 'sparseCategoricalCrossentropy' });
      const history = await fitWithInfoBatch(model, x, tf.cast(y, 'float32') as tf.Tensor1D, { epochs: 3, batchSize: BATCH, verbose: 0 });
      expect(history.params['infobatch_rescale_mode']).toBe(mode);
      const scales = history.history['infobatch_step_scale'] as number[];
      expect(scales).toHaveLength(3);
      expect(scales[0]).toBe(1);
      if (mode === 'step') expect(scales[1]).toBeGreaterThan(1);
      else expect(scales[1]).toBe(1);
      model.dispose();
    }
  });
});
