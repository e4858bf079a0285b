/**
 * Entry of a Node worker thread that serves one data-parallel replica ({@link Replica}).
 * Started by {@link spawnNodeReplicas}: requests come on the thread's request port and replies go
 * on its reply port, each counted in the shared counters (see spawn-node.ts). Between two steps
 * the thread waits for the next request on the counter (at most `nextRequestWaitMs`), then on
 * its event loop.
 */
import type { ToReplica } from './protocol.js';
import { Replica } from './replica.js';
import { postCounted, receiveWithin, REPLIES_SENT, REQUESTS_SENT, type NodeReplicaChannel } from './spawn-node.js';

const { isMainThread, receiveMessageOnPort, workerData } = await import(/* @vite-ignore */ 'node:worker_threads');
if (isMainThread) throw new Error('worker-node.js must run in a worker thread (see spawnNodeReplicas).');
const { replies, requests, counters: counterBuffer, nextRequestWaitMs } = workerData as NodeReplicaChannel;
const counters = new Int32Array(counterBuffer);
const replica = new Replica((message, transfer) => postCounted(replies, message, transfer ?? [], counters, REPLIES_SENT));

// Messages are handled one at a time, in arrival order (init is asynchronous).
let queue: Promise<void> = Promise.resolve();
function dispatch(message: ToReplica): void {
  queue = queue.then(async () => {
    await replica.handle(message);
    if (message.type === 'close') {
      replies.close();
      requests.close();
    } else if (message.type === 'step' && nextRequestWaitMs > 0) {
      // The next step's request usually follows within milliseconds: take it off the port here.
      const next = receiveWithin(receiveMessageOnPort, requests, counters, REQUESTS_SENT, nextRequestWaitMs);
      if (next !== undefined) dispatch(next.message as ToReplica);
    }
  });
}
requests.on('message', (message: ToReplica) => dispatch(message));
