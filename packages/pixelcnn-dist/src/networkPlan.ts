import type { ResolvedPixelCNNConfig } from './config';

/**
 * Which causal conv a layer uses (from @pixelcnn/masked-conv): the vertical stream's
 * down-shifted conv (sees the current and earlier rows, a window centred on the column) or the
 * horizontal stream's down-right-shifted conv (sees the current and earlier rows, columns <= c),
 * and their stride-2 transposed versions for the upsampling pass.
 */
export type ConvKind =
  | 'downShiftedConv2d'
  | 'downRightShiftedConv2d'
  | 'downShiftedDeconv2d'
  | 'downRightShiftedDeconv2d';

export type Stream = 'vertical' | 'horizontal';

/** One conv of the plan. */
export interface ConvSpec {
  kind: ConvKind;
  kernelSize: [number, number];
  inChannels: number;
  outChannels: number;
  /** 1, or 2 for the down-sampling convs. Transposed convs always double H and W. */
  strides: 1 | 2;
  /**
   * The kernel TFP's Keras layer has for this conv: a full (masked) kernel, of which only our
   * `kernelSize` entries are not masked to zero. Gives TFP's parameter count and the fans of its
   * glorot_uniform initialisation.
   */
  tfpKernelSize: [number, number];
}

/** One stream of a gated resnet: its conv kernel (ours and TFP's masked one) and skip input. */
export interface ResnetStreamSpec {
  kernelSize: [number, number];
  tfpKernelSize: [number, number];
  skipChannels: number;
}

/**
 * The first layer, which makes the two streams from the (scaled) image:
 * vertical = downShift(vert(x)), horizontal = downShift(up(x)) + rightShift(left(x)).
 * (PixelCNN++ model.py with filter sizes [rows-1, cols], [1, cols], [2, (cols-1)/2].)
 */
export interface InitSpec {
  vertical: ConvSpec;
  horizontalUp: ConvSpec;
  horizontalLeft: ConvSpec;
}

/**
 * A gated resnet pair (vertical then horizontal). In the downsampling pass (PixelCNN++'s "up
 * pass", TFP's "downward pass") the horizontal stream's skip input is the new vertical output; in
 * the upsampling pass both pop their skip from the skip lists (the horizontal one concatenated
 * with the new vertical output).
 */
export interface ResnetSpec {
  kind: 'resnet';
  /** Stable name, e.g. 'down0/resnet1' or 'up2/resnet0'. */
  name: string;
  pass: 'downsampling' | 'upsampling';
  /** Hierarchy index within its pass (0 = first block of the pass). */
  hierarchy: number;
  index: number;
  /** [h, w] the block works at. */
  resolution: [number, number];
  /**
   * Upsampling pass: the layer whose output this block pops from the skip lists, as an index
   * into `blocks` (-1: the first layer's output). Undefined in the downsampling pass.
   */
  skipFrom?: number;
  vertical: ResnetStreamSpec;
  horizontal: ResnetStreamSpec;
}

/** Stride-2 causal convs (downsampling pass) or transposed convs (upsampling pass) for both streams. */
export interface ResampleSpec {
  kind: 'downsample' | 'upsample';
  name: string;
  hierarchy: number;
  from: [number, number];
  to: [number, number];
  vertical: ConvSpec;
  horizontal: ConvSpec;
}

export type BlockSpec = ResnetSpec | ResampleSpec;

/** The whole network as data: what {@link createNetworkParams} builds and {@link networkForward} runs. */
export interface NetworkPlan {
  /** Image channels C and network input channels (C+1 with the constant channel). */
  channels: number;
  inputChannels: number;
  filters: number;
  /** Flattened conditioning length (0: unconditional). */
  conditionalUnits: number;
  init: InitSpec;
  /** Blocks in execution order. */
  blocks: BlockSpec[];
  /** Head: nin(elu(horizontal)) with `headUnits` = K(1 + 2C + C(C-1)/2) outputs per pixel. */
  headUnits: number;
  /**
   * Skip-list bookkeeping (per stream): gated-resnet and downsample outputs pushed onto the list
   * that starts with the init output, and pops by the upsampling pass's gated resnets (its input is
   * the last entry): numHierarchies*numResnet + numHierarchies-1 of each.
   */
  pushes: number;
  pops: number;
}

