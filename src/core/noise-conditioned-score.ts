import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { describeValue, InfoBatchError } from './errors.js';
import { assertArrayLike, assertInteger, assertKnownKeys, assertOptionBag } from './validate.js';

/** Options of {@link NoiseConditionedScore}. */
export interface NoiseConditionedScoreOptions {
  /** Number of noise-level buckets, each with its own running mean of the loss. */
  readonly buckets: number;
  /**
   * The noise levels' range `[low, high]`, cut into `buckets` equal buckets: level `v` goes to
   * bucket `floor((v − low) / (high − low) · buckets)`, and `high` itself to the last one.
   * @defaultValue `[0, buckets]`: integer timesteps `0 … buckets − 1`, one bucket each
   */
  readonly range?: readonly [number, number];
  /**
   * How many of a bucket's latest losses its running mean follows: the plain mean of its first
   * `window` losses, then an exponential moving average giving each new loss the weight
   * `1 / window`, so the expectation keeps up as training lowers the loss. Keep it short against
   * a bucket's visits per epoch: the loss falls within an epoch, and a lagging mean makes the
   * samples visited early look hard (on DDPM, 20 buckets: a window of 32 kept a rank correlation
   * of 0.07 between epochs, one of 256 only 0.02).
   * @defaultValue 64
   */
  readonly window?: number;
}

const KIND = 'noise-conditioned-score';
const STATE_VERSION = 1;
const OPTION_KEYS = ['buckets', 'range', 'window'] as const;
const MAX_BUCKETS = 1 << 20;

/**
 * A score that persists where the loss does not: the loss divided by the expected loss at the
 * noise level the sample was drawn with. In diffusion training each visit draws a new timestep and
 * noise, and the loss follows the timestep far more than the image, so a sample's raw loss in one
 * epoch says nothing about the next (rank correlation 0.00 measured on DDPM) and InfoBatch's
 * "below the mean" selects at random. Dividing by the running mean loss of the timestep's bucket
 * removes the timestep's share, leaving how hard the sample is at that timestep. Record the result
 * with {@link InfoBatch.recordScores} and keep training on the loss itself. Pure and deterministic:
 * the scores depend only on the order of the calls, and {@link NoiseConditionedScore.saveState}
 * holds the whole state for an exact resume.
 *
 * @example
 * ```ts
 * const ncs = new NoiseConditionedScore({ buckets: 20, range: [0, 200] }); // T = 200 timesteps
 * const buckets = ncs.bucketsOf(timesteps);          // the timesteps this batch was drawn with
 * ib.recordScores(batch.indices, ncs.score(losses, buckets)); // update the means, then loss / mean
 * ```
 */
export class NoiseConditionedScore {
  /** Number of buckets. */
  readonly buckets: number;
  /** Range of the noise levels, `[low, high]`. */
  readonly range: readonly [number, number];
  /** Losses each running mean follows. */
  readonly window: number;

  private readonly means: Float64Array;
  private readonly counts: Float64Array;

