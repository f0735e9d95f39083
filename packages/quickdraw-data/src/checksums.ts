import { isClassName, resolveClassName } from './classNames';
import { OFFICIAL_NUMPY_BITMAP_CHECKSUMS_TSV } from './generated/numpyBitmapChecksums';

/** Size and sha256 of one complete file. */
export interface ChecksumEntry {
  size: number;
  /** Lower-case hex. */
  sha256: string;
}

/** Class name (canonical spelling) -> checksum of its complete numpy_bitmap file. */
export type ChecksumTable = Readonly<Record<string, ChecksumEntry>>;

/**
 * Parse a checksum table: lines of `URL-or-name size sha256` (TensorFlow Datasets' format, e.g.
 * `https://.../full/numpy_bitmap/cat.npy 116100448 ab12...`; the URL may contain spaces) or
 * `name<TAB>size<TAB>sha256`. Blank lines and `#` comments are skipped.
 */
export function parseChecksumTable(text: string): ChecksumTable {
  const fn = 'parseChecksumTable';
  const table: Record<string, ChecksumEntry> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) return;
    const m = /^(.+?)\s+(\d+)\s+([0-9a-fA-F]{64})$/.exec(line);
    if (!m) throw new Error(`Error in ${fn}: line ${i + 1} is not 'name size sha256': ${line}`);
    let name = m[1];
    const slash = name.lastIndexOf('/');
    if (slash >= 0) name = decodeURIComponent(name.slice(slash + 1));
    name = name.replace(/\.npy$/i, '');
    const canonical = isClassName(name) ? resolveClassName(name) : name;
    table[canonical] = { size: Number(m[2]), sha256: m[3].toLowerCase() };
  });
  return table;
}

let official: ChecksumTable | undefined;

/**
 * Size and sha256 of the 345 official `full/numpy_bitmap/<name>.npy` files (TensorFlow Datasets'
 * table, shipped with the package).
 */
export function officialChecksums(): ChecksumTable {
  official ??= Object.freeze(parseChecksumTable(OFFICIAL_NUMPY_BITMAP_CHECKSUMS_TSV));
  return official;
}
