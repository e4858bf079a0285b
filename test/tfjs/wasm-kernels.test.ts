import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fastWasmKernelsActive, registerWasmGradientKernels, useFastWasmKernels } from '../../src/tfjs/wasm-kernels.js';

/**
 * Tolerance: both backends add the same float32 products (here at most a few hundred per output)
 * in different orders, so results differ by rounding only: observed ≤ 1e-6 relative to the
 * largest gradient, while a wrong index or padding gives O(1) relative errors. 1e-4 relative to
 * max(1, largest |reference|) leaves ~100× margin for rounding and still catches any such bug.
 */
const RELATIVE_TOLERANCE = 1e-4;

/** Seeded LCG (Numerical Recipes constants) giving floats in [-1, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  };
}

function randomValues(seed: number, shape: readonly number[]): Float32Array {
  const next = lcg(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next);
}

function randomInts(seed: number, count: number, max: number): Int32Array {
  const next = lcg(seed);
  return Int32Array.from({ length: count }, () => Math.floor(((next() + 1) / 2) * max));
}

/** Runs `compute` on the given backend and returns every result tensor's values. */
async function runOn(backend: 'wasm' | 'cpu', compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const results = tf.tidy(compute);
  const values = await Promise.all(results.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(results);
  return values;
}

/** Asserts wasm and cpu give the same values for `compute`, up to {@link RELATIVE_TOLERANCE}. */
async function expectBackendsAgree(compute: () => tf.Tensor[]): Promise<void> {
  const wasm = await runOn('wasm', compute);
  const cpu = await runOn('cpu', compute);
  expect(wasm.length).toBe(cpu.length);
  cpu.forEach((reference, k) => {
    const actual = wasm[k] as Float32Array;
    expect(actual.length).toBe(reference.length);
    let scale = 1;
    let maxDiff = 0;
    reference.forEach((r, i) => {
      scale = Math.max(scale, Math.abs(r));
      maxDiff = Math.max(maxDiff, Math.abs(r - (actual[i] as number)));
    });
    expect(maxDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * scale);
  });
}

beforeAll(async () => {
  expect(await selectBackend({ prefer: ['wasm'] })).toBe('wasm');
});

describe('registerWasmGradientKernels', () => {
  it('is idempotent and keeps the registered kernels', () => {
    const conv = tf.getKernel('Conv2DBackpropFilter', 'wasm');
    const segment = tf.getKernel('UnsortedSegmentSum', 'wasm');
    expect(conv).toBeDefined();
    expect(segment).toBeDefined();
    registerWasmGradientKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBe(conv);
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBe(segment);
  });
});

describe('Conv2DBackpropFilter on wasm matches cpu', () => {
  const cases = [1, 4].flatMap((batch) =>
    [1, 3, 8].flatMap((channels) =>
      [3, 5].flatMap((size) =>
        [1, 2].flatMap((stride) => (['same', 'valid'] as const).map((pad) => ({ batch, channels, size, stride, pad }))),
      ),
    ),
  );

  // 12×10 input: non-square, and with 'valid' at stride 2 the last row is never read (cropped).
  it.each(cases)('batch $batch, $channels channels, $size×$size filter, stride $stride, $pad', async ({ batch, channels, size, stride, pad }) => {
    const x = randomValues(1, [batch, 12, 10, channels]);
    const filter = randomValues(2, [size, size, channels, 4]);
    await expectBackendsAgree(() => {
      const xT = tf.tensor4d(x, [batch, 12, 10, channels]);
      const filterT = tf.tensor4d(filter, [size, size, channels, 4]);
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
        return tf.sum(tf.mul(y, tf.tensor(randomValues(3, y.shape), y.shape)));
      };
      return tf.grads(f)([xT, filterT]);
    });
  });

  it.each([
    { name: 'NCHW, same, stride 2', dataFormat: 'NCHW', pad: 'same', xShape: [2, 3, 9, 8], dyShape: [2, 5, 5, 4] },
    {
      name: 'NHWC, explicit padding, stride 2',
      dataFormat: 'NHWC',
      pad: [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
      xShape: [2, 9, 8, 3],
      dyShape: [2, 5, 4, 5],
    },
  ] as const)('$name (kernel called directly)', async ({ dataFormat, pad, xShape, dyShape }) => {
    const channels = dataFormat === 'NCHW' ? xShape[1] : xShape[3];
    const outChannels = dataFormat === 'NCHW' ? dyShape[1] : dyShape[3];
    const attrs = { strides: [2, 2], pad, dataFormat, filterShape: [3, 3, channels, outChannels] };
    await expectBackendsAgree(() => {
      const x = tf.tensor4d(randomValues(4, xShape), [...xShape]);
      const dy = tf.tensor4d(randomValues(5, dyShape), [...dyShape]);
      return [tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor];
    });
  });
});

describe('UnsortedSegmentSum on wasm matches cpu', () => {
  it('gradient of tf.gather over a 100-row table with 10k repeated indices', async () => {
    const table = randomValues(6, [100, 16]);
    const indices = randomInts(7, 10_000, 100);
    await expectBackendsAgree(() => {
      const params = tf.tensor2d(table, [100, 16]);
      const weights = tf.tensor2d(randomValues(8, [10_000, 16]), [10_000, 16]);
      const idx = tf.tensor1d(indices, 'int32');
      return [tf.grad((p) => tf.sum(tf.mul(tf.gather(p, idx), weights)))(params)];
    });
  });

  it('gradient of tf.gather on axis 1 with 2-D indices', async () => {
    const indices = randomInts(9, 35, 20);
    await expectBackendsAgree(() => {
      const params = tf.tensor3d(randomValues(10, [3, 20, 4]), [3, 20, 4]);
      const idx = tf.tensor2d(indices, [5, 7], 'int32');
      const weights = tf.tensor(randomValues(11, [3, 5, 7, 4]), [3, 5, 7, 4]);
      return [tf.grad((p) => tf.sum(tf.mul(tf.gather(p, idx, 1), weights)))(params)];
    });
  });

  it('gradient of a tf.layers.embedding lookup', async () => {
    const tokens = randomInts(12, 8 * 12, 30);
    await expectBackendsAgree(() => {
      const model = tf.sequential({
        layers: [tf.layers.embedding({ inputShape: [12], inputDim: 30, outputDim: 6, embeddingsInitializer: tf.initializers.randomUniform({ seed: 13 }) })],
      });
      const input = tf.tensor2d(tokens, [8, 12], 'int32');
      const weights = tf.tensor3d(randomValues(14, [8, 12, 6]), [8, 12, 6]);
      // LayerVariable.read() returns the backing tf.Variable, typed as a plain Tensor.
      const table = (model.trainableWeights[0] as tf.LayerVariable).read() as tf.Variable;
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(input) as tf.Tensor, weights)), [table]);
      const result = Object.values(grads);
      model.dispose();
      return result;
    });
  });

  it('sums int32 values, leaves empty segments at 0 and rejects out-of-range ids', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], 'int32');
    const sum = tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 2], 'int32'), 4);
    expect(sum.dtype).toBe('int32');
    expect(Array.from(await sum.data())).toEqual([3, 4, 0, 0, 13, 16, 0, 0]);
    const bad = tf.tensor1d([0, 4, 1, 1], 'int32');
    expect(() => tf.unsortedSegmentSum(x, bad, 4)).toThrow(InfoBatchError);
    expect(() => tf.unsortedSegmentSum(x, bad, 4)).toThrow(/segmentIds\[1\] must be in \[0, numSegments = 4\); received 4/);
    tf.dispose([x, sum, bad]);
  });
});

