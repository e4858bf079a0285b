/**
 * One run per checkpoint folder (or storage): two runs started on one folder, in this process and
 * in two processes, stale locks of dead processes, locks of other hosts, unwritable folders (found
 * before the first step), and the other guards of opening a run checkpoint.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import type { CheckpointStorage } from '../../src/core/checkpoint-storage.js';
import { crc32 } from '../../src/core/crc32.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { LOCK_FILE } from '../../src/data/node/folder-lock.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch } from '../../src/tfjs/fit.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { trainWithInfoBatch, type TrainOptions } from '../../src/tfjs/trainer.js';
import { runTraining } from './fixtures/resume-run.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CHILD = join(HERE, 'fixtures', 'resume-child.ts');
const N = 96;
const split = makeSyntheticDataset({ numSamples: N, numTest: 10, numFeatures: 6, numClasses: 3, seed: 5 });
let x: tf.Tensor2D;
let y: tf.Tensor1D;
const folders: string[] = [];

beforeAll(async () => {
  expect(await selectBackend({ prefer: ['cpu'] })).toBe('cpu');
  x = tf.tensor2d(split.train.x, [N, 6]);
  y = tf.tensor1d(split.train.y, 'int32');
});
afterAll(async () => {
  tf.dispose([x, y]);
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'infobatch-lock-'));
  folders.push(dir);
  return dir;
}

function mlp(seed: number): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [6], kernelInitializer: tf.initializers.glorotUniform({ seed }) })] });
}

/** trainWithInfoBatch on a fresh model; counts the steps it ran. */
async function train(seed: number, checkpoint: TrainOptions['checkpoint'], extra: Partial<TrainOptions> = {}): Promise<{ steps: number; weights: number[] }> {
  const model = mlp(seed);
  const optimizer = tf.train.sgd(0.1);
  let steps = 0;
  try {
    await trainWithInfoBatch(model, { x, y }, {
      epochs: 3, batchSize: 16, optimizer, loss: softmaxCrossEntropy, infobatch: { seed },
      ...(checkpoint !== undefined && { checkpoint }),
      callbacks: { onBatchEnd: () => void steps++ },
      ...extra,
    });
    return { steps, weights: Array.from(model.getWeights()[0]!.dataSync()) };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

function memoryStorage(): CheckpointStorage & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    files,
    read: async (name) => files.get(name)?.slice(),
    write: async (name, data) => void files.set(name, data.slice()),
    list: async () => [...files.keys()],
    remove: async (name) => void files.delete(name),
  };
}

function rejectedWith(result: PromiseSettledResult<unknown>, code: string): string {
  expect(result.status).toBe('rejected');
  const reason = (result as PromiseRejectedResult).reason as InfoBatchError;
  expect(reason).toBeInstanceOf(InfoBatchError);
  expect(reason.code).toBe(code);
  return reason.message;
}

describe('one run per checkpoint folder', () => {
  it('in one process: of two runs started together on one folder, one trains and the other is refused before its first step', async () => {
    const dir = await folder();
    const results = await Promise.allSettled([train(1, { dir, everySteps: 2 }), train(2, { dir, everySteps: 2 })]);
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(rejectedWith(results[1 - winner]!, 'INVALID_STATE')).toMatch(new RegExp(`Checkpoint folder ".*" is in use by another run: trainWithInfoBatch in this process \\(pid ${process.pid}\\)`));
    expect(await readdir(dir)).not.toContain(LOCK_FILE); // released at the end
    // The folder holds the winner's run alone: the same call finds it finished, and trains nothing.
    const again = await train(winner + 1, { dir, everySteps: 2 });
    expect(again.steps).toBe(0);
    expect(again.weights).toEqual((results[winner] as PromiseFulfilledResult<{ weights: number[] }>).value.weights);
  });

  it('in one process: two runs on one custom storage are refused too, and the storage is released on error', async () => {
    const storage = memoryStorage();
    const results = await Promise.allSettled([train(1, { storage }), train(2, { storage })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(rejectedWith(results.find((r) => r.status === 'rejected')!, 'INVALID_STATE')).toMatch(/checkpoint storage passed to trainWithInfoBatch is in use by another run of this process/);
    // A run that fails releases it: a mismatch first, then a run that succeeds.
    await expect(train(1, { storage }, { batchSize: 8 })).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
    await expect(train(1, { storage })).resolves.toBeDefined();
  });

  it('in two processes: a second process and this one are refused while the first runs; its lock is taken over once it is killed', async () => {
    const dir = await folder();
    // Process A trains and pauses inside its first checkpoint write, holding the folder.
    const a = spawn(process.execPath, ['--import', 'tsx', CHILD, 'train', 'cpu', dir], { cwd: ROOT, env: { ...process.env, RESUME_CHILD_PAUSE_WRITE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => a.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        a.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('writing ')) resolve();
        });
        a.once('exit', (code) => reject(new Error(`process A exited with ${code} before pausing`)));
      });
      // Process B, the same command: refused, naming A.
      const b = spawnSync(process.execPath, ['--import', 'tsx', CHILD, 'train', 'cpu', dir], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(b.status).not.toBe(0);
      expect(b.stdout).not.toMatch(/^step /m);
      expect(b.stderr).toContain(`is in use by another run: trainWithInfoBatch in process ${a.pid} on host`);
      // This process: refused the same way.
      await expect(runTraining({ front: 'train', backend: 'cpu', dir })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining(`process ${a.pid}`) });
    } finally {
      a.kill('SIGKILL');
      await exited;
    }
    // A died holding the lock: stale (same host, pid gone), so the next run takes it over and finishes.
    expect(await readdir(dir)).toContain(LOCK_FILE);
    const resumed = await runTraining({ front: 'train', backend: 'cpu', dir });
    const whole = await runTraining({ front: 'train', backend: 'cpu' });
    expect(resumed.digest).toBe(whole.digest);
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
  }, 120_000);

  it('refuses a folder locked by a process of another host, naming it and the file to delete', async () => {
    const dir = await folder();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ format: 'infobatch-folder-lock', pid: 1, host: 'elsewhere.example', holder: 'fitWithInfoBatch', since: '2024-01-01T00:00:00.000Z', token: 'x' }));
    await expect(train(1, { dir })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/in use by another run: fitWithInfoBatch in process 1 on host "elsewhere.example", since 2024.*If that process is gone, delete ".*infobatch.lock"/) });
    await writeFile(join(dir, LOCK_FILE), 'not json');
    await expect(train(1, { dir })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('not an infobatch lock') });
  });
});

