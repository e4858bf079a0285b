/**
 * InfoBatch on the GPU backends, in Debian's headless Chromium: WebGPU on SwiftShader (Chromium's
 * CPU implementation of Vulkan, behind `--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader`)
 * and WebGL 2 on ANGLE's SwiftShader renderer. Slow, but the same shaders, asynchronous reads and
 * float32 arithmetic a GPU runs.
 *
 * 1. The demo page (src/browser) with `?backend=webgpu` / `webgl`, the same short run as on wasm
 *    (same seed, the MLP, the page's default data): the backend in use is the one asked for,
 *    accuracy is within {@link ACCURACY_TOLERANCE} of wasm, InfoBatch forwards fewer samples than
 *    full data, `tf.memory().numTensors` is flat across epochs, nothing is logged as an error.
 * 2. Adapter checks (fixtures/gpu-checks.ts) in a page on each backend: loss reads that complete
 *    out of order are still recorded in update order; `update` in `optimizer.minimize` and `tf.tidy`
 *    trains like on cpu; the per-sample loss helpers match the cpu backend.
 *
 * Prints seconds per epoch per backend, and saves a screenshot of the page per backend to
 * $SCREENSHOT_DIR (or a temporary folder). Skipped, with the reason printed, without Chromium.
 */
import { type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FromWorker } from '../../src/browser/protocol.js';
import { DEMO_RECIPE } from '../../src/experiments/demo-table.js';
import type { EpochRecord } from '../../src/experiments/results.js';
import type { GpuCheckResults } from './fixtures/gpu-checks.js';
import { CHROMIUM, CHROMIUM_BASE_ARGS, HAS_CHROMIUM, ROOT, runNode, startServer } from './helpers.js';

// InfoBatch prunes epochs 1 … 6 and anneals (full data) in the last: enough pruned steps that the
// time saved can be told from the run-to-run noise of a software GPU (about ±25% per epoch on webgl).
const EPOCHS = 8;
const SAMPLES = 2000; // asked for; the page may have fewer (then it uses all it has)
const TEST_SAMPLES = 1000;
const SEED = 3;
/**
 * Largest test-accuracy difference (absolute, 0.02 = 20 of the 1000 test samples) allowed between
 * a GPU backend and wasm. Same seed, so the same initial weights, data order and plans: the runs
 * differ only in float32 rounding (GPU reductions sum in another order, exp/log are approximated
 * differently), about 1e-7 relative per operation. Over 3 epochs of SGD on a small MLP that moves
 * the weights by far less than what flips more than a few test predictions; a wrong kernel, a lost
 * gradient or a mis-ordered score record moves accuracy by much more than 2 points.
 */
const ACCURACY_TOLERANCE = 0.02;
/**
 * Bound on each epoch's kept fraction against wasm. On webgl/webgpu the demo aligns pruned epochs to
 * the batch (no new batch shape), which moves the kept count to the nearest plan length whose last
 * batch full data has (2,000 samples, batch 128: remainders 0 and 80, so by at most 40 samples, 2%);
 * rounding differences flip a few samples near the threshold on top (about 0.3% per epoch here),
 * not 1% of them.
 */
const KEPT_TOLERANCE = 0.03;
/** Per-sample loss helpers against cpu: |gpu − cpu| ≤ ABS + REL·max|cpu| (float32, logits up to ±30). */
const LOSS_ABS_TOLERANCE = 1e-5;
const LOSS_REL_TOLERANCE = 1e-6;
const GPU_BACKENDS = ['webgpu', 'webgl'] as const;
type Backend = 'wasm' | (typeof GPU_BACKENDS)[number];
const RUN_TIMEOUT_MS = 360_000;
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] as const;
const WEBGL_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] as const;

if (!HAS_CHROMIUM) console.warn(`test/browser/gpu-backends.test.ts skipped: no Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium, or set CHROMIUM_PATH)`);

