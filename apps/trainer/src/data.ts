import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainingData } from '@pixelcnn/pixelcnn-dist';
import {
  BITMAP_SIDE,
  type BitmapSource,
  classFilePath,
  QUICKDRAW_BUCKET_URL,
  QuickDrawDataset,
} from '@pixelcnn/quickdraw-data';
import { defaultCacheDir, downloadClass, openBitmapFile } from '@pixelcnn/quickdraw-data/node';
import { UsageError } from './args';
import { ArrayDataset, readNpyImages, readNpyLabels } from './arrayData';
import type { DataSettings } from './settings';

/** Env var naming a QuickDraw mirror (local directory or URL laid out like the bucket). */
export const QUICKDRAW_ENV = 'QUICKDRAW_BASE_URL';

/** Where the drawings come from, and why that source was chosen. */
export interface DataSource {
  kind: 'dir' | 'url';
  /** Directory (absolute) or base URL (ending in '/'). */
  location: string;
  /** How it was chosen, for the log ("--data", "$QUICKDRAW_BASE_URL", ...). */
  reason: string;
}

/** The repository root (the directory with pnpm-workspace.yaml) above this file, if any. */
export function repoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);
const isMirrorDir = (d: string) => fs.existsSync(path.join(d, 'full', 'numpy_bitmap'));

/**
 * Pick the data source: `--data`, else $QUICKDRAW_BASE_URL, else `../shared/quickdraw` beside the
 * repository (or $PIXELCNN_SHARED_DIR/quickdraw) when it exists, else Google's public bucket.
 * A `file://` URL or a path is a local mirror.
 */
export function resolveDataSource(
  option: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): DataSource {
  const pick = (value: string, reason: string): DataSource => {
    if (isUrl(value))
      return { kind: 'url', location: value.endsWith('/') ? value : `${value}/`, reason };
    const dir = path.resolve(cwd, value.startsWith('file://') ? fileURLToPath(value) : value);
    if (!fs.existsSync(dir)) {
      throw new UsageError(`the QuickDraw mirror ${dir} (from ${reason}) does not exist`);
    }
    if (!isMirrorDir(dir)) {
      throw new UsageError(
        `${dir} (from ${reason}) is not a QuickDraw mirror: expected ${path.join(dir, 'full', 'numpy_bitmap')}/<class>.npy as in the bucket`,
      );
    }
    return { kind: 'dir', location: dir, reason };
  };
  if (option) return pick(option, '--data');
  const fromEnv = env[QUICKDRAW_ENV];
  if (fromEnv) return pick(fromEnv, `$${QUICKDRAW_ENV}`);
  const candidates: [string, string][] = [];
  if (env.PIXELCNN_SHARED_DIR) {
    candidates.push([
      path.join(path.resolve(cwd, env.PIXELCNN_SHARED_DIR), 'quickdraw'),
      '$PIXELCNN_SHARED_DIR',
    ]);
  }
  const root = repoRoot();
  if (root)
    candidates.push([
      path.resolve(root, '..', 'shared', 'quickdraw'),
      '../shared/quickdraw beside the repository',
    ]);
  for (const [dir, reason] of candidates)
    if (isMirrorDir(dir)) return { kind: 'dir', location: dir, reason };
  return {
    kind: 'url',
    location: QUICKDRAW_BUCKET_URL,
    reason: 'the public bucket (no mirror found)',
  };
}

