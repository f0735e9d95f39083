import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BitmapSource,
  classFilePath,
  classLabel,
  closestClassNames,
  isClassName,
  QUICKDRAW_BUCKET_URL,
  QuickDrawDataset,
  resolveClassName,
} from '@pixelcnn/quickdraw-data';
import { downloadClass, openBitmapFile } from '@pixelcnn/quickdraw-data/node';
import { UsageError } from './args';
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

/** Canonical class names for a list of names or TFDS labels; unknown names fail with suggestions. */
export function resolveClasses(list: readonly string[]): {
  classes: string[];
  tfdsLabels: number[];
} {
  if (list.length === 0) throw new UsageError('option --classes: give at least one class');
  const classes: string[] = [];
  for (const item of list) {
    let name: string;
    if (/^\d+$/.test(item)) {
      try {
        name = resolveClassName(Number(item));
      } catch {
        throw new UsageError(`option --classes: ${item} is not a TFDS label (0..344)`);
      }
    } else if (isClassName(item)) {
      name = resolveClassName(item);
    } else {
      throw new UsageError(
        `option --classes: '${item}' is not a QuickDraw class; did you mean ${closestClassNames(
          item,
          3,
        )
          .map((n) => `'${n}'`)
          .join(', ')}?`,
      );
    }
    if (classes.includes(name)) throw new UsageError(`option --classes: '${name}' is given twice`);
    classes.push(name);
  }
  return { classes, tfdsLabels: classes.map((c) => classLabel(c)) };
}

/** Class names a local mirror holds bitmaps for. */
export function mirrorClasses(dir: string): string[] {
  return fs
    .readdirSync(path.join(dir, 'full', 'numpy_bitmap'))
    .filter((f) => f.endsWith('.npy'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Default download cache: `.quickdraw-cache` in the repository (git-ignored), else in cwd. */
export function defaultCacheDir(cwd: string): string {
  return path.join(repoRoot() ?? cwd, '.quickdraw-cache');
}

/** The training data of a run, opened. */
export interface OpenedData {
  dataset: QuickDrawDataset;
  source: DataSource;
  /** Rows actually available per class (after --per-class and the file's length). */
  rowsPerClass: number[];
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
export async function openData(
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
    return { dataset, source, rowsPerClass: [...dataset.rowsPerClass], close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Requantise 0..255 bytes to 0..high in place (high = 255 leaves them). */
export function quantize(images: Uint8Array, high: number): Uint8Array {
  if (high === 255) return images;
  for (let i = 0; i < images.length; i++) images[i] = Math.round((images[i] * high) / 255);
  return images;
}

/** Back to 0..255 for display. */
export function toDisplay(values: ArrayLike<number>, high: number): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round((values[i] * 255) / high);
  return out;
}
