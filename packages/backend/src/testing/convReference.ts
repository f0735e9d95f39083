/**
 * Float64 reference convolutions in plain JS for the kernel tests (independent of tfjs: the
 * padding follows TensorFlow's documented rules). NHWC; filter [kh, kw, C, O].
 */

export type RefPad = 'same' | 'valid' | [[number, number], [number, number]];

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  kh: number;
  kw: number;
  stride: [number, number];
  dilation: [number, number];
  pad: RefPad;
}

export interface ConvLayout {
  outH: number;
  outW: number;
  top: number;
  left: number;
}

function axis(
  size: number,
  k: number,
  s: number,
  d: number,
  pad: 'same' | 'valid' | [number, number],
) {
  const eff = (k - 1) * d + 1;
  if (pad === 'same') {
    const out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + eff - size, 0);
    return { out, before: Math.floor(total / 2) };
  }
  if (pad === 'valid') return { out: Math.ceil((size - eff + 1) / s), before: 0 };
  return { out: Math.floor((size + pad[0] + pad[1] - eff) / s) + 1, before: pad[0] };
}

/** Output size and top/left padding of conv2d, TensorFlow's rules. */
export function convLayout(g: ConvGeometry): ConvLayout {
  const ph = g.pad === 'same' || g.pad === 'valid' ? g.pad : g.pad[0];
  const pw = g.pad === 'same' || g.pad === 'valid' ? g.pad : g.pad[1];
  const r = axis(g.inH, g.kh, g.stride[0], g.dilation[0], ph);
  const c = axis(g.inW, g.kw, g.stride[1], g.dilation[1], pw);
  return { outH: r.out, outW: c.out, top: r.before, left: c.before };
}

/**
 * Visit every (input element, filter element, output element) triple of conv2d:
 * y[b, i, j, o] += x[b, p, q, c] * w[di, dj, c, o].
 */
function forEachTap(
  g: ConvGeometry,
  f: (xIndex: number, wIndex: number, yIndex: number) => void,
): void {
  const { outH, outW, top, left } = convLayout(g);
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  for (let b = 0; b < g.batch; b++)
    for (let i = 0; i < outH; i++)
      for (let j = 0; j < outW; j++)
        for (let di = 0; di < g.kh; di++) {
          const p = i * sh + di * dh - top;
          if (p < 0 || p >= g.inH) continue;
          for (let dj = 0; dj < g.kw; dj++) {
            const q = j * sw + dj * dw - left;
            if (q < 0 || q >= g.inW) continue;
            for (let c = 0; c < g.inC; c++) {
              const xIndex = ((b * g.inH + p) * g.inW + q) * g.inC + c;
              for (let o = 0; o < g.outC; o++) {
                const wIndex = ((di * g.kw + dj) * g.inC + c) * g.outC + o;
                const yIndex = ((b * outH + i) * outW + j) * g.outC + o;
                f(xIndex, wIndex, yIndex);
              }
            }
          }
        }
}

/** y = conv2d(x, w), float64. */
export function conv2dRef(
  g: ConvGeometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
): Float64Array {
  const { outH, outW } = convLayout(g);
  const y = new Float64Array(g.batch * outH * outW * g.outC);
  forEachTap(g, (xi, wi, yi) => {
    y[yi] += x[xi] * w[wi];
  });
  return y;
}

/** dL/dx for L = sum(conv2d(x, w) * dy), float64 (conv2d's input gradient / conv2dTranspose). */
export function conv2dInputGradRef(
  g: ConvGeometry,
  dy: ArrayLike<number>,
  w: ArrayLike<number>,
): Float64Array {
  const dx = new Float64Array(g.batch * g.inH * g.inW * g.inC);
  forEachTap(g, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
  });
  return dx;
}

/** dL/dw for L = sum(conv2d(x, w) * dy), float64 (conv2d's filter gradient). */
export function conv2dFilterGradRef(
  g: ConvGeometry,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
): Float64Array {
  const dw = new Float64Array(g.kh * g.kw * g.inC * g.outC);
  forEachTap(g, (xi, wi, yi) => {
    dw[wi] += x[xi] * dy[yi];
  });
  return dw;
}

/** max|a - b| / max|b|: the relative error the kernel tests bound. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: lengths ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** Deterministic uniform(-1, 1) values (mulberry32), so failures reproduce. */
export function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}
