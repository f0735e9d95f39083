export {
  BinaryDrawingDecoder,
  binaryRecordLength,
  encodeBinaryDrawings,
  iterateBinaryDrawings,
  parseBinaryDrawings,
} from './binaryDrawings';
export {
  CATEGORIES_ORDER,
  classLabel,
  className,
  classNames,
  closestClassNames,
  convertLabel,
  editDistance,
  isClassName,
  type LabelOrder,
  NUM_CLASSES,
  resolveClassName,
  TFDS_ORDER,
} from './classNames';
export { type FetchBitmapsOptions, fetchBitmaps } from './fetchBitmaps';
export {
  MAX_NDJSON_LINE,
  type NdjsonFormat,
  ndjsonLines,
  parseDrawing,
  parseDrawingStream,
  parseNdjson,
} from './ndjson';
export {
  BITMAP_BYTES,
  BITMAP_SIDE,
  type BitmapNpyHeader,
  checkBitmapHeader,
  encodeBitmapNpy,
  encodeNpyHeader,
  NPY_MAGIC,
  type NpyHeader,
  npyHeaderLength,
  parseBitmapNpy,
  parseNpyHeader,
} from './npy';
export {
  type Batch,
  type BatchOptions,
  type BitmapSource,
  type DatasetOptions,
  type LabelMode,
  memorySource,
  QuickDrawDataset,
  type RawBatch,
  rowSplit,
  type Split,
  seededPermutation,
  seededRandom,
  toBatch,
} from './quickDrawDataset';
export { type RenderOptions, renderDrawings, renderStrokes } from './renderStrokes';
export type {
  BinaryDrawing,
  RawDrawing,
  RawStroke,
  SimplifiedDrawing,
  Stroke,
} from './types';
export {
  classFilePath,
  classFileUrl,
  formatExtension,
  QUICKDRAW_BUCKET_URL,
  type QuickDrawFormat,
} from './urls';
