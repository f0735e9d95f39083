import { resolveIn } from './classNames';

/** The four file formats of the public bucket. */
export type QuickDrawFormat = 'numpy_bitmap' | 'simplified' | 'raw' | 'binary';

/** Google's public bucket (no authentication needed). */
export const QUICKDRAW_BUCKET_URL = 'https://storage.googleapis.com/quickdraw_dataset/';

const EXTENSIONS: Record<QuickDrawFormat, string> = {
  numpy_bitmap: 'npy',
  simplified: 'ndjson',
  raw: 'ndjson',
  binary: 'bin',
};

/** File extension of a format: npy, ndjson or bin. */
export function formatExtension(format: QuickDrawFormat): string {
  const ext = EXTENSIONS[format];
  if (ext === undefined || !Object.hasOwn(EXTENSIONS, format)) {
    throw new Error(
      `Error in formatExtension: format must be one of ${Object.keys(EXTENSIONS).join(', ')}; got '${String(format)}'`,
    );
  }
  return ext;
}

/**
 * Where a class's file lives under the bucket (or a mirror laid out like it), unencoded:
 * `classFilePath('alarm clock', 'numpy_bitmap') === 'full/numpy_bitmap/alarm clock.npy'`.
 * Accepts any spelling of the class name or a TFDS label.
 */
export function classFilePath(name: string | number, format: QuickDrawFormat): string {
  const ext = formatExtension(format);
  return `full/${format}/${resolveIn('classFilePath', name, 'tfds')}.${ext}`;
}

/**
 * URL of a class's file under `baseUrl` (default the public bucket; spaces become `%20`).
 */
export function classFileUrl(
  name: string | number,
  format: QuickDrawFormat,
  baseUrl: string = QUICKDRAW_BUCKET_URL,
): string {
  const ext = formatExtension(format);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return `${base}full/${format}/${encodeURIComponent(resolveIn('classFileUrl', name, 'tfds'))}.${ext}`;
}
