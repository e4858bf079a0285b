/**
 * Gradient kernels that `@tensorflow/tfjs-backend-wasm` 4.x lacks, composed from kernels it has:
 *
 * - `Conv2DBackpropFilter` (needed to train any conv net) runs as one forward `Conv2D` (XNNPACK)
 *   over transposed tensors: the batch axis becomes the channel axis being reduced, the output
 *   gradient becomes the filter, and the forward stride becomes the dilation.
 * - `UnsortedSegmentSum` (needed by the gradients of `tf.gather` and embedding lookups) runs as
 *   one `ScatterNd`, which sums updates that share an index. Memory is the input plus the
 *   output, O(rows × width + segments × width), unlike a one-hot matmul's O(rows × segments).
 */
import { backend_util, Conv2DBackpropFilter, getKernel, registerKernel, UnsortedSegmentSum } from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
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
