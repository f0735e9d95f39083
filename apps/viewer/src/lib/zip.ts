import { crc32 } from '@pixelcnn/pixelcnn-dist/internals';

/** A file to put in a zip archive: a '/'-separated path and its bytes (or text, as UTF-8). */
export interface ZipEntry {
  path: string;
  data: Uint8Array | string;
}

/** DOS date and time of `d` (the zip format's timestamps, 2-second resolution, local time). */
function dosDateTime(d: Date): { date: number; time: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
  };
}

/**
 * A zip archive of `entries`, stored without compression (weights hardly compress, and any
 * unzip reads it): local headers and data, then the central directory. Paths are UTF-8 (flag
 * bit 11); every file must be under 4 GiB and the archive too (no zip64).
 */
export function zipStore(entries: readonly ZipEntry[], date = new Date()): Uint8Array {
  const fn = 'zipStore';
  const enc = new TextEncoder();
  const { date: dosDate, time: dosTime } = dosDateTime(date);
  const files = entries.map((e) => {
    if (!e.path || e.path.startsWith('/') || e.path.split('/').includes('..')) {
      throw new Error(`Error in ${fn}: '${e.path}' is not a relative path inside the archive`);
    }
    const data = typeof e.data === 'string' ? enc.encode(e.data) : e.data;
    return { name: enc.encode(e.path), data, crc: crc32(data) };
  });
  const localSize = files.reduce((a, f) => a + 30 + f.name.length + f.data.length, 0);
  const centralSize = files.reduce((a, f) => a + 46 + f.name.length, 0);
  const total = localSize + centralSize + 22;
  if (total > 0xffffffff) throw new Error(`Error in ${fn}: the archive would pass 4 GiB`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  const u16 = (v: number) => {
    view.setUint16(at, v, true);
    at += 2;
  };
  const u32 = (v: number) => {
    view.setUint32(at, v >>> 0, true);
    at += 4;
  };
  const offsets: number[] = [];
  for (const f of files) {
    offsets.push(at);
    u32(0x04034b50);
    u16(20); // version needed: 2.0
    u16(0x0800); // UTF-8 names
    u16(0); // stored
    u16(dosTime);
    u16(dosDate);
    u32(f.crc);
    u32(f.data.length);
    u32(f.data.length);
    u16(f.name.length);
    u16(0);
    out.set(f.name, at);
    at += f.name.length;
    out.set(f.data, at);
    at += f.data.length;
  }
  const central = at;
  files.forEach((f, i) => {
    u32(0x02014b50);
    u16(0x0314); // made by: Unix, 2.0
    u16(20);
    u16(0x0800);
    u16(0);
    u16(dosTime);
    u16(dosDate);
    u32(f.crc);
    u32(f.data.length);
    u32(f.data.length);
    u16(f.name.length);
    u16(0); // extra
    u16(0); // comment
    u16(0); // disk
    u16(0); // internal attributes
    u32((0o100644 << 16) >>> 0); // external: a regular file, rw-r--r--
    u32(offsets[i]);
    out.set(f.name, at);
    at += f.name.length;
  });
  const centralBytes = at - central;
  u32(0x06054b50);
  u16(0);
  u16(0);
  u16(files.length);
  u16(files.length);
  u32(centralBytes);
  u32(central);
  u16(0);
  return out;
}
