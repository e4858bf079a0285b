/**
 * report.md: title, the exact command, environment and config, the per-policy table and one
 * factual reading line per policy. Pure module (no node:*).
 */
import { convergenceCheck, convergenceSentence } from './convergence.js';
import { FRONTIER_METHOD_NAMES, frontierOf } from './frontier.js';
import { SAVED_CPU_NOTE, savedCpuTable } from './saved-cpu-table.js';
import { SCORE_PERSISTENCE_COLUMNS, SCORE_PERSISTENCE_NOTE, scorePersistenceCells, scorePersistenceRows } from './score-persistence-table.js';
import { stalledRuns, stalledRunsSentence } from './stalled-runs.js';
import {
  formatInterval,
  formatNumber,
  formatPairedSaving,
  formatPercent,
  formatSigned,
  metricFormat,
  reportScale,
  readingLine,
  SUMMARY_KEYS,
  summaryNotes,
  summarizeResults,
  summaryColumns,
  summaryRowText,
  type BenchResults,
  type ResultsSummary,
} from './results.js';

/** Backslash-escapes CommonMark punctuation that could start markup, and flattens newlines. */
export function escapeMarkdown(text: string): string {
  return String(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]<>|#&!~]/g, (c) => `\\${c}`);
}

/** A code span whose backtick fence is longer than any backtick run inside `text`. */
export function markdownCodeSpan(text: string): string {
  const flat = String(text).replace(/\r?\n|\r/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat === '' ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block whose fence is longer than any backtick run inside `text`. */
export function markdownCodeBlock(text: string, info = ''): string {
  const longest = Math.max(0, ...(String(text).match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

function configValue(value: unknown): string {
  return markdownCodeSpan(typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));
}

/**
 * A table of plain-text cells as Markdown lines (header, separator, rows): the first column
 * left-aligned, the others right-aligned, every cell escaped.
 */
export function markdownTextTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const lines = [`| ${columns.map(escapeMarkdown).join(' | ')} |`, `|${columns.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map(escapeMarkdown).join(' | ')} |`);
  return lines;
}

/**
 * The summary table as Markdown lines (header, separator, one row per policy); the metric columns
 * are named after `summary.metric` when the results have one.
 */
export function markdownSummaryTable(summary: ResultsSummary): string[] {
  const keys = SUMMARY_KEYS;
  const format = metricFormat(summary);
  const columns = summaryColumns(format).map(escapeMarkdown);
  const lines = [`| ${columns.join(' | ')} |`, `|${columns.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const policy of summary.policies) {
    const row = summaryRowText(policy, format);
    lines.push(`| ${keys.map((k) => escapeMarkdown(row[k])).join(' | ')} |`);
  }
  return lines;
}

/**
 * The per-seed paired differences to the baseline as Markdown lines (a heading, a table with one
 * column per seed, or nothing without a baseline).
 */
export function markdownPerSeedTable(summary: ResultsSummary): string[] {
  if (summary.baselineLabel === null) return [];
  const rows = summary.policies.filter((p) => p.pairedDelta !== null);
  if (rows.length === 0) return [];
  const format = metricFormat(summary);
  const seeds = [...new Set(rows.flatMap((p) => p.pairedDelta!.perSeed.map((d) => d.seed)))].sort((a, b) => a - b);
  const lines = [`### Paired differences to ${escapeMarkdown(summary.baselineLabel)}, per seed`, ''];
  lines.push(`| policy | ${seeds.map((s) => `seed ${s}`).join(' | ')} | mean | 95% CI |`, `| --- |${seeds.map(() => ' ---: |').join('')} ---: | ---: |`);
  for (const p of rows) {
    const bySeed = new Map(p.pairedDelta!.perSeed.map((d) => [d.seed, d.difference]));
    const cells = seeds.map((s) => (bySeed.has(s) ? formatSigned(bySeed.get(s)!, format.digits) : '—'));
    lines.push(`| ${escapeMarkdown(p.label)} | ${cells.join(' | ')} | ${formatSigned(p.pairedDelta!.mean, format.digits)} | ${formatInterval(p.pairedDelta, format.digits)} |`);
  }
  return lines;
}

/**
 * The saved-CPU-per-seed table ({@link savedCpuTable}) as Markdown lines, or nothing when no label
 * has a paired CPU saving.
 */
export function markdownSavedCpuTable(results: BenchResults, summary: ResultsSummary): string[] {
  const table = savedCpuTable(results, summary);
  if (table === null) return [];
  return ['### Saved CPU time, per seed', '', escapeMarkdown(SAVED_CPU_NOTE), '', ...markdownTextTable(table.columns, table.rows)];
}

/**
 * The frontier section (table and sentences) as Markdown lines, or nothing when the results have
 * no frontier (see {@link frontierOf}).
 */
export function markdownFrontier(results: BenchResults, summary: ResultsSummary): string[] {
  const format = metricFormat(summary);
  const frontier = frontierOf(results, summary, format);
  if (frontier === null) return [];
  const unit = format.percent ? ' (points)' : '';
  const lines = ['## Frontier', '', `Final ${escapeMarkdown(format.name)} against saved fraction, as paired differences to ${escapeMarkdown(summary.baselineLabel ?? '')}${unit}, for InfoBatch, random pruning and fewer epochs.`, ''];
  lines.push(`| method | policy | paired seeds | saved sample passes | saved wall-clock | saved CPU | Δ vs full${unit} | 95% CI | verdict |`, '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of frontier.points) {
    const d = p.delta;
    const delta = d === null ? 'n/a' : `${formatSigned(d.mean, format.digits)}${d.std === null ? '' : ` ± ${formatNumber(d.std, format.digits)}`}`;
    lines.push(`| ${FRONTIER_METHOD_NAMES[p.method]} | ${escapeMarkdown(p.label)} | ${d?.n ?? 0} | ${formatPercent(p.savedPasses)} | ${escapeMarkdown(formatPairedSaving(p.savedWallClock, p.savedWallClockSeeds, p.seeds))} | ${escapeMarkdown(formatPairedSaving(p.savedCpu, p.savedCpuSeeds, p.seeds))} | ${delta} | ${escapeMarkdown(formatInterval(d, format.digits))} | ${p.verdict ?? 'n/a'} |`);
  }
  lines.push('', ...frontier.sentences.map((s) => `- ${escapeMarkdown(s)}`));
  return lines;
}

/**
 * The score persistence table ({@link scorePersistenceRows}) as Markdown lines, or nothing when no
 * run recorded one (results written before it was measured).
 */
export function markdownScorePersistence(results: BenchResults, summary: ResultsSummary): string[] {
  const rows = scorePersistenceRows(results, summary.policies.map((p) => p.label));
  if (rows.length === 0) return [];
  return ['### How per-sample scores carry over from one epoch to the next', '', escapeMarkdown(SCORE_PERSISTENCE_NOTE), '', ...markdownTextTable(SCORE_PERSISTENCE_COLUMNS, rows.map(scorePersistenceCells))];
}

/** Renders report.md for a results object. `summary` defaults to `summarizeResults(results)`. */
export function renderMarkdownReport(results: BenchResults, summary: ResultsSummary = summarizeResults(results)): string {
  const out: string[] = [];
  out.push(`# ${escapeMarkdown(results.name)}`, '');
  out.push(`Created ${escapeMarkdown(results.createdAt)}. Command:`, '');
  out.push(markdownCodeBlock(results.command, 'sh'), '');

  out.push('## Environment', '');
  const env = results.environment;
  out.push(`- node: ${configValue(env.node)}`);
  out.push(`- backend: ${configValue(env.backend)}`);
  out.push(`- cpus: ${configValue(env.cpus)}`);
  out.push(`- platform: ${configValue(env.platform)}`);
  const machines = [...new Set(results.runs.map((run) => run.machine?.cpuModel ?? 'not recorded'))];
  if (env.cpuModel !== undefined || results.runs.some((run) => run.machine !== undefined)) {
    const counts = machines.map((model) => `${model} (${results.runs.filter((run) => (run.machine?.cpuModel ?? 'not recorded') === model).length} runs)`);
    out.push(`- CPU of the runs: ${counts.join('; ')}${machines.length > 1 ? ' — timings compare only between runs on the same CPU' : ''}`);
  }
  out.push('');

  out.push('## Config', '');
  for (const [key, value] of Object.entries(results.config)) out.push(`- ${escapeMarkdown(key)}: ${configValue(value)}`);
  out.push('');

  out.push('## Results', '');
  out.push(...markdownSummaryTable(summary), '');
  const format = metricFormat(summary);
  const notes = summaryNotes(summary, format);
  out.push(escapeMarkdown(notes.join(' ')), '');
  const convergence = summary.baselineLabel === null ? null : convergenceCheck(results, summary.baselineLabel, format);
  if (convergence !== null) out.push(escapeMarkdown(convergenceSentence(convergence, format)), '');
  const stalled = stalledRunsSentence(stalledRuns(results), format, reportScale(results));
  if (stalled !== null) out.push(`**${escapeMarkdown(stalled)}**`, '');
  out.push(...markdownPerSeedTable(summary), '');
  const savedCpu = markdownSavedCpuTable(results, summary);
  if (savedCpu.length > 0) out.push(...savedCpu, '');
  const persistence = markdownScorePersistence(results, summary);
  if (persistence.length > 0) out.push(...persistence, '');

  out.push(...markdownFrontier(results, summary), '');
  out.push('## Reading', '');
  for (const policy of summary.policies) out.push(`- ${escapeMarkdown(readingLine(policy, summary.baselineLabel, format))}`);
  out.push('');
  return out.join('\n');
}
