import { describeBackends, expectReadmeShows } from '@pixelcnn/backend/testing';
import { expect, it } from 'vitest';
import { main } from '../examples/readme';

describeBackends('README example', () => {
  it('runs, learns, and is shown verbatim in the README', async () => {
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
