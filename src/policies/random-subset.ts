import type { SeededRandom } from '../core/random.js';

/**
 * A uniform random `count` of the ids `0 … n − 1`, in increasing order, by selection sampling
 * (Knuth's Algorithm S: the t-th of n ids is taken with probability needed / remaining), so every
 * subset of that size is equally likely. @internal
 * @param random - the random source (its state advances).
 * @param n - number of ids to choose from.
 * @param count - how many to choose, in `[0, n]`.
 */
export function randomSubset(random: SeededRandom, n: number, count: number): Int32Array {
  const chosen = new Int32Array(count);
  let position = 0;
  let needed = count;
  for (let i = 0, remaining = n; needed > 0; i++, remaining--) {
    if (needed === remaining || random.nextInt(remaining) < needed) {
      chosen[position++] = i;
      needed--;
    }
  }
  return chosen;
}
