/**
 * Checkpoints of whole tfjs training runs, for {@link trainWithInfoBatch} and
 * {@link fitWithInfoBatch} (the `checkpoint` option): one format, written by the one training
 * engine after steps and epochs, read back when the same call starts again.
 *
 * A checkpoint is a set of payload files and a manifest that names them. Each payload is stored
 * in parts of at most 256 MiB (`ckpt-<n>.<kind>.<part>.bin`), written and read one array per part,
 * so that its size is bounded by the disk, not by the largest array (one typed array per file
 * fails above 4 GiB in Node 20); version 1 wrote each payload as one file (`ckpt-<n>.<kind>.bin`),
 * and is still read:
 * - `model`: every weight of the model (trainable or not), raw little-endian values;
 * - `optimizer`: the optimizer's `getWeights()` (its iteration count and slots, in
 *   the order it creates them) plus the hidden accumulators `setWeights` does not restore
 *   exactly (Adam's `β^t` products);
 * - `infobatch`: {@link InfoBatch.saveStateChunks} (scores, the plan in progress and the
 *   position in it);
 * - `manifest.json`: format and version, the position (next epoch and step), the partial sums of
 *   the epoch in progress, the optimizer's learning rate, the front-end's history so far, each
 *   payload's length and CRC-32, and a CRC-32 of the manifest itself.
 *
 * Commit protocol: the payloads of checkpoint `n` are written first (each atomically and
 * durably), then the manifest is replaced atomically: that rename is the commit. A crash before
 * it leaves the manifest naming checkpoint `n − 1`, whose files are only removed after the new
 * manifest is in place. Leftovers (temporary files, payloads of an uncommitted checkpoint) are
 * removed when a run opens the checkpoint and after each commit.
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';
import { canonicalJson } from '../core/canonical-json.js';
import type { CheckpointStorage } from '../core/checkpoint-storage.js';
import { crc32 } from '../core/crc32.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { InfoBatch } from '../core/info-batch.js';
import { assertInteger, assertKnownKeys, assertOptionBag } from '../core/validate.js';
import { isNode } from './backend.js';
import { trainableVariables, type CheckpointPoint, type EngineCheckpointer, type TrainableModel, type TrainPosition } from './engine.js';
import type { InfoBatchTfjs } from './info-batch-tfjs.js';
import { learningRateOf, setLearningRate } from './learning-rate.js';
import { claimOf } from './run-claim.js';

declare const TextEncoder: { new (): { encode(text: string): Uint8Array } };
declare const TextDecoder: { new (label?: string, options?: { fatal?: boolean }): { decode(bytes: Uint8Array): string } };

export type { CheckpointStorage } from '../core/checkpoint-storage.js';

/**
 * The `checkpoint` option of {@link trainWithInfoBatch} and {@link fitWithInfoBatch}: where to
 * keep the run's checkpoint (exactly one of `dir` and `storage`) and how often to write it.
 * Without `everySteps` and `everyEpochs`, a checkpoint is written after every epoch. One is
 * always written when the run ends. The folder (or storage) belongs to one run: files named
 * `ckpt-*` in it that the committed manifest does not name are removed.
 *
 * @example
 * ```ts
 * // Run this again after a crash: it continues from the last checkpoint, bit for bit.
 * await trainWithInfoBatch(model, { x, y }, { epochs: 30, batchSize: 128, optimizer, loss,
 *   checkpoint: { dir: 'runs/mlp', everySteps: 200 } });
 * ```
 */
export interface RunCheckpointOptions {
  /**
   * Folder of the checkpoint (Node only; created when missing). Its file storage is loaded on
   * demand from `infobatch/data/node`; code bundled into one file should pass
   * `storage: directoryStorage(dir)` instead.
   */
  readonly dir?: string;
  /** Any {@link CheckpointStorage} instead of a folder (e.g. IndexedDB in a browser). */
  readonly storage?: CheckpointStorage;
  /** Write after every `everySteps`-th optimizer step of the run. */
  readonly everySteps?: number;
  /** Write after every `everyEpochs`-th epoch. @defaultValue 1 when `everySteps` is not given */
  readonly everyEpochs?: number;
}

/**
 * Version of the run checkpoint manifest; bumped on any change of its meaning. Version 2 stores
 * each payload in parts (`files[kind].parts`); version 1 (one file per payload) is still read.
 */
export const RUN_CHECKPOINT_VERSION = 2;
/** Largest part of a payload file, in bytes. */
let partBytes = 256 * 2 ** 20;

