/** Node-only helpers to read data files, gunzipping them when they are gzip-compressed. */
import { access, readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { InfoBatchError } from '../../core/errors.js';
import { isGzip } from '../idx.js';

const gunzipAsync = promisify(gunzip);

/** True when `path` exists (any kind of entry). @internal */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a file's bytes, decompressing them when they start with the gzip signature `1f 8b`.
 *
 * @param path - File to read.
 * @example
 * ```ts
 * const bytes = await readMaybeGzip('data/mnist/train-labels-idx1-ubyte.gz');
 * ```
 */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InfoBatchError(
      'INVALID_DATA',
      `Cannot read ${path}: ${code === 'ENOENT' ? 'the file does not exist' : (e as Error).message}. Check the path.`,
      { cause: e },
    );
  }
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isGzip(bytes)) return bytes;
  try {
    const out = await gunzipAsync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${path} starts with the gzip signature 1f 8b at byte offset 0 but does not decompress (${(e as Error).message}); ` +
        `expected a complete gzip stream of ${raw.byteLength} bytes. The file is truncated or corrupt: re-download it.`,
      { cause: e },
    );
  }
}

/**
 * Reads a UTF-8 text file (gunzipping `.gz` content) and rejects invalid UTF-8.
 *
 * @param path - File to read.
 * @example
 * ```ts
 * const text = await loadText('../shared/data/tiny-shakespeare/input.txt');
 * ```
 */
export async function loadText(path: string): Promise<string> {
  const bytes = await readMaybeGzip(path);
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (e) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${path} is not valid UTF-8 text: expected a UTF-8 sequence at byte offset ${firstInvalidUtf8Offset(bytes)}, ` +
        `found byte ${describeByteAt(bytes, firstInvalidUtf8Offset(bytes))}. Convert the file to UTF-8.`,
      { cause: e },
    );
  }
}

function describeByteAt(bytes: Uint8Array, offset: number): string {
  return offset < bytes.length ? `0x${bytes[offset]!.toString(16).padStart(2, '0')}` : 'end of file';
}

/** Byte offset where the first malformed UTF-8 sequence starts (structural check only). @internal */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return i;
}
