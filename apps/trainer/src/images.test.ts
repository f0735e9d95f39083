import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describeBackends } from '@pixelcnn/backend/testing';
import type { MetricsRow } from '@pixelcnn/pixelcnn-dist/run';
import { encodeNpyHeader } from '@pixelcnn/quickdraw-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayDataset, readNpyImages, readNpyLabels } from './arrayData';
import { fakeIo, TINY_NETWORK } from './fakeIo';
import { main } from './main';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-images-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Save a uint8 array of `shape` as numpy's np.save would; `descr` rewrites the dtype in place. */
function saveNpy(name: string, shape: number[], data: Uint8Array, descr = '|u1'): string {
  const header = encodeNpyHeader(shape);
  const text = new TextDecoder('latin1').decode(header).replace("'|u1'", `'${descr}'`);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(text, 'latin1'), data]));
  return file;
}

/** N 8x8 RGB images: class 0 a red square on black, class 1 a blue stripe, with a little noise. */
function rgbImages(n: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * 8 * 8 * 3);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        const p = ((i * 8 + y) * 8 + x) * 3;
        const on = labels[i] === 0 ? x >= 2 && x < 6 && y >= 2 && y < 6 : x === i % 8;
        images[p + (labels[i] === 0 ? 0 : 2)] = on ? 200 + (i % 50) : (x * y + i) % 16;
      }
  }
  return { images, labels };
}

/** IHDR width, height and colour type of a PNG. */
function pngInfo(file: string): { width: number; height: number; color: number } {
  const buf = fs.readFileSync(file);
  const idatLen = buf.readUInt32BE(33);
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const color = buf[25];
  expect(zlib.inflateSync(buf.subarray(41, 41 + idatLen)).length).toBe(
    height * (width * (color === 2 ? 3 : 1) + 1),
  );
  return { width, height, color };
}

const TINY = [
  ...TINY_NETWORK,
  '--batch-size',
  '4',
  '--eval-images',
  '8',
  '--eval-batch',
  '8',
  '--seed',
  '3',
  '--held-out',
  '0.25',
];

describe('reading --images / --labels arrays', () => {
  it('reads [N, H, W] and [N, H, W, C] uint8 and integer labels of any width', () => {
    const { images, labels } = rgbImages(6);
    const f = saveNpy('a.npy', [6, 8, 8, 3], images);
    const read = readNpyImages(f);
    expect(read.shape).toEqual([6, 8, 8, 3]);
    expect(read.data).toEqual(images);
    expect(readNpyImages(saveNpy('g.npy', [2, 3, 4], new Uint8Array(24))).shape).toEqual([
      2, 3, 4, 1,
    ]);
    expect(readNpyLabels(saveNpy('l.npy', [6], labels), 6)).toEqual(Int32Array.from(labels));
    // int64 little-endian, [N, 1] (Keras' CIFAR-10 labels)
    const wide = new Uint8Array(6 * 8);
    labels.forEach((l, i) => {
      wide[i * 8] = l;
    });
    expect(readNpyLabels(saveNpy('l8.npy', [6, 1], wide, '<i8'), 6)).toEqual(
      Int32Array.from(labels),
    );
    const ds = new ArrayDataset(read, Int32Array.from(labels), 0.25);
    expect(ds.numClasses).toBe(2);
    expect(ds.size('train') + ds.size('test')).toBe(6);
    const order = ds.examples('train', { seed: 1, epoch: 0 });
    expect([...order.row].sort()).toEqual([...ds.examples('train', { shuffle: false }).row]);
  });

  it('says what is wrong with a file, naming it and the fix', () => {
    const bad = (name: string, shape: number[], bytes: number, descr?: string) =>
      saveNpy(name, shape, new Uint8Array(bytes), descr);
    expect(() => readNpyImages(bad('f.npy', [2, 4, 4], 32 * 4, '<f4'))).toThrow(
      /f\.npy has dtype '<f4'; expected uint8 pixels 0\.\.255 \(in numpy: np\.save\(f, x\.astype\(np\.uint8\)\)\)/,
    );
    expect(() => readNpyImages(bad('v.npy', [2, 784], 2 * 784))).toThrow(
      /v\.npy has shape \(2, 784\); expected images \[N, H, W\] or \[N, H, W, C\]/,
    );
    expect(() => readNpyImages(bad('t.npy', [2, 4, 4], 20))).toThrow(
      /t\.npy has 20 data bytes, its shape \(2, 4, 4\) needs 32 \(truncated\?\)/,
    );
    expect(() => readNpyImages(path.join(tmp, 'missing.npy'))).toThrow(
      /option --images: cannot read .*missing\.npy \(ENOENT\)/,
    );
    expect(() => readNpyLabels(bad('n.npy', [3], 3), 4)).toThrow(
      /n\.npy has 3 labels but --images has 4 images/,
    );
    expect(() => readNpyLabels(bad('s.npy', [4], 16, '<f4'), 4)).toThrow(
      /s\.npy has dtype '<f4'; expected integer class labels/,
    );
    const neg = saveNpy('neg.npy', [2], Uint8Array.of(0, 255), '|i1');
    expect(() => readNpyLabels(neg, 2)).toThrow(/label 1 of .*neg\.npy is -1; labels must be/);
  });
});

