import { InfoBatchError } from '../core/errors.js';
import { annealingStartEpoch } from '../core/annealing.js';
import type { PolicyConfig } from '../core/policy.js';
import { assertRescaleMode, type RescaleMode } from '../core/rescale.js';
import { assertScoreSmoothing } from '../core/score-smoothing.js';
import { createPolicy } from '../policies/registry.js';
import { TASK_SCORINGS, type TaskScoring } from './tasks/task.js';

/**
 * One entry of `--policies`: `name[:option=value]...` (policy options, plus `rescaleMode=auto|loss|step`,
 * `lrScale=X`, `score=loss|normalised` and `scoreEma=A` for how the run trains, see {@link RunVariant}), a preset name, a run matched to the
 * InfoBatch runs' measured saving (`random@matched`, `full@matched`), or a run sized to a fixed
 * saving of sample passes (`random@saving=0.3`, `full@saving=0.3`: the frontier's rivals).
 */
export interface PolicySpec {
  /** Label shown in reports (the spec as written). */
  readonly label: string;
  /** Policy config for `createPolicy`, or a matched run resolved after the InfoBatch runs. */
  readonly config: PolicyConfig;
  /**
   * How the run is sized to a saving: `'saving'`, dynamic random pruning; `'epochs'`, full data for
   * fewer epochs. Without `saving`, the saving is the measured one of the same seed's InfoBatch run.
   */
  readonly matched?: 'saving' | 'epochs';
  /** A fixed saving of sample passes in (0, 1) (`random@saving=0.3`), instead of InfoBatch's measured one. */
  readonly saving?: number;
  /** How the run trains apart from its policy (`:rescaleMode=step`, `:lrScale=1.42`, `:score=normalised`, `:scoreEma=0.2`). */
  readonly variant?: RunVariant;
}

/**
 * Training settings of one run that are not the policy's: where the up-weighting goes, and a
 * factor on the recipe's learning rate (the control "is it just a larger learning rate?").
 */
export interface RunVariant {
  /** The `rescaleMode` of the training function. @defaultValue 'auto' */
  readonly rescaleMode?: RescaleMode;
  /** Multiplies the recipe's learning rate at every epoch. @defaultValue 1 */
  readonly learningRateScale?: number;
  /**
   * What the run records as sample scores ({@link TaskScoring}); `'normalised'` only for task
   * families that draw noise per visit (`--task diffusion`, `--task mae`). @defaultValue 'loss'
   */
  readonly score?: TaskScoring;
  /**
   * Smooths each sample's recorded scores across visits, `score = a·new + (1 − a)·score`
   * (InfoBatch's `scoreSmoothing: { ema: a }`), a in (0, 1]. @defaultValue the last score alone
   */
  readonly scoreEma?: number;
}

/** A policy and a number of epochs that save a given fraction of a recipe's sample passes. */
export interface SizedRun {
  readonly policy: PolicyConfig;
  readonly epochs: number;
}

/**
 * Sizes a run to save `saving` of the sample passes of an `epochs`-epoch recipe, as the bench
 * recipe asks: `'epochs'` trains the full data for `max(1, round(epochs · (1 − saving)))` epochs
 * (the caller runs its cosine schedule over the shorter run); `'saving'` prunes a uniform random
 * `r = saving · epochs / floor(0.875 · epochs)` of the samples in each pruning epoch (dynamic random
 * with InfoBatch's annealing, so the epochs before floor(0.875·E) carry the whole saving).
 *
 * @throws InfoBatchError `OUT_OF_RANGE` when the saving is not in (0, 1) or needs a prune ratio of 1 or more.
 */
export function sizeForSaving(kind: 'saving' | 'epochs', epochs: number, saving: number): SizedRun {
  if (typeof saving !== 'number' || !(saving > 0 && saving < 1)) {
    throw new InfoBatchError('OUT_OF_RANGE', `'saving' passed to sizeForSaving() must be in (0, 1) but got ${String(saving)}.`);
  }
  if (kind === 'epochs') return { policy: { name: 'full' }, epochs: Math.max(1, Math.round(epochs * (1 - saving))) };
  const start = annealingStartEpoch(epochs, 0.875);
  const pruneRatio = start === 0 ? Number.POSITIVE_INFINITY : (saving * epochs) / start;
  if (!(pruneRatio < 1)) {
    throw new InfoBatchError(
      'OUT_OF_RANGE',
      `A saving of ${saving} cannot be reached by dynamic random pruning in ${epochs} epochs: it prunes only in the first floor(0.875 · ${epochs}) = ${start} epochs, so the prune ratio would be ${pruneRatio}; use a saving below ${start / epochs}.`,
    );
  }
  return { policy: { name: 'dynamic-random', pruneRatio, delta: 0.875 }, epochs };
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
  'el2n-loss': { name: 'el2n-loss' },
  'el2n-loss+infobatch': { name: 'coreset-infobatch', coreset: { name: 'el2n-loss', pruneRatio: 0.3 } },
  'static-random+infobatch': { name: 'coreset-infobatch', coreset: { name: 'static-random', pruneRatio: 0.3 } },
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
  if (specs.some((s) => s.matched !== undefined && s.saving === undefined) && !specs.some((s) => s.config.name === 'infobatch' && !s.matched && s.label === 'infobatch')) {
    throw new InfoBatchError('INVALID_OPTION', `'--policies' has a @matched run but no plain 'infobatch' run to match: add infobatch.`);
  }
  return specs;
}

