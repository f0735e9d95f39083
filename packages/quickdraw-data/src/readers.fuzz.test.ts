// Fuzz of every reader in this package (issue 18): random and mutated .npy, .ndjson and .bin
// inputs must each end, within a time bound, in a valid result or an `Error in <fn>:` that names
// the file -- never a hang, an internal message (TypeError/RangeError from property reads or
// typed arrays) or a partial file left in the download cache. Fixed seed, bounded runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryDrawingArb } from '../test/helpers';
import { startQuickdrawServer } from '../test/quickdrawServer';
import { BinaryDrawingDecoder, encodeBinaryDrawings, parseBinaryDrawings } from './binaryDrawings';
import { downloadClass } from './downloadClass';
import { parseDrawingStream, parseNdjson } from './ndjson';
import { BITMAP_BYTES, encodeBitmapNpy, encodeNpyHeader, parseBitmapNpy } from './npy';
import { iterateBitmapRows, openBitmapFile, readBitmapHeader } from './openBitmapFile';
import { readDrawingFile } from './readDrawingFile';
import type { BinaryDrawing } from './types';
import type { QuickDrawFormat } from './urls';

/**
 * The fixed seed and run count: the same inputs on every machine (CI included). FUZZ_SEED and
 * FUZZ_RUNS override them for a longer local hunt.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 1818);
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
/** Every reader call must settle within this (the inputs are at most a few kB). */
const TIME_BOUND_MS = Number(process.env.FUZZ_BOUND_MS ?? 4000);

/** Messages that betray an internal failure instead of a checked one. */
const INTERNAL =
  /Cannot read propert|Cannot set propert|is not a function|is not iterable|Invalid typed array length|Offset is outside|out of range|Maximum call stack|Invalid array length|Unexpected end of JSON input$/;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-fuzz-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run `f` with a time bound; the outcome: a value or the error thrown. */
async function settle<T>(
  what: string,
  f: () => Promise<T> | T,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`HANG: ${what} did not settle in ${TIME_BOUND_MS} ms`)),
      TIME_BOUND_MS,
    );
  });
  try {
    return { ok: true, value: await Promise.race([Promise.resolve().then(f), bound]) };
  } catch (error) {
    if ((error as Error).message?.startsWith('HANG:')) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** A checked error: a plain Error, `Error in <fn>: ...`, naming `source`, no internal message. */
function expectCleanError(error: unknown, source: string, what: string): void {
  expect(error, what).toBeInstanceOf(Error);
  const e = error as Error;
  expect(e.constructor, `${what}: ${e.constructor.name}: ${e.message}`).toBe(Error);
  expect(e.message, what).toMatch(/^Error in \w+: /);
  expect(e.message, what).toContain(source);
  expect(e.message, what).not.toMatch(INTERNAL);
}

async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Inputs: valid files of each format, then mutated.

const shared = (format: string, name: string, ext: string) =>
  path.join(quickdrawDir(), 'full', format, `${name}.${ext}`);
const realNdjson = (format: 'simplified' | 'raw') =>
  fs
    .readFileSync(shared(format, 'cat', 'ndjson'), 'utf8')
    .split('\n')
    .slice(0, 3)
    .join('\n');

type Kind = 'npy' | 'simplified' | 'raw' | 'bin';

const baseArb: fc.Arbitrary<{ kind: Kind; bytes: Uint8Array }> = fc.oneof(
  fc
    .record({
      rows: fc.integer({ min: 0, max: 3 }),
      alignment: fc.constantFrom(16, 64),
      fill: fc.integer({ min: 0, max: 255 }),
    })
    .map(({ rows, alignment, fill }) => ({
      kind: 'npy' as const,
      bytes: encodeBitmapNpy(new Uint8Array(rows * BITMAP_BYTES).fill(fill), { alignment }),
    })),
  fc.constantFrom('simplified' as const, 'raw' as const).map((kind) => ({
    kind,
    bytes: new TextEncoder().encode(realNdjson(kind)),
  })),
  fc.array(binaryDrawingArb, { maxLength: 3 }).map((ds) => ({
    kind: 'bin' as const,
    bytes: encodeBinaryDrawings(ds),
  })),
);

/** Header dicts with wrong dtypes, orders, shapes and huge declared sizes. */
const badDicts = [
  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 784), }",
  "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 784), }",
  "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 28, 28), }",
  "{'descr': '|u1', 'fortran_order': False, 'shape': (), }",
  "{'descr': '|u1', 'fortran_order': False, 'shape': (784,), }",
  "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999, 784), }",
  `{'descr': '|u1', 'fortran_order': False, 'shape': (${'9'.repeat(400)}, 784), }`,
  "{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 784), }",
  "{'descr': '|u1', 'shape': (2, 784), }",
  "{'descr': |u1, 'fortran_order': False, 'shape': (2, 784)",
];

