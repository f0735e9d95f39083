// Float64 references in plain JS for the gated resnet (written from the formulas in the TSDoc).
import type { ConvParams, DenseParams } from '@pixelcnn/masked-conv';
import type * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../src';

/** Pixels x channels: a [N, C] matrix of float64 rows (N = B*H*W), row-major. */
export interface Mat {
  n: number;
  c: number;
  data: Float64Array;
}

export async function mat(t: tf.Tensor): Promise<Mat> {
  const c = t.shape[t.rank - 1];
  const data = Float64Array.from(await t.data());
  return { n: data.length / c, c, data };
}

export function act(m: Mat, a: Activation): Mat {
  const elu = (v: number) => (v > 0 ? v : Math.expm1(v));
  if (a !== 'concat_elu') {
    const f = a === 'elu' ? elu : (v: number) => Math.max(v, 0);
    return { ...m, data: m.data.map(f) };
  }
  const out = new Float64Array(m.n * 2 * m.c);
  for (let i = 0; i < m.n; i++)
    for (let k = 0; k < m.c; k++) {
      const v = m.data[i * m.c + k];
      out[i * 2 * m.c + k] = elu(v);
      out[i * 2 * m.c + m.c + k] = elu(-v);
    }
  return { n: m.n, c: 2 * m.c, data: out };
}

/** Weight-normalised (if p.weightNorm) [in, out] matrix of a 1x1 conv or dense layer. */
async function weights(
  p: ConvParams | DenseParams,
): Promise<{ w: Float64Array; b: Float64Array; cin: number; cout: number }> {
  const v = Float64Array.from(await p.v.data());
  const cout = p.b.shape[0];
  const cin = v.length / cout;
  const b = Float64Array.from(await p.b.data());
  if (!p.weightNorm || !p.g) return { w: v, b, cin, cout };
  const g = await p.g.data();
  const w = new Float64Array(v.length);
  for (let o = 0; o < cout; o++) {
    let sq = 0;
    for (let i = 0; i < cin; i++) sq += v[i * cout + o] ** 2;
    for (let i = 0; i < cin; i++) w[i * cout + o] = (g[o] * v[i * cout + o]) / Math.sqrt(sq);
  }
  return { w, b, cin, cout };
}

/** y = m W + b for a 1x1 conv / dense layer. */
export async function linear(m: Mat, p: ConvParams | DenseParams): Promise<Mat> {
  const { w, b, cin, cout } = await weights(p);
  if (cin !== m.c) throw new Error(`linear: ${m.c} vs ${cin}`);
  const out = new Float64Array(m.n * cout);
  for (let i = 0; i < m.n; i++)
    for (let o = 0; o < cout; o++) {
      let acc = b[o];
      for (let k = 0; k < cin; k++) acc += m.data[i * cin + k] * w[k * cout + o];
      out[i * cout + o] = acc;
    }
  return { n: m.n, c: cout, data: out };
}

export function add(a: Mat, b: Mat): Mat {
  return { ...a, data: a.data.map((v, i) => v + b.data[i]) };
}

/** Per-channel mean and population variance. */
export function channelStats(m: Mat): { mean: number[]; variance: number[] } {
  const mean = new Array<number>(m.c).fill(0);
  const variance = new Array<number>(m.c).fill(0);
  for (let i = 0; i < m.data.length; i++) mean[i % m.c] += m.data[i] / m.n;
  for (let i = 0; i < m.data.length; i++)
    variance[i % m.c] += (m.data[i] - mean[i % m.c]) ** 2 / m.n;
  return { mean, variance };
}

export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxRelDiff: lengths ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

// Dependency sets (which input pixels of one image each pixel can depend on), stride 1 only.
export type Deps = Uint8Array[]; // H*W sets over H*W input pixels

export function identityDeps(h: number, w: number): Deps {
  return Array.from({ length: h * w }, (_, k) => {
    const s = new Uint8Array(h * w);
    s[k] = 1;
    return s;
  });
}

export function union(...ds: Deps[]): Deps {
  return ds[0].map((s, k) => {
    const out = new Uint8Array(s.length);
    for (const d of ds) for (let i = 0; i < s.length; i++) out[i] |= d[k][i];
    return out;
  });
}

/** Output (r, c) gathers input (r + dr, c + dc) for each tap offset. */
export function gather(d: Deps, h: number, w: number, offsets: [number, number][]): Deps {
  return d.map((_, k) => {
    const r = Math.floor(k / w);
    const c = k % w;
    const out = new Uint8Array(d[0].length);
    for (const [dr, dc] of offsets) {
      const rr = r + dr;
      const cc = c + dc;
      if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
      const src = d[rr * w + cc];
      for (let i = 0; i < out.length; i++) out[i] |= src[i];
    }
    return out;
  });
}

/** Tap offsets of a down-shifted [kh, kw] conv: rows -(kh-1)..0, columns -(kw-1)/2..(kw-1)/2. */
export function downShiftedTaps(kh: number, kw: number): [number, number][] {
  const t: [number, number][] = [];
  for (let p = 0; p < kh; p++)
    for (let q = 0; q < kw; q++) t.push([p - (kh - 1), q - (kw - 1) / 2]);
  return t;
}

/** Tap offsets of a down-right-shifted [kh, kw] conv: rows -(kh-1)..0, columns -(kw-1)..0. */
export function downRightShiftedTaps(kh: number, kw: number): [number, number][] {
  const t: [number, number][] = [];
  for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) t.push([p - (kh - 1), q - (kw - 1)]);
  return t;
}
