import { canonicalJson } from '../core/canonical-json.js';
import { InfoBatchError } from '../core/errors.js';
import type { BenchResults } from './results.js';

/**
 * Merges benches run with the same recipe (for example in parallel processes) into one results
 * object; the commands are kept, one per line, so the merged report still says how each part was made.
 * @param parts - results with identical `config`; no (label, seed) pair may appear twice.
 */
export function mergeResults(parts: readonly BenchResults[], name?: string): BenchResults {
  const [first] = parts;
  if (first === undefined) throw new InfoBatchError('INVALID_OPTION', 'mergeResults needs at least one results object.');
  for (const part of parts) {
    if (canonicalJson(part.config) !== canonicalJson(first.config)) {
      throw new InfoBatchError('INVALID_DATA', `Cannot merge '${part.name}' into '${first.name}': their recipes differ (${canonicalJson(part.config)} vs ${canonicalJson(first.config)}).`);
    }
  }
  const runs = parts.flatMap((p) => p.runs);
  const seen = new Set<string>();
  for (const run of runs) {
    const key = `${run.label}\u0000${run.seed}`;
    if (seen.has(key)) throw new InfoBatchError('INVALID_DATA', `Cannot merge: run '${run.label}' with seed ${run.seed} appears twice.`);
    seen.add(key);
  }
  return {
    ...first,
    name: name ?? first.name,
    command: parts.map((p) => p.command).join('\n'),
    createdAt: parts.map((p) => p.createdAt).sort().at(-1)!,
    runs,
  };
}
