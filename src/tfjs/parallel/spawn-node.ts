/**
 * Node `worker_threads` transport of the data-parallel protocol: one worker thread per rank.
 *
 * Each direction has a `MessageChannel` of its own and a counter in a shared `Int32Array` (element
 * 0 counts replies, element 1 requests) that the sender bumps with `Atomics.notify`, so a side
 * waiting for the other (`receiveNow` here, the replica between two steps) takes the message
 * with `receiveMessageOnPort` as soon as it is sent, without waiting for its event loop's next
 * turn. Measured on a 2-core machine against the same threads taking every message on the event
 * loop (interleaved rounds, results/parallel-transports-2026-12-07/): the recipe CNN's 2-worker
 * step rate rose by a median 7% (14 of 20 rounds faster); the MLP's did not change measurably.
 */
import type { FromReplica, ReplicaEndpoint, ToReplica } from './protocol.js';

let live = 0;

/** Number of replica threads started by {@link spawnNodeReplicas} that have not exited. @internal */
export function liveNodeReplicas(): number {
  return live;
}

/** What a replica thread gets as `workerData`: its two ports and the shared counters. @internal */
export interface NodeReplicaChannel {
  /** Where the replica posts its replies. */
  readonly replies: import('node:worker_threads').MessagePort;
  /** Where the coordinator's requests arrive. */
  readonly requests: import('node:worker_threads').MessagePort;
  /** Two int32 counters: element 0 counts the replies sent, element 1 the requests sent. */
  readonly counters: SharedArrayBuffer;
  /** Longest blocking wait for the next request after a step, in ms (0: the event loop only). */
  readonly nextRequestWaitMs: number;
}

/** Options of {@link spawnNodeReplicas}. @internal */
export interface SpawnNodeOptions {
  /**
   * Whether each side may block briefly for the other's next message (`receiveNow`, and the
   * replica between steps) instead of waiting for its event loop. `false` is kept for
   * `bench:parallel --variants=…,dedicated-event` to measure what it saves. @defaultValue true
   */
  readonly blockingReceive?: boolean;
}

/** Longest blocking wait of a replica thread for the next request after a step (the gap between steps is a few ms). */
const NEXT_REQUEST_WAIT_MS = 50;

/** Index of the reply counter in {@link NodeReplicaChannel.counters}. @internal */
export const REPLIES_SENT = 0;
/** Index of the request counter in {@link NodeReplicaChannel.counters}. @internal */
export const REQUESTS_SENT = 1;

/**
 * Takes the next message from `port` without a turn of the event loop: waits (blocking this
 * thread, at most `maxWaitMs`) on `counters[index]`, which the sender bumps after each message.
 * Undefined when none came in time. @internal
 */
export function receiveWithin(receive: (port: import('node:worker_threads').MessagePort) => { message: unknown } | undefined, port: import('node:worker_threads').MessagePort, counters: Int32Array, index: number, maxWaitMs: number): { message: unknown } | undefined {
  const until = performance.now() + maxWaitMs;
  for (;;) {
    // Read the counter before looking: a message sent after the look changes it, so the wait
    // below returns at once instead of missing the notification.
    const seen = Atomics.load(counters, index);
    const received = receive(port);
    if (received !== undefined) return received;
    const left = until - performance.now();
    if (left <= 0) return undefined;
    Atomics.wait(counters, index, seen, left);
  }
}

/** Posts `message` on `port` and bumps `counters[index]`, waking a receiver in {@link receiveWithin}. @internal */
export function postCounted(port: import('node:worker_threads').MessagePort, message: unknown, transfer: ArrayBuffer[], counters: Int32Array, index: number): void {
  port.postMessage(message, transfer);
  Atomics.add(counters, index, 1);
  Atomics.notify(counters, index);
}

/**
 * Starts `count` worker threads, each serving one replica, and returns their endpoints in rank
 * order. Run from TypeScript sources (tests, `tsx`), the workers register `tsx` first.
 * @internal
 */
export async function spawnNodeReplicas(count: number, { blockingReceive = true }: SpawnNodeOptions = {}): Promise<ReplicaEndpoint[]> {
  const { Worker, MessageChannel, receiveMessageOnPort } = await import(/* @vite-ignore */ 'node:worker_threads');
  const fromSource = import.meta.url.endsWith('.ts');
  const script = new URL(fromSource ? './worker-node.ts' : './worker-node.js', import.meta.url);
  return Array.from({ length: count }, () => {
    const { port1: replies, port2: replyPort } = new MessageChannel();
    const { port1: requests, port2: requestPort } = new MessageChannel();
    const counterBuffer = new SharedArrayBuffer(8);
    const counters = new Int32Array(counterBuffer);
    const workerData: NodeReplicaChannel = { replies: replyPort, requests: requestPort, counters: counterBuffer, nextRequestWaitMs: blockingReceive ? NEXT_REQUEST_WAIT_MS : 0 };
    const transferList = [replyPort, requestPort];
    // From sources, the thread registers tsx (a dev dependency) before loading the entry.
    const worker = fromSource
      ? new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(script.href)}); })`, { eval: true, workerData, transferList })
      : new Worker(script, { workerData, transferList });
    live++;
    let stopping = false;
    let failed: ((cause: unknown) => void) | undefined;
    let deliver: ((message: FromReplica) => void) | undefined;
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        live--;
        replies.close();
        requests.close();
        if (!stopping) failed?.(new Error(`its thread exited unexpectedly with code ${code}`));
        resolve();
      });
    });
    worker.on('error', (error) => {
      if (!stopping) failed?.(error);
    });
    const endpoint: ReplicaEndpoint = {
      post(message: ToReplica, transfer: ArrayBuffer[] = []) {
        postCounted(requests, message, transfer, counters, REQUESTS_SENT);
      },
      listen({ message, failure }) {
        failed = failure;
        deliver = message;
        replies.on('message', message);
      },
      ...(blockingReceive && { receiveNow(maxWaitMs: number): boolean {
        if (stopping) return false;
        const received = receiveWithin(receiveMessageOnPort, replies, counters, REPLIES_SENT, maxWaitMs);
        if (received === undefined) return false;
        deliver?.(received.message as FromReplica);
        return true;
      } }),
      async terminate() {
        stopping = true;
        await worker.terminate();
        await exited;
      },
    };
    return endpoint;
  });
}
