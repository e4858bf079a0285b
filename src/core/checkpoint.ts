import { crc32 } from './crc32.js';
import { describeValue, InfoBatchError } from './errors.js';

// TextEncoder/TextDecoder exist in browsers and Node alike; declared here so the core needs
// neither the DOM nor the Node type definitions.
declare const TextEncoder: { new (): { encode(text: string): Uint8Array } };
declare const TextDecoder: { new (label?: string, options?: { fatal?: boolean }): { decode(bytes: Uint8Array): string } };

const MAGIC = 0x4b434249; // "IBCK" read as a little-endian u32
/**
 * Version of the checkpoint format; bumped on any layout change. Version 1 wrote section lengths
 * as u32 (so sections were limited to 4 GiB); versions 2 and 3 write each as two u32 (low, high
 * word). Version 3 keeps version 2's container and stores the plan in progress compactly (see
 * checkpoint-state.ts). All three are read.
 */
export const CHECKPOINT_FORMAT_VERSION = 3;
const FIXED_HEADER_BYTES = 16;
const TWO_POW_32 = 2 ** 32;
/** Default size of the pieces {@link encodeCheckpointChunks} yields. @internal */
export const DEFAULT_CHUNK_BYTES = 4 * 2 ** 20;

/** One section's bytes inside a decoded checkpoint, read by copying (it may span several chunks). @internal */
export interface CheckpointSection {
  /** Its length in bytes. */
  readonly length: number;
  /** Copies `target.length` bytes of the section, from its byte `offset`, into `target`. */
  copyTo(target: Uint8Array, offset?: number): void;
}

/** A decoded checkpoint: its format version, a JSON header and binary sections. @internal */
export interface CheckpointContents {
  readonly version: number;
  readonly header: Record<string, unknown>;
  readonly sections: readonly CheckpointSection[];
}

/** The fixed part of a checkpoint: version, header length and section lengths. @internal */
export interface CheckpointPrefix {
  readonly version: number;
  readonly headerLength: number;
  readonly sectionLengths: readonly number[];
}

/** What a section is written from: bytes, or 4-byte values written little-endian. @internal */
export type SectionData = Uint8Array | Int32Array | Uint32Array | Float32Array;

function lengthBytes(version: number): number {
  return version === 1 ? 4 : 8;
}

/**
 * The fixed-size start of a checkpoint (magic, version, header length, section count, section
 * lengths), for sections of any length up to 2^53 bytes. @internal
 */
export function encodeCheckpointPrefix(headerLength: number, sectionLengths: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(FIXED_HEADER_BYTES + 8 * sectionLengths.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, CHECKPOINT_FORMAT_VERSION, true);
  view.setUint32(8, headerLength, true);
  view.setUint32(12, sectionLengths.length, true);
  sectionLengths.forEach((length, i) => {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new InfoBatchError('INVALID_STATE', `Checkpoint section ${i} has length ${describeValue(length)}; lengths must be safe non-negative integers.`);
    }
    view.setUint32(FIXED_HEADER_BYTES + 8 * i, length % TWO_POW_32, true);
    view.setUint32(FIXED_HEADER_BYTES + 8 * i + 4, Math.floor(length / TWO_POW_32), true);
  });
  return bytes;
}

/**
 * Reads the fixed-size start of a checkpoint of any version; throws a plain message (wrapped
 * by the caller) when the bytes are too short or not a checkpoint. Allocates only the length list.
 * @internal
 */
