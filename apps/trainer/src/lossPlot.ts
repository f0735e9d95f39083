import { drawText, textHeight, textWidth } from './font';
import { type Color, createRaster, drawLine, fillRect, type Raster } from './png';

export interface PlotSeries {
  name: string;
  /** [x, y] points, in x order. */
  points: readonly (readonly [number, number])[];
  color: Color;
  /** Draw a small square on every point (for sparse series like per-epoch evaluations). */
  markers?: boolean;
  thickness?: number;
}

export interface LinePlotOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /**
   * Clip the y range to the points after the first `skipFraction` of x (default 0.05) so one
   * huge initial loss does not flatten the rest; clipped points are drawn at the top edge.
   */
  skipFraction?: number;
}

/** Round "nice" tick positions (1, 2, 5 x 10^k steps) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  // A range at the float's resolution (one loss, or two that differ in their last bits) is
  // widened: a step below the values' ulp would never advance t.
  const scale = Math.max(Math.abs(lo), Math.abs(hi));
  if (hi - lo <= scale * 1e-9) {
    const d = scale > 0 ? scale * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  const last = Math.floor(hi / step + 1e-9);
  for (let k = Math.ceil(lo / step - 1e-9); k <= last && ticks.length <= 4 * count + 4; k++) {
    ticks.push(Number((k * step).toPrecision(12)));
  }
  return ticks;
}

/** A tick label: integers plainly, else up to 4 significant digits, exponent for tiny/huge. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

const BLACK: Color = [0, 0, 0];
const GRID: Color = [225, 225, 225];

/**
 * Rasterise a line plot (axes, ticks with labels, light grid, legend, title) into an RGB
 * raster. Used for the loss curve (bits/dim against optimizer step).
 */
export function linePlot(series: readonly PlotSeries[], o: LinePlotOptions = {}): Raster {
  const width = o.width ?? 720;
  const height = o.height ?? 440;
  const r = createRaster(width, height, 3, [255, 255, 255]);
  const all = series
    .flatMap((s) => s.points)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const left = 64;
  const right = width - 16;
  const top = o.title ? 32 : 16;
  const bottom = height - 40;
  if (o.title) drawText(r, o.title, Math.max(4, (width - textWidth(o.title, 2)) / 2), 8, BLACK, 2);
  let xmin = Math.min(...all.map((p) => p[0]));
  let xmax = Math.max(...all.map((p) => p[0]));
  if (!all.length) {
    xmin = 0;
    xmax = 1;
  }
  const skip = o.skipFraction ?? 0.05;
  const cut = xmin + skip * (xmax - xmin);
  const visible = all.length > 20 ? all.filter((p) => p[0] >= cut) : all;
  let ymin = Math.min(...visible.map((p) => p[1]));
  let ymax = Math.max(...visible.map((p) => p[1]));
  if (!visible.length) {
    ymin = 0;
    ymax = 1;
  }
  const xt = niceTicks(xmin, xmax, 6);
  const yt = niceTicks(ymin, ymax, 5);
  xmin = Math.min(xmin, xt[0]);
  xmax = Math.max(xmax, xt[xt.length - 1]);
  ymin = Math.min(ymin, yt[0]);
  ymax = Math.max(ymax, yt[yt.length - 1]);
  if (xmax === xmin) xmax = xmin + 1;
  if (ymax === ymin) ymax = ymin + 1;
  const px = (x: number) => left + ((x - xmin) / (xmax - xmin)) * (right - left);
  const py = (y: number) =>
    bottom - ((Math.min(ymax, Math.max(ymin, y)) - ymin) / (ymax - ymin)) * (bottom - top);
  for (const t of yt) {
    const y = Math.round(py(t));
    drawLine(r, left + 1, y, right, y, GRID);
    drawLine(r, left - 4, y, left, y, BLACK);
    const label = formatTick(t);
    drawText(r, label, left - 7 - textWidth(label), y - 3, BLACK);
  }
  for (const t of xt) {
    const x = Math.round(px(t));
    drawLine(r, x, top, x, bottom - 1, GRID);
    drawLine(r, x, bottom, x, bottom + 4, BLACK);
    const label = formatTick(t);
    drawText(r, label, x - textWidth(label) / 2, bottom + 8, BLACK);
  }
  drawLine(r, left, top, left, bottom, BLACK);
  drawLine(r, left, bottom, right, bottom, BLACK);
  if (o.xLabel) {
    drawText(
      r,
      o.xLabel,
      (left + right - textWidth(o.xLabel)) / 2,
      bottom + 8 + textHeight() + 6,
      BLACK,
    );
  }
  if (o.yLabel) drawText(r, o.yLabel, 4, top - 12 > 0 ? top - 12 : 2, BLACK);
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    for (let i = 1; i < pts.length; i++) {
      drawLine(
        r,
        px(pts[i - 1][0]),
        py(pts[i - 1][1]),
        px(pts[i][0]),
        py(pts[i][1]),
        s.color,
        s.thickness ?? 1,
      );
    }
    if (s.markers || pts.length === 1) {
      for (const [x, y] of pts)
        fillRect(r, Math.round(px(x)) - 2, Math.round(py(y)) - 2, 5, 5, s.color);
    }
  }
  // Legend, top right inside the plot.
  const lw = Math.max(0, ...series.map((s) => textWidth(s.name))) + 28;
  let ly = top + 8;
  const lx = right - lw - 8;
  if (series.length) {
    fillRect(r, lx - 4, ly - 4, lw + 8, series.length * 14 + 4, [255, 255, 255]);
  }
  for (const s of series) {
    fillRect(r, lx, ly + 2, 16, 3, s.color);
    drawText(r, s.name, lx + 22, ly, BLACK);
    ly += 14;
  }
  return r;
}
