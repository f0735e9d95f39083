import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureWritableDir } from './ensureWritableDir';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-fs-writable-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ensureWritableDir', () => {
  it('creates directories and names an unwritable one', () => {
    const d = ensureWritableDir(path.join(dir, 'a', 'b'));
    expect(fs.statSync(d).isDirectory()).toBe(true);
    expect(fs.readdirSync(d)).toEqual([]); // the probe file is gone
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    expect(() => ensureWritableDir(path.join(file, 'sub'), 'output directory')).toThrow(
      new RegExp(
        `cannot write to the output directory ${path.join(file, 'sub')} \\((ENOTDIR|EEXIST)\\)`,
      ),
    );
  });

  // Issue 18.1: `pixelcnn train --out /proc/nope` spun one core forever (Node's recursive mkdir
  // under /proc never returns); it must fail at once and name the directory.
  it.runIf(fs.existsSync('/proc/self'))(
    'fails at once for a directory under /proc',
    () => {
      const t0 = Date.now();
      expect(() => ensureWritableDir('/proc/nope', 'output directory (--out)')).toThrow(
        'cannot write to the output directory (--out) /proc/nope (ENOENT)',
      );
      expect(Date.now() - t0).toBeLessThan(1000);
    },
    5000,
  );
});
