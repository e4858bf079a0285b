import { annealingStartEpoch } from '../core/annealing.js';
import { bytesToTypedArray, typedArrayToBytes } from '../core/checkpoint.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import { fullSelection } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import type { ScoreSmoothing } from '../core/score-smoothing.js';
import { assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { selectByScore } from './score-selection.js';

/** Options of {@link UcbPolicy}. */
export interface UcbPolicyOptions {
  /**
   * Fraction of the scored samples skipped per pruning epoch (keeps `round((1 − r)·S)`).
   * @defaultValue 0.5
   */
  readonly pruneRatio?: number;
  /**
   * Weight `c` of the loss's standard deviation in the key `mean + c·sqrt(variance)`; 0 ranks by
   * the mean alone.
   * @defaultValue 1
   */
  readonly c?: number;
  /**
   * Weight of the newest loss in the exponential moving averages of the loss (the score, through
   * the engine's `scoreSmoothing` unless it is given one) and of its variance.
   * 0.2 (a choice of this library, not a value quoted from the paper) weighs about the last five losses.
   * @defaultValue 0.2
   */
  readonly emaAlpha?: number;
  /**
   * Fraction of the run that prunes; later epochs use the full data. The paper prunes until the
   * end, hence 1.
   * @defaultValue 1
   */
  readonly delta?: number;
}

const OPTION_KEYS = ['pruneRatio', 'c', 'emaAlpha', 'delta'] as const;
const STATE_VERSION = 1;
const STATE_HEADER_BYTES = 8;

/**
 * Upper-confidence-bound dynamic data pruning (Raju, Daruwalla and Lipasti, "Accelerating Deep
 * Learning with Dynamic Data Pruning", arXiv 2111.12621). Each sample keeps an exponential moving
 * average of its loss (the score) and of the loss's variance; each pruning epoch keeps the
 * `round((1 − r)·S)` of the `S` scored samples with the highest `mean + c·sqrt(variance)` (hard or
 * uncertain samples; ties go to the lower index). Unscored samples have no score and are always
 * kept, on top of the budget. Weights are 1, as in the paper: the choice is deterministic, so no
 * inverse-probability rescaling exists.
 *
 * The variance follows the exponentially weighted update `var = (1 − a)·(var + a·(loss − mean)²)`
 * against the score before the batch (0 at a sample's first loss); a sample repeated within one
 * batch is compared with that same earlier score each time. The table is part of the checkpoint.
 * Departures from the paper: scores come from the training forward passes, not a separate scoring
 * pass; the selection is remade every epoch (no longer selection period); the top-k is found by
 * linear-time selection.
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new UcbPolicy({ pruneRatio: 0.3, c: 0.5 }) });
 * ```
 */
export class UcbPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'ucb';
    /** The `pruneRatio` option, default applied. */
    readonly pruneRatio: number;
    /** The `c` option, default applied. */
    readonly c: number;
    /** The `emaAlpha` option, default applied. */
    readonly emaAlpha: number;
    /** The `delta` option, default applied. */
    readonly delta: number;
  };
  readonly scoreSmoothing: ScoreSmoothing;
  private numSamples = 0;
  private variance = new Float32Array(0);
  private scratch: Float32Array | undefined;

  constructor(options: UcbPolicyOptions = {}) {
    const where = 'new UcbPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio = 0.5, c = 1, emaAlpha = 0.2, delta = 1 } = options;
    assertNumberInRange(where, 'pruneRatio', pruneRatio, 0, 1, '[)');
    assertNumberInRange(where, 'c', c, 0, Number.POSITIVE_INFINITY, '[)');
    assertNumberInRange(where, 'emaAlpha', emaAlpha, 0, 1, '(]');
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    this.config = { name: 'ucb', pruneRatio, c, emaAlpha, delta };
    this.scoreSmoothing = { ema: emaAlpha };
  }

  attach(numSamples: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This UcbPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.numSamples = numSamples;
    this.variance = new Float32Array(numSamples);
  }

  planEpoch({ epoch, numEpochs, numSamples, scores, random, buffers }: PolicyContext): PolicySelection {
    const { pruneRatio, c, delta } = this.config;
    if (epoch >= annealingStartEpoch(numEpochs, delta)) return fullSelection(numSamples, false, buffers);
    const scratch = (this.scratch ??= new Float32Array(numSamples));
    const selection = selectByScore({ scores, random, scratch, buffers, pruneRatio, epsilon: 0, rescale: false, variance: this.variance, c });
    return selection ?? fullSelection(numSamples, true, buffers);
  }

  observeLosses(indices: ArrayLike<number>, losses: ArrayLike<number>, scores: Float32Array): void {
    const alpha = this.config.emaAlpha;
    const variance = this.variance;
    for (let j = 0; j < indices.length; j++) {
      const index = indices[j]!;
      const mean = scores[index]!;
      if (mean !== mean) {
        variance[index] = 0;
      } else {
        const difference = losses[j]! - mean;
        variance[index] = (1 - alpha) * (variance[index]! + alpha * difference * difference);
      }
    }
  }

  /** The variance table as versioned bytes: version, sample count (u32 little-endian), then float32s. */
  saveState(): Uint8Array {
    const bytes = new Uint8Array(STATE_HEADER_BYTES + this.variance.length * 4);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, STATE_VERSION, true);
    view.setUint32(4, this.variance.length, true);
    bytes.set(typedArrayToBytes(this.variance), STATE_HEADER_BYTES);
    return bytes;
  }

  loadState(bytes: Uint8Array): void {
    const where = 'UcbPolicy.loadState';
    if (!(bytes instanceof Uint8Array)) {
      throw new InfoBatchError('INVALID_TYPE', `'bytes' passed to ${where} must be a Uint8Array but got ${describeValue(bytes)}.`);
    }
    if (this.numSamples === 0) {
      throw new InfoBatchError('INVALID_STATE', `${where} was called before the policy was attached to an InfoBatch run; load the checkpoint through InfoBatch.loadState.`);
    }
    if (bytes.length < STATE_HEADER_BYTES) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} is ${bytes.length} bytes long, shorter than its ${STATE_HEADER_BYTES}-byte header.`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(0, true);
    if (version !== STATE_VERSION) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} has version ${version}, but this version of infobatch reads version ${STATE_VERSION}.`);
    }
    const count = view.getUint32(4, true);
    if (count !== this.numSamples) {
      throw new InfoBatchError('CHECKPOINT_MISMATCH', `Policy state passed to ${where} is for ${count} samples but this run has ${this.numSamples}.`);
    }
    if (bytes.length !== STATE_HEADER_BYTES + count * 4) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} is ${bytes.length} bytes long but ${count} samples need ${STATE_HEADER_BYTES + count * 4}.`);
    }
    const variance = new Float32Array(count);
    bytesToTypedArray(bytes.subarray(STATE_HEADER_BYTES), variance);
    for (let i = 0; i < count; i++) {
      const v = variance[i]!;
      if (!(v >= 0 && v <= Number.MAX_VALUE)) {
        throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} holds variance ${describeValue(v)} for sample ${i}; variances must be finite and >= 0.`);
      }
    }
    this.variance = variance;
  }
}
