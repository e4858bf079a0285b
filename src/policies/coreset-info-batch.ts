import { describeValue, InfoBatchError } from '../core/errors.js';
import type { PolicyConfig, PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import type { ThresholdRule } from '../core/threshold.js';
import { assertKnownKeys, assertOptionBag } from '../core/validate.js';
import { El2nLossPolicy } from './el2n-loss.js';
import { InfoBatchPolicy } from './info-batch.js';

/** Options of {@link CoresetInfoBatchPolicy}. */
export interface CoresetInfoBatchPolicyOptions {
  /**
   * The static coreset policy chosen first (e.g. `new El2nLossPolicy()` or
   * `new StaticRandomPolicy()`); it must not smooth scores. Owned by this policy from now on.
   * @defaultValue new El2nLossPolicy() (drops the easiest half after 2 scoring epochs)
   */
  readonly coreset?: PruningPolicy;
  /** InfoBatch's prune ratio of the well-learned part of the coreset. @defaultValue 0.5 */
  readonly pruneRatio?: number;
  /** InfoBatch's annealing: from epoch `floor(delta · numEpochs)` on, the full coreset. @defaultValue 0.875 */
  readonly delta?: number;
  /** InfoBatch's threshold rule, applied to the coreset's scores. @defaultValue 'mean' */
  readonly threshold?: ThresholdRule;
  /** InfoBatch's rescaling. @defaultValue true */
  readonly rescale?: boolean;
}

const OPTION_KEYS = ['coreset', 'pruneRatio', 'delta', 'threshold', 'rescale'] as const;

/**
 * "Coreset first, InfoBatch on top", the composition InfoBatch (Qin et al., ICLR 2024, arXiv
 * 2303.04947) reports as compatible: each epoch, the static coreset policy picks its subset (with
 * its weights), and InfoBatch prunes dynamically within that subset only: its threshold is taken
 * over the coreset's scores, a uniform random `round((1 − r)·|D1|)` of the coreset's well-learned
 * samples `D1` is kept with weight `|D1| / k` times the coreset weight, every other coreset sample
 * keeps its coreset weight, and from `floor(delta · numEpochs)` on the full coreset is used.
 * Epochs in which the coreset policy does not prune (EL2N's scoring epochs, or a coreset that
 * anneals) use its selection unchanged, so the coreset is chosen on unpruned data. Samples outside
 * the coreset are never visited while it prunes.
 *
 * Unbiasedness holds for the InfoBatch part only: in expectation an epoch's weighted loss is the
 * coreset's weighted loss, not the full data's.
 *
 * @example
 * ```ts
 * const policy = new CoresetInfoBatchPolicy({ coreset: new El2nLossPolicy({ pruneRatio: 0.3 }), pruneRatio: 0.5 });
 * ```
 */
export class CoresetInfoBatchPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'coreset-infobatch';
    /** The static coreset policy's config. */
    readonly coreset: PolicyConfig;
    /** InfoBatch's `pruneRatio` within the coreset, default applied. */
    readonly pruneRatio: number;
    /** InfoBatch's `delta`, default applied. */
    readonly delta: number;
    /** InfoBatch's `threshold`, default applied. */
    readonly threshold: ThresholdRule;
    /** InfoBatch's `rescale`, default applied. */
    readonly rescale: boolean;
  };
  private readonly coreset: PruningPolicy;
  private readonly innerOptions: { pruneRatio: number; delta: number; threshold: ThresholdRule; rescale: boolean };
  private numSamples = 0;
  private numEpochs = 0;
  /** InfoBatch over a coreset of `size` samples (rebuilt when the coreset's size changes). */
  private inner: { size: number; policy: InfoBatchPolicy } | undefined;
  private subScores = new Float32Array(0);

  constructor(options: CoresetInfoBatchPolicyOptions = {}) {
    const where = 'new CoresetInfoBatchPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { coreset = new El2nLossPolicy() as PruningPolicy, pruneRatio = 0.5, delta = 0.875, threshold = 'mean', rescale = true } = options;
    const candidate = coreset as Partial<PruningPolicy> | undefined;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.planEpoch !== 'function' || typeof candidate.attach !== 'function' || typeof candidate.config?.name !== 'string') {
      throw new InfoBatchError('INVALID_OPTION', `'coreset' passed to ${where} must be a PruningPolicy (e.g. new El2nLossPolicy()) but got ${describeValue(coreset)}.`);
    }
    if (coreset.scoreSmoothing !== undefined) {
      throw new InfoBatchError('INVALID_OPTION', `'coreset' passed to ${where} is ${coreset.config.name}, which smooths scores; InfoBatch needs the raw last losses, so use a static coreset policy such as el2n-loss or static-random.`);
    }
    // Validates the InfoBatch options with InfoBatchPolicy's own messages.
    const probe = new InfoBatchPolicy({ pruneRatio, delta, threshold, rescale });
    this.innerOptions = { pruneRatio, delta, threshold: probe.config.threshold, rescale };
    this.coreset = coreset;
    this.config = { name: 'coreset-infobatch', coreset: coreset.config, ...this.innerOptions };
  }

  attach(numSamples: number, numEpochs: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This CoresetInfoBatchPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.coreset.attach(numSamples, numEpochs);
    this.numSamples = numSamples;
    this.numEpochs = numEpochs;
  }

  planEpoch(context: PolicyContext): PolicySelection {
    const base = this.coreset.planEpoch(context);
    if (!base.pruning) return base;
    const size = base.indices.length;
    if (this.inner?.size !== size) {
      const policy = new InfoBatchPolicy(this.innerOptions);
      policy.attach(size, this.numEpochs);
      this.inner = { size, policy };
      this.subScores = new Float32Array(size);
    }
    const sub = this.subScores;
    for (let p = 0; p < size; p++) sub[p] = context.scores[base.indices[p]!]!;
    // InfoBatch plans over positions 0..size-1 of the coreset, then positions map back to samples.
    const inner = this.inner.policy.planEpoch({ ...context, numSamples: size, scores: sub });
    const indices = new Int32Array(inner.indices.length);
    const weights = new Float32Array(inner.indices.length);
    for (let q = 0; q < indices.length; q++) {
      const position = inner.indices[q]!;
      indices[q] = base.indices[position]!;
      weights[q] = inner.weights[q]! * base.weights[position]!;
    }
    return { indices, weights, pruning: true, wellLearned: inner.wellLearned, threshold: inner.threshold };
  }

  observeLosses(indices: ArrayLike<number>, losses: ArrayLike<number>, scores: Float32Array): void {
    this.coreset.observeLosses?.(indices, losses, scores);
  }

  /** The coreset policy's state (InfoBatch's part has none). */
  saveState(): Uint8Array {
    return this.coreset.saveState?.() ?? new Uint8Array(0);
  }

  loadState(bytes: Uint8Array): void {
    if (this.coreset.loadState !== undefined) this.coreset.loadState(bytes);
    else if (!(bytes instanceof Uint8Array) || bytes.length !== 0) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Policy state passed to CoresetInfoBatchPolicy.loadState must be empty for coreset ${this.coreset.config.name}, which has no state, but got ${describeValue(bytes)}.`);
    }
  }
}
