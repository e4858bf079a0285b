/**
 * Which InfoBatch run a `fitWithInfoBatch` call trains in, and where in it. Consecutive calls can
 * continue one run ("fit in a loop", as tfjs examples train: `for (…) await model.fit(x, y, {
 * epochs: 1 })`), either through an {@link InfoBatch} passed to every call or through
 * `infobatch: { totalEpochs }`, which keeps the run with the model.
 */
import { annealingStartEpoch } from '../core/annealing.js';
import { canonicalJson } from '../core/canonical-json.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import { InfoBatch, type InfoBatchOptions } from '../core/info-batch.js';
import { assertRescaleMode, type RescaleMode } from '../core/rescale.js';
import { assertInteger, assertOptionBag } from '../core/validate.js';
import { InfoBatchPolicy } from '../policies/info-batch.js';
import { makeInfoBatch } from './engine.js';

/**
 * The `infobatch` options of {@link fitWithInfoBatch}: InfoBatch's own options (without
 * `numSamples`, taken from the data, and `numEpochs`), plus where the up-weighting goes and, for
 * training in a loop of short calls, the loop's total epochs.
 */
export interface FitInfoBatchOptions extends Omit<InfoBatchOptions, 'numSamples' | 'numEpochs'> {
  /**
   * Total epochs of a run that spans several calls on the same model, e.g. `40` for a loop of 40
   * `fitWithInfoBatch(model, x, y, { epochs: 1, infobatch: { totalEpochs: 40 } })`. Each call then
   * continues the model's run: its scores, its epoch count (so every call visits the samples in a
   * new order), its pruning and its annealing (the last epochs of the 40 use the full data). A
   * call with other data, other options or after the run's last epoch starts a new run. Without
   * it, every call is a run of its own `epochs`.
   * @defaultValue undefined (each call is its own run)
   */
  readonly totalEpochs?: number;
  /**
   * Where InfoBatch's up-weighting goes ({@link RescaleMode}); the same as `fitWithInfoBatch`'s
   * `rescaleMode` argument (give one of the two).
   * @defaultValue 'auto'
   */
  readonly rescaleMode?: RescaleMode;
}

/** The keys of {@link FitInfoBatchOptions}. */
const FIT_OPTION_KEYS = [
  'pruneRatio', 'delta', 'threshold', 'targetSaving', 'maxPruneRatio', 'alignToBatchSize', 'seed', 'policy', 'scoreSmoothing', 'allowNegativeLosses', 'rescaleMode', 'totalEpochs',
] as const satisfies ReadonlyArray<keyof FitInfoBatchOptions>;

/** The run one call trains in. @internal */
export interface FitRun {
  /** The InfoBatch of the run. */
  readonly ib: InfoBatch;
  /** InfoBatch epoch of the call's epoch `e`: `e + offset`. */
  readonly offset: number;
  /** Whether this call continues a run that earlier calls trained in. */
  readonly continued: boolean;
  /** Whether the run spans calls (an instance or `totalEpochs`): then `checkpoint` is refused. */
  readonly spansCalls: boolean;
  /** The rescale mode given in `infobatch`, if any. */
  readonly rescaleMode?: RescaleMode;
  /** The seed the run's InfoBatch uses. */
  readonly seed: number;
  /** Call once every check passed, right before training: the run is then the model's. */
  begin(): void;
  /**
   * Call when the call's training ended (finished, stopped early or failed): the last InfoBatch
   * epoch it began, after which the next call of the run continues.
   */
  end(lastEpoch: number | undefined): void;
}

interface ModelSession {
  readonly ib: InfoBatch;
  readonly key: string;
  readonly policy: unknown;
  next: number;
}

/** The run kept with each model by `infobatch: { totalEpochs }`. */
const modelSessions = new WeakMap<object, ModelSession>();
/** The next epoch of each InfoBatch instance that calls have trained in. */
const instanceNext = new WeakMap<InfoBatch, number>();
/** Calls made on each model that were runs of their own (their seed is `seed + calls`). */
const ownRunCalls = new WeakMap<object, number>();
/** Models already warned about calls too short to prune. */
const warnedShort = new WeakSet<object>();

