import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directoryStorage } from '../../src/data/node/checkpoint-directory.js';

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
});

describe('directoryStorage', () => {
  it('reads, writes (creating the folder), lists and removes files; absent names read as undefined', async () => {
    const root = await mkdtemp(join(tmpdir(), 'infobatch-storage-'));
    folders.push(root);
    const storage = directoryStorage(join(root, 'run', 'ckpt'));
    expect(await storage.list()).toEqual([]);
    expect(await storage.read('manifest.json')).toBeUndefined();
    await storage.write('a.bin', Uint8Array.of(1, 2, 3));
    await storage.write('a.bin', Uint8Array.of(4, 5));
    expect(Array.from((await storage.read('a.bin'))!)).toEqual([4, 5]);
    expect(await storage.list()).toEqual(['a.bin']); // no temporary file left behind
    await storage.remove('a.bin');
    await storage.remove('a.bin');
    expect(await readdir(join(root, 'run', 'ckpt'))).toEqual([]);
  });

  it('refuses names that are not plain file names, and a folder that is a file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'infobatch-storage-'));
    folders.push(root);
    const storage = directoryStorage(root);
    for (const name of ['../x', 'a/b', '', '.hidden']) {
      await expect(storage.write(name, new Uint8Array(1))).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    await writeFile(join(root, 'file'), 'x');
    const onFile = directoryStorage(join(root, 'file'));
    await expect(onFile.list()).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('is a file') });
    await expect(onFile.read('m.json')).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(onFile.write('m.json', new Uint8Array(1))).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(() => directoryStorage('')).toThrow(expect.objectContaining({ code: 'INVALID_TYPE' }));
  });
});