/** Sets the largest part of a payload (tests use small parts); returns the previous value. @internal */
export function setRunCheckpointPartBytes(bytes: number): number {
  const previous = partBytes;
  partBytes = bytes;
  return previous;
}
const FORMAT = 'infobatch-run-checkpoint';
const MANIFEST = 'manifest.json';
/** Written and removed when a storage without `lock` is opened (an owned name: a leftover of it is removed). */
const WRITE_PROBE = 'ckpt-write-check.tmp';
const PAYLOADS = ['model', 'optimizer', 'infobatch'] as const;
type PayloadKind = (typeof PAYLOADS)[number];

/** One tensor inside a payload file. */
interface TensorEntry {
  readonly name: string;
  readonly dtype: 'float32' | 'int32';
  readonly shape: number[];
  /** Byte offset in the payload. */
  readonly offset: number;
  /** Number of values. */
  readonly size: number;
}

interface FileEntry {
  readonly name: string;
  readonly bytes: number;
  readonly crc32: number;
}

/** A payload: its parts, in order (one for a version-1 manifest), and its length. */
interface PayloadEntry {
  readonly bytes: number;
  readonly parts: readonly FileEntry[];
}

/** What the manifest holds (numbers that may be NaN or ±Infinity are encoded, see {@link encodeNumbers}). */
interface ManifestBody {
  readonly where: string;
  readonly sequence: number;
  /** The run ended (all epochs, or stopped): the same call returns at once. */
  readonly finished: boolean;
  /** Where the run continues. */
  readonly next: TrainPosition;
  /** Optimizer steps run so far, over the whole run. */
  readonly stepsDone: number;
  /** `Σ w·l` (float32) of the steps of `next.epoch` already run. */
  readonly epochLossSum: number;
  readonly run: { readonly numSamples: number; readonly epochs: number; readonly batchSize: number };
  readonly model: readonly TensorEntry[];
  readonly optimizer: {
    readonly className: string;
    readonly learningRate: number | null;
    readonly weights: readonly TensorEntry[];
    readonly hidden: readonly TensorEntry[];
  };
  readonly files: Readonly<Record<PayloadKind, PayloadEntry>>;
  /** The front-end's own state (its history so far). */
  readonly front: unknown;
}

/** What {@link openRunCheckpoint} restored. */
export interface ResumedRun {
  /** Where the run continues. */
  readonly next: TrainPosition;
  /** Whether the run had ended: nothing is left to train. */
  readonly finished: boolean;
  /** `Σ w·l` of the steps of `next.epoch` already run. */
  readonly epochLossSum: number;
  /** The front-end state saved with it. */
  readonly front: unknown;
}

/** Context of a run's checkpoint. */
export interface RunCheckpointContext {
  readonly where: string;
  readonly model: TrainableModel;
  readonly optimizer: tf.Optimizer;
  readonly ibt: InfoBatchTfjs;
  readonly numSamples: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** The front-end's state to save (its history so far), JSON-like; NaN and ±Infinity are kept. */
  readonly frontState: () => unknown | Promise<unknown>;
  /** Whether a saved front-end state is one this front-end wrote; checked before anything is restored. */
  readonly isFrontState: (front: unknown) => boolean;
}

/** Optimizer fields that `setWeights` does not restore bit for bit: Adam recomputes `β^(t+1)` with `pow`, while training multiplies. */
const HIDDEN_OPTIMIZER_VARIABLES: Readonly<Record<string, readonly string[]>> = { Adam: ['accBeta1', 'accBeta2'] };

function corrupt(where: string, what: string): InfoBatchError {
  return new InfoBatchError('CORRUPT_CHECKPOINT', `The run checkpoint read by ${where} is not usable: ${what}. Delete the checkpoint folder (or storage) to start the run again.`);
}

/** Non-finite numbers and −0 survive JSON as `{ "$number": "NaN" }` …; everything else is plain JSON. */
function encodeNumbers(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
    return { $number: Object.is(value, -0) ? '-0' : String(value) };
  }
  if (Array.isArray(value)) return value.map(encodeNumbers);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeNumbers(v)]));
  }
  return value;
}

function decodeNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeNumbers);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === '$number') {
      const text = entries[0]![1];
      if (text === '-0') return -0;
      if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return Number(text);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, decodeNumbers(v)]));
  }
  return value;
}

