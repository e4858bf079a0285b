/**
 * Node `worker_threads` transport of the data-parallel protocol: one worker thread per rank.
 */
import type { FromReplica, ReplicaEndpoint, ToReplica } from './protocol.js';

let live = 0;

/** Number of replica threads started by {@link spawnNodeReplicas} that have not exited. @internal */
export function liveNodeReplicas(): number {
  return live;
}

/**
 * Starts `count` worker threads, each serving one replica, and returns their endpoints in rank
 * order. Run from TypeScript sources (tests, `tsx`), the workers register `tsx` first.
 * @internal
 */
export async function spawnNodeReplicas(count: number): Promise<ReplicaEndpoint[]> {
  const { Worker } = await import(/* @vite-ignore */ 'node:worker_threads');
  const fromSource = import.meta.url.endsWith('.ts');
  const script = new URL(fromSource ? './worker-node.ts' : './worker-node.js', import.meta.url);
  return Array.from({ length: count }, () => {
    // From sources, the thread registers tsx (a dev dependency) before loading the entry.
    const worker = fromSource
      ? new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(script.href)}); })`, { eval: true })
      : new Worker(script);
    live++;
    let stopping = false;
    let failed: ((cause: unknown) => void) | undefined;
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        live--;
        if (!stopping) failed?.(new Error(`its thread exited unexpectedly with code ${code}`));
        resolve();
      });
    });
    worker.on('error', (error) => {
      if (!stopping) failed?.(error);
    });
    const endpoint: ReplicaEndpoint = {
      post(message: ToReplica, transfer: ArrayBuffer[] = []) {
        worker.postMessage(message, transfer);
      },
      listen({ message, failure }) {
        failed = failure;
        worker.on('message', (reply: FromReplica) => message(reply));
      },
      async terminate() {
        stopping = true;
        await worker.terminate();
        await exited;
      },
    };
    return endpoint;
  });
}
