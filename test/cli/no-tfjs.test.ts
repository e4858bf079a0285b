/**
 * The CLI without TensorFlow.js: `--help`, `--version` and `report` must work (exit 0) with every
 * `@tensorflow/*` import failing (a loader hook blocks them, as if the peer dependencies were not
 * installed); the commands that train say what to install (checked on a real install without
 * tfjs in test/package/packed.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticResults } from '../experiments/fixtures/synthetic-results.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BLOCK = join(import.meta.dirname, 'fixtures', 'block-tfjs.mjs');

function cliWithoutTfjs(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--import', BLOCK, join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infobatch-no-tfjs-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('the CLI with every @tensorflow/* import failing', () => {
  it('the hook does block tfjs', async () => {
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', BLOCK, '--input-type=module', '-e', "await import('@tensorflow/tfjs-core')"], { cwd: ROOT }, (error, _stdout, stderr) => resolve({ code: error === null ? 0 : 1, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('blocked by the test');
  });

  it('--help lists the commands and says what the training commands need; exit 0', async () => {
    const result = await cliWithoutTfjs(['--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const command of ['demo', 'bench', 'report']) expect(result.stdout).toContain(command);
    expect(result.stdout).toMatch(/The commands that train \(demo, bench\) need TensorFlow\.js/);
    const bench = await cliWithoutTfjs(['bench', '--help']);
    expect(bench.code).toBe(0);
    expect(bench.stdout).toContain('--policies');
  });

  it('--version prints the version; exit 0', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await cliWithoutTfjs(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('report renders a results file', async () => {
    const file = join(dir, 'results.json');
    await writeFile(file, JSON.stringify(syntheticResults()));
    const result = await cliWithoutTfjs(['report', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await readFile(join(dir, 'report.md'), 'utf8')).toContain('#');
  });
});
