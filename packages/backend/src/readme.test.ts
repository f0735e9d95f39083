import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../examples/readme';
import { expectReadmeShows } from './testing/readme';

const here = path.dirname(fileURLToPath(import.meta.url));
const previous = tf.getBackend();

describe('README example', () => {
  afterAll(() => tf.setBackend(previous));

  it('runs: picks a backend and differentiates a conv weight', async () => {
    const { backend, taps } = await main();
    expect(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']).toContain(backend);
    expect(taps).toEqual(new Array(9).fill(18));
  });

  it('is shown verbatim in the README', () => {
    expectReadmeShows(path.join(here, '../README.md'), path.join(here, '../examples/readme.ts'));
  });
});
