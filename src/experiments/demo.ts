import type { ModelKind } from './models.js';
import type { EpochRecord, RunResult } from './results.js';
import { datasetTensors, runTraining, warmUp } from './train-run.js';
import { loadBenchDataset } from './datasets.js';
import { DEMO_RECIPE, matchedEpochs, type DemoRunName } from './demo-table.js';

export { formatDemoReport, formatDemoTable } from './demo-table.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** A name {@link loadBenchDataset} knows; `'fashion-mnist-small'` is the embedded default. */
  readonly dataset: string;
  readonly dataDir?: string;
  readonly epochs: number;
  readonly seed: number;
  readonly model?: ModelKind;
  readonly trainLimit?: number;
  /** Called before each run with the epochs it will train (the matched run's count is known only then). */
  readonly onRunStart?: (run: DemoRunName, epochs: number) => void;
  /** Called after each epoch of each of the three runs. */
  readonly onEpoch?: (run: DemoRunName, record: EpochRecord, epochs: number) => void;
}

/** The three runs of the demo. */
export interface DemoResult {
  readonly full: RunResult;
  readonly infobatch: RunResult;
  /** Full data for fewer epochs, at InfoBatch's sample budget. */
  readonly matched: RunResult;
  readonly numSamples: number;
  readonly numTest: number;
  readonly model: ModelKind;
}

/**
 * Trains the same small model three times from the same initial weights, after an untimed
 * warm-up: on the full data, with InfoBatch (prune ratio 0.5, delta 0.875), and on the full data
 * for fewer epochs at InfoBatch's sample budget; returns the three records.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const split = await loadBenchDataset(options.dataset, {
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.trainLimit !== undefined && { trainLimit: options.trainLimit }),
  });
  const model: ModelKind = options.model ?? (split.train.sampleShape.length > 1 ? 'cnn' : 'mlp');
  const data = datasetTensors(split);
  try {
    const run = (label: DemoRunName, epochs: number) => {
      options.onRunStart?.(label, epochs);
      return runTraining(data, {
        label,
        policy: { name: label === 'infobatch' ? 'infobatch' : 'full' },
        seed: options.seed,
        model,
        epochs,
        ...DEMO_RECIPE,
        onEpoch: (record) => options.onEpoch?.(label, record, epochs),
      });
    };
    await warmUp(data, { model, batchSize: DEMO_RECIPE.batchSize });
    const full = await run('full', options.epochs);
    const infobatch = await run('infobatch', options.epochs);
    const matched = await run('full-matched', matchedEpochs(options.epochs, infobatch.final.savedFraction));
    return { full, infobatch, matched, numSamples: split.train.numSamples, numTest: split.test.numSamples, model };
  } finally {
    data.dispose();
  }
}
