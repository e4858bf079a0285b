/**
 * Node-only data entry point: loaders that read files (and, when asked, download them).
 * Import the pure parsers from `./index.js`; this module re-exports only what needs `node:*`.
 */
export { loadIdxDataset } from './node/idx-node.js';
export type { LoadIdxOptions } from './node/idx-node.js';
export { IDX_DATASET_SOURCES } from './node/sources.js';
export type { IdxDatasetName, IdxDatasetSource, IdxFileSource } from './node/sources.js';
export { downloadVerified, sha256Hex, writeAtomically } from './node/download.js';
export type { DownloadOptions, FetchLike, FetchResponseLike } from './node/download.js';
export { loadText, readMaybeGzip } from './node/files.js';
export { loadDigits } from './node/digits-node.js';
export { loadAlpacaSeedTasks } from './node/alpaca-node.js';
export { directoryStorage } from './node/checkpoint-directory.js';
export { EMBEDDED_DATASET_PATH, loadEmbeddedDataset } from './node/embedded-node.js';
