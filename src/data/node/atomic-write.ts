/**
 * Node-only durable atomic writes: every file the library writes (checkpoints, results, reports,
 * downloads) goes through {@link writeAtomically}, so a crash or a power cut leaves either the old
 * file or the new one at the destination, never a partial one.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InfoBatchError } from '../../core/errors.js';

/** Error codes of node's file system calls, when there is one. */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Creates the folder `path` (and its parents) unless it exists.
 * @param path - the folder.
 * @param name - how messages name it, e.g. `'--out'`.
 * @returns the first folder it created (as `mkdir` with `recursive`), or undefined when `path` existed.
 * @throws InfoBatchError 'INVALID_OPTION' when `path`, or a folder on its way, is a file.
 *
 * @example
 * ```ts
 * await ensureDirectory('results/run1', "'--out'");
 * ```
 */
export async function ensureDirectory(path: string, name = 'folder'): Promise<string | undefined> {
  try {
    return await mkdir(path, { recursive: true });
  } catch (cause) {
    const code = errorCode(cause);
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new InfoBatchError('INVALID_OPTION', `${name} ${JSON.stringify(path)} must be a folder but it, or a folder on its path, is a file; choose another folder.`, { cause });
    }
    throw cause;
  }
}

/** Flushes a folder's entries (the rename) to disk; a no-op where folders cannot be opened (Windows). */
async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch {
    // Opening or syncing a folder is not supported on every platform; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes `data` to `dest` atomically and durably: into a uniquely named temporary file in the same
 * folder, flushed to disk (fsync), renamed over `dest`, then the folder flushed. Creates the folder
 * when missing. On error the temporary file is removed and `dest` is untouched.
 * @param dest - final path.
 * @param data - contents (text is written as UTF-8).
 * @throws InfoBatchError 'INVALID_OPTION' when `dest` is a folder or its folder is a file.
 *
 * @example
 * ```ts
 * await writeAtomically('out/results.json', JSON.stringify(results));
 * await writeAtomically('out/run.ckpt', ib.saveState());
 * ```
 */
export async function writeAtomically(dest: string, data: Uint8Array | string): Promise<void> {
  const folder = dirname(dest);
  await ensureDirectory(folder);
  const temporary = `${dest}.${process.pid}.${randomUUID()}.tmp`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporary, dest);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    if (errorCode(cause) === 'EISDIR') {
      throw new InfoBatchError('INVALID_OPTION', `Cannot write ${JSON.stringify(dest)}: it is a folder; nothing was written.`, { cause });
    }
    throw cause;
  }
  await syncDirectory(folder);
}
