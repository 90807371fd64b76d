import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with one plain line, "N passed, N failed, N skipped", that any CI log reader understands. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = (state: 'passed' | 'failed' | 'skipped') =>
      testModules.reduce((sum, module) => sum + [...module.children.allTests(state)].length, 0);
    // A file that fails outside any test (e.g. it cannot be imported) counts as one failure.
    const failedModules = testModules.filter(
      (module) => module.state() === 'failed' && [...module.children.allTests('failed')].length === 0,
    ).length;
    console.log(
      `\n${count('passed')} passed, ${count('failed') + failedModules} failed, ${count('skipped')} skipped`,
    );
  }
}
