import { InfoBatchError } from './errors.js';
import { assertNumberInRange } from './validate.js';

/**
 * How a sample's score follows its losses: `'last'` keeps the latest loss (the paper's rule);
 * `{ ema: a }` keeps an exponential moving average, `score = a·loss + (1 − a)·score`, with the
 * first loss taken as is (an ablation from the authors; also the score of Raju et al.'s policies).
 */
export type ScoreSmoothing = 'last' | {
  /** Weight `a` of the newest loss, in (0, 1]. */
  readonly ema: number;
};

/** Throws unless `smoothing` is a valid {@link ScoreSmoothing}. @internal */
export function assertScoreSmoothing(where: string, smoothing: unknown): asserts smoothing is ScoreSmoothing {
  if (smoothing === 'last') return;
  if (typeof smoothing === 'object' && smoothing !== null && 'ema' in smoothing && Object.keys(smoothing).length === 1) {
    assertNumberInRange(where, 'scoreSmoothing.ema', (smoothing as { ema: unknown }).ema, 0, 1, '(]');
    return;
  }
  throw new InfoBatchError(
    'INVALID_OPTION',
    `'scoreSmoothing' passed to ${where} must be 'last' or { ema: a } with a in (0, 1] but got ${JSON.stringify(smoothing)}.`,
  );
}

/** The weight of the newest loss: 1 for `'last'`. @internal */
export function newestLossWeight(smoothing: ScoreSmoothing): number {
  return smoothing === 'last' ? 1 : smoothing.ema;
}
