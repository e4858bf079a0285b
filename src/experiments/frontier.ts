/**
 * The saving–accuracy frontier: final metric against saved fraction for InfoBatch at several
 * savings, dynamic random pruning and fewer epochs at the same savings, each as a paired difference
 * to full data with a t-based 95% interval; plus plain sentences read off the intervals. Pure
 * module (no node:*).
 */
import { pairedDelta, verdictOf, type PairedDelta, type Verdict } from './paired-stats.js';
import {
  formatInterval,
  formatNumber,
  formatPairedSaving,
  formatPercent,
  formatSigned,
  reportScale,
  valuesBySeed,
  type BenchResults,
  type MetricFormat,
  type PolicySummary,
  type ResultsSummary,
  type RunResult,
} from './results.js';

/** The three lines of the frontier. */
export type FrontierMethod = 'infobatch' | 'random' | 'fewer-epochs';

/** How each method is named in reports. */
export const FRONTIER_METHOD_NAMES: Readonly<Record<FrontierMethod, string>> = Object.freeze({
  infobatch: 'InfoBatch',
  random: 'random pruning',
  'fewer-epochs': 'fewer epochs',
});

/** One policy label on the frontier. */
export interface FrontierPoint {
  method: FrontierMethod;
  label: string;
  /** Mean saved fraction of sample passes, in [0, 1]. */
  savedPasses: number;
  savedWallClock: number | null;
  savedCpu: number | null;
  /** The label's seeds, and how many of them the paired wall-clock and CPU savings rest on. */
  seeds: number;
  savedWallClockSeeds: number;
  savedCpuSeeds: number;
  /** Paired difference to the baseline (report units). */
  delta: PairedDelta | null;
  verdict: Verdict | null;
}

/** InfoBatch against one rival at (about) the same saving, seed by seed. */
export interface FrontierComparison {
  infobatch: string;
  rival: string;
  rivalMethod: Exclude<FrontierMethod, 'infobatch'>;
  /** InfoBatch − rival, per seed both ran. */
  delta: PairedDelta | null;
  /** 'beats' / 'loses to' when the 95% interval excludes 0, 'ties with' when it covers it; null without an interval. */
  outcome: 'beats' | 'loses to' | 'ties with' | null;
}

export interface Frontier {
  /** Points sorted by method, then saved passes. */
  points: FrontierPoint[];
  comparisons: FrontierComparison[];
  /** Plain sentences stating what the intervals say. */
  sentences: string[];
}

/** Largest |saved passes difference| at which two runs count as "the same saving". */
export const SAME_SAVING = 0.05;

/**
 * The frontier method of a policy label, from its first run's policy config: InfoBatch with the
 * paper's defaults apart from the prune ratio or target saving, dynamic random with InfoBatch's
 * annealing, or full data that saved passes (fewer epochs); undefined for anything else (ablations
 * and other rivals stay out of the frontier).
 */
export function frontierMethod(policy: RunResult['policy'], p: PolicySummary): FrontierMethod | undefined {
  const delta = policy['delta'];
  const annealed = delta === undefined || delta === 0.875;
  if (policy.name === 'infobatch' && annealed && policy['rescale'] !== false && (policy['threshold'] === undefined || policy['threshold'] === 'mean')) return 'infobatch';
  if (policy.name === 'dynamic-random' && annealed && policy['rescale'] !== false) return 'random';
  if (policy.name === 'full' && !p.isBaseline && (p.savedSamplePasses.mean ?? 0) > 0) return 'fewer-epochs';
  return undefined;
}

/**
 * The frontier of a results object, or null when it has no baseline or fewer than two points
 * (nothing to draw a line through).
 */
export function frontierOf(results: BenchResults, summary: ResultsSummary, format: MetricFormat): Frontier | null {
  if (summary.baselineLabel === null) return null;
  const points: FrontierPoint[] = [];
  for (const p of summary.policies) {
    const first = results.runs.find((r) => r.label === p.label);
    const method = first === undefined ? undefined : frontierMethod(first.policy, p);
    if (method === undefined || p.savedSamplePasses.mean === null) continue;
    points.push({ method, label: p.label, savedPasses: p.savedSamplePasses.mean, savedWallClock: p.savedWallClock, savedCpu: p.savedCpu, seeds: p.seeds, savedWallClockSeeds: p.savedWallClockSeeds, savedCpuSeeds: p.savedCpuSeeds, delta: p.pairedDelta, verdict: p.verdict });
  }
  if (points.length < 2 || !points.some((p) => p.method === 'infobatch')) return null;
  const order: FrontierMethod[] = ['infobatch', 'random', 'fewer-epochs'];
  points.sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method) || a.savedPasses - b.savedPasses);

  const scale = reportScale(results);
  const scaleBy = (x: unknown): unknown => (typeof x === 'number' ? x * scale : x);
  const values = (label: string) => valuesBySeed(results.runs.filter((r) => r.label === label), scaleBy);
  const comparisons: FrontierComparison[] = [];
  for (const ib of points.filter((p) => p.method === 'infobatch')) {
    for (const rivalMethod of ['fewer-epochs', 'random'] as const) {
      const rival = nearest(points.filter((p) => p.method === rivalMethod), ib.savedPasses);
      if (rival === undefined) continue;
      const delta = pairedDelta(values(ib.label), values(rival.label));
      comparisons.push({ infobatch: ib.label, rival: rival.label, rivalMethod, delta, outcome: outcomeOf(delta, format.higherIsBetter) });
    }
  }
  return { points, comparisons, sentences: frontierSentences(points, comparisons, summary, format) };
}

