// Adds up the vitest JSON reports of every package into one line that CI reads:
//   tests: N passed, M failed
// Exits non-zero when a test failed or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
let passed = 0
let failed = 0
let reports = 0

for (const group of ['packages', 'examples', 'tests']) {
  const folder = join(root, group)
  if (!existsSync(folder)) continue
  for (const name of readdirSync(folder)) {
    const file = join(folder, name, 'reports', 'vitest.json')
    if (!existsSync(file)) continue
    const report = JSON.parse(readFileSync(file, 'utf8'))
    reports++
    passed += report.numPassedTests ?? 0
    failed += (report.numFailedTests ?? 0) + filesThatFailedToRun(report)
  }
}

/** A test file that failed to load or run has no failed tests of its own; count it once. */
function filesThatFailedToRun(report) {
  return (report.testResults ?? []).filter(
    (file) =>
      file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  ).length
}

console.log(`tests: ${passed} passed, ${failed} failed`)
if (reports === 0 || passed === 0 || failed > 0) process.exitCode = 1