/** Validates the `checkpoint` option. @internal */
export function assertRunCheckpointOptions(where: string, option: unknown): asserts option is RunCheckpointOptions {
  assertOptionBag(where, 'checkpoint', option);
  assertKnownKeys(`${where} checkpoint`, option, ['dir', 'storage', 'everySteps', 'everyEpochs']);
  const { dir, storage, everySteps, everyEpochs } = option as RunCheckpointOptions;
  if ((dir === undefined) === (storage === undefined)) {
    throw new InfoBatchError('INVALID_OPTION', `'checkpoint' passed to ${where} needs exactly one of 'dir' (a folder, in Node) and 'storage' (a CheckpointStorage) but got ${dir === undefined ? 'neither' : 'both'}.`);
  }
  if (dir !== undefined && (typeof dir !== 'string' || dir.length === 0)) {
    throw new InfoBatchError('INVALID_TYPE', `'checkpoint.dir' passed to ${where} must be a non-empty folder path but got ${describeValue(dir)}.`);
  }
  if (storage !== undefined) {
    const methods = ['read', 'write', 'list', 'remove'] as const;
    if (typeof storage !== 'object' || storage === null || methods.some((m) => typeof (storage as unknown as Record<string, unknown>)[m] !== 'function')) {
      throw new InfoBatchError('INVALID_TYPE', `'checkpoint.storage' passed to ${where} must be a CheckpointStorage { read, write, list, remove } but got ${describeValue(storage)}.`);
    }
  }
  if (everySteps !== undefined) assertInteger(where, 'checkpoint.everySteps', everySteps, 1);
  if (everyEpochs !== undefined) assertInteger(where, 'checkpoint.everyEpochs', everyEpochs, 1);
}

/** Imports a module only Node has, hidden from bundlers (browser bundles stay free of `node:*`). */
function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

async function resolveStorage(where: string, option: RunCheckpointOptions): Promise<CheckpointStorage> {
  if (option.storage !== undefined) return option.storage;
  if (!isNode()) {
    throw new InfoBatchError('UNSUPPORTED', `'checkpoint.dir' passed to ${where} needs Node (a file system); in a browser pass 'checkpoint.storage', a CheckpointStorage over IndexedDB or the Origin Private File System.`);
  }
  // The folder storage lives in the node-only data layer; the extension follows this module's
  // (sources run through tsx or vitest, the build through node).
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const module = await importNodeOnly<{ directoryStorage(dir: string): CheckpointStorage }>(new URL(`../data/node/checkpoint-directory${extension}`, import.meta.url).href);
  return module.directoryStorage(option.dir!);
}

/** The variables holding a model's state: all its weights (trainable or not), in order. */
function modelVariables(model: TrainableModel, where: string): tf.Variable[] {
  const weights = (model as { weights?: unknown }).weights;
  const list = Array.isArray(weights) ? (weights as Array<tf.Variable | { read(): tf.Tensor }>) : model.trainableWeights;
  return list.map((w, i) => {
    const variable = typeof (w as { read?: unknown }).read === 'function' ? (w as { read(): tf.Tensor }).read() : w;
    if (!(variable instanceof tf.Variable)) {
      throw new InfoBatchError('INVALID_TYPE', `${where} cannot checkpoint the model: its weight ${i} is ${describeValue(variable)}, not a tf.Variable.`);
    }
    return variable;
  });
}

function hiddenVariables(optimizer: tf.Optimizer): Array<[string, tf.Variable]> {
  const names = HIDDEN_OPTIMIZER_VARIABLES[optimizer.getClassName()] ?? [];
  return names.map((name) => {
    const variable = (optimizer as unknown as Record<string, unknown>)[name];
    if (!(variable instanceof tf.Variable)) {
      throw new InfoBatchError('UNSUPPORTED', `Cannot checkpoint the ${optimizer.getClassName()} optimizer: its '${name}' accumulator is not where this tfjs version keeps it.`);
    }
    return [name, variable];
  });
}

/**
 * Writes tensors' values as one payload (4-byte values, little-endian on every platform tfjs runs
 * on) in parts of at most {@link partBytes}, each written as it fills: no array larger than a
 * part and one tensor's values. Returns where each tensor is (byte offsets in the whole payload).
 */
