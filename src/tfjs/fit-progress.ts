/**
 * What {@link fitWithInfoBatch} prints, by `verbose`, the way tfjs's own `model.fit` does in the
 * user's flavour of tfjs: nothing by default with `@tensorflow/tfjs` (its `model.fit` prints
 * nothing unless a progress callback is registered, which `@tensorflow/tfjs-node` does), a
 * progress bar per batch with an ETA at `verbose: 1` on a terminal, one line per epoch at
 * `verbose: 2` (and at `verbose: 1` where no terminal is attached: logs, pipes, browsers).
 */
import * as tf from '@tensorflow/tfjs-core';
import { isNode } from './backend.js';
import type { CallbackObject, FitLogs } from './fit-callbacks.js';

/** `verbose` of `model.fit`: 0 silent, 1 progress bar, 2 one line per epoch. */
export type Verbosity = 0 | 1 | 2;

/**
 * The verbosity `model.fit` uses when `verbose` is not given, in effect: tfjs-layers defaults it
 * to 1 but prints only through callbacks registered for that level, which `@tensorflow/tfjs-node`
 * registers (its progress bar) and `@tensorflow/tfjs` does not. So: 1 when tfjs-node's
 * `'tensorflow'` backend is registered, else 0.
 * @internal
 */
export function defaultVerbosity(): Verbosity {
  return tf.findBackendFactory('tensorflow') != null ? 1 : 0;
}

/** Minimal view of a Node write stream (process.stdout). */
interface OutputStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** A printing callback of a fit run. @internal */
export interface FitLogger extends CallbackObject {
  /** Called by fit before `onEpochBegin`: the steps of the epoch's plan (pruned epochs have fewer). */
  epochSteps(steps: number): void;
  /** Stops any live display (also when training failed). */
  close(): void;
}

/** Options of {@link createFitLogger}. @internal */
export interface FitLoggerOptions {
  /** Total epochs of the call, as shown in `Epoch k/epochs`. */
  readonly epochs: number;
  /** Log keys shown, in order (`loss`, metrics, `val_*`). */
  readonly keys: readonly string[];
  /** The log key of the kept fraction. */
  readonly keptKey: string;
  /** The log key of the epoch's training seconds. */
  readonly secondsKey: string;
  /** Where output goes; `process.stdout` in Node, `console.log` lines elsewhere. */
  readonly stream?: OutputStream;
}

function valueOf(value: number | tf.Scalar | undefined): number | undefined {
  if (typeof value === 'number') return value;
  return undefined;
}

