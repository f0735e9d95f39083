import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureWritableDir, writeFileAtomic, writeJsonAtomic } from './atomic';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-atomic-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('atomic writes', () => {
  it('writes and replaces a file, leaving no temporary files', () => {
    const f = path.join(dir, 'a.txt');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, new Uint8Array([116, 119, 111]));
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    writeJsonAtomic(path.join(dir, 'b.json'), { x: 1 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'b.json'), 'utf8'))).toEqual({ x: 1 });
    expect(fs.readdirSync(dir).sort()).toEqual(['a.txt', 'b.json']);
  });

  it('keeps the old file when writing fails', () => {
    const f = path.join(dir, 'a.txt');
    writeFileAtomic(f, 'old');
    expect(() => writeFileAtomic(f, 42 as unknown as string)).toThrow();
    expect(fs.readFileSync(f, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });

  it('ensureWritableDir creates directories and names an unwritable one', () => {
    const d = ensureWritableDir(path.join(dir, 'a', 'b'));
    expect(fs.statSync(d).isDirectory()).toBe(true);
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
    'ensureWritableDir fails at once for a directory under /proc',
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
