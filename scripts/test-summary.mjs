#!/usr/bin/env node
// `pnpm test`: runs every package's tests through turbo (all of them, even after a failure), then
// sums the vitest JSON reports each package wrote (test-results/vitest.json: one per package, all
// of its vitest projects together) into one closing line, "N passed, N failed, N skipped".
// The packages expected to report are the ones turbo runs a test script for (its dry run, with
// the same arguments), so a filtered run checks its packages too. Exits non-zero when turbo
// failed, a test or a test file failed, or an expected package wrote no report or one that says
// the run did not succeed (e.g. no test files). Extra arguments go to turbo
// (e.g. --filter=@pixelcnn/backend).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);

// The packages turbo will run `test` in: the task graph of this very command, without running it.
const dry = spawnSync('turbo', ['run', 'test', '--dry=json', ...args], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 256 << 20,
});
if (dry.status !== 0) {
  process.stderr.write(dry.stderr);
  console.error(`test-summary: turbo's dry run failed (${dry.status ?? dry.signal})`);
  process.exit(1);
}
const expected = JSON.parse(dry.stdout)
  .tasks.filter((t) => t.task === 'test' && t.command !== '<NONEXISTENT>')
  .map((t) => ({
    name: t.package,
    report: path.join(root, t.directory, 'test-results', 'vitest.json'),
  }))
  .sort((a, b) => a.name.localeCompare(b.name));
// No stale report may count: each is written anew by this run or is missing.
for (const { report } of expected)
  fs.rmSync(path.dirname(report), { recursive: true, force: true });

const turbo = spawnSync('turbo', ['run', 'test', '--concurrency=2', '--continue', ...args], {
  cwd: root,
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
const rows = [];
for (const { name, report } of expected) {
  if (!fs.existsSync(report)) {
    missing.push(name);
    continue;
  }
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  const p = r.numPassedTests ?? 0;
  let f = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0);
  const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // vitest says success: false without a failed test when it found no test files.
  const note = r.success === false && f === 0 ? ' (the run did not succeed: no test files?)' : '';
  if (note) f = 1;
  passed += p;
  failed += f;
  skipped += s;
  rows.push(
    `${name.padEnd(28)} ${String(p).padStart(5)} passed ${String(f).padStart(4)} failed ${String(s).padStart(4)} skipped${note}`,
  );
}
console.log('\n=== test summary');
console.log(rows.join('\n'));
if (missing.length) console.log(`no test report from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
if (turbo.status !== 0) console.log(`turbo exited with ${turbo.status ?? turbo.signal}`);
process.exit(failed + missing.length > 0 || turbo.status !== 0 ? 1 : 0);
