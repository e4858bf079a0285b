import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/index.js';
import { parsePolicySpecs } from '../../src/experiments/policy-spec.js';
import { createPolicy } from '../../src/policies/registry.js';

describe('parsePolicySpecs', () => {
  it('parses presets, options and matched runs into configs the registry builds', () => {
    const specs = parsePolicySpecs('full,infobatch,infobatch:r=0.3,infobatch:target=0.4,infobatch-no-rescale,random@matched,full@matched,ucb:c=2');
    expect(specs.map((s) => s.label)).toEqual(['full', 'infobatch', 'infobatch:r=0.3', 'infobatch:target=0.4', 'infobatch-no-rescale', 'random@matched', 'full@matched', 'ucb:c=2']);
    expect(specs[2]!.config).toEqual({ name: 'infobatch', pruneRatio: 0.3 });
    expect(specs[3]!.config).toEqual({ name: 'infobatch', targetSaving: 0.4 });
    expect(specs[4]!.config).toEqual({ name: 'infobatch', rescale: false });
    expect(specs[5]!.matched).toBe('saving');
    expect(specs[6]!.matched).toBe('epochs');
    for (const spec of specs) expect(() => createPolicy(spec.config)).not.toThrow();
  });

  it.each([
    ['', /at least one policy/],
    ['full,full', /names full twice/],
    ['fulll', /Unknown policy "fulll"/],
    ['infobatch:r', /must look like name=value/],
    ['full,random@matched', /no plain 'infobatch' run/],
    ['full,infobatch:r=2', /infobatch:r=2.*'pruneRatio'.*but got 2/],
    ['ucb:pruneRatio=-1', /ucb:pruneRatio=-1.*pruneRatio/],
    ['infobatch:colour=red', /infobatch:colour=red.*colour/],
  ])('rejects %j', (text, message) => {
    expect(() => parsePolicySpecs(text)).toThrow(InfoBatchError);
    expect(() => parsePolicySpecs(text)).toThrow(message);
  });
});
