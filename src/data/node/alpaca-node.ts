/** Node-only loader of the Stanford Alpaca seed tasks. */
import { join } from 'node:path';
import { parseAlpacaSeedTasks, type AlpacaExample } from '../alpaca.js';
import { loadText } from './files.js';

/**
 * Reads `seed_tasks.jsonl` from `dir` and parses it into instruction / input / output records.
 *
 * @param dir - Directory holding `seed_tasks.jsonl`.
 * @example
 * ```ts
 * const tasks = await loadAlpacaSeedTasks('../shared/data/stanford-alpaca-seed-tasks'); // 175 records
 * ```
 */
export async function loadAlpacaSeedTasks(dir: string): Promise<AlpacaExample[]> {
  const path = join(dir, 'seed_tasks.jsonl');
  return parseAlpacaSeedTasks(await loadText(path), { source: path });
}
