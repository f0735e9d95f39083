/** Bytes per QuickDraw bitmap: 28 x 28 uint8. */
export const BITMAP_SIDE = 28;
export const BITMAP_BYTES = BITMAP_SIDE * BITMAP_SIDE;

/** The 6 magic bytes every .npy file starts with: `\x93NUMPY`. */
export const NPY_MAGIC: Uint8Array = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59);

/** What the header of a .npy file says. */
export interface NpyHeader {
  /** Format version [major, minor]: 1.0 (u16 header length), 2.0 or 3.0 (u32). */
  version: [number, number];
  /** numpy dtype string, e.g. '|u1'. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data (= total header length: 128 in the shared files, 80 officially). */
  dataOffset: number;
}

/** A checked QuickDraw bitmap .npy header: uint8, C order, shape [rows, 784]. */
export interface BitmapNpyHeader extends NpyHeader {
  rows: number;
}

function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  return Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Explain why bytes that should be a .npy file are not one (HTML error page, gzip, JSON, ...).
 */
function notNpy(fn: string, bytes: Uint8Array, source: string): Error {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 512)).trimStart().toLowerCase();
  let what: string;
  if (text.startsWith('<!doctype html') || text.startsWith('<html') || text.startsWith('<?xml')) {
    what =
      'it is an HTML/XML page (an error or login page saved under a .npy name?); download it again';
  } else if (text.startsWith('<')) {
    what = 'it looks like markup (HTML/XML), not binary data';
  } else if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    what = 'it is gzip-compressed; decompress it first';
  } else if (text.startsWith('{') || text.startsWith('[')) {
    what = 'it looks like JSON text (an ndjson drawing file or an API error?)';
  } else if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    what = 'it is a zip archive (.npz?), not a single .npy array';
  } else {
    what = `the first bytes are ${describeStart(bytes)}`;
  }
  return new Error(`Error in ${fn}: ${source} is not a .npy file (no \\x93NUMPY magic): ${what}`);
}

/**
 * Total header length (= data offset) from the first 12 bytes of a .npy file, or `null` when fewer
 * bytes are given than needed to tell. Throws when the bytes are not a .npy file.
 */
export function npyHeaderLength(bytes: Uint8Array, source = 'the data'): number | null {
  return headerLengthIn('npyHeaderLength', bytes, source);
}

function headerLengthIn(fn: string, bytes: Uint8Array, source: string): number | null {
  const n = Math.min(bytes.length, NPY_MAGIC.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== NPY_MAGIC[i]) throw notNpy(fn, bytes, source);
  if (bytes.length < 10) return null;
  const major = bytes[6];
  if (major === 1) return 10 + (bytes[8] | (bytes[9] << 8));
  if (major === 2 || major === 3) {
    if (bytes.length < 12) return null;
    return 12 + (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
  }
  throw new Error(
    `Error in ${fn}: ${source} has unsupported .npy format version ${major}.${bytes[7]}`,
  );
}

/**
 * Parse a .npy header (versions 1.0, 2.0, 3.0) from the start of a file. `bytes` must hold the
 * whole header (see {@link npyHeaderLength}); the data after it is not looked at.
 */
export function parseNpyHeader(bytes: Uint8Array, source = 'the data'): NpyHeader {
  const fn = 'parseNpyHeader';
  if (bytes.length < 10) {
    if (bytes.length === 0) throw new Error(`Error in ${fn}: ${source} is empty`);
    headerLengthIn(fn, bytes, source); // throws for a wrong magic
    throw new Error(
      `Error in ${fn}: ${source} is truncated: ${bytes.length} bytes, shorter than a .npy preamble`,
    );
  }
  const dataOffset = headerLengthIn(fn, bytes, source);
  if (dataOffset === null || bytes.length < dataOffset) {
    throw new Error(
      `Error in ${fn}: ${source} is truncated inside the .npy header (${bytes.length} of ${dataOffset ?? 12} bytes)`,
    );
  }
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, dataOffset),
  );
  const dict = text.trim();
  const bad = (what: string) =>
    new Error(`Error in ${fn}: ${source} has a malformed .npy header (${what}): ${dict}`);
  if (!dict.startsWith('{') || !dict.endsWith('}')) throw bad('not a dict');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(dict);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(dict);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(dict);
  if (!descr) throw bad("no 'descr'");
  if (!fortran) throw bad("no 'fortran_order'");
  if (!shape) throw bad("no 'shape'");
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (!dims.every((d) => /^\d+L?$/.test(d))) throw bad(`shape (${shape[1]})`);
  return {
    version: [major, bytes[7]],
    descr: descr[1],
    fortranOrder: fortran[1] === 'True',
    shape: dims.map((d) => Number.parseInt(d, 10)),
    dataOffset,
  };
}