async function writeTensors(where: string, storage: CheckpointStorage, prefix: string, named: ReadonlyArray<{ name: string; tensor: tf.Tensor }>): Promise<{ entries: TensorEntry[]; payload: PayloadEntry }> {
  let total = 0;
  for (const { name, tensor } of named) {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
      throw new InfoBatchError('UNSUPPORTED', `${where} cannot checkpoint ${JSON.stringify(name)}: its dtype is ${tensor.dtype}; float32 and int32 are supported.`);
    }
    total += tensor.size * 4;
  }
  const parts = new PartWriter(storage, prefix, total);
  const entries: TensorEntry[] = [];
  for (const { name, tensor } of named) {
    const values = (await tensor.data()) as Float32Array | Int32Array;
    entries.push({ name, dtype: tensor.dtype as 'float32' | 'int32', shape: [...tensor.shape], offset: parts.written, size: values.length });
    await parts.add(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return { entries, payload: await parts.finish() };
}

/** Cuts a stream of bytes into parts of at most {@link partBytes}, each written (atomically) as soon as it is full. */
class PartWriter {
  written = 0;
  private readonly parts: FileEntry[] = [];
  private part: Uint8Array;
  private used = 0;

  constructor(private readonly storage: CheckpointStorage, private readonly prefix: string, private readonly total: number) {
    this.part = new Uint8Array(Math.min(partBytes, total));
  }

  async add(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length; ) {
      const n = Math.min(this.part.length - this.used, bytes.length - at);
      this.part.set(bytes.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      this.written += n;
      if (this.used === this.part.length) await this.flush();
    }
  }

  async finish(): Promise<PayloadEntry> {
    if (this.used > 0 || this.parts.length === 0) await this.flush();
    return { bytes: this.written, parts: this.parts };
  }

  private async flush(): Promise<void> {
    const data = this.part.subarray(0, this.used);
    const name = `${this.prefix}.${this.parts.length}.bin`;
    this.parts.push({ name, bytes: data.length, crc32: crc32(data) });
    await this.storage.write(name, data);
    this.part = new Uint8Array(Math.min(partBytes, this.total - this.written));
    this.used = 0;
  }
}

/** Copies `length` bytes from `offset` of a payload read as parts. */
function payloadBytes(parts: readonly Uint8Array[], offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let start = 0;
  let written = 0;
  for (const part of parts) {
    const end = start + part.length;
    if (end > offset + written && written < length) {
      const from = offset + written - start;
      const n = Math.min(part.length - from, length - written);
      out.set(part.subarray(from, from + n), written);
      written += n;
    }
    start = end;
  }
  return out;
}

function unpackTensor(entry: TensorEntry, parts: readonly Uint8Array[]): tf.Tensor {
  const copy = payloadBytes(parts, entry.offset, entry.size * 4);
  const values = entry.dtype === 'float32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  return tf.tensor(values, entry.shape, entry.dtype);
}

function isInteger(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function checkEntries(where: string, label: string, entries: unknown, payloadBytes: number): TensorEntry[] {
  if (!Array.isArray(entries)) throw corrupt(where, `'${label}' is not a list`);
  return entries.map((entry: unknown, i) => {
    const e = entry as Partial<TensorEntry> | null;
    const ok = typeof e === 'object' && e !== null && typeof e.name === 'string' && (e.dtype === 'float32' || e.dtype === 'int32') &&
      Array.isArray(e.shape) && e.shape.every((d) => isInteger(d, 0, 2 ** 31)) && isInteger(e.offset, 0) && isInteger(e.size, 0) &&
      e.shape.reduce((a, b) => a * b, 1) === e.size && e.offset % 4 === 0 && e.offset + e.size * 4 <= payloadBytes;
    if (!ok) throw corrupt(where, `${label}[${i}] (${describeValue(entry)}) does not describe a tensor inside its ${payloadBytes}-byte payload`);
    return e as TensorEntry;
  });
}

/** Parses and checks a manifest's bytes (CRC, then every field a CRC cannot vouch for). */
function parseManifest(where: string, bytes: Uint8Array): ManifestBody {
  let parsed: { format?: unknown; version?: unknown; crc32?: unknown; body?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as typeof parsed;
  } catch {
    throw corrupt(where, `${MANIFEST} is not valid UTF-8 JSON (${bytes.length} bytes)`);
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.format !== FORMAT) throw corrupt(where, `${MANIFEST} is not a run checkpoint manifest (format ${describeValue(parsed?.format)})`);
  if (parsed.version !== 1 && parsed.version !== RUN_CHECKPOINT_VERSION) {
    throw new InfoBatchError('CHECKPOINT_MISMATCH', `The run checkpoint read by ${where} has version ${describeValue(parsed.version)}; this version of infobatch reads versions 1 to ${RUN_CHECKPOINT_VERSION}.`);
  }
  if (parsed.crc32 !== crc32(new TextEncoder().encode(canonicalJson(parsed.body)))) throw corrupt(where, `${MANIFEST} fails its CRC-32 check`);
  const decoded = decodeNumbers(parsed.body) as Omit<ManifestBody, 'files'> & { files?: Record<string, unknown> };
  const isFile = (file: unknown): file is FileEntry => {
    const f = file as Partial<FileEntry> | null;
    return typeof f === 'object' && f !== null && typeof f.name === 'string' && /^ckpt-\d+\.[a-z]+(\.\d+)?\.bin$/.test(f.name) && isInteger(f.bytes, 0) && isInteger(f.crc32, 0, 0xffffffff);
  };
  const files = {} as Record<PayloadKind, PayloadEntry>;
  for (const kind of PAYLOADS) {
    const entry = decoded.files?.[kind] as { bytes?: unknown; parts?: unknown } | undefined;
    // Version 1: one file per payload; version 2: its parts.
    const payload = parsed.version === 1
      ? (isFile(entry) ? { bytes: entry.bytes, parts: [entry] } : undefined)
      : (typeof entry === 'object' && entry !== null && Array.isArray(entry.parts) && entry.parts.length > 0 && entry.parts.every(isFile) && isInteger(entry.bytes, 0) &&
        entry.parts.reduce((sum: number, part: FileEntry) => sum + part.bytes, 0) === entry.bytes ? { bytes: entry.bytes, parts: entry.parts as FileEntry[] } : undefined);
    if (payload === undefined) throw corrupt(where, `the manifest's '${kind}' file entry is ${describeValue(entry)}`);
    files[kind] = payload;
  }
  const body = { ...decoded, files } as ManifestBody;
  const { next, run } = body;
  const fine = typeof body.where === 'string' && isInteger(body.sequence, 1) && typeof body.finished === 'boolean' &&
    typeof next === 'object' && next !== null && isInteger(next.epoch, 0) && isInteger(next.step, 0) && isInteger(body.stepsDone, 0) &&
    typeof body.epochLossSum === 'number' && typeof run === 'object' && run !== null && isInteger(run.numSamples, 1) &&
    isInteger(run.epochs, 1) && isInteger(run.batchSize, 1) && next.epoch <= run.epochs && typeof body.optimizer === 'object' && body.optimizer !== null &&
    typeof body.optimizer.className === 'string';
  if (!fine) throw corrupt(where, 'the manifest has missing or out-of-range fields');
  const lr = body.optimizer.learningRate;
  if (lr !== null && !(typeof lr === 'number' && Number.isFinite(lr) && lr >= 0)) {
    throw corrupt(where, `the manifest's optimizer learning rate is ${describeValue(lr)}; a learning rate is a finite number >= 0`);
  }
  return {
    ...body,
    model: checkEntries(where, 'model', body.model, body.files.model.bytes),
    optimizer: {
      ...body.optimizer,
      weights: checkEntries(where, 'optimizer.weights', body.optimizer.weights, body.files.optimizer.bytes),
      hidden: checkEntries(where, 'optimizer.hidden', body.optimizer.hidden, body.files.optimizer.bytes),
    },
  };
}

/** Reads a payload's parts, each checked (length, CRC-32). */
async function readPayload(where: string, storage: CheckpointStorage, payload: PayloadEntry): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for (const file of payload.parts) {
    const bytes = await storage.read(file.name);
    if (bytes === undefined) throw corrupt(where, `its file ${file.name} is missing`);
    if (bytes.length !== file.bytes || crc32(bytes) !== file.crc32) throw corrupt(where, `its file ${file.name} is damaged (${bytes.length} bytes, expected ${file.bytes} with CRC-32 ${file.crc32})`);
    parts.push(bytes);
  }
  return parts;
}

/** Every file name of a manifest's payloads. */
function payloadNames(files: Readonly<Record<PayloadKind, PayloadEntry>>): Set<string> {
  return new Set(PAYLOADS.flatMap((kind) => files[kind].parts.map((part) => part.name)));
}

/** Names this checkpoint writer owns in a storage (payloads and temporary files of writes). */
function isOwnedName(name: string): boolean {
  return name.startsWith('ckpt-') || (name.startsWith(`${MANIFEST}.`) && name.endsWith('.tmp'));
}

/** The storage's names, checked: an array of strings. */
async function listNames(where: string, storage: CheckpointStorage): Promise<string[]> {
  const names: unknown = await storage.list();
  if (!Array.isArray(names) || names.some((name) => typeof name !== 'string')) {
    throw new InfoBatchError('INVALID_TYPE', `'checkpoint.storage.list()' used by ${where} must resolve to an array of names (strings) but resolved to ${describeValue(names)}; nothing was restored or removed.`);
  }
  return names as string[];
}

/** Removes leftovers: owned names the committed manifest does not reference. */
async function removeLeftovers(storage: CheckpointStorage, keep: ReadonlySet<string>, names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (isOwnedName(name) && !keep.has(name)) await storage.remove(name);
  }
}

