import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_ENV } from '@pixelcnn/backend';
import { describeBackends, expectReadmeShows, quickdrawDir } from '@pixelcnn/backend/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../examples/readme';

const here = path.dirname(fileURLToPath(import.meta.url));

describeBackends('README example', ({ backend }) => {
  afterEach(() => vi.unstubAllEnvs());

  it('runs against a local mirror and is shown verbatim in the README', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-readme-'));
    try {
      vi.stubEnv(BACKEND_ENV, backend); // main()'s initBackend() takes this block's backend
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
