// Prints the plain closing line CI reads ("Tests: N passed, N failed, N skipped"); a run with
// QQ_TEST_LABEL set (the Node LTS pass, which npm test runs first) names itself in that line.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
    }
    const label = process.env.QQ_TEST_LABEL ? ` (${process.env.QQ_TEST_LABEL})` : '';
    console.log(`\nTests${label}: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped`);
  }
}
