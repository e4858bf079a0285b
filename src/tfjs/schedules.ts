/**
 * Learning-rate schedules for runs whose epochs change length. Per-epoch schedules are pure
 * functions of the epoch; the per-step {@link OneCycle} is told each epoch's true step count
 * (`plan.numBatches(batchSize)`) when the epoch begins, because with InfoBatch the plans (and so
 * the total number of steps) of future epochs depend on losses not yet seen.
 */
import { describeValue, InfoBatchError } from '../core/errors.js';
import { assertInteger, assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';

/** A per-step schedule: told each epoch's step count when the epoch begins, then asked per step. */
export interface StepSchedule {
  /**
   * Starts `epoch`, which will have exactly `steps` steps.
   * @param epoch - 0-based epoch.
   * @param steps - the epoch's number of optimizer steps (`plan.numBatches(batchSize)`).
   */
  beginEpoch(epoch: number, steps: number): void;
  /**
   * Learning rate of step `step` of the current epoch.
   * @param step - 0-based step in `[0, steps)`.
   */
  lr(step: number): number;
}

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Learning rate of epoch 0. */
  readonly baseLr: number;
  /** Epochs of the run. */
  readonly totalEpochs: number;
  /**
   * Learning rate the cosine decays towards (reached at epoch `totalEpochs`, just after the run).
   * @defaultValue 0
   */
  readonly minLr?: number;
}

/**
 * Cosine decay stepped per epoch, `minLr + (baseLr − minLr)·(1 + cos(π·epoch / totalEpochs)) / 2`
 * (PyTorch's CosineAnnealingLR with `T_max = totalEpochs`): `baseLr` at epoch 0, and the last
 * epoch still trains at a small positive rate above `minLr`.
 * @param options - `baseLr`, `totalEpochs`, `minLr` (default 0).
 * @returns the learning rate of an epoch in `[0, totalEpochs)`.
 *
 * @example
 * ```ts
 * const lr = cosineSchedule({ baseLr: 0.1, totalEpochs: 30 });
 * lr(0); // 0.1
 * ```
 */
export function cosineSchedule(options: CosineScheduleOptions): (epoch: number) => number {
  const where = 'cosineSchedule';
  assertOptionBag(where, 'options', options);
  assertKnownKeys(where, options, ['baseLr', 'totalEpochs', 'minLr']);
  const { baseLr, totalEpochs, minLr = 0 } = options;
  assertNumberInRange(where, 'baseLr', baseLr, 0, Number.MAX_VALUE, '(]');
  assertInteger(where, 'totalEpochs', totalEpochs, 1);
  assertNumberInRange(where, 'minLr', minLr, 0, baseLr);
  return (epoch: number): number => {
    assertInteger('cosineSchedule()', 'epoch', epoch, 0, totalEpochs - 1);
    return minLr + ((baseLr - minLr) * (1 + Math.cos((Math.PI * epoch) / totalEpochs))) / 2;
  };
}

/** Options of {@link stepSchedule}: give exactly one of `stepSize` and `milestones`. */
export interface StepScheduleOptions {
  /** Learning rate of epoch 0. */
  readonly baseLr: number;
  /** Multiply the rate by `gamma` every `stepSize` epochs. */
  readonly stepSize?: number;
  /** Multiply the rate by `gamma` at each of these epochs (strictly increasing, positive). */
  readonly milestones?: readonly number[];
  /**
   * Factor applied at each decay.
   * @defaultValue 0.1
   */
  readonly gamma?: number;
}

/**
 * Step decay stepped per epoch: `baseLr·gamma^k`, with `k` the number of decays reached by the
 * epoch (every `stepSize` epochs, or at each milestone).
 * @param options - `baseLr`, `stepSize` or `milestones`, `gamma` (default 0.1).
 * @returns the learning rate of an epoch (a non-negative integer).
 *
 * @example
 * ```ts
 * const lr = stepSchedule({ baseLr: 0.1, milestones: [10, 20] });
 * lr(15); // 0.01
 * ```
 */
export function stepSchedule(options: StepScheduleOptions): (epoch: number) => number {
  const where = 'stepSchedule';
  assertOptionBag(where, 'options', options);
  assertKnownKeys(where, options, ['baseLr', 'stepSize', 'milestones', 'gamma']);
  const { baseLr, stepSize, milestones, gamma = 0.1 } = options;
  assertNumberInRange(where, 'baseLr', baseLr, 0, Number.MAX_VALUE, '(]');
  assertNumberInRange(where, 'gamma', gamma, 0, Number.MAX_VALUE, '(]');
  if ((stepSize === undefined) === (milestones === undefined)) {
    throw new InfoBatchError('INVALID_OPTION', `${where} needs exactly one of 'stepSize' and 'milestones' but got ${stepSize === undefined ? 'neither' : 'both'}.`);
  }
  if (stepSize !== undefined) {
    assertInteger(where, 'stepSize', stepSize, 1);
    return (epoch: number): number => {
      assertInteger('stepSchedule()', 'epoch', epoch, 0);
      return baseLr * gamma ** Math.floor(epoch / stepSize);
    };
  }
  if (!Array.isArray(milestones)) {
    throw new InfoBatchError('INVALID_TYPE', `'milestones' passed to ${where} must be an array of epochs but got ${describeValue(milestones)}.`);
  }
  milestones.forEach((m, i) => assertInteger(where, `milestones[${i}]`, m, i === 0 ? 1 : milestones[i - 1]! + 1));
  const sorted = [...milestones] as number[];
  return (epoch: number): number => {
    assertInteger('stepSchedule()', 'epoch', epoch, 0);
    let decays = 0;
    while (decays < sorted.length && sorted[decays]! <= epoch) decays++;
    return baseLr * gamma ** decays;
  };
}