describe('training on wasm', () => {
  /** conv 3×3×8 relu, maxpool, conv 3×3×16 relu, maxpool, flatten, dense 10, seeded weights. */
  function smallCnn(): tf.Sequential {
    const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
    return tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(1) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(2) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, kernelInitializer: seeded(3) }),
      ],
    });
  }

  it('a small CNN lowers its loss with SGD', async () => {
    await tf.setBackend('wasm');
    const model = smallCnn();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: tf.losses.softmaxCrossEntropy });
    const xs = tf.tensor4d(randomValues(20, [32, 16, 16, 1]), [32, 16, 16, 1]);
    const ys = tf.oneHot(tf.tensor1d(randomInts(21, 32, 10), 'int32'), 10);
    const losses: number[] = [];
    for (let step = 0; step < 10; step++) losses.push((await model.trainOnBatch(xs, ys)) as number);
    // Seeded run: 2.46 → 2.16, decreasing at every step.
    losses.slice(1).forEach((loss, i) => expect(loss).toBeLessThan(losses[i] as number));
    expect(losses[losses.length - 1]).toBeLessThan(0.9 * (losses[0] as number));
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('keeps tensors and backend buffers flat over 50 gradient steps', async () => {
    await tf.setBackend('wasm');
    const filter = tf.variable(tf.tensor4d(randomValues(30, [3, 3, 2, 4]), [3, 3, 2, 4]));
    const table = tf.variable(tf.tensor2d(randomValues(31, [20, 4]), [20, 4]));
    const x = tf.tensor4d(randomValues(32, [4, 8, 8, 2]), [4, 8, 8, 2]);
    const ids = tf.tensor1d(randomInts(33, 64, 20), 'int32');
    const optimizer = tf.train.sgd(0.01);
    const step = (): void => {
      optimizer.minimize(() => {
        const features = tf.reshape(tf.conv2d(x, filter, 2, 'same'), [64, 4]);
        return tf.mean(tf.square(tf.sub(features, tf.gather(table, ids))));
      });
    };
    step(); // The first step may allocate optimizer state.
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    for (let i = 0; i < 50; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    tf.dispose([filter, table, x, ids]);
    optimizer.dispose();
  });
});

