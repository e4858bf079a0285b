/**
 * Where checkpoints of whole training runs are kept: a small key-value store of byte files. Node
 * has a folder implementation (`directoryStorage` in `infobatch/data/node`); a browser can plug
 * IndexedDB or the Origin Private File System behind the same four methods.
 */

/**
 * A store of named byte files for run checkpoints. `write` must replace a name atomically (a
 * reader sees the old bytes or the new ones, never a mix) and durably (after it resolves, a crash
 * or power cut keeps the new bytes); the checkpoint writer relies on that to commit a checkpoint
 * by writing its manifest last.
 *
 * @example
 * ```ts
 * // An in-memory storage (no durability: for tests).
 * const files = new Map<string, Uint8Array>();
 * const storage: CheckpointStorage = {
 *   async read(name) { return files.get(name); },
 *   async write(name, data) { files.set(name, data.slice()); },
 *   async list() { return [...files.keys()]; },
 *   async remove(name) { files.delete(name); },
 * };
 * ```
 */
export interface CheckpointStorage {
  /** The bytes stored under `name`, or `undefined` when there are none. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Stores `data` under `name`, atomically and durably replacing what was there. */
  write(name: string, data: Uint8Array): Promise<void>;
  /** Every name stored, in any order (including leftovers of interrupted writes). */
  list(): Promise<string[]>;
  /** Removes `name`; no error when it is absent. */
  remove(name: string): Promise<void>;
  /**
   * Optional: claims the storage for one run until the returned function is called, across
   * processes (the folder storage writes a lock file with its process id and host). Rejects,
   * naming the holder, when another run holds it. Without it, runs are kept apart only within
   * one process.
   * @param holder - what takes it, e.g. `'trainWithInfoBatch'`.
   */
  lock?(holder: string): Promise<() => Promise<void>>;
}