/** Storages held by a run of this process (in-process exclusion for storages without `lock`). */
const storagesInUse = new WeakSet<CheckpointStorage>();

/**
 * Claims the storage for this run until the returned function is called: `storage.lock` when it
 * has one (the folder storage: a lock file, across processes, which also finds an unwritable
 * folder), and within this process in any case.
 */
/**
 * Checks that a storage without `lock` can be written, with a probe write, so that an unwritable
 * one is found before the first step rather than at the first checkpoint.
 */
async function assertWritable(where: string, storage: CheckpointStorage): Promise<void> {
  if (typeof storage.lock === 'function') return; // taking the lock wrote to it
  try {
    await storage.write(WRITE_PROBE, new Uint8Array(1));
    await storage.remove(WRITE_PROBE);
  } catch (cause) {
    if (cause instanceof InfoBatchError) throw cause;
    throw new InfoBatchError('INVALID_OPTION', `The checkpoint storage passed to ${where} cannot be written (${(cause as Error).message}); nothing was trained. Give a storage this run can write to.`, { cause });
  }
}

async function claimStorage(where: string, storage: CheckpointStorage): Promise<() => Promise<void>> {
  if (storagesInUse.has(storage)) {
    throw new InfoBatchError('INVALID_STATE', `The checkpoint storage passed to ${where} is in use by another run of this process; two runs on one checkpoint would overwrite each other's checkpoints. Wait until that run ends, or give this one another storage.`);
  }
  storagesInUse.add(storage);
  try {
    if (typeof storage.lock === 'function') {
      const unlock = await storage.lock(where);
      if (typeof unlock !== 'function') {
        throw new InfoBatchError('INVALID_TYPE', `'checkpoint.storage.lock()' used by ${where} must resolve to a release function but resolved to ${describeValue(unlock)}.`);
      }
      return async () => {
        storagesInUse.delete(storage);
        await unlock();
      };
    }
  } catch (error) {
    storagesInUse.delete(storage);
    throw error;
  }
  return async () => {
    storagesInUse.delete(storage);
  };
}

