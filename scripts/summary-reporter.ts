import type { Reporter } from 'vitest/reporters';
import type { RunnerTask, RunnerTestFile } from 'vitest';

/**
 * Prints one closing line, `tests: N passed, N failed, N skipped`, after vitest's own summary, so
 * that CI logs end with a line any reader (or tool) can take the counts from.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const visit = (task: RunnerTask): void => {
      if (task.type === 'suite') {
        task.tasks.forEach(visit);
        if (task.result?.state === 'fail' && task.tasks.length === 0) counts.failed++; // a file that failed to load
        return;
      }
      const state = task.result?.state;
      if (state === 'pass') counts.passed++;
      else if (state === 'fail') counts.failed++;
      else counts.skipped++;
    };
    files.forEach(visit);
    counts.failed += errors.length; // unhandled errors fail the run too
    // Printed after the default reporter's summary (reporters run in order).
    setImmediate(() => console.log(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`));
  }
}
