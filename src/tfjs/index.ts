/**
 * `infobatch/tfjs`: the TensorFlow.js adapter. Browser-safe (no static `node:*` imports);
 * `@tensorflow/tfjs-core` and `@tensorflow/tfjs-layers` (both part of `@tensorflow/tfjs`) are peer
 * dependencies.
 */
export { compilesPerShape, isNode, selectBackend, type BackendName, type SelectBackendOptions } from './backend.js';
export { InfoBatchTfjs, type BatchScores, type InfoBatchTfjsOptions, type LossWithScores, type MinimizeOptions, type UpdateOptions } from './info-batch-tfjs.js';
export { chooseRescaleMode, type RescaleChoice } from './rescale.js';
export { meanSquaredError, sequenceCrossEntropy, softmaxCrossEntropy, sparseSoftmaxCrossEntropy, type CrossEntropyOptions } from './losses.js';
export {
  cosineSchedule,
  OneCycle,
  oneCycleSchedule,
  stepSchedule,
  type CosineScheduleOptions,
  type OneCycleOptions,
  type OneCycleScheduleOptions,
  type StepSchedule,
  type StepScheduleOptions,
} from './schedules.js';
export {
  trainWithInfoBatch,
  type EpochLearningRate,
  type EpochMetrics,
  type PerSampleLoss,
  type PerSampleScore,
  type TrainableModel,
  type TrainCallbacks,
  type TrainingData,
  type TrainOptions,
  type TrainResult,
} from './trainer.js';
export { fastWasmKernelsActive, registerWasmGradientKernels, useFastWasmKernels } from './wasm-kernels.js';
export { fitWithInfoBatch, INFOBATCH_HISTORY_KEYS, type FitTensors, type FitWithInfoBatchArgs } from './fit.js';
export type { FitInfoBatchOptions } from './fit-session.js';
export type { SampleSource, SourceBatch } from './sample-source.js';
export { RUN_CHECKPOINT_VERSION, type CheckpointStorage, type RunCheckpointOptions } from './run-checkpoint.js';
export type { WorkersOptions } from './parallel/workers-option.js';
export { Replica, type ReplicaParts } from './parallel/replica.js';
export type {
  BuiltInLossName,
  CheckReply,
  CheckRequest,
  CloseRequest,
  ErrorReply,
  FromReplica,
  InitRequest,
  ReadyReply,
  ReplicaEndpoint,
  ReplicaSpec,
  StepReply,
  StepRequest,
  TensorData,
  ToReplica,
} from './parallel/protocol.js';