describe('useFastWasmKernels', () => {
  /** Runs `body` with the fast kernels in place, and puts tfjs's own back whatever happens. */
  async function withFastKernels(body: () => Promise<void>): Promise<void> {
    const restore = useFastWasmKernels();
    try {
      await body();
    } finally {
      restore();
    }
  }

  it('replaces BatchMatMul, Conv2DBackpropInput, MaxPoolGrad and Sum, is idempotent, and restores tfjs\'s own kernels', async () => {
    await tf.setBackend('wasm');
    const names = ['BatchMatMul', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Sum'];
    const stock = names.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    stock.forEach((kernelFunc) => expect(kernelFunc).toBeDefined());
    const restore = useFastWasmKernels();
    expect(fastWasmKernelsActive()).toBe(true);
    const fast = names.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    fast.forEach((kernelFunc, k) => expect(kernelFunc).not.toBe(stock[k]));
    expect(useFastWasmKernels()).toBe(restore);
    expect(names.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc)).toEqual(fast);
    restore();
    restore();
    expect(fastWasmKernelsActive()).toBe(false);
    expect(names.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc)).toEqual(stock);
  });

  const matMulCases = [false, true].flatMap((transposeA) =>
    [false, true].flatMap((transposeB) =>
      [
        { a: [5, 7], b: [7, 3] },
        { a: [3, 5, 7], b: [3, 7, 4] },
        { a: [1, 6, 2], b: [4, 2, 5] },
        { a: [64, 784], b: [784, 128] },
      ].map(({ a, b }) => ({ transposeA, transposeB, a, b })),
    ),
  );

  it.each(matMulCases)('matMul of $a by $b, transposeA $transposeA, transposeB $transposeB, matches cpu', async ({ transposeA, transposeB, a, b }) => {
    const swap = (shape: number[]) => [...shape.slice(0, -2), shape[shape.length - 1]!, shape[shape.length - 2]!];
    const aShape = transposeA ? swap(a) : a;
    const bShape = transposeB ? swap(b) : b;
    await withFastKernels(() =>
      expectBackendsAgree(() => [tf.matMul(tf.tensor(randomValues(30, aShape), aShape), tf.tensor(randomValues(31, bShape), bShape), transposeA, transposeB)]),
    );
  });

  const convCases = [1, 3, 5].flatMap((size) =>
    [1, 4].flatMap((channels) =>
      (['same', 'valid'] as const).flatMap((pad) => [1, 2].map((stride) => ({ size, channels, pad, stride }))),
    ),
  );

  it.each(convCases)('conv2d input gradient, $size×$size filter, $channels channels, $pad, stride $stride, matches cpu', async ({ size, channels, pad, stride }) => {
    await withFastKernels(() =>
      expectBackendsAgree(() => {
        const x = tf.tensor4d(randomValues(32, [3, 11, 9, channels]), [3, 11, 9, channels]);
        const filter = tf.tensor4d(randomValues(33, [size, size, channels, 6]), [size, size, channels, 6]);
        const f = (input: tf.Tensor): tf.Scalar => {
          const y = tf.conv2d(input as tf.Tensor4D, filter, stride, pad);
          return tf.sum(tf.mul(y, tf.tensor(randomValues(34, y.shape), y.shape)));
        };
        return [tf.grad(f)(x)];
      }),
    );
  });

  it('explicit asymmetric padding (kernel called directly) matches cpu', async () => {
    const attrs = { strides: [1, 1], pad: [[0, 0], [2, 0], [0, 1], [0, 0]], dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [2, 8, 7, 3] };
    // Output of a 3×3 filter over 8×7 with pads (2, 0) and (0, 1): 8 × 6.
    await withFastKernels(() =>
      expectBackendsAgree(() => {
        const dy = tf.tensor4d(randomValues(35, [2, 8, 6, 5]), [2, 8, 6, 5]);
        const filter = tf.tensor4d(randomValues(36, [3, 3, 3, 5]), [3, 3, 3, 5]);
        return [tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor];
      }),
    );
  });

  it('trains the recipe MLP and a small CNN to the weights tfjs\'s own kernels give, up to rounding, and frees every intermediate', async () => {
    await tf.setBackend('wasm');
    const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
    const build = () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1) }),
          tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(2) }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: seeded(3) }),
          tf.layers.dense({ units: 10, kernelInitializer: seeded(4) }),
        ],
      });
    const xs = tf.tensor4d(randomValues(37, [32, 12, 12, 1]), [32, 12, 12, 1]);
    const ys = tf.oneHot(tf.tensor1d(randomInts(38, 32, 10), 'int32'), 10);
    const train = (model: tf.Sequential): Float32Array[] => {
      const optimizer = tf.train.sgd(0.1);
      for (let step = 0; step < 5; step++) optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
      optimizer.dispose();
      return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    };
    const stockModel = build();
    const stock = train(stockModel);
    const fastModel = build();
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    let fast: Float32Array[] = [];
    await withFastKernels(async () => {
      train(fastModel); // warm up (optimizer slots are created on the first step)
      const before = { tensors: tf.memory().numTensors, data: backend.numDataIds() };
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, fastModel.apply(xs) as tf.Tensor) as tf.Scalar);
        tf.dispose(Object.values(grads));
      });
      expect({ tensors: tf.memory().numTensors, data: backend.numDataIds() }).toEqual(before);
    });
    const again = build();
    await withFastKernels(async () => {
      fast = train(again);
    });
    fast.forEach((values, k) => {
      const reference = stock[k]!;
      let maxDiff = 0;
      reference.forEach((r, i) => (maxDiff = Math.max(maxDiff, Math.abs(r - values[i]!))));
      expect(maxDiff).toBeLessThan(1e-4);
    });
    tf.dispose([xs, ys]);
    [stockModel, fastModel, again].forEach((m) => m.dispose());
  });
});

