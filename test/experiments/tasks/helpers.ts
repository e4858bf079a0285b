/** Shared helpers of the task smoke tests. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { RunResult } from '../../../src/experiments/results.js';

/** The shared data folder (../shared/data from the repository root). */
export const DATA_ROOT = join(import.meta.dirname, '../../../../shared/data');

/** Whether every folder exists under DATA_ROOT; prints why a suite is skipped when not. */
export function hasData(task: string, folders: readonly string[]): boolean {
  const missing = folders.filter((f) => !existsSync(join(DATA_ROOT, f)));
  if (missing.length > 0) console.log(`[tasks] skipping the ${task} smoke test: ${missing.map((f) => join(DATA_ROOT, f)).join(', ')} not found`);
  return missing.length === 0;
}

/** Runs `body` and checks that it leaves exactly as many tensors as it found. */
export async function expectNoLeak<T>(body: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await body();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

/** Checks the shape of a run record: finite numbers, one record per epoch, InfoBatch skipped some passes. */
export function expectSoundRun(run: RunResult, epochs: number, pruned: boolean): void {
  expect(run.epochs).toHaveLength(epochs);
  for (const record of run.epochs) {
    expect(Number.isFinite(record.testAccuracy)).toBe(true);
    expect(Number.isFinite(record.testLoss)).toBe(true);
    expect(Number.isFinite(record.trainLoss)).toBe(true);
  }
  expect(run.final.samplesForwarded).toBe(run.epochs.reduce((s, e) => s + e.planLength, 0));
  if (pruned) expect(run.final.savedFraction).toBeGreaterThan(0);
  else expect(run.final.savedFraction).toBe(0);
}
