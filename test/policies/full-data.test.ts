import { describe, expect, it } from 'vitest';
import { FullDataPolicy, InfoBatch } from '../../src/index.js';
import { runEpochs } from '../core/helpers.js';
import { describePolicyContract, expectCode, sortedIds } from './contract.js';

describe('FullDataPolicy', () => {
  it('visits every sample once with weight 1 in every epoch, never pruning', () => {
    const numSamples = 300;
    const ib = new InfoBatch({ numSamples, numEpochs: 4, policy: new FullDataPolicy() });
    runEpochs(ib, 0, 2);
    for (let epoch = 0; epoch < 4; epoch++) {
      const plan = ib.beginEpoch(epoch);
      expect(plan.pruning).toBe(false);
      expect(sortedIds(plan.indices)).toEqual(Array.from({ length: numSamples }, (_, i) => i));
      expect(plan.weights.every((w) => w === 1)).toBe(true);
    }
    expect(ib.summary().savedFraction).toBe(0);
  });

  it('has the config { name: "full" }', () => {
    expect(new FullDataPolicy().config).toEqual({ name: 'full' });
  });

  it.each([
    [{ pruneRatio: 0.5 }, 'INVALID_OPTION', /Unknown option 'pruneRatio' passed to new FullDataPolicy\(\)/],
    [null, 'INVALID_TYPE', /'options' passed to new FullDataPolicy\(\) must be an options object but got null/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new FullDataPolicy(options as never), code, message);
  });
});

describePolicyContract('full', () => new FullDataPolicy());
