/**
 * Gradient kernels that `@tensorflow/tfjs-backend-wasm` 4.x lacks, composed from kernels it has:
 *
 * - `Conv2DBackpropFilter` (needed to train any conv net) runs as one forward `Conv2D` (XNNPACK)
 *   over transposed tensors: the batch axis becomes the channel axis being reduced, the output
 *   gradient becomes the filter, and the forward stride becomes the dilation.
 * - `UnsortedSegmentSum` (needed by the gradients of `tf.gather` and embedding lookups) runs as
 *   one `ScatterNd`, which sums updates that share an index. Memory is the input plus the
 *   output, O(rows × width + segments × width), unlike a one-hot matmul's O(rows × segments).
 *
 * And, opt-in ({@link useFastWasmKernels}), faster versions of four kernels it has.
 */
import { backend_util, BatchMatMul, Conv2DBackpropFilter, Conv2DBackpropInput, getKernel, MaxPoolGrad, registerKernel, Sum, unregisterKernel, UnsortedSegmentSum, util } from '@tensorflow/tfjs-core';
import type {
  BatchMatMulAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DataType,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  MaxPoolGradAttrs,
  NamedAttrMap,
  NamedTensorInfoMap,
  SumAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { describeValue, InfoBatchError } from '../core/errors.js';

const WASM = 'wasm';

/** Runs an already registered wasm kernel; the caller owns (and must dispose) the result. */
function runWasmKernel(kernelName: string, backend: KernelBackend, inputs: NamedTensorInfoMap, attrs: object): TensorInfo {
  const config = getKernel(kernelName, WASM);
  if (config === undefined) {
    throw new InfoBatchError('UNSUPPORTED', `registerWasmGradientKernels: the wasm backend has no ${kernelName} kernel to build on.`);
  }
  return config.kernelFunc({ inputs, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

/**
 * dW[fh, fw, ci, co] = Σ_{b, oh, ow} x[b, oh·sh + fh − padTop, ow·sw + fw − padLeft, ci] · dy[b, oh, ow, co],
 * which is a stride-1 convolution of xᵀ = [ci, H, W, b] (batch ci, channels b) with the filter
 * dyᵀ = [oh, ow, b, co] at dilation (sh, sw), giving [ci, fh, fw, co]. The forward pass has no
 * dilation here: tfjs-core rejects gradients of dilated conv2d, and the kernel has no such attr.
 */
const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const { filterHeight, filterWidth, strideHeight, strideWidth, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  // Padding after the input that the last output row/column reaches; negative means trailing
  // input rows/columns never meet the filter and are cropped away.
  const padBottom = (outHeight - 1) * strideHeight + filterHeight - padInfo.top - inHeight;
  const padRight = (outWidth - 1) * strideWidth + filterWidth - padInfo.left - inWidth;
  const channelsLast = info.dataFormat === 'channelsLast';

  const xT = runWasmKernel('Transpose', b, { x }, { perm: channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0] });
  const dyT = runWasmKernel('Transpose', b, { x: dy }, { perm: channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1] });
  let input = xT;
  if (padBottom < 0 || padRight < 0) {
    const size = [-1, inHeight + Math.min(padBottom, 0), inWidth + Math.min(padRight, 0), -1];
    input = runWasmKernel('Slice', b, { x: xT }, { begin: [0, 0, 0, 0], size });
    b.disposeData(xT.dataId);
  }
  const dwT = runWasmKernel(
    'Conv2D',
    b,
    { x: input, filter: dyT },
    {
      strides: [1, 1],
      dilations: [strideHeight, strideWidth],
      pad: [
        [0, 0],
        [padInfo.top, Math.max(padBottom, 0)],
        [padInfo.left, Math.max(padRight, 0)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
  // Disposing the filter tensor also frees the XNNPACK operator the Conv2D kernel cached for it.
  b.disposeData(input.dataId);
  b.disposeData(dyT.dataId);
  const dw = runWasmKernel('Transpose', b, { x: dwT }, { perm: [1, 2, 0, 3] });
  b.disposeData(dwT.dataId);
  return dw;
};

/**
 * out[s, ...] = Σ_{i : segmentIds[i] = s} x[i, ...] via ScatterNd, which does not bounds-check,
 * so ids are validated first (O(number of ids)).
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as { numSegments: number };
  const ids = b.readSync(segmentIds.dataId) as Int32Array;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!(id >= 0 && id < numSegments)) {
      throw new InfoBatchError(
        'OUT_OF_RANGE',
        `UnsortedSegmentSum (wasm): segmentIds[${i}] must be in [0, numSegments = ${numSegments}); received ${describeValue(id)}.`,
      );
    }
  }
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const indices = runWasmKernel('Reshape', b, { x: segmentIds }, { shape: [ids.length, 1] });
  const updates = runWasmKernel('Reshape', b, { x }, { shape: [ids.length, ...innerShape] });
  const out = runWasmKernel('ScatterNd', b, { indices, updates }, { shape: [numSegments, ...innerShape] });
  b.disposeData(indices.dataId);
  b.disposeData(updates.dataId);
  return out;
};

const gradientKernels: readonly KernelConfig[] = [
  { kernelName: Conv2DBackpropFilter, backendName: WASM, kernelFunc: conv2DBackpropFilter },
  { kernelName: UnsortedSegmentSum, backendName: WASM, kernelFunc: unsortedSegmentSum },
];

/**
 * Registers the wasm `Conv2DBackpropFilter` and `UnsortedSegmentSum` kernels (needed to train
 * conv nets and embeddings on wasm); idempotent, and a kernel already registered is left alone.
 *
 * @example
 * ```ts
 * registerWasmGradientKernels();
 * await tf.setBackend('wasm');
 * const g = tf.grad((f: tf.Tensor4D) => tf.conv2d(x, f, 1, 'same').sum())(filter);
 * ```
 */
export function registerWasmGradientKernels(): void {
  for (const config of gradientKernels) {
    if (getKernel(config.kernelName, WASM) === undefined) registerKernel(config);
  }
}

/** The kernels the fast ones replaced, by name, while they are in place. */
let stockKernels: ReadonlyMap<string, KernelConfig> | undefined;

/** Runs the kernel `name` replaced (the fast kernels fall back to it). */
function runStockKernel(name: string, backend: KernelBackend, inputs: NamedTensorInfoMap, attrs: object): TensorInfo {
  return stockKernels!.get(name)!.kernelFunc({ inputs, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

/** `info` with its last two axes swapped, by the wasm Transpose kernel. */
function swapLastAxes(backend: KernelBackend, info: TensorInfo): TensorInfo {
  const perm = info.shape.map((_, i) => i);
  const rank = perm.length;
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return runWasmKernel('Transpose', backend, { x: info }, { perm });
}

/**
 * tfjs-backend-wasm 4.x hands `matMul` to XNNPACK only when neither operand is transposed, and
 * runs a scalar loop otherwise: the gradients of every dense layer (`dW = xᵀ·dy`, `dx = dy·Wᵀ`)
 * take that loop, about 13 ms for a 64×784ᵀ·64×128 product against 1 ms for the same product
 * pre-transposed. Transposing the operand first (a copy) and calling the XNNPACK path is faster for
 * every shape a network trains with.
 */
const fastBatchMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  const { a, b: right } = inputs as { a: TensorInfo; b: TensorInfo };
  if (!transposeA && !transposeB) return runStockKernel(BatchMatMul, b, inputs, attrs ?? {});
  const left = transposeA ? swapLastAxes(b, a) : a;
  const other = transposeB ? swapLastAxes(b, right) : right;
  try {
    return runStockKernel(BatchMatMul, b, { a: left, b: other }, { ...attrs, transposeA: false, transposeB: false });
  } finally {
    if (transposeA) b.disposeData(left.dataId);
    if (transposeB) b.disposeData(other.dataId);
  }
};

/**
 * The input gradient of a stride-1 NHWC convolution is itself a convolution: of `dy`, padded so
 * that every input position sees the filter taps that read it, with the filter rotated by 180° and
 * its channel axes swapped. tfjs-backend-wasm 4.x computes it with a scalar loop (about 56 ms of a
 * 128-sample step of the recipe CNN, whose forward convolutions take 2 ms each on XNNPACK); this
 * runs it as one XNNPACK `Conv2D`. Strided, dilated or NCHW cases keep the stock kernel.
 */
const fastConv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, format);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || format !== 'channelsLast') return runStockKernel(Conv2DBackpropInput, b, inputs, attrs ?? {});
  const { filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  // Rows and columns after dy so that the output has exactly inHeight × inWidth positions.
  const bottom = inHeight + filterHeight - 1 - outHeight - top;
  const right = inWidth + filterWidth - 1 - outWidth - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return runStockKernel(Conv2DBackpropInput, b, inputs, attrs ?? {});
  const reversed = runWasmKernel('Reverse', b, { x: filter }, { dims: [0, 1] });
  const rotated = runWasmKernel('Transpose', b, { x: reversed }, { perm: [0, 1, 3, 2] });
  b.disposeData(reversed.dataId);
  try {
    return runWasmKernel('Conv2D', b, { x: dy, filter: rotated }, {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    });
  } finally {
    // Disposing the filter also frees the XNNPACK operator the Conv2D kernel cached for it.
    b.disposeData(rotated.dataId);
  }
};

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` (public methods of its class) that let a kernel
 * read and write tensors in the wasm memory in place, without a copy.
 */
interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): backend_util.TypedArray;
}

/**
 * dx of a 2-D max pool, computed as tfjs's cpu kernel defines it: each window's gradient goes to
 * its first largest value in row-major order (NaN never counts as largest; a window with no value
 * above −∞ sends its gradient nowhere), and a position chosen by several overlapping windows gets
 * the sum of their gradients, added in the cpu kernel's order in float64 and rounded once. So dx
 * equals the cpu kernel's bit for bit. One pass over x (a window at a time) and one over dy.
 */
function maxPoolGradInto(x: Float32Array, dy: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
  const overlapping = strideHeight < filterHeight || strideWidth < filterWidth;
  // Overlapping windows add several gradients into one position: in float64, as the cpu kernel does.
  const sums = overlapping ? new Float64Array(dx.length) : undefined;
  if (!overlapping) dx.fill(0);
  const rowStride = inWidth * channels;
  let g = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      const top = i * strideHeight - padInfo.top;
      const rowBegin = Math.max(top, 0);
      const rowEnd = Math.min(inHeight, top + filterHeight);
      for (let j = 0; j < outWidth; j++, g += channels) {
        const left = j * strideWidth - padInfo.left;
        const colBegin = Math.max(left, 0);
        const colEnd = Math.min(inWidth, left + filterWidth);
        const corner = ((n * inHeight + rowBegin) * inWidth + colBegin) * channels;
        const rows = rowEnd - rowBegin;
        const cols = colEnd - colBegin;
        // Channel by channel, the window's positions in row-major order (a window spans a few
        // cache lines, so reading it once per channel costs little and keeps the loop in locals).
        // A whole 2×2 window (the default pool) is unrolled: about 30% faster, same comparisons.
        const twoByTwo = rows === 2 && cols === 2;
        for (let d = 0; d < channels; d++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          if (twoByTwo) {
            const p0 = corner + d;
            const p1 = p0 + channels;
            const p2 = p0 + rowStride;
            const p3 = p2 + channels;
            let value = x[p0]!;
            if (value > best) {
              best = value;
              at = p0;
            }
            value = x[p1]!;
            if (value > best) {
              best = value;
              at = p1;
            }
            value = x[p2]!;
            if (value > best) {
              best = value;
              at = p2;
            }
            value = x[p3]!;
            if (value > best) at = p3;
          } else {
            for (let r = 0, rowOffset = corner + d; r < rows; r++, rowOffset += rowStride) {
              for (let c = 0, offset = rowOffset; c < cols; c++, offset += channels) {
                const value = x[offset]!;
                if (value > best) {
                  best = value;
                  at = offset;
                }
              }
            }
          }
          if (at < 0) continue;
          // `0 + dy` as in the cpu kernel's sum (which also turns −0 into +0).
          if (sums === undefined) dx[at] = 0 + dy[g + d]!;
          else sums[at]! += dy[g + d]!;
        }
      }
    }
  }
  if (sums !== undefined) dx.set(sums);
}

/**
 * tfjs-backend-wasm 4.x computes a max pool's gradient with a scalar loop over every input
 * position and every window that could hold it (about 28 CPU ms for a 128×24×24×16 input on the
 * development machine), and breaks ties unlike tfjs's other backends: it takes a window's last
 * largest value, and starts its running maximum at the smallest positive float, so a window with
 * no positive value (all negative, or the zeros a ReLU leaves) sends its gradient nowhere. This
 * computes the cpu kernel's result ({@link maxPoolGradInto}) in one pass over the wasm memory:
 * 8 ms there (a composition of wasm kernels, transpose + ArgMax + ScatterNd, took 19 ms: each of
 * its passes is a scalar loop too). float32 only; other dtypes keep the stock kernel.
 */
const fastMaxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmHeapBackend;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return runStockKernel(MaxPoolGrad, b, inputs, attrs ?? {});
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  if (dy.shape.length !== 4 || dy.shape.some((size, axis) => size !== info.outShape[axis])) {
    throw new InfoBatchError('SHAPE_MISMATCH', `MaxPoolGrad (wasm): 'dy' must have the pooled shape [${info.outShape.join(', ')}] but got [${dy.shape.join(', ')}].`);
  }
  const dx = b.makeOutput([...input.shape], 'float32');
  // Views taken after the allocation, which may grow the wasm memory (detaching older views).
  maxPoolGradInto(b.typedArrayFromHeap(input) as Float32Array, b.typedArrayFromHeap(dy) as Float32Array, b.typedArrayFromHeap(dx) as Float32Array, info);
  return dx;
};

/**
 * A sum over leading axes (the gradient of every bias: a conv layer's over batch, height and
 * width) makes tfjs-backend-wasm 4.x transpose the whole tensor, as its `Sum` reduces innermost
 * axes only, and then add in a scalar loop (about 6 CPU ms for 128×26×26×16). This adds the rows
 * in place in the same order, one float32 addition at a time (`Math.fround` of a float64 sum of
 * two float32 values is their float32 sum), so the result is the stock kernel's bit for bit.
 * Other reductions (innermost axes, all axes, axes listed out of order, int32) keep the stock kernel.
 */
const fastSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmHeapBackend;
  const { x } = inputs as { x: TensorInfo };
  const { axis, keepDims } = attrs as unknown as SumAttrs;
  const axes = util.parseAxisParam(axis, x.shape);
  // Listed in order: the stock kernel's transpose puts the axes in the order given, and so adds
  // in that order; [1, 0] would add in another order than this loop.
  const leading = axes.length < x.shape.length && axes.every((a, k) => a === k);
  if (x.dtype !== 'float32' || axes.length === 0 || !leading) return runStockKernel(Sum, b, inputs, attrs ?? {});
  const kept = x.shape.slice(axes.length);
  const width = util.sizeFromShape(kept);
  const out = b.makeOutput(keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept, 'float32');
  const values = b.typedArrayFromHeap(x) as Float32Array;
  const sums = b.typedArrayFromHeap(out) as Float32Array;
  sums.fill(0);
  for (let offset = 0; offset < values.length; offset += width) {
    for (let k = 0; k < width; k++) sums[k]! += values[offset + k]!;
  }
  return out;
};

/**
 * Name of the kernel set {@link useFastWasmKernels} installs, recorded by benches
 * (`config.wasmKernels`) so that a bench never mixes runs of two sets. Change it whenever a change
 * to these kernels changes their results (even by rounding): benches made with the old set then
 * refuse to resume with the new one instead of mixing them silently. History: `'fast'`
 * (`BatchMatMul`, `Conv2DBackpropInput`); `'fast-2'` adds `MaxPoolGrad` (ties and windows without
 * a positive value now as on the cpu backend) and `Sum` (same results).
 */
export const FAST_WASM_KERNELS_NAME = 'fast-2';

const FAST_KERNELS: ReadonlyArray<readonly [string, KernelFunc]> = [
  [BatchMatMul, fastBatchMatMul],
  [Conv2DBackpropInput, fastConv2DBackpropInput],
  [MaxPoolGrad, fastMaxPoolGrad],
  [Sum, fastSum],
];

/**
 * Makes training on the wasm backend faster by replacing four of its kernels that run scalar loops:
 * `BatchMatMul` with a transposed operand (every dense layer's gradient) and the input gradient of
 * stride-1 NHWC convolutions become compositions of its XNNPACK kernels; the gradient of max
 * pooling and sums over leading axes (every bias gradient) run as single passes over the wasm
 * memory. Opt-in: matMul and the convolution's input gradient equal tfjs's own kernels up to float
 * rounding (the sums run in another order), and the max-pooling gradient breaks ties as the cpu
 * backend does (its first largest value, where tfjs-backend-wasm takes the last and drops windows
 * without a positive value), so a run made with them is reproducible with them, not bit for bit
 * without them. On the development machine the recipe MLP's step went from 18 to 4 ms; the recipe
 * CNN's takes 46 instead of 73 CPU ms, the tfjs-examples CNN's 172 instead of 399.
 * Idempotent; also `selectBackend({ fastWasmKernels: true })`.
 *
 * @returns a function that puts tfjs's own kernels back.
 * @throws InfoBatchError 'UNSUPPORTED' when the wasm backend's kernels are not registered (import
 *   `@tensorflow/tfjs-backend-wasm` first).
 *
 * @example
 * ```ts
 * await selectBackend({ prefer: ['wasm'] });
 * const restore = useFastWasmKernels();
 * await fitWithInfoBatch(model, x, y, { epochs: 10 });
 * restore();
 * ```
 */
export function useFastWasmKernels(): () => void {
  if (stockKernels === undefined) {
    const stock = new Map(FAST_KERNELS.map(([name]) => [name, getKernel(name, WASM)] as const));
    const missing = [...stock].filter(([, config]) => config === undefined).map(([name]) => name);
    if (missing.length > 0) {
      throw new InfoBatchError('UNSUPPORTED', `useFastWasmKernels: the wasm backend has no ${missing.join(', ')} kernel registered; import '@tensorflow/tfjs-backend-wasm' (or call selectBackend({ prefer: ['wasm'] })) first.`);
    }
    stockKernels = stock as Map<string, KernelConfig>;
    for (const [name, kernelFunc] of FAST_KERNELS) {
      unregisterKernel(name, WASM);
      registerKernel({ ...stockKernels.get(name)!, kernelFunc });
    }
  }
  return restoreWasmKernels;
}

/** Whether {@link useFastWasmKernels} is in effect. */
export function fastWasmKernelsActive(): boolean {
  return stockKernels !== undefined;
}

/** Puts tfjs's own wasm kernels back after {@link useFastWasmKernels}; idempotent. */
function restoreWasmKernels(): void {
  if (stockKernels === undefined) return;
  for (const [name, original] of stockKernels) {
    unregisterKernel(name, WASM);
    registerKernel(original);
  }
  stockKernels = undefined;
}
