import { BACKEND_ENV } from '@pixelcnn/backend';
import { describeBackends, expectReadmeShows } from '@pixelcnn/backend/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../examples/readme';

describeBackends('README example', ({ backend }) => {
  afterEach(() => vi.unstubAllEnvs());

  it('runs, learns, and is shown verbatim in the README', async () => {
    vi.stubEnv(BACKEND_ENV, backend); // main()'s initBackend() takes this block's backend
    const r = await main();
    expect(r.samples).toEqual([3, 8, 8, 1]);
    expect(r.logProb).toHaveLength(2);
    expect(r.bitsPerDim).toBeLessThan(0.5 * r.bitsPerDimBefore);
    expectReadmeShows(
      new URL('../README.md', import.meta.url).pathname,
      new URL('../examples/readme.ts', import.meta.url).pathname,
    );
  });
});
