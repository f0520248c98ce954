#!/usr/bin/env node
// Runs every package's tests through turbo (continuing past a failing package), then prints the
// summed count as the last line: "N passed, N failed[, N skipped]". Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const reportDir = join(root, '.test-reports');
spawnSync('bash', [join(root, 'scripts/ensure-services.sh')], { stdio: 'inherit' });
rmSync(reportDir, { recursive: true, force: true });

const turbo = spawnSync('turbo', ['run', 'test', '--continue', '--concurrency=1', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
});

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const reports = existsSync(reportDir) ? readdirSync(reportDir).filter((file) => file.endsWith('.json')) : [];
for (const file of reports) {
  const report = JSON.parse(readFileSync(join(reportDir, file), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load (syntax error, missing module) has no tests but is still a failure.
  for (const suite of report.testResults ?? []) {
    const file = suite.name.replace(root, '');
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
      failed += 1;
      failures.push({ name: file, message: suite.message });
    }
    for (const test of suite.assertionResults ?? []) {
      if (test.status === 'failed') failures.push({ name: `${file} > ${test.fullName}`, message: test.failureMessages?.[0] });
    }
  }
}
// CI logs keep only their tail: name every failure here, next to the count, with its first lines.
for (const { name, message } of failures) {
  console.log(`FAILED ${name}`);
  const lines = String(message ?? '').split('\n').filter((line) => !line.includes('node_modules'));
  for (const line of lines.slice(0, 8)) console.log(`    ${line}`);
}
if (turbo.error) console.log(`could not run turbo (${turbo.error.message}): run this through \`pnpm test\`, which puts it on the PATH`);
const turboFailed = turbo.status !== 0;
if (turboFailed && failed === 0) failed = 1; // a package crashed before reporting: never print a clean count
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(turboFailed || failed > 0 ? 1 : 0);
