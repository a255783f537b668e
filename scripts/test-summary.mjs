// Adds up the vitest JSON reports of every package into one line that CI reads:
//   tests: N passed, M failed
// Just above it, the name of every failed test (and of every test file that could not run),
// so a reader need not search the interleaved output of all packages.
// Exits non-zero when a test failed or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
let passed = 0
let failed = 0
let reports = 0
const failures = []

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
    failures.push(...failedNames(report, join(group, name)))
  }
}

/** A test file that failed to load or run has no failed tests of its own; count it once. */
function filesThatFailedToRun(report) {
  return (report.testResults ?? []).filter(
    (file) =>
      file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  ).length
}

/** One line per failed test, and per test file that failed without a failed test. */
function failedNames(report, folder) {
  const lines = []
  for (const file of report.testResults ?? []) {
    const path = join(folder, relative(join(root, folder), file.name ?? ''))
    const tests = (file.assertionResults ?? []).filter((test) => test.status === 'failed')
    for (const test of tests) lines.push(`  ${path} > ${test.fullName ?? test.title}`)
    if (file.status === 'failed' && tests.length === 0) {
      const reason = String(file.message ?? '').split('\n')[0]
      lines.push(`  ${path} (did not run${reason ? `: ${reason}` : ''})`)
    }
  }
  return lines
}

if (failures.length > 0) console.log(`failed tests:\n${failures.join('\n')}`)
console.log(`tests: ${passed} passed, ${failed} failed`)
if (reports === 0 || passed === 0 || failed > 0) process.exitCode = 1
