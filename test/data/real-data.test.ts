/**
 * Loads the real datasets from ../shared/data when they are present; each block is skipped (with a
 * console message saying why) when its folder is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCharCorpus, sampleSize, type Dataset } from '../../src/data/index.js';
import { loadAlpacaSeedTasks, loadDigits, loadIdxDataset, loadText } from '../../src/data/node.js';

const DATA = join(import.meta.dirname, '../../../shared/data');

function realData(folder: string): { dir: string; missing: boolean } {
  const dir = join(DATA, folder);
  const missing = !existsSync(dir);
  if (missing) console.log(`[data] skipping real-data tests for ${folder}: ${dir} not found`);
  return { dir, missing };
}

function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (const y of ds.y) counts[y]!++;
  return counts;
}

function pixelRange(ds: Dataset): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of ds.x) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

for (const name of ['mnist', 'fashion-mnist'] as const) {
  const { dir, missing } = realData(name);
  describe.skipIf(missing)(`real ${name}`, () => {
    it('has 60000/10000 28×28 images with labels 0..9 and pixels in [0, 1]', async () => {
      const { train, test } = await loadIdxDataset(name, dir);
      expect(train.numSamples).toBe(60000);
      expect(test.numSamples).toBe(10000);
      expect(train.sampleShape).toEqual([28, 28]);
      expect(train.x.length).toBe(60000 * 784);
      expect(test.x.length).toBe(10000 * 784);
      expect(train.numClasses).toBe(10);
      expect(pixelRange(train)).toEqual([0, 1]);
      expect(pixelRange(test)).toEqual([0, 1]);
      const trainCounts = classCounts(train);
      const testCounts = classCounts(test);
      if (name === 'mnist') {
        // published MNIST class counts (see shared/data/mnist/SOURCE.md)
        expect(trainCounts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
        expect(testCounts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
      } else {
        expect(trainCounts).toEqual(new Array(10).fill(6000));
        expect(testCounts).toEqual(new Array(10).fill(1000));
      }
    });
  });
}

{
  const { dir, missing } = realData('sklearn-toy');
  describe.skipIf(missing)('real scikit-learn digits', () => {
    it('has 1797 samples of 64 features in [0, 1], split 80/20 by seed', async () => {
      const a = await loadDigits(dir);
      expect(a.train.numSamples + a.test.numSamples).toBe(1797);
      expect(a.test.numSamples).toBe(359);
      expect(sampleSize(a.train)).toBe(64);
      expect(a.train.sampleShape).toEqual([8, 8]);
      const [min, max] = pixelRange(a.train);
      expect(min).toBe(0);
      expect(max).toBe(1);
      const counts = classCounts(a.train).map((c, k) => c + classCounts(a.test)[k]!);
      expect(counts).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
      const b = await loadDigits(dir, { seed: 0 });
      const c = await loadDigits(dir, { seed: 1 });
      expect(Array.from(b.test.y)).toEqual(Array.from(a.test.y));
      expect(Array.from(c.test.x)).not.toEqual(Array.from(a.test.x));
    });
  });
}

{
  const { dir, missing } = realData('tiny-shakespeare');
  describe.skipIf(missing)('real tiny-shakespeare', () => {
    it('has 1115394 characters and a 65-character vocabulary', async () => {
      const text = await loadText(join(dir, 'input.txt'));
      expect(text.length).toBe(1115394);
      const corpus = parseCharCorpus(text, { seqLength: 128 });
      expect(corpus.vocabSize).toBe(65);
      expect(corpus.vocab[0]).toBe('\n');
      expect(corpus.numWindows).toBe(Math.floor((1115394 - 129) / 128) + 1);
      expect(corpus.decode(corpus.inputs(0)).startsWith('First Citizen:')).toBe(true);
    });
  });
}

{
  const { dir, missing } = realData('stanford-alpaca-seed-tasks');
  describe.skipIf(missing)('real Alpaca seed tasks', () => {
    it('has 175 tasks, 26 of them classification', async () => {
      const tasks = await loadAlpacaSeedTasks(dir);
      expect(tasks.length).toBe(175);
      expect(tasks.filter((t) => t.isClassification).length).toBe(26);
      expect(tasks[0]!.id).toBe('seed_task_0');
      expect(tasks[0]!.instruction).toMatch(/breakfast/);
      expect(tasks.every((t) => t.instruction.length > 0 && t.output.length > 0)).toBe(true);
    });
  });
}
