import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { parseResults, readResultsFile, serializeResults } from '../../src/experiments/results-file.js';
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

  it('reads back what serializeResults wrote, and refuses it once edited (its CRC-32 no longer matches)', async () => {
    const results = syntheticResults();
    const text = serializeResults(results);
    expect(JSON.parse(text)).toHaveProperty('integrity.crc32');
    expect(parseResults(text, 'results.json')).toEqual(JSON.parse(JSON.stringify(results)));
    const edited = JSON.parse(text) as { runs: Array<{ final: { testAccuracy: number } }> };
    edited.runs[0]!.final.testAccuracy += 0.01;
    await refused(JSON.stringify(edited), /has been modified or damaged since infobatch wrote it: its integrity CRC-32 is \d+ but its contents give \d+/);
  });

  it('refuses values no run produces, and a run recorded twice', async () => {
    const negative = syntheticResults();
    negative.runs[1]!.final.samplesForwarded = -5;
    await refused(JSON.stringify(negative), /runs\[1\]\.final\.samplesForwarded' must be a whole number >= 0 but is -5/);
    const saved = syntheticResults();
    saved.runs[0]!.final.savedFraction = 1.5;
    await refused(JSON.stringify(saved), /runs\[0\]\.final\.savedFraction' must be a finite fraction <= 1/);
    const twice = syntheticResults();
    twice.runs.push({ ...twice.runs[0]! });
    await refused(JSON.stringify(twice), new RegExp(`runs\\[${twice.runs.length - 1}\\]' must be the only run of policy`));
  });

  it('says when the file does not exist', async () => {
    const error = await readResultsFile(join(dir, 'missing.json')).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InfoBatchError', code: 'INVALID_OPTION', message: expect.stringMatching(/missing\.json.*does not exist/) });
  });

  it('parseResults names its source', () => {
    expect(() => parseResults('{', 'a/results.json')).toThrow(/a\/results\.json is not valid JSON/);
  });
});