export function decodeCheckpointPrefix(bytes: Uint8Array): CheckpointPrefix {
  const fail = (what: string): never => {
    throw new InfoBatchError('CORRUPT_CHECKPOINT', what);
  };
  if (bytes.length < FIXED_HEADER_BYTES) fail(`it is ${bytes.length} bytes long, shorter than the smallest checkpoint (${FIXED_HEADER_BYTES + 4} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('it does not start with the infobatch checkpoint magic "IBCK"');
  const version = view.getUint32(4, true);
  if (version < 1 || version > CHECKPOINT_FORMAT_VERSION) {
    fail(`its format version is ${version}, but this version of infobatch reads versions 1 to ${CHECKPOINT_FORMAT_VERSION}`);
  }
  const headerLength = view.getUint32(8, true);
  const sectionCount = view.getUint32(12, true);
  const width = lengthBytes(version);
  if (FIXED_HEADER_BYTES + width * sectionCount > bytes.length) fail(`its section table (${sectionCount} sections) runs past the end of the bytes`);
  const sectionLengths: number[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const at = FIXED_HEADER_BYTES + width * i;
    const low = view.getUint32(at, true);
    const high = version === 1 ? 0 : view.getUint32(at + 4, true);
    const length = high * TWO_POW_32 + low;
    if (!Number.isSafeInteger(length)) fail(`section ${i} declares ${length} bytes, more than any checkpoint can hold`);
    sectionLengths.push(length);
  }
  return { version, headerLength, sectionLengths };
}

/** Little-endian bytes of a section's data, in pieces of at most `block` bytes (views where the platform is little-endian). */
function* sectionPieces(data: SectionData, block: number): Generator<Uint8Array> {
  if (data instanceof Uint8Array || littleEndian) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let at = 0; at < bytes.length; at += block) yield bytes.subarray(at, Math.min(at + block, bytes.length));
    return;
  }
  const values = Math.max(1, Math.floor(block / 4));
  for (let at = 0; at < data.length; at += values) yield typedArrayToBytes(data.subarray(at, Math.min(at + values, data.length)));
}

/**
 * Packs a JSON header and binary sections into checkpoint bytes, yielded in new chunks of at most
 * `chunkBytes` bytes (the last one ends with the CRC-32 of all that precedes it), so that a
 * checkpoint of any size is written without ever being one array. Layout (little-endian): magic,
 * version, header length, section count, section lengths (two u32 each), header, sections, crc.
 * The chunks copy the data: the caller may keep them while the data changes (unless
 * `reuseChunk`: then every chunk is written into the same array, which the caller must consume
 * before asking for the next), but the data must not change while the generator runs. @internal
 */
export function* encodeCheckpointChunks(header: Record<string, unknown>, sections: readonly SectionData[], chunkBytes = DEFAULT_CHUNK_BYTES, reuseChunk = false): Generator<Uint8Array> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 4) {
    throw new InfoBatchError('OUT_OF_RANGE', `'chunkBytes' of a checkpoint must be an integer >= 4 but got ${describeValue(chunkBytes)}.`);
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const prefix = encodeCheckpointPrefix(headerBytes.length, sections.map((section) => section.byteLength));
  let total = prefix.length + headerBytes.length + 4;
  for (const section of sections) total += section.byteLength;
  let crc = 0;
  let emitted = 0;
  let chunk = new Uint8Array(Math.min(chunkBytes, total));
  let used = 0;
  const pieces = function* (): Generator<Uint8Array> {
    yield prefix;
    yield headerBytes;
    for (const section of sections) yield* sectionPieces(section, chunkBytes);
  };
  for (const piece of pieces()) {
    crc = crc32(piece, crc);
    for (let at = 0; at < piece.length; ) {
      const n = Math.min(chunk.length - used, piece.length - at);
      chunk.set(piece.subarray(at, at + n), used);
      used += n;
      at += n;
      if (used === chunk.length) {
        yield chunk;
        emitted += used;
        const next = Math.min(chunkBytes, total - emitted);
        chunk = reuseChunk && next <= chunk.length ? chunk.subarray(0, next) : new Uint8Array(next);
        used = 0;
      }
    }
  }
  const trailer = new Uint8Array(4);
  new DataView(trailer.buffer).setUint32(0, crc, true);
  for (let at = 0; at < 4; ) {
    const n = Math.min(chunk.length - used, 4 - at);
    chunk.set(trailer.subarray(at, at + n), used);
    used += n;
    at += n;
    if (used === chunk.length) {
      yield chunk;
      emitted += used;
      const next = Math.min(chunkBytes, total - emitted);
      if (emitted < total) chunk = reuseChunk && next <= chunk.length ? chunk.subarray(0, next) : new Uint8Array(next);
      used = 0;
    }
  }
}

/**
 * {@link encodeCheckpointChunks} as one array.
 * @throws InfoBatchError 'UNSUPPORTED' when the checkpoint is larger than one array can be here. @internal
 */
export function encodeCheckpoint(header: Record<string, unknown>, sections: readonly SectionData[]): Uint8Array {
  let total = 0;
  for (const section of sections) total += section.byteLength;
  let chunks: Uint8Array[];
  try {
    chunks = [...encodeCheckpointChunks(header, sections, Number.MAX_SAFE_INTEGER)];
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause;
    throw new InfoBatchError('UNSUPPORTED', `The checkpoint (more than ${total} bytes) is larger than one array can hold here (${cause.message}); save it in chunks with saveStateChunks() instead.`, { cause });
  }
  return chunks.length === 1 ? chunks[0]! : concatChunks(chunks);
}

function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** Checkpoint bytes given as one array or as consecutive chunks, read by copying. */
class ChunkedBytes {
  readonly length: number;
  private readonly starts: number[] = [];

  constructor(private readonly chunks: readonly Uint8Array[]) {
    let total = 0;
    for (const chunk of chunks) {
      this.starts.push(total);
      total += chunk.length;
    }
    this.length = total;
  }

  /** Copies `target.length` bytes from `offset` into `target`. */
  copy(offset: number, target: Uint8Array): void {
    let c = this.chunkAt(offset);
    let written = 0;
    while (written < target.length) {
      const chunk = this.chunks[c]!;
      const from = offset + written - this.starts[c]!;
      const n = Math.min(chunk.length - from, target.length - written);
      target.set(chunk.subarray(from, from + n), written);
      written += n;
      c++;
    }
  }

  /** CRC-32 of bytes `[0, end)`. */
  crc(end: number): number {
    let crc = 0;
    for (let c = 0; c < this.chunks.length && this.starts[c]! < end; c++) {
      const chunk = this.chunks[c]!;
      crc = crc32(chunk.subarray(0, Math.min(chunk.length, end - this.starts[c]!)), crc);
    }
    return crc;
  }

  private chunkAt(offset: number): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

/**
 * Unpacks checkpoint bytes of any version, given as one array or as the chunks of
 * {@link encodeCheckpointChunks} (any split), checking length, magic, version, checksum and that
 * every declared length fits in the bytes; allocates nothing in proportion to the declared sizes
 * (sections are read later, by copying). @internal
 */
export function decodeCheckpoint(where: string, bytes: unknown): CheckpointContents {
  const chunks = bytes instanceof Uint8Array ? [bytes] : Array.isArray(bytes) && bytes.every((chunk) => chunk instanceof Uint8Array) ? (bytes as Uint8Array[]) : undefined;
  if (chunks === undefined) {
    throw new InfoBatchError('INVALID_TYPE', `'bytes' passed to ${where} must be a Uint8Array, or an array of Uint8Array chunks (saveStateChunks), but got ${describeValue(bytes)}.`);
  }
  const data = new ChunkedBytes(chunks);
  const corrupt = (what: string): InfoBatchError =>
    new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} is not usable: ${what}. Load the bytes that saveState() wrote, unmodified.`);
  if (data.length < FIXED_HEADER_BYTES + 4) throw corrupt(`it is ${data.length} bytes long, shorter than the smallest checkpoint (${FIXED_HEADER_BYTES + 4} bytes)`);
  const fixed = new Uint8Array(FIXED_HEADER_BYTES);
  data.copy(0, fixed);
  const fixedView = new DataView(fixed.buffer);
  const count = fixedView.getUint32(12, true);
  const tableEnd = FIXED_HEADER_BYTES + lengthBytes(fixedView.getUint32(4, true)) * count;
  let prefix: CheckpointPrefix;
  try {
    const prefixBytes = new Uint8Array(Math.min(tableEnd, data.length - 4));
    data.copy(0, prefixBytes);
    prefix = decodeCheckpointPrefix(prefixBytes);
  } catch (error) {
    throw corrupt((error as Error).message);
  }
  const stored = new Uint8Array(4);
  data.copy(data.length - 4, stored);
  const storedCrc = new DataView(stored.buffer).getUint32(0, true);
  const actualCrc = data.crc(data.length - 4);
  if (storedCrc !== actualCrc) {
    throw corrupt(`its checksum does not match (stored 0x${storedCrc.toString(16)}, computed 0x${actualCrc.toString(16)}): the bytes are truncated or corrupted`);
  }
  const { version, headerLength, sectionLengths } = prefix;
  const start = FIXED_HEADER_BYTES + lengthBytes(version) * sectionLengths.length;
  if (start + headerLength + 4 > data.length) throw corrupt('its header runs past the end of the bytes');
  let offset = start + headerLength;
  const sections: CheckpointSection[] = [];
  for (let i = 0; i < sectionLengths.length; i++) {
    const length = sectionLengths[i]!;
    if (offset + length > data.length - 4) throw corrupt(`section ${i} (${length} bytes) runs past the end of the bytes`);
    const at = offset;
    sections.push({
      length,
      copyTo(target, from = 0) {
        if (from < 0 || from + target.length > length) throw new InfoBatchError('INVALID_STATE', `Checkpoint section ${i}: bytes [${from}, ${from + target.length}) are outside its ${length} bytes.`);
        data.copy(at + from, target);
      },
    });
    offset += length;
  }
  if (offset !== data.length - 4) throw corrupt(`it has ${data.length - 4 - offset} unexpected trailing bytes`);
  let header: unknown;
  try {
    const headerBytes = new Uint8Array(headerLength);
    data.copy(start, headerBytes);
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (cause) {
    throw new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} has an unreadable header.`, { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt('its header is not a JSON object');
  return { version, header: header as Record<string, unknown>, sections };
}

/** A whole section's bytes, copied. @internal */
export function sectionBytes(section: CheckpointSection): Uint8Array {
  const bytes = new Uint8Array(section.length);
  section.copyTo(bytes);
  return bytes;
}

/** Reads a section of little-endian 4-byte values into `target` (its byte length must match). @internal */
export function readSection(section: CheckpointSection, target: Float32Array | Int32Array | Uint32Array): void {
  if (littleEndian) {
    section.copyTo(new Uint8Array(target.buffer, target.byteOffset, target.byteLength));
    return;
  }
  const block = 1 << 16;
  const bytes = new Uint8Array(block * 4);
  for (let at = 0; at < target.length; at += block) {
    const n = Math.min(block, target.length - at);
    const part = bytes.subarray(0, n * 4);
    section.copyTo(part, at * 4);
    bytesToTypedArray(part, target.subarray(at, at + n));
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a Float32Array, Int32Array or Uint32Array. @internal */
export function typedArrayToBytes(values: Float32Array | Int32Array | Uint32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  if (littleEndian) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    const view = new DataView(bytes.buffer);
    const isFloat = values instanceof Float32Array;
    for (let i = 0; i < values.length; i++) {
      if (isFloat) view.setFloat32(i * 4, values[i]!, true);
      else view.setInt32(i * 4, values[i]!, true);
    }
  }
  return bytes;
}

/** Reads little-endian bytes into `target` (lengths must match). @internal */
export function bytesToTypedArray(bytes: Uint8Array, target: Float32Array | Int32Array | Uint32Array): void {
  if (littleEndian) {
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isFloat = target instanceof Float32Array;
  for (let i = 0; i < target.length; i++) target[i] = isFloat ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
}
