/**
 * The training worker: selects the tfjs backend, builds the dataset and trains the demo's two
 * runs (full data, then InfoBatch) with the experiments' runTraining, posting every epoch's record
 * to the page. Training off the main thread keeps the page responsive and lets it redraw the
 * charts after each epoch.
 */
import { memory } from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { EMBEDDED_DATASET_FILE, decodeEmbeddedDataset, gunzipBytes } from '../data/embedded.js';
import { makeSyntheticDataset } from '../data/synthetic.js';
import { takeFirst, type DatasetSplit } from '../data/dataset.js';
import { DEMO_RECIPE } from '../experiments/demo-table.js';
import type { ModelKind } from '../experiments/models.js';
import { datasetTensors, runTraining } from '../experiments/train-run.js';
import { compilesPerShape, selectBackend } from '../tfjs/backend.js';
import { idxSplitFromFiles, readFileBytes } from './idx-files.js';
import type { DemoConfig, FromWorker, RunName, ToWorker } from './protocol.js';

/** The parts of the worker's global scope used here (the DOM lib types `self` as a window). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  readonly location: { readonly href: string };
}
const scope = self as unknown as WorkerScope;
const post = (message: FromWorker): void => scope.postMessage(message);

// The wasm binaries are served next to this script (the build copies them to wasm/).
setWasmPaths(new URL('wasm/', scope.location.href).href);

async function loadSplit(config: DemoConfig): Promise<{ split: DatasetSplit; description: string }> {
  if (config.dataset.kind === 'embedded') {
    // The build serves the package's data/embedded file next to the page, under data/.
    const response = await fetch(new URL(`data/${EMBEDDED_DATASET_FILE}`, scope.location.href));
    if (!response.ok) throw new Error(`Could not load the embedded dataset (data/${EMBEDDED_DATASET_FILE}): HTTP ${response.status}.`);
    const full = decodeEmbeddedDataset(await gunzipBytes(new Uint8Array(await response.arrayBuffer())));
    const split = { train: takeFirst(full.train, Math.min(config.samples, full.train.numSamples)), test: takeFirst(full.test, Math.min(config.testSamples, full.test.numSamples)) };
    return { split, description: `embedded Fashion-MNIST subset (14×14 images, ${split.train.numClasses} classes)` };
  }
  if (config.dataset.kind === 'synthetic') {
    const split = makeSyntheticDataset({ numSamples: config.samples, numTest: config.testSamples });
    return { split, description: `synthetic (${split.train.sampleShape[0]} features, ${split.train.numClasses} classes)` };
  }
  const files = await Promise.all(config.dataset.files.map((file) => readFileBytes(file)));
  const split = idxSplitFromFiles(files, { trainLimit: config.samples, testLimit: config.testSamples });
  return { split, description: `IDX files (${split.train.sampleShape.join('×')} images, ${split.train.numClasses} classes)` };
}

/**
 * Trains a throw-away model briefly on a slice of the data, so that the backend's one-time costs
 * (kernel compilation, memory pools) do not land in the full-data run, which trains first.
 */
async function warmUp(split: DatasetSplit, model: ModelKind, seed: number): Promise<void> {
  const slice = {
    train: takeFirst(split.train, Math.min(split.train.numSamples, 16 * DEMO_RECIPE.batchSize)),
    test: takeFirst(split.test, Math.min(split.test.numSamples, DEMO_RECIPE.batchSize)),
  };
  const data = datasetTensors(slice);
  try {
    await runTraining(data, { label: 'warm-up', policy: { name: 'infobatch' }, seed, model, epochs: 2, ...DEMO_RECIPE });
  } finally {
    data.dispose();
  }
}

async function runDemo(config: DemoConfig): Promise<void> {
  const backend = await selectBackend({ prefer: config.backends });
  post({ type: 'backend', name: backend });
  const { split, description } = await loadSplit(config);
  const model: ModelKind = config.model ?? (split.train.sampleShape.length > 1 ? 'cnn' : 'mlp');
  post({ type: 'dataset', description, numSamples: split.train.numSamples, numTest: split.test.numSamples, model });
  await warmUp(split, model, config.seed);
  const data = datasetTensors(split);
  try {
    for (const run of ['full', 'infobatch'] as const satisfies readonly RunName[]) {
      const result = await runTraining(data, {
        label: run,
        // On webgl/webgpu a pruned epoch keeps full data's batch sizes: no kernel compiled anew.
        policy: run === 'infobatch' && compilesPerShape(backend) ? { name: run, alignToBatchSize: DEMO_RECIPE.batchSize } : { name: run },
        seed: config.seed,
        model,
        epochs: config.epochs,
        ...DEMO_RECIPE,
        onEpoch: (record) => post({ type: 'epoch', run, record, numTensors: memory().numTensors }),
      });
      post({ type: 'run', run, result });
    }
  } finally {
    data.dispose();
  }
  post({ type: 'done' });
}

scope.onmessage = (event) => {
  if (event.data.type !== 'start') return;
  runDemo(event.data.config).catch((error: unknown) => {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  });
};
