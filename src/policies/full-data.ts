import { InfoBatchError } from '../core/errors.js';
import { fullSelection } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import { assertKnownKeys, assertOptionBag } from '../core/validate.js';

/** Options of {@link FullDataPolicy}: it has none. */
export interface FullDataPolicyOptions {
  readonly [option: string]: never;
}

/**
 * The full-data baseline every pruning result is compared with (as in InfoBatch, Qin et al., ICLR
 * 2024, arXiv 2303.04947): each epoch visits every sample, with weight 1 (`pruning` is false).
 *
 * @example
 * ```ts
 * const baseline = new InfoBatch({ numSamples, numEpochs, policy: new FullDataPolicy() });
 * ```
 */
export class FullDataPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'full';
  };
  private attached = false;

  constructor(options: FullDataPolicyOptions = {}) {
    const where = 'new FullDataPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, []);
    this.config = { name: 'full' };
  }

  attach(): void {
    if (this.attached) {
      throw new InfoBatchError('INVALID_STATE', 'This FullDataPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.attached = true;
  }

  planEpoch({ numSamples, buffers }: PolicyContext): PolicySelection {
    return fullSelection(numSamples, false, buffers);
  }
}