  constructor(options: NoiseConditionedScoreOptions) {
    const where = 'new NoiseConditionedScore()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { buckets, window = 64 } = options;
    assertInteger(where, 'buckets', buckets, 1, MAX_BUCKETS);
    const range = options.range ?? [0, buckets];
    if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(range[0] < range[1])) {
      throw new InfoBatchError('INVALID_OPTION', `'range' passed to ${where} must be [low, high] with finite low < high (e.g. [0, 1000] for 1000 timesteps, [0, 1] for a mask ratio) but got ${Array.isArray(range) ? JSON.stringify(range) : describeValue(range)}.`);
    }
    assertInteger(where, 'window', window, 1);
    this.buckets = buckets;
    this.range = [range[0], range[1]];
    this.window = window;
    this.means = new Float64Array(buckets);
    this.counts = new Float64Array(buckets);
  }

  /**
   * The bucket of a noise level (a timestep, a mask ratio).
   * @param level - a number in `range`.
   * @throws InfoBatchError 'OUT_OF_RANGE' for a level outside `range`.
   */
  bucketOf(level: number): number {
    return this.bucketAt('NoiseConditionedScore.bucketOf', 'level', level);
  }

  /**
   * The buckets of a batch's noise levels.
   * @param levels - one level per sample, each in `range`.
   * @param out - written into when given (at least `levels.length` long); a new array otherwise.
   */
  bucketsOf(levels: ArrayLike<number>, out?: Int32Array): Int32Array {
    const where = 'NoiseConditionedScore.bucketsOf';
    assertArrayLike(where, 'levels', levels);
    const target = this.outBuffer(where, out, Int32Array, levels.length);
    // Checked in full before writing, so a bad level leaves `out` as it was.
    for (let j = 0; j < levels.length; j++) this.bucketAt(where, `levels[${j}]`, levels[j]);
    for (let j = 0; j < levels.length; j++) target[j] = this.bucketAt(where, `levels[${j}]`, levels[j]);
    return target;
  }

  /**
   * The running mean loss of `bucket` (its expected loss), NaN while it has seen none.
   * @param bucket - an integer in `[0, buckets)`.
   */
  expected(bucket: number): number {
    assertInteger('NoiseConditionedScore.expected', 'bucket', bucket, 0, this.buckets - 1);
    return this.counts[bucket]! === 0 ? Number.NaN : this.means[bucket]!;
  }

  /** Losses each bucket has seen so far (all buckets, a copy). */
  seen(): Float64Array {
    return this.counts.slice();
  }

  /**
   * Adds a batch's losses to their buckets' running means. All inputs are checked first: a bad
   * call changes nothing.
   * @param losses - one finite loss >= 0 per sample.
   * @param buckets - each sample's bucket ({@link NoiseConditionedScore.bucketsOf}), aligned with `losses`.
   */
  update(losses: ArrayLike<number>, buckets: ArrayLike<number>): void {
    const where = 'NoiseConditionedScore.update';
    this.checkBatch(where, losses, buckets);
    this.add(losses, buckets);
  }

  /**
   * Each loss divided by its bucket's running mean: 1 is a typical loss at that noise level,
   * below 1 easier, above harder. Where the mean is 0 (every loss of the bucket was 0) the score
   * is 1. Changes no state.
   * @param losses - one finite loss >= 0 per sample.
   * @param buckets - each sample's bucket, aligned with `losses`; each must have seen a loss.
   * @param out - written into when given (at least `losses.length` long); a new array otherwise.
   * @throws InfoBatchError 'INVALID_STATE' for a bucket that has seen no loss yet (use
   *   {@link NoiseConditionedScore.score}, which updates first).
   */
  normalise(losses: ArrayLike<number>, buckets: ArrayLike<number>, out?: Float32Array): Float32Array {
    const where = 'NoiseConditionedScore.normalise';
    this.checkBatch(where, losses, buckets);
    const target = this.outBuffer(where, out, Float32Array, losses.length);
    for (let j = 0; j < buckets.length; j++) {
      const bucket = buckets[j]!;
      if (this.counts[bucket] === 0) {
        throw new InfoBatchError('INVALID_STATE', `'buckets[${j}]' passed to ${where} is bucket ${bucket}, which has seen no loss yet, so it has no expected loss; call update(losses, buckets) first, or score(), which updates and then normalises.`);
      }
    }
    this.divide(losses, buckets, target);
    return target;
  }

  /**
   * The usual call, once per batch: {@link NoiseConditionedScore.update} with the batch's losses,
   * then {@link NoiseConditionedScore.normalise} them. Deterministic: the same sequence of calls
   * gives the same scores.
   * @param losses - one finite loss >= 0 per sample.
   * @param buckets - each sample's bucket, aligned with `losses`.
   * @param out - written into when given; a new array otherwise.
   */
  score(losses: ArrayLike<number>, buckets: ArrayLike<number>, out?: Float32Array): Float32Array {
    const where = 'NoiseConditionedScore.score';
    this.checkBatch(where, losses, buckets);
    const target = this.outBuffer(where, out, Float32Array, losses.length);
    this.add(losses, buckets);
    this.divide(losses, buckets, target);
    return target;
  }

  /**
   * The whole state (options, running means, counts) as versioned bytes with a checksum;
   * {@link NoiseConditionedScore.loadState} continues with exactly the same scores.
   */
  saveState(): Uint8Array {
    return encodeCheckpoint({
      kind: KIND,
      version: STATE_VERSION,
      buckets: this.buckets,
      range: this.range,
      window: this.window,
      // JSON keeps every float64 exactly (shortest round-trip form).
      means: Array.from(this.means),
      counts: Array.from(this.counts),
    }, []);
  }

  /**
   * Rebuilds a helper from {@link NoiseConditionedScore.saveState}'s bytes.
   * @throws InfoBatchError 'CORRUPT_CHECKPOINT' naming what is wrong.
   *
   * @example
   * ```ts
   * const ncs = NoiseConditionedScore.loadState(bytes); // the same scores as the saved one would give
   * ```
   */
  static loadState(bytes: Uint8Array): NoiseConditionedScore {
    const where = 'NoiseConditionedScore.loadState';
    const state = decodeState(where, bytes);
    const instance = new NoiseConditionedScore({ buckets: state.buckets, range: state.range, window: state.window });
    instance.means.set(state.means);
    instance.counts.set(state.counts);
    return instance;
  }

  /**
   * Restores {@link NoiseConditionedScore.saveState}'s bytes into this instance, which must have
   * the same options; on any error nothing changes.
   * @throws InfoBatchError 'CORRUPT_CHECKPOINT' for damaged bytes, 'CHECKPOINT_MISMATCH' for other options.
   */
  restoreState(bytes: Uint8Array): void {
    const where = 'NoiseConditionedScore.restoreState';
    const state = decodeState(where, bytes);
    const saved = JSON.stringify({ buckets: state.buckets, range: state.range, window: state.window });
    const mine = JSON.stringify({ buckets: this.buckets, range: this.range, window: this.window });
    if (saved !== mine) {
      throw new InfoBatchError('CHECKPOINT_MISMATCH', `State passed to ${where} is of a helper with options ${saved} but this one has ${mine}; restore it into a helper built with the same options, or use NoiseConditionedScore.loadState.`);
    }
    this.means.set(state.means);
    this.counts.set(state.counts);
  }

  private bucketAt(where: string, name: string, level: unknown): number {
    const [low, high] = this.range;
    if (typeof level !== 'number' || !(level >= low && level <= high)) {
      throw new InfoBatchError(
        typeof level === 'number' ? 'OUT_OF_RANGE' : 'INVALID_TYPE',
        `'${name}' passed to ${where} must be a noise level in [${low}, ${high}] (the helper's range) but got ${describeValue(level)}; build the helper with the range of the levels you draw.`,
      );
    }
    return Math.min(this.buckets - 1, Math.floor(((level - low) / (high - low)) * this.buckets));
  }

  private outBuffer<T extends Float32Array | Int32Array>(where: string, out: T | undefined, type: { new (length: number): T; name: string }, length: number): T {
    if (out === undefined) return new type(length);
    if (!(out instanceof type) || out.length < length) {
      throw new InfoBatchError('INVALID_TYPE', `'out' passed to ${where} must be a ${type.name} of at least ${length} entries but got ${describeValue(out)}.`);
    }
    return out;
  }

  private checkBatch(where: string, losses: ArrayLike<number>, buckets: ArrayLike<number>): void {
    assertArrayLike(where, 'losses', losses);
    assertArrayLike(where, 'buckets', buckets);
    if (losses.length !== buckets.length) {
      throw new InfoBatchError('SHAPE_MISMATCH', `'losses' and 'buckets' passed to ${where} must be aligned, one bucket per loss, but got ${losses.length} losses and ${buckets.length} buckets.`);
    }
    for (let j = 0; j < losses.length; j++) {
      const loss = losses[j];
      if (typeof loss !== 'number' || !Number.isFinite(loss)) {
        throw new InfoBatchError(typeof loss === 'number' ? 'NON_FINITE_LOSS' : 'INVALID_TYPE', `'losses[${j}]' passed to ${where} must be a finite number but got ${describeValue(loss)}; nothing was changed.`);
      }
      if (loss < 0) {
        throw new InfoBatchError('OUT_OF_RANGE', `'losses[${j}]' passed to ${where} is ${loss}, below 0; a loss divided by its expected value needs losses >= 0 (squared errors, cross-entropies). Nothing was changed.`);
      }
      const bucket = buckets[j];
      if (typeof bucket !== 'number' || !Number.isInteger(bucket) || bucket < 0 || bucket >= this.buckets) {
        throw new InfoBatchError(typeof bucket === 'number' ? 'OUT_OF_RANGE' : 'INVALID_TYPE', `'buckets[${j}]' passed to ${where} must be an integer bucket in [0, ${this.buckets - 1}] (from bucketsOf) but got ${describeValue(bucket)}; nothing was changed.`);
      }
    }
  }

  private add(losses: ArrayLike<number>, buckets: ArrayLike<number>): void {
    const { means, counts, window } = this;
    for (let j = 0; j < losses.length; j++) {
      const bucket = buckets[j]!;
      const count = Math.min(counts[bucket]! + 1, window);
      counts[bucket] = count;
      means[bucket]! += (losses[j]! - means[bucket]!) / count;
    }
  }

  private divide(losses: ArrayLike<number>, buckets: ArrayLike<number>, target: Float32Array): void {
    const { means } = this;
    for (let j = 0; j < losses.length; j++) {
      const mean = means[buckets[j]!]!;
      target[j] = mean > 0 ? losses[j]! / mean : 1;
    }
  }
}

