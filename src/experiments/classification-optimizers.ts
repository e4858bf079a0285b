/**
 * Optimizers of the classification recipe: `'sgd-momentum'` (the bench recipe's; `momentum` and
 * `weightDecay` as L2) or `'adam'` (tfjs's defaults β1 0.9, β2 0.999, ε 1e-7; `weightDecay` still
 * as L2, `momentum` unused). Both follow the cosine schedule from `learningRate`. Kept apart from
 * the trainer so that the CLI can list them without loading tfjs.
 */
export const CLASSIFICATION_OPTIMIZERS = ['sgd-momentum', 'adam'] as const;
/** One of {@link CLASSIFICATION_OPTIMIZERS}. */
export type ClassificationOptimizer = (typeof CLASSIFICATION_OPTIMIZERS)[number];
