import { annealingStartEpoch } from '../core/annealing.js';
import { bytesToTypedArray, typedArrayToBytes } from '../core/checkpoint.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import { fullSelection, keptCount } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import { assertInteger, assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';

/** Options of {@link El2nLossPolicy}. */
export interface El2nLossPolicyOptions {
  /**
   * Fraction of the samples dropped after the scoring epochs: the `N − round((1 − r)·N)` with the
   * lowest mean early loss (the easiest).
   * @defaultValue 0.5
   */
  readonly pruneRatio?: number;
  /**
   * Number of first epochs that train on the full data and score every sample; their per-sample
   * losses are averaged into the pruning score.
   * @defaultValue 2
   */
  readonly scoreEpochs?: number;
  /**
   * Weight each kept sample `N / k`. EL2N trains on the pruned set as it is, so the default is off.
   * @defaultValue false
   */
  readonly rescale?: boolean;
  /**
   * Fraction of the run after which the full data comes back (annealing); 1, the static-pruning
   * baseline, never anneals.
   * @defaultValue 1
   */
  readonly delta?: number;
}

const OPTION_KEYS = ['pruneRatio', 'scoreEpochs', 'rescale', 'delta'] as const;
const STATE_VERSION = 1;
const STATE_HEADER_BYTES = 8;

/**
 * Static pruning by early-training difficulty, the loss-based analogue of EL2N (Paul et al.,
 * "Deep Learning on a Data Diet", NeurIPS 2021, arXiv 2107.07075), one of the static rivals
 * InfoBatch is compared with. The first `scoreEpochs` epochs train on the full data and record each
 * sample's loss; from then on the `round(r·N)` samples with the lowest mean early loss are left
 * out for the rest of the run (a fixed subset, each kept sample weighted `N / k` only with
 * `rescale`).
 *
 * Difference from the paper, stated plainly: EL2N scores a sample by the L2 norm of
 * `softmax(logits) − onehot(label)`, averaged over several independently initialised networks at
 * one early epoch. Pruning policies here see the per-sample training loss the engine records (for
 * classification, the cross-entropy `−log p_label`), so this policy ranks by that loss averaged over
 * the first `scoreEpochs` epochs of the one run being trained, hence the name `el2n-loss`. Both
 * scores grow as the probability of the true class falls, but the ranking is not the same, and one
 * run's early epochs replace the paper's ensemble. Samples the scoring epochs never saw are kept.
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new El2nLossPolicy({ pruneRatio: 0.3, scoreEpochs: 2 }) });
 * ```
 */
