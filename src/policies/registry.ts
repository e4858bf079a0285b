import { InfoBatchError } from '../core/errors.js';
import type { PolicyConfig, PruningPolicy } from '../core/policy.js';
import { CoresetInfoBatchPolicy, type CoresetInfoBatchPolicyOptions } from './coreset-info-batch.js';
import { DynamicRandomPolicy, type DynamicRandomPolicyOptions } from './dynamic-random.js';
import { El2nLossPolicy, type El2nLossPolicyOptions } from './el2n-loss.js';
import { EpsilonGreedyPolicy, type EpsilonGreedyPolicyOptions } from './epsilon-greedy.js';
import { FullDataPolicy, type FullDataPolicyOptions } from './full-data.js';
import { InfoBatchPolicy, type InfoBatchPolicyOptions } from './info-batch.js';
import { SetaPolicy, type SetaPolicyOptions } from './seta.js';
import { StaticRandomPolicy, type StaticRandomPolicyOptions } from './static-random.js';
import { UcbPolicy, type UcbPolicyOptions } from './ucb.js';

type PolicyFactory = (options: Record<string, unknown>) => PruningPolicy;

const factories: Record<string, PolicyFactory> = {
  infobatch: (options) => new InfoBatchPolicy(options as InfoBatchPolicyOptions),
  full: (options) => new FullDataPolicy(options as FullDataPolicyOptions),
  'static-random': (options) => new StaticRandomPolicy(options as StaticRandomPolicyOptions),
  'dynamic-random': (options) => new DynamicRandomPolicy(options as DynamicRandomPolicyOptions),
  'epsilon-greedy': (options) => new EpsilonGreedyPolicy(options as EpsilonGreedyPolicyOptions),
  ucb: (options) => new UcbPolicy(options as UcbPolicyOptions),
  seta: (options) => new SetaPolicy(options as SetaPolicyOptions),
  'el2n-loss': (options) => new El2nLossPolicy(options as El2nLossPolicyOptions),
  'coreset-infobatch': (options) => {
    const { coreset, ...rest } = options;
    if (coreset === undefined) return new CoresetInfoBatchPolicy(rest as CoresetInfoBatchPolicyOptions);
    if (typeof coreset !== 'object' || coreset === null || typeof (coreset as PolicyConfig).name !== 'string') {
      throw new InfoBatchError('INVALID_OPTION', `'coreset' of policy config "coreset-infobatch" passed to createPolicy() must be a policy config such as { name: 'el2n-loss' } but got ${JSON.stringify(coreset) ?? String(coreset)}.`);
    }
    return new CoresetInfoBatchPolicy({ ...(rest as CoresetInfoBatchPolicyOptions), coreset: createPolicy(coreset as PolicyConfig) });
  },
};

/** Names of the built-in policies {@link createPolicy} can build. */
export function builtInPolicyNames(): string[] {
  return Object.keys(factories);
}

/**
 * Builds a built-in policy from its JSON config (as found in `policy.config` or a checkpoint).
 * @param config - `{ name, ...options }`.
 *
 * @example
 * ```ts
 * const policy = createPolicy({ name: 'infobatch', pruneRatio: 0.3 });
 * ```
 */
export function createPolicy(config: PolicyConfig): PruningPolicy {
  const { name, ...options } = config;
  const factory = Object.hasOwn(factories, name) ? factories[name] : undefined;
  if (factory === undefined) {
    throw new InfoBatchError(
      'INVALID_OPTION',
      `Policy name ${JSON.stringify(name)} passed to createPolicy() is not a built-in policy; expected one of: ${builtInPolicyNames().join(', ')}. Pass your own policy instance instead.`,
    );
  }
  return factory(options);
}
