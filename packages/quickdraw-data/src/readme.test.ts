import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackends, expectReadmeShows, quickdrawDir } from '@pixelcnn/backend/testing';
import { expect, it } from 'vitest';
import { main } from '../examples/readme';

const here = path.dirname(fileURLToPath(import.meta.url));

describeBackends('README example', () => {
  it('runs against a local mirror and is shown verbatim in the README', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-readme-'));
    try {
      const out = await main(process.env.QUICKDRAW_BASE_URL ?? quickdrawDir(), cacheDir);
      expect(out.label26).toBe('bee');
      expect(out.batchShape).toEqual([32, 28, 28, 1]);
      expect(out.train).toBeGreaterThan(800);
      expect(out.meanDiff).toBeLessThan(2);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
    expectReadmeShows(path.join(here, '../README.md'), path.join(here, '../examples/readme.ts'));
  });
});
