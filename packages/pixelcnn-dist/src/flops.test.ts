import { describe, expect, it } from 'vitest';
import { conditionalUnits, resolveConfig } from './config';
import { networkFlops, parameterCounts } from './flops';
import { networkPlan } from './networkPlan';
import { PixelCNN } from './pixelCnn';

const planOf = (c: Parameters<typeof resolveConfig>[0]) => {
  const r = resolveConfig(c);
  return networkPlan(r, conditionalUnits(r), 6);
};

describe('networkFlops', () => {
  it('counts a 4x4 two-hierarchy network by hand', () => {
    // 4x4x1 (+ ones channel: 2 inputs), F = 4, concat_elu (conv inputs 2F = 8), head 6 outputs.
    // 16 pixels at full resolution, 4 at half.
    const plan = planOf({
      imageShape: [4, 4, 1],
      numHierarchies: 2,
      numResnet: 1,
      numFilters: 4,
      constantChannel: true,
    });
    const f = networkFlops(plan, 'concat_elu');
    const init = 2 * 16 * (2 * 3 + 1 * 3 + 2 * 1) * 2 * 4; // [2,3], [1,3], [2,1] kernels, 2 -> 4
    const resnet = (px: number) => 2 * px * (6 + 4) * 8 * (4 + 8); // v [2,3] and h [2,2]; conv1 8->4, conv2 8->8
    const down = 2 * 4 * (6 + 4) * 4 * 4; // stride 2: 4 outputs
    expect(f.byKind.conv).toBe(init + resnet(16) + down + resnet(4) + resnet(4) + 2 * resnet(16));
    expect(f.byKind.deconv).toBe(2 * 4 * (6 + 4) * 4 * 4); // 4 inputs scattered
    const skips =
      2 * 16 * 8 * 4 + // down0: horizontal skip = vertical (F -> 2F by concat_elu -> F)
      2 * 4 * 8 * 4 + // down1
      2 * 4 * (8 + 16) * 4 + // up0: vertical skip F, horizontal 2F
      2 * (2 * 16 * (8 + 16) * 4); // up1: two blocks
    expect(f.byKind.pointwise).toBe(skips + 2 * 16 * 4 * 6);
    expect(f.forward).toBe(121_856);
    expect(f.train).toBe(3 * 121_856);
  });

  it('halves the conv inputs without concat_elu and grows as F^2', () => {
    const c = { imageShape: [8, 8, 1], numHierarchies: 2, numResnet: 2 } as const;
    const a = networkFlops(planOf({ ...c, numFilters: 8 }), 'concat_elu');
    const b = networkFlops(planOf({ ...c, numFilters: 16 }), 'concat_elu');
    const e = networkFlops(planOf({ ...c, numFilters: 16 }), 'elu');
    expect(b.byKind.deconv).toBe(4 * a.byKind.deconv);
    expect(e.byKind.deconv).toBe(b.byKind.deconv);
    expect(e.byKind.conv).toBeLessThan(b.byKind.conv);
    expect(e.byKind.conv).toBeGreaterThan(b.byKind.conv / 2);
  });
});

describe('parameterCounts', () => {
  it("counts TFP's Keras parameters of a 4x4 two-hierarchy network by hand", () => {
    // TFP's full kernels for (3, 3): first layer 5x3 and 3x3 (x2) over C = 1 input; gated
    // resnets 3x3; stride-2 convs 4x4 (both streams); transposed 2x4 (vertical) and 2x2.
    const plan = planOf({ imageShape: [4, 4, 1], numHierarchies: 2, numResnet: 1, numFilters: 4 });
    const init = 15 * 4 + 4 + 2 * (9 * 4 + 4);
    const stream = 9 * 8 * 4 + 4 + (9 * 8 * 8 + 8); // conv1 2F -> F, conv2 2F -> 2F
    const skip = (ch: number) => 2 * ch * 4 + 4;
    const down = stream + (stream + skip(4)); // vertical: no skip; horizontal: the vertical output
    const up = stream + skip(4) + (stream + skip(8));
    const resample = 2 * (16 * 4 * 4 + 4) + (8 * 4 * 4 + 4) + (4 * 4 * 4 + 4);
    const head = 4 * 6 + 6;
    const tfpKeras = init + down + down + up + 2 * up + resample + head;
    expect(tfpKeras).toBe(10_038);
    const off = parameterCounts(plan, { weightNorm: false, activation: 'concat_elu' });
    expect(off.tfpKeras).toBe(tfpKeras);
    // weight norm: g per output channel and TFP's scalar `initialized` flag per layer
    const on = parameterCounts(plan, { weightNorm: true, activation: 'concat_elu' });
    const outs = 3 * 4 + 10 * (4 + 8) + 8 * 4 + 4 * 4 + 6; // init, conv1+conv2, skips, resample, head
    const flags = 3 + 10 * 2 + 8 + 4 + 1;
    expect(on.tfpKeras - off.tfpKeras).toBe(outs + flags);
    expect(on.effective - off.effective).toBe(outs);
  });

  it('gives the effective count = PixelCNN.numParameters, and 53.6 M / 94.2 M for TFP defaults', () => {
    for (const c of [
      { imageShape: [8, 8, 3], numHierarchies: 2, numResnet: 2, numFilters: 6 },
      { imageShape: [8, 8, 1], useWeightNorm: false, resnetActivation: 'elu' },
      { imageShape: [8, 8, 2], conditionalShape: [3], receptiveFieldDims: [4, 5] },
      { imageShape: [8, 8, 1], conditionalShape: [], numClasses: 4, constantChannel: false },
    ] as const) {
      const r = resolveConfig({ numFilters: 4, numResnet: 1, ...c });
      const dist = new PixelCNN(r);
      const counts = parameterCounts(dist.plan, {
        weightNorm: r.useWeightNorm,
        activation: r.resnetActivation,
      });
      expect(counts.effective).toBe(dist.numParameters);
      expect(counts.tfpKeras).toBeGreaterThan(counts.effective);
      dist.dispose();
    }
    // the figures of bench/src/tfpBatch32.ts (TFP defaults, 28x28x1); 94.2 M measured with TFP
    const tfp = resolveConfig({ imageShape: [28, 28, 1] });
    const counts = parameterCounts(networkPlan(tfp, 0, 30), {
      weightNorm: true,
      activation: 'concat_elu',
    });
    expect((counts.effective / 1e6).toFixed(1)).toBe('53.6');
    expect((counts.tfpKeras / 1e6).toFixed(1)).toBe('94.2');
  });
});
