import { BACKEND_ENV } from '@pixelcnn/backend';
import { describeBackends, expectReadmeShows } from '@pixelcnn/backend/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../examples/training';

describeBackends('README training example', ({ backend }) => {
  afterEach(() => vi.unstubAllEnvs());

  it('resumes from a checkpoint exactly, and is shown verbatim in the README', async () => {
    vi.stubEnv(BACKEND_ENV, backend); // main()'s initBackend() takes this block's backend
    const r = await main();
    expect(r.resumed).toEqual(r.straight); // the same six losses, to the last bit
    expect(new Set(r.straight).size).toBe(6); // and they are real, changing losses
    expect(r.straight[5]).toBeLessThan(r.straight[0]);
    expect(r.extra).toEqual({ epoch: 0 });
    expect(r.step).toBe(6);
    expect(Number.isFinite(r.bitsPerDim) && r.bitsPerDim > 0).toBe(true);
    expectReadmeShows(
      new URL('../README.md', import.meta.url).pathname,
      new URL('../examples/training.ts', import.meta.url).pathname,
    );
  });
});
