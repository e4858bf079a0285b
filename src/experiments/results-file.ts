/**
 * Reading results.json files back (bench resume, `infobatch report`): every file is checked for
 * the shape the reports rely on, and every problem is an {@link InfoBatchError} naming the file.
 */
import { readFile } from 'node:fs/promises';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { BenchResults } from './results.js';

const FINAL_FIELDS = ['testAccuracy', 'testLoss', 'samplesForwarded', 'samplesBackpropagated', 'fullDataSamples', 'savedFraction', 'trainSeconds', 'pruneSeconds'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InfoBatchError('INVALID_DATA', `${source} is not valid JSON (${(cause as Error).message}); it may be truncated. Re-run the bench into a new --out folder, or restore the file.`, { cause });
  }
  const bad = (field: string, what: string, got: unknown): InfoBatchError =>
    new InfoBatchError('INVALID_DATA', `${source} is not a results file of infobatch: '${field}' must be ${what} but is ${describeValue(got)}.`);
  if (!isObject(value)) throw new InfoBatchError('INVALID_DATA', `${source} must hold a results object (as written by infobatch bench) but holds ${describeValue(value)}.`);
  if (value['schemaVersion'] !== 1) throw bad('schemaVersion', '1', value['schemaVersion']);
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
