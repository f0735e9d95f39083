import { applyActivation } from '@pixelcnn/gated-resnet';
import { type ConvParams, type DenseParams, effectiveWeight } from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import type { BlockParams, NetworkParams } from '../network';
import { PositionCache } from './positionCache';

/** A layer's effective weight (weight norm folded in once per sampling run) and bias. */
interface Linear {
  w: tf.Tensor;
  b: tf.Tensor;
  kernel: [number, number];
}

function linear(p: ConvParams | DenseParams): Linear {
  const isConv = 'kernelSize' in p;
  const outAxis = isConv ? (p.transposed ? 2 : 3) : 1;
  // clone: without weight norm effectiveWeight is the variable itself, which we must not dispose
  return {
    w: tf.keep(tf.clone(effectiveWeight(p, outAxis))),
    b: tf.keep(tf.clone(p.b)),
    kernel: isConv ? p.kernelSize : [1, 1],
  };
}

/** `[N, 1, w, in] -> [N, 1, w, out]`, a dense layer at every position. */
function pointwise(x: tf.Tensor4D, l: Linear): tf.Tensor4D {
  const [n, hh, w, d] = x.shape;
  const y = tf.add(tf.matMul(tf.reshape(x, [n * hh * w, d]), l.w as tf.Tensor2D), l.b);
  return tf.reshape(y, [n, hh, w, l.w.shape[1] as number]);
}

/** A VALID conv of a window that yields exactly the wanted outputs, plus the bias. */
function convValid(win: tf.Tensor4D, l: Linear, strides: 1 | 2): tf.Tensor4D {
  return tf.add(tf.conv2d(win, l.w as tf.Tensor4D, strides, 'valid'), l.b);
}

/** The two stream caches of a gated resnet (vertical or horizontal half). */
interface ResnetHalf {
  conv1: Linear;
  conv2: Linear;
  skip?: Linear;
  /** dense(h, cond) `[N, 1, 1, 2F]`, computed once. */
  cond?: tf.Tensor4D;
  input: PositionCache;
  /** act(conv1(...)), which conv2 reads over a neighbourhood. */
  c1a: PositionCache;
  out: PositionCache;
}

/** A gated resnet half and, in the upsampling pass, the down-pass cache it takes as skip. */
type ResnetStream = ResnetHalf & { skipCache?: PositionCache };

/** A stride-2 conv (downsample) or transposed conv (upsample) of one stream. */
interface ResampleStream {
  lin: Linear;
  input: PositionCache;
  out: PositionCache;
}

type Step =
  | { kind: 'resnet'; level: number; vertical: ResnetStream; horizontal: ResnetStream }
  | {
      kind: 'downsample' | 'upsample';
      /** Level of the output (level l has resolution H / 2^l). */
      level: number;
      vertical: ResampleStream;
      horizontal: ResampleStream;
    };

type ResnetParams = Extract<BlockParams, { kind: 'resnet' }>['vertical'];

/**
 * The network of a {@link NetworkParams}, evaluated incrementally in raster order (Ramachandran
 * et al. 2017, "Fast Generation for Convolutional Autoregressive Models"): every activation of
 * every layer is computed once, at the step where its inputs became final, and kept while a later
 * position still reads it. Per image row {@link startRow} computes the vertical stream's rows (at
 * every resolution whose row starts here: coarse level l every 2^l rows); per pixel {@link pixel}
 * computes the horizontal stream at that position (coarse level l at pixels (2^l i, 2^l j)) and the
 * head. Stride-2 and transposed layers read the caches of the neighbouring resolution.
 *
 * Exact: the values equal the full network's on the same inputs (to float rounding), because
 * every causal conv sees the same inputs, only cut to the window it needs. `feed` must be given
 * pixel (r, c) before `pixel` of the next position, and rows in order; reading a position that
 * was not computed yet throws.
 *
 * Cost per image: about one full forward pass of FLOPs plus a few small ops per layer and pixel,
 * instead of H*W full forward passes.
 */
