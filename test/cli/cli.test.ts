import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireDataDir } from '../../src/cli/data-dir.js';
import { describeCliError, inCliWords } from '../../src/cli/exit.js';
import { missingPeersMessage } from '../../src/cli/package-info.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { runBench } from '../../src/experiments/bench.js';
import { parsePolicySpecs } from '../../src/experiments/policy-spec.js';

describe('CLI errors', () => {
  it('usage errors exit with 2, other failures with 1, help and version with 0', () => {
    expect(describeCliError(new InfoBatchError('INVALID_OPTION', 'bad flag'))).toEqual({ message: 'infobatch: bad flag [INVALID_OPTION]', exitCode: 2 });
    expect(describeCliError(new InfoBatchError('OUT_OF_RANGE', 'x')).exitCode).toBe(2);
    expect(describeCliError(new InfoBatchError('INVALID_DATA', 'truncated')).exitCode).toBe(1);
    expect(describeCliError(new CommanderError(1, 'commander.unknownOption', 'already printed'))).toEqual({ message: undefined, exitCode: 2 });
    expect(describeCliError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({ message: undefined, exitCode: 0 });
  });

  it('file-system errors and broken JSON are one line without a stack trace', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'missing.json'"), { code: 'ENOENT', syscall: 'open', path: 'missing.json' });
    expect(describeCliError(enoent)).toEqual({ message: 'infobatch: cannot open missing.json: no such file or folder (ENOENT).', exitCode: 1 });
    let syntax: unknown;
    try {
      JSON.parse('{"runs": [');
    } catch (error) {
      syntax = error;
    }
    const described = describeCliError(syntax);
    expect(described.exitCode).toBe(1);
    expect(described.message).not.toMatch(/\n\s+at /);
  });

  it('an unexpected error (a bug) keeps its stack for the report', () => {
    const { message, exitCode } = describeCliError(new TypeError('x is undefined'));
    expect(exitCode).toBe(1);
    expect(message).toMatch(/unexpected error[\s\S]*TypeError: x is undefined\n\s+at /);
  });

  it('library option names become CLI flags', () => {
    expect(inCliWords("Pass the directory that holds the mnist files, or pass { download: true } (optionally with cacheDir) to fetch them")).toBe(
      'Pass --data-dir with the folder that holds the mnist files, or add --download to fetch them',
    );
  });

  it('the missing-peer message ends with one install line', () => {
    const text = missingPeersMessage(['@tensorflow/tfjs@^4.22.0', '@tensorflow/tfjs-backend-wasm@^4.22.0']);
    expect(text).toContain('@tensorflow/tfjs and @tensorflow/tfjs-backend-wasm are not installed');
    expect(text).toContain('\n  npm install "@tensorflow/tfjs@^4.22.0" "@tensorflow/tfjs-backend-wasm@^4.22.0"\n');
  });
});

describe('--data-dir', () => {
  it('is required for datasets and tasks read from files, not for embedded or generated data', () => {
    expect(() => requireDataDir('demo', 'fashion-mnist', undefined)).toThrow(/^demo --dataset fashion-mnist needs --data-dir <dir>/);
    expect(() => requireDataDir('bench', 'mnist', undefined)).toThrow(/add --download/);
    expect(() => requireDataDir('bench', 'fashion-mnist', undefined, 'mae')).toThrow(/^bench --task mae needs --data-dir <dir>: the folder that holds fashion-mnist\//);
    expect(() => requireDataDir('demo', 'fashion-mnist', 'some/dir')).not.toThrow();
    expect(() => requireDataDir('demo', 'fashion-mnist-small', undefined)).not.toThrow();
    expect(() => requireDataDir('demo', 'synthetic', undefined)).not.toThrow();
    expect(() => requireDataDir('bench', 'fashion-mnist', undefined, 'segmentation')).not.toThrow();
  });
});

describe('a bench that fails at the start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'infobatch-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const options = (out: string) => ({
    name: 'x', command: 'test', dataset: 'mnist', dataDir: join(dir, 'no-such-data'), model: 'mlp' as const, epochs: 2, batchSize: 32,
    seeds: [0], policies: parsePolicySpecs('full'), learningRate: 0.05, momentum: 0.9, weightDecay: 0, out, backend: 'cpu',
  });

  it('removes the output folders it created, and only those', async () => {
    await expect(runBench(options(join(dir, 'a', 'b', 'c')))).rejects.toThrow(/missing train-images/);
    expect(existsSync(join(dir, 'a'))).toBe(false);
    await mkdir(join(dir, 'kept'));
    await expect(runBench(options(join(dir, 'kept', 'new')))).rejects.toThrow(/missing train-images/);
    expect(await readdir(join(dir, 'kept'))).toEqual([]);
    expect(existsSync(join(dir, 'kept'))).toBe(true);
  });
});
