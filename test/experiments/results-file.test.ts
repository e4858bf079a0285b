import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { parseResults, readResultsFile } from '../../src/experiments/results-file.js';
import { syntheticResults } from './fixtures/synthetic-results.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infobatch-results-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function refused(text: string, message: RegExp): Promise<void> {
  const path = join(dir, 'results.json');
  await writeFile(path, text);
  const error = await readResultsFile(path).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InfoBatchError);
  expect(error).toMatchObject({ code: 'INVALID_DATA' });
  expect((error as Error).message).toContain(path);
  expect((error as Error).message).toMatch(message);
}

describe('readResultsFile', () => {
  it('reads what the harness writes, NaN read back as null included', async () => {
    const results = syntheticResults();
    results.runs[0]!.final.testAccuracy = Number.NaN;
    const path = join(dir, 'ok.json');
    await writeFile(path, JSON.stringify(results));
    expect(await readResultsFile(path)).toEqual(JSON.parse(JSON.stringify(results)));
  });

  it('names the file of a truncated results file', async () => {
    const text = JSON.stringify(syntheticResults());
    await refused(text.slice(0, text.length / 2), /not valid JSON/);
  });

  it('refuses a file holding null, or a run without final, naming what is wrong', async () => {
    await refused('null', /must hold a results object .* but holds null/);
    const results = syntheticResults() as unknown as { runs: Record<string, unknown>[] };
    delete results.runs[2]!['final'];
    await refused(JSON.stringify(results), /runs\[2\]\.final/);
    await refused(JSON.stringify({ ...syntheticResults(), runs: null }), /'runs'/);
    await refused(JSON.stringify({ ...syntheticResults(), runs: [null] }), /runs\[0\]/);
    const badSeed = syntheticResults();
    (badSeed.runs[1] as unknown as Record<string, unknown>)['seed'] = 'one';
    await refused(JSON.stringify(badSeed), /runs\[1\]\.seed/);
    const badFinal = syntheticResults();
    (badFinal.runs[0]!.final as unknown as Record<string, unknown>)['savedFraction'] = 'half';
    await refused(JSON.stringify(badFinal), /runs\[0\]\.final\.savedFraction/);
    const badMachine = syntheticResults();
    (badMachine.runs[0] as unknown as Record<string, unknown>)['machine'] = { cpuModel: 7 };
    await refused(JSON.stringify(badMachine), /runs\[0\]\.machine/);
  });

  it('says when the file does not exist', async () => {
    const error = await readResultsFile(join(dir, 'missing.json')).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InfoBatchError', code: 'INVALID_OPTION', message: expect.stringMatching(/missing\.json.*does not exist/) });
  });

  it('parseResults names its source', () => {
    expect(() => parseResults('{', 'a/results.json')).toThrow(/a\/results\.json is not valid JSON/);
  });
});