/**
 * Restores a run from its checkpoint, when there is one, into `ctx`'s model, optimizer and
 * InfoBatch. Everything is read and checked before anything is changed.
 */
async function restore(where: string, storage: CheckpointStorage, body: ManifestBody, ctx: RunCheckpointContext): Promise<void> {
  const { model, optimizer, ibt, numSamples, epochs, batchSize } = ctx;
  const { run } = body;
  if (run.numSamples !== numSamples || run.epochs !== epochs || run.batchSize !== batchSize) {
    throw new InfoBatchError('CHECKPOINT_MISMATCH', `The run checkpoint read by ${where} is of a run with ${run.numSamples} samples, ${run.epochs} epochs and batchSize ${run.batchSize}, but this call has ${numSamples}, ${epochs} and ${batchSize}; resume with the same arguments, or use another checkpoint folder.`);
  }
  if (body.optimizer.className !== optimizer.getClassName()) {
    throw new InfoBatchError('CHECKPOINT_MISMATCH', `The run checkpoint read by ${where} holds the state of a ${body.optimizer.className} optimizer but this call uses ${optimizer.getClassName()}.`);
  }
  const variables = modelVariables(model, where);
  if (variables.length !== body.model.length || variables.some((v, i) => v.dtype !== body.model[i]!.dtype || v.shape.join(',') !== body.model[i]!.shape.join(','))) {
    const saved = body.model.map((e) => `[${e.shape.join(', ')}]`).join(' ');
    const have = variables.map((v) => `[${v.shape.join(', ')}]`).join(' ');
    throw new InfoBatchError('CHECKPOINT_MISMATCH', `The run checkpoint read by ${where} holds model weights of shapes ${saved} but the model has ${have}; resume with the same model.`);
  }
  // tfjs optimizers keep their slots by position (slot i belongs to the i-th variable minimize
  // updates; setWeights takes them in getWeights' order: iteration count, then each kind of slot
  // for every variable), so they must match the trainable variables in number and shape.
  const trainable = trainableVariables(model, where);
  const [iter, ...slots] = body.optimizer.weights;
  const slotsFit = slots.length % trainable.length === 0 && slots.every((e, j) => e.shape.join(',') === trainable[j % trainable.length]!.shape.join(','));
  if (iter === undefined || iter.name !== 'iter' || iter.dtype !== 'int32' || iter.size !== 1 || !slotsFit) {
    throw corrupt(where, `its optimizer state (${body.optimizer.weights.length} tensors) does not match the ${trainable.length} trainable variables of the model`);
  }
  const hidden = hiddenVariables(optimizer);
  if (hidden.length !== body.optimizer.hidden.length || hidden.some(([name], i) => name !== body.optimizer.hidden[i]!.name)) {
    throw corrupt(where, `the optimizer's hidden accumulators are ${body.optimizer.hidden.map((e) => e.name).join(', ') || 'none'}, expected ${hidden.map(([n]) => n).join(', ') || 'none'}`);
  }
  const [modelParts, optimizerParts, infobatchParts] = await Promise.all(PAYLOADS.map((kind) => readPayload(where, storage, body.files[kind])));
  // The InfoBatch state is checked (and adopted) first: restoreState changes nothing on error.
  const ib: InfoBatch = ibt.ib;
  const before = ib.saveState();
  ib.restoreState(infobatchParts!);
  const point = ib.resumePoint();
  const expected = body.finished ? undefined : { epoch: body.next.epoch, position: body.next.step * batchSize };
  if (expected !== undefined && (point.epoch !== expected.epoch || point.position !== expected.position)) {
    ib.restoreState(before);
    throw corrupt(where, `its InfoBatch state resumes at epoch ${point.epoch}, position ${point.position}, but the manifest says epoch ${body.next.epoch}, step ${body.next.step}`);
  }
  tf.tidy(() => body.model.forEach((entry, i) => variables[i]!.assign(unpackTensor(entry, modelParts!))));
  // setWeights makes new slot variables; the optimizer's current ones (if it ran before) are disposed.
  const current = await optimizer.getWeights();
  tf.dispose(current.map((w) => w.tensor));
  const restored = body.optimizer.weights.map((entry) => ({ name: entry.name, tensor: unpackTensor(entry, optimizerParts!) }));
  try {
    await optimizer.setWeights(restored);
  } finally {
    tf.dispose(restored.map((w) => w.tensor));
  }
  // setWeights recomputes Adam's β products with pow(); put back the multiplied ones.
  tf.tidy(() => body.optimizer.hidden.forEach((entry, i) => hidden[i]![1].assign(unpackTensor(entry, optimizerParts!))));
  if (body.optimizer.learningRate !== null) setLearningRate(optimizer, body.optimizer.learningRate, where, 'resume with the optimizer the run was checkpointed with');
}

