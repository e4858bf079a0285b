/**
 * Node-only {@link CheckpointStorage} over a folder: one file per name, written with
 * {@link writeAtomically} (temporary file, fsync, rename, folder fsync).
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointStorage } from '../../core/checkpoint-storage.js';
import { describeValue, InfoBatchError } from '../../core/errors.js';
import { ensureDirectory, writeAtomically } from './atomic-write.js';
import { lockFolder } from './folder-lock.js';

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A checkpoint storage in the folder `dir` (created on the first write). Names are plain file
 * names (no separators); writes are atomic and durable. `lock` claims the folder for one run with
 * a lock file (`infobatch.lock`: process id and host), across processes.
 * @param dir - the folder.
 * @returns a {@link CheckpointStorage}.
 * @throws InfoBatchError 'INVALID_TYPE' when `dir` is not a non-empty string; the methods throw
 *   'INVALID_OPTION' when `dir` is a file.
 *
 * @example
 * ```ts
 * import { directoryStorage } from 'infobatch/data/node';
 * await trainWithInfoBatch(model, data, { ..., checkpoint: { storage: directoryStorage('runs/a'), everySteps: 100 } });
 * ```
 */
export function directoryStorage(dir: string): CheckpointStorage {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InfoBatchError('INVALID_TYPE', `'dir' passed to directoryStorage must be a non-empty folder path but got ${describeValue(dir)}.`);
  }
  const path = (name: string): string => {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new InfoBatchError('INVALID_OPTION', `Checkpoint file name ${describeValue(name)} is not a plain file name (letters, digits, '.', '_', '-').`);
    }
    return join(dir, name);
  };
  const notAFolder = (cause: unknown): never => {
    throw new InfoBatchError('INVALID_OPTION', `Checkpoint folder ${JSON.stringify(dir)} is a file; choose a folder.`, { cause });
  };
  return {
    async read(name) {
      try {
        return new Uint8Array(await readFile(path(name)));
      } catch (cause) {
        const code = errorCode(cause);
        if (code === 'ENOENT') return undefined;
        if (code === 'ENOTDIR') notAFolder(cause);
        if (code === 'EISDIR') {
          throw new InfoBatchError('INVALID_DATA', `Checkpoint file ${JSON.stringify(path(name))} is a folder, not a file; remove it (if nothing in it is yours) or choose another checkpoint folder.`, { cause });
        }
        throw cause;
      }
    },
    async write(name, data) {
      await ensureDirectory(dir, 'Checkpoint folder');
      await writeAtomically(path(name), data);
    },
    async list() {
      try {
        return await readdir(dir);
      } catch (cause) {
        const code = errorCode(cause);
        if (code === 'ENOENT') return [];
        if (code === 'ENOTDIR') notAFolder(cause);
        throw cause;
      }
    },
    lock(holder) {
      return lockFolder(dir, holder);
    },
    async remove(name) {
      try {
        await unlink(path(name));
      } catch (cause) {
        if (errorCode(cause) !== 'ENOENT') throw cause;
      }
    },
  };
}
