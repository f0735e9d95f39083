/** Background of pixels not sampled yet (a light blue-grey, distinct from any ink level). */
export const UNSAMPLED_RGB: readonly [number, number, number] = [214, 224, 238];

/** Where the cells of a grid of images lie on a canvas. */
export interface GridGeometry {
  count: number;
  cols: number;
  rows: number;
  /** Image size in pixels of the model (H, W). */
  imageHeight: number;
  imageWidth: number;
  /** Canvas pixels per image pixel. */
  scale: number;
  /** Canvas pixels between cells (and around the grid). */
  gap: number;
  width: number;
  height: number;
}

/** The layout of `count` images of H x W in up to `cols` columns, each pixel `scale` wide. */
export function gridGeometry(
  count: number,
  o: { cols: number; imageHeight: number; imageWidth: number; scale: number; gap?: number },
): GridGeometry {
  const fn = 'gridGeometry';
  for (const [k, v] of Object.entries({
    cols: o.cols,
    imageHeight: o.imageHeight,
    imageWidth: o.imageWidth,
    scale: o.scale,
  })) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`Error in ${fn}: ${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`Error in ${fn}: count must be an integer >= 0, got ${count}`);
  }
  const gap = o.gap ?? 4;
  const cols = Math.max(1, Math.min(o.cols, count));
  const rows = Math.ceil(count / cols);
  const cw = o.imageWidth * o.scale;
  const ch = o.imageHeight * o.scale;
  return {
    count,
    cols,
    rows,
    imageHeight: o.imageHeight,
    imageWidth: o.imageWidth,
    scale: o.scale,
    gap,
    width: gap + cols * (cw + gap),
    height: gap + rows * (ch + gap),
  };
}

/** Top-left canvas pixel of cell `i` (row-major). */
export function cellOrigin(g: GridGeometry, i: number): [number, number] {
  const c = i % g.cols;
  const r = Math.floor(i / g.cols);
  return [
    g.gap + c * (g.imageWidth * g.scale + g.gap),
    g.gap + r * (g.imageHeight * g.scale + g.gap),
  ];
}

/** The cell under canvas pixel (x, y), or -1 for a gap or outside. */
export function cellAt(g: GridGeometry, x: number, y: number): number {
  const cw = g.imageWidth * g.scale;
  const ch = g.imageHeight * g.scale;
  const cx = x - g.gap;
  const cy = y - g.gap;
  if (cx < 0 || cy < 0) return -1;
  const c = Math.floor(cx / (cw + g.gap));
  const r = Math.floor(cy / (ch + g.gap));
  if (c >= g.cols || r >= g.rows || cx - c * (cw + g.gap) >= cw || cy - r * (ch + g.gap) >= ch) {
    return -1;
  }
  const i = r * g.cols + c;
  return i < g.count ? i : -1;
}

/**
 * Display colour of a pixel with channel values `v` (integers in [0, high]): QuickDraw's ink is
 * the value, shown dark on white paper (grayscale) or as RGB for 3 channels.
 */
export function pixelRgb(v: ArrayLike<number>, high: number): [number, number, number] {
  const to255 = (x: number) => Math.max(0, Math.min(255, Math.round((x * 255) / high)));
  if (v.length === 1) {
    const g = 255 - to255(v[0]);
    return [g, g, g];
  }
  if (v.length === 3) return [to255(v[0]), to255(v[1]), to255(v[2])];
  // Other channel counts: the mean as ink.
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const g = 255 - to255(s / v.length);
  return [g, g, g];
}

/** Fill the canvas pixels of image pixel (row, col) of cell `i` with `rgb` in an RGBA buffer. */
export function paintPixel(
  rgba: Uint8ClampedArray | Uint8Array,
  g: GridGeometry,
  i: number,
  row: number,
  col: number,
  rgb: readonly [number, number, number],
): void {
  const [ox, oy] = cellOrigin(g, i);
  const x0 = ox + col * g.scale;
  const y0 = oy + row * g.scale;
  for (let y = y0; y < y0 + g.scale; y++) {
    let p = (y * g.width + x0) * 4;
    for (let x = 0; x < g.scale; x++, p += 4) {
      rgba[p] = rgb[0];
      rgba[p + 1] = rgb[1];
      rgba[p + 2] = rgb[2];
      rgba[p + 3] = 255;
    }
  }
}

/**
 * Paint a whole image `values [H * W * C]` (integers in [0, high]) into cell `i`; pixels at or
 * after raster index `from` are left `UNSAMPLED_RGB` when `from` is given (a partial sample).
 */
export function paintImage(
  rgba: Uint8ClampedArray | Uint8Array,
  g: GridGeometry,
  i: number,
  values: ArrayLike<number>,
  channels: number,
  high: number,
  from = g.imageHeight * g.imageWidth,
): void {
  const px = g.imageHeight * g.imageWidth;
  if (values.length !== px * channels) {
    throw new Error(
      `Error in paintImage: expected ${px * channels} values (${g.imageHeight}x${g.imageWidth}x${channels}), got ${values.length}`,
    );
  }
  const v = new Array<number>(channels);
  for (let p = 0; p < px; p++) {
    const row = Math.floor(p / g.imageWidth);
    const col = p % g.imageWidth;
    if (p >= from) {
      paintPixel(rgba, g, i, row, col, UNSAMPLED_RGB);
      continue;
    }
    for (let c = 0; c < channels; c++) v[c] = values[p * channels + c];
    paintPixel(rgba, g, i, row, col, pixelRgb(v, high));
  }
}

/** A blank RGBA buffer for a grid: page-coloured gaps, every cell `UNSAMPLED_RGB`. */
export function blankGrid(
  g: GridGeometry,
  background: readonly [number, number, number] = [255, 255, 255],
): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(g.width * g.height * 4);
  for (let p = 0; p < rgba.length; p += 4) {
    rgba[p] = background[0];
    rgba[p + 1] = background[1];
    rgba[p + 2] = background[2];
    rgba[p + 3] = 255;
  }
  for (let i = 0; i < g.count; i++) {
    for (let r = 0; r < g.imageHeight; r++) {
      for (let c = 0; c < g.imageWidth; c++) paintPixel(rgba, g, i, r, c, UNSAMPLED_RGB);
    }
  }
  return rgba;
}
