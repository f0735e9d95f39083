import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toBinary } from '../test/helpers';
import { type QuickdrawServer, startQuickdrawServer } from '../test/quickdrawServer';
import { encodeBinaryDrawings } from './binaryDrawings';
import { type ChecksumTable, officialChecksums } from './checksums';
import {
  BASE_URL_ENV,
  CACHE_DIR_ENV,
  type DownloadOptions,
  type DownloadProgress,
  defaultCacheDir,
  downloadClass,
  downloadClasses,
  resolveBaseUrl,
} from './downloadClass';
import { fetchBitmaps } from './fetchBitmaps';
import { parseNdjson } from './ndjson';
import { BITMAP_BYTES, encodeBitmapNpy } from './npy';
import { openBitmapFile } from './openBitmapFile';

const root = quickdrawDir();
const sharedFile = (format: string, name: string, ext = 'npy') =>
  path.join(root, 'full', format, `${name}.${ext}`);
const sha256 = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex');

/** A test-only checksum table for the shared (shortened) files. */
const tableFor = (...names: string[]): ChecksumTable =>
  Object.fromEntries(
    names.map((n) => {
      const bytes = fs.readFileSync(sharedFile('numpy_bitmap', n));
      return [n, { size: bytes.length, sha256: sha256(bytes) }];
    }),
  );

let server: QuickdrawServer;
let cacheDir: string;
let events: DownloadProgress[];
const opts = (more: DownloadOptions = {}): DownloadOptions => ({
  baseUrl: server.url,
  cacheDir,
  retryDelayMs: 1,
  onProgress: (p) => events.push(p),
  ...more,
});
const rangeStarts = () =>
  server.requests.map((r) => (r.range ? Number(/^bytes=(\d+)-/.exec(r.range)?.[1]) : null));
const bytesSent = () => server.requests.reduce((n, r) => n + r.sent, 0);

