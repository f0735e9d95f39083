// Independent float64 references in plain JS, written from the index formulas in the TSDoc
// (not from the pad/slice code they check).
import type * as tf from '@tensorflow/tfjs-core';

/** A rank-4 array in float64, row-major like NHWC / HWIO. */
export interface Arr4 {
  shape: [number, number, number, number];
  data: Float64Array;
}

export async function arr4(t: tf.Tensor): Promise<Arr4> {
  if (t.rank !== 4) throw new Error(`arr4: rank ${t.rank}`);
  return { shape: t.shape as Arr4['shape'], data: Float64Array.from(await t.data()) };
}

export function zeros4(shape: Arr4['shape']): Arr4 {
  return { shape, data: new Float64Array(shape[0] * shape[1] * shape[2] * shape[3]) };
}

export function idx(a: Arr4, i: number, j: number, k: number, l: number): number {
  const [, s1, s2, s3] = a.shape;
  return ((i * s1 + j) * s2 + k) * s3 + l;
}

export function at(a: Arr4, i: number, j: number, k: number, l: number): number {
  return a.data[idx(a, i, j, k, l)];
}

/** Weight norm in float64: `g * v / ||v||`, norm over every axis but `outAxis` (2 or 3). */
export function weightNormRef(v: Arr4, g: ArrayLike<number>, outAxis: 2 | 3): Arr4 {
  const out = v.shape[outAxis];
  const sq = new Float64Array(out);
  const w = zeros4(v.shape);
  const [a, b, c, d] = v.shape;
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++)
        for (let l = 0; l < d; l++) sq[outAxis === 3 ? l : k] += at(v, i, j, k, l) ** 2;
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++)
        for (let l = 0; l < d; l++) {
          const o = outAxis === 3 ? l : k;
          w.data[idx(w, i, j, k, l)] = (g[o] * at(v, i, j, k, l)) / Math.sqrt(sq[o]);
        }
  return w;
}

export type Kind = 'downShifted' | 'downRightShifted';

/** Column offset of tap 0 relative to the output column: centred or left-only. */
function colBack(kind: Kind, kw: number): number {
  return kind === 'downShifted' ? (kw - 1) / 2 : kw - 1;
}

/**
 * Shifted conv: `y[b,i,j,o] = bias[o] + sum x[b, s*i-(kh-1)+p, s*j-back+q, c] * w[p,q,c,o]`,
 * out-of-range inputs are zero; output `H/s x W/s`.
 */
export function shiftedConvRef(
  x: Arr4,
  w: Arr4,
  bias: ArrayLike<number>,
  kind: Kind,
  s: 1 | 2,
): Arr4 {
  const [B, H, W, C] = x.shape;
  const [kh, kw, , O] = w.shape;
  const back = colBack(kind, kw);
  const y = zeros4([B, H / s, W / s, O]);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H / s; i++)
      for (let j = 0; j < W / s; j++)
        for (let o = 0; o < O; o++) {
          let acc = bias[o];
          for (let p = 0; p < kh; p++)
            for (let q = 0; q < kw; q++) {
              const r = s * i - (kh - 1) + p;
              const c = s * j - back + q;
              if (r < 0 || r >= H || c < 0 || c >= W) continue;
              for (let ch = 0; ch < C; ch++) acc += at(x, b, r, c, ch) * at(w, p, q, ch, o);
            }
          y.data[idx(y, b, i, j, o)] = acc;
        }
  return y;
}

/**
 * Shifted transposed conv (w is `[kh, kw, out, in]`):
 * `y[b,r,c,o] = bias[o] + sum over s*i+p = r, s*j+q-side = c of x[b,i,j,ch] * w[p,q,o,ch]`,
 * side = (kw-1)/2 for downShifted, 0 for downRightShifted; output `s*H x s*W`.
 */