/**
 * Check that a header describes QuickDraw bitmaps: dtype uint8 (`|u1`), C order, shape
 * (N, 784). When `fileSize` is given, also that the data is complete: exactly
 * `dataOffset + N * 784` bytes (truncated downloads and trailing garbage are errors).
 */
export function checkBitmapHeader(
  header: NpyHeader,
  options: { fileSize?: number; source?: string } = {},
): BitmapNpyHeader {
  const fn = 'checkBitmapHeader';
  const source = options.source ?? 'the data';
  if (!/^[|<>=]?u1$/.test(header.descr)) {
    throw new Error(
      `Error in ${fn}: ${source} has dtype '${header.descr}', expected uint8 ('|u1') QuickDraw bitmaps`,
    );
  }
  if (header.fortranOrder) {
    throw new Error(`Error in ${fn}: ${source} is in Fortran order; expected C order (row-major)`);
  }
  if (header.shape.length !== 2 || header.shape[1] !== BITMAP_BYTES) {
    throw new Error(
      `Error in ${fn}: ${source} has shape (${header.shape.join(', ')}), expected (N, ${BITMAP_BYTES}) 28x28 bitmaps`,
    );
  }
  const rows = header.shape[0];
  if (options.fileSize !== undefined) {
    const expected = header.dataOffset + rows * BITMAP_BYTES;
    const have = options.fileSize - header.dataOffset;
    if (options.fileSize < expected) {
      throw new Error(
        `Error in ${fn}: ${source} is truncated: the header says ${rows} rows (${rows * BITMAP_BYTES} data bytes) but ${Math.max(0, have)} bytes follow the header (${Math.floor(Math.max(0, have) / BITMAP_BYTES)} complete rows)`,
      );
    }
    if (options.fileSize > expected) {
      throw new Error(
        `Error in ${fn}: ${source} has ${options.fileSize - expected} unexpected bytes after its ${rows} rows (corrupt or mislabelled file)`,
      );
    }
  }
  return { ...header, rows };
}

/**
 * Parse a whole QuickDraw bitmap .npy file held in memory (any header length).
 *
 * @returns `images`: a view (no copy) of the `rows * 784` uint8 pixels, `[rows, 28, 28]`
 *   row-major, 0 = background, 255 = ink.
 */
export function parseBitmapNpy(
  bytes: Uint8Array,
  source = 'the data',
): { header: BitmapNpyHeader; rows: number; images: Uint8Array } {
  const header = checkBitmapHeader(parseNpyHeader(bytes, source), {
    fileSize: bytes.length,
    source,
  });
  return {
    header,
    rows: header.rows,
    images: bytes.subarray(header.dataOffset, header.dataOffset + header.rows * BITMAP_BYTES),
  };
}

/**
 * A .npy v1.0 header for a uint8 C-order array of `shape`. Padded with spaces to a multiple of
 * `alignment` bytes (numpy uses 64; older numpy used 16, which gives the official 80-byte header
 * for QuickDraw), or to exactly `length` bytes when given (to rewrite a header in place).
 */
export function encodeNpyHeader(
  shape: readonly number[],
  options: { alignment?: number; length?: number } = {},
): Uint8Array {
  const fn = 'encodeNpyHeader';
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`Error in ${fn}: shape must hold integers >= 0, got [${shape.join(', ')}]`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${dims}), }`;
  const minimum = 10 + dict.length + 1;
  let total: number;
  if (options.length !== undefined) {
    total = options.length;
    if (!Number.isInteger(total) || total < minimum || total - 10 > 0xffff) {
      throw new Error(
        `Error in ${fn}: a header for shape (${shape.join(', ')}) needs ${minimum}..65545 bytes, asked for ${total}`,
      );
    }
  } else {
    const alignment = options.alignment ?? 64;
    if (!Number.isInteger(alignment) || alignment < 1) {
      throw new Error(`Error in ${fn}: alignment must be a positive integer, got ${alignment}`);
    }
    total = Math.ceil(minimum / alignment) * alignment;
  }
  const out = new Uint8Array(total);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = (total - 10) & 0xff;
  out[9] = (total - 10) >> 8;
  out.fill(0x20, 10, total - 1);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  out[total - 1] = 0x0a;
  return out;
}

/**
 * Encode QuickDraw bitmaps `[N * 784]` (uint8) as a .npy file of shape (N, 784), as numpy would
 * save them (`np.save`).
 */
export function encodeBitmapNpy(
  images: Uint8Array,
  options: { alignment?: number } = {},
): Uint8Array {
  if (!(images instanceof Uint8Array) || images.length % BITMAP_BYTES !== 0) {
    throw new Error(
      `Error in encodeBitmapNpy: expected a Uint8Array of N * ${BITMAP_BYTES} pixels, got length ${images?.length}`,
    );
  }
  const header = encodeNpyHeader([images.length / BITMAP_BYTES, BITMAP_BYTES], options);
  const out = new Uint8Array(header.length + images.length);
  out.set(header, 0);
  out.set(images, header.length);
  return out;
}
