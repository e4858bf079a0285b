/**
 * Where a training step's CPU time goes, kernel by kernel: `tf.profile` with the backend's kernel
 * timer swapped for one that reads the process's CPU time (`process.cpuUsage`, user + system)
 * around each kernel, so the breakdown holds on a machine shared with other work, where
 * wall-clock kernel times stretch with the load. The time outside every kernel (tfjs-layers, the
 * gradient tape, the optimizer's JavaScript) is the step's CPU time minus the kernels' sum.
 */
import * as tf from '@tensorflow/tfjs';

/** CPU milliseconds of one kernel name, summed over a profiled step. */
export interface KernelCost {
  readonly name: string;
  /** CPU ms per step. */
  readonly ms: number;
  /** Calls per step. */
  readonly calls: number;
}

/** The result of {@link profileStepCpu}. */
export interface StepProfile {
  /** Process CPU ms of the whole step (mean over the profiled steps). */
  readonly stepMs: number;
  /** Per kernel name, most expensive first. */
  readonly kernels: readonly KernelCost[];
  /** CPU ms of all kernels together. */
  readonly kernelMs: number;
}

/** Process CPU milliseconds (user + system, all threads) so far. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

interface TimedBackend {
  time(f: () => void): Promise<{ kernelMs: number }>;
}

/**
 * Profiles `steps` calls of `step` on the current backend and averages per step.
 * @param step - one training step (awaited).
 * @param steps - steps to average over. @defaultValue 5
 */
export async function profileStepCpu(step: () => Promise<unknown>, steps = 5): Promise<StepProfile> {
  const backend = tf.backend() as unknown as TimedBackend;
  const ownTime = Object.prototype.hasOwnProperty.call(backend, 'time') ? backend.time : undefined;
  backend.time = async (f) => {
    const start = cpuMs();
    f();
    return { kernelMs: cpuMs() - start };
  };
  const byName = new Map<string, { ms: number; calls: number }>();
  let stepMs = 0;
  try {
    for (let s = 0; s < steps; s++) {
      const start = cpuMs();
      const info = await tf.profile(async () => {
        await step();
      });
      stepMs += cpuMs() - start;
      for (const kernel of info.kernels) {
        const entry = byName.get(kernel.name) ?? { ms: 0, calls: 0 };
        entry.ms += (await kernel.kernelTimeMs) as number;
        entry.calls++;
        byName.set(kernel.name, entry);
      }
    }
  } finally {
    if (ownTime === undefined) delete (backend as Partial<TimedBackend>).time;
    else backend.time = ownTime;
  }
  const kernels = [...byName].map(([name, { ms, calls }]) => ({ name, ms: ms / steps, calls: calls / steps })).sort((a, b) => b.ms - a.ms);
  return { stepMs: stepMs / steps, kernels, kernelMs: kernels.reduce((sum, k) => sum + k.ms, 0) };
}

/** The profile as text lines: the `top` most expensive kernels, the rest, and the time outside kernels. */
export function formatStepProfile(profile: StepProfile, top = 10): string[] {
  const pct = (ms: number) => `${((100 * ms) / profile.stepMs).toFixed(1).padStart(5)}%`;
  const lines = profile.kernels.slice(0, top).map((k) => `  ${k.name.padEnd(22)} ${k.ms.toFixed(1).padStart(7)} ms ${pct(k.ms)}  (${k.calls} call${k.calls === 1 ? '' : 's'})`);
  const rest = profile.kernels.slice(top).reduce((sum, k) => sum + k.ms, 0);
  if (profile.kernels.length > top) lines.push(`  ${`${profile.kernels.length - top} other kernels`.padEnd(22)} ${rest.toFixed(1).padStart(7)} ms ${pct(rest)}`);
  const outside = profile.stepMs - profile.kernelMs;
  lines.push(`  ${'outside kernels'.padEnd(22)} ${outside.toFixed(1).padStart(7)} ms ${pct(outside)}  (tfjs-layers, gradient tape, optimizer, profiler)`);
  return lines;
}
