#!/usr/bin/env node
// Fails when an import crosses the architecture's layers or forms a cycle.
// Layers, from the bottom: core+policies (pure) <- data (pure; node-only loaders in data/node*)
// <- tfjs <- experiments <- cli. The pure layers import neither tfjs nor node:*.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');
const rank = { core: 0, policies: 0, data: 1, tfjs: 2, experiments: 3, cli: 4, browser: 3 };

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const layerOf = (file) => relative(root, file).split('/')[0].replace(/\.ts$/, '');
const isNodeOnly = (file) => /\/data\/node(\.ts|\/)/.test(file) || /-node\.ts$/.test(file);
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
const graph = new Map();

for (const file of files(root)) {
  const source = readFileSync(file, 'utf8');
  const layer = layerOf(file);
  const edges = [];
  for (const match of source.matchAll(importRe)) {
    const specifier = match[1] ?? match[2];
    const dynamic = match[2] !== undefined;
    const where = relative(resolve(root, '..'), file);
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
      edges.push(target);
      const targetLayer = layerOf(target);
      if ((rank[targetLayer] ?? 99) > (rank[layer] ?? 99)) problems.push(`${where} (${layer}) imports ${specifier} from the higher layer '${targetLayer}'`);
      if (!isNodeOnly(file) && isNodeOnly(target) && layer !== 'cli' && layer !== 'experiments') problems.push(`${where} imports the node-only module ${specifier}`);
    } else if (rank[layer] <= 1 && !isNodeOnly(file)) {
      if (specifier.startsWith('node:') || specifier.startsWith('@tensorflow/')) problems.push(`${where} (pure layer '${layer}') imports ${specifier}`);
    } else if (layer === 'tfjs' && specifier.startsWith('node:') && !dynamic) {
      problems.push(`${where} statically imports ${specifier}: the tfjs adapter must load in browsers (use a guarded dynamic import)`);
    }
  }
  graph.set(resolve(file), edges);
}

// Cycle detection (depth-first search with colours).
const colour = new Map();
function visit(node, stack) {
  colour.set(node, 'grey');
  for (const next of graph.get(node) ?? []) {
    if (colour.get(next) === 'grey') {
      const cycle = [...stack.slice(stack.indexOf(next)), next].map((f) => relative(root, f));
      problems.push(`import cycle: ${cycle.join(' -> ')}`);
    } else if (!colour.has(next)) visit(next, [...stack, next]);
  }
  colour.set(node, 'black');
}
for (const node of graph.keys()) if (!colour.has(node)) visit(node, [node]);

// The browser demo's bundle (esbuild, platform 'browser', which cannot resolve Node built-ins)
// must hold no Node-only import either (scripts/build-browser.mjs).
const { checkBrowserBundle } = await import('./build-browser.mjs');
try {
  problems.push(...(await checkBrowserBundle()).problems.map((p) => `browser bundle: ${p}`));
} catch (error) {
  problems.push(`browser bundle: ${error.message}`);
}

if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-imports: ${graph.size} modules, layers respected, no cycles; the browser bundle imports no Node-only module`);
