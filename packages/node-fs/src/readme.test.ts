import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectReadmeShows } from '@pixelcnn/backend/testing';
import { describe, expect, it } from 'vitest';
import { main } from '../examples/readme';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('README example', () => {
  it('runs and is shown verbatim in the README', async () => {
    expect(await main()).toEqual({
      listing: ['checkpoint', 'latest.json', 'samples'],
      checkpoint: ['state.json', 'weights.bin'],
      latest: { step: 2 },
    });
    expectReadmeShows(path.join(here, '../README.md'), path.join(here, '../examples/readme.ts'));
  });
});
