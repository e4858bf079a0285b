/**
 * Browser-safe data entry point: datasets, byte/text parsers and the synthetic dataset.
 * Nothing here imports `node:*`; file-system loaders live in `./node.js`.
 */
export { createDataset, sampleSize, subsetDataset, takeFirst } from './dataset.js';
export type { Dataset, DatasetSplit } from './dataset.js';
export { trainTestSplit } from './split.js';
export type { TrainTestSplitOptions } from './split.js';
export { EMBEDDED_DATASET_FILE, EMBEDDED_DATASET_NAME, decodeEmbeddedDataset, gunzipBytes } from './embedded.js';
export { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, idxToDataset, isGzip, parseIdx, parseIdxImages, parseIdxLabels } from './idx.js';
export type { IdxArray, IdxToDatasetOptions, ParseIdxOptions } from './idx.js';
export { DIGITS_MAX_PIXEL, DIGITS_NUM_FEATURES, parseDigitsCsv } from './digits.js';
export type { ParseDigitsCsvOptions } from './digits.js';
export { parseCharCorpus } from './char-corpus.js';
export type { CharCorpus, CharCorpusOptions } from './char-corpus.js';
export { parseAlpacaSeedTasks } from './alpaca.js';
export type { AlpacaExample, ParseAlpacaOptions } from './alpaca.js';
export {
  SYNTHETIC_CENTER_RADIUS,
  SYNTHETIC_HARD_RANGE,
  SYNTHETIC_NOISE_STD,
  SampleKind,
  makeSyntheticDataset,
} from './synthetic.js';
export type { SyntheticDatasetOptions, SyntheticDatasetSplit } from './synthetic.js';
export { makeShapesDataset, SHAPE_CLASSES } from './shapes.js';
export type { ShapesDataset, ShapesOptions } from './shapes.js';
