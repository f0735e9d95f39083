import { drawText, textHeight, textWidth } from './font';
import { blitGray, createRaster, fillRect, type Raster } from './png';

export interface ImageGridOptions {
  /** Images per row. */
  cols: number;
  /** Side of the square image in pixels (QuickDraw: 28) - or give width/height. */
  imageWidth: number;
  imageHeight: number;
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

/**
 * Lay `images` (each `imageHeight * imageWidth` gray values 0..255, row-major) out in a grid
 * with optional row labels and title; returns a grayscale raster for `encodePng`.
 */
export function imageGrid(images: readonly ArrayLike<number>[], o: ImageGridOptions): Raster {
  const { cols, imageWidth: w, imageHeight: h } = o;
  if (!Number.isInteger(cols) || cols < 1) {
    throw new Error(`Error in imageGrid: cols must be a positive integer, got ${cols}`);
  }
  for (const [i, im] of images.entries()) {
    if (im.length !== w * h) {
      throw new Error(
        `Error in imageGrid: image ${i} has ${im.length} values, expected ${h}x${w} = ${w * h}`,
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
  const r = createRaster(width, height, 1, o.background ?? 200);
  if (o.title) drawText(r, o.title, pad, pad + 1, 0, 2);
  for (let i = 0; i < images.length; i++) {
    const row = Math.floor(i / cols);
    const col = i % cols;
    blitGray(r, images[i], w, h, pad + labelW + col * cellW, titleH + pad + row * cellH, {
      scale,
      invert: o.invert ?? true,
    });
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
