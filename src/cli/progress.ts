import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** Progress of named runs: bars on a terminal, one plain line per update otherwise. */
export interface Progress {
  update(run: string, done: number, total: number, detail: string): void;
  stop(): void;
}

/** A progress display that suits the output: bars on a TTY, plain lines in logs and pipes. */
export function createProgress(stream: NodeJS.WriteStream = process.stdout): Progress {
  if (!stream.isTTY) {
    return {
      update: (run, done, total, detail) => stream.write(`${run} epoch ${done}/${total}: ${detail}\n`),
      stop: () => {},
    };
  }
  const multibar = new MultiBar({ format: ' {run} [{bar}] epoch {value}/{total} {detail}', hideCursor: true, clearOnComplete: false, stream }, Presets.shades_classic);
  const bars = new Map<string, SingleBar>();
  return {
    update(run, done, total, detail) {
      let bar = bars.get(run);
      if (bar === undefined) {
        bar = multibar.create(total, 0, { run: run.padEnd(23), detail: '' });
        bars.set(run, bar);
      }
      bar.update(done, { detail });
    },
    stop: () => multibar.stop(),
  };
}

/** Progress of a whole bench: one bar over every epoch still to train, with an ETA, on a TTY. */
export interface BenchProgress {
  /** A log line (printed above the bar on a TTY). */
  log(message: string): void;
  /** A run starts: `remainingEpochs` counts this run's epochs and those of every later run. */
  runStart(run: string, epochs: number, remainingEpochs: number): void;
  /** An epoch ended; `line` is its plain-text summary. */
  epoch(line: string, detail: string): void;
  stop(): void;
}

/**
 * A bench progress display: on a TTY, one bar (epochs done of all epochs to train, ETA) with log
 * lines printed above it; otherwise plain lines, one per message and epoch.
 */
export function createBenchProgress(stream: NodeJS.WriteStream = process.stdout): BenchProgress {
  if (!stream.isTTY) {
    return {
      log: (message) => stream.write(`${message}\n`),
      runStart: () => {},
      epoch: (line) => stream.write(`${line}\n`),
      stop: () => {},
    };
  }
  const multibar = new MultiBar(
    { format: ' bench [{bar}] {percentage}% | epoch {value}/{total} | ETA {eta_formatted} | {run} {detail}', hideCursor: true, clearOnComplete: false, etaBuffer: 20, stream },
    Presets.shades_classic,
  );
  let bar: SingleBar | undefined;
  let done = 0;
  let run = '';
  return {
    log: (message) => multibar.log(`${message}\n`),
    runStart(name, _epochs, remainingEpochs) {
      run = name;
      if (bar === undefined) bar = multibar.create(done + remainingEpochs, done, { run, detail: '' });
      else bar.setTotal(done + remainingEpochs);
      bar.update(done, { run, detail: '' });
    },
    epoch(line, detail) {
      done += 1;
      if (bar === undefined) {
        multibar.log(`${line}\n`);
        return;
      }
      bar.update(done, { run, detail });
    },
    stop: () => multibar.stop(),
  };
}
