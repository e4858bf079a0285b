/**
 * Clean-up after an error inside a gradient computation. @internal
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * After an error thrown inside `optimizer.minimize` (the loss, the model or `update` throwing),
 * disposes what the gradient tape saved for the backward pass. tfjs's `gradients` keeps those
 * tensors (`keep(clone(…))`) while the forward pass runs and disposes them only after a
 * successful backward pass; when the forward pass throws, the tape is left behind and the next
 * `minimize` replaces it, so its saved tensors would leak (18–21 per failed step of a small MLP).
 * This does what `gradients` does on success: when no outer gradient computation is running,
 * dispose each tape node's saved tensors and drop the tape.
 */
export function releaseAbandonedTape(): void {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number; activeTape?: Array<{ saved?: tf.Tensor[] }> | null } }).state;
  if (state === undefined || state.gradientDepth !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) {
    for (const tensor of node.saved ?? []) tensor.dispose();
  }
  state.activeTape = null;
}
