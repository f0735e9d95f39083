import { LOSS_SMOOTHING, smoothSeries } from '@pixelcnn/pixelcnn-dist/run';
import type { MetricsSummary } from './metrics';

/**
 * About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten).
 * Returns [] for an empty or non-finite range.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || count < 1) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  // Round away float noise (0.30000000000000004) at the step's own decimals.
  const decimals = Math.min(100, Math.max(0, 1 - Math.floor(Math.log10(step))));
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

/** A linear map from data coordinates to pixels. */
export function linearScale(
  domain: [number, number],
  range: [number, number],
): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  return (v) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0));
}

export interface LossCurveOptions {
  width?: number;
  height?: number;
  /** Smoothing of the per-step training curve (0 = none). Default: the trainer's loss.png's. */
  smoothing?: number;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(4))));

/** The plot box inside the SVG (margins for the axes' labels). */
export function plotBox(width: number, height: number) {
  return { left: 52, right: width - 12, top: 24, bottom: height - 36 };
}

/**
 * The loss curve as an SVG document: training bits/dim per step (raw, light; smoothed, dark) and
 * held-out bits/dim per evaluation (points with 95% CI bars), axes with round ticks. A summary
 * without points gives a placeholder saying so.
 */
export function lossCurveSvg(m: MetricsSummary, o: LossCurveOptions = {}): string {
  const width = o.width ?? 560;
  const height = o.height ?? 280;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="loss curve">`;
  const points = [...m.train, ...m.heldOut.map(([s, b]) => [s, b] as [number, number])];
  if (points.length === 0) {
    return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="muted">no metrics yet</text></svg>`;
  }
  const box = plotBox(width, height);
  const xs = points.map((p) => p[0]);
  const ys = [...m.train.map((p) => p[1]), ...m.heldOut.flatMap(([, b, ci]) => [b - ci, b + ci])];
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = linearScale([x0, x1], [box.left, box.right]);
  const sy = linearScale([y0, y1], [box.bottom, box.top]);
  const path = (pts: readonly [number, number][]) =>
    pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
  const parts: string[] = [open];
  parts.push(
    `<rect x="${box.left}" y="${box.top}" width="${box.right - box.left}" height="${box.bottom - box.top}" fill="none" stroke="#ccc"/>`,
  );
  for (const t of niceTicks(y0, y1, 5)) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line x1="${box.left}" x2="${box.right}" y1="${y}" y2="${y}" stroke="#eee"/>`,
      `<text x="${box.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${fmt(t)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1, 6)) {
    const x = sx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${box.bottom}" y2="${box.bottom + 4}" stroke="#888"/>`,
      `<text x="${x}" y="${box.bottom + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<text x="${(box.left + box.right) / 2}" y="${height - 4}" text-anchor="middle" font-size="11">optimizer step</text>`,
    `<text x="12" y="${(box.top + box.bottom) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(box.top + box.bottom) / 2})">bits/dim</text>`,
  );
  if (m.train.length) {
    parts.push(
      `<path class="train-raw" d="${path(m.train)}" fill="none" stroke="#b0c4e8" stroke-width="1"/>`,
      `<path class="train-smooth" d="${path(smoothSeries(m.train, o.smoothing ?? LOSS_SMOOTHING))}" fill="none" stroke="#1f5ac8" stroke-width="2"/>`,
    );
  }
  for (const [s, b, ci] of m.heldOut) {
    const x = sx(s).toFixed(1);
    if (ci > 0) {
      parts.push(
        `<line class="held-ci" x1="${x}" x2="${x}" y1="${sy(b - ci).toFixed(1)}" y2="${sy(b + ci).toFixed(1)}" stroke="#e67814"/>`,
      );
    }
    parts.push(
      `<circle class="held-out" cx="${x}" cy="${sy(b).toFixed(1)}" r="3.5" fill="#e67814"><title>${esc(`step ${s}: ${b.toFixed(4)} ± ${ci.toFixed(4)} bits/dim`)}</title></circle>`,
    );
  }
  const legend: [string, string][] = [];
  if (m.train.length) legend.push(['#1f5ac8', 'train (smoothed)']);
  if (m.heldOut.length) legend.push(['#e67814', 'held-out']);
  legend.forEach(([color, label], i) => {
    const x = box.left + 8 + i * 130;
    parts.push(
      `<rect x="${x}" y="6" width="12" height="4" fill="${color}"/>`,
      `<text x="${x + 16}" y="11" font-size="11">${esc(label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
