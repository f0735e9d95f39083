export {
  type ChecksumEntry,
  type ChecksumTable,
  officialChecksums,
  parseChecksumTable,
} from './checksums';
export {
  BASE_URL_ENV,
  CACHE_DIR_ENV,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  defaultCacheDir,
  downloadClass,
  downloadClasses,
  type QuickDrawLocation,
  resolveBaseUrl,
} from './downloadClass';
export { type LoadQuickDrawOptions, loadQuickDraw } from './loadQuickDraw';
export {
  type BitmapFile,
  iterateBitmapRows,
  openBitmapFile,
  readBitmapHeader,
} from './openBitmapFile';
export { type DrawingOf, readDrawingFile } from './readDrawingFile';
