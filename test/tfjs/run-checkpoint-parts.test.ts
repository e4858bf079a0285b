/**
 * Run checkpoints in parts: every payload (model, optimizer, InfoBatch state) is written and read
 * as files of at most a part's size, so a checkpoint is never one array (a 4 GiB payload would
 * fail in Node 20). Parts are tested small; a version-1 manifest (one file per payload) still
 * resumes.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import type { CheckpointStorage } from '../../src/core/checkpoint-storage.js';
import { crc32 } from '../../src/core/crc32.js';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { setRunCheckpointPartBytes } from '../../src/tfjs/run-checkpoint.js';
import { trainWithInfoBatch } from '../../src/tfjs/trainer.js';

const N = 200;
const split = makeSyntheticDataset({ numSamples: N, numTest: 10, numFeatures: 6, numClasses: 3, seed: 8 });
let x: tf.Tensor2D;
let y: tf.Tensor1D;

beforeAll(async () => {
  expect(await selectBackend({ prefer: ['cpu'] })).toBe('cpu');
  x = tf.tensor2d(split.train.x, [N, 6]);
  y = tf.tensor1d(split.train.y, 'int32');
});
afterAll(() => tf.dispose([x, y]));

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

class Interrupt extends Error {}

/** Trains 4 epochs with Adam (slots and hidden accumulators); throws Interrupt after step `stopAt`. */
async function train(storage: CheckpointStorage | undefined, stopAt?: number): Promise<number[][]> {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ units: 10, activation: 'relu', inputShape: [6], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  ] });
  const optimizer = tf.train.adam(0.01);
  let steps = 0;
  try {
    await trainWithInfoBatch(model, { x, y }, {
      epochs: 4, batchSize: 16, optimizer, loss: softmaxCrossEntropy, infobatch: { seed: 4 },
      ...(storage !== undefined && { checkpoint: { storage, everySteps: 5 } }),
      callbacks: { onBatchEnd: () => { if (++steps === stopAt) throw new Interrupt(); } },
    });
    return model.getWeights().map((w) => Array.from(new Uint32Array(w.dataSync().slice().buffer)));
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

describe('run checkpoints in parts', () => {
  it('writes every payload in parts of at most the part size, and resumes from them bit for bit', async () => {
    const reference = await train(undefined);
    const previous = setRunCheckpointPartBytes(100);
    try {
      const storage = memoryStorage();
      await expect(train(storage, 23)).rejects.toBeInstanceOf(Interrupt);
      const manifest = JSON.parse(new TextDecoder().decode(storage.files.get('manifest.json')!)) as { version: number; body: { files: Record<string, { bytes: number; parts: Array<{ name: string; bytes: number }> }> } };
      expect(manifest.version).toBe(2);
      for (const kind of ['model', 'optimizer', 'infobatch']) {
        const payload = manifest.body.files[kind]!;
        expect(payload.parts.length).toBe(Math.ceil(payload.bytes / 100));
        expect(payload.parts.length).toBeGreaterThan(1);
        for (const part of payload.parts) {
          expect(part.bytes).toBeLessThanOrEqual(100);
          expect(storage.files.get(part.name)!.length).toBe(part.bytes);
        }
      }
      expect(await train(storage)).toEqual(reference);
    } finally {
      setRunCheckpointPartBytes(previous);
    }
  });

  it('resumes from a version-1 manifest (one file per payload)', async () => {
    const reference = await train(undefined);
    const storage = memoryStorage();
    await expect(train(storage, 23)).rejects.toBeInstanceOf(Interrupt);
    const manifest = JSON.parse(new TextDecoder().decode(storage.files.get('manifest.json')!)) as { version: number; crc32: number; body: { files: Record<string, unknown> } };
    for (const [kind, payload] of Object.entries(manifest.body.files)) {
      const { parts } = payload as { parts: Array<{ name: string; bytes: number; crc32: number }> };
      expect(parts).toHaveLength(1);
      // Version 1 named the file ckpt-<n>.<kind>.bin.
      const name = parts[0]!.name.replace(/\.0\.bin$/, '.bin');
      storage.files.set(name, storage.files.get(parts[0]!.name)!);
      storage.files.delete(parts[0]!.name);
      manifest.body.files[kind] = { ...parts[0], name };
    }
    manifest.version = 1;
    manifest.crc32 = crc32(new TextEncoder().encode(canonicalJson(manifest.body)));
    storage.files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
    expect(await train(storage)).toEqual(reference);
  });
});
