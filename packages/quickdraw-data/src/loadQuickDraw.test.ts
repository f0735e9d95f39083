import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends, quickdrawDir } from '@pixelcnn/backend/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QuickdrawServer, startQuickdrawServer } from '../test/quickdrawServer';
import { classLabel } from './classNames';
import { loadQuickDraw } from './loadQuickDraw';
import { BITMAP_BYTES } from './npy';

const root = quickdrawDir();
const fileOf = (name: string) => path.join(root, 'full', 'numpy_bitmap', `${name}.npy`);
let server: QuickdrawServer;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-load-'));

beforeAll(async () => {
  server = await startQuickdrawServer(root);
});
afterAll(async () => {
  await server.close();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

describeBackends('loadQuickDraw', () => {
  it('opens a local mirror in place and batches the right rows with the right labels', async () => {
    const fishLabel = classLabel('fish');
    const ds = await loadQuickDraw({
      classes: ['cat', fishLabel, 'Alarm Clock'],
      baseUrl: root,
      maxPerClass: { cat: 100 },
    });
    try {
      expect(ds.classes).toEqual(['cat', 'fish', 'alarm clock']);
      expect(ds.rowsPerClass).toEqual([100, 3000, 4000]);
      expect(ds.classLabels).toEqual([classLabel('cat'), fishLabel, classLabel('alarm clock')]);
      expect(ds.size('train') + ds.size('test')).toBe(7100);
      const ex = ds.examples('train', { seed: 9 });
      const files = ds.classes.map((n) => fs.readFileSync(fileOf(n)));
      const it = ds.batches({ batchSize: 6, seed: 9 });
      const first = await it.next();
      await it.return(undefined);
      const { images, labels } = first.value!;
      expect(images.shape).toEqual([6, 28, 28, 1]);
      expect(labels.dtype).toBe('int32');
      const px = await images.data();
      const lab = await labels.data();
      for (let k = 0; k < 6; k++) {
        const c = ex.classIndex[k];
        const r = ex.row[k];
        expect(lab[k]).toBe(ds.classLabels[c]);
        const expected = files[c].subarray(128 + r * BITMAP_BYTES, 128 + (r + 1) * BITMAP_BYTES);
        expect(Array.from(px.subarray(k * BITMAP_BYTES, (k + 1) * BITMAP_BYTES))).toEqual(
          Array.from(expected),
        );
      }
      images.dispose();
      labels.dispose();
    } finally {
      await ds.close();
    }
  });
});

describe('loadQuickDraw over HTTP', () => {
  it('downloads only the first maxPerClass drawings of each class, then reuses the cache', async () => {
    const options = {
      classes: ['bird', 'book'],
      baseUrl: server.url,
      cacheDir,
      maxPerClass: 20,
      labels: 'index' as const,
      retryDelayMs: 1,
    };
    const ds = await loadQuickDraw(options);
    expect(ds.rowsPerClass).toEqual([20, 20]);
    expect(ds.classLabels).toEqual([0, 1]);
    await ds.close();
    expect(fs.readdirSync(path.join(cacheDir, 'numpy_bitmap')).sort()).toEqual([
      'bird.first20.npy',
      'bird.first20.npy.json',
      'book.first20.npy',
      'book.first20.npy.json',
    ]);
    const requests = server.requests.length;
    const again = await loadQuickDraw(options);
    expect(server.requests.length).toBe(requests);
    const raw = await again.rawBatches({ batchSize: 40, split: 'all', shuffle: false }).next();
    const bird = fs.readFileSync(fileOf('bird'));
    expect(
      Buffer.from(raw.value!.images.subarray(0, 20 * BITMAP_BYTES)).equals(
        bird.subarray(128, 128 + 20 * BITMAP_BYTES),
      ),
    ).toBe(true);
    await again.close();
  });

  it('rejects empty class lists, unknown classes and classes missing from a mirror', async () => {
    await expect(loadQuickDraw({ classes: [] })).rejects.toThrow(
      'Error in loadQuickDraw: classes must be a non-empty array of names or TFDS labels',
    );
    await expect(loadQuickDraw({ classes: ['cat', 'fihs'], baseUrl: root })).rejects.toThrow(
      "Error in loadQuickDraw: unknown QuickDraw class 'fihs'; did you mean 'fish'?",
    );
    await expect(loadQuickDraw({ classes: [400], baseUrl: root })).rejects.toThrow(
      'Error in loadQuickDraw: label 400 is not an integer in 0..344 (tfds order)',
    );
    await expect(loadQuickDraw({ classes: ['cat', 'zebra'], baseUrl: root })).rejects.toThrow(
      `Error in openBitmapFile: cannot open ${fileOf('zebra')}`,
    );
  });
});