const convSpec = (
  kind: ConvKind,
  kernelSize: [number, number],
  tfpKernelSize: [number, number],
  inChannels: number,
  outChannels: number,
  strides: 1 | 2 = 1,
): ConvSpec => ({
  kind,
  kernelSize,
  inChannels,
  outChannels,
  strides,
  // rows = 2 gives TFP's transposed vertical kernel height 0 (TFP cannot build it): use ours
  tfpKernelSize: tfpKernelSize[0] > 0 && tfpKernelSize[1] > 0 ? tfpKernelSize : kernelSize,
});

/**
 * TFP's (full, masked) Keras kernel sizes for receptive field (rows, cols), from pixel_cnn.py's
 * `_PixelCNNNetwork.build`: the first layer's vertical (2 rows-1, cols) and horizontal (3, cols)
 * convs, the gated resnets' (2 rows-3, cols) / (3, cols), the stride-2 convs (2(rows-1), cols+1) /
 * (4, 2(cols//2+1)) and transposed convs (2(rows-1)-2, cols+1) / (2, 2(cols//2+1)-2).
 */
export function tfpKernelSizes(rows: number, cols: number): TfpKernelSizes {
  const hw = Math.floor(cols / 2) + 1;
  return {
    initVertical: [2 * rows - 1, cols],
    initHorizontal: [3, cols],
    resnet: { vertical: [2 * rows - 3, cols], horizontal: [3, cols] },
    downsample: { vertical: [2 * (rows - 1), cols + 1], horizontal: [4, 2 * hw] },
    upsample: { vertical: [2 * (rows - 1) - 2, cols + 1], horizontal: [2, 2 * hw - 2] },
  };
}

type Kernel = [number, number];

/** See {@link tfpKernelSizes}. */
export interface TfpKernelSizes {
  initVertical: Kernel;
  initHorizontal: Kernel;
  resnet: Record<Stream, Kernel>;
  downsample: Record<Stream, Kernel>;
  upsample: Record<Stream, Kernel>;
}

/**
 * The network of a config as a plain data structure (no tensors): layer kinds, kernel sizes,
 * channel counts, resolutions, and the skip-list bookkeeping, checked by simulating the pushes and
 * pops (each pop must find a skip of its own resolution; pushes = pops). Follows PixelCNN++
 * (openai/pixel-cnn model.py) generalised to TFP's `receptive_field_dims` and `num_hierarchies`.
 */
