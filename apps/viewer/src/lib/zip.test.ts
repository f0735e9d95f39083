import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { zipStore } from './zip';

const haveUnzip = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// Checked by an independent reader, Info-ZIP's unzip (Debian's): its CRC and header checks.
it.runIf(haveUnzip)('zipStore writes an archive unzip tests and extracts byte for byte', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-zip-'));
  try {
    const bin = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256);
    const zip = zipStore([
      { path: 'run/settings.json', data: '{"a": 1}\n' },
      { path: 'run/checkpoints/step-00000003/weights.bin', data: bin },
      { path: 'run/näme.txt', data: 'utf-8 name' },
      { path: 'run/empty', data: new Uint8Array(0) },
    ]);
    const file = path.join(tmp, 'run.zip');
    fs.writeFileSync(file, zip);
    expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
    execFileSync('unzip', ['-q', file, '-d', tmp]);
    expect(fs.readFileSync(path.join(tmp, 'run/settings.json'), 'utf8')).toBe('{"a": 1}\n');
    expect(
      fs.readFileSync(path.join(tmp, 'run/checkpoints/step-00000003/weights.bin')).equals(bin),
    ).toBe(true);
    expect(fs.readFileSync(path.join(tmp, 'run/näme.txt'), 'utf8')).toBe('utf-8 name');
    expect(fs.statSync(path.join(tmp, 'run/empty')).size).toBe(0);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

it('zipStore refuses paths that leave the archive', () => {
  expect(() => zipStore([{ path: '../x', data: 'a' }])).toThrow(
    "Error in zipStore: '../x' is not a relative path inside the archive",
  );
  expect(() => zipStore([{ path: '/etc/x', data: 'a' }])).toThrow(/not a relative path/);
});