/** Makes `dir` unwritable (immutable for root, read-only otherwise); undefined when this machine cannot. */
async function unwritable(dir: string): Promise<(() => Promise<void>) | undefined> {
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o555);
    return () => chmod(dir, 0o755);
  }
  if (spawnSync('chattr', ['+i', dir]).status === 0) return async () => void spawnSync('chattr', ['-i', dir]);
  return undefined;
}

describe('an unwritable checkpoint is found before the first step', () => {
  it('a folder that cannot be written', async (context) => {
    const dir = join(await folder(), 'run');
    await mkdir(dir);
    const restore = await unwritable(dir);
    if (restore === undefined) return context.skip();
    try {
      let steps = 0;
      await expect(train(1, { dir }, { callbacks: { onBatchEnd: () => void steps++ } })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/Checkpoint folder ".*run" is not writable \((EPERM|EACCES)/) });
      expect(steps).toBe(0);
    } finally {
      await restore();
    }
  });

  it('a storage whose write fails', async () => {
    const storage = memoryStorage();
    storage.write = async () => {
      throw Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    };
    let steps = 0;
    await expect(train(1, { storage }, { callbacks: { onBatchEnd: () => void steps++ } })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('cannot be written (EPERM') });
    expect(steps).toBe(0);
  });
});

describe('opening a run checkpoint: clear errors for what is not one', () => {
  it("a fitWithInfoBatch checkpoint opened by trainWithInfoBatch is another run's, not a damaged one", async () => {
    const storage = memoryStorage();
    const model = mlp(1);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    await fitWithInfoBatch(model, x, tf.cast(y, 'float32'), { epochs: 3, batchSize: 16, verbose: 0, checkpoint: { storage } });
    model.optimizer.dispose();
    model.dispose();
    await expect(train(1, { storage })).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH', message: expect.stringMatching(/written by fitWithInfoBatch; resume it with fitWithInfoBatch/) });
  });

  it('a manifest.json that is a folder', async () => {
    const dir = await folder();
    await mkdir(join(dir, 'manifest.json'));
    await expect(train(1, { dir })).rejects.toMatchObject({ code: 'INVALID_DATA', message: expect.stringMatching(/manifest\.json" is a folder, not a file/) });
  });

  it('a storage whose list() gives no array fails before any weight is restored', async () => {
    const storage = memoryStorage();
    await train(1, { storage });
    expect(storage.files.has('manifest.json')).toBe(true);
    storage.list = async () => undefined as unknown as string[];
    const model = mlp(9);
    const before = Array.from(model.getWeights()[0]!.dataSync());
    await expect(trainWithInfoBatch(model, { x, y }, { epochs: 3, batchSize: 16, optimizer: tf.train.sgd(0.1), loss: softmaxCrossEntropy, infobatch: { seed: 1 }, checkpoint: { storage } }))
      .rejects.toMatchObject({ code: 'INVALID_TYPE', message: expect.stringMatching(/'checkpoint.storage.list\(\)' used by trainWithInfoBatch must resolve to an array of names .* but resolved to undefined; nothing was restored/) });
    expect(Array.from(model.getWeights()[0]!.dataSync())).toEqual(before);
    model.dispose();
  });

  it('a manifest with a recomputed CRC and a negative learning rate', async () => {
    const storage = memoryStorage();
    await train(1, { storage });
    const parsed = JSON.parse(new TextDecoder().decode(storage.files.get('manifest.json')!)) as { body: { optimizer: { learningRate: number } }; crc32: number };
    expect(parsed.body.optimizer.learningRate).toBeCloseTo(0.1);
    parsed.body.optimizer.learningRate = -1;
    parsed.crc32 = crc32(new TextEncoder().encode(canonicalJson(parsed.body)));
    storage.files.set('manifest.json', new TextEncoder().encode(JSON.stringify(parsed)));
    await expect(train(1, { storage })).rejects.toMatchObject({ code: 'CORRUPT_CHECKPOINT', message: expect.stringContaining('learning rate is -1') });
  });
});
