import { canonicalJson } from '../core/canonical-json.js';
import { InfoBatchError } from '../core/errors.js';
import type { BenchResults } from './results.js';

/** A bench's recipe: its config without the seeds it was asked to run. */
function recipeOf(config: BenchResults['config']): Omit<BenchResults['config'], 'seeds'> {
  const { seeds: _seeds, ...recipe } = config;
  return recipe;
}

/**
 * Merges benches run with the same recipe (for example in parallel processes, one per seed or per
 * group of policies) into one results object; the commands are kept, one per line, so the merged
 * report still says how each part was made.
 * @param parts - results whose `config` is identical except for `seeds`; the merged config lists
 *   the union of their seeds, ascending. No (label, seed) pair may appear twice.
 * @example
 * ```ts
 * // seeds 0-2 in one process, seeds 3 and 4 in another:
 * const all = mergeResults([seeds0to2, seeds3to4], 'five seeds');
 * ```
 */
export function mergeResults(parts: readonly BenchResults[], name?: string): BenchResults {
  const [first] = parts;
  if (first === undefined) throw new InfoBatchError('INVALID_OPTION', 'mergeResults needs at least one results object.');
  for (const part of parts) {
    if (canonicalJson(recipeOf(part.config)) !== canonicalJson(recipeOf(first.config))) {
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
  const seeds = [...new Set(parts.flatMap((p) => p.config.seeds))].sort((a, b) => a - b);
  return {
    ...first,
    config: { ...first.config, seeds },
    name: name ?? first.name,
    command: parts.map((p) => p.command).join('\n'),
    createdAt: parts.map((p) => p.createdAt).sort().at(-1)!,
    runs,
  };
}
