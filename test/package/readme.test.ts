import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The README's tfjs snippets, as a user would run them: each becomes a small program that imports
// the built package by name, type-checked as a strict project would, then run.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

// The repository's long-form guide (README links it), for the snippets that moved there.
const reference = readFileSync(join(root, 'docs', 'reference.md'), 'utf8');

/** The text of the section under `heading` (up to the next heading of any level), in `text` (the README by default). */
function section(heading: string, text: string = readme): string {
  const start = text.indexOf(heading);
  if (start < 0) return '';
  const rest = text.slice(start + heading.length);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}
const codeBlocks = (text: string, lang: string) => [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

// "With model.fit": its first ts block, the one-line swap.
const fitSnippet = codeBlocks(section('### With `model.fit`: change one line'), 'ts')[0] ?? '';
// "Training in a loop of short calls": the tfjs examples' loop, swapped.
const loopCallsSnippet = codeBlocks(section('### Training in a loop of short calls'), 'ts')[0] ?? '';
// "Faster on wasm: one more line" (under Options): the ts block that turns the fast kernels on.
const fastFitSnippet = codeBlocks(section('### Options'), 'ts').find((block) => block.includes('fastWasmKernels')) ?? '';
// "In your own loop": the imports block and the three-line diff, applied ("+" and " " lines).
const loopSection = section('### In your own loop: three lines');
const loopImports = codeBlocks(loopSection, 'ts')[0] ?? '';
const diff = codeBlocks(loopSection, 'diff')[0] ?? '';
const loop = diff
  .split('\n')
  .filter((line) => line.startsWith('+') || line.startsWith(' '))
  .map((line) => line.slice(1))
  .join('\n');

// Two Gaussian blobs, 512 samples; a model is defined by each program.
const data = `
const numSamples = 512, numEpochs = 6;
const xsAll = tf.tidy(() => tf.concat([tf.randomNormal([256, 4], -1, 1, 'float32', 1), tf.randomNormal([256, 4], 1, 1, 'float32', 2)]));
const ysAll = tf.tidy(() => tf.oneHot(tf.concat([tf.zeros([256], 'int32'), tf.ones([256], 'int32')]), 2));
`;

const loopProgram = (optimizer: string, stateTensors: number) => `
${loopImports}
import { selectBackend } from 'infobatch/tfjs';

await selectBackend();
${data}
// Logistic regression: the output is logits, as tf.losses.softmaxCrossEntropy takes.
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
const optimizer = ${optimizer};
function gatherBatch(indices: Int32Array) {
  return tf.tidy(() => {
    const ids = tf.tensor1d(indices, 'int32');
    return { xs: tf.gather(xsAll, ids), ys: tf.gather(ysAll, ids) };
  });
}
const tensorsBefore = tf.memory().numTensors;
${loop}
await ibt.flush();
// The optimizer's own state (Adam's two moments per variable) is not a leak.
const leaked = tf.memory().numTensors - tensorsBefore - ${stateTensors};
const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(xsAll) as tf.Tensor, 1), tf.argMax(ysAll, 1)), 'float32')).dataSync()[0]);
console.log(JSON.stringify({ accuracy, leaked, summary: ibt.summary(), rescale: ibt.rescaleFor(optimizer).mode }));
`;

// "Train on every core": its ts block, run as written on the backend @tensorflow/tfjs picks in
// Node by itself (cpu): no selectBackend, so the worker threads must load that backend alone.
const coresSnippet = codeBlocks(section('## Train on every core', reference), 'ts')[0] ?? '';
const coresProgram = `
${coresSnippet.split('\n').filter((line) => line.startsWith('import ')).join('\n')}
${data}
const x = xsAll, y = ysAll;
// Logits, as softmaxCrossEntropy takes.
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
${coresSnippet.split('\n').filter((line) => !line.startsWith('import ')).join('\n')}
const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(xsAll) as tf.Tensor, 1), tf.argMax(ysAll, 1)), 'float32')).dataSync()[0]);
console.log(JSON.stringify({ backend: tf.getBackend(), accuracy }));
`;

// The same loop, with the model throwing inside the step after its 5th forward pass: the harness
// disposes the batch the loop was holding (the README's loop disposes it only after a step), and
// nothing else may be left behind (a bare optimizer.minimize would leave the gradient tape's tensors).
const loopThrowsProgram = `
${loopImports}
import { selectBackend } from 'infobatch/tfjs';

await selectBackend();
${data}
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }), tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })] });
const optimizer = tf.train.sgd(0.1);
let held: tf.Tensor[] = [];
function gatherBatch(indices: Int32Array) {
  const batch = tf.tidy(() => {
    const ids = tf.tensor1d(indices, 'int32');
    return { xs: tf.gather(xsAll, ids), ys: tf.gather(ysAll, ids) };
  });
  held = [batch.xs, batch.ys];
  return batch;
}
const apply = model.apply.bind(model);
let calls = 0;
model.apply = ((inputs: tf.Tensor, kwargs: Record<string, unknown>) => {
  const output = apply(inputs, kwargs); // the forward pass runs, its tensors taped for the gradient
  if (++calls === 5) throw new Error('injected fault');
  return output;
}) as typeof model.apply;
const tensorsBefore = tf.memory().numTensors;
let message = '';
let ibt!: InfoBatchTfjs;
try {
${loop.replace('const ibt =', 'ibt =')}
} catch (error) {
  message = (error as Error).message;
  tf.dispose(held);
}
await ibt.flush();
console.log(JSON.stringify({ message, leaked: tf.memory().numTensors - tensorsBefore }));
`;

const fitProgram = `
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from 'infobatch/tfjs';
${fitSnippet.split('\n').filter((line) => line.startsWith('import ')).join('\n')}

await selectBackend();
${data}
const x = xsAll, y = ysAll;
// A softmax output, as 'categoricalCrossentropy' takes.
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
${fitSnippet.split('\n').filter((line) => !line.startsWith('import ')).join('\n').replace('{ epochs: 20,', '{ verbose: 0, epochs: 20,')}
console.log(JSON.stringify(history.history));
`;

const loopCallsProgram = `
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from 'infobatch/tfjs';
${loopCallsSnippet.split('\n').filter((line) => line.startsWith('import ')).join('\n')}

await selectBackend();
${data}
const x = xsAll, y = ysAll;
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const kept: number[] = [];
const fit = fitWithInfoBatch;
const recorded: typeof fitWithInfoBatch = (async (...args: Parameters<typeof fitWithInfoBatch>) => {
  const history = await (fit as (...a: unknown[]) => Promise<tf.History>)(...args);
  kept.push(...(history.history['infobatch_kept_fraction'] as number[]));
  return history;
}) as typeof fitWithInfoBatch;
await (async (fitWithInfoBatch: typeof recorded) => {
${loopCallsSnippet.split('\n').filter((line) => !line.startsWith('import ')).join('\n')}
})(recorded);
const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(x) as tf.Tensor, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0]);
console.log(JSON.stringify({ accuracy, kept }));
`;

// The snippet's own lines in a user's order: imports, choosing the backend, then data and model, then training.
const fastLines = fastFitSnippet.split('\n');
const fastFitProgram = `
import * as tf from '@tensorflow/tfjs';
${fastLines.filter((line) => line.startsWith('import ')).join('\n')}
import { fastWasmKernelsActive } from 'infobatch/tfjs';

${fastLines.filter((line) => line.includes('selectBackend(')).join('\n')}
${data}
const x = xsAll, y = ysAll;
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
${fastLines.filter((line) => !line.startsWith('import ') && !line.includes('selectBackend(')).join('\n').replace('{ epochs: 20,', '{ verbose: 0, epochs: 20,')}
console.log(JSON.stringify({ backend: tf.getBackend(), fast: fastWasmKernelsActive(), history: history.history }));
`;

mkdirSync(join(root, '.cache'), { recursive: true });
const dir = mkdtempSync(join(root, '.cache', 'readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (file: string) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(dir, file)], { cwd: root, encoding: 'utf8' }).trim().split('\n').at(-1)!) as unknown;

describe('README', () => {
  beforeAll(() => {
    writeFileSync(join(dir, 'readme-loop.ts'), loopProgram('tf.train.sgd(0.1)', 0));
    writeFileSync(join(dir, 'readme-loop-adam.ts'), loopProgram('tf.train.adam(0.05)', 2 * 2));
    writeFileSync(join(dir, 'readme-fit.ts'), fitProgram);
    writeFileSync(join(dir, 'readme-loop-calls.ts'), loopCallsProgram);
    writeFileSync(join(dir, 'readme-fit-fast.ts'), fastFitProgram);
    writeFileSync(join(dir, 'readme-cores.ts'), coresProgram);
    writeFileSync(join(dir, 'readme-loop-throws.ts'), loopThrowsProgram);
    // Type-check them as a user's strict project would, against the built declarations.
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['ES2022', 'DOM'] },
      files: ['readme-loop.ts', 'readme-loop-adam.ts', 'readme-fit.ts', 'readme-loop-calls.ts', 'readme-fit-fast.ts', 'readme-cores.ts', 'readme-loop-throws.ts'],
    }));
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: root, stdio: 'pipe' });
  }, 120_000);

  it('holds the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
  });

  it('leads with the model.fit swap, right after the install line', () => {
    const headings = [...readme.matchAll(/^(##|###) (.*)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(headings.slice(0, 3)).toEqual(['## Install', '## Use it in a tfjs training loop', '### With `model.fit`: change one line']);
    expect(fitSnippet).toContain('// before: const history = await model.fit(x, y, ');
    expect(fitSnippet).toContain('const history = await fitWithInfoBatch(model, x, y, ');
  });

  it('has a fit swap that type-checks and trains with the built package', () => {
    const history = run('readme-fit.ts') as Record<string, number[]>;
    expect(Object.keys(history)).toEqual(expect.arrayContaining(['loss', 'acc', 'val_loss', 'val_acc', 'infobatch_kept_fraction']));
    expect(history['loss']).toHaveLength(20);
    expect(history['val_acc']!.at(-1)).toBeGreaterThan(0.8);
    expect(Math.min(...history['infobatch_kept_fraction']!)).toBeLessThan(1);
  }, 60_000);

  it('has a loop of one-epoch calls that type-checks, trains with the built package and prunes as one 40-epoch run would', () => {
    expect(loopCallsSnippet).toContain('// before: await model.fit(x, y, { epochs: 1');
    expect(loopCallsSnippet).toContain('infobatch: { totalEpochs: 40 }');
    const result = run('readme-loop-calls.ts') as { accuracy: number; kept: number[] };
    expect(result.kept).toHaveLength(40);
    expect(result.kept[0]).toBe(1);
    expect(Math.min(...result.kept)).toBeLessThan(1);
    expect(result.kept.slice(-5)).toEqual([1, 1, 1, 1, 1]); // the last eighth of the 40 epochs: full data
    expect(result.accuracy).toBeGreaterThan(0.8);
  }, 60_000);

  it('turns the fast wasm kernels on in one line before fitWithInfoBatch, and that program type-checks and trains with the built package', () => {
    expect(fastLines.filter((line) => line.includes('fastWasmKernels'))).toHaveLength(1);
    const result = run('readme-fit-fast.ts') as { backend: string; fast: boolean; history: Record<string, number[]> };
    // In Node without tfjs-node, selectBackend picks wasm, where the option applies.
    expect(result.backend).toBe('wasm');
    expect(result.fast).toBe(true);
    expect(result.history['loss']).toHaveLength(20);
    expect(result.history['val_acc']!.at(-1)).toBeGreaterThan(0.8);
  }, 60_000);

  it('has a three-line diff whose loop, with the imports shown, type-checks and trains with the built package', () => {
    expect(diff.split('\n').filter((line) => line.startsWith('+')).length).toBe(3);
    expect(loopImports).toContain("from 'infobatch'");
    expect(loop).toContain('training: true');
    const result = run('readme-loop.ts') as { accuracy: number; leaked: number; rescale: string; summary: { samplesVisited: number; fullDataSamples: number } };
    expect(result.accuracy).toBeGreaterThan(0.8);
    expect(result.leaked).toBe(0);
    expect(result.summary.samplesVisited).toBeLessThan(result.summary.fullDataSamples);
    expect(result.rescale).toBe('loss');
  }, 60_000);

  it("has a loop that is right under Adam too: the same lines step in rescale mode 'step', train and leak nothing", () => {
    const result = run('readme-loop-adam.ts') as { accuracy: number; leaked: number; rescale: string; summary: { samplesVisited: number; fullDataSamples: number } };
    expect(result.rescale).toBe('step');
    expect(result.accuracy).toBeGreaterThan(0.8);
    expect(result.leaked).toBe(0);
    expect(result.summary.samplesVisited).toBeLessThan(result.summary.fullDataSamples);
  }, 60_000);

  it('has a "Train on every core" snippet that trains with worker threads on the cpu backend, as written', () => {
    expect(coresSnippet).toContain('workers: 2');
    expect(coresSnippet).not.toContain('selectBackend');
    const result = run('readme-cores.ts') as { backend: string; accuracy: number };
    expect(result.backend).toBe('cpu');
    expect(result.accuracy).toBeGreaterThan(0.8);
  }, 120_000);

  it('has a loop that leaves no tensor behind when the model throws inside a step', () => {
    expect(loop).toContain('ibt.minimize(optimizer, batch, ');
    const result = run('readme-loop-throws.ts') as { message: string; leaked: number };
    expect(result.message).toBe('injected fault');
    expect(result.leaked).toBe(0);
  }, 60_000);
});
