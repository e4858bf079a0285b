/**
 * The package as a user meets it: `npm pack`, install the tarball into a fresh project outside the
 * repository, and use it there. Without TensorFlow.js `--help` and `--version` work and the
 * commands that train print the install line (exit 2); after running that line: `npx infobatch
 * --help`, `npx infobatch demo --epochs 2` (embedded data, no network), `fitWithInfoBatch` in a
 * loop and with early stopping, an ESM import, a CommonJS require, and a type-check of the
 * README's snippets against the installed declarations.
 *
 * Installs use the npm cache first (`--prefer-offline`; `npm ci` fills it), so the only network
 * this may need is the npm registry.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; peerDependencies: Record<string, string> };

// A temporary project outside the repository, so nothing resolves from the repository's node_modules.
const project = mkdtempSync(join(tmpdir(), 'infobatch-packed-'));

// The child npm must not inherit `npm test`'s npm_* variables (they name the repository as the prefix).
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('npm_') || ['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'].includes(key)),
);
env['NO_COLOR'] = '1';

/** Runs a command in the project without blocking the test worker (vitest talks to it meanwhile). */
function run(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd ?? project, env, encoding: 'utf8', timeout: 180_000, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ status: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

async function npm(args: readonly string[], cwd = project): Promise<string> {
  const result = await run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

/** The versions of the tfjs packages installed in the repository: the ones the tests ran against. */
const installedVersion = (name: string): string => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let tarball = '';

beforeAll(async () => {
  // dist/ is built by `pretest`; --ignore-scripts keeps prepack's clean rebuild from removing it under other tests.
  const [packed] = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', project], root)) as [{ filename: string; size: number }];
  tarball = join(project, packed.filename);
  console.log(`packed ${packed.filename}: ${(packed.size / 1e6).toFixed(2)} MB`);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'commonjs' }, null, 2));
  await npm(['install', tarball]);
}, 180_000);

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('the packed package in a fresh project', () => {
  it('stays under 3 MB packed', async () => {
    expect(readFileSync(tarball).length).toBeLessThan(3e6);
  });

  it('without TensorFlow.js: --help and --version work; a command that trains names the missing packages and the install line, exit code 2, no stack trace', async () => {
    const help = await run('npx', ['infobatch', '--help']);
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    for (const command of ['demo', 'bench', 'report']) expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/need TensorFlow\.js, not installed here:\n\s+npm install "@tensorflow\/tfjs@/);
    const version = await run('npx', ['infobatch', '--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const result = await run('npx', ['infobatch', 'demo', '--epochs', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('infobatch demo trains with TensorFlow.js, but @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm are not installed');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const line = /npm install (.+)/.exec(result.stderr)?.[1];
    expect(line).toBe(`"@tensorflow/tfjs@${pkg.peerDependencies['@tensorflow/tfjs']}" "@tensorflow/tfjs-backend-wasm@${pkg.peerDependencies['@tensorflow/tfjs-backend-wasm']}"`);
    // Run that line, at the versions the repository tests (inside the printed ranges).
    const specs = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'].map((name) => `${name}@${installedVersion(name)}`);
    await npm(['install', ...specs]);
  }, 240_000);

  it('npx infobatch --help and --version', async () => {
    const help = await run('npx', ['infobatch', '--help']);
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    for (const command of ['demo', 'bench', 'report']) expect(help.stdout).toContain(command);
    const version = await run('npx', ['infobatch', '--version']);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it('npx infobatch demo --epochs 2 trains on the embedded data and prints the three-run comparison', async () => {
    const result = await run('npx', ['infobatch', 'demo', '--epochs', '2']);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.status).toBe(0);
    console.log(result.stdout.slice(result.stdout.indexOf('\n\n')));
    expect(result.stdout).toContain('fashion-mnist-small dataset');
    expect(result.stdout).toMatch(/^full data\s+2\s+\d+\.\d%\s+10,000\s/m);
    expect(result.stdout).toMatch(/^InfoBatch\s+2\s+\d+\.\d%/m);
    expect(result.stdout).toMatch(/^full data, fewer epochs\s+\d\s+\d+\.\d%/m);
    expect(result.stdout).toContain('5,000 training and 2,000 test samples');
  }, 180_000);

  it('usage errors: a message in CLI terms, exit code 2, nothing left behind', async () => {
    const result = await run('npx', ['infobatch', 'bench', '--dataset', 'mnist', '--out', 'never-created']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--data-dir');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect((await run('node', ['-e', "process.exit(require('fs').existsSync('never-created') ? 1 : 0)"])).status).toBe(0);
  });

  it('fitWithInfoBatch as a user calls it: a fit-in-a-loop (40 x epochs: 1, one added option) and earlyStopping on loss', async () => {
    const program = `
      import * as tf from '@tensorflow/tfjs';
      import { fitWithInfoBatch, selectBackend } from 'infobatch/tfjs';
      await selectBackend();
      const x = tf.tidy(() => tf.concat([tf.randomNormal([200, 4], -1, 1, 'float32', 1), tf.randomNormal([200, 4], 1, 1, 'float32', 2)]));
      const y = tf.tidy(() => tf.oneHot(tf.concat([tf.zeros([200], 'int32'), tf.ones([200], 'int32')]), 2));
      const build = () => {
        const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
        model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
        return model;
      };
      // The tfjs examples' loop (addition-rnn): for (...) await model.fit(x, y, { epochs: 1 }), swapped, plus totalEpochs.
      const model = build();
      let passes = 0;
      for (let i = 0; i < 40; i++) {
        const history = await fitWithInfoBatch(model, x, y, { epochs: 1, batchSize: 32, infobatch: { totalEpochs: 40 } });
        passes += history.history.infobatch_kept_fraction[0] * 400;
      }
      const [, acc] = model.evaluate(x, y).map((t) => t.dataSync()[0]);
      const stopped = await fitWithInfoBatch(build(), x, y, { epochs: 200, batchSize: 32, callbacks: [tf.callbacks.earlyStopping({ monitor: 'loss', patience: 2 })] });
      const kept = stopped.history.infobatch_kept_fraction;
      console.log(JSON.stringify({ passes, acc, stoppedAfter: stopped.epoch.length, firstPruned: kept.findIndex((k) => k < 1) }));
    `;
    writeFileSync(join(project, 'fit-usage.mjs'), program);
    const result = await run('node', ['fit-usage.mjs']);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.status).toBe(0);
    // Silent like model.fit under @tensorflow/tfjs (verbose unset): the JSON line is the only output besides tfjs's own banner.
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { passes: number; acc: number; stoppedAfter: number; firstPruned: number };
    console.log(`packed fit usage: ${JSON.stringify(out)}`);
    expect(out.passes).toBeLessThan(400 * 40 * 0.95);
    expect(out.acc).toBeGreaterThan(0.85);
    expect(out.firstPruned).toBeGreaterThanOrEqual(1);
    expect(out.stoppedAfter).toBeGreaterThan(out.firstPruned + 2 + 3);
  }, 180_000);

  it('ESM import of every entry point', async () => {
    const program = `
      import { InfoBatch } from 'infobatch';
      import { InfoBatchTfjs, selectBackend } from 'infobatch/tfjs';
      import { decodeEmbeddedDataset, gunzipBytes } from 'infobatch/data';
      import { loadEmbeddedDataset } from 'infobatch/data/node';
      const ib = new InfoBatch({ numSamples: 100, numEpochs: 4, seed: 1 });
      const { train, test } = await loadEmbeddedDataset();
      console.log(JSON.stringify({ plan: ib.beginEpoch(0).length, tfjs: typeof InfoBatchTfjs, backend: typeof selectBackend, decode: typeof decodeEmbeddedDataset, gunzip: typeof gunzipBytes, train: train.numSamples, test: test.numSamples, shape: train.sampleShape }));
    `;
    writeFileSync(join(project, 'esm.mjs'), program);
    const result = await run('node', ['esm.mjs']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ plan: 100, tfjs: 'function', backend: 'function', decode: 'function', gunzip: 'function', train: 5000, test: 2000, shape: [14, 14] });
  });

  it('CommonJS require (Node >= 20.19 loads the ESM package synchronously)', async () => {
    const program = `
      const { InfoBatch } = require('infobatch');
      const { InfoBatchTfjs } = require('infobatch/tfjs');
      const { parseIdx } = require('infobatch/data');
      const ib = new InfoBatch({ numSamples: 10, numEpochs: 2, seed: 0 });
      console.log(JSON.stringify({ plan: ib.beginEpoch(0).length, tfjs: typeof InfoBatchTfjs, parseIdx: typeof parseIdx }));
    `;
    writeFileSync(join(project, 'cjs.cjs'), program);
    const result = await run('node', ['--no-warnings', 'cjs.cjs']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ plan: 10, tfjs: 'function', parseIdx: 'function' });
  });

  it('every repository path the README and docs/ name exists, the README links the repository by URL, and the package paths are in the package', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => readFileSync(join(root, 'docs', name), 'utf8'));
    const named = (text: string) => [...text.matchAll(/`((?:src|test|scripts|examples|data|bench|\.ci)\/[^`\s<>*]*)`/g)].map((m) => m[1]!);
    const paths = [...new Set([readme, ...docs].flatMap(named))];
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.filter((path) => !existsSync(join(root, path)))).toEqual([]);
    // Links into the repository are absolute (the package has no docs/ or results/); each points at a file of this checkout.
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(links.filter((link) => !/^(https?:|#)/.test(link))).toEqual([]);
    const repository = 'https://github.com/infobatch-ts/infobatch/blob/main/';
    const inRepository = links.filter((link) => link.startsWith(repository)).map((link) => link.slice(repository.length).replace(/#.*$/, ''));
    expect(inRepository.length).toBeGreaterThan(3);
    expect(inRepository.filter((path) => !existsSync(join(root, path)))).toEqual([]);
    const inPackage = named(readme).filter((path) => path.startsWith('data/'));
    expect(inPackage.length).toBeGreaterThan(0);
    expect(inPackage.filter((path) => !existsSync(join(project, 'node_modules', pkg.name, path)))).toEqual([]);
  });

  it("type-checks the README's TypeScript snippets against the installed declarations", async () => {
    const readme = readFileSync(join(project, 'node_modules', pkg.name, 'README.md'), 'utf8');
    const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    // The three-line diff, applied: its "+" and " " lines.
    const diff = /```diff\n([\s\S]*?)```/.exec(readme)?.[1];
    if (diff !== undefined) {
      const loop = diff.split('\n').filter((l) => l.startsWith('+') || l.startsWith(' ')).map((l) => l.slice(1)).join('\n');
      snippets.push(`import * as tf from '@tensorflow/tfjs';\nimport { InfoBatch } from 'infobatch';\nimport { InfoBatchTfjs } from 'infobatch/tfjs';\n${loop}`);
    }
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    const files = snippets.map((code, i) => {
      const file = `readme-snippet-${i + 1}.mts`;
      // Every snippet is an ES module (.mts: top-level await allowed), whether or not it imports anything.
      writeFileSync(join(project, file), `${code}\nexport {};\n`);
      return file;
    });
    // What the snippets leave to the reader: their data, model and training step.
    writeFileSync(join(project, 'readme-globals.d.ts'), `
      declare const numSamples: number;
      declare const numEpochs: number;
      declare const model: import('@tensorflow/tfjs').LayersModel;
      declare const optimizer: import('@tensorflow/tfjs').Optimizer;
      declare const x: import('@tensorflow/tfjs').Tensor;
      declare const y: import('@tensorflow/tfjs').Tensor;
      declare const xs: import('@tensorflow/tfjs').Tensor;
      declare const ys: import('@tensorflow/tfjs').Tensor;
      declare function perSampleLosses(indices: Int32Array): Float32Array;
      declare function backward(loss: number): void;
      declare function gatherBatch(indices: Int32Array): { xs: import('@tensorflow/tfjs').Tensor; ys: import('@tensorflow/tfjs').Tensor };
      declare function readBatch(indices: Int32Array): Promise<{ xs: import('@tensorflow/tfjs').Tensor; ys: import('@tensorflow/tfjs').Tensor }>;
      declare const xVal: import('@tensorflow/tfjs').Tensor;
      declare const yVal: import('@tensorflow/tfjs').Tensor;
      declare const bytes: Uint8Array | undefined;
      declare const batchSize: number;
      declare function trainOn(indices: Int32Array, weights: Float32Array): Float32Array;
      declare function timeToSave(): boolean;
      declare function save(state: Uint8Array): void;
    `);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['ES2022', 'DOM'] },
      files: ['readme-globals.d.ts', ...files],
    }));
    const result = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);
});