/** Options passed on to `new InfoBatch`: the fit options less `totalEpochs` and `rescaleMode`. */
function infoBatchOptions(options: FitInfoBatchOptions): Omit<InfoBatchOptions, 'numSamples' | 'numEpochs'> {
  const { totalEpochs: _total, rescaleMode: _mode, ...rest } = options;
  return rest;
}

/**
 * Whether a fresh run of `epochs` epochs starting at `initialEpoch` can prune anything: InfoBatch
 * scores a sample in the first epoch it sees and prunes from the next, before its full-data
 * epochs. Known only for the default policy (other policies may prune from the first epoch).
 */
function prunesNothing(options: Omit<InfoBatchOptions, 'numSamples' | 'numEpochs'>, epochs: number, initialEpoch: number): boolean {
  if (options.policy !== undefined && !(options.policy instanceof InfoBatchPolicy)) return false;
  const delta = options.policy instanceof InfoBatchPolicy ? options.policy.config.delta : (options.delta ?? 0.875);
  return annealingStartEpoch(epochs, delta) < initialEpoch + 2;
}

/**
 * The run of one `fitWithInfoBatch` call (validated; nothing is changed until
 * {@link FitRun.commit}).
 * @param where - the calling function, for messages.
 * @param model - the model (runs kept with it are keyed by it).
 * @param option - the `infobatch` argument.
 * @param numSamples - training samples of the call.
 * @param epochs - the call's `epochs`.
 * @param initialEpoch - the call's `initialEpoch`.
 * @param dataName - how messages name the training data.
 * @param fixedSeed - use the seed as given (a checkpointed call, run again to resume, must be the same run).
 * @param batchSize - the call's batch size (pruned epochs are aligned to it on GPU backends, see `makeInfoBatch`).
 * @internal
 */
