import { InfoBatchError } from '../core/errors.js';

/** Datasets the CLI reads from files, and the files a user points `--data-dir` at. */
const FILE_DATASETS: Readonly<Record<string, string>> = {
  'fashion-mnist': 'the four Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, ...)',
  mnist: 'the four MNIST IDX files (train-images-idx3-ubyte.gz, ...)',
  digits: 'digits.csv.gz (scikit-learn digits)',
};

/** Task families of `bench --task` that read files, and the folders they expect under `--data-dir`. */
const FILE_TASKS: Readonly<Record<string, string>> = {
  mae: 'fashion-mnist/',
  diffusion: 'mnist/',
  lm: 'tiny-shakespeare/ and stanford-alpaca-seed-tasks/',
};

/**
 * A usage error when the run reads files and `--data-dir` is missing: the CLI has no default data
 * folder (an installed package has none besides its embedded dataset).
 * @param command - 'demo' or 'bench', for the message.
 * @param dataset - The `--dataset` value (classification).
 * @param dataDir - The `--data-dir` value, if given.
 * @param task - The `--task` value of `bench`, if not classification.
 */
export function requireDataDir(command: 'demo' | 'bench', dataset: string, dataDir: string | undefined, task?: string): void {
  if (dataDir !== undefined) return;
  if (task !== undefined && task !== 'classification') {
    const folders = Object.hasOwn(FILE_TASKS, task) ? FILE_TASKS[task] : undefined;
    if (folders === undefined) return;
    throw new InfoBatchError('INVALID_OPTION', `bench --task ${task} needs --data-dir <dir>: the folder that holds ${folders}.`);
  }
  const files = Object.hasOwn(FILE_DATASETS, dataset) ? FILE_DATASETS[dataset] : undefined;
  if (files === undefined) return;
  const download = command === 'bench' && dataset !== 'digits' ? ' (add --download to fetch them into it, checksummed)' : '';
  throw new InfoBatchError(
    'INVALID_OPTION',
    `${command} --dataset ${dataset} needs --data-dir <dir>: the folder with ${files}${download}. ` +
      `--dataset fashion-mnist-small uses the embedded subset (no files, no network).`,
  );
}
