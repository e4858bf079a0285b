/**
 * Node-only lock of a folder by one run, across processes: a lock file created atomically (written
 * in full to a temporary file, then hard-linked to its name, which fails when the name exists),
 * holding the owner's process id and host name. A lock left by a process that died on this host
 * is taken over; one held by a live process, or by a process on another host (whose liveness
 * cannot be checked from here), is an error naming the holder.
 */
import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { InfoBatchError } from '../../core/errors.js';
import { ensureDirectory } from './atomic-write.js';

/** Name of the lock file inside the locked folder. */
export const LOCK_FILE = 'infobatch.lock';
const FORMAT = 'infobatch-folder-lock';

/** What a lock file holds. @internal */
export interface LockOwner {
  readonly format: string;
  /** Process id of the owner. */
  readonly pid: number;
  /** Host name of the owner's machine. */
  readonly host: string;
  /** What holds it, e.g. `trainWithInfoBatch`. */
  readonly holder: string;
  /** When it was taken (ISO 8601). */
  readonly since: string;
  /** Unique per acquisition: a release removes only its own lock. */
  readonly token: string;
}

/** Lock files this process holds (resolved paths), so that its own pid is not mistaken for a dead owner's reuse. */
const heldHere = new Set<string>();

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether a process with this id runs on this host (EPERM: it runs, under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    return 'unreadable';
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner> | null;
    if (typeof owner !== 'object' || owner === null || owner.format !== FORMAT || !Number.isInteger(owner.pid) || typeof owner.host !== 'string' || typeof owner.token !== 'string') return 'unreadable';
    return owner as LockOwner;
  } catch {
    return 'unreadable';
  }
}

const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

/** An unwritable folder, said before any training step. */
function notWritable(dir: string, cause: unknown): InfoBatchError {
  return new InfoBatchError('INVALID_OPTION', `Checkpoint folder ${JSON.stringify(dir)} is not writable (${errorCode(cause)}: ${(cause as Error).message}); nothing was trained. Choose a folder this process can write to, or fix its permissions.`, { cause });
}

/**
 * Writes the owner's record to a new temporary file and hard-links it to `path`, so the lock
 * appears whole or not at all; false when `path` exists. Where hard links are not supported, the
 * lock file is created exclusively instead.
 */
async function createLock(dir: string, path: string, owner: LockOwner): Promise<boolean> {
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const text = JSON.stringify(owner);
  let handle: FileHandle | undefined;
  try {
    try {
      handle = await open(temporary, 'wx');
      await handle.writeFile(text);
      await handle.sync();
      await handle.close();
      handle = undefined;
    } catch (cause) {
      if (UNWRITABLE.has(errorCode(cause) ?? '')) throw notWritable(dir, cause);
      throw cause;
    }
    try {
      await link(temporary, path);
      return true;
    } catch (cause) {
      if (errorCode(cause) === 'EEXIST') return false;
    }
    try {
      handle = await open(path, 'wx');
      await handle.writeFile(text);
      await handle.sync();
      return true;
    } catch (cause) {
      if (errorCode(cause) === 'EEXIST') return false;
      throw cause;
    }
  } finally {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
  }
}

function describeOwner(owner: LockOwner): string {
  const who = owner.pid === process.pid && owner.host === hostname() ? `this process (pid ${owner.pid})` : `process ${owner.pid} on host ${JSON.stringify(owner.host)}`;
  return `${owner.holder} in ${who}, since ${owner.since}`;
}

/**
 * Takes the lock of folder `dir` for `holder` (creating the folder when missing), and returns the
 * function that releases it. A stale lock (its owner's process is gone from this host) is taken
 * over: it is moved aside, checked to be the very lock judged stale (else put back), and replaced.
 * @throws InfoBatchError 'INVALID_STATE' naming the holder when another live run holds the folder;
 *   'INVALID_OPTION' when the folder cannot be written.
 * @internal
 */
export async function lockFolder(dir: string, holder: string): Promise<() => Promise<void>> {
  try {
    await ensureDirectory(dir, 'Checkpoint folder');
  } catch (cause) {
    if (UNWRITABLE.has(errorCode(cause) ?? '')) throw notWritable(dir, cause);
    throw cause;
  }
  const path = resolve(join(dir, LOCK_FILE));
  const owner: LockOwner = { format: FORMAT, pid: process.pid, host: hostname(), holder, since: new Date().toISOString(), token: randomUUID() };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createLock(dir, path, owner)) {
      heldHere.add(path);
      return async () => {
        const current = await readOwner(path);
        if (typeof current === 'object' && current.token === owner.token) await unlink(path).catch(() => undefined);
        heldHere.delete(path);
      };
    }
    const current = await readOwner(path);
    if (current === undefined) continue; // released meanwhile: try again
    if (current === 'unreadable') {
      throw new InfoBatchError('INVALID_STATE', `Checkpoint folder ${JSON.stringify(dir)} holds a lock file ${LOCK_FILE} that is not an infobatch lock; if no run uses this folder, delete ${JSON.stringify(path)}.`);
    }
    const stale = current.host === hostname() && (current.pid === process.pid ? !heldHere.has(path) : !isAlive(current.pid));
    if (!stale) {
      throw new InfoBatchError('INVALID_STATE', `Checkpoint folder ${JSON.stringify(dir)} is in use by another run: ${describeOwner(current)}. Two runs on one checkpoint folder would overwrite each other's checkpoints; wait until that run ends, or give this one another folder.${current.host === hostname() ? '' : ` If that process is gone, delete ${JSON.stringify(path)}.`}`);
    }
    // Take over the dead owner's lock: move it aside, and put it back if it was not that one.
    const aside = `${path}.${process.pid}.${randomUUID()}.stale`;
    try {
      await rename(path, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      if (UNWRITABLE.has(errorCode(error) ?? '')) throw notWritable(dir, error);
      throw error;
    }
    const moved = await readOwner(aside);
    if (typeof moved === 'object' && moved.token !== current.token) await link(aside, path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
  }
  throw new InfoBatchError('INVALID_STATE', `Checkpoint folder ${JSON.stringify(dir)}: its lock ${LOCK_FILE} kept changing hands; another run is starting on it. Give this run another folder.`);
}
