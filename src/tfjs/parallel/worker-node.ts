/**
 * Entry of a Node worker thread that serves one data-parallel replica
 * ({@link Replica}) over `worker_threads` messages. Started by {@link spawnNodeReplicas}.
 */
import type { ToReplica } from './protocol.js';
import { Replica } from './replica.js';

const { parentPort } = await import(/* @vite-ignore */ 'node:worker_threads');
if (parentPort === null) throw new Error('worker-node.js must run in a worker thread (see spawnNodeReplicas).');
const port = parentPort;
const replica = new Replica((message, transfer) => port.postMessage(message, transfer ?? []));
// Messages are handled one at a time, in arrival order (init is asynchronous).
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToReplica) => {
  queue = queue.then(() => replica.handle(message));
  if (message.type === 'close') void queue.then(() => port.close());
});
