#!/usr/bin/env node
// Renders a report.html in headless Chromium and saves a PNG screenshot.
//
//   node scripts/screenshot.mjs <report.html> <out.png> [width height]
//
// 1. Runs Chromium with --dump-dom and checks <body data-rendered="ok"> (the page sets it after
//    drawing every chart; on a script error it sets "error" and shows a banner, whose text is
//    printed here). Without an explicit height, the page's own height (data-height) is used, so
//    the screenshot shows the whole page.
// 2. Runs Chromium again with --screenshot.
// Chromium: $CHROMIUM_PATH, else /usr/bin/chromium (Debian: apt-get install -y chromium).
// Exit codes: 0 ok, 1 render/screenshot failure, 2 bad usage or Chromium missing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const DEFAULT_WIDTH = 1280;
const DEFAULT_HEIGHT = 2400;
const MAX_HEIGHT = 16000;
const TIMEOUT_MS = Number(process.env.SCREENSHOT_TIMEOUT_MS ?? 90_000);

class Failure extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function usage(message) {
  throw new Failure(2, `${message}\nusage: node scripts/screenshot.mjs <report.html> <out.png> [width height]`);
}

/** Runs chromium with `args`; resolves { code, stdout, stderr }, rejects on spawn error or timeout. */
function runChromium(executable, args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chromium did not finish within ${TIMEOUT_MS} ms\n${stderr.slice(-2000)}`));
    }, TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

function baseFlags(userDataDir, width, height) {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    '--mute-audio',
    `--user-data-dir=${userDataDir}`,
    `--window-size=${width},${height}`,
    '--virtual-time-budget=5000',
  ];
}

function bodyAttribute(dom, name) {
  const body = /<body\b[^>]*>/i.exec(dom)?.[0] ?? '';
  return new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(body)?.[1];
}

function decodeEntities(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

async function main() {
  const [input, output, widthArg, heightArg] = process.argv.slice(2);
  if (!input || !output) usage('missing arguments');
  const width = widthArg === undefined ? DEFAULT_WIDTH : Number(widthArg);
  const explicitHeight = heightArg !== undefined;
  let height = explicitHeight ? Number(heightArg) : DEFAULT_HEIGHT;
  if (!Number.isInteger(width) || width < 100 || !Number.isInteger(height) || height < 100) usage(`width and height must be integers ≥ 100, got ${widthArg} ${heightArg}`);
  const htmlPath = resolve(input);
  if (!existsSync(htmlPath)) usage(`no such file: ${htmlPath}`);
  const outPath = resolve(output);

  const executable = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executable)) {
    throw new Failure(
      2,
      `Chromium not found at ${executable}.\n` +
        "Install Debian's build with: apt-get update && apt-get install -y chromium\n" +
        '(or point CHROMIUM_PATH at a Chromium/Chrome binary).',
    );
  }

  const url = pathToFileURL(htmlPath).href;
  const userDataDir = mkdtempSync(join(tmpdir(), 'infobatch-chromium-'));
  try {
    // Pass 1: DOM after scripts ran.
    const dump = await runChromium(executable, [...baseFlags(join(userDataDir, 'dom'), width, height), '--dump-dom', url]);
    if (dump.code !== 0 || !dump.stdout.includes('<body')) {
      throw new Failure(1, `chromium --dump-dom failed (exit ${dump.code})\n${dump.stderr.slice(-3000)}`);
    }
    const rendered = bodyAttribute(dump.stdout, 'data-rendered');
    if (rendered !== 'ok') {
      const banner = /<div id="error-banner"[^>]*>([\s\S]*?)<\/div>/.exec(dump.stdout)?.[1];
      throw new Failure(
        1,
        `the page did not finish rendering (data-rendered=${rendered ?? 'missing'})` +
          (banner ? `\npage error: ${decodeEntities(banner)}` : '\n(no error banner: did the page script run at all?)'),
      );
    }
    const pageHeight = Number(bodyAttribute(dump.stdout, 'data-height'));
    if (!explicitHeight && Number.isFinite(pageHeight) && pageHeight > 0) height = Math.min(MAX_HEIGHT, Math.max(200, pageHeight));

    // Pass 2: screenshot.
    rmSync(outPath, { force: true });
    const shot = await runChromium(executable, [...baseFlags(join(userDataDir, 'shot'), width, height), `--screenshot=${outPath}`, url]);
    if (shot.code !== 0 || !existsSync(outPath) || statSync(outPath).size === 0) {
      throw new Failure(1, `chromium --screenshot failed (exit ${shot.code})\n${shot.stderr.slice(-3000)}`);
    }
    console.log(`screenshot: rendered ok (${bodyAttribute(dump.stdout, 'data-charts') ?? '?'} charts); wrote ${outPath} (${width}x${height})`);
  } finally {
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`screenshot: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof Failure ? error.code : 1;
});