interface DecodedState {
  readonly buckets: number;
  readonly range: [number, number];
  readonly window: number;
  readonly means: number[];
  readonly counts: number[];
}

function decodeState(where: string, bytes: Uint8Array): DecodedState {
  const { header, sections } = decodeCheckpoint(where, bytes);
  const corrupt = (what: string): InfoBatchError =>
    new InfoBatchError('CORRUPT_CHECKPOINT', `State passed to ${where} is not usable: ${what}. Load the bytes that NoiseConditionedScore.saveState() wrote, unmodified.`);
  if (header['kind'] !== KIND) throw corrupt(`it is not a NoiseConditionedScore state (kind ${JSON.stringify(header['kind'])})`);
  if (header['version'] !== STATE_VERSION) throw corrupt(`its version is ${JSON.stringify(header['version'])}, but this version of infobatch reads version ${STATE_VERSION}`);
  if (sections.length !== 0) throw corrupt(`it has ${sections.length} binary sections, expected none`);
  const { buckets, range, window, means, counts } = header as Record<string, unknown>;
  if (typeof buckets !== 'number' || !Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) throw corrupt(`'buckets' is ${JSON.stringify(buckets)}`);
  if (typeof window !== 'number' || !Number.isInteger(window) || window < 1) throw corrupt(`'window' is ${JSON.stringify(window)}`);
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(range[0] < range[1])) throw corrupt(`'range' is ${JSON.stringify(range)}`);
  const check = (name: string, values: unknown, valid: (v: number) => boolean): number[] => {
    if (!Array.isArray(values) || values.length !== buckets) throw corrupt(`'${name}' must hold ${buckets} numbers`);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !valid(v)) throw corrupt(`'${name}[${i}]' is ${JSON.stringify(v)}`);
    });
    return values as number[];
  };
  const savedCounts = check('counts', counts, (v) => Number.isInteger(v) && v >= 0 && v <= window);
  const savedMeans = check('means', means, (v) => Number.isFinite(v) && v >= 0);
  return { buckets, range: [range[0], range[1]], window, means: savedMeans, counts: savedCounts };
}