/** Shape shared by the one-cycle schedules. */
interface OneCycleShape {
  readonly maxLr: number;
  readonly pctStart: number;
  readonly initialLr: number;
  readonly finalLr: number;
}

/** Cosine interpolation from `start` (t = 0) to `end` (t = 1). */
function cosineAnneal(start: number, end: number, t: number): number {
  return end + ((start - end) * (1 + Math.cos(Math.PI * t))) / 2;
}

/** One-cycle rate at progress `p` in [0, 1]: warm up to `maxLr` until `pctStart`, then anneal to `finalLr`. */
function oneCycleAt(shape: OneCycleShape, p: number): number {
  const { maxLr, pctStart, initialLr, finalLr } = shape;
  if (p < pctStart) return cosineAnneal(initialLr, maxLr, p / pctStart);
  return cosineAnneal(maxLr, finalLr, (p - pctStart) / (1 - pctStart));
}

const ONE_CYCLE_SHAPE_KEYS = ['maxLr', 'pctStart', 'divFactor', 'finalDivFactor'] as const;

interface OneCycleShapeOptions {
  /** Peak learning rate. */
  readonly maxLr: number;
  /**
   * Fraction of the run spent warming up to `maxLr`, in `[0, 1)`.
   * @defaultValue 0.3
   */
  readonly pctStart?: number;
  /**
   * The first rate is `maxLr / divFactor`.
   * @defaultValue 25
   */
  readonly divFactor?: number;
  /**
   * The last rate is `maxLr / (divFactor · finalDivFactor)`.
   * @defaultValue 1e4
   */
  readonly finalDivFactor?: number;
}

