import {
  type ConvFn,
  createGatedResnetParams,
  disposeGatedResnetParams,
  type GatedResnetParams,
  gatedResnet,
} from '@pixelcnn/gated-resnet';
import {
  type ConvParams,
  createConvParams,
  createDenseParams,
  type DenseParams,
  disposeParams,
  downRightShiftedConv2d,
  downRightShiftedDeconv2d,
  downShift,
  downShiftedConv2d,
  downShiftedDeconv2d,
  effectiveWeightScope,
  type LayerCallOptions,
  layerTensors,
  nin,
  rightShift,
} from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedPixelCNNConfig } from './config';
import {
  type ConvKind,
  type ConvSpec,
  type NetworkPlan,
  type ResampleSpec,
  type ResnetSpec,
  type ResnetStreamSpec,
  walkNetwork,
} from './networkPlan';
import { recomputeInBackward } from './recompute';

/** The masked-conv function of each {@link ConvKind}, with the plan's stride. */
export function convFn(spec: ConvSpec): ConvFn {
  const strides = spec.strides;
  const fns: Record<ConvKind, ConvFn> = {
    downShiftedConv2d: (x, p, o) => downShiftedConv2d(x, p, { ...o, strides }),
    downRightShiftedConv2d: (x, p, o) => downRightShiftedConv2d(x, p, { ...o, strides }),
    downShiftedDeconv2d: (x, p, o) => downShiftedDeconv2d(x, p, o),
    downRightShiftedDeconv2d: (x, p, o) => downRightShiftedDeconv2d(x, p, o),
  };
  return fns[spec.kind];
}

/** The stride-1 causal conv of each stream inside gated resnets. */
export const STREAM_CONV: { vertical: ConvFn; horizontal: ConvFn } = {
  vertical: (x, p, o) => downShiftedConv2d(x, p, o),
  horizontal: (x, p, o) => downRightShiftedConv2d(x, p, o),
};

/** Parameters of one block of the plan (aligned with `plan.blocks`). */
export type BlockParams =
  | { kind: 'resnet'; spec: ResnetSpec; vertical: GatedResnetParams; horizontal: GatedResnetParams }
  | {
      kind: 'downsample' | 'upsample';
      spec: ResampleSpec;
      vertical: ConvParams;
      horizontal: ConvParams;
    };

/** Every variable of the network, organised like the plan. The PixelCNN owns and disposes them. */
export interface NetworkParams {
  plan: NetworkPlan;
  activation: ResolvedPixelCNNConfig['resnetActivation'];
  init: { vertical: ConvParams; horizontalUp: ConvParams; horizontalLeft: ConvParams };
  blocks: BlockParams[];
  /** 1x1 head `[F] -> [P]`. */
  head: DenseParams;
}

/** A variable with its stable, instance-independent name (used in saved files). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** A gated-resnet block's parameters and a resample block's (aligned with `plan.blocks`). */
export type ResnetBlockParams = Extract<BlockParams, { kind: 'resnet' }>;
export type ResampleBlockParams = Extract<BlockParams, { kind: 'downsample' | 'upsample' }>;

/** A layer with its stable name (e.g. `down0/resnet1/horizontal/conv2`). */
export interface NamedLayer {
  name: string;
  params: ConvParams | DenseParams;
}

/**
 * Every layer of the network with its stable name, in the walk's order: first layer, blocks in
 * execution order (vertical then horizontal; in a gated resnet conv1, skip, conv2, cond), head.
 */
export function networkLayers(p: NetworkParams): NamedLayer[] {
  const out: NamedLayer[] = [];
  const add = (name: string, params: ConvParams | DenseParams | undefined) => {
    if (params) out.push({ name, params });
  };
  const resnet = (prefix: string, r: GatedResnetParams) => {
    add(`${prefix}/conv1`, r.conv1);
    add(`${prefix}/skip`, r.skip);
    add(`${prefix}/conv2`, r.conv2);
    add(`${prefix}/cond`, r.cond);
  };
  walkNetwork<void>(p.plan, {
    init: () => {
      add('init/vertical', p.init.vertical);
      add('init/horizontalUp', p.init.horizontalUp);
      add('init/horizontalLeft', p.init.horizontalLeft);
    },
    resnet: (spec, i) => {
      const b = p.blocks[i] as ResnetBlockParams;
      resnet(`${spec.name}/vertical`, b.vertical);
      resnet(`${spec.name}/horizontal`, b.horizontal);
    },
    resample: (spec, i) => {
      const b = p.blocks[i] as ResampleBlockParams;
      add(`${spec.name}/vertical`, b.vertical);
      add(`${spec.name}/horizontal`, b.horizontal);
    },
  });
  add('head', p.head);
  return out;
}

