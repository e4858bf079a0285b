import { describe, expect, it } from 'vitest';
import {
  builtInPolicyNames,
  CoresetInfoBatchPolicy,
  createPolicy,
  El2nLossPolicy,
  DynamicRandomPolicy,
  EpsilonGreedyPolicy,
  FullDataPolicy,
  InfoBatch,
  InfoBatchPolicy,
  SetaPolicy,
  StaticRandomPolicy,
  UcbPolicy,
} from '../../src/index.js';
import { expectCode } from './contract.js';

describe('policy registry', () => {
  it('builds every built-in policy from its default config', () => {
    const defaults = [
      new InfoBatchPolicy(),
      new FullDataPolicy(),
      new StaticRandomPolicy(),
      new DynamicRandomPolicy(),
      new EpsilonGreedyPolicy(),
      new UcbPolicy(),
      new SetaPolicy(),
      new El2nLossPolicy(),
      new CoresetInfoBatchPolicy(),
    ];
    expect(builtInPolicyNames().sort()).toEqual(defaults.map((p) => p.config.name).sort());
    for (const policy of defaults) {
      const rebuilt = createPolicy({ name: policy.config.name });
      expect(rebuilt).toBeInstanceOf(policy.constructor);
      expect(rebuilt.config).toEqual(policy.config);
    }
  });

  it('restores each policy from an engine checkpoint', () => {
    for (const name of builtInPolicyNames()) {
      const ib = new InfoBatch({ numSamples: 50, numEpochs: 4, policy: createPolicy({ name }) });
      ib.recordLosses(Array.from({ length: 50 }, (_, i) => i), Array.from({ length: 50 }, (_, i) => i % 9));
      const resumed = InfoBatch.loadState(ib.saveState());
      expect(resumed.policy.config).toEqual(ib.policy.config);
      expect(resumed.beginEpoch(1).indices).toEqual(ib.beginEpoch(1).indices);
    }
  });

  it('names the built-in policies when given an unknown name, and passes options to the policy', () => {
    expectCode(() => createPolicy({ name: 'random' }), 'INVALID_OPTION', /"random".*not a built-in policy.*infobatch, full, static-random, dynamic-random, epsilon-greedy, ucb, seta, el2n-loss, coreset-infobatch/);
    expectCode(() => createPolicy({ name: 'ucb', c: -1 }), 'OUT_OF_RANGE', /'c' passed to new UcbPolicy\(\)/);
  });
});
