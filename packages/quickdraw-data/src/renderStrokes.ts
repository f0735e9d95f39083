import type { Stroke } from './types';

/** Options of {@link renderStrokes}; the defaults reproduce Google's 28x28 numpy_bitmap files. */
export interface RenderOptions {
  /** Output side in pixels (default 28). The geometry scales with it: scale = size / 304. */
  size?: number;
  /** Line diameter in drawing units (default 16; the drawing spans 0..255). */
  lineDiameter?: number;
  /** Extra padding on each side in drawing units (default 16). */
  padding?: number;
  /**
   * Centre the drawing in the 256-unit box, offset = (256 - max) / 2 per axis (default true), as
   * Google's renderer does for the simplified (top-left aligned) strokes.
   */
  center?: boolean;
  /**
   * Sub-scanlines per pixel row (default 15, as cairo's GRID_Y). Coverage is exact along x (interval lengths) and
   * sampled at this many rows along y, like cairo's scan converter.
   */
  subsamples?: number;
  /** Write into this buffer (length size*size) instead of allocating one. */
  out?: Uint8Array;
}

interface Geometry {
  size: number;
  scale: number;
  shift: number;
  radius: number;
  center: boolean;
  subsamples: number;
}

function geometry(fn: string, o: RenderOptions): Geometry {
  const size = o.size ?? 28;
  const lineDiameter = o.lineDiameter ?? 16;
  const padding = o.padding ?? 16;
  const subsamples = o.subsamples ?? 15;
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`Error in ${fn}: size must be a positive integer, got ${size}`);
  }
  if (!(lineDiameter > 0) || !Number.isFinite(lineDiameter)) {
    throw new Error(`Error in ${fn}: lineDiameter must be a positive number, got ${lineDiameter}`);
  }
  if (!(padding >= 0) || !Number.isFinite(padding)) {
    throw new Error(`Error in ${fn}: padding must be a number >= 0, got ${padding}`);
  }
  if (!Number.isInteger(subsamples) || subsamples < 1) {
    throw new Error(`Error in ${fn}: subsamples must be a positive integer, got ${subsamples}`);
  }
  // Google: total_padding = 2 * padding + line_diameter; scale = side / (256 + total_padding);
  // translate(total_padding / 2) in drawing units.
  const totalPadding = 2 * padding + lineDiameter;
  const scale = size / (256 + totalPadding);
  return {
    size,
    scale,
    shift: totalPadding / 2,
    radius: (lineDiameter / 2) * scale,
    center: o.center ?? true,
    subsamples,
  };
}

/** Check that `strokes` is a list of `[xs, ys]` pairs of equal, non-zero length with finite numbers. */
export function validateStrokes(fn: string, strokes: unknown): asserts strokes is Stroke[] {
  if (!Array.isArray(strokes)) {
    throw new Error(`Error in ${fn}: strokes must be an array of [xs, ys] pairs`);
  }
  for (let s = 0; s < strokes.length; s++) {
    const stroke = strokes[s];
    if (!Array.isArray(stroke) || stroke.length < 2) {
      throw new Error(`Error in ${fn}: stroke ${s} must be an array [xs, ys]`);
    }
    const [xs, ys] = stroke as unknown[];
    if (!isNumberArray(xs) || !isNumberArray(ys)) {
      throw new Error(`Error in ${fn}: stroke ${s} must hold arrays of finite numbers [xs, ys]`);
    }
    if (xs.length !== ys.length) {
      throw new Error(
        `Error in ${fn}: stroke ${s} has ${xs.length} x but ${ys.length} y coordinates`,
      );
    }
    if (xs.length === 0) throw new Error(`Error in ${fn}: stroke ${s} has no points`);
  }
}

function isNumberArray(a: unknown): a is number[] {
  if (!Array.isArray(a)) return false;
  for (const v of a) if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  return true;
}

