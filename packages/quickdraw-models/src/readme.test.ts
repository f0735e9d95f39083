import { BACKEND_ENV } from '@pixelcnn/backend';
import { describeBackends, expectReadmeShows, quickdrawDir } from '@pixelcnn/backend/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { main as classifierExample } from '../examples/classifier';
import { main as readmeExample } from '../examples/readme';

describeBackends(
  'README examples',
  ({ backend }) => {
    afterEach(() => vi.unstubAllEnvs());

    it('the pretrained-model example samples every class and is shown verbatim in the README', async () => {
      vi.stubEnv(BACKEND_ENV, backend);
      const { shape, judged } = await readmeExample();
      expect(shape).toEqual([8, 28, 28, 1]);
      expect(judged.n).toBe(8);
      expect(judged.perClass.map((c) => c.n)).toEqual([2, 2, 2, 2]);
      expectReadmeShows(
        new URL('../README.md', import.meta.url).pathname,
        new URL('../examples/readme.ts', import.meta.url).pathname,
      );
    });

    it('the classifier example learns two classes and is shown verbatim in the README', async () => {
      vi.stubEnv(BACKEND_ENV, backend); // main()'s initBackend() takes this block's backend
      const judged = await classifierExample(quickdrawDir());
      expect(judged.n).toBeGreaterThan(80);
      expect(judged.share).toBeGreaterThan(0.9);
      expectReadmeShows(
        new URL('../README.md', import.meta.url).pathname,
        new URL('../examples/classifier.ts', import.meta.url).pathname,
      );
    });
  },
  // the cpu backend's conv weight gradient is pathological (minutes for this training)
  { only: ['wasm'] },
);