describeBackends('pixelcnn train --images (a non-QuickDraw array)', ({ backend }) => {
  const cli = async (argv: string[]) => {
    const f = fakeIo();
    const code = await main([...argv, '--backend', backend], f.io);
    return { code, out: f.out(), err: f.err() };
  };

  it('trains a class-conditional model on 8x8 RGB images, resumes exactly, samples and evaluates', async () => {
    const { images, labels } = rgbImages(48);
    const x = saveNpy(`rgb-${backend}.npy`, [48, 8, 8, 3], images);
    const y = saveNpy(`rgb-labels-${backend}.npy`, [48], labels);
    const run = path.join(tmp, `run-${backend}`);
    const args = ['train', '--images', x, '--labels', y, '--classes', 'square,stripe', ...TINY];
    const first = await cli([...args, '--steps', '2', '--out', run]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(
      /images: .*rgb-\w+\.npy \[48, 8, 8, 3\] uint8; labels: .* \(square \(24\), stripe \(24\)\); \d+ train \/ \d+ held-out images/,
    );
    const settings = JSON.parse(fs.readFileSync(path.join(run, 'settings.json'), 'utf8'));
    expect(settings.model).toMatchObject({ imageShape: [8, 8, 3], numClasses: 2 });
    expect(settings.data).toMatchObject({ classes: ['square', 'stripe'], images: x, labels: y });

    const resumed = await cli(['train', '--resume', run, '--steps', '4']);
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    const straightRun = path.join(tmp, `straight-${backend}`);
    expect((await cli([...args, '--steps', '4', '--out', straightRun])).code).toBe(0);
    const losses = (dir: string) =>
      fs
        .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as MetricsRow)
        .filter((r) => r.kind === 'train')
        .map((r) => r.lossNats);
    expect(losses(run)).toHaveLength(4);
    expect(losses(run)).toEqual(losses(straightRun));
    const rows = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const evalRow = rows.map((l) => JSON.parse(l)).find((r: MetricsRow) => r.kind === 'eval');
    // bits/dim over 8*8*3 dimensions: finite, and below the 8 bits of a uniform byte
    expect(evalRow.bitsPerDim).toBeGreaterThan(0);
    expect(evalRow.bitsPerDim).toBeLessThan(8.5);

    const sampled = await cli(['sample', '--checkpoint', run, '--n', '2', '--real', '2']);
    expect(sampled.err).toBe('');
    expect(sampled.code).toBe(0);
    const square = pngInfo(path.join(run, 'samples', 'square.png'));
    expect(square.color).toBe(2); // RGB
    // 2 rows (real, generated) of 8x8 images at scale 3 plus 2 px gaps, under the title band
    expect(square.height).toBeGreaterThan(2 * (8 * 3 + 2));
    expect(pngInfo(path.join(run, 'samples', 'overview.png')).color).toBe(2);

    const ev = await cli(['eval', '--checkpoint', run, '--json']);
    expect(ev.err).toBe('');
    const rep = JSON.parse(ev.out);
    expect(rep.perClass.map((p: { class: string }) => p.class)).toEqual(['square', 'stripe']);
    expect(rep.bitsPerDim).toBeGreaterThan(0);
  });

  it('an unlabelled [N, H, W] array trains an unconditional model', async () => {
    const gray = new Uint8Array(16 * 4 * 4).map((_, i) => (i * 37) % 256);
    const x = saveNpy(`gray-${backend}.npy`, [16, 4, 4], gray);
    const run = path.join(tmp, `gray-${backend}`);
    const r = await cli(['train', '--images', x, ...TINY, '--steps', '1', '--out', run]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\[16, 4, 4, 1\] uint8; no labels \(unconditional\)/);
    const settings = JSON.parse(fs.readFileSync(path.join(run, 'settings.json'), 'utf8'));
    expect(settings.model).toMatchObject({ imageShape: [4, 4, 1], conditionalShape: null });
    const s = await cli(['sample', '--checkpoint', run, '--n', '2', '--real', '1']);
    expect(s.code).toBe(0);
    expect(pngInfo(path.join(run, 'samples', 'samples.png')).color).toBe(0); // gray
  });

  it('refuses QuickDraw-only options, labels without images and shapes the network cannot take', async () => {
    const x = saveNpy(`odd-${backend}.npy`, [40, 5, 6], new Uint8Array(40 * 30));
    const refuse = async (argv: string[], message: RegExp) => {
      const r = await cli(['train', ...argv, '--out', path.join(tmp, 'never')]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    };
    await refuse(['--images', x, '--per-class', '10'], /option --per-class is for QuickDraw data/);
    await refuse(['--labels', x], /option --labels needs --images/);
    await refuse(['--images', x, '--conditional'], /option --conditional needs class labels/);
    await refuse(
      ['--images', x, '--num-hierarchies', '2'],
      /option --num-hierarchies 2: 5x6 images need sides divisible by 2\^\(numHierarchies-1\) = 2; use 1$/m,
    );
    expect(fs.existsSync(path.join(tmp, 'never', 'checkpoints'))).toBe(false);

    // 5x6 trains with one hierarchy, and resumes without restating it
    const run = path.join(tmp, `odd-${backend}`);
    const base = [
      '--num-filters',
      '4',
      '--num-resnet',
      '1',
      '--batch-size',
      '4',
      '--eval-images',
      '4',
    ];
    const first = await cli([
      'train',
      '--images',
      x,
      ...base,
      '--num-hierarchies',
      '1',
      '--steps',
      '1',
      '--out',
      run,
    ]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const again = await cli(['train', '--resume', run, '--steps', '2']);
    expect(again.err).toBe('');
    expect(again.code).toBe(0);
  });
});