type Mutation =
  | { m: 'truncate'; at: number }
  | { m: 'set'; at: number; byte: number }
  | { m: 'insert'; at: number; bytes: Uint8Array }
  | { m: 'append'; bytes: Uint8Array }
  | { m: 'empty' }
  | { m: 'random'; bytes: Uint8Array }
  | { m: 'u16max'; at: number }
  | { m: 'npyDict'; dict: string }
  | { m: 'npyHugeHeader'; version: 1 | 2 | 3 };

const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ m: fc.constant('truncate' as const), at: fraction }),
  fc.record({
    m: fc.constant('set' as const),
    at: fraction,
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    m: fc.constant('insert' as const),
    at: fraction,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    m: fc.constant('append' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  }),
  fc.constant({ m: 'empty' as const }),
  fc.record({ m: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ m: fc.constant('u16max' as const), at: fraction }),
  fc.record({ m: fc.constant('npyDict' as const), dict: fc.constantFrom(...badDicts) }),
  fc.record({
    m: fc.constant('npyHugeHeader' as const),
    version: fc.constantFrom(1 as const, 2 as const, 3 as const),
  }),
);

function mutate(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const at = (f: number) => Math.min(bytes.length, Math.floor(f * (bytes.length + 1)));
  switch (mutation.m) {
    case 'truncate':
      return bytes.slice(0, at(mutation.at));
    case 'set': {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[Math.min(bytes.length - 1, at(mutation.at))] = mutation.byte;
      return out;
    }
    case 'insert': {
      const i = at(mutation.at);
      return Uint8Array.from([...bytes.subarray(0, i), ...mutation.bytes, ...bytes.subarray(i)]);
    }
    case 'append':
      return Uint8Array.from([...bytes, ...mutation.bytes]);
    case 'empty':
      return new Uint8Array(0);
    case 'random':
      return mutation.bytes;
    case 'u16max': {
      // A huge declared count (.bin strokes or points, .npy header length).
      if (bytes.length < 2) return bytes;
      const out = bytes.slice();
      const i = Math.min(bytes.length - 2, at(mutation.at));
      out[i] = 0xff;
      out[i + 1] = 0xff;
      return out;
    }
    case 'npyDict': {
      const header = encodeNpyHeader([0, BITMAP_BYTES], { alignment: 16 });
      const text = new TextEncoder().encode(`${mutation.dict}\n`);
      const out = new Uint8Array(10 + text.length + 2 * BITMAP_BYTES);
      out.set(header.subarray(0, 10));
      out[8] = text.length & 0xff;
      out[9] = text.length >> 8;
      out.set(text, 10);
      return out;
    }
    case 'npyHugeHeader': {
      const out = bytes.length >= 12 ? bytes.slice() : new Uint8Array(64);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, mutation.version, 0, 0xff, 0xff, 0xff, 0xff]);
      return out;
    }
  }
}

const inputArb = fc.record({
  base: baseArb,
  mutations: fc.array(mutationArb, { minLength: 0, maxLength: 3 }),
  chunk: fc.integer({ min: 1, max: 64 }),
});

let fileNo = 0;
function writeInput(bytes: Uint8Array, ext: string): string {
  const file = path.join(dir, `input-${fileNo++}.${ext}`);
  fs.writeFileSync(file, bytes);
  return file;
}

const chunksOf = (bytes: Uint8Array, size: number) => {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
};

// ---------------------------------------------------------------------------------------------
// What a valid result must satisfy (an independent recount of the bytes).

function expectValidBitmaps(header: { dataOffset: number; rows: number }, size: number) {
  expect(header.dataOffset + header.rows * BITMAP_BYTES).toBe(size);
}

function binaryBytes(ds: readonly BinaryDrawing[]): number {
  let n = 0;
  for (const d of ds) {
    n += 17;
    for (const [xs, ys] of d.drawing) {
      expect(xs.length).toBe(ys.length);
      for (const v of [...xs, ...ys]) expect(v >= 0 && v <= 255 && Number.isInteger(v)).toBe(true);
      n += 2 + 2 * xs.length;
    }
  }
  return n;
}