/**
 * Every variable with its stable name (e.g. `down0/resnet1/horizontal/conv2/g`), in the fixed
 * order of {@link networkLayers} (each layer's v, g, b).
 */
export function networkVariables(p: NetworkParams): NamedVariable[] {
  return networkLayers(p).flatMap(({ name, params: q }) => [
    { name: `${name}/v`, variable: q.v },
    ...(q.g ? [{ name: `${name}/g`, variable: q.g }] : []),
    { name: `${name}/b`, variable: q.b },
  ]);
}

/** A weight-normalised layer and the output-channel axis of its `v`. */
export interface NormalizedLayer {
  params: ConvParams | DenseParams;
  outAxis: number;
}

/** The output-channel axis of a layer's `v`: 3 for convs, 2 for transposed convs, 1 for dense. */
export const outAxisOf = (q: ConvParams | DenseParams): number =>
  'kernelSize' in q ? (q.transposed ? 2 : 3) : 1;

/**
 * Every weight-normalised layer of the network (the ones with a `g`), with the axis
 * `effectiveWeight` normalises around.
 */
export function normalizedLayers(p: NetworkParams): NormalizedLayer[] {
  return networkLayers(p)
    .filter(({ params: q }) => q.g !== undefined)
    .map(({ params: q }) => ({ params: q, outAxis: outAxisOf(q) }));
}

/**
 * TFP's initialisation of a layer (Keras defaults under its WeightNorm wrapper): v ~
 * glorot_uniform, i.e. U(-l, l) with l = sqrt(6 / (fanIn + fanOut)), the fans those of TFP's full
 * masked kernel; g = ||v|| per output channel (WeightNorm's `_init_norm`), so the effective
 * kernel starts equal to v; b = 0. Data-dependent init later sets g and b from a batch.
 */
function tfpInit(
  p: ConvParams | DenseParams,
  fanIn: number,
  fanOut: number,
  seed: number | undefined,
): void {
  tf.tidy(() => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const v = tf.randomUniform(p.v.shape, -limit, limit, 'float32', seed);
    p.v.assign(v);
    if (p.g) {
      const outAxis = outAxisOf(p);
      const axes = p.v.shape.map((_, i) => i).filter((i) => i !== outAxis);
      p.g.assign(tf.sqrt(tf.sum(tf.square(v), axes)));
    }
  });
}

const area = (k: readonly [number, number]) => k[0] * k[1];

/**
 * Create the network's variables for a plan, initialised as TFP does (see {@link tfpInit}; the
 * conditioning projections N(0, 0.05), TFP's `random_normal`). `namePrefix` makes the tfjs
 * variable names unique per instance (tfjs registers variables engine-wide by name); saved files
 * use the stable names of {@link networkVariables}. `seed` makes the initialisation reproducible
 * (each layer gets its own seed derived from it).
 */
