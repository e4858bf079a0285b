/**
 * End to end: builds the browser demo, serves it on a free localhost port, loads it in Debian's
 * headless Chromium with a short run on the embedded Fashion-MNIST subset
 * (?epochs=4&samples=5000&test=1000&autostart=1), waits until
 * both runs finished and checks the comparison table and charts. Saves a screenshot to
 * $SCREENSHOT_DIR (or a temporary folder) and prints its path.
 * Skipped, with the reason printed, when Chromium is absent ($CHROMIUM_PATH or /usr/bin/chromium).
 */
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_BASE_ARGS, HAS_CHROMIUM, runNode, startServer } from './helpers.js';

const EPOCHS = 4;
const SAMPLES = 5000;

if (!HAS_CHROMIUM) console.warn(`test/browser/page.test.ts skipped: no Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium, or set CHROMIUM_PATH)`);

describe.skipIf(!HAS_CHROMIUM)('browser demo page (headless Chromium)', () => {
  let buildDir: string | undefined;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let url = '';

  beforeAll(async () => {
    buildDir = mkdtempSync(join(tmpdir(), 'infobatch-browser-build-'));
    await runNode(['scripts/build-browser.mjs', buildDir]);
    const started = await startServer(buildDir);
    server = started.child;
    url = started.url;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_BASE_ARGS, '--disable-gpu'],
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (server !== undefined && server.exitCode === null) server.kill('SIGTERM');
    if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  });

  it('trains full data and InfoBatch, draws both charts and fills a sane comparison table', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const foreign: string[] = [];
    const errors: string[] = [];
    page.context().on('request', (request) => {
      if (!request.url().startsWith(url) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    page.on('pageerror', (error) => errors.push(error.message));

    await page.goto(`${url}?epochs=${EPOCHS}&samples=${SAMPLES}&test=1000&autostart=1`);
    await page.waitForFunction(() => document.body.dataset['state'] === 'done' || document.body.dataset['state'] === 'error', null, { timeout: 45_000 });
    const state = await page.evaluate(() => ({
      state: document.body.dataset['state'],
      backend: document.body.dataset['backend'],
      status: document.getElementById('status')!.textContent,
      error: document.getElementById('error')!.textContent,
      header: Array.from(document.querySelectorAll('#results thead th'), (th) => th.textContent),
      rows: Array.from(document.querySelectorAll('#results tbody tr'), (tr) => Array.from((tr as HTMLTableRowElement).cells, (td) => td.textContent ?? '')),
      points: ['full', 'infobatch'].map((run) => ['#chart-accuracy', '#chart-kept'].map((chart) => document.querySelectorAll(`${chart} .series.${run} circle`).length)),
    }));

    const screenshotDir = process.env['SCREENSHOT_DIR'] ?? mkdtempSync(join(tmpdir(), 'infobatch-browser-shot-'));
    mkdirSync(screenshotDir, { recursive: true });
    const screenshot = join(screenshotDir, 'browser-demo.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`browser demo screenshot: ${screenshot}`);
    console.log([state.status, state.header.join(' | '), ...state.rows.map((r) => r.join(' | '))].join('\n'));

    expect(state.error, 'error banner').toBe('');
    expect(state.state).toBe('done');
    expect(errors).toEqual([]);
    expect(foreign, 'requests to anything but the local server').toEqual([]);
    // wasm is the page's first choice; getting it proves the .wasm binaries were served and loaded.
    expect(state.backend).toBe('wasm');
    expect(state.status).toContain('tfjs backend: wasm');
    expect(state.points).toEqual([[EPOCHS, EPOCHS], [EPOCHS, EPOCHS]]);

    expect(state.header).toEqual(['run', 'epochs', 'test accuracy', 'sample passes', 'wall-clock (s)', 'passes saved', 'time saved']);
    expect(state.rows.map((r) => r[0])).toEqual(['full data', 'InfoBatch']);
    expect(state.status).toContain('embedded Fashion-MNIST subset');
    const parsed = state.rows.map(([, epochs, accuracy, forwarded, wall, passesSaved, timeSaved]) => ({
      epochs: Number(epochs),
      accuracy: Number(/^(\d+\.\d)%$/.exec(accuracy!)?.[1]) / 100,
      forwarded: Number(forwarded!.replace(/,/g, '')),
      wall: Number(wall),
      passesSaved: passesSaved!,
      timeSaved: timeSaved!,
    }));
    const [full, infobatch] = parsed as [(typeof parsed)[0], (typeof parsed)[0]];
    for (const run of parsed) {
      expect(run.epochs).toBe(EPOCHS);
      expect(run.accuracy).toBeGreaterThan(0.5); // 10 classes: chance is 10%; the CNN passes 60% within 4 epochs
      expect(run.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(run.wall) && run.wall >= 0).toBe(true);
    }
    expect(full.forwarded).toBe(EPOCHS * SAMPLES);
    expect([full.passesSaved, full.timeSaved]).toEqual(['-', '-']);
    expect(infobatch.forwarded).toBeGreaterThan(0);
    expect(infobatch.forwarded).toBeLessThan(full.forwarded);
    expect(Number(/^(\d+\.\d)%$/.exec(infobatch.passesSaved)?.[1])).toBeCloseTo((1 - infobatch.forwarded / full.forwarded) * 100, 1);
    expect(infobatch.timeSaved).toMatch(/^-?\d+\.\d%$/);
    await page.close();
  });
});
