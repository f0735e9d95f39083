import path from 'node:path';
import { isClassName, resolveClassName, resolveIn } from './classNames';
import { type DownloadOptions, downloadClass, resolveBaseUrl } from './downloadClass';
import { type BitmapFile, openBitmapFile } from './openBitmapFile';
import { type DatasetOptions, QuickDrawDataset } from './quickDrawDataset';

export interface LoadQuickDrawOptions
  extends DatasetOptions,
    Omit<DownloadOptions, 'format' | 'maxDrawings'> {
  /** Classes by name (any case/spacing) or TFDS label; the order sets labels in 'index' mode. */
  classes: readonly (string | number)[];
}

/**
 * Open QuickDraw bitmaps of some classes as a {@link QuickDrawDataset} backed by file handles
 * (memory-light: pixels are read batch by batch).
 *
 * With an http(s) base (default: env QUICKDRAW_BASE_URL, else the public bucket), each class is
 * fetched into the cache by {@link downloadClass}: only the first `maxPerClass` drawings when
 * that is set (Range requests), else the whole file. With a local directory laid out like the
 * bucket (a path or file: URL), its `full/numpy_bitmap/*.npy` files are opened in place.
 * Call `close()` on the dataset when done.
 */
export async function loadQuickDraw(options: LoadQuickDrawOptions): Promise<QuickDrawDataset> {
  const fn = 'loadQuickDraw';
  const { classes, maxPerClass } = options;
  if (!Array.isArray(classes) || classes.length === 0) {
    throw new Error(`Error in ${fn}: classes must be a non-empty array of names or TFDS labels`);
  }
  const names = classes.map((c) => resolveIn(fn, c, 'tfds'));
  const limitOf = (name: string): number | undefined => {
    if (maxPerClass === undefined) return undefined;
    if (typeof maxPerClass === 'number') return maxPerClass;
    for (const [k, v] of Object.entries(maxPerClass)) {
      if (isClassName(k) && resolveClassName(k) === name) return v;
    }
    return undefined;
  };
  const location = resolveBaseUrl(options.baseUrl);
  const files: BitmapFile[] = [];
  try {
    for (const name of names) {
      const limit = limitOf(name);
      if (location.kind === 'dir') {
        const file = path.join(location.dir, 'full', 'numpy_bitmap', `${name}.npy`);
        files.push(await openBitmapFile(file, { name }));
      } else {
        const got = await downloadClass(name, {
          ...options,
          format: 'numpy_bitmap',
          maxDrawings: limit === 0 ? 1 : limit,
        });
        files.push(await openBitmapFile(got.path, { name }));
      }
    }
    return new QuickDrawDataset(files, options);
  } catch (e) {
    for (const f of files) await f.close();
    throw e;
  }
}