/** What one demo run in the page produced. */
interface DemoRun {
  backend: string | undefined;
  status: string;
  error: string;
  messages: FromWorker[];
  /** Seconds since navigation at which each message was first seen (polled every 100 ms). */
  seenAt: number[];
  consoleErrors: string[];
  screenshot: string;
}

/** Collects the page's errors: uncaught exceptions and console.error, of the page and its workers. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  return errors;
}

describe.skipIf(!HAS_CHROMIUM)('GPU backends in headless Chromium (webgpu on SwiftShader, webgl software)', () => {
  let buildDir: string | undefined;
  let screenshotDir = '';
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let url = '';
  const runs = new Map<Backend, Promise<DemoRun>>();

  beforeAll(async () => {
    buildDir = mkdtempSync(join(tmpdir(), 'infobatch-gpu-build-'));
    await runNode(['scripts/build-browser.mjs', buildDir]);
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: { 'gpu-checks': 'test/browser/fixtures/gpu-checks.ts' },
      outdir: buildDir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    copyFileSync(join(ROOT, 'test', 'browser', 'fixtures', 'gpu-checks.html'), join(buildDir, 'gpu-checks.html'));
    screenshotDir = process.env['SCREENSHOT_DIR'] ?? mkdtempSync(join(tmpdir(), 'infobatch-gpu-shot-'));
    mkdirSync(screenshotDir, { recursive: true });
    const started = await startServer(buildDir);
    server = started.child;
    url = started.url;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_BASE_ARGS, ...WEBGPU_ARGS, ...WEBGL_ARGS],
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (server !== undefined && server.exitCode === null) server.kill('SIGTERM');
    if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  });

  /** Runs the demo page once per backend (memoised: the GPU tests compare with the wasm run). */
  function demoRun(backend: Backend): Promise<DemoRun> {
    let run = runs.get(backend);
    if (run === undefined) {
      run = runDemo(backend);
      runs.set(backend, run);
    }
    return run;
  }

  async function runDemo(backend: Backend): Promise<DemoRun> {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const consoleErrors = watchErrors(page);
    const started = performance.now();
    await page.goto(`${url}?backend=${backend}&epochs=${EPOCHS}&samples=${SAMPLES}&test=${TEST_SAMPLES}&seed=${SEED}&model=mlp&autostart=1`);
    const seenAt: number[] = [];
    for (;;) {
      const { state, count } = await page.evaluate(() => ({
        state: document.body.dataset['state'],
        count: (globalThis as { infobatchDemo?: { messages: unknown[] } }).infobatchDemo?.messages.length ?? 0,
      }));
      while (seenAt.length < count) seenAt.push((performance.now() - started) / 1000);
      if (state === 'done' || state === 'error') break;
      if (performance.now() - started > RUN_TIMEOUT_MS - 20_000) throw new Error(`the ${backend} demo did not finish in time (state ${state}, ${count} messages)`);
      await new Promise((wake) => setTimeout(wake, 100));
    }
    const result = await page.evaluate(() => ({
      backend: document.body.dataset['backend'],
      status: document.getElementById('status')!.textContent ?? '',
      error: document.getElementById('error')!.textContent ?? '',
      messages: (globalThis as unknown as { infobatchDemo: { messages: FromWorker[] } }).infobatchDemo.messages,
    }));
    const screenshot = join(screenshotDir, `browser-demo-${backend}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.close();
    return { ...result, seenAt, consoleErrors, screenshot };
  }

  const epochsOf = (run: DemoRun, name: 'full' | 'infobatch') =>
    run.messages.flatMap((m, i) => (m.type === 'epoch' && m.run === name ? [{ record: m.record, numTensors: m.numTensors, seenAt: run.seenAt[i]! }] : []));
  const resultOf = (run: DemoRun, name: 'full' | 'infobatch') => {
    const found = run.messages.find((m) => m.type === 'run' && m.run === name);
    if (found?.type !== 'run') throw new Error(`no '${name}' result in the ${run.backend} run (error: ${run.error})`);
    return found.result;
  };
  const forwarded = (records: readonly EpochRecord[]) => records.reduce((sum, r) => sum + r.planLength, 0);

  it('exposes a WebGPU adapter (SwiftShader) to a localhost page', async () => {
    const page = await browser!.newPage();
    await page.goto(`${url}gpu-checks.html`); // any page of the server; its script fails without ?backend, harmlessly
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string } } | null> } }).gpu;
      if (gpu === undefined) return 'no navigator.gpu';
      const found = await gpu.requestAdapter();
      return found === null ? 'no adapter' : `${found.info?.vendor ?? '?'} ${found.info?.architecture ?? '?'}`;
    });
    await page.close();
    console.log(`WebGPU adapter: ${adapter}`);
    expect(adapter).toMatch(/swiftshader/);
  });

  /** What `selectBackend()` picks by default in a page of `target` (with any console errors). */
  async function defaultBackend(target: Browser): Promise<{ picked: { selected: string; active: string } | undefined; error: string | undefined; consoleErrors: string[] }> {
    const page = await target.newPage();
    const consoleErrors = watchErrors(page);
    await page.goto(`${url}gpu-checks.html?backend=default`);
    await page.waitForFunction(() => document.body.dataset['state'] !== 'running', null, { timeout: 60_000 });
    const found = await page.evaluate(() => {
      const scope = globalThis as { defaultBackend?: { selected: string; active: string }; gpuCheckError?: string };
      return { picked: scope.defaultBackend, error: scope.gpuCheckError };
    });
    await page.close();
    return { ...found, consoleErrors };
  }

  it('selectBackend() prefers webgpu in a browser with an adapter, else webgl (navigator.gpu without an adapter)', async () => {
    expect(await defaultBackend(browser!)).toEqual({ picked: { selected: 'webgpu', active: 'webgpu' }, error: undefined, consoleErrors: [] });
    // Without the WebGPU flags Chromium still has navigator.gpu, but requestAdapter() gives null.
    const noWebgpu = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_BASE_ARGS, ...WEBGL_ARGS] });
    try {
      expect(await defaultBackend(noWebgpu)).toEqual({ picked: { selected: 'webgl', active: 'webgl' }, error: undefined, consoleErrors: [] });
    } finally {
      await noWebgpu.close();
    }
  });

  it.each(GPU_BACKENDS)(
    'the demo trains full data and InfoBatch on %s like on wasm, with flat tensor counts and no errors',
    async (backend) => {
      const reference = await demoRun('wasm');
      const run = await demoRun(backend);
      const lines = [`${backend}: ${run.status}`];
      for (const r of [reference, run]) {
        for (const name of ['full', 'infobatch'] as const) {
          const epochs = epochsOf(r, name);
          // Seconds between epoch messages: training plus evaluation (the first epoch has no predecessor).
          const wall = epochs.slice(1).map((e, i) => e.seenAt - epochs[i]!.seenAt);
          lines.push(
            `  ${r.backend} ${name}: accuracy ${r.messages.length > 0 ? resultOf(r, name).final.testAccuracy.toFixed(4) : '?'}, ` +
              `train s/epoch ${epochs.map((e) => e.record.trainSeconds.toFixed(2)).join(' ')}, ` +
              `wall s/epoch 2..${EPOCHS} (with evaluation) ${wall.map((s) => s.toFixed(1)).join(' ')}, numTensors ${epochs.map((e) => e.numTensors).join(' ')}`,
          );
        }
        lines.push(`  ${r.backend} page done after ${r.seenAt.at(-1)?.toFixed(1)} s; screenshot ${r.screenshot}`);
      }
      console.log(lines.join('\n'));

      for (const r of [reference, run]) {
        expect(r.error, `${r.backend} error banner`).toBe('');
        expect(r.consoleErrors, `${r.backend} console errors`).toEqual([]);
      }
      expect(reference.backend).toBe('wasm');
      expect(run.backend).toBe(backend);
      expect(run.messages[0]).toEqual({ type: 'backend', name: backend });
      expect(run.status).toContain(`tfjs backend: ${backend}`);
      expect(run.messages.at(-1)).toEqual({ type: 'done' });

      for (const name of ['full', 'infobatch'] as const) {
        const epochs = epochsOf(run, name);
        const wasmEpochs = epochsOf(reference, name);
        expect(epochs.map((e) => e.record.epoch)).toEqual([...Array(EPOCHS).keys()]);
        // Every epoch ends with the same live tensors: nothing leaks per step or per epoch.
        expect(new Set(epochs.map((e) => e.numTensors)).size, `${name} numTensors ${epochs.map((e) => e.numTensors)}`).toBe(1);
        const result = resultOf(run, name);
        const wasmResult = resultOf(reference, name);
        expect(Math.abs(result.final.testAccuracy - wasmResult.final.testAccuracy), `${name} accuracy ${result.final.testAccuracy} vs wasm ${wasmResult.final.testAccuracy}`).toBeLessThanOrEqual(ACCURACY_TOLERANCE);
        expect(result.final.testAccuracy).toBeGreaterThan(0.4); // far above chance (4 or 10 classes)
        epochs.forEach((e, i) => expect(Math.abs(e.record.keptFraction - wasmEpochs[i]!.record.keptFraction)).toBeLessThanOrEqual(KEPT_TOLERANCE));
      }
      const dataset = run.messages.find((m) => m.type === 'dataset');
      expect(dataset?.type === 'dataset' && dataset.model).toBe('mlp');
      const numSamples = dataset?.type === 'dataset' ? dataset.numSamples : Number.NaN;
      expect(numSamples).toBeGreaterThan(0);
      const full = epochsOf(run, 'full').map((e) => e.record);
      const infobatch = epochsOf(run, 'infobatch').map((e) => e.record);
      expect(forwarded(full)).toBe(EPOCHS * numSamples);
      expect(forwarded(infobatch)).toBeLessThan(forwarded(full));
      expect(infobatch[1]!.keptFraction).toBeLessThan(1); // the pruned epoch
      // No batch shape full data lacks (kernels compile per shape here): every epoch's last batch
      // is a whole batch or as long as full data's.
      const batchSize = DEMO_RECIPE.batchSize;
      for (const record of infobatch) expect([0, numSamples % batchSize], `plan length ${record.planLength}`).toContain(record.planLength % batchSize);
      const seconds = (records: EpochRecord[]) => records.reduce((sum, r) => sum + r.trainSeconds, 0);
      console.log(`${backend}: InfoBatch saved ${(100 * (1 - forwarded(infobatch) / forwarded(full))).toFixed(1)}% of sample passes and ${(100 * (1 - seconds(infobatch) / seconds(full))).toFixed(1)}% of training seconds (${seconds(full).toFixed(2)} s full data)`);
      // Where the time goes: the pruned epochs against the same epochs of full data, and the epochs
      // both runs train on full data (their difference is the run-to-run noise of this machine).
      const pruned = infobatch.flatMap((r, i) => (r.keptFraction < 1 ? [i] : []));
      const others = infobatch.flatMap((r, i) => (r.keptFraction < 1 ? [] : [i]));
      const pick = (records: EpochRecord[], epochs: number[]) => epochs.map((i) => records[i]!);
      const percent = (part: number, whole: number) => `${(100 * (1 - part / whole)).toFixed(1)}%`;
      console.log(
        `${backend}: pruned epochs ${pruned.join(', ')}: ${percent(forwarded(pick(infobatch, pruned)), forwarded(pick(full, pruned)))} fewer passes, ` +
          `${percent(seconds(pick(infobatch, pruned)), seconds(pick(full, pruned)))} less time (${seconds(pick(infobatch, pruned)).toFixed(2)} s against ${seconds(pick(full, pruned)).toFixed(2)} s); ` +
          `epochs ${others.join(', ')} (full data in both runs): ${seconds(pick(infobatch, others)).toFixed(2)} s against ${seconds(pick(full, others)).toFixed(2)} s`,
      );
    },
    RUN_TIMEOUT_MS * 2,
  );

  it.each(GPU_BACKENDS)(
    'adapter checks on %s: out-of-order reads recorded in order, update in minimize and tidy, loss helpers match cpu',
    async (backend) => {
      const page = await browser!.newPage();
      const consoleErrors = watchErrors(page);
      const started = performance.now();
      await page.goto(`${url}gpu-checks.html?backend=${backend}`);
      await page.waitForFunction(() => document.body.dataset['state'] !== 'running', null, { timeout: 120_000 });
      const { checks, error } = await page.evaluate(() => {
        const scope = globalThis as { gpuChecks?: GpuCheckResults; gpuCheckError?: string };
        return { checks: scope.gpuChecks, error: scope.gpuCheckError };
      });
      await page.close();
      expect(error).toBeUndefined();
      expect(consoleErrors).toEqual([]);
      const { ordering, training, losses, oddBatch } = checks!;
      console.log(
        `${backend} adapter checks in ${((performance.now() - started) / 1000).toFixed(1)} s on ${checks!.device}\n` +
          `  read completion order: ${ordering.completionOrder.join(', ')}\n` +
          `  training: max |w − w_cpu| ${training.maxWeightDiff.toExponential(2)}, max |score − score_cpu| ${training.maxScoreDiff.toExponential(2)}\n` +
          `  loss helpers, max |gpu − cpu|: ${Object.entries(losses).map(([name, l]) => `${name} ${l.maxAbsDiff.toExponential(2)} (of ${l.maxAbs.toFixed(2)})`).join('; ')}` +
          (oddBatch === undefined ? '' : `\n  odd last batches (MLP, 1,999 samples, packed binary ops ${oddBatch.packBinaryOps ? 'on' : 'off'}): ${oddBatch.error ?? `test accuracy ${oddBatch.testAccuracy}`}`),
      );
      expect(checks!.backend).toBe(backend);
      expect(checks!.device).toMatch(/swiftshader/i);

      // Reads really complete out of order here: each round's CPU-resident loss (updated second) is
      // read before the device-computed one (updated first) …
      expect(ordering.pendingAfterLoop).toBe(ordering.completionOrder.length);
      expect(ordering.roundsOutOfOrder).toBeGreaterThan(0);
      // … and InfoBatchTfjs still records them in update order: every score is the second loss.
      expect(ordering.scoresFromLaterUpdate).toBe(ordering.samples);
      expect(ordering.numTensorsAfter).toBe(ordering.numTensorsBefore);

      // update inside optimizer.minimize (even steps) and tf.tidy (odd steps) trains exactly like cpu, within float32 rounding.
      expect(training.objectives).toHaveLength(training.cpuObjectives.length);
      training.objectives.forEach((value, i) => expect(value).toBeCloseTo(training.cpuObjectives[i]!, 5));
      expect(training.maxWeightDiff).toBeLessThan(1e-5);
      expect(training.scored).toBe(96);
      expect(training.maxScoreDiff).toBeLessThan(1e-5);
      expect(new Set(training.numTensors).size, `numTensors − pending per step ${training.numTensors}`).toBe(1);

      // webgl: a batch of an odd number of samples trains like any other (tfjs-backend-webgl 4.22's
      // packed binary ops made the weights NaN there; selectBackend turns them off).
      if (backend === 'webgl') {
        expect(oddBatch?.packBinaryOps).toBe(false);
        expect(oddBatch?.error).toBeUndefined();
        expect(oddBatch?.testAccuracy).toBeGreaterThan(0.4);
      } else {
        expect(oddBatch).toBeUndefined();
      }

      expect(Object.keys(losses)).toHaveLength(6);
      for (const [name, l] of Object.entries(losses)) {
        expect(l.length, name).toBe(24);
        expect(l.maxAbsDiff, name).toBeLessThanOrEqual(LOSS_ABS_TOLERANCE + LOSS_REL_TOLERANCE * l.maxAbs);
      }
    },
    180_000,
  );
});
