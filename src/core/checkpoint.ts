import { crc32 } from './crc32.js';
import { describeValue, InfoBatchError } from './errors.js';

// TextEncoder/TextDecoder exist in browsers and Node alike; declared here so the core needs
// neither the DOM nor the Node type definitions.
declare const TextEncoder: { new (): { encode(text: string): Uint8Array } };
declare const TextDecoder: { new (label?: string, options?: { fatal?: boolean }): { decode(bytes: Uint8Array): string } };

const MAGIC = 0x4b434249; // "IBCK" read as a little-endian u32
/**
 * Version of the checkpoint container; bumped on any layout change. Version 1 wrote section
 * lengths as u32 (so sections were limited to 4 GiB); version 2 writes each as two u32 (low, high
 * word). Both are read.
 */
export const CHECKPOINT_FORMAT_VERSION = 2;
const FIXED_HEADER_BYTES = 16;
const TWO_POW_32 = 2 ** 32;

/** A decoded checkpoint: its format version, a JSON header and binary sections. @internal */
export interface CheckpointContents {
  readonly version: number;
  readonly header: Record<string, unknown>;
  readonly sections: readonly Uint8Array[];
}

/** The fixed part of a checkpoint: version, header length and section lengths. @internal */
export interface CheckpointPrefix {
  readonly version: number;
  readonly headerLength: number;
  readonly sectionLengths: readonly number[];
}

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
 * Reads the fixed-size start of a checkpoint of either version; throws a plain message (wrapped
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
  if (version !== 1 && version !== CHECKPOINT_FORMAT_VERSION) {
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

/**
 * Packs a JSON header and binary sections into one buffer ending with a CRC-32 of all that
 * precedes it. Layout (little-endian): magic, version, header length, section count, section
 * lengths (two u32 each), header, sections, crc. @internal
 */
export function encodeCheckpoint(header: Record<string, unknown>, sections: readonly Uint8Array[]): Uint8Array {
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const prefix = encodeCheckpointPrefix(headerBytes.length, sections.map((section) => section.length));
  let total = prefix.length + headerBytes.length + 4;
  for (const section of sections) total += section.length;
  const bytes = new Uint8Array(total);
  bytes.set(prefix, 0);
  bytes.set(headerBytes, prefix.length);
  let offset = prefix.length + headerBytes.length;
  for (const section of sections) {
    bytes.set(section, offset);
    offset += section.length;
  }
  new DataView(bytes.buffer).setUint32(offset, crc32(bytes.subarray(0, offset)), true);
  return bytes;
}

/**
 * Unpacks {@link encodeCheckpoint}'s bytes (version 1 or 2), checking length, magic, version,
 * checksum and that every declared length fits in the bytes; allocates nothing in proportion to
 * the declared sizes. @internal
 */
export function decodeCheckpoint(where: string, bytes: unknown): CheckpointContents {
  if (!(bytes instanceof Uint8Array)) {
    throw new InfoBatchError('INVALID_TYPE', `'bytes' passed to ${where} must be a Uint8Array but got ${describeValue(bytes)}.`);
  }
  const corrupt = (what: string): InfoBatchError =>
    new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} is not usable: ${what}. Load the bytes that saveState() wrote, unmodified.`);
  if (bytes.length < FIXED_HEADER_BYTES + 4) throw corrupt(`it is ${bytes.length} bytes long, shorter than the smallest checkpoint (${FIXED_HEADER_BYTES + 4} bytes)`);
  let prefix: CheckpointPrefix;
  try {
    prefix = decodeCheckpointPrefix(bytes.subarray(0, bytes.length - 4));
  } catch (error) {
    throw corrupt((error as Error).message);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storedCrc = view.getUint32(bytes.length - 4, true);
  const actualCrc = crc32(bytes.subarray(0, bytes.length - 4));
  if (storedCrc !== actualCrc) {
    throw corrupt(`its checksum does not match (stored 0x${storedCrc.toString(16)}, computed 0x${actualCrc.toString(16)}): the bytes are truncated or corrupted`);
  }
  const { version, headerLength, sectionLengths } = prefix;
  const start = FIXED_HEADER_BYTES + lengthBytes(version) * sectionLengths.length;
  if (start + headerLength + 4 > bytes.length) throw corrupt('its header runs past the end of the bytes');
  let offset = start + headerLength;
  const sections: Uint8Array[] = [];
  for (let i = 0; i < sectionLengths.length; i++) {
    const length = sectionLengths[i]!;
    if (offset + length > bytes.length - 4) throw corrupt(`section ${i} (${length} bytes) runs past the end of the bytes`);
    sections.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== bytes.length - 4) throw corrupt(`it has ${bytes.length - 4 - offset} unexpected trailing bytes`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, start + headerLength)));
  } catch (cause) {
    throw new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} has an unreadable header.`, { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt('its header is not a JSON object');
  return { version, header: header as Record<string, unknown>, sections };
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a Float32Array or Int32Array. @internal */
export function typedArrayToBytes(values: Float32Array | Int32Array): Uint8Array {
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
export function bytesToTypedArray(bytes: Uint8Array, target: Float32Array | Int32Array): void {
  if (littleEndian) {
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isFloat = target instanceof Float32Array;
  for (let i = 0; i < target.length; i++) target[i] = isFloat ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
}