/** Class names a local mirror holds bitmaps for. */
export function mirrorClasses(dir: string): string[] {
  return fs
    .readdirSync(path.join(dir, 'full', 'numpy_bitmap'))
    .filter((f) => f.endsWith('.npy'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** `[H, W, C]` of QuickDraw's bitmaps. */
export const QUICKDRAW_SHAPE: readonly [number, number, number] = [BITMAP_SIDE, BITMAP_SIDE, 1];

/** The training data of a run, opened. */
export interface OpenedData {
  dataset: TrainingData;
  /** `[H, W, C]` of every image. */
  imageShape: [number, number, number];
  /** Class names by label (empty: no labels, an unconditional model). */
  classes: string[];
  /** One line for the log: classes (with counts) and the split sizes. */
  summary: string;
  close(): Promise<void>;
}

async function urlSource(
  name: string,
  source: DataSource,
  perClass: number,
  cacheDir: string,
  log: (line: string) => void,
): Promise<BitmapSource> {
  let file: string;
  try {
    const got = await downloadClass(name, {
      baseUrl: source.location,
      maxDrawings: perClass || undefined,
      cacheDir,
      onProgress: (p) => {
        if (p.phase === 'retry') log(`  retrying '${name}': ${p.message}`);
        if (p.phase === 'done')
          log(`  downloaded '${name}' (${(p.receivedBytes / 1e6).toFixed(1)} MB)`);
      },
    });
    file = got.path;
  } catch (e) {
    throw new Error(
      `could not download '${name}' from ${source.location} (${source.reason}): ${(e as Error).message.replace(/^Error in \w+: /, '')}\n` +
        `Offline? Point --data or $${QUICKDRAW_ENV} at a local mirror laid out like the bucket (full/numpy_bitmap/<class>.npy).`,
    );
  }
  return openBitmapFile(file, { name, maxRows: perClass || undefined });
}

/**
 * Open the drawings of a run: every class's file from a local mirror (read lazily) or downloaded
 * once into the cache (only the first `perClass` rows, with an HTTP Range request). Fails before
 * any training with a clear message when a class is missing.
 */
async function openQuickDraw(
  data: DataSettings,
  source: DataSource,
  o: { cacheDir: string; log: (line: string) => void },
): Promise<OpenedData> {
  const sources: BitmapSource[] = [];
  const closeAll = async () => {
    for (const s of sources) await s.close?.();
  };
  try {
    if (source.kind === 'dir') {
      const missing = data.classes.filter(
        (c) => !fs.existsSync(path.join(source.location, classFilePath(c, 'numpy_bitmap'))),
      );
      if (missing.length) {
        throw new UsageError(
          `no bitmaps for ${missing.map((m) => `'${m}'`).join(', ')} in the QuickDraw mirror ${source.location} (${source.reason}); ` +
            `it has: ${mirrorClasses(source.location).join(', ')}.\n` +
            `Pick classes it has, or download from the public bucket with --data ${QUICKDRAW_BUCKET_URL}`,
        );
      }
      for (const c of data.classes) {
        sources.push(
          await openBitmapFile(path.join(source.location, classFilePath(c, 'numpy_bitmap')), {
            name: c,
            maxRows: data.perClass || undefined,
          }),
        );
      }
    } else {
      if (data.classes.length)
        o.log(
          `fetching ${data.classes.length} classes from ${source.location} (cache ${o.cacheDir}) ...`,
        );
      for (const c of data.classes)
        sources.push(await urlSource(c, source, data.perClass, o.cacheDir, o.log));
    }
    const dataset = new QuickDrawDataset(sources, {
      labels: 'index',
      maxPerClass: data.perClass || undefined,
      testFraction: data.heldOut,
    });
    const tooSmall = data.classes.filter((_, i) => dataset.rowsPerClass[i] < 2);
    if (tooSmall.length) throw new Error(`too few drawings for ${tooSmall.join(', ')}`);
    return {
      dataset,
      imageShape: [...QUICKDRAW_SHAPE],
      classes: [...data.classes],
      summary:
        `classes: ${data.classes.map((c, i) => `${c} (${dataset.rowsPerClass[i]})`).join(', ')}; ` +
        `${dataset.size('train')} train / ${dataset.size('test')} held-out drawings`,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Where a command finds the data of a run: the data options and the process around it. */
export interface DataAccess {
  /** --data (a QuickDraw mirror). */
  data?: string;
  /** --cache-dir. */
  cacheDir?: string;
  env: Record<string, string | undefined>;
  cwd: string;
  log: (line: string) => void;
}

/**
 * Open the data a run's settings name: an `--images` array (and its `--labels`), or QuickDraw
 * classes from the mirror or bucket `--data` / $QUICKDRAW_BASE_URL / the defaults pick.
 */
export async function openRunData(data: DataSettings, o: DataAccess): Promise<OpenedData> {
  if (data.images) return openImages(data);
  const source = resolveDataSource(o.data, o.env, o.cwd);
  o.log(`data: ${source.location} (${source.reason})`);
  // quickdraw-data's rule: $QUICKDRAW_CACHE_DIR, else .quickdraw-cache in the working directory.
  const cacheDir = path.resolve(o.cwd, o.cacheDir ?? defaultCacheDir(o.cwd));
  return openQuickDraw(data, source, { cacheDir, log: o.log });
}

function openImages(data: DataSettings): OpenedData {
  const file = data.images as string;
  const images = readNpyImages(file);
  const labels = data.labels ? readNpyLabels(data.labels, images.shape[0]) : undefined;
  const dataset = new ArrayDataset(images, labels, data.heldOut);
  const [n, h, w, c] = images.shape;
  let classes: string[] = [];
  if (labels) {
    classes = data.classes.length
      ? [...data.classes]
      : Array.from({ length: dataset.numClasses }, (_, i) => String(i));
    if (classes.length !== dataset.numClasses) {
      throw new UsageError(
        `option --classes: ${classes.length} names for the ${dataset.numClasses} classes of ${data.labels} (labels 0..${dataset.numClasses - 1}); give one name per label`,
      );
    }
  }
  if (dataset.size('train') < 1 || dataset.size('test') < 1) {
    throw new UsageError(
      `option --images: ${file} has ${n} images, too few to hold out --held-out ${data.heldOut} of them; use more images or another --held-out`,
    );
  }
  const counts = labels ? dataset.countsPerClass() : [];
  return {
    dataset,
    imageShape: [h, w, c],
    classes,
    summary:
      `images: ${file} [${n}, ${h}, ${w}, ${c}] uint8` +
      (labels
        ? `; labels: ${data.labels} (${classes.map((name, i) => `${name} (${counts[i]})`).join(', ')})`
        : '; no labels (unconditional)') +
      `; ${dataset.size('train')} train / ${dataset.size('test')} held-out images`,
    async close() {},
  };
}
