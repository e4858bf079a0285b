import { crc32 } from './crc32.js';
import { describeValue, InfoBatchError } from './errors.js';

// TextEncoder/TextDecoder exist in browsers and Node alike; declared here so the core needs
// neither the DOM nor the Node type definitions.
declare const TextEncoder: { new (): { encode(text: string): Uint8Array } };
declare const TextDecoder: { new (label?: string, options?: { fatal?: boolean }): { decode(bytes: Uint8Array): string } };

const MAGIC = 0x4b434249; // "IBCK" read as a little-endian u32
/** Version of the checkpoint container; bumped on any layout change. */
export const CHECKPOINT_FORMAT_VERSION = 1;
const FIXED_HEADER_BYTES = 16;

/** A decoded checkpoint: a JSON header and binary sections. @internal */
export interface CheckpointContents {
  readonly header: Record<string, unknown>;
  readonly sections: readonly Uint8Array[];
}

/**
 * Packs a JSON header and binary sections into one buffer ending with a CRC-32 of all that
 * precedes it. Layout (little-endian): magic, version, header length, section count, section
 * lengths, header, sections, crc. @internal
 */
export function encodeCheckpoint(header: Record<string, unknown>, sections: readonly Uint8Array[]): Uint8Array {
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const prefix = FIXED_HEADER_BYTES + 4 * sections.length;
  let total = prefix + headerBytes.length + 4;
  for (const section of sections) total += section.length;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, CHECKPOINT_FORMAT_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  view.setUint32(12, sections.length, true);
  sections.forEach((section, i) => view.setUint32(FIXED_HEADER_BYTES + 4 * i, section.length, true));
  bytes.set(headerBytes, prefix);
  let offset = prefix + headerBytes.length;
  for (const section of sections) {
    bytes.set(section, offset);
    offset += section.length;
  }
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true);
  return bytes;
}

/** Unpacks {@link encodeCheckpoint}'s bytes, checking length, magic, version and checksum. @internal */
export function decodeCheckpoint(where: string, bytes: unknown): CheckpointContents {
  if (!(bytes instanceof Uint8Array)) {
    throw new InfoBatchError('INVALID_TYPE', `'bytes' passed to ${where} must be a Uint8Array but got ${describeValue(bytes)}.`);
  }
  const corrupt = (what: string): InfoBatchError =>
    new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} is not usable: ${what}. Load the bytes that saveState() wrote, unmodified.`);
  if (bytes.length < FIXED_HEADER_BYTES + 4) throw corrupt(`it is ${bytes.length} bytes long, shorter than the smallest checkpoint (${FIXED_HEADER_BYTES + 4} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt('it does not start with the infobatch checkpoint magic "IBCK"');
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    throw corrupt(`its format version is ${version}, but this version of infobatch reads version ${CHECKPOINT_FORMAT_VERSION}`);
  }
  const storedCrc = view.getUint32(bytes.length - 4, true);
  const actualCrc = crc32(bytes.subarray(0, bytes.length - 4));
  if (storedCrc !== actualCrc) {
    throw corrupt(`its checksum does not match (stored 0x${storedCrc.toString(16)}, computed 0x${actualCrc.toString(16)}): the bytes are truncated or corrupted`);
  }
  const headerLength = view.getUint32(8, true);
  const sectionCount = view.getUint32(12, true);
  const prefix = FIXED_HEADER_BYTES + 4 * sectionCount;
  if (prefix + headerLength + 4 > bytes.length) throw corrupt('its header runs past the end of the bytes');
  let offset = prefix + headerLength;
  const sections: Uint8Array[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const length = view.getUint32(FIXED_HEADER_BYTES + 4 * i, true);
    if (offset + length > bytes.length - 4) throw corrupt(`section ${i} runs past the end of the bytes`);
    sections.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== bytes.length - 4) throw corrupt(`it has ${bytes.length - 4 - offset} unexpected trailing bytes`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(prefix, prefix + headerLength)));
  } catch (cause) {
    throw new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} has an unreadable header.`, { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt('its header is not a JSON object');
  return { header: header as Record<string, unknown>, sections };
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