export class IncrementalNetwork {
  private readonly W: number;
  private readonly caches: PositionCache[] = [];
  private readonly linears: Linear[] = [];
  private readonly conds: tf.Tensor[] = [];
  private readonly steps: Step[] = [];
  private x!: PositionCache;
  private v0!: PositionCache;
  private hUp!: PositionCache;
  private h0!: PositionCache;
  private init!: { vertical: Linear; up: Linear; left: Linear };
  private head!: Linear;
  private final!: PositionCache;
  private ones?: tf.Tensor4D;
  private readonly activation: NetworkParams['activation'];

  /**
   * @param params the network (plan and variables), in evaluation mode (no dropout).
   * @param n images evaluated together.
   * @param h conditioning vectors `[n | 1, units]` of a conditional network.
   */
  constructor(
    params: NetworkParams,
    readonly n: number,
    h?: tf.Tensor2D,
  ) {
    const { plan } = params;
    this.activation = params.activation;
    const first = plan.blocks.find((b) => b.kind === 'resnet');
    const [H, W] = first && first.kind === 'resnet' ? first.resolution : [0, 0];
    this.W = W;
    const F = plan.filters;
    // No layer reads further back than its kernel's rows (a stride-2 layer: twice that, in rows
    // of the finer cache, which is still within its own kernel rows of the newest fine row).
    const kernels = [
      plan.init.vertical.kernelSize[0],
      ...plan.blocks.flatMap((b) => [b.vertical.kernelSize[0], b.horizontal.kernelSize[0]]),
    ];
    const keep = Math.max(...kernels) + 1;
    const levelOf = (res: [number, number]) => Math.round(Math.log2(H / res[0]));
    const cache = (name: string, level: number, d: number) => {
      const c = new PositionCache(name, n, H >> level, W >> level, d, keep);
      this.caches.push(c);
      return c;
    };
    const lin = (p: ConvParams | DenseParams) => {
      const l = linear(p);
      this.linears.push(l);
      return l;
    };
    try {
      tf.tidy(() => {
        this.x = cache('input', 0, plan.inputChannels);
        if (plan.inputChannels > plan.channels) {
          this.ones = tf.keep(tf.ones([n, 1, 1, plan.inputChannels - plan.channels]));
        }
        this.init = {
          vertical: lin(params.init.vertical),
          up: lin(params.init.horizontalUp),
          left: lin(params.init.horizontalLeft),
        };
        this.v0 = cache('init/vertical', 0, F);
        this.hUp = cache('init/horizontalUp', 0, F);
        this.h0 = cache('init/horizontal', 0, F);

        const condOf = (p: DenseParams | undefined) => {
          if (!p || !h) return undefined;
          const w = effectiveWeight(p, 1) as tf.Tensor2D; // [units, 2F]
          const proj = tf.keep(tf.reshape(tf.add(tf.matMul(h, w), p.b), [h.shape[0], 1, 1, -1]));
          this.conds.push(proj);
          return proj as tf.Tensor4D;
        };
        const half = (
          name: string,
          level: number,
          p: ResnetParams,
          input: PositionCache,
        ): ResnetHalf => ({
          conv1: lin(p.conv1),
          conv2: lin(p.conv2),
          skip: p.skip ? lin(p.skip) : undefined,
          cond: condOf(p.cond),
          input,
          c1a: cache(`${name}/c1a`, level, input.d * (this.activation === 'concat_elu' ? 2 : 1)),
          out: cache(name, level, F),
        });

        // The skip lists of networkForward, holding caches instead of tensors.
        let s = { vertical: this.v0, horizontal: this.h0 };
        const vList = [s.vertical];
        const hList = [s.horizontal];
        let i = 0;
        const blocks = params.blocks;
        for (; i < blocks.length; i++) {
          const b = blocks[i];
          if (b.kind === 'upsample' || (b.kind === 'resnet' && b.spec.pass === 'upsampling')) break;
          s = this.compile(b, s, undefined, levelOf, half, lin, cache);
          vList.push(s.vertical);
          hList.push(s.horizontal);
        }
        s = { vertical: vList.pop()!, horizontal: hList.pop()! };
        for (; i < blocks.length; i++) {
          const b = blocks[i];
          const skips =
            b.kind === 'resnet' ? { vertical: vList.pop()!, horizontal: hList.pop()! } : undefined;
          s = this.compile(b, s, skips, levelOf, half, lin, cache);
        }
        this.final = s.horizontal;
        this.head = lin(params.head);
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  private compile(
    b: BlockParams,
    s: { vertical: PositionCache; horizontal: PositionCache },
    skips: { vertical: PositionCache; horizontal: PositionCache } | undefined,
    levelOf: (res: [number, number]) => number,
    half: (name: string, level: number, p: ResnetParams, input: PositionCache) => ResnetHalf,
    lin: (p: ConvParams | DenseParams) => Linear,
    cache: (name: string, level: number, d: number) => PositionCache,
  ): { vertical: PositionCache; horizontal: PositionCache } {
    if (b.kind === 'resnet') {
      const level = levelOf(b.spec.resolution);
      const vertical: ResnetStream = {
        ...half(`${b.spec.name}/vertical`, level, b.vertical, s.vertical),
        skipCache: skips?.vertical,
      };
      const horizontal: ResnetStream = {
        ...half(`${b.spec.name}/horizontal`, level, b.horizontal, s.horizontal),
        skipCache: skips?.horizontal,
      };
      this.steps.push({ kind: 'resnet', level, vertical, horizontal });
      return { vertical: vertical.out, horizontal: horizontal.out };
    }
    const level = levelOf(b.spec.to);
    const F = b.spec.vertical.outChannels;
    const vertical = {
      lin: lin(b.vertical),
      input: s.vertical,
      out: cache(`${b.spec.name}/vertical`, level, F),
    };
    const horizontal = {
      lin: lin(b.horizontal),
      input: s.horizontal,
      out: cache(`${b.spec.name}/horizontal`, level, F),
    };
    this.steps.push({ kind: b.kind, level, vertical, horizontal });
    return { vertical: vertical.out, horizontal: horizontal.out };
  }

  private act(t: tf.Tensor4D): tf.Tensor4D {
    return applyActivation(t, this.activation) as tf.Tensor4D;
  }

  /** Gate: `x + a * sigmoid(b)` of conv2's `[.., 2F]` output. */
  private gate(x: tf.Tensor4D, c2: tf.Tensor4D): tf.Tensor4D {
    const F = x.shape[3];
    const a = tf.slice(c2, [0, 0, 0, 0], [-1, -1, -1, F]);
    const g = tf.slice(c2, [0, 0, 0, F], [-1, -1, -1, F]);
    return tf.add(x, tf.mul(a, tf.sigmoid(g)));
  }

  /**
   * Compute the vertical stream's rows that become final at image row `r` (every input row above
   * `r` must have been fed): level l's row r / 2^l for every l with 2^l dividing r.
   */
  startRow(r: number): void {
    tf.tidy(() => {
      const W = this.W;
      // init: vertical = downShift(conv(x)), horizontalUp = downShift(conv(x)): row r is the conv
      // at row r-1 (zero at row 0, not the bias).
      if (r === 0) {
        this.v0.setRow(0, tf.zeros([this.n, 1, W, this.v0.d]));
        this.hUp.setRow(0, tf.zeros([this.n, 1, W, this.hUp.d]));
      } else {
        const [khv, kwv] = this.init.vertical.kernel;
        const sv = (kwv - 1) / 2;
        this.v0.setRow(
          r,
          convValid(this.x.window(r - khv, r - 1, -sv, W - 1 + sv), this.init.vertical, 1),
        );
        const su = (this.init.up.kernel[1] - 1) / 2;
        this.hUp.setRow(
          r,
          convValid(this.x.window(r - 1, r - 1, -su, W - 1 + su), this.init.up, 1),
        );
      }
      for (const st of this.steps) {
        if (r % (1 << st.level) !== 0) continue;
        const i = r >> st.level;
        if (st.kind === 'resnet') this.resnetRow(st.vertical, i);
        else if (st.kind === 'downsample') this.downsampleRow(st.vertical, i);
        else this.upsampleRow(st.vertical, i);
      }
    });
  }

  private resnetRow(p: ResnetStream, i: number): void {
    const w = p.input.w;
    const [kh, kw] = p.conv1.kernel;
    const side = (kw - 1) / 2;
    let c1 = convValid(this.act(p.input.window(i - kh + 1, i, -side, w - 1 + side)), p.conv1, 1);
    if (p.skip && p.skipCache) c1 = tf.add(c1, pointwise(this.act(p.skipCache.row(i)), p.skip));
    p.c1a.setRow(i, this.act(c1));
    let c2 = convValid(p.c1a.window(i - kh + 1, i, -side, w - 1 + side), p.conv2, 1);
    if (p.cond) c2 = tf.add(c2, p.cond);
    p.out.setRow(i, this.gate(p.input.row(i), c2));
  }

  private downsampleRow(p: ResampleStream, i: number): void {
    const [kh, kw] = p.lin.kernel;
    const side = (kw - 1) / 2;
    const win = p.input.window(2 * i - kh + 1, 2 * i, -side, p.input.w - 1 + side);
    p.out.setRow(i, convValid(win, p.lin, 2));
  }

  private upsampleRow(p: ResampleStream, r: number): void {
    // all input columns; the down-shifted deconv keeps the centred 2w of its VALID output
    const side = (p.lin.kernel[1] - 1) / 2;
    p.out.setRow(r, this.transposedRow(p, r, 0, p.input.w - 1, side, 2 * p.input.w));
  }

  /**
   * Row `r` of a stride-2 transposed conv (plus bias), output columns `[start, start + count)`
   * of its VALID result, from input columns `[jlo, jhi]`: the input rows that reach row `r`
   * (`2i <= r < 2i + kh`) and those columns must be all that reach the wanted outputs. A
   * 1-row kernel reaches no odd row (then only the bias).
   */
  private transposedRow(
    p: ResampleStream,
    r: number,
    jlo: number,
    jhi: number,
    start: number,
    count: number,
  ): tf.Tensor4D {
    const [kh, kw] = p.lin.kernel;
    const lo = Math.max(0, Math.ceil((r - kh + 1) / 2));
    const hi = r >> 1;
    if (lo > hi || jlo > jhi) return tf.add(tf.zeros([this.n, 1, count, p.out.d]), p.lin.b);
    const win = p.input.window(lo, hi, jlo, jhi); // [N, rows, cols, in]
    const rows = hi - lo + 1;
    const cols = jhi - jlo + 1;
    const full = tf.conv2dTranspose(
      win,
      p.lin.w as tf.Tensor4D,
      [this.n, 2 * rows + kh - 1, 2 * cols + kw - 1, p.out.d],
      2,
      'valid',
    );
    const out = tf.slice(full, [0, r - 2 * lo, start - 2 * jlo, 0], [-1, 1, count, -1]);
    return tf.add(out, p.lin.b);
  }

  /**
   * Compute the horizontal stream at pixel `(r, c)` (at every resolution whose pixel starts
   * here) and the head: raw mixture parameters `[n, P]` of pixel (r, c). `startRow(r)` and `feed`
   * of every earlier pixel must have run. The caller disposes the result.
   */
  pixel(r: number, c: number): tf.Tensor2D {
    return tf.tidy(() => {
      this.advance(r, c);
      const top = this.final.pixel(r, c); // [N, 1, 1, F]
      const raw = pointwise(tf.elu(top), this.head);
      return tf.reshape(raw, [this.n, raw.shape[3]]) as tf.Tensor2D;
    });
  }

  /**
   * {@link pixel} without the head: compute the horizontal stream at `(r, c)` only, for a pixel
   * whose value is known (a completion's prefix).
   */
  advance(r: number, c: number): void {
    tf.tidy(() => {
      // init: horizontal = downShift(up(x)) + rightShift(left(x)); the right shift is zero at c = 0.
      let h0 = this.hUp.pixel(r, c);
      if (c > 0) {
        const kw = this.init.left.kernel[1];
        h0 = tf.add(h0, convValid(this.x.window(r - 1, r, c - kw, c - 1), this.init.left, 1));
      }
      this.h0.setPixel(r, c, h0);
      for (const st of this.steps) {
        const m = (1 << st.level) - 1;
        if ((r & m) !== 0 || (c & m) !== 0) continue;
        const i = r >> st.level;
        const j = c >> st.level;
        if (st.kind === 'resnet') this.resnetPixel(st.horizontal, st.vertical.out, i, j);
        else if (st.kind === 'downsample') this.downsamplePixel(st.horizontal, i, j);
        else this.upsamplePixel(st.horizontal, i, j);
      }
    });
  }

  private resnetPixel(p: ResnetStream, vertical: PositionCache, i: number, j: number): void {
    const [kh, kw] = p.conv1.kernel;
    let c1 = convValid(this.act(p.input.window(i - kh + 1, i, j - kw + 1, j)), p.conv1, 1);
    if (p.skip) {
      // Down pass: the skip is the new vertical output; up pass: it and the popped skip.
      const v = vertical.pixel(i, j);
      const skip = p.skipCache ? tf.concat([v, p.skipCache.pixel(i, j)], 3) : v;
      c1 = tf.add(c1, pointwise(this.act(skip as tf.Tensor4D), p.skip));
    }
    p.c1a.setPixel(i, j, this.act(c1));
    let c2 = convValid(p.c1a.window(i - kh + 1, i, j - kw + 1, j), p.conv2, 1);
    if (p.cond) c2 = tf.add(c2, p.cond);
    p.out.setPixel(i, j, this.gate(p.input.pixel(i, j), c2));
  }

  private downsamplePixel(p: ResampleStream, i: number, j: number): void {
    const [kh, kw] = p.lin.kernel;
    const win = p.input.window(2 * i - kh + 1, 2 * i, 2 * j - kw + 1, 2 * j);
    p.out.setPixel(i, j, convValid(win, p.lin, 2));
  }

  private upsamplePixel(p: ResampleStream, r: number, c: number): void {
    // the input columns that reach column c (2j <= c < 2j + kw); the down-right-shifted deconv
    // keeps its VALID output from column 0
    const jlo = Math.max(0, Math.ceil((c - p.lin.kernel[1] + 1) / 2));
    p.out.setPixel(r, c, this.transposedRow(p, r, jlo, c >> 1, c, 1));
  }

  /** Give the network input at pixel `(r, c)`: the fed-back values `[n, C]`, scaled to [-1, 1]. */
  feed(r: number, c: number, values: tf.Tensor2D): void {
    tf.tidy(() => {
      let px = tf.reshape(values, [this.n, 1, 1, values.shape[1]]) as tf.Tensor4D;
      if (this.ones) px = tf.concat([px, this.ones], 3);
      this.x.setPixel(r, c, px);
    });
  }

  /** Dispose every cache and the folded weights. */
  dispose(): void {
    for (const c of this.caches) c.dispose();
    for (const l of this.linears) tf.dispose([l.w, l.b]);
    tf.dispose(this.conds);
    this.ones?.dispose();
  }
}