beforeAll(async () => {
  server = await startQuickdrawServer(root);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-cache-'));
  events = [];
  server.reset();
});
afterEach(() => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

describe('downloadClass over HTTP', () => {
  it('downloads a whole file, checks its sha256, caches it with a sidecar and reuses it', async () => {
    const got = await downloadClass('cat', opts({ checksums: tableFor('cat') }));
    const expected = fs.readFileSync(sharedFile('numpy_bitmap', 'cat'));
    expect(got).toMatchObject({
      className: 'cat',
      format: 'numpy_bitmap',
      complete: true,
      drawings: 4000,
      bytes: expected.length,
      sha256: sha256(expected),
      fromCache: false,
      url: `${server.url}full/numpy_bitmap/cat.npy`,
    });
    expect(got.path).toBe(path.join(cacheDir, 'numpy_bitmap', 'cat.npy'));
    expect(fs.readFileSync(got.path).equals(expected)).toBe(true);
    expect(JSON.parse(fs.readFileSync(`${got.path}.json`, 'utf8'))).toMatchObject({
      sha256: sha256(expected),
      checkedAgainstTable: true,
    });
    const downloads = events.filter((e) => e.phase === 'download');
    expect(downloads.at(-1)).toMatchObject({
      receivedBytes: expected.length,
      totalBytes: expected.length,
    });
    expect(events.map((e) => e.phase)).toContain('done');
    expect(rangeStarts()).toEqual([null]);

    events = [];
    const again = await downloadClass('CAT', opts({ checksums: tableFor('cat') }));
    expect(again).toMatchObject({ path: got.path, fromCache: true, drawings: 4000 });
    expect(events.map((e) => e.phase)).toEqual(['cached']);
    expect(server.requests).toHaveLength(1);
  });

  it('fetches only the first N drawings with Range requests and writes a valid .npy', async () => {
    const n = 37;
    const got = await downloadClass('alarm clock', opts({ maxDrawings: n }));
    expect(got).toMatchObject({ complete: false, drawings: n, fromCache: false });
    expect(got.path).toBe(path.join(cacheDir, 'numpy_bitmap', `alarm clock.first${n}.npy`));
    expect(server.requests[0].path).toBe('full/numpy_bitmap/alarm clock.npy');
    // Every request was a Range request; exactly header + N rows crossed the wire.
    expect(server.requests.every((r) => r.range && r.status === 206)).toBe(true);
    expect(bytesSent()).toBe(128 + n * BITMAP_BYTES);
    const f = await openBitmapFile(got.path);
    expect(f.rows).toBe(n);
    expect(f.header.dataOffset).toBe(128);
    const shared = fs.readFileSync(sharedFile('numpy_bitmap', 'alarm clock'));
    expect(
      Buffer.from(await f.read(0, n)).equals(shared.subarray(128, 128 + n * BITMAP_BYTES)),
    ).toBe(true);
    await f.close();

    // A smaller request is served by the cached prefix; a larger one downloads again.
    expect((await downloadClass('alarm clock', opts({ maxDrawings: 20 }))).fromCache).toBe(true);
    const more = await downloadClass('alarm clock', opts({ maxDrawings: 50 }));
    expect(more).toMatchObject({ fromCache: false, drawings: 50 });
  });

  it('treats a prefix covering the whole file as the whole file (and checks its sha256)', async () => {
    const got = await downloadClass(
      'train',
      opts({ maxDrawings: 5000, checksums: tableFor('train') }),
    );
    expect(got).toMatchObject({ complete: true, drawings: 1000 });
    expect(path.basename(got.path)).toBe('train.npy');
  });

  it('resumes an interrupted whole-file transfer with a Range request', async () => {
    server.fault = (_p, n) => (n === 0 ? { kind: 'drop', afterBytes: 1_000_000 } : undefined);
    const got = await downloadClass('bird', opts({ checksums: tableFor('bird') }));
    const expected = fs.readFileSync(sharedFile('numpy_bitmap', 'bird'));
    expect(fs.readFileSync(got.path).equals(expected)).toBe(true);
    const starts = rangeStarts();
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBeNull();
    expect(starts[1]).toBeGreaterThan(0);
    expect(starts[1]).toBeLessThanOrEqual(1_000_000);
    const retry = events.find((e) => e.phase === 'retry');
    expect(retry?.message).toMatch(/broke after|closed the connection/);
    expect(fs.existsSync(`${got.path}.part`)).toBe(false);
  });

  it('resumes an interrupted prefix transfer', async () => {
    server.fault = (_p, n) => (n === 0 ? { kind: 'drop', afterBytes: 5000 } : undefined);
    const got = await downloadClass('banana', opts({ maxDrawings: 30 }));
    const f = await openBitmapFile(got.path);
    const shared = fs.readFileSync(sharedFile('numpy_bitmap', 'banana'));
    expect(
      Buffer.from(await f.read(0, 30)).equals(shared.subarray(128, 128 + 30 * BITMAP_BYTES)),
    ).toBe(true);
    await f.close();
    expect(rangeStarts()[1]).toBeGreaterThan(0);
  });

  it('works when the server ignores Range headers', async () => {
    server.fault = () => ({ kind: 'ignore-range' });
    const got = await downloadClass('apple', opts({ maxDrawings: 5 }));
    const f = await openBitmapFile(got.path);
    expect(f.rows).toBe(5);
    await f.close();
  });

  it('retries failures with backoff and gives up with a clear final error', async () => {
    server.fault = (_p, n) => (n < 2 ? { kind: 'status', status: 503 } : undefined);
    const ok = await downloadClass('eye', opts({ maxDrawings: 3 }));
    expect(ok.drawings).toBe(3);
    expect(events.filter((e) => e.phase === 'retry').map((e) => e.attempt)).toEqual([1, 2]);

    server.requests.length = 0;
    server.fault = () => ({ kind: 'status', status: 500 });
    await expect(downloadClass('fish', opts({ maxDrawings: 3, retries: 2 }))).rejects.toThrow(
      `Error in downloadClass: gave up on ${server.url}full/numpy_bitmap/fish.npy after 3 attempts (3 in a row without progress); last error: ${server.url}full/numpy_bitmap/fish.npy answered HTTP 500`,
    );
    expect(server.requests).toHaveLength(3);
  });

  it('times out a stalled connection and retries', async () => {
    server.fault = (_p, n) => (n === 0 ? { kind: 'stall' } : undefined);
    const got = await downloadClass('diamond', opts({ maxDrawings: 2, timeoutMs: 150 }));
    expect(got.drawings).toBe(2);
    expect(events.find((e) => e.phase === 'retry')?.message).toContain('no data from');
  });

  it('rejects a checksum mismatch and deletes the download', async () => {
    const table = tableFor('dog');
    const bad = { dog: { ...table.dog, sha256: '0'.repeat(64) } };
    await expect(downloadClass('dog', opts({ checksums: bad }))).rejects.toThrow(
      `Error in downloadClass: checksum mismatch for ${server.url}full/numpy_bitmap/dog.npy: got ${table.dog.size} bytes with sha256 ${table.dog.sha256}, expected ${table.dog.size} bytes with sha256 ${'0'.repeat(64)} (the download was deleted)`,
    );
    expect(fs.readdirSync(path.join(cacheDir, 'numpy_bitmap'))).toEqual([]);
  });

  it('refuses a whole file whose size differs from the official table (the default)', async () => {
    await expect(downloadClass('cat', opts())).rejects.toThrow(
      `Error in downloadClass: ${server.url}full/numpy_bitmap/cat.npy has 3136128 bytes but the checksum table says ${officialChecksums().cat.size}: not the official file (pass checksums: false to accept other files)`,
    );
    expect(fs.readdirSync(path.join(cacheDir, 'numpy_bitmap'))).toEqual([]);
    await expect(downloadClass('cat', opts({ checksums: tableFor('dog') }))).rejects.toThrow(
      "Error in downloadClass: the checksum table has no entry for 'cat'; pass checksums: false to skip verification",
    );
    const unchecked = await downloadClass('cat', opts({ checksums: false }));
    expect(unchecked.complete).toBe(true);
  });

  it('rejects HTML pages, missing files and non-.npy data without retrying', async () => {
    server.fault = () => ({ kind: 'html' });
    await expect(downloadClass('house', opts({ maxDrawings: 2 }))).rejects.toThrow(
      'sent an HTML page (Content-Type text/html) instead of the data',
    );
    expect(server.requests).toHaveLength(1);

    server.fault = undefined;
    server.requests.length = 0;
    server.extra.set(
      'full/numpy_bitmap/flower.npy',
      new TextEncoder().encode('<!DOCTYPE html><html>quota exceeded</html>'),
    );
    await expect(downloadClass('flower', opts({ checksums: false }))).rejects.toThrow(
      'is not a .npy file (no \\x93NUMPY magic): it is an HTML/XML page',
    );
    await expect(downloadClass('flower', opts({ maxDrawings: 4 }))).rejects.toThrow(
      'it is an HTML/XML page',
    );
    expect(server.requests).toHaveLength(2);
    expect(fs.readdirSync(path.join(cacheDir, 'numpy_bitmap'))).toEqual([]);

    await expect(downloadClass('zigzag', opts({ format: 'simplified' }))).rejects.toThrow(
      `Error in downloadClass: ${server.url}full/simplified/zigzag.ndjson was not found (HTTP 404)`,
    );
  });
});

describe('downloadClass protocol edge cases', () => {
  const npyDir = () => path.join(cacheDir, 'numpy_bitmap');

  it('follows redirects, and stops a redirect loop', async () => {
    server.fault = (p, n) =>
      p === 'full/numpy_bitmap/cat.npy' && n === 0
        ? { kind: 'redirect', to: 'elsewhere/cat.npy' }
        : undefined;
    server.extra.set('elsewhere/cat.npy', fs.readFileSync(sharedFile('numpy_bitmap', 'cat')));
    expect((await downloadClass('cat', opts({ maxDrawings: 2 }))).drawings).toBe(2);

    server.fault = (p) => ({ kind: 'redirect', to: p });
    await expect(downloadClass('dog', opts({ maxDrawings: 2 }))).rejects.toThrow(
      `Error in downloadClass: too many redirects at ${server.url}full/numpy_bitmap/dog.npy`,
    );
  });

  it('fails at once on client errors other than 404', async () => {
    server.fault = () => ({ kind: 'status', status: 403 });
    await expect(downloadClass('cat', opts({ maxDrawings: 2 }))).rejects.toThrow(
      `Error in downloadClass: ${server.url}full/numpy_bitmap/cat.npy answered HTTP 403`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('restarts when a resumed response starts elsewhere or lacks Content-Range', async () => {
    server.fault = (_p, n) =>
      n === 0 ? { kind: 'drop', afterBytes: 5000 } : n === 1 ? { kind: 'wrong-start' } : undefined;
    const a = await downloadClass('cat', opts({ maxDrawings: 20 }));
    expect(a.drawings).toBe(20);
    const messages = events.filter((e) => e.phase === 'retry').map((e) => e.message);
    expect(messages[1]).toMatch(/sent bytes from 0, asked for \d+; restarting/);

    server.fault = (_p, n) => (n === 0 ? { kind: 'no-content-range' } : undefined);
    server.requests.length = 0;
    events = [];
    expect((await downloadClass('dog', opts({ maxDrawings: 3 }))).drawings).toBe(3);
    expect(events.find((e) => e.phase === 'retry')?.message).toContain(
      'answered 206 without a valid Content-Range',
    );
  });

  it('assembles a file from a server that sends short ranges', async () => {
    // The first (plain) request breaks early; the resumed Range requests get 400 kB each.
    server.fault = (_p, n) =>
      n === 0 ? { kind: 'drop', afterBytes: 1000 } : { kind: 'max-bytes', bytes: 400_000 };
    const got = await downloadClass('cat', opts({ checksums: tableFor('cat') }));
    expect(got.complete).toBe(true);
    expect(server.requests.length).toBe(1 + Math.ceil((3136128 - 1000) / 400_000));
  });

  it('restarts from scratch when the partial file is corrupt or longer than the file', async () => {
    fs.mkdirSync(npyDir(), { recursive: true });
    fs.writeFileSync(path.join(npyDir(), 'cat.first5.npy.part'), '<html>oops</html>');
    const got = await downloadClass('cat', opts({ maxDrawings: 5 }));
    expect(got.drawings).toBe(5);
    expect(events.find((e) => e.phase === 'retry')?.message).toContain(
      'was corrupt and is deleted',
    );

    events = [];
    fs.writeFileSync(path.join(npyDir(), 'train.npy.part'), new Uint8Array(900_000));
    const whole = await downloadClass('train', opts({ checksums: tableFor('train') }));
    expect(whole.complete).toBe(true);
    expect(events.find((e) => e.phase === 'retry')?.message).toContain(
      'refused the range from byte 900000; restarting',
    );
  });

  it('rejects served files that are truncated or are not QuickDraw bitmaps', async () => {
    const cat = fs.readFileSync(sharedFile('numpy_bitmap', 'cat'));
    const cut = cat.subarray(0, 128 + 3 * BITMAP_BYTES + 10);
    server.extra.set('full/numpy_bitmap/cat.npy', cut);
    await expect(downloadClass('cat', opts({ maxDrawings: 5 }))).rejects.toThrow(
      `ended after ${cut.length} bytes, but its header promises ${128 + 5 * BITMAP_BYTES}: truncated file`,
    );
    await expect(downloadClass('cat', opts({ checksums: false }))).rejects.toThrow(
      'is not a valid numpy_bitmap file (the download was deleted): Error in readBitmapHeader:',
    );
    server.extra.set('full/numpy_bitmap/cat.npy', cat.subarray(0, 10));
    await expect(downloadClass('cat', opts({ maxDrawings: 5 }))).rejects.toThrow(
      'ended after 10 bytes, inside the .npy header',
    );

    const header = (dict: string) => {
      const body = `${dict.padEnd(117, ' ')}\n`;
      const h = new Uint8Array(128);
      h.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
      h.set(new TextEncoder().encode(body), 10);
      return h;
    };
    const cube = new Uint8Array(128 + 3 * BITMAP_BYTES);
    cube.set(header("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 28, 28), }"));
    server.extra.set('full/numpy_bitmap/dog.npy', cube);
    await expect(downloadClass('dog', opts({ maxDrawings: 2 }))).rejects.toThrow(
      'the download has shape (3, 28, 28), expected (N, 784)',
    );
    const floats = new Uint8Array(128 + 4 * BITMAP_BYTES);
    floats.set(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 784), }"));
    server.extra.set('full/numpy_bitmap/eye.npy', floats);
    await expect(downloadClass('eye', opts({ checksums: false }))).rejects.toThrow(
      "has dtype '<f4', expected uint8 ('|u1')",
    );
    expect(fs.readdirSync(npyDir())).toEqual([]);
  });
});

describe('downloadClass cache checks', () => {
  it('never uses a corrupt cache entry: deletes it and downloads again', async () => {
    const first = await downloadClass('lollipop', opts({ maxDrawings: 10 }));
    const good = fs.readFileSync(first.path);

    fs.truncateSync(first.path, good.length - 100);
    events = [];
    const again = await downloadClass('lollipop', opts({ maxDrawings: 10 }));
    expect(again.fromCache).toBe(false);
    expect(events[0]).toMatchObject({ phase: 'cache-invalid' });
    expect(events[0].message).toContain(
      `its size is ${good.length - 100} bytes, the metadata says ${good.length}`,
    );
    expect(fs.readFileSync(again.path).equals(good)).toBe(true);

    // Same size, one byte flipped: caught by re-hashing.
    const flipped = Buffer.from(good);
    flipped[500] ^= 0xff;
    fs.writeFileSync(again.path, flipped);
    events = [];
    const third = await downloadClass('lollipop', opts({ maxDrawings: 10, verifyCache: 'sha256' }));
    expect(third.fromCache).toBe(false);
    expect(events.find((e) => e.phase === 'cache-invalid')?.message).toContain('its sha256 is');
    expect(fs.readFileSync(third.path).equals(good)).toBe(true);

    fs.rmSync(`${third.path}.json`);
    events = [];
    expect((await downloadClass('lollipop', opts({ maxDrawings: 10 }))).fromCache).toBe(false);
    expect(events[0].message).toContain('its metadata file is missing or unreadable');

    // A header that no longer matches the file.
    const broken = Buffer.from(good);
    broken.write('<', 0);
    fs.writeFileSync(third.path, broken);
    events = [];
    expect((await downloadClass('lollipop', opts({ maxDrawings: 10 }))).fromCache).toBe(false);
    expect(events[0].message).toContain('is not a .npy file');
  });

  it('rechecks whole cached files against the checksum table', async () => {
    const table = tableFor('rainbow');
    await downloadClass('rainbow', opts({ checksums: table }));
    events = [];
    const other = { rainbow: { ...table.rainbow, sha256: 'f'.repeat(64) } };
    await expect(downloadClass('rainbow', opts({ checksums: other }))).rejects.toThrow(
      'checksum mismatch',
    );
    expect(events[0]).toMatchObject({
      phase: 'cache-invalid',
      message: expect.stringContaining('does not match the checksum table'),
    });
  });

  it('re-downloads with force', async () => {
    await downloadClass('bowtie', opts({ maxDrawings: 2 }));
    expect((await downloadClass('bowtie', opts({ maxDrawings: 2, force: true }))).fromCache).toBe(
      false,
    );
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
  });
});

describe('downloadClass stroke formats', () => {
  it('fetches the first N lines of an ndjson file, or the whole file', async () => {
    const text = fs.readFileSync(sharedFile('simplified', 'cat', 'ndjson'), 'utf8');
    const lines = text.split('\n');
    const got = await downloadClass('cat', opts({ format: 'simplified', maxDrawings: 3 }));
    expect(got).toMatchObject({ complete: false, drawings: 3 });
    expect(fs.readFileSync(got.path, 'utf8')).toBe(`${lines.slice(0, 3).join('\n')}\n`);
    const all = await downloadClass('cat', opts({ format: 'simplified', maxDrawings: 1000 }));
    expect(all).toMatchObject({ complete: true, drawings: 25 });
    expect(fs.readFileSync(all.path, 'utf8')).toBe(text);
    const raw = await downloadClass('cat', opts({ format: 'raw' }));
    expect(
      fs.readFileSync(raw.path).equals(fs.readFileSync(sharedFile('raw', 'cat', 'ndjson'))),
    ).toBe(true);
  });

  it('fetches the first N records of a .bin file, or the whole file', async () => {
    const drawings = parseNdjson(
      fs.readFileSync(sharedFile('simplified', 'sun', 'ndjson'), 'utf8'),
      'simplified',
    ).map(toBinary);
    const bin = encodeBinaryDrawings(drawings);
    server.extra.set('full/binary/sun.bin', bin);
    const got = await downloadClass('sun', opts({ format: 'binary', maxDrawings: 4 }));
    expect(fs.readFileSync(got.path).equals(encodeBinaryDrawings(drawings.slice(0, 4)))).toBe(true);
    const whole = await downloadClass('sun', opts({ format: 'binary' }));
    expect(fs.readFileSync(whole.path).equals(bin)).toBe(true);
    // A truncated .bin ends inside a record.
    server.extra.set('full/binary/sun.bin', bin.subarray(0, bin.length - 2));
    await expect(
      downloadClass('sun', opts({ format: 'binary', maxDrawings: 100, force: true })),
    ).rejects.toThrow('ends inside a .bin record (truncated file)');
  });
});

describe('downloadClass from a local mirror directory', () => {
  it('copies from a directory or file: URL with the same checks', async () => {
    const got = await downloadClass('fish', opts({ baseUrl: root, maxDrawings: 12 }));
    expect(got).toMatchObject({ drawings: 12, url: sharedFile('numpy_bitmap', 'fish') });
    const whole = await downloadClass(
      'fish',
      opts({ baseUrl: pathToFileURL(root).toString(), checksums: false }),
    );
    expect(
      fs.readFileSync(whole.path).equals(fs.readFileSync(sharedFile('numpy_bitmap', 'fish'))),
    ).toBe(true);
    await expect(downloadClass('zebra', opts({ baseUrl: root }))).rejects.toThrow(
      `Error in downloadClass: ${sharedFile('numpy_bitmap', 'zebra')} does not exist in the local mirror`,
    );
  });

  // Found by readers.fuzz.test.ts: each failed before its fix.
  describe('faults found by the reader fuzz', () => {
    let mirror: string;
    const put = (format: string, file: string, bytes: Uint8Array) => {
      const at = path.join(mirror, 'full', format, file);
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.writeFileSync(at, bytes);
      return at;
    };
    const left = (format: string) => fs.readdirSync(path.join(cacheDir, format));
    beforeEach(() => {
      mirror = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-mirror-'));
    });
    afterEach(() => fs.rmSync(mirror, { recursive: true, force: true }));

    it('copies an empty file (was: RangeError from createReadStream for the range 0..-1)', async () => {
      put('simplified', 'cat.ndjson', new Uint8Array(0));
      const whole = await downloadClass('cat', opts({ baseUrl: mirror, format: 'simplified' }));
      expect(whole).toMatchObject({ complete: true, bytes: 0 });
      const some = await downloadClass(
        'cat',
        opts({ baseUrl: mirror, format: 'simplified', maxDrawings: 2, force: true }),
      );
      expect(some).toMatchObject({ complete: true, bytes: 0 });
      const npy = put('numpy_bitmap', 'dog.npy', new Uint8Array(0));
      await expect(
        downloadClass('dog', opts({ baseUrl: mirror, checksums: false })),
      ).rejects.toThrow(
        `Error in downloadClass: ${npy} is not a valid numpy_bitmap file (the download was deleted): Error in parseNpyHeader: ${npy} is empty`,
      );
      expect(left('numpy_bitmap')).toEqual([]);
    });

    it('caches an empty file served over HTTP with a Range request (was: ENOENT on the .part)', async () => {
      server.extra.set('full/binary/cat.bin', new Uint8Array(0));
      const got = await downloadClass('cat', opts({ format: 'binary', maxDrawings: 1 }));
      expect(got).toMatchObject({ complete: true, drawings: 0, bytes: 0 });
      expect(server.requests.map((r) => r.status)).toEqual([416]);
      expect(left('binary').sort()).toEqual(['cat.bin', 'cat.bin.json']);
    });

    it('names the file when its content is not a .npy (was: only "the download")', async () => {
      const bad = put('numpy_bitmap', 'cat.npy', Uint8Array.from([0xff, 0xff, 1, 2, 3, 4, 5, 6]));
      await expect(
        downloadClass('cat', opts({ baseUrl: mirror, checksums: false })),
      ).rejects.toThrow(
        `Error in downloadClass: the download is not a .npy file (no \\x93NUMPY magic): the first bytes are ff ff 01 02 03 04 05 06 (from ${bad})`,
      );
      expect(left('numpy_bitmap')).toEqual([]);
    });

    it('refuses bytes after the rows when a prefix covers the whole file (was: cached as complete)', async () => {
      const npy = encodeBitmapNpy(new Uint8Array(2 * BITMAP_BYTES).fill(7));
      const file = put('numpy_bitmap', 'cat.npy', Uint8Array.from([...npy, 0]));
      await expect(
        downloadClass('cat', opts({ baseUrl: mirror, checksums: false, maxDrawings: 5 })),
      ).rejects.toThrow(
        `Error in downloadClass: ${file} has 1 unexpected bytes after the 2 rows its header promises (corrupt or mislabelled file)`,
      );
      expect(left('numpy_bitmap')).toEqual([]);
      // Without the extra byte the prefix request gets the whole file.
      put('numpy_bitmap', 'cat.npy', npy);
      const got = await downloadClass(
        'cat',
        opts({ baseUrl: mirror, checksums: false, maxDrawings: 5 }),
      );
      expect(got).toMatchObject({ complete: true, drawings: 2, bytes: npy.length });
    });

    it('fails a .bin prefix whose record claims more than the file holds, in linear time', async () => {
      // 32 MiB of 0xff: the first record declares 65535 strokes of 65535 points (~20 s before).
      const file = put('binary', 'cat.bin', new Uint8Array(32 << 20).fill(0xff));
      const t0 = performance.now();
      await expect(
        downloadClass('cat', opts({ baseUrl: mirror, format: 'binary', maxDrawings: 1 })),
      ).rejects.toThrow(
        `Error in downloadClass: ${file} ends inside a .bin record (truncated file)`,
      );
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(left('binary')).toEqual([]);
    });
  });
});

describe('base URL and options', () => {
  it('resolves http(s) URLs, file: URLs, paths and the env var', () => {
    expect(resolveBaseUrl('https://example.org/qd')).toEqual({
      kind: 'http',
      url: 'https://example.org/qd/',
    });
    expect(resolveBaseUrl('file:///data/qd')).toEqual({ kind: 'dir', dir: '/data/qd' });
    expect(resolveBaseUrl('mirror')).toEqual({ kind: 'dir', dir: path.resolve('mirror') });
    expect(() => resolveBaseUrl('ftp://example.org/')).toThrow(
      "Error in resolveBaseUrl: unsupported URL 'ftp://example.org/'; use http(s)://, file:// or a directory path",
    );
    expect(() => resolveBaseUrl(' ')).toThrow(
      'Error in resolveBaseUrl: baseUrl must be a non-empty string',
    );
    const saved = process.env[BASE_URL_ENV];
    try {
      delete process.env[BASE_URL_ENV];
      expect(resolveBaseUrl()).toEqual({
        kind: 'http',
        url: 'https://storage.googleapis.com/quickdraw_dataset/',
      });
      process.env[BASE_URL_ENV] = '/srv/quickdraw';
      expect(resolveBaseUrl()).toEqual({ kind: 'dir', dir: '/srv/quickdraw' });
    } finally {
      if (saved === undefined) delete process.env[BASE_URL_ENV];
      else process.env[BASE_URL_ENV] = saved;
    }
    expect(path.isAbsolute(defaultCacheDir())).toBe(true);
  });

  it('defaultCacheDir: QUICKDRAW_CACHE_DIR, else .quickdraw-cache, resolved against cwd', () => {
    const saved = process.env[CACHE_DIR_ENV];
    try {
      delete process.env[CACHE_DIR_ENV];
      expect(defaultCacheDir('/srv/run')).toBe('/srv/run/.quickdraw-cache');
      expect(defaultCacheDir()).toBe(path.join(process.cwd(), '.quickdraw-cache'));
      process.env[CACHE_DIR_ENV] = 'cache';
      expect(defaultCacheDir('/srv/run')).toBe('/srv/run/cache');
      process.env[CACHE_DIR_ENV] = '/var/qd';
      expect(defaultCacheDir('/srv/run')).toBe('/var/qd');
    } finally {
      if (saved === undefined) delete process.env[CACHE_DIR_ENV];
      else process.env[CACHE_DIR_ENV] = saved;
    }
  });

  it('uses QUICKDRAW_BASE_URL when no baseUrl is given', async () => {
    const saved = process.env[BASE_URL_ENV];
    process.env[BASE_URL_ENV] = server.url;
    try {
      const got = await downloadClass('book', { cacheDir, maxDrawings: 2 });
      expect(got.url).toBe(`${server.url}full/numpy_bitmap/book.npy`);
    } finally {
      if (saved === undefined) delete process.env[BASE_URL_ENV];
      else process.env[BASE_URL_ENV] = saved;
    }
  });

  it('rejects bad arguments with clear messages', async () => {
    await expect(downloadClass('ctt', opts())).rejects.toThrow(
      "Error in downloadClass: unknown QuickDraw class 'ctt'; did you mean 'cat'?",
    );
    await expect(downloadClass('cat', opts({ maxDrawings: 0 }))).rejects.toThrow(
      'Error in downloadClass: maxDrawings must be a positive integer, got 0',
    );
    await expect(downloadClass('cat', opts({ retries: -1 }))).rejects.toThrow(
      'Error in downloadClass: retries must be a number >= 0, got -1',
    );
    await expect(downloadClass('cat', opts({ verifyCache: 'md5' as never }))).rejects.toThrow(
      "Error in downloadClass: verifyCache must be 'size' or 'sha256', got 'md5'",
    );
    await expect(downloadClass('cat', opts({ format: 'png' as never }))).rejects.toThrow(
      'Error in formatExtension: format must be one of numpy_bitmap, simplified, raw, binary',
    );
    await expect(downloadClasses(['cat'], opts({ concurrency: 0 } as never))).rejects.toThrow(
      'Error in downloadClasses: concurrency must be a positive integer, got 0',
    );
  });

  it('names a cache directory it cannot create, at once (was: a hang under /proc)', async () => {
    const file = path.join(cacheDir, 'file');
    fs.writeFileSync(file, '');
    await expect(downloadClass('cat', opts({ cacheDir: file, maxDrawings: 1 }))).rejects.toThrow(
      `Error in downloadClass: cannot create the cache directory ${path.join(file, 'numpy_bitmap')} (ENOTDIR)`,
    );
    // Node's recursive mkdir never returns under /proc (issue 18.1); this must fail, not hang.
    if (fs.existsSync('/proc/self')) {
      const t0 = Date.now();
      await expect(
        downloadClass('cat', opts({ cacheDir: '/proc/nope', maxDrawings: 1 })),
      ).rejects.toThrow(
        'Error in downloadClass: cannot create the cache directory /proc/nope/numpy_bitmap (ENOENT)',
      );
      expect(Date.now() - t0).toBeLessThan(1000);
    }
    expect(server.requests).toEqual([]);
  }, 5000);

  it('downloads several classes, results in order', async () => {
    const got = await downloadClasses(['eye', 'apple', 'bicycle'], {
      ...opts({ maxDrawings: 3 }),
      concurrency: 2,
    });
    expect(got.map((g) => g.className)).toEqual(['eye', 'apple', 'bicycle']);
  });
});

describe('fetchBitmaps (fetch, browser-safe)', () => {
  it('fetches the first N rows with a Range request, or the whole file', async () => {
    const shared = fs.readFileSync(sharedFile('numpy_bitmap', 'house'));
    const some = await fetchBitmaps('House', { baseUrl: server.url, maxDrawings: 7 });
    expect(some).toMatchObject({ className: 'house', rows: 7 });
    expect(Buffer.from(some.images).equals(shared.subarray(128, 128 + 7 * BITMAP_BYTES))).toBe(
      true,
    );
    expect(server.requests[0].range).toBe(`bytes=0-${1024 + 7 * BITMAP_BYTES - 1}`);
    const all = await fetchBitmaps('train', { baseUrl: server.url });
    expect(all.rows).toBe(1000);
    const more = await fetchBitmaps('train', { baseUrl: server.url, maxDrawings: 5000 });
    expect(more.rows).toBe(1000);
  });

  it('reports missing files, HTML pages, truncated data and bad arguments', async () => {
    await expect(fetchBitmaps('zebra', { baseUrl: server.url })).rejects.toThrow(
      `Error in fetchBitmaps: ${server.url}full/numpy_bitmap/zebra.npy answered HTTP 404`,
    );
    server.fault = () => ({ kind: 'html' });
    await expect(fetchBitmaps('cat', { baseUrl: server.url })).rejects.toThrow(
      'it is an HTML/XML page',
    );
    server.fault = undefined;
    const cat = fs.readFileSync(sharedFile('numpy_bitmap', 'cat'));
    server.extra.set('full/numpy_bitmap/dog.npy', cat.subarray(0, 128 + 3 * BITMAP_BYTES + 10));
    await expect(fetchBitmaps('dog', { baseUrl: server.url, maxDrawings: 5 })).rejects.toThrow(
      'is truncated: wanted 5 rows, got 3 complete rows',
    );
    await expect(fetchBitmaps('dog', { baseUrl: server.url })).rejects.toThrow('is truncated');
    await expect(fetchBitmaps('cat', { maxDrawings: 0 })).rejects.toThrow(
      'Error in fetchBitmaps: maxDrawings must be a positive integer, got 0',
    );
    await expect(fetchBitmaps('cat', { baseUrl: 'http://127.0.0.1:1/' })).rejects.toThrow(
      'Error in fetchBitmaps: could not fetch http://127.0.0.1:1/full/numpy_bitmap/cat.npy',
    );
  });
});