const SIZED = /^(random|full)@(?:matched|saving=(.*))$/;

function parseOne(label: string): PolicySpec {
  const sized = SIZED.exec(label);
  if (sized !== null) {
    const matched = sized[1] === 'random' ? 'saving' : 'epochs';
    const config = { name: matched === 'saving' ? 'dynamic-random' : 'full' };
    if (sized[2] === undefined) return { label, config, matched };
    const saving = Number(sized[2]);
    if (sized[2].trim() === '' || !(saving > 0 && saving < 1)) {
      throw new InfoBatchError('INVALID_OPTION', `${label} in '--policies' needs a saving in (0, 1), e.g. ${sized[1]}@saving=0.3; got ${JSON.stringify(sized[2])}.`);
    }
    return { label, config, matched, saving };
  }
  const [base = '', ...pairs] = label.split(':');
  const preset = Object.hasOwn(PRESETS, base) ? PRESETS[base] : undefined;
  if (preset === undefined) {
    throw new InfoBatchError('INVALID_OPTION', `Unknown policy ${JSON.stringify(base)} in '--policies'; expected one of: ${[...Object.keys(PRESETS), 'random@matched', 'full@matched', 'random@saving=S', 'full@saving=S'].join(', ')}.`);
  }
  const config: Record<string, unknown> = { ...preset };
  const variant: { rescaleMode?: RescaleMode; learningRateScale?: number; score?: TaskScoring; scoreEma?: number } = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z]+)=(.+)$/.exec(pair);
    if (match === null) throw new InfoBatchError('INVALID_OPTION', `Policy option ${JSON.stringify(pair)} in '--policies' must look like name=value (e.g. infobatch:r=0.3).`);
    const key = SHORT_OPTIONS[match[1]!] ?? match[1]!;
    if (key === 'rescaleMode') {
      try {
        assertRescaleMode('--policies', `${label}: rescaleMode`, match[2]);
      } catch (cause) {
        throw new InfoBatchError('INVALID_OPTION', (cause as Error).message, { cause });
      }
      variant.rescaleMode = match[2] as RescaleMode;
    } else if (key === 'lrScale') {
      const scale = Number(match[2]);
      if (!(scale > 0 && Number.isFinite(scale))) throw new InfoBatchError('INVALID_OPTION', `lrScale in ${JSON.stringify(label)} ('--policies') must be a finite number > 0 but got ${JSON.stringify(match[2])}.`);
      variant.learningRateScale = scale;
    } else if (key === 'score') {
      if (!(TASK_SCORINGS as readonly string[]).includes(match[2]!)) {
        throw new InfoBatchError('INVALID_OPTION', `score in ${JSON.stringify(label)} ('--policies') must be one of ${TASK_SCORINGS.join(', ')} but got ${JSON.stringify(match[2])}.`);
      }
      variant.score = match[2] as TaskScoring;
    } else if (key === 'scoreEma') {
      const smoothing = { ema: Number(match[2]) };
      try {
        assertScoreSmoothing('--policies', smoothing);
      } catch (cause) {
        throw new InfoBatchError('INVALID_OPTION', `scoreEma in ${JSON.stringify(label)} ('--policies') must be a number in (0, 1] but got ${JSON.stringify(match[2])}.`, { cause });
      }
      variant.scoreEma = smoothing.ema;
    } else {
      config[key] = parseValue(match[2]!);
    }
  }
  // Build the policy once now, so a bad option fails before any run trains.
  try {
    createPolicy(config as PolicyConfig);
  } catch (cause) {
    throw new InfoBatchError('INVALID_OPTION', `Policy ${JSON.stringify(label)} in '--policies' is invalid: ${(cause as Error).message}`, { cause });
  }
  return { label, config: config as PolicyConfig, ...(Object.keys(variant).length > 0 && { variant }) };
}

function parseValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const number = Number(text);
  return Number.isNaN(number) ? text : number;
}
