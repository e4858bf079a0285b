import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { isNode, selectBackend } from '../../src/tfjs/backend.js';
import { fastWasmKernelsActive, useFastWasmKernels } from '../../src/tfjs/wasm-kernels.js';

describe('isNode', () => {
  it('is true under vitest', () => {
    expect(isNode()).toBe(true);
  });
});

describe('selectBackend', () => {
  it("gives 'cpu' for prefer ['cpu']", async () => {
    expect(await selectBackend({ prefer: ['cpu'] })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it("defaults to 'wasm' in Node without @tensorflow/tfjs-node, with gradient kernels registered", async () => {
    expect(await selectBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
  });

  it('skips unavailable backends in prefer order', async () => {
    expect(await selectBackend({ prefer: ['webgpu', 'webgl', 'cpu'] })).toBe('cpu');
  });

  it('never tries webgpu in Node, even where a navigator.gpu is present (the package is browser-only)', async () => {
    const requestAdapter = vi.fn(async () => ({}));
    vi.stubGlobal('navigator', { gpu: { requestAdapter } });
    try {
      expect(await selectBackend({ prefer: ['webgpu', 'cpu'] })).toBe('cpu');
      await expect(selectBackend({ prefer: ['webgpu'] })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(requestAdapter).not.toHaveBeenCalled();
    expect(tf.findBackendFactory('webgpu')).toBeNull();
  });

  it('turns the fast wasm kernels on only when asked and when wasm is chosen', async () => {
    await selectBackend({ prefer: ['cpu'], fastWasmKernels: true });
    expect(fastWasmKernelsActive()).toBe(false);
    await selectBackend({ prefer: ['wasm'] });
    expect(fastWasmKernelsActive()).toBe(false);
    await selectBackend({ prefer: ['wasm'], fastWasmKernels: true });
    expect(fastWasmKernelsActive()).toBe(true);
    useFastWasmKernels()(); // restore
    expect(fastWasmKernelsActive()).toBe(false);
  });

  it("throws UNSUPPORTED when no preferred backend is available", async () => {
    await expect(selectBackend({ prefer: ['tensorflow'] })).rejects.toMatchObject({ name: 'InfoBatchError', code: 'UNSUPPORTED' });
  });

  it.each([
    { name: 'an unknown backend', options: { prefer: ['cpu', 'cuda'] }, message: /options\.prefer\[1\] must be one of .*received "cuda"/ },
    { name: 'an empty list', options: { prefer: [] }, message: /options\.prefer must be a non-empty array/ },
    { name: 'a string instead of a list', options: { prefer: 'cpu' }, message: /received "cpu"/ },
    { name: 'an unknown option', options: { backend: 'cpu' }, message: /unknown option "backend"/ },
    { name: 'a fastWasmKernels that is not a boolean', options: { fastWasmKernels: 'yes' }, message: /options\.fastWasmKernels must be a boolean; received "yes"/ },
  ])('throws INVALID_OPTION for $name', async ({ options, message }) => {
    const call = selectBackend(options as unknown as Parameters<typeof selectBackend>[0]);
    await expect(call).rejects.toBeInstanceOf(InfoBatchError);
    await expect(call).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(message) });
  });
});
