import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

const TWO_POW_32 = 4294967296;
const TWO_POW_MINUS_32 = 1 / TWO_POW_32;
const LEMIRE_MAX_BOUND = 2 ** 21;

/** MurmurHash3's 32-bit finaliser: a bijective avalanche mix. @internal */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * A seeded random source owned by one caller. It wraps pure-rand's xoroshiro128+ and never reads
 * or changes global random state.
 *
 * @example
 * ```ts
 * const random = SeededRandom.derive(42, 7); // seed 42, stream 7 (e.g. the epoch)
 * random.nextInt(10); // an integer in [0, 10)
 * ```
 */
export class SeededRandom {
  private readonly generator: RandomGenerator;

  private constructor(generator: RandomGenerator) {
    this.generator = generator;
  }

  /**
   * A generator whose whole sequence is a function of `seed` and the stream `keys` alone
   * (for example `(seed, epoch)`), so every machine and every rank draws the same numbers.
   * @param seed - 32-bit unsigned integer seed.
   * @param keys - further integers naming the stream.
   */
  static derive(seed: number, ...keys: number[]): SeededRandom {
    let h = mix32(seed ^ 0x9e3779b9);
    for (const key of keys) h = mix32(h ^ mix32((key | 0) + 0x632be5ab));
    const state = [mix32(h ^ 0x1b873593), mix32(h ^ 0x2c1b3c6d), mix32(h ^ 0x297a2d39), mix32(h ^ 0x68e31da4)];
    if (!state.some((word) => word !== 0)) state[0] = 1;
    return new SeededRandom(xoroshiro128plusFromState(state));
  }

  /**
   * A generator continuing from `state` (what {@link SeededRandom.state} returned): the same
   * numbers as the generator it was read from. @internal
   * @param state - four 32-bit integers, not all zero.
   */
  static fromState(state: readonly number[]): SeededRandom {
    return new SeededRandom(xoroshiro128plusFromState(state));
  }

  /** The generator's whole state (four 32-bit integers), to rebuild it with {@link SeededRandom.fromState}. @internal */
  state(): number[] {
    return [...this.generator.getState()];
  }

  /** An independent copy that draws the same numbers from here on. @internal */
  clone(): SeededRandom {
    return new SeededRandom(this.generator.clone());
  }

  /**
   * A uniform integer in `[0, bound)`, exactly uniform, with no division on the common path
   * (this runs ten million times an epoch on large datasets).
   * @param bound - integer in `[1, 2^32]`.
   */
  nextInt(bound: number): number {
    if (bound <= LEMIRE_MAX_BOUND) {
      // Lemire's multiply-and-reject: x·bound < 2^53 is exact in a double for bound ≤ 2^21.
      let product = (this.generator.next() >>> 0) * bound;
      let high = Math.floor(product * TWO_POW_MINUS_32);
      let low = product - high * TWO_POW_32;
      if (low < bound) {
        const rejectBelow = (TWO_POW_32 - bound) % bound;
        while (low < rejectBelow) {
          product = (this.generator.next() >>> 0) * bound;
          high = Math.floor(product * TWO_POW_MINUS_32);
          low = product - high * TWO_POW_32;
        }
      }
      return high;
    }
    // Bitmask with rejection: fewer than two draws on average.
    const mask = 0xffffffff >>> Math.clz32(bound - 1);
    let value = (this.generator.next() & mask) >>> 0;
    while (value >= bound) value = (this.generator.next() & mask) >>> 0;
    return value;
  }

  /** A uniform integer in `[0, 2^bits)` from one draw; `bits` in `[0, 32]`. */
  nextBits(bits: number): number {
    return bits === 0 ? 0 : this.generator.next() >>> (32 - bits);
  }

  /** A uniform float in `[0, 1)` with 53 random bits. */
  nextFloat(): number {
    const high = (this.generator.next() >>> 5) * 67108864; // 27 bits, shifted left by 26
    const low = this.generator.next() >>> 6; // 26 bits
    return (high + low) / 9007199254740992;
  }

  /** A standard normal draw (Box–Muller). */
  nextGaussian(): number {
    let u = this.nextFloat();
    while (u === 0) u = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.nextFloat());
  }

  /**
   * Shuffles `values` in place (Fisher–Yates); `companion`, when given, receives the same
   * permutation.
   */
  shuffle(values: Int32Array, companion?: Float32Array): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const value = values[i]!;
      values[i] = values[j]!;
      values[j] = value;
      if (companion !== undefined) {
        const other = companion[i]!;
        companion[i] = companion[j]!;
        companion[j] = other;
      }
    }
  }

  /** A uniformly random permutation of `0 … n − 1`. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    this.shuffle(order);
    return order;
  }
}
