/**
 * Stable codes carried by every {@link InfoBatchError}. Codes never change meaning between
 * versions, so callers may branch on them.
 */
export type InfoBatchErrorCode =
  /** A number is outside its allowed range (ratio, epoch, index, rank). */
  | 'OUT_OF_RANGE'
  /** A value has the wrong type or is not an integer where one is required. */
  | 'INVALID_TYPE'
  /** An option bag holds an unknown, missing or inconsistent field. */
  | 'INVALID_OPTION'
  /** Two inputs that must be aligned have different lengths or shapes. */
  | 'SHAPE_MISMATCH'
  /** A loss is NaN or infinite. */
  | 'NON_FINITE_LOSS'
  /** A reduced (scalar) loss was given where per-sample losses are needed. */
  | 'SCALAR_LOSS'
  /** Checkpoint bytes are truncated, corrupted or of an unknown version. */
  | 'CORRUPT_CHECKPOINT'
  /** A checkpoint does not match the run it is loaded into. */
  | 'CHECKPOINT_MISMATCH'
  /** A call came in an order the API does not allow. */
  | 'INVALID_STATE'
  /** A data file is missing, truncated or does not have the expected format. */
  | 'INVALID_DATA'
  /** A backend or platform feature needed for this call is not available. */
  | 'UNSUPPORTED'
  /** A data-parallel worker threw, exited, disagreed with the others or did not answer in time; the run was stopped. */
  | 'WORKER_FAILED'
  /** A user-supplied function (a data source's `gather`) did not settle within its timeout; the run was stopped. */
  | 'TIMEOUT';

/**
 * The one error class thrown by infobatch. `code` is stable; `message` names the function,
 * the argument, the constraint and the value received.
 *
 * @example
 * ```ts
 * try {
 *   new InfoBatch({ numSamples: 10, numEpochs: 5, pruneRatio: 1.5 });
 * } catch (e) {
 *   if (e instanceof InfoBatchError && e.code === 'OUT_OF_RANGE') console.log(e.message);
 * }
 * ```
 */
export class InfoBatchError extends Error {
  /** Stable machine-readable reason. */
  readonly code: InfoBatchErrorCode;

  constructor(code: InfoBatchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfoBatchError';
    this.code = code;
  }
}

/**
 * Whether `value` looks like a tensor (a tfjs `Tensor` or `SymbolicTensor`): an object with a
 * `shape` array of numbers or nulls and a string `dtype`. Duck-typed: the core never imports tfjs.
 */
function isTensorShaped(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { shape, dtype } = value as { shape?: unknown; dtype?: unknown };
  return Array.isArray(shape) && shape.length <= 16 && shape.every((d) => d === null || typeof d === 'number') && typeof dtype === 'string';
}

/**
 * Formats a received value for an error message (short, unambiguous): `a float32 tensor of shape
 * [3, 4]`, `an array of length 2`, `an object with keys "a", "b"`, `"text"`, `NaN`.
 * @internal
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (isTensorShaped(value)) {
    const { dtype, shape, isDisposed } = value as { dtype?: unknown; shape: unknown[]; isDisposed?: unknown };
    const kind = typeof dtype === 'string' && dtype.length > 0 && dtype.length <= 20 ? `${dtype} tensor` : 'tensor';
    const words = `${isDisposed === true ? 'disposed ' : ''}${kind}`;
    return `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words} of shape [${shape.map((d) => (typeof d === 'number' ? String(d) : 'null')).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const tag = Object.prototype.toString.call(value);
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    if (tag === '[object Object]' && typeof name === 'string' && name !== '' && name !== 'Object') return `an instance of ${name}`;
    if (tag === '[object Object]') {
      const keys = Object.keys(value);
      return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}${keys.length > 5 ? ', ...' : ''}`;
    }
    return `an object (${tag})`;
  }
  return `${typeof value} ${String(value)}`;
}