function readShape(where: string, options: OneCycleShapeOptions): OneCycleShape {
  const { maxLr, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = options;
  assertNumberInRange(where, 'maxLr', maxLr, 0, Number.MAX_VALUE, '(]');
  assertNumberInRange(where, 'pctStart', pctStart, 0, 1, '[)');
  assertNumberInRange(where, 'divFactor', divFactor, 0, Number.MAX_VALUE, '(]');
  assertNumberInRange(where, 'finalDivFactor', finalDivFactor, 0, Number.MAX_VALUE, '(]');
  const initialLr = maxLr / divFactor;
  return { maxLr, pctStart, initialLr, finalLr: initialLr / finalDivFactor };
}

/** Options of {@link oneCycleSchedule}. */
export interface OneCycleScheduleOptions extends OneCycleShapeOptions {
  /** Number of steps of the whole run, known in advance (not the case with InfoBatch: use {@link OneCycle}). */
  readonly totalSteps: number;
}

/**
 * One-cycle schedule over a run whose total number of steps is known in advance (full-data
 * training): step 0 is at `maxLr / divFactor`, step `totalSteps − 1` at the final rate, with
 * cosine warm-up and annealing. Asking for a step past the budget is an error, never a silent
 * extrapolation. With InfoBatch the total is not known in advance; use {@link OneCycle}.
 * @param options - `maxLr`, `totalSteps`, `pctStart` (0.3), `divFactor` (25), `finalDivFactor` (1e4).
 * @returns the learning rate of a step in `[0, totalSteps)`.
 *
 * @example
 * ```ts
 * const lr = oneCycleSchedule({ maxLr: 0.1, totalSteps: 1000 });
 * lr(0); // 0.004
 * ```
 */
export function oneCycleSchedule(options: OneCycleScheduleOptions): (step: number) => number {
  const where = 'oneCycleSchedule';
  assertOptionBag(where, 'options', options);
  assertKnownKeys(where, options, ['totalSteps', ...ONE_CYCLE_SHAPE_KEYS]);
  const shape = readShape(where, options);
  const { totalSteps } = options;
  assertInteger(where, 'totalSteps', totalSteps, 1);
  return (step: number): number => {
    assertInteger('oneCycleSchedule()', 'step', step, 0, totalSteps - 1);
    return oneCycleAt(shape, totalSteps === 1 ? 1 : step / (totalSteps - 1));
  };
}

/** Options of {@link OneCycle}. */
export interface OneCycleOptions extends OneCycleShapeOptions {
  /** Epochs of the run (known in advance, unlike the steps). */
  readonly totalEpochs: number;
}

/**
 * One-cycle learning rate for runs whose epochs change length (InfoBatch): the cycle is laid out
 * over epochs, and each epoch is told its own step count when it begins, so the schedule can
 * never be stepped past its budget (the "stepped too many times" error of PyTorch's OneCycleLR
 * with the reference InfoBatch, whose step total was one epoch stale).
 *
 * Design: step `s` of epoch `e` with `n` steps sits at progress `p = (e + s / n) / totalEpochs`,
 * except in the last epoch, whose steps are spread to end exactly at `p = 1`
 * (`p = (E − 1 + s / (n − 1)) / E`; a one-step last epoch sits at `p = 1`). The rate at `p` is the
 * usual one-cycle curve: cosine warm-up from `maxLr / divFactor` to `maxLr` until `pctStart`,
 * then cosine annealing to `maxLr / (divFactor · finalDivFactor)`. So the first step of the run is
 * at the initial rate, the last at the final rate, and every epoch covers `1 / totalEpochs` of the
 * cycle however many samples it keeps, which matches InfoBatch's epochs being unbiased estimates
 * of full-data epochs. The rate is a pure function of `(epoch, step, steps)` ({@link OneCycle.lrAt});
 * the only state is the current epoch and its step count.
 *
 * @example
 * ```ts
 * const schedule = new OneCycle({ maxLr: 0.05, totalEpochs });
 * for (let epoch = 0; epoch < totalEpochs; epoch++) {
 *   const plan = await ibt.beginEpoch(epoch);
 *   schedule.beginEpoch(epoch, plan.numBatches(128));
 *   let step = 0;
 *   for (const batch of plan.batches(128)) {
 *     optimizer.setLearningRate(schedule.lr(step++));
 *     // ... one training step
 *   }
 * }
 * ```
 */
export class OneCycle implements StepSchedule {
  /** Peak learning rate. */
  readonly maxLr: number;
  /** Epochs the cycle is laid over. */
  readonly totalEpochs: number;
  /** Fraction of the run spent warming up. */
  readonly pctStart: number;
  /** Rate of the first step, `maxLr / divFactor`. */
  readonly initialLr: number;
  /** Rate of the last step, `initialLr / finalDivFactor`. */
  readonly finalLr: number;

  private readonly shape: OneCycleShape;
  private epoch = -1;
  private steps = 0;

  /**
   * Builds the schedule; nothing about step counts is needed up front.
   * @param options - `maxLr`, `totalEpochs`, `pctStart` (0.3), `divFactor` (25), `finalDivFactor` (1e4).
   */
  constructor(options: OneCycleOptions) {
    const where = 'new OneCycle()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, ['totalEpochs', ...ONE_CYCLE_SHAPE_KEYS]);
    this.shape = readShape(where, options);
    assertInteger(where, 'totalEpochs', options.totalEpochs, 1);
    this.totalEpochs = options.totalEpochs;
    this.maxLr = this.shape.maxLr;
    this.pctStart = this.shape.pctStart;
    this.initialLr = this.shape.initialLr;
    this.finalLr = this.shape.finalLr;
  }

  /**
   * Starts `epoch` with its true step count.
   * @param epoch - 0-based epoch in `[0, totalEpochs)`.
   * @param steps - the epoch's optimizer steps, `plan.numBatches(batchSize)` (at least 1).
   */
  beginEpoch(epoch: number, steps: number): void {
    assertInteger('OneCycle.beginEpoch', 'epoch', epoch, 0, this.totalEpochs - 1);
    assertInteger('OneCycle.beginEpoch', 'steps', steps, 1);
    this.epoch = epoch;
    this.steps = steps;
  }

  /**
   * Learning rate of step `step` of the epoch last begun.
   * @param step - 0-based step in `[0, steps)`.
   * @throws InfoBatchError 'INVALID_STATE' before any `beginEpoch`; 'OUT_OF_RANGE' past the epoch's steps.
   */
  lr(step: number): number {
    if (this.epoch < 0) {
      throw new InfoBatchError('INVALID_STATE', 'OneCycle.lr was called before OneCycle.beginEpoch; call beginEpoch(epoch, plan.numBatches(batchSize)) at the start of each epoch.');
    }
    return this.lrAt(this.epoch, step, this.steps);
  }

  /**
   * Learning rate of step `step` of epoch `epoch` when that epoch has `steps` steps (pure).
   * @param epoch - 0-based epoch in `[0, totalEpochs)`.
   * @param step - 0-based step in `[0, steps)`.
   * @param steps - the epoch's step count.
   */
  lrAt(epoch: number, step: number, steps: number): number {
    const where = 'OneCycle.lr';
    assertInteger(where, 'epoch', epoch, 0, this.totalEpochs - 1);
    assertInteger(where, 'steps', steps, 1);
    if (Number.isInteger(step) && step >= steps) {
      throw new InfoBatchError('OUT_OF_RANGE', `'step' passed to ${where} is ${step} but epoch ${epoch} has only ${steps} steps (0 … ${steps - 1}); tell beginEpoch the epoch's true step count, plan.numBatches(batchSize).`);
    }
    assertInteger(where, 'step', step, 0, steps - 1);
    const last = epoch === this.totalEpochs - 1;
    const within = last ? (steps === 1 ? 1 : step / (steps - 1)) : step / steps;
    return oneCycleAt(this.shape, (epoch + within) / this.totalEpochs);
  }
}