function nearest(candidates: FrontierPoint[], saving: number): FrontierPoint | undefined {
  let best: FrontierPoint | undefined;
  for (const c of candidates) {
    const gap = Math.abs(c.savedPasses - saving);
    if (gap <= SAME_SAVING && (best === undefined || gap < Math.abs(best.savedPasses - saving))) best = c;
  }
  return best;
}

function outcomeOf(delta: PairedDelta | null, higherIsBetter: boolean): FrontierComparison['outcome'] {
  if (delta === null || delta.ciLow === null || delta.ciHigh === null) return null;
  if (delta.ciLow <= 0 && delta.ciHigh >= 0) return 'ties with';
  return (delta.ciLow > 0) === higherIsBetter ? 'beats' : 'loses to';
}

/** "−0.12 points, 95% CI [−0.30, +0.06]" (the unit is left out for metrics that are not percent). */
function deltaText(delta: PairedDelta | null, format: MetricFormat): string {
  if (delta === null) return 'no paired seeds';
  const unit = format.percent ? ' points' : '';
  return `${formatSigned(delta.mean, format.digits)}${unit}, 95% CI ${formatInterval(delta, format.digits)}, ${delta.n} seed${delta.n === 1 ? '' : 's'}`;
}

/**
 * The frontier's sentences: the largest saving at which InfoBatch is lossless (by the report's
 * rule), and at each InfoBatch saving whether it beats fewer epochs and random pruning there.
 */
export function frontierSentences(points: FrontierPoint[], comparisons: FrontierComparison[], summary: ResultsSummary, format: MetricFormat): string[] {
  const tolerance = summary.losslessTolerance;
  const rule = `|mean Δ| ≤ ${tolerance === null ? 'n/a' : `${formatNumber(tolerance, format.percent ? 1 : format.digits + 1)}${format.percent ? ' points' : ''}`} and the 95% CI covering 0`;
  const infobatch = points.filter((p) => p.method === 'infobatch');
  const lossless = infobatch.filter((p) => p.verdict === 'lossless');
  const out: string[] = [];
  const at = (p: FrontierPoint) => `${formatPercent(p.savedPasses)} saved sample passes (${p.label}${p.savedWallClock === null ? '' : `, ${formatPairedSaving(p.savedWallClock, p.savedWallClockSeeds, p.seeds)} saved wall-clock`})`;
  if (lossless.length > 0) {
    const best = lossless[lossless.length - 1]!;
    const beyond = infobatch.filter((p) => p.savedPasses > best.savedPasses);
    const gaps = infobatch.filter((p) => p.savedPasses < best.savedPasses && p.verdict !== 'lossless');
    const list = (points: FrontierPoint[]) => points.map((p) => `${p.verdict ?? 'n/a'} at ${formatPercent(p.savedPasses)} (${deltaText(p.delta, format)})`).join('; ');
    out.push(
      `InfoBatch is lossless (${rule}) at savings up to ${at(best)}: ${deltaText(best.delta, format)}.` +
        (gaps.length > 0 ? ` Not at every smaller saving, though: ${list(gaps)}.` : '') +
        (beyond.length > 0 ? ` Beyond it: ${list(beyond)}.` : ' No larger saving was run.'),
    );
  } else {
    out.push(`InfoBatch is lossless (${rule}) at none of the savings run: ${infobatch.map((p) => `${p.verdict ?? 'n/a'} at ${formatPercent(p.savedPasses)} (${deltaText(p.delta, format)})`).join('; ')}.`);
  }
  const window = `${formatNumber(SAME_SAVING * 100, 0)} points`;
  for (const ib of infobatch) {
    const compared: string[] = [];
    const missing: string[] = [];
    for (const method of ['fewer-epochs', 'random'] as const) {
      const c = comparisons.find((x) => x.infobatch === ib.label && x.rivalMethod === method);
      const name = FRONTIER_METHOD_NAMES[method];
      if (c === undefined) {
        missing.push(name);
        continue;
      }
      const rival = points.find((p) => p.label === c.rival)!;
      const verb = c.outcome === null ? 'cannot be told apart, with fewer than 2 paired seeds, from' : c.outcome === 'ties with' ? 'is not distinguishable from' : c.outcome;
      compared.push(`${verb} ${name} (${c.rival} at ${formatPercent(rival.savedPasses)}: InfoBatch − ${name} = ${deltaText(c.delta, format)})`);
    }
    const where = `At ${formatPercent(ib.savedPasses)} saved (${ib.label})`;
    const none = `no ${missing.join(' or ')} run within ${window} of saving`;
    if (compared.length === 0) out.push(`${where}: ${none} to compare with.`);
    else out.push(`${where}, InfoBatch ${compared.join(', and ')}.${missing.length > 0 ? ` There is ${none}.` : ''}`);
  }
  return out;
}
