import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config';
import { networkPlan, walkNetwork } from './networkPlan';

const planFor = (o: Record<string, unknown>) =>
  networkPlan(resolveConfig({ imageShape: [16, 16, 3], ...o }), 0, 100);

describe('networkPlan', () => {
  it('matches PixelCNN++ model.py for the default (3, 3) receptive field', () => {
    const p = planFor({
      numResnet: 5,
      numHierarchies: 3,
      numFilters: 160,
      imageShape: [32, 32, 3],
      constantChannel: true,
    });
    expect(p.inputChannels).toBe(4); // the constant ones channel
    expect(p.init.vertical).toMatchObject({
      kind: 'downShiftedConv2d',
      kernelSize: [2, 3],
      inChannels: 4,
    });
    expect(p.init.horizontalUp).toMatchObject({ kind: 'downShiftedConv2d', kernelSize: [1, 3] });
    expect(p.init.horizontalLeft).toMatchObject({
      kind: 'downRightShiftedConv2d',
      kernelSize: [2, 1],
    });
    const resnets = p.blocks.filter((b) => b.kind === 'resnet');
    expect(resnets.length).toBe(3 * 5 + 5 + 2 * 6);
    for (const b of resnets) {
      if (b.kind !== 'resnet') continue;
      expect(b.vertical.kernelSize).toEqual([2, 3]);
      expect(b.horizontal.kernelSize).toEqual([2, 2]);
      expect(b.vertical.skipChannels).toBe(b.pass === 'downsampling' ? 0 : 160);
      expect(b.horizontal.skipChannels).toBe(b.pass === 'downsampling' ? 160 : 320);
    }
    expect(p.blocks.map((b) => `${b.name}@${b.kind === 'resnet' ? b.resolution : b.to}`)).toEqual([
      ...[0, 1, 2, 3, 4].map((j) => `down0/resnet${j}@32,32`),
      'down0/downsample@16,16',
      ...[0, 1, 2, 3, 4].map((j) => `down1/resnet${j}@16,16`),
      'down1/downsample@8,8',
      ...[0, 1, 2, 3, 4].map((j) => `down2/resnet${j}@8,8`),
      ...[0, 1, 2, 3, 4].map((j) => `up0/resnet${j}@8,8`),
      'up0/upsample@16,16',
      ...[0, 1, 2, 3, 4, 5].map((j) => `up1/resnet${j}@16,16`),
      'up1/upsample@32,32',
      ...[0, 1, 2, 3, 4, 5].map((j) => `up2/resnet${j}@32,32`),
    ]);
    expect(p.pushes).toBe(3 * 5 + 2);
    expect(p.pops).toBe(p.pushes);
  });

  it('generalises the kernels to TFP receptive_field_dims (rows, cols)', () => {
    const p = planFor({ receptiveFieldDims: [4, 5], numHierarchies: 2 });
    expect(p.init.vertical.kernelSize).toEqual([3, 5]);
    expect(p.init.horizontalUp.kernelSize).toEqual([1, 5]);
    expect(p.init.horizontalLeft.kernelSize).toEqual([2, 2]);
    const r = p.blocks[0];
    expect(r.kind === 'resnet' && [r.vertical.kernelSize, r.horizontal.kernelSize]).toEqual([
      [3, 5],
      [2, 3],
    ]);
  });

  it('pushes = pops = numHierarchies*numResnet + numHierarchies-1 for every config (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), (nr, nh) => {
        const side = 2 ** (nh - 1) * 2;
        const p = networkPlan(
          resolveConfig({ imageShape: [side, side, 1], numResnet: nr, numHierarchies: nh }),
          0,
          10,
        );
        expect(p.pushes).toBe(nh * nr + nh - 1);
        expect(p.pops).toBe(p.pushes);
        const up = p.blocks.filter((b) => b.kind === 'resnet' && b.pass === 'upsampling').length;
        expect(up).toBe(nr + (nh - 1) * (nr + 1));
        expect(p.blocks.filter((b) => b.kind === 'downsample').length).toBe(nh - 1);
        expect(p.blocks.filter((b) => b.kind === 'upsample').length).toBe(nh - 1);
        // ends at full resolution
        const last = p.blocks[p.blocks.length - 1];
        expect(last.kind === 'resnet' && last.resolution).toEqual([side, side]);
      }),
    );
  });

  it('omits the constant channel by default (as TFP)', () => {
    expect(planFor({}).inputChannels).toBe(3);
    expect(planFor({ constantChannel: false }).inputChannels).toBe(3);
  });
});

describe('walkNetwork', () => {
  it("wires PixelCNN++'s skips: each upsampling resnet pops the downsampling outputs in reverse", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), (nr, nh) => {
        const side = 2 ** (nh - 1) * 2;
        const plan = networkPlan(
          resolveConfig({ imageShape: [side, side, 1], numResnet: nr, numHierarchies: nh }),
          0,
          10,
        );
        // an independent skip list: names pushed in the downsampling pass, popped in the upsampling
        const pushed = ['init'];
        const seen: string[] = [];
        const out = walkNetwork<string>(plan, {
          init: () => 'init',
          resnet: (spec, i, input, skip) => {
            expect(input).toBe(i === 0 ? 'init' : plan.blocks[i - 1].name);
            if (spec.pass === 'downsampling') {
              expect(skip).toBeUndefined();
              pushed.push(spec.name);
            } else {
              if (seen.length === 0) pushed.pop(); // the upsampling pass starts from the last push
              seen.push(spec.name);
              expect(skip).toBe(pushed.pop());
            }
            return spec.name;
          },
          resample: (spec, _, input) => {
            if (spec.kind === 'downsample') pushed.push(spec.name);
            expect(typeof input).toBe('string');
            return spec.name;
          },
        });
        expect(pushed).toEqual([]);
        expect(out).toBe(plan.blocks[plan.blocks.length - 1].name);
      }),
    );
  });
});
