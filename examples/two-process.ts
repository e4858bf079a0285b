/**
 * Example: data-parallel training across two processes over your own transport, here Node's IPC
 * channel standing in for a network link between two machines. No network code is needed from
 * infobatch: a transport only has to carry the protocol's messages, in order.
 *
 * - This process is the coordinator: it holds the data, the model, the optimizer and the
 *   InfoBatch run (the shared seed makes every epoch's plan). It also hosts rank 0 in-process.
 * - The child process (`examples/ipc-replica.ts`, started by `spawnIpcReplicas` of
 *   `examples/ipc-transport.ts`) hosts rank 1: a `Replica` fed the messages.
 *
 * What the transport carries each step (see `src/tfjs/parallel/protocol.ts`):
 * - to each rank: the current parameters and the rank's shard of the global batch (rows
 *   `rank, rank + W, …`, the `EpochPlan.shard` order) with their InfoBatch weights;
 * - back: the gradient of `Σ w·l / B` over the shard (summed in rank order, applied once: the
 *   all-reduce) and the per-sample losses in shard order, which the coordinator records under the
 *   shard's sample ids (the all-gather of (id, loss) pairs into the one score table);
 * - at each epoch end, a hash of each rank's parameters, which must match the coordinator's.
 *
 * Run: `npx tsx examples/two-process.ts`
 */
import * as tf from '@tensorflow/tfjs';
import { InfoBatch } from '../src/core/info-batch.js';
import { makeSyntheticDataset } from '../src/data/synthetic.js';
import { selectBackend } from '../src/tfjs/backend.js';
import { softmaxCrossEntropy } from '../src/tfjs/losses.js';
import { Replica } from '../src/tfjs/parallel/replica.js';
import type { FromReplica, ReplicaEndpoint } from '../src/tfjs/parallel/protocol.js';
import { trainWithInfoBatch } from '../src/tfjs/trainer.js';
import { spawnIpcReplicas } from './ipc-transport.js';

/** An endpoint to a Replica in this process (the coordinator's machine takes a share too). */
function inProcessEndpoint(): ReplicaEndpoint {
  let receive: ((reply: FromReplica) => void) | undefined;
  const replica = new Replica((reply) => receive?.(reply));
  let queue: Promise<void> = Promise.resolve();
  return {
    post: (message) => void (queue = queue.then(() => replica.handle(message))),
    listen: ({ message }) => void (receive = message),
    terminate: () => queue,
  };
}

async function coordinate(): Promise<void> {
  await selectBackend({ prefer: ['wasm'] });
  const { train } = makeSyntheticDataset({ numSamples: 2000, numTest: 200, seed: 1 });
  const features = train.sampleShape[0]!;
  const x = tf.tensor2d(train.x, [train.numSamples, features]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(train.y, 'int32'), train.numClasses), 'float32'));
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [features], units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: train.numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const infobatch = new InfoBatch({ numSamples: train.numSamples, numEpochs: 6, seed: 42 }); // the shared seed
  const result = await trainWithInfoBatch(model, { x, y }, {
    epochs: 6,
    batchSize: 64,
    optimizer: tf.train.sgd(0.1),
    loss: softmaxCrossEntropy,
    infobatch,
    workers: {
      count: 2,
      spawn: async () => [inProcessEndpoint(), ...(await spawnIpcReplicas(1))],
    },
    callbacks: {
      onEpochEnd: (epoch, m) => console.log(`epoch ${epoch}: ${m.planLength} samples over 2 ranks, mean loss ${m.meanLoss.toFixed(4)}, ${m.trainSeconds.toFixed(2)} s`),
    },
  });
  console.log(`saved ${(result.summary.savedFraction * 100).toFixed(1)}% of the sample visits; every rank's weights matched the coordinator's at each epoch end`);
  tf.dispose([x, y]);
  model.dispose();
}

await coordinate();
