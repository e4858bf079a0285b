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
        bar = multibar.create(total, 0, { run: run.padEnd(9), detail: '' });
        bars.set(run, bar);
      }
      bar.update(done, { detail });
    },
    stop: () => multibar.stop(),
  };
}
