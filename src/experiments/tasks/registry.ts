import { InfoBatchError } from '../../core/errors.js';
import { diffusionTask } from './diffusion.js';
import { lmTask } from './lm.js';
import { maeTask } from './mae.js';
import { segmentationTask } from './segmentation.js';
import { TASK_NAMES, type Task, type TaskName } from './task.js';

/** The built-in tasks, by name. */
export const TASKS: Readonly<Record<TaskName, Task>> = Object.freeze({
  mae: maeTask,
  diffusion: diffusionTask,
  lm: lmTask,
  segmentation: segmentationTask,
});

/** Whether `name` is one of {@link TASK_NAMES}. */
export function isTaskName(name: unknown): name is TaskName {
  return typeof name === 'string' && (TASK_NAMES as readonly string[]).includes(name);
}

/**
 * The built-in task of that name.
 * @throws InfoBatchError 'INVALID_OPTION' for an unknown name.
 *
 * @example
 * ```ts
 * const task = getTask('segmentation');
 * ```
 */
export function getTask(name: string): Task {
  if (!isTaskName(name)) {
    throw new InfoBatchError('INVALID_OPTION', `Unknown task ${JSON.stringify(name)}; expected one of: classification, ${TASK_NAMES.join(', ')}.`);
  }
  return TASKS[name];
}
