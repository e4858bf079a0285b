import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/experiments/report-html.js';
import { renderMarkdownReport } from '../../src/experiments/report-markdown.js';
import { ACCURACY_FORMAT, type BenchResults, type RunResult } from '../../src/experiments/results.js';
import { stalledRuns, stalledRunsSentence } from '../../src/experiments/stalled-runs.js';
import { syntheticResults } from './fixtures/synthetic-results.js';

/** A copy of `run` whose per-epoch training losses are `losses` (one epoch each). */
function withTrainLosses(run: RunResult, losses: readonly number[], finalAccuracy = run.final.testAccuracy): RunResult {
  const template = run.epochs[0]!;
  return { ...run, epochs: losses.map((trainLoss, epoch) => ({ ...template, epoch, trainLoss })), final: { ...run.final, testAccuracy: finalAccuracy } };
}

describe('stalledRuns', () => {
  it('flags the runs whose training loss ended no lower than in their first epoch, and only those', () => {
    const base = syntheticResults();
    // The shape of the collapse seen in the frontier bench: 2.2998 in epoch 1, then ln 10 to the end.
    const collapsed = withTrainLosses(base.runs[3]!, [2.2998, 2.305, 2.3061, 2.3026], 0.1);
    const flat = withTrainLosses(base.runs[4]!, [0.5, 0.6, 0.5]);
    const results: BenchResults = { ...base, runs: [base.runs[0]!, collapsed, base.runs[1]!, flat, base.runs[2]!] };
    expect(stalledRuns(results)).toEqual([
      { label: collapsed.label, seed: collapsed.seed, epochs: 4, firstTrainLoss: 2.2998, finalTrainLoss: 2.3026, finalMetric: 0.1 },
      { label: flat.label, seed: flat.seed, epochs: 3, firstTrainLoss: 0.5, finalTrainLoss: 0.5, finalMetric: flat.final.testAccuracy },
    ]);
    // The synthetic runs all learn.
    expect(stalledRuns(base)).toEqual([]);
  });

  it('flags a run with a non-finite training loss in any epoch, even when it ends low', () => {
    const base = syntheticResults();
    const diverged = withTrainLosses(base.runs[0]!, [2.3, Number.NaN, 0.4]);
    const overflowed = withTrainLosses(base.runs[1]!, [2.3, 1.2, Number.POSITIVE_INFINITY]);
    expect(stalledRuns({ ...base, runs: [diverged, overflowed] }).map((r) => r.finalTrainLoss)).toEqual([0.4, Number.POSITIVE_INFINITY]);
  });

  it('does not judge a run of fewer than two epochs', () => {
    const base = syntheticResults();
    expect(stalledRuns({ ...base, runs: [withTrainLosses(base.runs[0]!, [2.3])] })).toEqual([]);
  });

  it('flags a run exactly when its last finite loss is not below its first (property)', () => {
    const base = syntheticResults().runs[0]!;
    const loss = fc.double({ min: 0, max: 10, noNaN: true });
    fc.assert(
      fc.property(fc.array(loss, { minLength: 2, maxLength: 12 }), (losses) => {
        const results: BenchResults = { ...syntheticResults(), runs: [withTrainLosses(base, losses)] };
        expect(stalledRuns(results).length === 1).toBe(losses[losses.length - 1]! >= losses[0]!);
      }),
    );
  });
});

describe('stalledRunsSentence and the reports', () => {
  it('names each run with its losses and final metric, and is absent when every run learned', () => {
    const base = syntheticResults();
    const collapsed = withTrainLosses(base.runs[3]!, [2.2998, 2.3026], 0.1);
    const sentence = stalledRunsSentence(stalledRuns({ ...base, runs: [collapsed] }), ACCURACY_FORMAT, 100);
    expect(sentence).toBe(
      `Did not learn: ${collapsed.label} seed ${collapsed.seed} (training loss 2.300 in epoch 1, 2.303 in epoch 2; final test accuracy 10.00%). The training loss of this run ended no lower than in the first epoch, or was not finite: the run diverged or collapsed (for example every ReLU dead after one too large step). It enters this report's tables, intervals and plots as it is; read the affected rows with that in mind.`,
    );
    expect(stalledRunsSentence([], ACCURACY_FORMAT, 100)).toBeNull();
  });

  it('puts the sentence in report.md and report.html when a run did not learn, and nowhere otherwise', () => {
    const base = syntheticResults();
    const runs = base.runs.map((run, index) => (index === 3 ? withTrainLosses(run, [2.2998, 2.3026], 0.1) : run));
    const flagged: BenchResults = { ...base, runs };
    expect(renderMarkdownReport(flagged)).toContain(`**Did not learn: ${runs[3]!.label} seed ${runs[3]!.seed} (training loss 2.300 in epoch 1`);
    expect(renderHtmlReport(flagged)).toContain(`<p class="notes stalled"><strong>Did not learn: ${runs[3]!.label} seed ${runs[3]!.seed}`);
    expect(renderMarkdownReport(base)).not.toContain('Did not learn');
    expect(renderHtmlReport(base)).not.toContain('Did not learn');
  });
});
