// The drawings a page-trained run learns from: QuickDraw classes from the mirror the server
// points at (the first `perClass` rows of each, as the CLI reads them), or `.npy` bitmap files
// dropped on the page (one class each). Either way the CLI's dataset: quickdraw-data's
// QuickDrawDataset, with the run's split by row hash and its per-epoch order.

import {
  type BitmapSource,
  fetchBitmaps,
  memorySource,
  parseBitmapNpy,
  QuickDrawDataset,
} from '@pixelcnn/quickdraw-data';
import type { DataSettings } from '@pixelcnn/trainer/settings';
import { classOfFile } from '../lib/trainForm';

/** Where the drawings come from. */
export type DataSource =
  | { kind: 'mirror'; baseUrl: string }
  | { kind: 'files'; files: { name: string; bytes: ArrayBuffer }[] };

/**
 * Open the run's data: every class of `data.classes` from `source`, at most `data.perClass`
 * drawings each, split by `data.heldOut`. Errors name the class and what to do.
 */
export async function openTrainingData(
  data: DataSettings,
  source: DataSource,
  o: { fetch?: typeof globalThis.fetch; onProgress?: (text: string) => void } = {},
): Promise<QuickDrawDataset> {
  const sources: BitmapSource[] = [];
  if (source.kind === 'mirror') {
    for (const [i, c] of data.classes.entries()) {
      o.onProgress?.(`fetching ${c} (${i + 1}/${data.classes.length})…`);
      const got = await fetchBitmaps(c, {
        baseUrl: source.baseUrl,
        maxDrawings: data.perClass || undefined,
        fetch: o.fetch,
      }).catch((e: Error) => {
        throw new Error(
          `could not fetch the drawings of '${c}' from the mirror: ${e.message.replace(/^Error in \w+: /, '')}`,
        );
      });
      sources.push(memorySource(c, got.images));
    }
  } else {
    const byClass = new Map(source.files.map((f) => [classOfFile(f.name), f]));
    for (const c of data.classes) {
      const file = byClass.get(c);
      if (!file) {
        throw new Error(
          `the run's class '${c}' has no dropped file: drop ${c}.npy (the files given: ${source.files.map((f) => f.name).join(', ') || 'none'})`,
        );
      }
      let images: Uint8Array;
      try {
        images = parseBitmapNpy(new Uint8Array(file.bytes), file.name).images;
      } catch (e) {
        throw new Error(
          `${file.name} is not a QuickDraw bitmap file (uint8 [N, 784] or [N, 28, 28] .npy): ${(e as Error).message.replace(/^Error in \w+: /, '')}`,
        );
      }
      sources.push(memorySource(c, images));
    }
  }
  const dataset = new QuickDrawDataset(sources, {
    labels: 'index',
    maxPerClass: data.perClass || undefined,
    testFraction: data.heldOut,
  });
  const tooFew = data.classes.filter((_, i) => dataset.rowsPerClass[i] < 2);
  if (tooFew.length) throw new Error(`too few drawings for ${tooFew.join(', ')}`);
  return dataset;
}
