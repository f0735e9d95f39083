import { describe, expect, it } from 'vitest';
import { conditionalUnits, resolveConfig } from './config';
import { networkFlops } from './flops';
import { networkPlan } from './networkPlan';

const planOf = (c: Parameters<typeof resolveConfig>[0]) => {
  const r = resolveConfig(c);
  return networkPlan(r, conditionalUnits(r), 6);
};

describe('networkFlops', () => {
  it('counts a 4x4 two-hierarchy network by hand', () => {
    // 4x4x1 (+ ones channel: 2 inputs), F = 4, concat_elu (conv inputs 2F = 8), head 6 outputs.
    // 16 pixels at full resolution, 4 at half.
    const plan = planOf({ imageShape: [4, 4, 1], numHierarchies: 2, numResnet: 1, numFilters: 4 });
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