describe('reader fuzz: mutated .npy, .ndjson and .bin inputs', () => {
  it('the .npy readers end in a checked header and rows, or a clear error naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(inputArb, async ({ base, mutations, chunk }) => {
        const bytes = mutations.reduce(mutate, base.bytes);
        const file = writeInput(bytes, 'npy');
        const outcomes = {
          readBitmapHeader: await settle('readBitmapHeader', () => readBitmapHeader(file)),
          openBitmapFile: await settle('openBitmapFile', async () => {
            const f = await openBitmapFile(file);
            try {
              const all = await f.read(0, f.rows);
              const reversed = await f.readRows(
                Array.from({ length: f.rows }, (_, i) => f.rows - 1 - i),
              );
              return { header: f.header, rows: f.rows, all, reversed };
            } finally {
              await f.close();
            }
          }),
          iterateBitmapRows: await settle('iterateBitmapRows', async () =>
            collect(iterateBitmapRows(file, { chunkRows: (chunk % 3) + 1 })),
          ),
          parseBitmapNpy: await settle('parseBitmapNpy', () => parseBitmapNpy(bytes, file)),
        };
        for (const [name, o] of Object.entries(outcomes)) {
          if (!o.ok) expectCleanError(o.error, file, name);
        }
        // All four agree on whether the file is valid.
        expect(new Set(Object.values(outcomes).map((o) => o.ok)).size).toBe(1);
        if (
          outcomes.readBitmapHeader.ok &&
          outcomes.openBitmapFile.ok &&
          outcomes.parseBitmapNpy.ok
        ) {
          const header = outcomes.readBitmapHeader.value;
          expectValidBitmaps(header, bytes.length);
          const { all, reversed, rows } = outcomes.openBitmapFile.value;
          const pixels = bytes.subarray(header.dataOffset);
          expect(rows).toBe(header.rows);
          expect(Buffer.from(all).equals(Buffer.from(pixels))).toBe(true);
          expect(
            Buffer.from(outcomes.parseBitmapNpy.value.images).equals(Buffer.from(pixels)),
          ).toBe(true);
          for (let r = 0; r < rows; r++) {
            const row = reversed.subarray((rows - 1 - r) * BITMAP_BYTES, (rows - r) * BITMAP_BYTES);
            expect(
              Buffer.from(row).equals(
                Buffer.from(pixels.subarray(r * BITMAP_BYTES, (r + 1) * BITMAP_BYTES)),
              ),
            ).toBe(true);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('the drawing readers end in valid drawings, or a clear error naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(inputArb, async ({ base, mutations, chunk }) => {
        const bytes = mutations.reduce(mutate, base.bytes);
        for (const format of ['simplified', 'raw', 'binary'] as const) {
          const file = writeInput(bytes, format === 'binary' ? 'bin' : 'ndjson');
          const fromFile = await settle(`readDrawingFile ${format}`, () =>
            collect(readDrawingFile(file, format, { highWaterMark: chunk })),
          );
          if (!fromFile.ok) expectCleanError(fromFile.error, file, `readDrawingFile ${format}`);
          if (format === 'binary') {
            const whole = await settle('parseBinaryDrawings', () =>
              parseBinaryDrawings(bytes, { source: file }),
            );
            const streamed = await settle('BinaryDrawingDecoder', () => {
              const decoder = new BinaryDrawingDecoder(file);
              const out = chunksOf(bytes, chunk).flatMap((c) => decoder.push(c));
              decoder.end();
              return out;
            });
            for (const [name, o] of Object.entries({ whole, streamed })) {
              if (!o.ok) expectCleanError(o.error, file, name);
            }
            expect(whole.ok).toBe(fromFile.ok);
            expect(streamed.ok).toBe(fromFile.ok);
            if (whole.ok && streamed.ok && fromFile.ok) {
              expect(binaryBytes(whole.value)).toBe(bytes.length);
              expect(streamed.value).toEqual(whole.value);
              expect(fromFile.value).toEqual(whole.value);
            }
          } else {
            const text = new TextDecoder().decode(bytes);
            const whole = await settle('parseNdjson', () =>
              parseNdjson(text, format, { source: file }),
            );
            const streamed = await settle('parseDrawingStream', () =>
              collect(parseDrawingStream(chunksOf(bytes, chunk), format, { source: file })),
            );
            for (const [name, o] of Object.entries({ whole, streamed })) {
              if (!o.ok) expectCleanError(o.error, file, name);
            }
            expect(whole.ok).toBe(fromFile.ok);
            expect(streamed.ok).toBe(fromFile.ok);
            if (whole.ok && streamed.ok && fromFile.ok) {
              expect(streamed.value).toEqual(whole.value);
              expect(fromFile.value).toEqual(whole.value);
              const lines = text.split('\n').filter((l) => l.trim().length > 0);
              expect(whole.value).toHaveLength(lines.length);
            }
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  for (const via of ['a local mirror', 'HTTP'] as const) {
    it(`the downloader (from ${via}) caches a valid file or leaves nothing behind`, async () => {
      const formats: Record<Kind, QuickDrawFormat> = {
        npy: 'numpy_bitmap',
        simplified: 'simplified',
        raw: 'raw',
        bin: 'binary',
      };
      const ext: Record<QuickDrawFormat, string> = {
        numpy_bitmap: 'npy',
        simplified: 'ndjson',
        raw: 'ndjson',
        binary: 'bin',
      };
      const server = via === 'HTTP' ? await startQuickdrawServer(dir) : undefined;
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            inputArb,
            fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
            async ({ base, mutations }, maxDrawings) => {
              const bytes = mutations.reduce(mutate, base.bytes);
              const format = formats[base.kind];
              const file = `full/${format}/cat.${ext[format]}`;
              const mirror = path.join(dir, `mirror-${run}`);
              const cacheDir = path.join(dir, `cache-${run++}`);
              let source: string;
              if (server) {
                server.reset();
                server.extra.set(file, bytes);
                source = `${server.url}${file}`;
              } else {
                source = path.join(mirror, ...file.split('/'));
                fs.mkdirSync(path.dirname(source), { recursive: true });
                fs.writeFileSync(source, bytes);
              }
              const got = await settle('downloadClass', () =>
                downloadClass('cat', {
                  baseUrl: server ? server.url : mirror,
                  cacheDir,
                  format,
                  maxDrawings,
                  checksums: false,
                  retries: 0,
                }),
              );
              const left = fs.readdirSync(path.join(cacheDir, format));
              if (!got.ok) {
                expectCleanError(got.error, source, 'downloadClass');
                expect(left, 'files left behind after an error').toEqual([]);
              } else {
                const r = got.value;
                expect(left.sort()).toEqual(
                  [path.basename(r.path), `${path.basename(r.path)}.json`].sort(),
                );
                const cached = fs.readFileSync(r.path);
                expect(cached.length).toBe(r.bytes);
                if (r.complete) expect(cached.equals(Buffer.from(bytes))).toBe(true);
                if (format === 'numpy_bitmap') {
                  expectValidBitmaps(await readBitmapHeader(r.path), cached.length);
                }
              }
              fs.rmSync(mirror, { recursive: true, force: true });
              fs.rmSync(cacheDir, { recursive: true, force: true });
            },
          ),
          { seed: SEED, numRuns: via === 'HTTP' ? RUNS / 2 : RUNS },
        );
      } finally {
        await server?.close();
      }
    });
  }

  it('every file reader refuses a directory, a missing path and an empty file cleanly', async () => {
    const where = path.join(dir, 'special');
    fs.mkdirSync(path.join(where, 'dir.npy'), { recursive: true });
    fs.writeFileSync(path.join(where, 'empty.npy'), '');
    const readers: Record<string, (file: string) => Promise<unknown>> = {
      readBitmapHeader: (f) => readBitmapHeader(f),
      openBitmapFile: async (f) => (await openBitmapFile(f)).close(),
      iterateBitmapRows: (f) => collect(iterateBitmapRows(f)),
      'readDrawingFile simplified': (f) => collect(readDrawingFile(f, 'simplified')),
      'readDrawingFile raw': (f) => collect(readDrawingFile(f, 'raw')),
      'readDrawingFile binary': (f) => collect(readDrawingFile(f, 'binary')),
    };
    for (const name of ['dir.npy', 'missing.npy', 'empty.npy']) {
      const file = path.join(where, name);
      for (const [reader, read] of Object.entries(readers)) {
        const o = await settle(reader, () => read(file));
        if (!o.ok) expectCleanError(o.error, file, `${reader} on ${name}`);
        // An empty drawing file holds no drawings; an empty .npy has no header.
        else expect(name === 'empty.npy' && reader.startsWith('readDrawingFile')).toBe(true);
      }
    }
  });
});