export function shiftedDeconvRef(
  x: Arr4,
  w: Arr4,
  bias: ArrayLike<number>,
  kind: Kind,
  s: 1 | 2,
): Arr4 {
  const [B, H, W, C] = x.shape;
  const [kh, kw, O] = w.shape;
  const side = kind === 'downShifted' ? (kw - 1) / 2 : 0;
  const y = zeros4([B, s * H, s * W, O]);
  for (let b = 0; b < B; b++)
    for (let r = 0; r < s * H; r++)
      for (let c = 0; c < s * W; c++)
        for (let o = 0; o < O; o++) {
          let acc = bias[o];
          for (let i = 0; i < H; i++)
            for (let j = 0; j < W; j++) {
              const p = r - s * i;
              const q = c + side - s * j;
              if (p < 0 || p >= kh || q < 0 || q >= kw) continue;
              for (let ch = 0; ch < C; ch++) acc += at(x, b, i, j, ch) * at(w, p, q, o, ch);
            }
          y.data[idx(y, b, r, c, o)] = acc;
        }
  return y;
}

/** Largest |a - b| / (1 + |b|). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxRelDiff: lengths ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

/** Per-channel mean and population variance (float64) of NHWC / [..., C] data. */
export function channelStats(
  data: ArrayLike<number>,
  channels: number,
): { mean: number[]; variance: number[] } {
  const n = data.length / channels;
  const mean = new Array<number>(channels).fill(0);
  const variance = new Array<number>(channels).fill(0);
  for (let i = 0; i < data.length; i++) mean[i % channels] += data[i] / n;
  for (let i = 0; i < data.length; i++)
    variance[i % channels] += (data[i] - mean[i % channels]) ** 2 / n;
  return { mean, variance };
}

// ---------------------------------------------------------------------------------------------
// Dependency propagation: which input pixels (of one image) each feature-map pixel can depend on,
// by the index formulas above. A map is H x W sets, each a Uint8Array over the H0*W0 input pixels.

export interface DepMap {
  h: number;
  w: number;
  n: number;
  sets: Uint8Array[];
}

export function identityDeps(h: number, w: number): DepMap {
  const n = h * w;
  const sets = [];
  for (let k = 0; k < n; k++) {
    const s = new Uint8Array(n);
    s[k] = 1;
    sets.push(s);
  }
  return { h, w, n, sets };
}

function emptyMap(h: number, w: number, n: number): DepMap {
  const sets = [];
  for (let k = 0; k < h * w; k++) sets.push(new Uint8Array(n));
  return { h, w, n, sets };
}

function orInto(dst: Uint8Array, src: Uint8Array): void {
  for (let k = 0; k < dst.length; k++) dst[k] |= src[k];
}

export function unionDeps(a: DepMap, b: DepMap): DepMap {
  const out = emptyMap(a.h, a.w, a.n);
  for (let k = 0; k < out.sets.length; k++) {
    orInto(out.sets[k], a.sets[k]);
    orInto(out.sets[k], b.sets[k]);
  }
  return out;
}

export function shiftDeps(d: DepMap, dr: number, dc: number): DepMap {
  const out = emptyMap(d.h, d.w, d.n);
  for (let r = 0; r < d.h; r++)
    for (let c = 0; c < d.w; c++) {
      const rr = r - dr;
      const cc = c - dc;
      if (rr >= 0 && cc >= 0) orInto(out.sets[r * d.w + c], d.sets[rr * d.w + cc]);
    }
  return out;
}

export function convDeps(d: DepMap, kind: Kind, [kh, kw]: [number, number], s: 1 | 2): DepMap {
  const back = colBack(kind, kw);
  const out = emptyMap(d.h / s, d.w / s, d.n);
  for (let i = 0; i < out.h; i++)
    for (let j = 0; j < out.w; j++)
      for (let p = 0; p < kh; p++)
        for (let q = 0; q < kw; q++) {
          const r = s * i - (kh - 1) + p;
          const c = s * j - back + q;
          if (r >= 0 && r < d.h && c >= 0 && c < d.w)
            orInto(out.sets[i * out.w + j], d.sets[r * d.w + c]);
        }
  return out;
}

export function deconvDeps(d: DepMap, kind: Kind, [kh, kw]: [number, number], s: 1 | 2): DepMap {
  const side = kind === 'downShifted' ? (kw - 1) / 2 : 0;
  const out = emptyMap(d.h * s, d.w * s, d.n);
  for (let r = 0; r < out.h; r++)
    for (let c = 0; c < out.w; c++)
      for (let i = 0; i < d.h; i++)
        for (let j = 0; j < d.w; j++) {
          const p = r - s * i;
          const q = c + side - s * j;
          if (p >= 0 && p < kh && q >= 0 && q < kw)
            orInto(out.sets[r * out.w + c], d.sets[i * d.w + j]);
        }
  return out;
}
