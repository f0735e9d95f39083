import { BACKEND_ENV } from '@pixelcnn/backend';
import { describeBackends, expectReadmeShows } from '@pixelcnn/backend/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../examples/trainingLoop';

describeBackends('README training loop example', ({ backend }) => {
  afterEach(() => vi.unstubAllEnvs());

  it('stops, resumes from its checkpoint exactly, and is shown verbatim in the README', async () => {
    vi.stubEnv(BACKEND_ENV, backend); // main()'s initBackend() takes this block's backend
    const r = await main();
    expect(r.kinds).toEqual(['done', 'stopped', 'done']);
    expect(r.straight).toHaveLength(8);
    expect(r.resumed).toEqual(r.straight); // the same eight losses, to the last bit
    expect(new Set(r.straight).size).toBe(8); // real, changing losses
    expect(r.straight[7]).toBeLessThan(0.5 * r.straight[0]); // it learns
    // the held-out bits/dim at the end (EMA weights) too: below a coin flip's 1 bit a pixel
    expect(r.heldOut[1]).toBe(r.heldOut[0]);
    expect(r.heldOut[0]).toBeGreaterThan(0);
    expect(r.heldOut[0]).toBeLessThan(1);
    expectReadmeShows(
      new URL('../README.md', import.meta.url).pathname,
      new URL('../examples/trainingLoop.ts', import.meta.url).pathname,
    );
  });
});
