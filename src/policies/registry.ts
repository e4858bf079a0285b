import { InfoBatchError } from '../core/errors.js';
import type { PolicyConfig, PruningPolicy } from '../core/policy.js';
import { InfoBatchPolicy, type InfoBatchPolicyOptions } from './info-batch.js';

type PolicyFactory = (options: Record<string, unknown>) => PruningPolicy;

const factories: Record<string, PolicyFactory> = {
  infobatch: (options) => new InfoBatchPolicy(options as InfoBatchPolicyOptions),
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
