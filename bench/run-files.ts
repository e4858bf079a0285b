/**
 * One JSON file per finished run, so that an interrupted benchmark continues where it stopped:
 * a run is written atomically and durably when it ends, and a run whose file exists is skipped.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `text` to `path` durably: a temporary file in the same folder, fsync, rename, fsync of the folder. */
export async function writeDurably(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** Writes one run's record as indented JSON (see {@link writeDurably}). */
export function writeRecord(path: string, record: object): Promise<void> {
  return writeDurably(path, `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * The record in `path`; undefined when there is none, or when the file is not readable JSON (a
 * warning names it, prefixed with `bench`, and the run is done again).
 */
export async function readRecord<T>(bench: string, path: string): Promise<T | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    console.warn(`${bench}: ${path} is not readable JSON; running it again.`);
    return undefined;
  }
}
