/**
 * Parser for the Stanford Alpaca / self-instruct `seed_tasks.jsonl` file. Pure: takes text.
 *
 * Each line is a JSON object `{ id, name, instruction, instances: [{ input, output }], is_classification }`.
 * Every instance becomes one {@link AlpacaExample} (the real file has exactly one per task).
 */
import { InfoBatchError } from '../core/errors.js';

/** One instruction-following example. */
export interface AlpacaExample {
  /** Task id, e.g. `'seed_task_0'`. */
  readonly id: string;
  /** Short task name, e.g. `'breakfast_suggestion'`. */
  readonly name: string;
  /** The instruction text. */
  readonly instruction: string;
  /** The optional input (empty string when the task has none). */
  readonly input: string;
  /** The reference output. */
  readonly output: string;
  /** The file's `is_classification` flag. */
  readonly isClassification: boolean;
}

/** Options of {@link parseAlpacaSeedTasks}. */
export interface ParseAlpacaOptions {
  /** File name used in error messages (default `'seed_tasks.jsonl'`). */
  readonly source?: string;
}

/**
 * Parses `seed_tasks.jsonl` into one `{ instruction, input, output, ... }` record per task instance.
 *
 * @param jsonl - The file text, one JSON object per line (blank lines are skipped).
 * @param options - `source` names the file in errors.
 * @example
 * ```ts
 * const tasks = parseAlpacaSeedTasks(text); // 175 examples for the real file
 * ```
 */
export function parseAlpacaSeedTasks(jsonl: string, options: ParseAlpacaOptions = {}): AlpacaExample[] {
  const source = options.source ?? 'seed_tasks.jsonl';
  const out: AlpacaExample[] = [];
  const lines = jsonl.split('\n');
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const where = `${source} line ${i + 1} (character offset ${offset})`;
    offset += lines[i]!.length + 1;
    if (line === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new InfoBatchError(
        'INVALID_DATA',
        `${where}: expected one JSON object per line, found text that does not parse (${(e as Error).message}). Check that the file is JSON Lines.`,
        { cause: e },
      );
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new InfoBatchError('INVALID_DATA', `${where}: expected a JSON object, found ${Array.isArray(record) ? 'an array' : typeof record}.`);
    }
    const r = record as Record<string, unknown>;
    const field = (key: string, value: unknown, type: string): never => {
      throw new InfoBatchError(
        'INVALID_DATA',
        `${where}: expected field "${key}" to be ${type}, found ${value === undefined ? 'no such field' : JSON.stringify(value)?.slice(0, 60)}. ` +
          `Each line needs id, name, instruction, instances [{ input, output }] and is_classification.`,
      );
    };
    const str = (obj: Record<string, unknown>, key: string, prefix = ''): string => {
      const v = obj[key];
      return typeof v === 'string' ? v : field(prefix + key, v, 'a string');
    };
    const id = str(r, 'id');
    const name = str(r, 'name');
    const instruction = str(r, 'instruction');
    const isClassification = r['is_classification'];
    if (typeof isClassification !== 'boolean') field('is_classification', isClassification, 'a boolean');
    const instances = r['instances'];
    if (!Array.isArray(instances) || instances.length === 0) field('instances', instances, 'a non-empty array');
    (instances as unknown[]).forEach((inst, k) => {
      if (typeof inst !== 'object' || inst === null) field(`instances[${k}]`, inst, 'an object');
      const o = inst as Record<string, unknown>;
      out.push({
        id,
        name,
        instruction,
        input: str(o, 'input', `instances[${k}].`),
        output: str(o, 'output', `instances[${k}].`),
        isClassification: isClassification as boolean,
      });
    });
  }
  return out;
}