/**
 * Rasterise a drawing the way Google made the `numpy_bitmap` files (quickdraw-dataset; cairo with
 * round caps and joins, antialiased): each stroke is one path of thickness `lineDiameter`, its
 * coverage `c` is composited over the canvas as `v = c + v (1 - c)`, white ink on black.
 * Geometry (drawing units): the drawing is centred in the 256 box, shifted by
 * `padding + lineDiameter / 2`, and scaled by `size / (256 + 2 padding + lineDiameter)`.
 *
 * Coverage is the area of the stroke (the union of disks of radius lineDiameter/2 around the
 * polyline) inside each pixel: exact along x, `subsamples` rows along y.
 *
 * @param strokes simplified strokes `[[x0, x1, ...], [y0, y1, ...]]`, coordinates 0..255.
 * @returns `Uint8Array` of length size*size, row-major `[size, size]`, 0 = background, 255 = ink.
 *   An empty drawing gives all zeros.
 */
export function renderStrokes(strokes: Stroke[], options: RenderOptions = {}): Uint8Array {
  validateStrokes('renderStrokes', strokes);
  const g = geometry('renderStrokes', options);
  const n = g.size * g.size;
  const out = options.out ?? new Uint8Array(n);
  if (out.length !== n) {
    throw new Error(`Error in renderStrokes: out has length ${out.length}, expected ${n}`);
  }
  const value = new Float64Array(n);
  rasterise(strokes, g, value);
  for (let i = 0; i < n; i++) out[i] = Math.round(value[i] * 255);
  return out;
}

/**
 * Render many drawings into one buffer `[N, size, size]` (row-major, uint8), e.g. to build the
 * same bitmaps as Google's numpy_bitmap files from simplified ndjson.
 */
export function renderDrawings(drawings: Stroke[][], options: RenderOptions = {}): Uint8Array {
  const g = geometry('renderDrawings', options);
  const px = g.size * g.size;
  const out = new Uint8Array(drawings.length * px);
  for (let i = 0; i < drawings.length; i++) {
    renderStrokes(drawings[i], { ...options, out: out.subarray(i * px, (i + 1) * px) });
  }
  return out;
}

function rasterise(strokes: Stroke[], g: Geometry, value: Float64Array): void {
  if (strokes.length === 0) return;
  let offX = 0;
  let offY = 0;
  if (g.center) {
    let maxX = Number.NEGATIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (const [xs, ys] of strokes) {
      for (const x of xs) if (x > maxX) maxX = x;
      for (const y of ys) if (y > maxY) maxY = y;
    }
    offX = (256 - maxX) / 2;
    offY = (256 - maxY) / 2;
  }
  const { size, scale, shift, radius: r, subsamples } = g;
  const coverage = new Float64Array(size);
  const weight = 1 / subsamples;
  // Scratch buffers for the intervals of one scanline.
  let starts = new Float64Array(64);
  let ends = new Float64Array(64);
  const order: number[] = [];
  for (const [xs, ys] of strokes) {
    const m = xs.length;
    // Device coordinates: pixel (i, j) covers [j, j+1] x [i, i+1].
    const px = new Float64Array(m);
    const py = new Float64Array(m);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < m; k++) {
      px[k] = (xs[k] + offX + shift) * scale;
      py[k] = (ys[k] + offY + shift) * scale;
      if (py[k] < lo) lo = py[k];
      if (py[k] > hi) hi = py[k];
    }
    // Segments k -> k+1 (a single point is the segment 0 -> 0: a dot).
    const segs = Math.max(1, m - 1);
    if (starts.length < segs) {
      starts = new Float64Array(segs * 2);
      ends = new Float64Array(segs * 2);
    }
    const row0 = Math.max(0, Math.floor(lo - r));
    const row1 = Math.min(size - 1, Math.floor(hi + r));
    for (let row = row0; row <= row1; row++) {
      coverage.fill(0);
      let touched = false;
      for (let sub = 0; sub < subsamples; sub++) {
        const y = row + (sub + 0.5) * weight;
        let count = 0;
        for (let k = 0; k < segs; k++) {
          const k1 = m === 1 ? 0 : k + 1;
          const iv = capsuleSpan(px[k], py[k], px[k1], py[k1], r, y);
          if (iv === null) continue;
          starts[count] = iv[0];
          ends[count] = iv[1];
          count++;
        }
        if (count === 0) continue;
        touched = true;
        order.length = count;
        for (let k = 0; k < count; k++) order[k] = k;
        order.sort((a, b) => starts[a] - starts[b]);
        let a = starts[order[0]];
        let b = ends[order[0]];
        for (let k = 1; k < count; k++) {
          const s = starts[order[k]];
          const e = ends[order[k]];
          if (s > b) {
            addSpan(coverage, a, b, weight);
            a = s;
            b = e;
          } else if (e > b) b = e;
        }
        addSpan(coverage, a, b, weight);
      }
      if (!touched) continue;
      const base = row * size;
      for (let j = 0; j < size; j++) {
        const c = Math.min(1, coverage[j]);
        if (c > 0) value[base + j] = c + value[base + j] * (1 - c);
      }
    }
  }
}