export function createNetworkParams(
  plan: NetworkPlan,
  o: {
    weightNorm: boolean;
    activation: ResolvedPixelCNNConfig['resnetActivation'];
    seed?: number;
    namePrefix: string;
  },
): NetworkParams {
  let layer = 0;
  const nextSeed = () => (o.seed === undefined ? undefined : o.seed + 1009 * ++layer);
  const created: Array<ConvParams | DenseParams | GatedResnetParams> = [];
  const conv = (spec: ConvSpec, name: string): ConvParams => {
    const p = createConvParams({
      kernelSize: spec.kernelSize,
      inChannels: spec.inChannels,
      outChannels: spec.outChannels,
      transposed: spec.kind === 'downShiftedDeconv2d' || spec.kind === 'downRightShiftedDeconv2d',
      weightNorm: o.weightNorm,
      seed: nextSeed(),
      name: `${o.namePrefix}/${name}`,
    });
    created.push(p);
    const k = area(spec.tfpKernelSize);
    tfpInit(p, k * spec.inChannels, k * spec.outChannels, nextSeed());
    return p;
  };
  const resnet = (s: ResnetStreamSpec, name: string): GatedResnetParams => {
    const p = createGatedResnetParams({
      channels: plan.filters,
      kernelSize: s.kernelSize,
      activation: o.activation,
      skipChannels: s.skipChannels > 0 ? s.skipChannels : undefined,
      conditionalUnits: plan.conditionalUnits > 0 ? plan.conditionalUnits : undefined,
      weightNorm: o.weightNorm,
      seed: nextSeed(),
      name: `${o.namePrefix}/${name}`,
    });
    created.push(p);
    const k = area(s.tfpKernelSize);
    const width = p.conv1.inChannels; // activation width of F
    tfpInit(p.conv1, k * width, k * plan.filters, nextSeed());
    tfpInit(p.conv2, k * width, k * 2 * plan.filters, nextSeed());
    if (p.skip) tfpInit(p.skip, p.skip.inUnits, p.skip.outUnits, nextSeed());
    return p;
  };
  try {
    let init: NetworkParams['init'] | undefined;
    const blocks: BlockParams[] = [];
    walkNetwork<void>(plan, {
      init: (spec) => {
        init = {
          vertical: conv(spec.vertical, 'init/vertical'),
          horizontalUp: conv(spec.horizontalUp, 'init/horizontalUp'),
          horizontalLeft: conv(spec.horizontalLeft, 'init/horizontalLeft'),
        };
      },
      resnet: (spec) => {
        blocks.push({
          kind: 'resnet',
          spec,
          vertical: resnet(spec.vertical, `${spec.name}/vertical`),
          horizontal: resnet(spec.horizontal, `${spec.name}/horizontal`),
        });
      },
      resample: (spec) => {
        blocks.push({
          kind: spec.kind,
          spec,
          vertical: conv(spec.vertical, `${spec.name}/vertical`),
          horizontal: conv(spec.horizontal, `${spec.name}/horizontal`),
        });
      },
    });
    const head = createDenseParams({
      inUnits: plan.filters,
      outUnits: plan.headUnits,
      weightNorm: o.weightNorm,
      seed: nextSeed(),
      name: `${o.namePrefix}/head`,
    });
    created.push(head);
    tfpInit(head, plan.filters, plan.headUnits, nextSeed());
    return { plan, activation: o.activation, init: init!, blocks, head };
  } catch (e) {
    for (const p of created) {
      if ('conv1' in p) disposeGatedResnetParams(p);
      else disposeParams(p);
    }
    throw e;
  }
}

/** Dispose every variable of the network. */
export function disposeNetworkParams(p: NetworkParams): void {
  for (const { variable } of networkVariables(p)) variable.dispose();
}

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Conditioning vectors `[B, units]`. */
  h?: tf.Tensor2D;
  /** Dropout on (training). Default false. */
  training?: boolean;
  dropoutP?: number;
  /** Base seed of the dropout masks (each gated resnet derives its own). */
  seed?: number;
  /** Data-dependent initialisation pass: every layer assigns its g and b from this batch. */
  init?: boolean;
  /** With `init`: the std of every gated resnet's second conv (default 0.1, PixelCNN++). */
  gateInitScale?: number;
  /**
   * Gradient checkpointing: keep only each gated resnet's inputs for the backward pass and run
   * the block again there ({@link recomputeInBackward}). A training step's activation memory
   * drops to a fraction (see `estimateTrainingMemory`) for one more forward pass of the blocks.
   * Ignored with `init`. Default false.
   */
  recomputeBlocks?: boolean;
}

/** The two streams. */
export interface Streams {
  /** Vertical stream: sees rows strictly above. `[B, h, w, F]`. */
  vertical: tf.Tensor4D;
  /** Horizontal stream: rows above and pixels strictly left. `[B, h, w, F]`. */
  horizontal: tf.Tensor4D;
}

/**
 * First layer: `[B, H, W, C]` scaled input (plus PixelCNN++'s constant ones channel when the plan
 * has C+1 input channels) -> the two streams,
 * vertical = downShift(vert(x)), horizontal = downShift(up(x)) + rightShift(left(x)).
 */
export function applyInit(p: NetworkParams, x: tf.Tensor4D, o: ForwardOptions = {}): Streams {
  return tf.tidy(() => {
    const { plan } = p;
    const lc: LayerCallOptions = { init: o.init };
    let xin = x;
    if (plan.inputChannels > plan.channels) {
      const [b, h, w] = x.shape;
      xin = tf.concat([x, tf.ones([b, h, w, plan.inputChannels - plan.channels])], 3);
    }
    const vertical = downShift(downShiftedConv2d(xin, p.init.vertical, lc));
    const horizontal = tf.add(
      downShift(downShiftedConv2d(xin, p.init.horizontalUp, lc)),
      rightShift(downRightShiftedConv2d(xin, p.init.horizontalLeft, lc)),
    ) as tf.Tensor4D;
    return { vertical, horizontal };
  });
}

/**
 * One gated-resnet pair: vertical then horizontal. `skips` are the popped skip inputs in the
 * upsampling pass (undefined in the downsampling pass, where the horizontal stream's skip is the
 * new vertical output). `blockIndex` only varies the dropout seeds.
 */
