import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { ensureDirectory, writeAtomically } from '../../src/data/node/atomic-write.js';

const events = vi.hoisted(() => [] as string[]);

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const { basename: base } = await import('node:path');
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        events.push(`sync ${base(String(args[0])).replace(/\..*\.tmp$/, '.tmp')}`);
        return sync();
      };
      return handle;
    },
    rename: async (from: string, to: string) => {
      events.push(`rename ${base(from).replace(/\..*\.tmp$/, '.tmp')} -> ${base(to)}`);
      return actual.rename(from, to);
    },
  };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infobatch-atomic-'));
  events.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeAtomically', () => {
  it('flushes the temporary file to disk before renaming it over the destination, then the folder', async () => {
    const dest = join(dir, 'results.json');
    await writeFile(dest, 'old');
    await writeAtomically(dest, '{"new":true}');
    expect(await readFile(dest, 'utf8')).toBe('{"new":true}');
    expect(events).toEqual(['sync results.tmp', 'rename results.tmp -> results.json', `sync ${basename(dir)}`]);
    expect(await readdir(dir)).toEqual(['results.json']);
  });

  it('writes bytes exactly and creates missing folders', async () => {
    const dest = join(dir, 'a', 'b', 'run.ckpt');
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 255);
    await writeAtomically(dest, bytes);
    expect(new Uint8Array(await readFile(dest))).toEqual(bytes);
  });

  it('refuses a destination that is a folder, leaving no temporary file', async () => {
    const dest = join(dir, 'taken');
    await mkdir(dest);
    await expect(writeAtomically(dest, 'x')).rejects.toMatchObject({ name: 'InfoBatchError', code: 'INVALID_OPTION', message: expect.stringMatching(/is a folder/) });
    expect(await readdir(dir)).toEqual(['taken']);
  });
});

describe('ensureDirectory', () => {
  it('creates folders and accepts existing ones', async () => {
    await ensureDirectory(join(dir, 'x', 'y'));
    await ensureDirectory(join(dir, 'x', 'y'));
    expect(await readdir(join(dir, 'x'))).toEqual(['y']);
  });

  it('refuses a path that is a file, naming it', async () => {
    const file = join(dir, 'results.json');
    await writeFile(file, '{}');
    for (const path of [file, join(file, 'sub')]) {
      const error = await ensureDirectory(path, "'--out'").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfoBatchError);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining(`'--out' ${JSON.stringify(path)} must be a folder`) });
    }
  });
});
