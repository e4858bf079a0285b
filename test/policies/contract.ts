import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPolicy, InfoBatch, InfoBatchError, type PruningPolicy } from '../../src/index.js';
import { expectCode, runEpochs } from '../core/helpers.js';

export { expectCode };

/** Sample ids of a plan, ascending. */
export function sortedIds(indices: Int32Array): number[] {
  return Array.from(indices).sort((a, b) => a - b);
}

/** Weight of each planned sample id. */
export function weightById(plan: { indices: Int32Array; weights: Float32Array }): Map<number, number> {
  return new Map(Array.from(plan.indices, (index, p) => [index, plan.weights[p]!]));
}

/** A run of `policy` with every sample scored by `losses`. */
export function scoredRun(policy: PruningPolicy, losses: ArrayLike<number>, numEpochs = 10, seed = 0): InfoBatch {
  const ib = new InfoBatch({ numSamples: losses.length, numEpochs, policy, seed });
  ib.recordLosses(Int32Array.from({ length: losses.length }, (_, i) => i), losses);
  return ib;
}

/**
 * The contract every built-in policy meets: config round trip through createPolicy, one attach
 * per policy, the same plan for the same epoch and seed, no Math.random, and a bit-for-bit resume
 * from a checkpoint saved after 3 epochs.
 */
export function describePolicyContract(name: string, make: () => PruningPolicy, label = name): void {
  describe(`${label}: policy contract`, () => {
    afterEach(() => vi.restoreAllMocks());

    it('has a JSON config that createPolicy rebuilds into the same policy', () => {
      const policy = make();
      expect(policy.config.name).toBe(name);
      const config = JSON.parse(JSON.stringify(policy.config)) as typeof policy.config;
      const rebuilt = createPolicy(config);
      expect(rebuilt.constructor).toBe(policy.constructor);
      expect(rebuilt.config).toEqual(policy.config);
      expect(rebuilt.scoreSmoothing).toEqual(policy.scoreSmoothing);
    });

    it('refuses to be attached to a second run', () => {
      const policy = make();
      new InfoBatch({ numSamples: 10, numEpochs: 5, policy });
      expectCode(() => new InfoBatch({ numSamples: 10, numEpochs: 5, policy }), 'INVALID_STATE', /already attached.*one policy per run/);
    });

    it('gives the same plan for the same epoch asked twice, and for the same seed and losses', () => {
      const run = (seed: number): InfoBatch => {
        const ib = new InfoBatch({ numSamples: 600, numEpochs: 8, policy: make(), seed });
        runEpochs(ib, 0, 3);
        return ib;
      };
      const a = run(5);
      const first = a.beginEpoch(3);
      const again = a.beginEpoch(3);
      expect(again.indices).toEqual(first.indices);
      expect(again.weights).toEqual(first.weights);
      const b = run(5).beginEpoch(3);
      expect(b.indices).toEqual(first.indices);
      expect(b.weights).toEqual(first.weights);
      expect(run(6).beginEpoch(3).indices).not.toEqual(first.indices);
    });

    it('never reads global random state', () => {
      vi.spyOn(Math, 'random').mockImplementation(() => {
        throw new Error('Math.random must not be used');
      });
      const ib = new InfoBatch({ numSamples: 2000, numEpochs: 6, policy: make() });
      expect(() => runEpochs(ib, 0, 6, 128)).not.toThrow();
      expect(Math.random).not.toHaveBeenCalled();
    });

    it('continues bit for bit after a checkpoint saved after 3 epochs', () => {
      const options = { numSamples: 1500, numEpochs: 10, seed: 21 };
      const whole = new InfoBatch({ ...options, policy: make() });
      const plans = runEpochs(whole, 0, 10);

      const first = new InfoBatch({ ...options, policy: make() });
      const resumedPlans = runEpochs(first, 0, 3);
      const resumed = InfoBatch.loadState(first.saveState());
      expect(resumed.policy.config).toEqual(first.policy.config);
      resumedPlans.push(...runEpochs(resumed, 3, 7));

      expect(resumedPlans).toEqual(plans);
      expect(new Uint8Array(resumed.scores.buffer)).toEqual(new Uint8Array(whole.scores.buffer));
      expect(resumed.summary()).toEqual(whole.summary());
      expect(resumed.saveState()).toEqual(whole.saveState());
    });
  });
}
