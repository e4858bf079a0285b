/**
 * Picks and initialises the fastest available tfjs backend. Browser-safe: Node-only modules
 * (`@tensorflow/tfjs-node`, `node:*`) are only imported dynamically, behind {@link isNode}.
 */
import { engine, env, findBackendFactory, setBackend } from '@tensorflow/tfjs-core';
import { describeValue, InfoBatchError } from '../core/errors.js';
import { registerWasmGradientKernels, useFastWasmKernels } from './wasm-kernels.js';

/** Backends {@link selectBackend} knows how to pick. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu' | 'webgl' | 'webgpu';

/**
 * Whether a tfjs backend compiles its kernels per tensor shape (webgl, webgpu), so that a batch
 * size not seen before costs a compilation (the training functions align InfoBatch's pruned
 * epochs to the batch size on every backend: `InfoBatchPolicyOptions.alignToBatchSize`).
 * @param backend - a backend name, e.g. `tf.getBackend()`.
 */
export function compilesPerShape(backend: string): boolean {
  return backend === 'webgl' || backend === 'webgpu';
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Backends to try, in order; the first that initialises wins. Defaults to the fastest-first order of the platform. */
  prefer?: readonly BackendName[];
  /**
   * When wasm is chosen, also replace its slow `matMul`-with-transpose, stride-1 conv
   * input-gradient, max-pooling gradient and leading-axes sum kernels with faster ones
   * ({@link useFastWasmKernels}); results then differ from tfjs's own kernels by float rounding,
   * and max pooling's gradient breaks ties as on the cpu backend. @defaultValue false
   */
  fastWasmKernels?: boolean;
}

const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu', 'webgl', 'webgpu'];
const NODE_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const BROWSER_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * Whether the code runs in Node.js (as opposed to a browser or worker).
 *
 * @example
 * ```ts
 * if (isNode()) console.log('running in Node');
 * ```
 */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Imports a module that only exists in Node, hidden from bundlers so browser builds stay clean. */
function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/** Whether `@tensorflow/tfjs-node` (which registers the 'tensorflow' backend) can be loaded. */
async function loadTfjsNode(): Promise<boolean> {
  if (!isNode()) return false;
  try {
    await importNodeOnly<unknown>('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads `@tensorflow/tfjs-backend-wasm` and, in Node and before the backend first initialises,
 * turns threads off and points it at its own `.wasm` binaries. SIMD is left to the package's
 * feature detection, which finds it in Node.
 *
 * Threads cannot be turned on in Node without patching globals (measured with tfjs-backend-wasm
 * 4.22): the package's `init` hard-codes its pthread worker script as a `blob:` URL (no option
 * replaces it), the Emscripten glue creates workers through the global `Worker` it assigns itself
 * (`worker_threads` rejects `blob:` paths with ERR_WORKER_PATH), and each worker loads the main
 * script from a `Blob` with a synchronous file read that cannot read blobs. Making it work means
 * replacing `globalThis.Worker` and rewriting the worker script; use `workers: N` of the training
 * functions (data-parallel worker threads) to use every core instead.
 */
async function loadWasm(): Promise<boolean> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    return false;
  }
  if (isNode() && !('wasm' in engine().registry)) {
    env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const { createRequire } = await importNodeOnly<typeof import('node:module')>('node:module');
    const path = await importNodeOnly<typeof import('node:path')>('node:path');
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(entry) + path.sep);
  }
  return true;
}

/** The part of `navigator.gpu` used here (the project's DOM types predate WebGPU). */
interface WebGpuNavigator {
  readonly gpu?: { requestAdapter(): Promise<unknown> };
}

/**
 * In a browser that has a WebGPU adapter, loads `@tensorflow/tfjs-backend-webgpu` (an optional
 * peer dependency), which registers the 'webgpu' backend. Never in Node, and never without an
 * adapter: many browsers expose `navigator.gpu` but have no adapter to give (headless Chromium
 * without --enable-unsafe-webgpu), and the package's backend would then fail to initialise.
 */
async function loadWebgpu(): Promise<boolean> {
  if (isNode()) return false;
  if (findBackendFactory('webgpu') !== null) return true;
  const gpu = (globalThis.navigator as WebGpuNavigator | undefined)?.gpu;
  if (gpu === undefined) return false;
  try {
    if ((await gpu.requestAdapter()) === null) return false;
    await import('@tensorflow/tfjs-backend-webgpu');
    return true;
  } catch {
    return false;
  }
}

/**
 * Registers the 'cpu' backend when nothing has yet: `@tensorflow/tfjs` registers it when imported,
 * but a thread that imports only `@tensorflow/tfjs-core` (a data-parallel replica) has no backend
 * at all. Loads `@tensorflow/tfjs-backend-cpu` (a dependency of `@tensorflow/tfjs`), else
 * `@tensorflow/tfjs` itself; false when neither can be loaded.
 */
async function loadCpu(): Promise<boolean> {
  if (findBackendFactory('cpu') !== null) return true;
  for (const specifier of ['@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs']) {
    try {
      await importNodeOnly<unknown>(specifier);
      if (findBackendFactory('cpu') !== null) return true;
    } catch {
      // not installed here: try the next one
    }
  }
  return false;
}

