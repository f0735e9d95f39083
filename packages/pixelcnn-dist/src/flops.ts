import type { ResolvedPixelCNNConfig } from './config';
import type { ConvSpec, NetworkPlan } from './networkPlan';

/** Multiply-adds counted as 2 FLOPs, per image. */
export interface NetworkFlops {
  /** One forward pass of one image. */
  forward: number;
  /** A training step per image: forward + input gradient + weight gradient, 3x forward. */
  train: number;
  /** Per layer kind, forward: causal convs, transposed convs, 1x1 layers (skip, head). */
  byKind: { conv: number; deconv: number; pointwise: number };
}

/** A causal conv with input resolution [h, w]: one kh x kw x in x out product per output. */
const convFlops = (s: ConvSpec, [h, w]: [number, number]): number => {
  const [kh, kw] = s.kernelSize;
  const outputs = (h / s.strides) * (w / s.strides);
  return 2 * outputs * kh * kw * s.inChannels * s.outChannels;
};

/** A transposed conv with input resolution [h, w]: every input scattered over kh x kw outputs. */
const deconvFlops = (s: ConvSpec, [h, w]: [number, number]): number => {
  const [kh, kw] = s.kernelSize;
  return 2 * h * w * kh * kw * s.inChannels * s.outChannels;
};

/**
 * FLOPs of the network of a plan (per image, multiply-add = 2), from the layer shapes: causal
 * convs at their resolution, transposed convs over their input positions, the 1x1 skip and head
 * layers. Elementwise work (activations, gates, adds) is not counted: it is what a benchmark
 * compares the FLOP rate against. The conditioning projections (per image, not per pixel) are
 * negligible and not counted.
 */
export function networkFlops(
  plan: NetworkPlan,
  activation: ResolvedPixelCNNConfig['resnetActivation'] = 'concat_elu',
): NetworkFlops {
  const first = plan.blocks.find((b) => b.kind === 'resnet');
  if (first?.kind !== 'resnet') throw new Error('Error in networkFlops: plan has no resnet');
  const full = first.resolution;
  const act = (ch: number) => (activation === 'concat_elu' ? 2 : 1) * ch;
  let conv = convFlops(plan.init.vertical, full) + convFlops(plan.init.horizontalUp, full);
  conv += convFlops(plan.init.horizontalLeft, full);
  let deconv = 0;
  let pointwise = 2 * full[0] * full[1] * plan.filters * plan.headUnits;
  for (const b of plan.blocks) {
    if (b.kind === 'resnet') {
      const [h, w] = b.resolution;
      const F = plan.filters;
      for (const s of [b.vertical, b.horizontal]) {
        const [kh, kw] = s.kernelSize;
        conv += 2 * h * w * kh * kw * act(F) * F; // conv1
        conv += 2 * h * w * kh * kw * act(F) * 2 * F; // conv2, both gate halves
        if (s.skipChannels > 0) pointwise += 2 * h * w * act(s.skipChannels) * F;
      }
    } else if (b.kind === 'downsample') {
      conv += convFlops(b.vertical, b.from) + convFlops(b.horizontal, b.from);
    } else {
      deconv += deconvFlops(b.vertical, b.from) + deconvFlops(b.horizontal, b.from);
    }
  }
  const forward = conv + deconv + pointwise;
  return { forward, train: 3 * forward, byKind: { conv, deconv, pointwise } };
}

/** Parameter counts of a network (see {@link parameterCounts}). */
export interface ParameterCounts {
  /** Scalars of our variables (= {@link PixelCNN.numParameters}): every one is used. */
  effective: number;
  /**
   * What Keras's `count_params()` reports for TFP's network of the same config: its masked
   * kernels are full windows (3x3 for the default receptive field, where ours are 2x3 and 2x2)
   * whose masked entries are stored but always zero, its input has no constant channel, and every
   * WeightNorm wrapper adds a scalar `initialized` flag.
   */
  tfpKeras: number;
}

/**
 * Effective (ours) and TFP-Keras parameter counts of a plan, from the layer shapes alone.
 * `weightNorm` adds g per output channel (and TFP's flag per layer); the conditioning projections
 * are plain dense layers in both.
 */
export function parameterCounts(
  plan: NetworkPlan,
  o: { weightNorm: boolean; activation: ResolvedPixelCNNConfig['resnetActivation'] },
): ParameterCounts {
  const act = (ch: number) => (o.activation === 'concat_elu' ? 2 : 1) * ch;
  const wn = o.weightNorm ? 1 : 0;
  let effective = 0;
  let tfpKeras = 0;
  /** A (weight-normalised) layer with `weights` kernel entries and `out` outputs. */
  const layer = (weights: number, tfpWeights: number, out: number, normalised = true) => {
    const extra = out + (normalised ? wn * out : 0);
    effective += weights + extra;
    tfpKeras += tfpWeights + extra + (normalised ? wn : 0);
  };
  const area = (k: [number, number]) => k[0] * k[1];
  const conv = (s: ConvSpec, tfpIn = s.inChannels) =>
    layer(
      area(s.kernelSize) * s.inChannels * s.outChannels,
      area(s.tfpKernelSize) * tfpIn * s.outChannels,
      s.outChannels,
    );
  const F = plan.filters;
  for (const s of [plan.init.vertical, plan.init.horizontalUp, plan.init.horizontalLeft]) {
    conv(s, plan.channels);
  }
  for (const b of plan.blocks) {
    if (b.kind !== 'resnet') {
      conv(b.vertical);
      conv(b.horizontal);
      continue;
    }
    for (const s of [b.vertical, b.horizontal]) {
      layer(area(s.kernelSize) * act(F) * F, area(s.tfpKernelSize) * act(F) * F, F); // conv1
      if (s.skipChannels > 0) {
        layer(act(s.skipChannels) * F, act(s.skipChannels) * F, F); // skip (1x1)
      }
      const c2 = area(s.kernelSize) * act(F) * 2 * F;
      layer(c2, (c2 / area(s.kernelSize)) * area(s.tfpKernelSize), 2 * F); // conv2
      if (plan.conditionalUnits > 0) {
        const u = plan.conditionalUnits * 2 * F;
        layer(u, u, 2 * F, false); // conditioning projection
      }
    }
  }
  layer(F * plan.headUnits, F * plan.headUnits, plan.headUnits); // head
  return { effective, tfpKeras };
}
