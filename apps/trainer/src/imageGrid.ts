import { drawText, textHeight, textWidth } from './font';
import { blitGray, createRaster, fillRect, type Raster, setPixel } from './png';

export interface ImageGridOptions {
  /** Images per row. */
  cols: number;
  /** Image size in pixels (QuickDraw: 28 x 28). */
  imageWidth: number;
  imageHeight: number;
  /**
   * Channels per pixel (default 1): 1 is drawn gray, 3 or more as RGB (the first three), 2 as the
   * gray of its first channel.
   */
  channels?: number;
  /** Each pixel becomes scale x scale (default 2). */
  scale?: number;
  /** Gap between images in output pixels (default 2). */
  pad?: number;
  /** Draw 255 - v: black ink on white paper (default true; QuickDraw stores white on black). */
  invert?: boolean;
  /** One label per row, drawn left of the row. */
  rowLabels?: readonly string[];
  /** A title above the grid. */
  title?: string;
  /** Draw a separator line below these rows (0-based row indices). */
  separatorsAfter?: readonly number[];
  /** Background colour (default light gray 200). */
  background?: number;
}

const LABEL_GAP = 6;

/** Copy an `[h, w, channels]` image (0..255) into an RGB raster at (x, y), `scale` x enlarged. */
function blitColor(
  r: Raster,
  pixels: ArrayLike<number>,
  w: number,
  h: number,
  channels: number,
  x: number,
  y: number,
  o: { scale: number; invert: boolean },
): void {
  const v = (i: number) => {
    const b = Math.max(0, Math.min(255, Math.round(pixels[i])));
    return o.invert ? 255 - b : b;
  };
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) {
      const i = (row * w + col) * channels;
      const color = [v(i), v(i + 1), v(i + 2)] as const;
      for (let dy = 0; dy < o.scale; dy++)
        for (let dx = 0; dx < o.scale; dx++)
          setPixel(r, x + col * o.scale + dx, y + row * o.scale + dy, color);
    }
  }
}

/**
 * Lay `images` (each `imageHeight * imageWidth * channels` values 0..255, row-major) out in a
 * grid with optional row labels and title; returns a grayscale (1 or 2 channels) or RGB raster
 * for `encodePng`.
 */
export function imageGrid(images: readonly ArrayLike<number>[], o: ImageGridOptions): Raster {
  const { cols, imageWidth: w, imageHeight: h } = o;
  const channels = o.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new Error(`Error in imageGrid: channels must be a positive integer, got ${channels}`);
  }
  if (!Number.isInteger(cols) || cols < 1) {
    throw new Error(`Error in imageGrid: cols must be a positive integer, got ${cols}`);
  }
  for (const [i, im] of images.entries()) {
    if (im.length !== w * h * channels) {
      throw new Error(
        `Error in imageGrid: image ${i} has ${im.length} values, expected ${h}x${w}x${channels} = ${w * h * channels}`,
      );
    }
  }
  const scale = o.scale ?? 2;
  const pad = o.pad ?? 2;
  const rows = Math.max(1, Math.ceil(images.length / cols), o.rowLabels?.length ?? 0);
  const labelScale = 1;
  const labelW = o.rowLabels?.length
    ? Math.max(...o.rowLabels.map((l) => textWidth(l, labelScale))) + LABEL_GAP
    : 0;
  const titleH = o.title ? textHeight(2) + 2 * pad + 2 : 0;
  const cellW = w * scale + pad;
  const cellH = h * scale + pad;
  const width = Math.max(
    pad + labelW + cols * cellW,
    o.title ? textWidth(o.title, 2) + 2 * pad : 0,
  );
  const height = titleH + pad + rows * cellH;
  const r = createRaster(width, height, channels >= 3 ? 3 : 1, o.background ?? 200);
  if (o.title) drawText(r, o.title, pad, pad + 1, 0, 2);
  for (let i = 0; i < images.length; i++) {
    const row = Math.floor(i / cols);
    const col = i % cols;
    const [x, y] = [pad + labelW + col * cellW, titleH + pad + row * cellH];
    const invert = o.invert ?? true;
    if (channels >= 3) blitColor(r, images[i], w, h, channels, x, y, { scale, invert });
    else {
      const gray =
        channels === 1
          ? images[i]
          : Array.from({ length: w * h }, (_, p) => images[i][p * channels]);
      blitGray(r, gray, w, h, x, y, { scale, invert });
    }
  }
  o.rowLabels?.forEach((label, row) => {
    const y = titleH + pad + row * cellH + Math.floor((h * scale - textHeight(labelScale)) / 2);
    drawText(r, label, pad, y, 0, labelScale);
  });
  for (const row of o.separatorsAfter ?? []) {
    const y = titleH + pad + (row + 1) * cellH - Math.ceil(pad / 2) - 1;
    fillRect(r, pad + labelW, y, cols * cellW - pad, 1, 60);
  }
  return r;
}
