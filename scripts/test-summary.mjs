#!/usr/bin/env node
// `pnpm test`: runs every package's tests through turbo (all of them, even after a failure), then
// sums the vitest JSON reports each package wrote (test-results/vitest.json) into one closing line,
// "N passed, N failed, N skipped". Exits non-zero when turbo failed, a test failed, or a package
// with tests wrote no report. Extra arguments go to turbo (e.g. --filter=@pixelcnn/backend).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const filtered = args.some((a) => a.startsWith('--filter'));
for (const group of ['packages', 'apps']) {
  for (const d of fs.existsSync(path.join(root, group))
    ? fs.readdirSync(path.join(root, group))
    : []) {
    fs.rmSync(path.join(root, group, d, 'test-results'), { recursive: true, force: true });
  }
}
const turbo = spawnSync('turbo', ['run', 'test', '--concurrency=2', '--continue', ...args], {
  cwd: root,
  stdio: 'inherit',
});
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
console.log('\n=== test summary');
const rows = [];
for (const group of ['packages', 'apps', 'bench']) {
  const dir = path.join(root, group);
  if (!fs.existsSync(dir)) continue;
  const pkgDirs = group === 'bench' ? [dir] : fs.readdirSync(dir).map((d) => path.join(dir, d));
  for (const pkgDir of pkgDirs) {
    const pkgJson = path.join(pkgDir, 'package.json');
    if (!fs.existsSync(pkgJson)) continue;
    const pkg = JSON.parse(fs.readFileSync(pkgJson, 'utf8'));
    if (!pkg.scripts?.test) continue;
    const report = path.join(pkgDir, 'test-results', 'vitest.json');
    if (!fs.existsSync(report)) {
      if (!filtered) missing.push(pkg.name);
      continue;
    }
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    const p = r.numPassedTests ?? 0;
    const f = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0);
    const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    passed += p;
    failed += f;
    skipped += s;
    rows.push(
      `${pkg.name.padEnd(28)} ${String(p).padStart(5)} passed ${String(f).padStart(4)} failed ${String(s).padStart(4)} skipped`,
    );
  }
}
console.log(rows.join('\n'));
if (missing.length) console.log(`no test report from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
if (turbo.status !== 0) console.log(`turbo exited with ${turbo.status ?? turbo.signal}`);
process.exit(failed + missing.length > 0 || turbo.status !== 0 ? 1 : 0);