/** Bit patterns of float32 values: equal arrays here are equal bit for bit (−0, NaN payloads). */
function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

describe('useFastWasmKernels: MaxPoolGrad matches the cpu backend bit for bit', () => {
  /**
   * The MaxPoolGrad kernel called directly with a seeded dy (neither backend's kernel reads the
   * pooled output, so dy stands in for it): tf.maxPool's own wasm kernel (XNNPACK) corrupts the
   * wasm memory for some of these layouts (explicit padding with a stride larger than the window).
   */
  function poolGradient(x: Float32Array, shape: [number, number, number, number], filter: number | [number, number], stride: number | [number, number], pad: 'valid' | 'same' | number) {
    const { outShape } = tf.backend_util.computePool2DInfo(shape, filter, stride, 1, pad);
    return () => {
      const input = tf.tensor4d(x, shape);
      const dy = tf.tensor4d(randomValues(41, outShape), outShape);
      const attrs = { filterSize: filter, strides: stride, pad } as unknown as tf.NamedAttrMap;
      return [tf.engine().runKernel('MaxPoolGrad', { dy, input, output: dy }, attrs) as tf.Tensor];
    };
  }

  async function expectBitwiseEqual(compute: () => tf.Tensor[]): Promise<void> {
    const restore = useFastWasmKernels();
    let wasm: Float32Array[];
    try {
      wasm = await runOn('wasm', compute);
    } finally {
      restore();
    }
    const cpu = await runOn('cpu', compute);
    expect(wasm.length).toBe(cpu.length);
    cpu.forEach((reference, k) => expect(bits(wasm[k]!)).toEqual(bits(reference)));
  }

  const random = (seed: number, shape: readonly number[]) => randomValues(seed, shape);
  const inputs: Record<string, (shape: readonly number[]) => Float32Array> = {
    'random values': (shape) => random(40, shape),
    // ReLU zeros: many windows all 0, others with one or two positive values.
    'ReLU outputs': (shape) => random(42, shape).map((v) => Math.max(v, 0)),
    'all-equal windows': (shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.25),
    'all-negative values': (shape) => random(43, shape).map((v) => -1 - Math.abs(v)),
    // Values in {0, 1, 2}: ties at the maximum inside most windows, at every position.
    'three levels': (shape) => random(44, shape).map((v) => Math.floor((v + 1) * 1.5)),
  };

  const layouts = [
    { name: '2×2 stride 2 valid, even size', shape: [3, 8, 6, 4], filter: 2, stride: 2, pad: 'valid' },
    { name: '2×2 stride 2 valid, odd size (last row and column unread)', shape: [2, 11, 9, 3], filter: 2, stride: 2, pad: 'valid' },
    { name: '2×2 stride 2 same, odd size (padded windows)', shape: [2, 7, 5, 3], filter: 2, stride: 2, pad: 'same' },
    { name: '2×2 stride 1 valid (overlapping 2×2 windows)', shape: [2, 6, 5, 3], filter: 2, stride: 1, pad: 'valid' },
    { name: '3×3 stride 2 same (overlapping windows)', shape: [2, 9, 8, 3], filter: 3, stride: 2, pad: 'same' },
    { name: '3×3 stride 1 same (every position in up to 9 windows)', shape: [2, 6, 7, 2], filter: 3, stride: 1, pad: 'same' },
    { name: '2×3 window, stride 3×2, explicit padding 1', shape: [2, 8, 9, 2], filter: [2, 3], stride: [3, 2], pad: 1 },
    { name: '2×2 stride 3 (positions in no window)', shape: [1, 8, 8, 5], filter: 2, stride: 3, pad: 'valid' },
  ] as const;

  const cases = layouts.flatMap((layout) => Object.keys(inputs).map((input) => ({ ...layout, input })));
  it.each(cases)('$name, $input', async ({ shape, filter, stride, pad, input }) => {
    const x = inputs[input]!(shape);
    await expectBitwiseEqual(poolGradient(x, [...shape], filter as number | [number, number], stride as number | [number, number], pad));
  });

  it('windows holding NaN or −∞: NaN is never the maximum, and a window with nothing above −∞ gets no gradient', async () => {
    const shape: [number, number, number, number] = [1, 4, 6, 2];
    const x = random(45, shape);
    // Window (0, 0) of channel 0: NaN first, then values; window (0, 1): all NaN; (0, 2): all −∞;
    // channel 1 of (1, 0): −∞ then NaN then a value.
    const at = (r: number, c: number, d: number) => (r * 6 + c) * 2 + d;
    x[at(0, 0, 0)] = Number.NaN;
    for (const [r, c] of [[0, 2], [0, 3], [1, 2], [1, 3]]) x[at(r!, c!, 0)] = Number.NaN;
    for (const [r, c] of [[0, 4], [0, 5], [1, 4], [1, 5]]) x[at(r!, c!, 0)] = Number.NEGATIVE_INFINITY;
    x[at(2, 0, 1)] = Number.NEGATIVE_INFINITY;
    x[at(2, 1, 1)] = Number.NaN;
    await expectBitwiseEqual(poolGradient(x, shape, 2, 2, 'valid'));
  });

  it('frees every intermediate, and rejects a dy of the wrong shape with InfoBatchError', async () => {
    await tf.setBackend('wasm');
    const restore = useFastWasmKernels();
    try {
      const x = tf.tensor4d(random(46, [2, 6, 6, 3]), [2, 6, 6, 3]);
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const before = { tensors: tf.memory().numTensors, data: backend.numDataIds() };
      tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(x));
      expect({ tensors: tf.memory().numTensors, data: backend.numDataIds() }).toEqual(before);
      const y = tf.maxPool(x, 2, 2, 'valid');
      const dy = tf.zeros([2, 3, 2, 3]);
      const attrs = { filterSize: 2, strides: 2, pad: 'valid' } as unknown as tf.NamedAttrMap;
      expect(() => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs)).toThrow(InfoBatchError);
      expect(() => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs)).toThrow(/'dy' must have the pooled shape \[2, 3, 3, 3\] but got \[2, 3, 2, 3\]/);
      tf.dispose([x, y, dy]);
    } finally {
      restore();
    }
  });

  it('trains a CNN with max pooling to the cpu backend\'s weights, up to rounding', async () => {
    const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
    const xs = randomValues(47, [16, 12, 12, 1]);
    const labels = randomInts(48, 16, 10);
    const train = async (backend: 'wasm' | 'cpu') => {
      await tf.setBackend(backend);
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(1) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: seeded(2) }),
          tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, kernelInitializer: seeded(3) }),
        ],
      });
      const x = tf.tensor4d(xs, [16, 12, 12, 1]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const optimizer = tf.train.sgd(0.1);
      for (let step = 0; step < 5; step++) optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
      const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
      return weights;
    };
    const cpu = await train('cpu');
    const restore = useFastWasmKernels();
    let wasm: Float32Array[];
    try {
      wasm = await train('wasm');
    } finally {
      restore();
    }
    wasm.forEach((values, k) => {
      let maxDiff = 0;
      cpu[k]!.forEach((r, i) => (maxDiff = Math.max(maxDiff, Math.abs(r - values[i]!))));
      expect(maxDiff).toBeLessThan(1e-4);
    });
  });
});

