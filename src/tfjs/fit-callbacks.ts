/**
 * tfjs `fit` callbacks for {@link fitWithInfoBatch}: the user's callbacks are standardised as
 * tfjs does (hook objects become `tf.CustomCallback`s with `yieldEvery`), run in a
 * `tf.CallbackList` between an epoch averager (tfjs's `BaseLogger`, which is not exported) and a
 * `tf.History`, with the same `params`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CallbackList, CustomCallback, History, type CustomCallbackArgs, type LayersModel, type ModelFitArgs } from '@tensorflow/tfjs-layers';
import { describeValue, InfoBatchError } from '../core/errors.js';

/** A tfjs callback object (`tf.callbacks.earlyStopping(…)`, `tf.CustomCallback`, a `tf.Callback` subclass). */
export interface CallbackObject {
  setParams(params: Record<string, unknown>): void;
  setModel(model: unknown): void;
  onTrainBegin(logs?: unknown): Promise<void>;
  onTrainEnd(logs?: unknown): Promise<void>;
  onEpochBegin(epoch: number, logs?: unknown): Promise<void>;
  onEpochEnd(epoch: number, logs?: unknown): Promise<void>;
  onBatchBegin(batch: number, logs?: unknown): Promise<void>;
  onBatchEnd(batch: number, logs?: unknown): Promise<void>;
}

/** Log values: numbers, or scalars before they are read. */
export type FitLogs = Record<string, number | tf.Scalar>;

const HOOK_KEYS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'onYield', 'nowFunc', 'nextFrameFunc'] as const;
const OBJECT_METHODS = ['setParams', 'setModel', 'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

function isCallbackObject(value: unknown): value is CallbackObject {
  return typeof value === 'object' && value !== null && OBJECT_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

/**
 * The user's `callbacks` as callback objects, the way tfjs's `fit` standardises them: callback
 * objects are used as they are, hook objects (`{ onEpochEnd, … }`) become `tf.CustomCallback`s
 * that yield to the event loop as `yieldEvery` says. Arrays may mix both.
 * @throws InfoBatchError 'INVALID_TYPE' for anything else.
 * @internal
 */
export function standardizeCallbacks(callbacks: ModelFitArgs['callbacks'] | undefined, yieldEvery: ModelFitArgs['yieldEvery'], where: string): CallbackObject[] {
  const list: unknown[] = callbacks === undefined || callbacks === null ? [{}] : Array.isArray(callbacks) ? callbacks : [callbacks];
  return list.map((entry, i) => {
    const name = Array.isArray(callbacks) ? `callbacks[${i}]` : 'callbacks';
    if (isCallbackObject(entry)) return entry;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new InfoBatchError('INVALID_TYPE', `'${name}' passed to ${where} must be a tfjs callback (e.g. tf.callbacks.earlyStopping()) or an object of hooks { onEpochEnd, onBatchEnd, … } but got ${describeValue(entry)}.`);
    }
    for (const [key, value] of Object.entries(entry)) {
      if (!(HOOK_KEYS as readonly string[]).includes(key)) {
        throw new InfoBatchError('INVALID_OPTION', `'${name}.${key}' passed to ${where} is not a tfjs callback hook; the hooks are ${HOOK_KEYS.join(', ')}.`);
      }
      if (value !== undefined && typeof value !== 'function') {
        throw new InfoBatchError('INVALID_TYPE', `'${name}.${key}' passed to ${where} must be a function but got ${describeValue(value)}.`);
      }
    }
    if (yieldEvery === 'never' && (entry as CustomCallbackArgs).onYield !== undefined) {
      throw new InfoBatchError('INVALID_OPTION', `'${name}.onYield' passed to ${where} is never called because 'yieldEvery' is "never"; drop one of them.`);
    }
    return new CustomCallback(entry as CustomCallbackArgs, yieldEvery) as unknown as CallbackObject;
  });
}

/**
 * tfjs's `BaseLogger`: each epoch's log of a metric is the batch-size-weighted mean of its batch
 * logs, accumulated on the device as tfjs does (`Σ size·value`, then `· 1/seen`), but read back
 * to a number at the epoch's end so that no log tensor outlives its epoch.
 */
class EpochAverager implements CallbackObject {
  private params: Record<string, unknown> = {};
  private seen = 0;
  private totals = new Map<string, tf.Scalar>();

  setParams(params: Record<string, unknown>): void {
    this.params = params;
  }
  setModel(): void {}
  async onTrainBegin(): Promise<void> {}
  async onTrainEnd(): Promise<void> {
    this.reset();
  }
  async onBatchBegin(): Promise<void> {}
  async onEpochBegin(): Promise<void> {
    this.reset();
  }
  async onBatchEnd(_batch: number, logs?: unknown): Promise<void> {
    const entries = (logs ?? {}) as FitLogs;
    const size = typeof entries['size'] === 'number' ? entries['size'] : 0;
    this.seen += size;
    const metrics = (this.params['metrics'] ?? []) as string[];
    for (const [key, value] of Object.entries(entries)) {
      if (!metrics.includes(key)) continue;
      const previous = this.totals.get(key);
      const total = tf.tidy(() => tf.add(previous ?? 0, tf.mul(value, size)) as tf.Scalar);
      previous?.dispose();
      this.totals.set(key, total);
    }
  }
  async onEpochEnd(_epoch: number, logs?: unknown): Promise<void> {
    if (logs === undefined || logs === null) return;
    const entries = logs as FitLogs;
    const metrics = (this.params['metrics'] ?? []) as string[];
    for (const key of metrics) {
      const total = this.totals.get(key);
      if (total === undefined) continue;
      const mean = tf.tidy(() => tf.mul(tf.div(1, this.seen), total));
      entries[key] = (await mean.data())[0]!;
      mean.dispose();
    }
    this.reset();
  }
  private reset(): void {
    tf.dispose([...this.totals.values()]);
    this.totals.clear();
    this.seen = 0;
  }
}

/** Parameters tfjs's `fit` hands its callbacks (`callback.params`). @internal */
export interface FitParams {
  readonly epochs: number;
  readonly initialEpoch: number;
  readonly samples: number;
  readonly batchSize: number;
  readonly verbose: number;
  readonly doValidation: boolean;
  /** Log names of the epoch averages: the training labels, then `val_` ones with validation. */
  readonly metrics: readonly string[];
}

/**
 * The callback list of one run, as tfjs's `fit` builds it: the epoch averager, the user's
 * callbacks, then a `tf.History`.
 * @internal
 */
export function configureCallbacks(model: LayersModel, callbacks: CallbackObject[], params: FitParams): { list: CallbackList; history: History; averager: CallbackObject } {
  const history = new History();
  const averager = new EpochAverager();
  const all = [averager, ...callbacks, history as unknown as CallbackObject];
  const list = new CallbackList(all as unknown as ConstructorParameters<typeof CallbackList>[0]);
  list.setParams({ ...params, steps: null, metrics: [...params.metrics] } as unknown as Parameters<CallbackList['setParams']>[0]);
  list.setModel(model as unknown as Parameters<CallbackList['setModel']>[0]);
  return { list, history, averager };
}
