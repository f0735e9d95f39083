import { fileURLToPath } from 'node:url';
import { BACKEND_ENV } from '@pixelcnn/backend';
import { describeBackends, expectReadmeShows } from '@pixelcnn/backend/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../examples/readme';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describeBackends('README example', ({ backend }) => {
  afterEach(() => vi.unstubAllEnvs());

  it('is shown verbatim in README.md', () => {
    expectReadmeShows(here('../README.md'), here('../examples/readme.ts'));
  });

  it('runs, leaks nothing, and gives plausible bits/dim and samples', async () => {
    vi.stubEnv(BACKEND_ENV, backend); // main()'s initBackend() takes this block's backend
    const { bits, sample } = await main();
    expect(bits).toHaveLength(2);
    // random parameters on uniform pixels: worse than a uniform model (8 bits), but finite
    for (const b of bits) expect(b).toBeGreaterThan(0);
    for (const b of bits) expect(Number.isFinite(b)).toBe(true);
    for (const v of sample) expect(Number.isInteger(v) && v >= 0 && v <= 255).toBe(true);
  });
});