/**
 * Opens a run's checkpoint: validates the option, finds the storage, cleans leftovers of
 * interrupted writes and, when a committed checkpoint is there, restores the model, the
 * optimizer and the InfoBatch state from it. Returns the checkpointer the engine calls, and what
 * was resumed (undefined for a fresh run).
 * @internal
 */
export async function openRunCheckpoint(option: RunCheckpointOptions, ctx: RunCheckpointContext): Promise<{ checkpointer: RunCheckpointer; resumed?: ResumedRun }> {
  const { where, optimizer } = ctx;
  const storage = await resolveStorage(where, option);
  // Checked before any training: an optimizer whose state tfjs cannot read cannot be resumed.
  try {
    tf.dispose((await optimizer.getWeights()).filter((w) => w.name === 'iter').map((w) => w.tensor));
  } catch (cause) {
    throw new InfoBatchError('UNSUPPORTED', `${where} cannot checkpoint the ${optimizer.getClassName()} optimizer: tfjs cannot read its state (${(cause as Error).message}). Use sgd, momentum, adam, adagrad, adadelta or rmsprop.`, { cause });
  }
  hiddenVariables(optimizer);
  modelVariables(ctx.model, where);
  // The run holds the storage from here until it settles (released with its model claim).
  const claim = claimOf(ctx.model);
  if (claim === undefined) throw new InfoBatchError('INVALID_STATE', `${where} opened a run checkpoint without holding its model; this is a bug in infobatch.`);
  claim.atRelease(await claimStorage(where, storage));
  const manifestBytes = await storage.read(MANIFEST);
  let body: ManifestBody | undefined;
  if (manifestBytes !== undefined) {
    body = parseManifest(where, manifestBytes);
    if (body.where !== where) {
      throw new InfoBatchError('CHECKPOINT_MISMATCH', `The run checkpoint read by ${where} was written by ${body.where}; resume it with ${body.where}, or give ${where} another checkpoint folder (or storage). Nothing was changed.`);
    }
    if (!ctx.isFrontState(body.front)) throw corrupt(where, `its saved history is not one ${where} writes (got ${describeValue(body.front)})`);
  }
  // Listed, and checked writable, before anything is restored, so that such a storage fails first.
  const names = await listNames(where, storage);
  if (body?.finished !== true) await assertWritable(where, storage);
  if (body !== undefined) await restore(where, storage, body, ctx);
  await removeLeftovers(storage, body === undefined ? new Set() : payloadNames(body.files), names);
  const checkpointer = new RunCheckpointer(storage, option, ctx, body?.sequence ?? 0, body?.stepsDone ?? 0);
  if (body === undefined) return { checkpointer };
  return { checkpointer, resumed: { next: body.next, finished: body.finished, epochLossSum: body.epochLossSum, front: body.front } };
}

