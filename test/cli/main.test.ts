import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeResults } from '../../src/experiments/results-file.js';
import { syntheticResults } from '../experiments/fixtures/synthetic-results.js';
import { FAST_WASM_KERNELS_NAME } from '../../src/tfjs/wasm-kernels.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Runs the CLI from source; resolves with its exit code and output (never rejects). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

function expectUsage(result: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(result.stdout).not.toMatch(/run .* seed/); // nothing trained
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infobatch-cli-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('infobatch bench: bad arguments fail before anything trains, with exit code 2', () => {
  const bench = (...args: string[]) => cli(['bench', '--out', join(dir, 'bench'), '--dataset', 'synthetic', '--epochs', '1', '--train-limit', '64', ...args]);

  it.each([
    [['--policies', 'full,infobatch:r=2'], /Policy "infobatch:r=2".*'pruneRatio'.*got 2/],
    [['--seeds', '0'], /--seeds.*count must be in \[1, 1000\]/],
    [['--seeds', '3,'], /--seeds.*"" is not a seed/],
    [['--seeds', ''], /--seeds.*"" is not a seed/],
    [['--momentum', ''], /--momentum.*expected a number >= 0, got ""/],
    [['--optimizer', 'rmsprop'], /--optimizer.*expected sgd-momentum or adam, got "rmsprop"/],
    [['--task', 'lm', '--optimizer', 'adam'], /--optimizer applies to classification only; the lm task always trains with Adam/],
  ])('%j', async (args, message) => {
    expectUsage(await bench(...args), message);
    expect(existsSync(join(dir, 'bench'))).toBe(false);
  });

  it('refuses an --out that is a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'keep');
    expectUsage(await cli(['bench', '--out', file, '--dataset', 'synthetic']), /--out.*is a file/);
    expect(await readFile(file, 'utf8')).toBe('keep');
  });
});

describe('infobatch report', () => {
  const whole = syntheticResults();
  const a = { ...whole, command: 'a', runs: whole.runs.slice(0, 4) };
  const b = { ...whole, command: 'b', runs: whole.runs.slice(4) };
  let aPath: string;
  let bPath: string;
  beforeAll(async () => {
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    aPath = join(dir, 'a', 'results.json');
    bPath = join(dir, 'b', 'results.json');
    await writeFile(aPath, JSON.stringify(a));
    await writeFile(bPath, JSON.stringify(b));
  });

  it('never rewrites an input: merging needs --out, and --out may not hold an input', async () => {
    expectUsage(await cli(['report', aPath, bPath]), /merging 2 results files .* pass --out <folder>/);
    expectUsage(await cli(['report', aPath, bPath, '--out', join(dir, 'a')]), /would overwrite the input/);
    expect(JSON.parse(await readFile(aPath, 'utf8'))).toEqual(a);
    expect(await readdir(join(dir, 'a'))).toEqual(['results.json']);
  });

  it('writes the merged results and reports into the --out folder and says so', async () => {
    const out = join(dir, 'merged');
    const result = await cli(['report', aPath, bPath, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${join(out, 'results.json')} (merged)`);
    expect((JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as typeof whole).runs).toHaveLength(whole.runs.length);
    expect((await readdir(out)).sort()).toEqual(['report.html', 'report.md', 'results.json']);
    expect(JSON.parse(await readFile(aPath, 'utf8'))).toEqual(a);
  });

  it('names the file of a truncated or null results file, without a stack trace', async () => {
    const truncated = join(dir, 'truncated.json');
    await writeFile(truncated, JSON.stringify(a).slice(0, 100));
    const bad = await cli(['report', truncated]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${truncated} is not valid JSON`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const nullFile = join(dir, 'null.json');
    await writeFile(nullFile, 'null');
    const none = await cli(['report', nullFile]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/null\.json must hold a results object .* but holds null/);
  });

  it('refuses a results file edited since infobatch wrote it (exit code 1), and writes no report for it', async () => {
    await mkdir(join(dir, 'tampered'));
    const path = join(dir, 'tampered', 'results.json');
    const written = JSON.parse(serializeResults(a)) as typeof a;
    written.runs[0]!.final.testAccuracy = 0.99;
    await writeFile(path, JSON.stringify(written));
    const result = await cli(['report', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path} has been modified or damaged since infobatch wrote it`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(join(dir, 'tampered'))).toEqual(['results.json']);
  });
});

describe('infobatch --fast-kernels', () => {
  it('records the faster wasm kernels in the bench config, and refuses to resume that bench without them', async () => {
    const out = join(dir, 'fast-kernels');
    const args = ['bench', '--out', out, '--dataset', 'synthetic', '--model', 'mlp', '--epochs', '1', '--train-limit', '64', '--test-limit', '64', '--seeds', '2', '--policies', 'full'];
    const first = await cli(['--backend', 'wasm', '--fast-kernels', ...args]);
    expect(first.code).toBe(0);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { command: string; config: Record<string, unknown> };
    expect(results.config['wasmKernels']).toBe(FAST_WASM_KERNELS_NAME);
    expect(results.command).toContain('--fast-kernels');
    const resumedWithout = await cli(['--backend', 'wasm', ...args]);
    expect(resumedWithout.code).not.toBe(0);
    expect(resumedWithout.stderr).toMatch(/holds a bench with another configuration/);
    expect(resumedWithout.stderr).not.toMatch(/\n\s+at /);
  });
});
