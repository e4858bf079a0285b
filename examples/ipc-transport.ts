/**
 * A data-parallel transport over Node's IPC channel: each replica in a child process of its own,
 * the protocol's messages sent with V8's structured serialization ('advanced', which keeps typed
 * arrays). It stands in for a network link between machines: infobatch needs no network code,
 * a transport only has to carry the protocol's messages, in order. Used by
 * `examples/two-process.ts` and by `npm run bench:parallel -- --variants=processes`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Replica } from '../src/tfjs/parallel/replica.js';
import type { FromReplica, ReplicaEndpoint, ToReplica } from '../src/tfjs/parallel/protocol.js';

/** The replica side, in the child process: messages from the parent, in order, to a Replica; its replies back. */
export function serveReplicaOverIpc(): void {
  const replica = new Replica((reply) => process.send!(reply));
  let queue: Promise<void> = Promise.resolve();
  process.on('message', (message: ToReplica) => {
    queue = queue.then(() => replica.handle(message));
    if (message.type === 'close') void queue.then(() => process.disconnect());
  });
}

/** An endpoint over a child process's IPC channel. */
export function ipcEndpoint(child: ChildProcess): ReplicaEndpoint {
  let stopping = false;
  return {
    post: (message) => void child.send(message),
    listen({ message, failure }) {
      child.on('message', (reply: FromReplica) => message(reply));
      child.on('exit', (code) => stopping || failure(new Error(`replica process exited with code ${code}`)));
      child.on('error', (error) => stopping || failure(error));
    },
    async terminate() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          setTimeout(() => child.kill(), 2000).unref(); // if it does not leave on 'close'
        });
      }
    },
  };
}

/** Starts `count` replica processes (`examples/ipc-replica.ts`) and returns their endpoints: a `workers.spawn`. */
export async function spawnIpcReplicas(count: number): Promise<ReplicaEndpoint[]> {
  const entry = fileURLToPath(new URL('./ipc-replica.ts', import.meta.url));
  return Array.from({ length: count }, () => ipcEndpoint(fork(entry, [], { serialization: 'advanced', execArgv: ['--import', 'tsx'] })));
}