/** Loads what `name` needs, then initialises and activates it; false when it is unavailable. */
async function tryBackend(name: BackendName): Promise<boolean> {
  if (name === 'tensorflow' && !(await loadTfjsNode())) return false;
  if (name === 'cpu' && !(await loadCpu())) return false;
  if (name === 'wasm' && !(await loadWasm())) return false;
  if (name === 'webgpu' && !(await loadWebgpu())) return false;
  if (findBackendFactory(name) === null) return false;
  if (!(await setBackend(name))) return false;
  if (name === 'wasm') registerWasmGradientKernels();
  if (name === 'webgl') avoidWebglPackedBinaryOps();
  return true;
}

/**
 * Turns off tfjs-backend-webgl's packed binary ops (`WEBGL_PACK_BINARY_OPERATIONS`). A packed
 * texture holds 2×2 values per texel, so a tensor with an odd number of rows has a padding row that
 * packed kernels compute but nobody reads, except the packed matMul, which sums whole texels along
 * the shared axis. With packed binary ops on (tfjs 4.22, SwiftShader), the padding row of the
 * logits' gradient on a batch of 79 held a non-finite value (first seen in the output of the packed
 * `exp` of the log-softmax gradient, then packed `mul` and `sub` carried it), and the two kernel-
 * gradient matMuls, which sum over the batch axis, turned both dense kernels of the MLP NaN while
 * the biases (summed by a bounds-checked reduction) stayed finite. Seen with full data on 1,999
 * samples (last batch 79) and in InfoBatch's pruned epoch (1,551 samples, last batch 15), the loss
 * falling normally until that step; with this flag off (so the log-softmax's binary ops run
 * unpacked) or WEBGL_PACK off, the same runs reach the cpu backend's accuracies exactly. Pruned
 * epochs end with a batch of any size, so choosing webgl here always applies it.
 */
function avoidWebglPackedBinaryOps(): void {
  env().set('WEBGL_PACK_BINARY_OPERATIONS', false);
}

function validatePrefer(prefer: unknown): readonly BackendName[] {
  const allowed = `a non-empty array of ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')}`;
  if (!Array.isArray(prefer) || prefer.length === 0) {
    throw new InfoBatchError('INVALID_OPTION', `selectBackend: options.prefer must be ${allowed}; received ${describeValue(prefer)}.`);
  }
  prefer.forEach((entry: unknown, i) => {
    if (!BACKEND_NAMES.includes(entry as BackendName)) {
      throw new InfoBatchError('INVALID_OPTION', `selectBackend: options.prefer[${i}] must be one of ${BACKEND_NAMES.join(', ')}; received ${describeValue(entry)}.`);
    }
  });
  return prefer as readonly BackendName[];
}

/**
 * Activates the fastest available backend and returns its name: in Node 'tensorflow' (when
 * `@tensorflow/tfjs-node` is installed), else 'wasm', else 'cpu'; in a browser 'webgpu', 'webgl',
 * 'wasm', then 'cpu'. 'cpu' and 'webgl' count as available once their package is imported
 * (`@tensorflow/tfjs` brings both); 'webgpu' in a browser whose `navigator.gpu` gives an adapter,
 * loading `@tensorflow/tfjs-backend-webgpu` (an optional peer dependency) itself; 'webgpu' is never
 * tried in Node. Choosing wasm registers its missing gradient kernels ({@link registerWasmGradientKernels});
 * choosing webgl turns its packed binary ops off (`WEBGL_PACK_BINARY_OPERATIONS`: with them, a
 * batch of an odd number of samples can make the weights NaN in tfjs 4.22; set it yourself when
 * you call `tf.setBackend('webgl')` directly).
 *
 * @param options `prefer`: the backends to try instead, in order; `fastWasmKernels`: see {@link SelectBackendOptions}.
 * @throws InfoBatchError 'INVALID_OPTION' for an unknown option or `prefer` entry; 'UNSUPPORTED' when none initialises.
 *
 * @example
 * ```ts
 * const name = await selectBackend(); // 'wasm' in Node without tfjs-node
 * await selectBackend({ prefer: ['cpu'] }); // 'cpu'
 * ```
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendName> {
  if (typeof options !== 'object' || options === null) {
    throw new InfoBatchError('INVALID_OPTION', `selectBackend: options must be an object or undefined; received ${describeValue(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'prefer' && key !== 'fastWasmKernels') {
      throw new InfoBatchError('INVALID_OPTION', `selectBackend: options may only hold 'prefer' and 'fastWasmKernels'; received an unknown option ${describeValue(key)}.`);
    }
  }
  if (options.fastWasmKernels !== undefined && typeof options.fastWasmKernels !== 'boolean') {
    throw new InfoBatchError('INVALID_OPTION', `selectBackend: options.fastWasmKernels must be a boolean; received ${describeValue(options.fastWasmKernels)}.`);
  }
  const candidates = options.prefer === undefined ? (isNode() ? NODE_ORDER : BROWSER_ORDER) : validatePrefer(options.prefer);
  for (const name of candidates) {
    if (await tryBackend(name)) {
      if (name === 'wasm' && options.fastWasmKernels === true) useFastWasmKernels();
      return name;
    }
  }
  throw new InfoBatchError('UNSUPPORTED', `selectBackend: none of the backends ${candidates.join(', ')} could be initialised here.`);
}
