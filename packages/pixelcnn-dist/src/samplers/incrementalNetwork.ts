import {
  type ConvFn,
  conditionProjection,
  type GatedResnetParams,
  gate,
  gatedResnetHidden,
} from '@pixelcnn/gated-resnet';
import {
  type ConvParams,
  conv2d,
  type DenseParams,
  deconv2d,
  effectiveWeight,
  withEffectiveWeights,
} from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import {
  applyHead,
  type NetworkParams,
  networkLayers,
  outAxisOf,
  type ResampleBlockParams,
  type ResnetBlockParams,
} from '../network';
import { type ResampleSpec, type ResnetSpec, walkNetwork } from '../networkPlan';
import { PositionCache } from './positionCache';

/** The causal conv step on a cached window: a VALID conv that yields exactly the wanted outputs. */
const validConv: ConvFn = (x, p) => conv2d(x, p, { padding: 'valid' });

/** One stream of a gated resnet: its parameters and caches. */
interface ResnetStream {
  params: GatedResnetParams;
  /** conditionProjection(h) `[N | 1, 1, 1, 2F]`, computed once. */
  cond?: tf.Tensor4D;
  input: PositionCache;
  /** gatedResnetHidden's output (conv2's input), which conv2 reads over a neighbourhood. */
  c1a: PositionCache;
  out: PositionCache;
  /** Upsampling pass: the popped skip (the walk's `skip`). */
  skipCache?: PositionCache;
}

/** A stride-2 conv (downsample) or transposed conv (upsample) of one stream. */
interface ResampleStream {
  params: ConvParams;
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

/** The two streams' caches of one layer. */
interface CachedStreams {
  vertical: PositionCache;
  horizontal: PositionCache;
}

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
 * The layer math is the network's own: the causal convs are masked-conv's `conv2d` (VALID) and
 * `deconv2d` on the cached window, the gated resnets gated-resnet's `gatedResnetHidden` and
 * `gate`, the head `applyHead`, all run with the weight norm folded in once
 * (`withEffectiveWeights`); the wiring is {@link walkNetwork}'s. Only the windows are ours.
 *
 * Cost per image: about one full forward pass of FLOPs plus a few small ops per layer and pixel,
 * instead of H*W full forward passes.
 */
export class IncrementalNetwork {
  private readonly H: number;
  private readonly W: number;
  /** Rows every cache keeps (no layer reads further back). */
  private readonly keep: number;
  private readonly caches: PositionCache[] = [];
  /** Weight-normalised layers -> their effective weight, computed once. */
  private readonly folded = new Map<ConvParams | DenseParams, tf.Tensor>();
  private readonly owned: tf.Tensor[] = [];
  private readonly steps: Step[] = [];
  private readonly x: PositionCache;
  private readonly v0: PositionCache;
  private readonly hUp: PositionCache;
  private readonly h0: PositionCache;
  private final!: PositionCache;
  private ones?: tf.Tensor4D;

