import { describe, expect, it } from 'vitest';
import { drawText, textWidth } from './font';
import { imageGrid } from './imageGrid';
import { formatTick, linePlot, niceTicks } from './lossPlot';
import { createRaster } from './png';

describe('imageGrid', () => {
  it('places each image in its cell, inverted by default', () => {
    const a = new Uint8Array(4).fill(255); // 2x2 white ink
    const b = new Uint8Array(4).fill(0);
    const g = imageGrid([a, b, a], { cols: 2, imageWidth: 2, imageHeight: 2, scale: 1, pad: 1 });
    // width = pad + cols * (w*scale + pad) = 1 + 2*3; height = pad + rows * 3
    expect([g.width, g.height, g.channels]).toEqual([7, 7, 1]);
    const at = (x: number, y: number) => g.data[y * g.width + x];
    expect(at(1, 1)).toBe(0); // image a, inverted: black ink
    expect(at(4, 1)).toBe(255); // image b, inverted: white paper
    expect(at(1, 4)).toBe(0); // image a again, second row
    expect(at(0, 0)).toBe(200); // background
    const raw = imageGrid([a], {
      cols: 1,
      imageWidth: 2,
      imageHeight: 2,
      scale: 3,
      pad: 0,
      invert: false,
    });
    expect([raw.width, raw.height]).toEqual([6, 6]);
    expect(raw.data.every((v) => v === 255)).toBe(true);
  });

  it('makes room for row labels and a title', () => {
    const im = new Uint8Array(28 * 28);
    const plain = imageGrid([im, im], { cols: 1, imageWidth: 28, imageHeight: 28 });
    const labelled = imageGrid([im, im], {
      cols: 1,
      imageWidth: 28,
      imageHeight: 28,
      rowLabels: ['real', 'generated'],
      title: 'cat',
    });
    expect(labelled.width).toBe(plain.width + textWidth('generated') + 6);
    expect(labelled.height).toBeGreaterThan(plain.height);
  });

  it('draws RGB images in colour (3+ channels) and 2-channel ones by their first channel', () => {
    // one 1x2 image: a red pixel, then a blue one; scale 1, no padding, no inversion
    const rgb = imageGrid([Uint8Array.of(255, 0, 0, 0, 0, 255)], {
      cols: 1,
      imageWidth: 2,
      imageHeight: 1,
      channels: 3,
      scale: 1,
      pad: 0,
      invert: false,
    });
    expect(rgb.channels).toBe(3);
    expect([...rgb.data]).toEqual([255, 0, 0, 0, 0, 255]);
    const two = imageGrid([Uint8Array.of(10, 99, 20, 99)], {
      cols: 1,
      imageWidth: 2,
      imageHeight: 1,
      channels: 2,
      scale: 1,
      pad: 0,
      invert: false,
    });
    expect([two.channels, ...two.data]).toEqual([1, 10, 20]);
  });

  it('rejects images of the wrong size', () => {
    expect(() =>
      imageGrid([new Uint8Array(3)], { cols: 1, imageWidth: 2, imageHeight: 2 }),
    ).toThrow('Error in imageGrid: image 0 has 3 values, expected 2x2x1 = 4');
    expect(() =>
      imageGrid([new Uint8Array(4)], { cols: 1, imageWidth: 2, imageHeight: 2, channels: 3 }),
    ).toThrow('Error in imageGrid: image 0 has 4 values, expected 2x2x3 = 12');
    expect(() => imageGrid([], { cols: 0, imageWidth: 2, imageHeight: 2 })).toThrow(
      /cols must be a positive integer/,
    );
  });
});

describe('text', () => {
  it('draws glyph pixels inside the text box only', () => {
    const r = createRaster(40, 9, 1, 0);
    drawText(r, 'E1', 1, 1, 255);
    const lit: [number, number][] = [];
    for (let y = 0; y < 9; y++)
      for (let x = 0; x < 40; x++) if (r.data[y * 40 + x]) lit.push([x, y]);
    expect(lit.length).toBeGreaterThan(10);
    expect(lit.every(([x, y]) => x >= 1 && x < 1 + textWidth('E1') && y >= 1 && y < 8)).toBe(true);
    // E's top bar is 5 pixels long
    expect(lit.filter(([x, y]) => y === 1 && x <= 5).length).toBe(5);
  });
});

describe('linePlot', () => {
  it('nice ticks are round, evenly spaced and cover the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.83, 1.27, 5)).toEqual([0.9, 1, 1.1, 1.2]);
    expect(niceTicks(3, 3, 5).length).toBeGreaterThan(1);
    // Two values a few ulps apart (a one-step run's raw and smoothed loss): the step fell below
    // the ulp, t += step never advanced, and the tick list grew until V8 aborted the process.
    const near = niceTicks(5.362, 5.362 + 4e-15, 5);
    expect(near.length).toBeGreaterThan(1);
    expect(near.length).toBeLessThan(12);
    expect(near[0]).toBeLessThan(5.362);
    expect(near[near.length - 1]).toBeGreaterThan(5.362);
    expect(formatTick(0.30000000000000004)).toBe('0.3');
    expect(formatTick(1500)).toBe('1500');
    expect(formatTick(2e-4)).toBe('2.0e-4');
  });

  it('draws series colours into the plot area', () => {
    const r = linePlot(
      [
        {
          name: 'train',
          points: [
            [0, 1],
            [10, 2],
          ],
          color: [0, 0, 255],
        },
        { name: 'held-out', points: [[5, 1.5]], color: [255, 0, 0], markers: true },
      ],
      { width: 300, height: 200, title: 'loss', xLabel: 'step', yLabel: 'bits/dim' },
    );
    expect([r.width, r.height, r.channels]).toEqual([300, 200, 3]);
    const count = (c: number[]) => {
      let n = 0;
      for (let i = 0; i < r.data.length; i += 3)
        if (r.data[i] === c[0] && r.data[i + 1] === c[1] && r.data[i + 2] === c[2]) n++;
      return n;
    };
    expect(count([0, 0, 255])).toBeGreaterThan(100);
    expect(count([255, 0, 0])).toBeGreaterThanOrEqual(25);
    // an empty plot still renders
    expect(linePlot([], { width: 100, height: 80 }).data.length).toBe(100 * 80 * 3);
  });
});
