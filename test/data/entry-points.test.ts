/** The browser entry point (src/data/index.ts) must never reach a `node:*` import. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/** Every module reachable from `entry` through relative imports, with its bare (non-relative) imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (graph.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
      (m) => (m[1] ?? m[2])!,
    );
    graph.set(file, specs.filter((s) => !s.startsWith('.')));
    for (const s of specs.filter((s) => s.startsWith('.'))) todo.push(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  }
  return graph;
}

describe('data entry points', () => {
  it('src/data/index.ts imports nothing from node:*', () => {
    const graph = importGraph(join(SRC, 'data/index.ts'));
    expect(graph.size).toBeGreaterThan(5);
    for (const [file, bare] of graph) {
      expect(bare.filter((s) => s.startsWith('node:') || s === 'fs' || s === 'zlib'), file).toEqual([]);
      expect(file, 'the pure entry must not reach node-only modules').not.toMatch(/[\\/]node[\\/]|node\.ts$|-node\.ts$/);
    }
  });

  it('src/data/node.ts reaches the node modules and re-exports the loaders', async () => {
    const graph = importGraph(join(SRC, 'data/node.ts'));
    expect([...graph.values()].flat()).toContain('node:fs/promises');
    const mod = await import('../../src/data/node.js');
    expect(Object.keys(mod)).toEqual(
      expect.arrayContaining(['loadIdxDataset', 'loadDigits', 'loadText', 'loadAlpacaSeedTasks', 'downloadVerified']),
    );
  });
});
