/**
 * Exact resume as users meet it: a child process (fixtures/resume-child.ts) trains with a
 * checkpoint folder and is killed with SIGKILL, at a seeded random step or while it writes a
 * checkpoint; it is restarted with the same command until it finishes, and its final weights
 * must be bit-identical (SHA-256 of every weight's bytes) to an uninterrupted run of the same
 * training (fixtures/resume-run.ts, run in this process), its history equal.
 * trainWithInfoBatch runs on wasm, fitWithInfoBatch on cpu.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/core/random.js';
import { runTraining, type Backend, type Front } from './fixtures/resume-run.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CHILD = join(HERE, 'fixtures', 'resume-child.ts');
const folders: string[] = [];

afterAll(async () => {
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
});

interface ChildRun {
  readonly lines: string[];
  readonly killed: boolean;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs the child; kills it with SIGKILL as soon as `killWhen` accepts a line it printed (`steps`: step lines so far). */
function runChild(args: string[], pauseAt: number, killWhen: (line: string, steps: number) => boolean): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      cwd: ROOT,
      env: { ...process.env, RESUME_CHILD_PAUSE_WRITE: String(pauseAt) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let killed = false;
    let steps = 0;
    let pending = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith('step ')) steps++;
        if (!killed && killWhen(line, steps)) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ lines, killed, code, stderr }));
  });
}

function stepLines(run: ChildRun): number {
  return run.lines.filter((l) => l.startsWith('step ')).length;
}

/**
 * One interrupted run: `plan` lists the kills, each `{ step: j }` (kill after the j-th step line
 * the process prints) or `{ write: n }` (kill while the process is paused before its n-th
 * checkpoint file write); then a last process runs to the end.
 */
async function interruptedRun(front: Front, backend: Backend, plan: ReadonlyArray<{ step: number } | { write: number }>): Promise<{ final: ChildRun; runs: ChildRun[]; leftoversAfterWriteKill: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), `infobatch-resume-${front}-`));
  folders.push(dir);
  const args = [front, backend, dir];
  const runs: ChildRun[] = [];
  const leftoversAfterWriteKill: number[] = [];
  for (const kill of plan) {
    const run = 'step' in kill
      ? await runChild(args, 0, (line, steps) => line.startsWith('step ') && steps === kill.step)
      : await runChild(args, kill.write, (line) => line.startsWith('writing '));
    expect(run.killed, `${front}: a kill at ${JSON.stringify(kill)} happened (stderr: ${run.stderr.slice(-500)})`).toBe(true);
    runs.push(run);
    if ('write' in kill) leftoversAfterWriteKill.push((await readdir(dir)).filter((f) => f.startsWith('ckpt-')).length);
  }
  // A SIGKILL inside the durable write leaves its temporary file behind: leave two such files
  // (named as writeAtomically names them, with half-written contents) to be ignored and cleaned.
  await writeFile(join(dir, 'manifest.json.99999.0f0f0f0f-dead-beef-0000-000000000000.tmp'), '{"format":"infobatch-run-checkpoint","vers');
  await writeFile(join(dir, 'ckpt-000999.model.bin.99999.0f0f0f0f-dead-beef-0000-000000000001.tmp'), new Uint8Array(10));
  const final = await runChild(args, 0, () => false);
  expect(final.code, final.stderr.slice(-2000)).toBe(0);
  const files = (await readdir(dir)).sort();
  expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  expect(files).toHaveLength(4); // one committed checkpoint: three payloads and the manifest
  return { final, runs, leftoversAfterWriteKill };
}

function done(run: ChildRun): { digest: string; history: string } {
  const line = run.lines.find((l) => l.startsWith('done '));
  expect(line, 'the last run finished').toBeDefined();
  const [, digest, ...rest] = line!.split(' ');
  return { digest: digest!, history: rest.join(' ') };
}

describe('kill -9 and restart: the resumed run is bit-identical to an uninterrupted one', () => {
  const random = SeededRandom.derive(20260711);
  const pick = (lo: number, hi: number) => lo + random.nextInt(hi - lo + 1);
  const references = new Map<Front, { digest: string; history: string }>();

  // The uninterrupted runs, in this process, one after the other (they switch the tfjs backend).
  beforeAll(async () => {
    references.set('train', await runTraining({ front: 'train', backend: 'wasm' }));
    references.set('fit', await runTraining({ front: 'fit', backend: 'cpu' }));
    // Both runs train in rescale mode 'step' (Adam and RMSProp under 'auto'): pruned epochs scale
    // their steps' rates, so a resume that restored a scaled rate would not be bit-identical.
    const trainScales = (JSON.parse(references.get('train')!.history) as number[][]).map((epoch) => epoch[5]!);
    const fitScales = (JSON.parse(references.get('fit')!.history) as { history: Record<string, number[]> }).history['infobatch_step_scale']!;
    expect(Math.max(...trainScales)).toBeGreaterThan(1);
    expect(Math.max(...fitScales)).toBeGreaterThan(1);
  }, 120_000);

  // The child processes of the two tests run side by side.
  it.concurrent('trainWithInfoBatch (wasm, Adam, OneCycle, checkpoint every 4 steps)', async () => {
    // Killed right after a random step that ends with a checkpoint write (every 4th step: the kill
    // lands just before or inside that real write), then while paused before the manifest write
    // of its 2nd checkpoint (the payloads written, the commit not).
    const { final, runs, leftoversAfterWriteKill } = await interruptedRun('train', 'wasm', [{ step: 4 * pick(2, 10) }, { write: 8 }]);
    expect(leftoversAfterWriteKill[0]).toBe(6); // the committed checkpoint's 3 files and the uncommitted one's 3
    expect(runs.every((r) => stepLines(r) > 0)).toBe(true);
    expect(done(final)).toEqual(references.get('train'));
  }, 240_000);

  it.concurrent('fitWithInfoBatch (cpu, RMSProp, metrics, validation, checkpoint every 3 steps)', async () => {
    // Killed while writing a payload of its 2nd checkpoint (writes 5–7), then at a random step.
    const { final, leftoversAfterWriteKill } = await interruptedRun('fit', 'cpu', [{ write: pick(5, 7) }, { step: pick(4, 40) }]);
    expect(leftoversAfterWriteKill[0]).toBeGreaterThanOrEqual(3);
    expect(done(final)).toEqual(references.get('fit'));
  }, 240_000);
});