describe('useFastWasmKernels: Sum over leading axes equals the stock wasm kernel bit for bit', () => {
  const cases = [
    { shape: [128, 6, 5, 16], axis: [0, 1, 2], keepDims: false },
    { shape: [7, 5, 3], axis: [0, 1], keepDims: true },
    { shape: [64, 10], axis: 0, keepDims: false },
    { shape: [4, 1, 9], axis: [0], keepDims: true },
    // Not leading axes in order (out of order, innermost, all, interior): the stock kernel runs.
    { shape: [7, 5, 3], axis: [1, 0], keepDims: true },
    { shape: [6, 5, 4], axis: [2], keepDims: false },
    { shape: [6, 5, 4], axis: [0, 1, 2], keepDims: false },
    { shape: [6, 5, 4], axis: [1], keepDims: true },
  ];

  it.each(cases)('sum of $shape over $axis, keepDims $keepDims', async ({ shape, axis, keepDims }) => {
    await tf.setBackend('wasm');
    const x = tf.tensor(randomValues(50, shape).map((v) => v * 1000), shape);
    const stock = tf.sum(x, axis, keepDims);
    const restore = useFastWasmKernels();
    let fast: tf.Tensor;
    try {
      const before = tf.memory().numTensors;
      fast = tf.sum(x, axis, keepDims);
      expect(tf.memory().numTensors).toBe(before + 1);
    } finally {
      restore();
    }
    expect(fast.shape).toEqual(stock.shape);
    expect(bits(Float32Array.from(await fast.data()))).toEqual(bits(Float32Array.from(await stock.data())));
    tf.dispose([x, stock, fast]);
  });

  it('leaves int32 sums to the stock kernel', async () => {
    await tf.setBackend('wasm');
    const restore = useFastWasmKernels();
    try {
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
      const sum = tf.sum(x, 0);
      expect(sum.dtype).toBe('int32');
      expect(Array.from(await sum.data())).toEqual([9, 12]);
      tf.dispose([x, sum]);
    } finally {
      restore();
    }
  });
});
