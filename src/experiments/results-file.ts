/**
 * Reading results.json files back (bench resume, `infobatch report`): every file is checked for
 * the shape the reports rely on, and every problem is an {@link InfoBatchError} naming the file.
 */
import { readFile } from 'node:fs/promises';
import { canonicalJson } from '../core/canonical-json.js';
import { crc32 } from '../core/crc32.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { BenchResults } from './results.js';

const FINAL_FIELDS = ['testAccuracy', 'testLoss', 'samplesForwarded', 'samplesBackpropagated', 'fullDataSamples', 'savedFraction', 'trainSeconds', 'pruneSeconds'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** CRC-32 of a results object (without its `integrity` field), over its canonical JSON as read back. */
function resultsCrc(results: unknown): number {
  return crc32(new TextEncoder().encode(canonicalJson(JSON.parse(JSON.stringify(results)))));
}

/**
 * The text of a results.json file: the results, with an `integrity` field holding the CRC-32 of
 * everything else, so that a file edited (or damaged) since is refused when read back.
 * @param results - what a bench or a merge produced.
 *
 * @example
 * ```ts
 * await writeAtomically('out/results.json', serializeResults(results));
 * ```
 */
export function serializeResults(results: BenchResults): string {
  const { integrity: _ignored, ...rest } = results as BenchResults & { integrity?: unknown };
  return JSON.stringify({ ...rest, integrity: { crc32: resultsCrc(rest) } }, null, 1);
}

/**
 * Parses and checks the text of a results.json file.
 * @param text - the file's contents.
 * @param source - how messages name the file (its path).
 * @throws InfoBatchError 'INVALID_DATA' naming the file and the field when the text is not a results object.
 *
 * @example
 * ```ts
 * const results = parseResults(await readFile('out/results.json', 'utf8'), 'out/results.json');
 * ```
 */
export function parseResults(text: string, source: string): BenchResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new InfoBatchError('INVALID_DATA', `${source} is not valid JSON (${(cause as Error).message}); it may be truncated. Re-run the bench into a new --out folder, or restore the file.`, { cause });
  }
  const bad = (field: string, what: string, got: unknown): InfoBatchError =>
    new InfoBatchError('INVALID_DATA', `${source} is not a results file of infobatch: '${field}' must be ${what} but is ${describeValue(got)}.`);
  if (!isObject(parsed)) throw new InfoBatchError('INVALID_DATA', `${source} must hold a results object (as written by infobatch bench) but holds ${describeValue(parsed)}.`);
  let value: Record<string, unknown> = parsed;
  if (value['schemaVersion'] !== 1) throw bad('schemaVersion', '1', value['schemaVersion']);
  // Files written since results carry a CRC-32 (serializeResults); older ones have none.
  if ('integrity' in value) {
    const { integrity, ...rest } = value;
    const stored = isObject(integrity) ? integrity['crc32'] : undefined;
    const actual = resultsCrc(rest);
    if (stored !== actual) {
      throw new InfoBatchError('INVALID_DATA', `${source} has been modified or damaged since infobatch wrote it: its integrity CRC-32 is ${describeValue(stored)} but its contents give ${actual}. Restore the file (or re-run the bench into a new --out folder); results edited by hand are not reported.`);
    }
    value = rest;
  }
  for (const key of ['name', 'command', 'createdAt']) {
    if (typeof value[key] !== 'string') throw bad(key, 'a string', value[key]);
  }
  if (!isObject(value['environment'])) throw bad('environment', 'an object', value['environment']);
  const config = value['config'];
  if (!isObject(config)) throw bad('config', 'an object', config);
  if (!Array.isArray(config['seeds'])) throw bad('config.seeds', 'an array', config['seeds']);
  const runs = value['runs'];
  if (!Array.isArray(runs)) throw bad('runs', 'an array', runs);
  runs.forEach((run: unknown, r) => {
    const at = `runs[${r}]`;
    if (!isObject(run)) throw bad(at, 'a run object', run);
    if (typeof run['label'] !== 'string') throw bad(`${at}.label`, 'a string', run['label']);
    if (typeof run['seed'] !== 'number' || !Number.isInteger(run['seed'])) throw bad(`${at}.seed`, 'an integer', run['seed']);
    const policy = run['policy'];
    if (!isObject(policy) || typeof policy['name'] !== 'string') throw bad(`${at}.policy`, 'an object with a name', policy);
    const epochs = run['epochs'];
    if (!Array.isArray(epochs)) throw bad(`${at}.epochs`, 'an array', epochs);
    epochs.forEach((record: unknown, e) => {
      if (!isObject(record) || typeof record['epoch'] !== 'number') throw bad(`${at}.epochs[${e}]`, 'an epoch record with a numeric epoch', record);
    });
    const machine = run['machine'];
    if (machine !== undefined && (!isObject(machine) || typeof machine['cpuModel'] !== 'string')) throw bad(`${at}.machine`, 'absent or an object with a cpuModel string', machine);
    const final = run['final'];
    if (!isObject(final)) throw bad(`${at}.final`, 'an object', final);
    for (const key of FINAL_FIELDS) {
      // NaN is written to JSON as null: accepted, and left out of the reports' means.
      if (typeof final[key] !== 'number' && final[key] !== null) throw bad(`${at}.final.${key}`, 'a number (or null)', final[key]);
    }
    // What no run can produce.
    for (const key of ['samplesForwarded', 'samplesBackpropagated', 'fullDataSamples'] as const) {
      const count = final[key];
      if (count !== null && !(Number.isInteger(count) && (count as number) >= 0)) throw bad(`${at}.final.${key}`, 'a whole number >= 0', count);
    }
    const saved = final['savedFraction'];
    if (saved !== null && !(Number.isFinite(saved) && (saved as number) <= 1)) throw bad(`${at}.final.savedFraction`, 'a finite fraction <= 1 (no run skips more than every sample)', saved);
    for (const key of ['trainSeconds', 'pruneSeconds'] as const) {
      if (final[key] !== null && !((final[key] as number) >= 0)) throw bad(`${at}.final.${key}`, 'a number of seconds >= 0', final[key]);
    }
  });
  const seen = new Set<string>();
  (runs as Record<string, unknown>[]).forEach((run, r) => {
    const key = `${String(run['label'])}\u0000${String(run['seed'])}`;
    if (seen.has(key)) throw bad(`runs[${r}]`, `the only run of policy ${JSON.stringify(run['label'])} with seed ${String(run['seed'])}`, 'a second one');
    seen.add(key);
  });
  return value as unknown as BenchResults;
}

/**
 * Reads and checks a results.json file ({@link parseResults}).
 * @param path - the file.
 * @throws InfoBatchError 'INVALID_OPTION' when it does not exist, 'INVALID_DATA' when it is not a results file.
 *
 * @example
 * ```ts
 * const results = await readResultsFile('out/results.json');
 * ```
 */
export async function readResultsFile(path: string): Promise<BenchResults> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder, not a results.json file' : `cannot be read (${(cause as Error).message})`;
    throw new InfoBatchError('INVALID_OPTION', `Results file ${path} ${reason}.`, { cause });
  }
  return parseResults(text, path);
}
