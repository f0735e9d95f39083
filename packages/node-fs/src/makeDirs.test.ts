import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs, makeDirsSync } from './makeDirs';

describe('makeDirs', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'makedirs-'));

  it('creates every missing level, and accepts an existing directory', async () => {
    const deep = path.join(root, 'a', 'b', 'c');
    makeDirsSync(deep);
    expect(fs.statSync(deep).isDirectory()).toBe(true);
    makeDirsSync(deep);
    const deep2 = path.join(root, 'x', 'y');
    await makeDirs(deep2);
    await makeDirs(deep2);
    expect(fs.statSync(deep2).isDirectory()).toBe(true);
  });

  it('fails with ENOTDIR when a file sits where a directory belongs', async () => {
    const file = path.join(root, 'file');
    fs.writeFileSync(file, '');
    expect(() => makeDirsSync(path.join(file, 'sub'))).toThrow(/ENOTDIR/);
    await expect(makeDirs(path.join(file, 'sub'))).rejects.toThrow(/ENOTDIR/);
  });

  // Node's recursive mkdir spins forever here; the test would time out instead of failing fast.
  it.runIf(fs.existsSync('/proc/self'))(
    'fails at once under /proc, where recursive mkdir never returns',
    async () => {
      const t0 = Date.now();
      expect(() => makeDirsSync('/proc/nope/deeper')).toThrow(/ENOENT/);
      await expect(makeDirs('/proc/nope')).rejects.toThrow(/ENOENT/);
      expect(Date.now() - t0).toBeLessThan(1000);
    },
    5000,
  );
});
