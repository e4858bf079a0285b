import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/index.js';
import { parsePolicySpecs, sizeForSaving } from '../../src/experiments/policy-spec.js';
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

  it('parses :rescaleMode= and :lrScale= into the run variant, not the policy config, and refuses bad values', () => {
    const [step, scaled, both] = parsePolicySpecs('infobatch:rescaleMode=step,full:lrScale=1.42,infobatch:target=0.4:rescaleMode=loss');
    expect(step).toEqual({ label: 'infobatch:rescaleMode=step', config: { name: 'infobatch' }, variant: { rescaleMode: 'step' } });
    expect(scaled).toEqual({ label: 'full:lrScale=1.42', config: { name: 'full' }, variant: { learningRateScale: 1.42 } });
    expect(both!.config).toEqual({ name: 'infobatch', targetSaving: 0.4 });
    expect(both!.variant).toEqual({ rescaleMode: 'loss' });
    expect(parsePolicySpecs('infobatch')[0]).not.toHaveProperty('variant');
    expect(() => parsePolicySpecs('infobatch:rescaleMode=steps')).toThrow(/must be one of 'auto', 'loss', 'step' but got "steps"/);
    expect(() => parsePolicySpecs('full:lrScale=0')).toThrow(/lrScale .* must be a finite number > 0/);
    expect(() => parsePolicySpecs('full:lrScale=abc')).toThrow(InfoBatchError);
  });

  it('parses :score= into the run variant, beside the policy options', () => {
    const [normalised, loss] = parsePolicySpecs('infobatch:score=normalised:r=0.3,infobatch:score=loss');
    expect(normalised).toEqual({ label: 'infobatch:score=normalised:r=0.3', config: { name: 'infobatch', pruneRatio: 0.3 }, variant: { score: 'normalised' } });
    expect(loss!.variant).toEqual({ score: 'loss' });
  });

  it('parses :scoreEma= into the run variant and refuses factors outside (0, 1]', () => {
    const [smoothed] = parsePolicySpecs('infobatch:score=normalised:scoreEma=0.2');
    expect(smoothed).toEqual({ label: 'infobatch:score=normalised:scoreEma=0.2', config: { name: 'infobatch' }, variant: { score: 'normalised', scoreEma: 0.2 } });
    for (const bad of ['0', '1.5', 'abc', '-0.1']) expect(() => parsePolicySpecs(`infobatch:scoreEma=${bad}`)).toThrow(/scoreEma .* must be a number in \(0, 1\]/);
  });

  it('parses runs sized to a fixed saving, which need no infobatch run', () => {
    const specs = parsePolicySpecs('full,random@saving=0.3,full@saving=0.45');
    expect(specs[1]).toEqual({ label: 'random@saving=0.3', config: { name: 'dynamic-random' }, matched: 'saving', saving: 0.3 });
    expect(specs[2]).toEqual({ label: 'full@saving=0.45', config: { name: 'full' }, matched: 'epochs', saving: 0.45 });
  });

  it('sizes runs to a saving as the bench recipe says', () => {
    expect(sizeForSaving('epochs', 15, 0.3)).toEqual({ policy: { name: 'full' }, epochs: 11 }); // round(10.5) = 11
    expect(sizeForSaving('epochs', 30, 0.4)).toEqual({ policy: { name: 'full' }, epochs: 18 });
    const random = sizeForSaving('saving', 15, 0.3);
    expect(random.epochs).toBe(15);
    expect(random.policy).toEqual({ name: 'dynamic-random', pruneRatio: (0.3 * 15) / 13, delta: 0.875 });
    expect(() => sizeForSaving('saving', 15, 0.9)).toThrow(/prune ratio would be 1.03.*use a saving below 0.866/);
    expect(() => sizeForSaving('epochs', 15, 1)).toThrow(/'saving' passed to sizeForSaving\(\) must be in \(0, 1\) but got 1/);
  });

  it.each([
    ['random@saving=', /needs a saving in \(0, 1\)/],
    ['full@saving=1.5', /full@saving=1.5 in '--policies' needs a saving in \(0, 1\), e.g. full@saving=0.3; got "1.5"/],
    ['', /at least one policy/],
    ['full,full', /names full twice/],
    ['fulll', /Unknown policy "fulll"/],
    ['infobatch:r', /must look like name=value/],
    ['full,random@matched', /no plain 'infobatch' run/],
    ['full,infobatch:r=2', /infobatch:r=2.*'pruneRatio'.*but got 2/],
    ['ucb:pruneRatio=-1', /ucb:pruneRatio=-1.*pruneRatio/],
    ['infobatch:colour=red', /infobatch:colour=red.*colour/],
    ['infobatch:score=mean', /score in "infobatch:score=mean" \('--policies'\) must be one of loss, normalised but got "mean"/],
  ])('rejects %j', (text, message) => {
    expect(() => parsePolicySpecs(text)).toThrow(InfoBatchError);
    expect(() => parsePolicySpecs(text)).toThrow(message);
  });
});
