import { fileURLToPath } from 'node:url';
import { expectReadmeShows } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { main } from '../examples/readme';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe('README', () => {
  it('shows examples/readme.ts verbatim, and the example runs as it says', async () => {
    expectReadmeShows(here('../README.md'), here('../examples/readme.ts'));
    const before = tf.memory().numTensors;
    const r = await main();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.u).toEqual([2, 8, 8, 8]);
    expect(r.ul).toEqual([2, 8, 8, 8]);
    for (const v of r.variance) expect(Math.abs(v - 1)).toBeLessThan(1e-4);
    expect(r.future.length).toBe(64 - 28);
    expect(r.future.every((g) => g === 0)).toBe(true);
  });
});