export function networkPlan(
  c: ResolvedPixelCNNConfig,
  conditionalUnits: number,
  headUnits: number,
): NetworkPlan {
  const [H, W, C] = c.imageShape;
  const [rows, cols] = c.receptiveFieldDims;
  const F = c.numFilters;
  const inputChannels = C + (c.constantChannel ? 1 : 0);
  const half = (cols - 1) / 2;
  const vKernel: [number, number] = [rows - 1, cols];
  const hKernel: [number, number] = [2, half + 1];
  const tfp = tfpKernelSizes(rows, cols);

  const init: InitSpec = {
    vertical: convSpec('downShiftedConv2d', vKernel, tfp.initVertical, inputChannels, F),
    horizontalUp: convSpec('downShiftedConv2d', [1, cols], tfp.initHorizontal, inputChannels, F),
    horizontalLeft: convSpec(
      'downRightShiftedConv2d',
      [2, half],
      tfp.initHorizontal,
      inputChannels,
      F,
    ),
  };
  const stream = (s: Stream, skipChannels: number): ResnetStreamSpec => ({
    kernelSize: s === 'vertical' ? vKernel : hKernel,
    tfpKernelSize: tfp.resnet[s],
    skipChannels,
  });

  const blocks: BlockSpec[] = [];
  // Skip lists (one per stream; they move in lockstep), holding resolutions. The init output is
  // pushed first, as in PixelCNN++, and the last push becomes the upsampling pass's input.
  const skips: Array<{ res: [number, number]; from: number }> = [{ res: [H, W], from: -1 }];
  let pushes = 0;
  let pops = 0;
  let res: [number, number] = [H, W];

  for (let i = 0; i < c.numHierarchies; i++) {
    for (let j = 0; j < c.numResnet; j++) {
      blocks.push({
        kind: 'resnet',
        name: `down${i}/resnet${j}`,
        pass: 'downsampling',
        hierarchy: i,
        index: j,
        resolution: res,
        vertical: stream('vertical', 0),
        horizontal: stream('horizontal', F),
      });
      skips.push({ res, from: blocks.length - 1 });
      pushes++;
    }
    if (i < c.numHierarchies - 1) {
      const to: [number, number] = [res[0] / 2, res[1] / 2];
      blocks.push({
        kind: 'downsample',
        name: `down${i}/downsample`,
        hierarchy: i,
        from: res,
        to,
        vertical: convSpec('downShiftedConv2d', vKernel, tfp.downsample.vertical, F, F, 2),
        horizontal: convSpec('downRightShiftedConv2d', hKernel, tfp.downsample.horizontal, F, F, 2),
      });
      res = to;
      skips.push({ res, from: blocks.length - 1 });
      pushes++;
    }
  }

  // The upsampling pass starts from the last pushed output.
  const start = skips.pop()!;
  if (start.res[0] !== res[0] || start.res[1] !== res[1] || start.from !== blocks.length - 1) {
    throw new Error('Error in networkPlan: skip list out of order (internal)');
  }
  for (let i = 0; i < c.numHierarchies; i++) {
    const n = i === 0 ? c.numResnet : c.numResnet + 1;
    for (let j = 0; j < n; j++) {
      const skip = skips.pop();
      pops++;
      if (!skip || skip.res[0] !== res[0] || skip.res[1] !== res[1]) {
        throw new Error(
          `Error in networkPlan: up${i}/resnet${j} at ${res.join('x')} found skip ${skip ? skip.res.join('x') : 'none'} (internal)`,
        );
      }
      blocks.push({
        kind: 'resnet',
        name: `up${i}/resnet${j}`,
        pass: 'upsampling',
        hierarchy: i,
        index: j,
        resolution: res,
        skipFrom: skip.from,
        vertical: stream('vertical', F),
        horizontal: stream('horizontal', 2 * F),
      });
    }
    if (i < c.numHierarchies - 1) {
      const to: [number, number] = [res[0] * 2, res[1] * 2];
      blocks.push({
        kind: 'upsample',
        name: `up${i}/upsample`,
        hierarchy: i,
        from: res,
        to,
        vertical: convSpec('downShiftedDeconv2d', vKernel, tfp.upsample.vertical, F, F, 2),
        horizontal: convSpec('downRightShiftedDeconv2d', hKernel, tfp.upsample.horizontal, F, F, 2),
      });
      res = to;
    }
  }
  if (skips.length !== 0 || pushes !== pops) {
    throw new Error(
      `Error in networkPlan: ${pushes} skip pushes but ${pops} pops (${skips.length} left) (internal)`,
    );
  }
  return {
    channels: C,
    inputChannels,
    filters: F,
    conditionalUnits,
    init,
    blocks,
    headUnits,
    pushes,
    pops,
  };
}

/**
 * What {@link walkNetwork} calls for each layer of a plan, in execution order. `S` is whatever
 * the walker computes per layer (the two streams' tensors, caches, or nothing).
 */
export interface NetworkVisitor<S> {
  /** The first layer, which makes the two streams from the image. */
  init(spec: InitSpec): S;
  /**
   * A gated-resnet pair (`index` into `plan.blocks`) on the previous layer's output `input`;
   * `skip` is the output it pops from the skip lists (upsampling pass only).
   */
  resnet(spec: ResnetSpec, index: number, input: S, skip: S | undefined): S;
  /** A stride-2 conv or transposed conv pair on the previous layer's output. */
  resample(spec: ResampleSpec, index: number, input: S): S;
}

/**
 * The one walk of the network (PixelCNN++ model.py's U-net): the first layer, then every block of
 * the plan on its predecessor's output, each upsampling-pass resnet also getting the output the
 * plan's skip schedule names (`skipFrom`). Returns the last block's output (the head's input).
 * Parameter creation, variable naming, the forward pass and the cached sampler all walk the
 * network through this.
 */
export function walkNetwork<S>(plan: NetworkPlan, v: NetworkVisitor<S>): S {
  const first = v.init(plan.init);
  const outputs: S[] = [];
  let s = first;
  for (const [i, b] of plan.blocks.entries()) {
    if (b.kind === 'resnet') {
      const skip =
        b.skipFrom === undefined ? undefined : b.skipFrom < 0 ? first : outputs[b.skipFrom];
      s = v.resnet(b, i, s, skip);
    } else {
      s = v.resample(b, i, s);
    }
    outputs.push(s);
  }
  return s;
}
