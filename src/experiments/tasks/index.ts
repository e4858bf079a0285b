/** Task families beyond classification (MAE, diffusion, LM fine-tuning, segmentation) and their runner. */
export { TASK_NAMES } from './task.js';
export type { Task, TaskArtifact, TaskData, TaskDefaults, TaskEvaluation, TaskLoadOptions, TaskMetricInfo, TaskMetricValue, TaskName, TaskRun } from './task.js';
export { getTask, isTaskName, TASKS } from './registry.js';
export { runTaskTraining, warmUpTask } from './run-task.js';
export type { TaskRunOptions, TaskRunOutcome } from './run-task.js';
export { maeTask, patchify } from './mae.js';
export type { MaeData } from './mae.js';
export { diffusionTask, downscale, linearSchedule } from './diffusion.js';
export type { DiffusionData, NoiseSchedule } from './diffusion.js';
export { createLmTask, encodeChars, formatExample, LM_VOCAB, lmTask } from './lm.js';
export type { FormattedExample, LmData, LmTaskOptions } from './lm.js';
export { createSegmenter, meanIou, segmentationTask } from './segmentation.js';
export type { SegmentationData } from './segmentation.js';
export { encodeGreyPng, tileGrid } from './png.js';