export function applyResnetBlock(
  b: ResnetBlockParams,
  s: Streams,
  skips: Streams | undefined,
  blockIndex: number,
  o: ForwardOptions = {},
): Streams {
  return tf.tidy(() => {
    const common = {
      h: o.h,
      dropoutP: o.dropoutP ?? 0,
      training: o.training ?? false,
      init: o.init,
      gateInitScale: o.gateInitScale,
    };
    const seed = (k: number) => (o.seed === undefined ? undefined : o.seed + 2 * blockIndex + k);
    // `skip` is the concatenation of its parts (the horizontal stream's on the up pass: the new
    // vertical output and the popped skip), made inside the block so that, recomputed, it is not
    // kept for the backward pass
    const block = (
      x: tf.Tensor4D,
      p: GatedResnetParams,
      conv: ConvFn,
      skipParts: tf.Tensor4D[],
      k: number,
    ): tf.Tensor4D => {
      const opts = { ...common, conv, seed: seed(k) };
      const join = (parts: tf.Tensor[]) =>
        (parts.length > 1 ? tf.concat(parts, 3) : parts[0]) as tf.Tensor4D | undefined;
      if (!o.recomputeBlocks || o.init)
        return gatedResnet(x, p, { ...opts, skip: join(skipParts) });
      // checkpointed: x, the skip's parts and h are kept, the rest is recomputed in the backward pass
      const n = skipParts.length;
      const inputs = [x, ...skipParts, ...(o.h ? [o.h] : [])];
      const layers = [p.conv1, p.skip, p.conv2, p.cond].filter((l) => l !== undefined);
      const scope = effectiveWeightScope();
      return recomputeInBackward(
        (...xs) =>
          scope(() =>
            gatedResnet(xs[0] as tf.Tensor4D, p, {
              ...opts,
              skip: join(xs.slice(1, 1 + n)),
              h: o.h ? (xs[1 + n] as tf.Tensor2D) : undefined,
            }),
          ),
        inputs,
        layers.flatMap((l) => layerTensors(l)),
      ) as tf.Tensor4D;
    };
    const vSkip = skips ? [skips.vertical] : [];
    const vertical = block(s.vertical, b.vertical, STREAM_CONV.vertical, vSkip, 0);
    const hSkip = skips ? [vertical, skips.horizontal] : [vertical];
    const horizontal = block(s.horizontal, b.horizontal, STREAM_CONV.horizontal, hSkip, 1);
    return { vertical, horizontal };
  });
}

/** Stride-2 causal downsampling or transposed upsampling of both streams. */
export function applyResample(b: ResampleBlockParams, s: Streams, o: ForwardOptions = {}): Streams {
  return tf.tidy(() => {
    const lc: LayerCallOptions = { init: o.init };
    return {
      vertical: convFn(b.spec.vertical)(s.vertical, b.vertical, lc),
      horizontal: convFn(b.spec.horizontal)(s.horizontal, b.horizontal, lc),
    };
  });
}

/** Head: nin(elu(horizontal)) -> raw mixture parameters `[B, H, W, P]`. */
export function applyHead(
  p: NetworkParams,
  horizontal: tf.Tensor4D,
  o: ForwardOptions = {},
): tf.Tensor4D {
  return tf.tidy(() => nin(tf.elu(horizontal), p.head, { init: o.init }));
}

/**
 * The whole network: scaled images `[B, H, W, C]` in [-1, 1] -> raw head output `[B, H, W, P]`:
 * {@link walkNetwork} with the layer functions (PixelCNN++ model.py: the downsampling pass's
 * outputs are the upsampling pass's skips). Causal by construction at every step of training:
 * output (r, c) depends only on inputs before (r, c) in raster order (and on the same pixel's
 * earlier channels only through the mixture head's channel coupling, not through the network).
 */
export function networkForward(
  p: NetworkParams,
  x: tf.Tensor4D,
  options: ForwardOptions = {},
): tf.Tensor4D {
  // A recomputed block must draw the same dropout mask again: fix the seed of a random one.
  const o =
    options.recomputeBlocks && options.training && options.seed === undefined
      ? { ...options, seed: Math.floor(Math.random() * 2 ** 31) }
      : options;
  return tf.tidy(() => {
    const top = walkNetwork<Streams>(p.plan, {
      init: () => applyInit(p, x, o),
      resnet: (_, i, s, skip) => applyResnetBlock(p.blocks[i] as ResnetBlockParams, s, skip, i, o),
      resample: (_, i, s) => applyResample(p.blocks[i] as ResampleBlockParams, s, o),
    });
    return applyHead(p, top.horizontal, o);
  });
}