  /**
   * @param params the network (plan and variables), in evaluation mode (no dropout).
   * @param n images evaluated together.
   * @param h conditioning vectors `[n | 1, units]` of a conditional network.
   */
  constructor(
    private readonly params: NetworkParams,
    readonly n: number,
    private readonly h?: tf.Tensor2D,
  ) {
    const { plan } = params;
    const first = plan.blocks.find((b) => b.kind === 'resnet');
    [this.H, this.W] = first && first.kind === 'resnet' ? first.resolution : [0, 0];
    // No layer reads further back than its kernel's rows (a stride-2 layer: twice that, in rows
    // of the finer cache, which is still within its own kernel rows of the newest fine row).
    const kernels = [
      plan.init.vertical.kernelSize[0],
      ...plan.blocks.flatMap((b) => [b.vertical.kernelSize[0], b.horizontal.kernelSize[0]]),
    ];
    this.keep = Math.max(...kernels) + 1;
    const F = plan.filters;
    this.x = this.cache('input', 0, plan.inputChannels);
    this.v0 = this.cache('init/vertical', 0, F);
    this.hUp = this.cache('init/horizontalUp', 0, F);
    this.h0 = this.cache('init/horizontal', 0, F);
    try {
      tf.tidy(() => {
        if (plan.inputChannels > plan.channels) {
          this.ones = tf.keep(tf.ones([n, 1, 1, plan.inputChannels - plan.channels]));
        }
        for (const { params: q } of networkLayers(params)) {
          // without weight norm the effective weight is v itself
          if (q.g) this.folded.set(q, this.own(effectiveWeight(q, outAxisOf(q))));
        }
        const top = walkNetwork<CachedStreams>(plan, {
          init: () => ({ vertical: this.v0, horizontal: this.h0 }),
          resnet: (spec, i, s, skip) =>
            this.compileResnet(spec, params.blocks[i] as ResnetBlockParams, s, skip),
          resample: (spec, i, s) =>
            this.compileResample(spec, params.blocks[i] as ResampleBlockParams, s),
        });
        this.final = top.horizontal;
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  private own<T extends tf.Tensor>(t: T): T {
    this.owned.push(tf.keep(t));
    return t;
  }

  private cache(name: string, level: number, d: number): PositionCache {
    const c = new PositionCache(name, this.n, this.H >> level, this.W >> level, d, this.keep);
    this.caches.push(c);
    return c;
  }

  private levelOf(res: [number, number]): number {
    return Math.round(Math.log2(this.H / res[0]));
  }

  private compileResnet(
    spec: ResnetSpec,
    b: ResnetBlockParams,
    s: CachedStreams,
    skip: CachedStreams | undefined,
  ): CachedStreams {
    const level = this.levelOf(spec.resolution);
    const stream = (which: 'vertical' | 'horizontal'): ResnetStream => {
      const params = b[which];
      const input = s[which];
      const name = `${spec.name}/${which}`;
      return {
        params,
        cond: params.cond && this.h ? this.own(conditionProjection(this.h, params)) : undefined,
        input,
        c1a: this.cache(`${name}/c1a`, level, params.conv2.inChannels),
        out: this.cache(name, level, params.channels),
        skipCache: skip?.[which],
      };
    };
    const vertical = stream('vertical');
    const horizontal = stream('horizontal');
    this.steps.push({ kind: 'resnet', level, vertical, horizontal });
    return { vertical: vertical.out, horizontal: horizontal.out };
  }

  private compileResample(
    spec: ResampleSpec,
    b: ResampleBlockParams,
    s: CachedStreams,
  ): CachedStreams {
    const level = this.levelOf(spec.to);
    const stream = (which: 'vertical' | 'horizontal'): ResampleStream => ({
      params: b[which],
      input: s[which],
      out: this.cache(`${spec.name}/${which}`, level, b[which].outChannels),
    });
    const vertical = stream('vertical');
    const horizontal = stream('horizontal');
    this.steps.push({ kind: spec.kind, level, vertical, horizontal });
    return { vertical: vertical.out, horizontal: horizontal.out };
  }

  /** Run `f` in a tidy with every layer's folded weight in place of its weight norm. */
  private run<T extends tf.TensorContainer>(f: () => T): T {
    return withEffectiveWeights(this.folded, () => tf.tidy(f));
  }

  /**
   * Compute the vertical stream's rows that become final at image row `r` (every input row above
   * `r` must have been fed): level l's row r / 2^l for every l with 2^l dividing r.
   */
  startRow(r: number): void {
    this.run(() => {
      const W = this.W;
      const init = this.params.init;
      // init: vertical = downShift(conv(x)), horizontalUp = downShift(conv(x)): row r is the conv
      // at row r-1 (zero at row 0, not the bias).
      if (r === 0) {
        this.v0.setRow(0, tf.zeros([this.n, 1, W, this.v0.d]));
        this.hUp.setRow(0, tf.zeros([this.n, 1, W, this.hUp.d]));
      } else {
        const [khv, kwv] = init.vertical.kernelSize;
        const sv = (kwv - 1) / 2;
        this.v0.setRow(r, validConv(this.x.window(r - khv, r - 1, -sv, W - 1 + sv), init.vertical));
        const su = (init.horizontalUp.kernelSize[1] - 1) / 2;
        this.hUp.setRow(
          r,
          validConv(this.x.window(r - 1, r - 1, -su, W - 1 + su), init.horizontalUp),
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

  /** conv2 over the cached hidden window, the conditioning, the gate. */
  private gated(p: ResnetStream, x: tf.Tensor4D, c1aWindow: tf.Tensor4D): tf.Tensor4D {
    let c2 = validConv(c1aWindow, p.params.conv2);
    if (p.cond) c2 = tf.add(c2, p.cond);
    return gate(x, c2);
  }

  private resnetRow(p: ResnetStream, i: number): void {
    const w = p.input.w;
    const [kh, kw] = p.params.conv1.kernelSize;
    const side = (kw - 1) / 2;
    const win = p.input.window(i - kh + 1, i, -side, w - 1 + side);
    p.c1a.setRow(
      i,
      gatedResnetHidden(win, p.params, { conv: validConv, skip: p.skipCache?.row(i) }),
    );
    p.out.setRow(
      i,
      this.gated(p, p.input.row(i), p.c1a.window(i - kh + 1, i, -side, w - 1 + side)),
    );
  }

  private downsampleRow(p: ResampleStream, i: number): void {
    const [kh, kw] = p.params.kernelSize;
    const side = (kw - 1) / 2;
    const win = p.input.window(2 * i - kh + 1, 2 * i, -side, p.input.w - 1 + side);
    p.out.setRow(i, conv2d(win, p.params, { padding: 'valid', strides: 2 }));
  }

  private upsampleRow(p: ResampleStream, r: number): void {
    // all input columns; the down-shifted deconv keeps the centred 2w of its VALID output
    const side = (p.params.kernelSize[1] - 1) / 2;
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
    const kh = p.params.kernelSize[0];
    const lo = Math.max(0, Math.ceil((r - kh + 1) / 2));
    const hi = r >> 1;
    if (lo > hi || jlo > jhi) return tf.add(tf.zeros([this.n, 1, count, p.out.d]), p.params.b);
    const win = p.input.window(lo, hi, jlo, jhi); // [N, rows, cols, in]
    const full = deconv2d(win, p.params, { padding: 'valid', strides: 2 });
    return tf.slice(full, [0, r - 2 * lo, start - 2 * jlo, 0], [-1, 1, count, -1]);
  }

  /**
   * Compute the horizontal stream at pixel `(r, c)` (at every resolution whose pixel starts
   * here) and the head: raw mixture parameters `[n, P]` of pixel (r, c). `startRow(r)` and `feed`
   * of every earlier pixel must have run. The caller disposes the result.
   */
  pixel(r: number, c: number): tf.Tensor2D {
    this.advance(r, c);
    return this.run(() => {
      const raw = applyHead(this.params, this.final.pixel(r, c)); // [N, 1, 1, P]
      return tf.reshape(raw, [this.n, raw.shape[3]]) as tf.Tensor2D;
    });
  }

  /**
   * {@link pixel} without the head: compute the horizontal stream at `(r, c)` only, for a pixel
   * whose value is known (a completion's prefix).
   */
  advance(r: number, c: number): void {
    this.run(() => {
      // init: horizontal = downShift(up(x)) + rightShift(left(x)); the right shift is zero at c = 0.
      let h0 = this.hUp.pixel(r, c);
      if (c > 0) {
        const left = this.params.init.horizontalLeft;
        const kw = left.kernelSize[1];
        h0 = tf.add(h0, validConv(this.x.window(r - 1, r, c - kw, c - 1), left));
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
    const [kh, kw] = p.params.conv1.kernelSize;
    // Down pass: the skip is the new vertical output; up pass: it and the popped skip.
    const v = vertical.pixel(i, j);
    const skip = p.skipCache ? (tf.concat([v, p.skipCache.pixel(i, j)], 3) as tf.Tensor4D) : v;
    const win = p.input.window(i - kh + 1, i, j - kw + 1, j);
    p.c1a.setPixel(i, j, gatedResnetHidden(win, p.params, { conv: validConv, skip }));
    p.out.setPixel(
      i,
      j,
      this.gated(p, p.input.pixel(i, j), p.c1a.window(i - kh + 1, i, j - kw + 1, j)),
    );
  }

  private downsamplePixel(p: ResampleStream, i: number, j: number): void {
    const [kh, kw] = p.params.kernelSize;
    const win = p.input.window(2 * i - kh + 1, 2 * i, 2 * j - kw + 1, 2 * j);
    p.out.setPixel(i, j, conv2d(win, p.params, { padding: 'valid', strides: 2 }));
  }

  private upsamplePixel(p: ResampleStream, r: number, c: number): void {
    // the input columns that reach column c (2j <= c < 2j + kw); the down-right-shifted deconv
    // keeps its VALID output from column 0
    const jlo = Math.max(0, Math.ceil((c - p.params.kernelSize[1] + 1) / 2));
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

  /** Dispose every cache, the folded weights and the conditioning projections. */
  dispose(): void {
    for (const c of this.caches) c.dispose();
    tf.dispose(this.owned);
    this.ones?.dispose();
  }
}
