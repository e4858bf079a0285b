/**
 * Small building blocks for the task models that tfjs-layers does not offer (causal
 * self-attention, token gathers): seeded parameters held as `tf.Variable`s and pure forward
 * functions over them. Every op used here has a gradient on the wasm backend once
 * `selectBackend()` has registered the missing kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../../core/random.js';

/** A set of trainable variables with seeded initial values (Glorot-uniform kernels, zero biases). */
export class ParamSet {
  /** The variables, in creation order. */
  readonly variables: tf.Variable[] = [];
  private readonly random: SeededRandom;

  /** @param seed - the same seed (and the same creation order) gives the same initial values. */
  constructor(seed: number, stream = 0) {
    this.random = SeededRandom.derive(seed, 0x1a7e5, stream);
  }

  /** A kernel `[fanIn, ..., fanOut]`, Glorot-uniform over the given fans. */
  glorot(shape: number[], fanIn = shape[0]!, fanOut = shape[shape.length - 1]!): tf.Variable {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return this.uniform(shape, limit);
  }

  /** Uniform in `[−limit, limit)`. */
  uniform(shape: number[], limit: number): tf.Variable {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = (2 * this.random.nextFloat() - 1) * limit;
    return this.add(tf.tensor(values, shape));
  }

  /** Normal with the given standard deviation. */
  normal(shape: number[], std: number): tf.Variable {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = this.random.nextGaussian() * std;
    return this.add(tf.tensor(values, shape));
  }

  zeros(shape: number[]): tf.Variable {
    return this.add(tf.zeros(shape));
  }

  ones(shape: number[]): tf.Variable {
    return this.add(tf.ones(shape));
  }

  /** Copies of the current values (e.g. to cache pretrained weights). */
  snapshot(): Float32Array[] {
    return this.variables.map((v) => v.dataSync() as Float32Array).map((a) => a.slice());
  }

  /** Sets every variable from {@link ParamSet.snapshot}'s arrays. */
  restore(values: readonly Float32Array[]): void {
    this.variables.forEach((v, i) => {
      const value = tf.tensor(values[i]!, v.shape);
      v.assign(value);
      value.dispose();
    });
  }

  /** Total number of scalar parameters. */
  get size(): number {
    return this.variables.reduce((s, v) => s + v.size, 0);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.variables.length = 0;
  }

  private add(initial: tf.Tensor): tf.Variable {
    const variable = tf.variable(initial, true);
    initial.dispose();
    this.variables.push(variable);
    return variable;
  }
}

/** Weights of a dense layer. */
export interface DenseParams {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
}

/** A dense layer's weights: Glorot kernel `[inputs, units]`, zero bias. */
export function denseParams(params: ParamSet, inputs: number, units: number): DenseParams {
  return { w: params.glorot([inputs, units]), b: params.zeros([units]) };
}

/** `x·W + b` over the last axis of `x` (any rank ≥ 2). */
export function dense(x: tf.Tensor, p: DenseParams): tf.Tensor {
  const shape = x.shape;
  const inputs = shape[shape.length - 1]!;
  const flat = shape.length === 2 ? x : tf.reshape(x, [-1, inputs]);
  const out = tf.add(tf.matMul(flat as tf.Tensor2D, p.w as tf.Tensor2D), p.b);
  return shape.length === 2 ? out : tf.reshape(out, [...shape.slice(0, -1), p.w.shape[1]!]);
}

/** Weights of a layer normalisation. */
export interface LayerNormParams {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
}

export function layerNormParams(params: ParamSet, width: number): LayerNormParams {
  return { gamma: params.ones([width]), beta: params.zeros([width]) };
}

/** Layer normalisation over the last axis. */
export function layerNorm(x: tf.Tensor, p: LayerNormParams, epsilon = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), p.gamma), p.beta);
}

/** Weights of one pre-norm transformer block. */
export interface BlockParams {
  readonly heads: number;
  readonly ln1: LayerNormParams;
  readonly qkv: DenseParams;
  readonly proj: DenseParams;
  readonly ln2: LayerNormParams;
  readonly fc1: DenseParams;
  readonly fc2: DenseParams;
}

/** A pre-norm transformer block of width `width` (a multiple of `heads`) with an MLP of `mlpRatio × width`. */
export function blockParams(params: ParamSet, width: number, heads: number, mlpRatio = 4): BlockParams {
  return {
    heads,
    ln1: layerNormParams(params, width),
    qkv: denseParams(params, width, 3 * width),
    proj: denseParams(params, width, width),
    ln2: layerNormParams(params, width),
    fc1: denseParams(params, width, mlpRatio * width),
    fc2: denseParams(params, mlpRatio * width, width),
  };
}

/**
 * Multi-head self-attention on `[batch, time, width]`. `bias`, when given, is added to the
 * `[time, time]` attention logits (e.g. {@link causalBias}).
 */
export function selfAttention(x: tf.Tensor, p: BlockParams, bias?: tf.Tensor): tf.Tensor {
  const [batch, time, width] = x.shape as [number, number, number];
  const headWidth = width / p.heads;
  const [q, k, v] = tf.split(dense(x, p.qkv), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const split = (t: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(t, [batch, time, p.heads, headWidth]), [0, 2, 1, 3]);
  let logits = tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(headWidth));
  if (bias !== undefined) logits = tf.add(logits, bias);
  const attended = tf.matMul(tf.softmax(logits), split(v)); // [batch, heads, time, headWidth]
  const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [batch, time, width]);
  return dense(merged, p.proj);
}

/** One pre-norm transformer block: `x + attn(ln(x))`, then `x + mlp(ln(x))` (ReLU MLP). */
export function transformerBlock(x: tf.Tensor, p: BlockParams, bias?: tf.Tensor): tf.Tensor {
  const h = tf.add(x, selfAttention(layerNorm(x, p.ln1), p, bias));
  return tf.add(h, dense(tf.relu(dense(layerNorm(h, p.ln2), p.fc1)), p.fc2));
}

/** `[time, time]` additive mask: 0 on and below the diagonal, −1e9 above (no attending to the future). */
export function causalBias(time: number): tf.Tensor2D {
  const values = new Float32Array(time * time);
  for (let i = 0; i < time; i++) for (let j = i + 1; j < time; j++) values[i * time + j] = -1e9;
  return tf.tensor2d(values, [time, time]);
}

/** Sinusoidal embeddings `[n, width]` of integer positions or timesteps (width even). */
export function sinusoidalEmbedding(values: ArrayLike<number>, width: number, maxPeriod = 10_000): Float32Array {
  const half = width / 2;
  const out = new Float32Array(values.length * width);
  for (let i = 0; i < values.length; i++) {
    for (let k = 0; k < half; k++) {
      const angle = values[i]! / maxPeriod ** (k / half);
      out[i * width + k] = Math.sin(angle);
      out[i * width + half + k] = Math.cos(angle);
    }
  }
  return out;
}
