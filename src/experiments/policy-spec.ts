import { InfoBatchError } from '../core/errors.js';
import type { PolicyConfig } from '../core/policy.js';
import { createPolicy } from '../policies/registry.js';

/**
 * One entry of `--policies`: `name[:option=value]...`, a preset name, or a run matched to the
 * InfoBatch runs' measured saving (`random@matched`, `full@matched`).
 */
export interface PolicySpec {
  /** Label shown in reports (the spec as written). */
  readonly label: string;
  /** Policy config for `createPolicy`, or a matched run resolved after the InfoBatch runs. */
  readonly config: PolicyConfig;
  /** `'saving'`: dynamic random at InfoBatch's saving; `'epochs'`: full data at matched budget. */
  readonly matched?: 'saving' | 'epochs';
}

const PRESETS: Record<string, PolicyConfig> = {
  full: { name: 'full' },
  infobatch: { name: 'infobatch' },
  'infobatch-no-rescale': { name: 'infobatch', rescale: false },
  'infobatch-no-anneal': { name: 'infobatch', delta: 1 },
  'infobatch-median': { name: 'infobatch', threshold: { quantile: 0.5 } },
  random: { name: 'dynamic-random' },
  'static-random': { name: 'static-random' },
  ucb: { name: 'ucb' },
  'epsilon-greedy': { name: 'epsilon-greedy' },
  seta: { name: 'seta' },
};

const SHORT_OPTIONS: Record<string, string> = { r: 'pruneRatio', target: 'targetSaving', eps: 'epsilon' };

/**
 * Parses a comma-separated `--policies` value, and checks every policy's options by building it,
 * so a bad entry fails before anything trains.
 * @param text - e.g. `full,infobatch,infobatch:r=0.3,random@matched,ucb`.
 *
 * @example
 * ```ts
 * parsePolicySpecs('full,infobatch:r=0.7'); // [{ label: 'full', ... }, { label: 'infobatch:r=0.7', config: { name: 'infobatch', pruneRatio: 0.7 } }]
 * ```
 */
export function parsePolicySpecs(text: string): PolicySpec[] {
  const labels = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (labels.length === 0) throw new InfoBatchError('INVALID_OPTION', `'--policies' must name at least one policy, e.g. full,infobatch; got ${JSON.stringify(text)}.`);
  const specs = labels.map(parseOne);
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.label)) throw new InfoBatchError('INVALID_OPTION', `'--policies' names ${spec.label} twice.`);
    seen.add(spec.label);
  }
  if (specs.some((s) => s.matched) && !specs.some((s) => s.config.name === 'infobatch' && !s.matched && s.label === 'infobatch')) {
    throw new InfoBatchError('INVALID_OPTION', `'--policies' has a @matched run but no plain 'infobatch' run to match: add infobatch.`);
  }
  return specs;
}

function parseOne(label: string): PolicySpec {
  if (label === 'random@matched') return { label, config: { name: 'dynamic-random' }, matched: 'saving' };
  if (label === 'full@matched') return { label, config: { name: 'full' }, matched: 'epochs' };
  const [base = '', ...pairs] = label.split(':');
  const preset = Object.hasOwn(PRESETS, base) ? PRESETS[base] : undefined;
  if (preset === undefined) {
    throw new InfoBatchError('INVALID_OPTION', `Unknown policy ${JSON.stringify(base)} in '--policies'; expected one of: ${[...Object.keys(PRESETS), 'random@matched', 'full@matched'].join(', ')}.`);
  }
  const config: Record<string, unknown> = { ...preset };
  for (const pair of pairs) {
    const match = /^([A-Za-z]+)=(.+)$/.exec(pair);
    if (match === null) throw new InfoBatchError('INVALID_OPTION', `Policy option ${JSON.stringify(pair)} in '--policies' must look like name=value (e.g. infobatch:r=0.3).`);
    const key = SHORT_OPTIONS[match[1]!] ?? match[1]!;
    config[key] = parseValue(match[2]!);
  }
  // Build the policy once now, so a bad option fails before any run trains.
  try {
    createPolicy(config as PolicyConfig);
  } catch (cause) {
    throw new InfoBatchError('INVALID_OPTION', `Policy ${JSON.stringify(label)} in '--policies' is invalid: ${(cause as Error).message}`, { cause });
  }
  return { label, config: config as PolicyConfig };
}

function parseValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const number = Number(text);
  return Number.isNaN(number) ? text : number;
}
