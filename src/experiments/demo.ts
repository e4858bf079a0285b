import type { ModelKind } from './models.js';
import type { EpochRecord, RunResult } from './results.js';
import { datasetTensors, runTraining, warmUp } from './train-run.js';
import { loadBenchDataset } from './datasets.js';
import { DEMO_RECIPE } from './demo-table.js';

export { formatDemoTable } from './demo-table.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  readonly dataset: string;
  readonly dataDir?: string;
  readonly epochs: number;
  readonly seed: number;
  readonly model?: ModelKind;
  readonly trainLimit?: number;
  /** Called after each epoch of each of the two runs. */
  readonly onEpoch?: (run: 'full' | 'infobatch', record: EpochRecord, epochs: number) => void;
}

/** The two runs of the demo. */
export interface DemoResult {
  readonly full: RunResult;
  readonly infobatch: RunResult;
  readonly numSamples: number;
  readonly model: ModelKind;
}

/**
 * Trains the same small model twice from the same initial weights, on the full data and with
 * InfoBatch (prune ratio 0.5, delta 0.875), and returns both records.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const split = await loadBenchDataset(options.dataset, {
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.trainLimit !== undefined && { trainLimit: options.trainLimit }),
  });
  const model: ModelKind = options.model ?? (split.train.sampleShape.length > 1 ? 'cnn' : 'mlp');
  const data = datasetTensors(split);
  try {
    const run = (label: 'full' | 'infobatch') =>
      runTraining(data, {
        label,
        policy: { name: label },
        seed: options.seed,
        model,
        epochs: options.epochs,
        ...DEMO_RECIPE,
        onEpoch: (record) => options.onEpoch?.(label, record, options.epochs),
      });
    await warmUp(data, { model, batchSize: 128 });
    const full = await run('full');
    const infobatch = await run('infobatch');
    return { full, infobatch, numSamples: split.train.numSamples, model };
  } finally {
    data.dispose();
  }
}