/**
 * Writes a run's checkpoints when they are due (the engine calls it after each step and epoch,
 * and when the run ends).
 * @internal
 */
export class RunCheckpointer implements EngineCheckpointer {
  private readonly everySteps: number | undefined;
  private readonly everyEpochs: number | undefined;
  private pendingStepSave = false;

  constructor(
    private readonly storage: CheckpointStorage,
    option: RunCheckpointOptions,
    private readonly ctx: RunCheckpointContext,
    private sequence: number,
    private stepsDone: number,
  ) {
    this.everySteps = option.everySteps;
    this.everyEpochs = option.everyEpochs ?? (option.everySteps === undefined ? 1 : undefined);
  }

  async afterStep(at: CheckpointPoint): Promise<void> {
    this.stepsDone++;
    if (this.everySteps === undefined || this.stepsDone % this.everySteps !== 0) return;
    // A save due on an epoch's last step is made at the epoch's end, right after.
    if (at.stepsDone >= at.steps) this.pendingStepSave = true;
    else await this.save(at, false);
  }

  async afterEpoch(at: CheckpointPoint): Promise<void> {
    if (at.next.epoch >= this.ctx.epochs) return; // the run's end writes it
    const due = this.pendingStepSave || (this.everyEpochs !== undefined && (at.epoch + 1) % this.everyEpochs === 0);
    if (due) await this.save(at, false);
  }

  async afterRun(at: CheckpointPoint): Promise<void> {
    await this.save(at, true);
  }

  private async save(at: CheckpointPoint, finished: boolean): Promise<void> {
    const { where, model, optimizer, ibt, numSamples, epochs, batchSize } = this.ctx;
    this.pendingStepSave = false;
    await ibt.flush();
    ibt.ib.markPosition(at.epoch, at.positionsDone);
    if (ibt.pending > 0) throw new InfoBatchError('INVALID_STATE', `${where}: ${ibt.pending} loss read(s) pending at a checkpoint; this is a bug in infobatch.`);
    const epochLossSum = at.lossSum === undefined ? 0 : (await at.lossSum.data())[0]!;
    const sequence = this.sequence + 1;
    const stem = `ckpt-${String(sequence).padStart(6, '0')}`;
    const variables = modelVariables(model, where);
    const modelPack = await writeTensors(where, this.storage, `${stem}.model`, variables.map((v, i) => ({ name: `${i}:${v.name}`, tensor: v })));
    const weights = await optimizer.getWeights();
    let optimizerPack: { entries: TensorEntry[]; payload: PayloadEntry };
    try {
      optimizerPack = await writeTensors(where, this.storage, `${stem}.optimizer`, [...weights, ...hiddenVariables(optimizer).map(([name, tensor]) => ({ name, tensor }))]);
    } finally {
      // getWeights returns the slot variables themselves, and a new scalar for the iteration count.
      tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor));
    }
    // The InfoBatch state, one part per chunk (nothing changes it while this awaits).
    const infobatchParts: FileEntry[] = [];
    let infobatchBytes = 0;
    for (const chunk of ibt.ib.saveStateChunks({ chunkBytes: partBytes })) {
      const name = `${stem}.infobatch.${infobatchParts.length}.bin`;
      infobatchParts.push({ name, bytes: chunk.length, crc32: crc32(chunk) });
      infobatchBytes += chunk.length;
      await this.storage.write(name, chunk);
    }
    const front = await this.ctx.frontState();
    const files: Record<PayloadKind, PayloadEntry> = { model: modelPack.payload, optimizer: optimizerPack.payload, infobatch: { bytes: infobatchBytes, parts: infobatchParts } };
    const body: ManifestBody = {
      where,
      sequence,
      finished,
      next: { epoch: at.next.epoch, step: at.next.step },
      stepsDone: this.stepsDone,
      epochLossSum,
      run: { numSamples, epochs, batchSize },
      model: modelPack.entries,
      optimizer: {
        className: optimizer.getClassName(),
        learningRate: learningRateOf(optimizer) ?? null,
        weights: optimizerPack.entries.slice(0, weights.length),
        hidden: optimizerPack.entries.slice(weights.length),
      },
      files,
      front,
    };
    const encoded = encodeNumbers(body);
    const manifest = { format: FORMAT, version: RUN_CHECKPOINT_VERSION, crc32: crc32(new TextEncoder().encode(canonicalJson(encoded))), body: encoded };
    await this.storage.write(MANIFEST, new TextEncoder().encode(JSON.stringify(manifest)));
    this.sequence = sequence;
    await removeLeftovers(this.storage, payloadNames(files), await listNames(where, this.storage));
  }
}
