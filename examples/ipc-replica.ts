/** Entry of a replica process started by `spawnIpcReplicas` (examples/ipc-transport.ts). */
import { serveReplicaOverIpc } from './ipc-transport.js';

serveReplicaOverIpc();
