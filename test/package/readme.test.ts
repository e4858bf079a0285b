import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The README's three-line diff, applied: its "+" and " " lines form the training loop, which runs
// inside a small program that imports the built package by name, as a user would.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const diff = /```diff\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const loop = diff
  .split('\n')
  .filter((line) => line.startsWith('+') || line.startsWith(' '))
  .map((line) => line.slice(1))
  .join('\n');

const program = `
import * as tf from '@tensorflow/tfjs';
import { InfoBatch } from 'infobatch';
import { InfoBatchTfjs, selectBackend } from 'infobatch/tfjs';

await selectBackend();
// Two Gaussian blobs, 512 samples, and a logistic-regression model.
const numSamples = 512, numEpochs = 6;
const xsAll = tf.tidy(() => tf.concat([tf.randomNormal([256, 4], -1, 1, 'float32', 1), tf.randomNormal([256, 4], 1, 1, 'float32', 2)]));
const ysAll = tf.tidy(() => tf.oneHot(tf.concat([tf.zeros([256], 'int32'), tf.ones([256], 'int32')]), 2));
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
const optimizer = tf.train.sgd(0.1);
function gatherBatch(indices: Int32Array) {
  const ids = tf.tensor1d(indices, 'int32');
  const result = { xs: tf.gather(xsAll, ids), ys: tf.gather(ysAll, ids) };
  ids.dispose();
  return result;
}
${loop}
await ibt.flush();
const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(xsAll) as tf.Tensor, 1), tf.argMax(ysAll, 1)), 'float32')).dataSync()[0]);
console.log(JSON.stringify({ accuracy, summary: ibt.summary() }));
`;

mkdirSync(join(root, '.cache'), { recursive: true });
const dir = mkdtempSync(join(root, '.cache', 'readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README', () => {
  it('holds the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
  });

  it('has a three-line diff whose loop type-checks and trains with the built package', () => {
    expect(diff.split('\n').filter((line) => line.startsWith('+')).length).toBe(3);
    const file = join(dir, 'readme-loop.ts');
    writeFileSync(file, program);
    // Type-check as a user's strict project would, against the built declarations.
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['ES2022', 'DOM'] },
      files: ['readme-loop.ts'],
    }));
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: root, stdio: 'pipe' });
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as { accuracy: number; summary: { samplesVisited: number; fullDataSamples: number } };
    expect(result.accuracy).toBeGreaterThan(0.8);
    expect(result.summary.samplesVisited).toBeLessThan(result.summary.fullDataSamples);
  });
});
