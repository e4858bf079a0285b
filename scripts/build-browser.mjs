#!/usr/bin/env node
// Bundles the browser demo (src/browser) into dist-browser/ with esbuild for the browser platform:
// main.js (the page), worker.js (the training worker), index.html, styles.css, the
// tfjs-backend-wasm binaries under wasm/ and the embedded dataset under data/.
//
//   node scripts/build-browser.mjs [outdir]
//
// The build fails when the bundle would import a Node-only module: esbuild's browser platform
// cannot resolve Node built-ins, and the bundle is then checked for any remaining `node:` or
// built-in import (checkBrowserBundle, which scripts/check-imports.mjs runs too).
import { builtinModules, createRequire } from 'node:module';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
// `import ... from "node:x"`, `import("node:x")`, `require("node:x")` (quotes of any kind).
const nodeImportRe = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s*)(["'`])node:[\w/.-]+\1/g;

/** esbuild options of the demo bundle. */
export function browserBuildOptions(outdir) {
  return {
    absWorkingDir: root,
    entryPoints: { main: 'src/browser/main.ts', worker: 'src/browser/worker.ts' },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  };
}

/**
 * Bundles the demo in memory and lists the Node-only imports left in it: imports esbuild kept
 * external whose path is a Node built-in, and `node:` specifiers imported by the output code.
 * Resolution errors (a static import of a Node built-in) reject.
 */
export async function checkBrowserBundle(outdir = join(root, 'dist-browser')) {
  const result = await esbuild.build({ ...browserBuildOptions(outdir), write: false });
  const problems = [];
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    for (const imp of output.imports) {
      if (builtins.has(imp.path) || imp.path.startsWith('node:')) problems.push(`${file} imports the Node-only module ${imp.path}`);
    }
  }
  for (const file of result.outputFiles) {
    if (!file.path.endsWith('.js')) continue;
    for (const match of file.text.matchAll(nodeImportRe)) problems.push(`${relative(root, file.path)} contains ${match[0]}`);
  }
  return { problems, result };
}

/** Builds dist-browser/ (or `outdir`): the bundle, the page's static files and the wasm binaries. */
export async function buildBrowser(outdir = join(root, 'dist-browser')) {
  const { problems, result } = await checkBrowserBundle(outdir);
  if (problems.length > 0) throw new Error(`the browser bundle imports Node-only modules:\n  ${problems.join('\n  ')}`);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(join(outdir, 'wasm'), { recursive: true });
  for (const file of result.outputFiles) writeFileSync(file.path, file.contents);
  for (const name of ['index.html', 'styles.css']) copyFileSync(join(root, 'src', 'browser', name), join(outdir, name));
  // The embedded demo dataset, fetched by the worker from data/.
  mkdirSync(join(outdir, 'data'), { recursive: true });
  copyFileSync(join(root, 'data', 'embedded', 'fashion-mnist-small.idx.gz'), join(outdir, 'data', 'fashion-mnist-small.idx.gz'));
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  for (const name of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasmDir, name), join(outdir, 'wasm', name));
  return result;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = resolve(process.argv[2] ?? join(root, 'dist-browser'));
  const started = performance.now();
  try {
    const result = await buildBrowser(outdir);
    const bytes = result.outputFiles.filter((f) => f.path.endsWith('.js')).reduce((sum, f) => sum + f.contents.length, 0);
    console.log(`build-browser: ${relative(process.cwd(), outdir) || '.'}/ (${(bytes / 1e6).toFixed(2)} MB of JavaScript, no Node-only imports) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.error(`build-browser: ${error.errors?.length ? esbuild.formatMessagesSync(error.errors, { kind: 'error' }).join('\n') : error.message}`);
    process.exit(1);
  }
}