function formatLogs(logs: FitLogs, keys: readonly string[]): string {
  return keys
    .map((key) => [key, valueOf(logs[key])] as const)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value!.toPrecision(4)}`)
    .join(' ');
}

/** The line printed for an epoch: `Epoch 3/20 1.2s loss=0.4213 acc=0.8750 val_loss=… kept=62.5%`. */
function epochLine(epoch: number, logs: FitLogs, options: FitLoggerOptions): string {
  const seconds = valueOf(logs[options.secondsKey]);
  const kept = valueOf(logs[options.keptKey]);
  return [`Epoch ${epoch + 1}/${options.epochs}`, seconds === undefined ? '' : `${seconds.toFixed(1)}s`, formatLogs(logs, options.keys), kept === undefined ? '' : `kept=${(kept * 100).toFixed(1)}%`]
    .filter((part) => part !== '')
    .join(' ');
}

class CallbackBase {
  setParams(): void {}
  setModel(): void {}
  async onTrainBegin(): Promise<void> {}
  async onTrainEnd(): Promise<void> {}
  async onEpochBegin(_epoch: number): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs?: unknown): Promise<void> {}
  async onBatchBegin(): Promise<void> {}
  async onBatchEnd(_batch: number, _logs?: unknown): Promise<void> {}
}

/** One line per epoch. */
class EpochLineLogger extends CallbackBase implements FitLogger {
  constructor(
    private readonly options: FitLoggerOptions,
    private readonly print: (line: string) => void,
  ) {
    super();
  }
  epochSteps(): void {}
  close(): void {}
  override async onEpochEnd(epoch: number, logs?: unknown): Promise<void> {
    this.print(epochLine(epoch, (logs ?? {}) as FitLogs, this.options));
  }
}

/** The parts of cli-progress used here. */
interface Bar {
  start(total: number, value: number, payload: Record<string, string>): void;
  update(value: number, payload?: Record<string, string>): void;
  stop(): void;
}
type BarConstructor = new (options: Record<string, unknown>, preset: unknown) => Bar;

/** Milliseconds between two reads of the batch logs for the bar (each read waits for the device). */
const BAR_UPDATE_MS = 200;

/** A progress bar per epoch (steps done of the epoch's plan, ETA, the batch's logs), then the epoch's line. */
class ProgressBarLogger extends CallbackBase implements FitLogger {
  private bar: Bar | undefined;
  private steps = 0;
  private lastUpdate = -Infinity;

  constructor(
    private readonly options: FitLoggerOptions,
    private readonly stream: OutputStream,
    private readonly makeBar: () => Bar,
  ) {
    super();
  }
  epochSteps(steps: number): void {
    this.steps = steps;
  }
  override async onEpochBegin(epoch: number): Promise<void> {
    this.close();
    this.bar = this.makeBar();
    this.bar.start(this.steps, 0, { epoch: `Epoch ${epoch + 1}/${this.options.epochs}`, logs: '' });
    this.lastUpdate = -Infinity;
  }
  override async onBatchEnd(batch: number, logs?: unknown): Promise<void> {
    if (this.bar === undefined) return;
    const now = performance.now();
    if (now - this.lastUpdate < BAR_UPDATE_MS && batch + 1 < this.steps) {
      this.bar.update(batch + 1);
      return;
    }
    this.lastUpdate = now;
    const entries = (logs ?? {}) as FitLogs;
    const read: FitLogs = {};
    for (const key of this.options.keys) {
      const value = entries[key];
      if (typeof value === 'number') read[key] = value;
      else if (value !== undefined && !value.isDisposed) read[key] = (await value.data())[0]!;
    }
    this.bar.update(batch + 1, { logs: formatLogs(read, this.options.keys) });
  }
  override async onEpochEnd(epoch: number, logs?: unknown): Promise<void> {
    this.close();
    this.stream.write(`${epochLine(epoch, (logs ?? {}) as FitLogs, this.options)}\n`);
  }
  override async onTrainEnd(): Promise<void> {
    this.close();
  }
  close(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** Imports a module that only exists in Node, hidden from bundlers so browser builds stay clean. */
function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/**
 * The printing callback for `verbose` (undefined at 0). The progress bar needs Node, a terminal
 * and the `cli-progress` package (loaded here, lazily, never in a browser); otherwise verbose 1
 * prints one line per epoch, as verbose 2 does.
 * @internal
 */
export async function createFitLogger(verbose: Verbosity, options: FitLoggerOptions): Promise<FitLogger | undefined> {
  if (verbose === 0) return undefined;
  const stream = options.stream ?? (isNode() ? (process.stdout as OutputStream) : undefined);
  const print = stream === undefined ? (line: string) => console.log(line) : (line: string) => void stream.write(`${line}\n`);
  if (verbose === 2 || stream === undefined || stream.isTTY !== true) return new EpochLineLogger(options, print);
  let SingleBar: BarConstructor;
  let preset: unknown;
  try {
    const loaded = await importNodeOnly<{ SingleBar?: BarConstructor; Presets?: Record<string, unknown>; default?: { SingleBar: BarConstructor; Presets: Record<string, unknown> } }>('cli-progress');
    const module = loaded.SingleBar !== undefined ? loaded : loaded.default!;
    SingleBar = module.SingleBar!;
    preset = module.Presets!['shades_classic'];
  } catch {
    return new EpochLineLogger(options, print);
  }
  const makeBar = (): Bar =>
    new SingleBar(
      { format: '{epoch} [{bar}] {value}/{total} steps | ETA {eta_formatted} | {logs}', stream, hideCursor: false, clearOnComplete: true, etaBuffer: 20, fps: 5 },
      preset,
    );
  return new ProgressBarLogger(options, stream, makeBar);
}