export class El2nLossPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'el2n-loss';
    /** The `pruneRatio` option, default applied. */
    readonly pruneRatio: number;
    /** The `scoreEpochs` option, default applied. */
    readonly scoreEpochs: number;
    /** The `rescale` option, default applied. */
    readonly rescale: boolean;
    /** The `delta` option, default applied. */
    readonly delta: number;
  };
  private numSamples = 0;
  /** Sum and count of each sample's losses in the scoring epochs. */
  private lossSums = new Float32Array(0);
  private lossCounts = new Int32Array(0);
  /** Epoch whose losses are being observed: the last planned scoring epoch, or -1 after them. */
  private observing = -1;
  /** The kept subset, ascending; computed once the scoring epochs are over. */
  private kept: Int32Array | undefined;

  constructor(options: El2nLossPolicyOptions = {}) {
    const where = 'new El2nLossPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio = 0.5, scoreEpochs = 2, rescale = false, delta = 1 } = options;
    assertNumberInRange(where, 'pruneRatio', pruneRatio, 0, 1, '[)');
    assertInteger(where, 'scoreEpochs', scoreEpochs, 1);
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    if (typeof rescale !== 'boolean') {
      throw new InfoBatchError('INVALID_TYPE', `'rescale' passed to ${where} must be a boolean but got ${describeValue(rescale)}.`);
    }
    this.config = { name: 'el2n-loss', pruneRatio, scoreEpochs, rescale, delta };
  }

  attach(numSamples: number, numEpochs: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This El2nLossPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    if (this.config.scoreEpochs >= numEpochs) {
      throw new InfoBatchError(
        'OUT_OF_RANGE',
        `'scoreEpochs' ${this.config.scoreEpochs} of El2nLossPolicy must be below the run's ${numEpochs} epochs, or nothing is ever pruned; lower scoreEpochs.`,
      );
    }
    this.numSamples = numSamples;
    this.lossSums = new Float32Array(numSamples);
    this.lossCounts = new Int32Array(numSamples);
  }

  planEpoch({ epoch, numEpochs, numSamples }: PolicyContext): PolicySelection {
    const { scoreEpochs, rescale, delta } = this.config;
    if (epoch < scoreEpochs) {
      this.observing = epoch;
      return fullSelection(numSamples);
    }
    this.observing = -1;
    if (epoch >= annealingStartEpoch(numEpochs, delta)) return fullSelection(numSamples);
    this.kept ??= this.easiestDropped();
    const indices = this.kept.slice(); // the engine shuffles the selection in place
    const weight = rescale ? numSamples / indices.length : 1;
    return { indices, weights: new Float32Array(indices.length).fill(weight), pruning: true, wellLearned: numSamples, threshold: Number.NaN };
  }

  /** Adds the scoring epochs' losses to each sample's sum. */
  observeLosses(indices: ArrayLike<number>, losses: ArrayLike<number>): void {
    if (this.observing < 0) return;
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      this.lossSums[i] = this.lossSums[i]! + losses[j]!;
      this.lossCounts[i]!++;
    }
  }

  /** Mean early loss of each sample (NaN when never seen). */
  meanEarlyLoss(): Float64Array {
    const means = new Float64Array(this.numSamples);
    for (let i = 0; i < this.numSamples; i++) means[i] = this.lossCounts[i]! > 0 ? this.lossSums[i]! / this.lossCounts[i]! : Number.NaN;
    return means;
  }

  /** Ids kept: all but the `N − k` lowest mean early losses (ties by id; unseen samples rank hardest). */
  private easiestDropped(): Int32Array {
    const n = this.numSamples;
    const means = this.meanEarlyLoss();
    const order = Array.from({ length: n }, (_, i) => i);
    const key = (i: number): number => (Number.isNaN(means[i]!) ? Number.POSITIVE_INFINITY : means[i]!);
    order.sort((a, b) => key(a) - key(b) || a - b);
    const drop = n - keptCount(n, this.config.pruneRatio);
    return Int32Array.from(order.slice(drop)).sort();
  }

  /** Versioned bytes: version, sample count, observed epoch (u32/u32/i32 little-endian), loss sums, counts. */
  saveState(): Uint8Array {
    const n = this.numSamples;
    const bytes = new Uint8Array(STATE_HEADER_BYTES + 4 + n * 8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, STATE_VERSION, true);
    view.setUint32(4, n, true);
    view.setInt32(8, this.observing, true);
    bytes.set(typedArrayToBytes(this.lossSums), STATE_HEADER_BYTES + 4);
    bytes.set(typedArrayToBytes(this.lossCounts), STATE_HEADER_BYTES + 4 + n * 4);
    return bytes;
  }

  loadState(bytes: Uint8Array): void {
    const where = 'El2nLossPolicy.loadState';
    if (!(bytes instanceof Uint8Array)) {
      throw new InfoBatchError('INVALID_TYPE', `'bytes' passed to ${where} must be a Uint8Array but got ${describeValue(bytes)}.`);
    }
    if (this.numSamples === 0) {
      throw new InfoBatchError('INVALID_STATE', `${where} was called before the policy was attached to an InfoBatch run; load the checkpoint through InfoBatch.loadState.`);
    }
    if (bytes.length < STATE_HEADER_BYTES + 4) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} is ${bytes.length} bytes long, shorter than its ${STATE_HEADER_BYTES + 4}-byte header.`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(0, true);
    if (version !== STATE_VERSION) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} has version ${version}, but this version of infobatch reads version ${STATE_VERSION}.`);
    }
    const n = view.getUint32(4, true);
    if (n !== this.numSamples) {
      throw new InfoBatchError('CHECKPOINT_MISMATCH', `Policy state passed to ${where} is for ${n} samples but this run has ${this.numSamples}.`);
    }
    if (bytes.length !== STATE_HEADER_BYTES + 4 + n * 8) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} is ${bytes.length} bytes long but ${n} samples need ${STATE_HEADER_BYTES + 4 + n * 8}.`);
    }
    const observing = view.getInt32(8, true);
    const sums = new Float32Array(n);
    const counts = new Int32Array(n);
    bytesToTypedArray(bytes.subarray(STATE_HEADER_BYTES + 4, STATE_HEADER_BYTES + 4 + n * 4), sums);
    bytesToTypedArray(bytes.subarray(STATE_HEADER_BYTES + 4 + n * 4), counts);
    for (let i = 0; i < n; i++) {
      if (!(Math.abs(sums[i]!) <= Number.MAX_VALUE) || counts[i]! < 0) {
        throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} holds loss sum ${describeValue(sums[i])} and count ${counts[i]} for sample ${i}; the sum must be finite and the count >= 0.`);
      }
    }
    if (observing < -1 || observing >= this.config.scoreEpochs) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to ${where} says it observes epoch ${observing}, outside the ${this.config.scoreEpochs} scoring epochs.`);
    }
    this.lossSums = sums;
    this.lossCounts = counts;
    this.observing = observing;
    this.kept = undefined;
  }
}