export function openFitRun(where: string, model: object, option: InfoBatch | FitInfoBatchOptions | undefined, numSamples: number, epochs: number, initialEpoch: number, dataName: string, fixedSeed = false, batchSize?: number): FitRun {
  const count = epochs - initialEpoch;
  if (option instanceof InfoBatch) {
    if (option.numSamples !== numSamples) {
      throw new InfoBatchError('SHAPE_MISMATCH', `'infobatch' passed to ${where} is for ${option.numSamples} samples but ${dataName} holds ${numSamples}.`);
    }
    const previous = instanceNext.get(option);
    const start = previous ?? initialEpoch;
    if (start + count > option.numEpochs) {
      throw new InfoBatchError(
        'OUT_OF_RANGE',
        previous === undefined
          ? `'infobatch' passed to ${where} plans ${option.numEpochs} epochs but 'epochs' is ${epochs}; build it with numEpochs >= epochs.`
          : `'infobatch' passed to ${where} plans ${option.numEpochs} epochs and earlier calls trained epochs 0 to ${start - 1} of it, so this call's ${count} epoch${count === 1 ? '' : 's'} would go past its end; build it with numEpochs = the total epochs of all the calls, or a new InfoBatch for a new run.`,
      );
    }
    return {
      ib: option,
      offset: start - initialEpoch,
      continued: previous !== undefined,
      spansCalls: previous !== undefined,
      seed: option.seed,
      begin: () => undefined,
      end: (last) => {
        if (last !== undefined) instanceNext.set(option, last + 1);
      },
    };
  }
  if (option !== undefined) assertOptionBag(where, 'infobatch', option);
  const options: FitInfoBatchOptions = option ?? {};
  for (const key of Object.keys(options)) {
    if (key === 'numSamples' || key === 'numEpochs') {
      throw new InfoBatchError('INVALID_OPTION', `'infobatch.${key}' passed to ${where} is not allowed: it is taken from ${key === 'numSamples' ? dataName : "'epochs' (or 'infobatch.totalEpochs' for a run that spans several calls)"}.`);
    }
    if (!(FIT_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new InfoBatchError('INVALID_OPTION', `Unknown option 'infobatch.${key}' passed to ${where} (got ${describeValue((options as Record<string, unknown>)[key])}); expected one of: ${FIT_OPTION_KEYS.join(', ')}.`);
    }
  }
  const { totalEpochs, rescaleMode } = options;
  if (rescaleMode !== undefined) assertRescaleMode(where, 'infobatch.rescaleMode', rescaleMode);
  const rest = infoBatchOptions(options);
  if (totalEpochs !== undefined) {
    assertInteger(where, 'infobatch.totalEpochs', totalEpochs, 1, 2 ** 31 - 1);
    const { policy, ...plain } = rest;
    const key = canonicalJson({ numSamples, totalEpochs, plain });
    const session = modelSessions.get(model);
    const continues = session !== undefined && session.key === key && session.policy === policy && session.next < totalEpochs;
    const start = continues ? session.next : initialEpoch;
    if (start + count > totalEpochs) {
      throw new InfoBatchError(
        'OUT_OF_RANGE',
        continues
          ? `'infobatch.totalEpochs' passed to ${where} is ${totalEpochs}, and earlier calls on this model trained epochs 0 to ${start - 1} of that run, so this call's ${count} epoch${count === 1 ? '' : 's'} would go past its end; set totalEpochs to the total epochs of all the calls.`
          : `'infobatch.totalEpochs' passed to ${where} is ${totalEpochs} but this call alone runs epochs ${initialEpoch} to ${epochs - 1}; set totalEpochs to the total epochs of all the calls (at least ${epochs}).`,
      );
    }
    const ib = continues ? session.ib : inFitTerms(where, () => makeInfoBatch(where, numSamples, totalEpochs, rest, dataName, batchSize));
    return {
      ib,
      offset: start - initialEpoch,
      continued: continues,
      spansCalls: true,
      ...(rescaleMode !== undefined && { rescaleMode }),
      seed: ib.seed,
      begin: () => {
        if (!continues) modelSessions.set(model, { ib, key, policy, next: start });
      },
      end: (last) => {
        const current = modelSessions.get(model);
        if (last !== undefined && current?.ib === ib) current.next = last + 1;
      },
    };
  }
  // A run of its own: the k-th such call on the model uses seed + k, so calls in a loop each
  // visit the samples in a new order, reproducibly.
  const calls = fixedSeed ? 0 : (ownRunCalls.get(model) ?? 0);
  const seed = rest.seed ?? 0;
  assertInteger(where, 'infobatch.seed', seed, 0, 0xffffffff);
  const callSeed = (seed + calls) % 2 ** 32;
  const ib = inFitTerms(where, () => makeInfoBatch(where, numSamples, epochs, { ...rest, seed: callSeed }, dataName, batchSize));
  return {
    ib,
    offset: 0,
    continued: false,
    spansCalls: false,
    ...(rescaleMode !== undefined && { rescaleMode }),
    seed: callSeed,
    end: () => undefined,
    begin: () => {
      if (!fixedSeed) ownRunCalls.set(model, calls + 1);
      if (!warnedShort.has(model) && prunesNothing(rest, epochs, initialEpoch)) {
        warnedShort.add(model);
        console.warn(
          `${where}: this call trains ${count} epoch${count === 1 ? '' : 's'} (epochs: ${epochs}${initialEpoch > 0 ? `, initialEpoch: ${initialEpoch}` : ''}), too few for InfoBatch to prune: it scores the samples in a run's first epoch and uses the full data in its last ones, so nothing was skipped. Training in a loop of short calls? Pass the loop's total once, infobatch: { totalEpochs: N }, and the calls continue one run. (Shown once per model.)`,
        );
      }
    },
  };
}

/** Runs `build`; an error of `new InfoBatch()` about the options says that they came through `infobatch`. */
function inFitTerms<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof InfoBatchError && error.message.includes('new InfoBatch()')) {
      throw new InfoBatchError(error.code, `'infobatch' passed to ${where}: ${error.message.replaceAll('new InfoBatch()', `${where}'s 'infobatch'`)}`, { cause: error });
    }
    throw error;
  }
}
