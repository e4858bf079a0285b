/**
 * Node-only checksum-verified download with a durable atomic write (temporary file + fsync +
 * rename), so a crash or a bad mirror never leaves a partial or wrong file at the destination.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { InfoBatchError } from '../../core/errors.js';
import { writeAtomically } from './atomic-write.js';

export { writeAtomically } from './atomic-write.js';

/** The part of a fetch `Response` that {@link downloadVerified} uses. */
export interface FetchResponseLike {
  /** Whether the status is 2xx. */
  readonly ok: boolean;
  /** HTTP status code. */
  readonly status: number;
  /** HTTP status text, for messages. */
  readonly statusText: string;
  /** The body's bytes. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A `fetch`-compatible function; inject one in tests or to add a proxy. */
export type FetchLike = (url: string) => Promise<FetchResponseLike>;

/** Options of {@link downloadVerified}. */
export interface DownloadOptions {
  /** URLs tried in order until one returns bytes with the right checksum. */
  readonly urls: readonly string[];
  /** Destination path; its directory is created if needed. */
  readonly dest: string;
  /** Expected SHA-256 of the file, lowercase hex. */
  readonly sha256: string;
  /** Fetch function (default: the global `fetch`). */
  readonly fetch?: FetchLike;
}

/**
 * SHA-256 of some bytes as lowercase hex.
 *
 * @param bytes - The data to hash.
 * @example
 * ```ts
 * sha256Hex(await readFile(path)); // '440fcabf...'
 * ```
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Downloads a file from the first working URL, checks its SHA-256, and only then moves it into place atomically.
 *
 * @param options - URLs, destination, expected checksum and an optional injected `fetch`.
 * @example
 * ```ts
 * await downloadVerified({ urls: ['https://example.org/a.gz'], dest: 'cache/a.gz', sha256: 'ab12...' });
 * ```
 */
export async function downloadVerified(options: DownloadOptions): Promise<void> {
  const fetchFn: FetchLike = options.fetch ?? ((url) => globalThis.fetch(url));
  const expected = options.sha256.toLowerCase();
  const failures: string[] = [];
  for (const url of options.urls) {
    let bytes: Uint8Array;
    try {
      const response = await fetchFn(url);
      if (!response.ok) {
        failures.push(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
        continue;
      }
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      failures.push(`${url}: ${(e as Error).message}`);
      continue;
    }
    const actual = sha256Hex(bytes);
    if (actual !== expected) {
      failures.push(`${url}: expected sha256 ${expected}, found ${actual} (${bytes.length} bytes)`);
      continue;
    }
    await writeAtomically(options.dest, bytes);
    return;
  }
  throw new InfoBatchError(
    'INVALID_DATA',
    `Could not download ${options.dest}: no URL gave a file with the expected checksum. Tried ${failures.join('; ')}. ` +
      `Check your network connection, or download the file by hand into ${dirname(options.dest)}.`,
  );
}