/** Add `w` times the length of [a, b] inside each pixel [j, j+1] of the row. */
function addSpan(coverage: Float64Array, a: number, b: number, w: number): void {
  const n = coverage.length;
  if (a < 0) a = 0;
  if (b > n) b = n;
  if (b <= a) return;
  const ia = Math.floor(a);
  const ib = Math.floor(b);
  if (ia === ib) {
    coverage[ia] += (b - a) * w;
    return;
  }
  coverage[ia] += (ia + 1 - a) * w;
  for (let j = ia + 1; j < ib; j++) coverage[j] += w;
  if (ib < n) coverage[ib] += (b - ib) * w;
}

const span: [number, number] = [0, 0];

/**
 * The x-interval where the horizontal line at height y meets the capsule (all points within r of
 * the segment (x0, y0)-(x1, y1)), or null. The capsule is convex, so the interval is the hull of
 * the line's intersections with the two end disks and the swept rectangle.
 */
function capsuleSpan(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  r: number,
  y: number,
): [number, number] | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const d0 = y - y0;
  if (d0 * d0 <= r * r) {
    const h = Math.sqrt(r * r - d0 * d0);
    lo = x0 - h;
    hi = x0 + h;
  }
  const d1 = y - y1;
  if (d1 * d1 <= r * r) {
    const h = Math.sqrt(r * r - d1 * d1);
    if (x1 - h < lo) lo = x1 - h;
    if (x1 + h > hi) hi = x1 + h;
  }
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  if (len2 > 0) {
    const len = Math.sqrt(len2);
    // Along the segment: 0 <= ((x - x0) dx + (y - y0) dy) / len2 <= 1.
    let a = Number.NEGATIVE_INFINITY;
    let b = Number.POSITIVE_INFINITY;
    const along = d0 * dy;
    if (dx === 0) {
      if (along < 0 || along > len2) a = b = Number.NaN;
    } else {
      const t0 = x0 + (0 - along) / dx;
      const t1 = x0 + (len2 - along) / dx;
      a = Math.min(t0, t1);
      b = Math.max(t0, t1);
    }
    // Across: |(-(x - x0) dy + (y - y0) dx) / len| <= r.
    if (!Number.isNaN(a)) {
      const across = d0 * dx;
      if (dy === 0) {
        if (Math.abs(across / len) > r) a = b = Number.NaN;
      } else {
        const u0 = x0 + (across - r * len) / dy;
        const u1 = x0 + (across + r * len) / dy;
        a = Math.max(a, Math.min(u0, u1));
        b = Math.min(b, Math.max(u0, u1));
      }
    }
    if (!Number.isNaN(a) && a <= b) {
      if (a < lo) lo = a;
      if (b > hi) hi = b;
    }
  }
  if (lo > hi) return null;
  span[0] = lo;
  span[1] = hi;
  return span;
}
