import { describe, expect, it } from 'vitest';
import { conditionalUnits, PIXELCNN_DEFAULTS, resolveConfig } from './config';

describe('resolveConfig', () => {
  it("fills in TFP's defaults", () => {
    const c = resolveConfig({ imageShape: [32, 32, 3] });
    expect(c).toEqual({ imageShape: [32, 32, 3], ...PIXELCNN_DEFAULTS });
    // tfp.distributions.PixelCNN.__init__ defaults
    expect(c.numResnet).toBe(5);
    expect(c.numHierarchies).toBe(3);
    expect(c.numFilters).toBe(160);
    expect(c.numLogisticMix).toBe(10);
    expect(c.receptiveFieldDims).toEqual([3, 3]);
    expect(c.dropoutP).toBe(0.5);
    expect(c.resnetActivation).toBe('concat_elu');
    expect(c.useWeightNorm).toBe(true);
    expect(c.useDataInit).toBe(true);
    expect(c.high).toBe(255);
    expect(c.low).toBe(0);
    expect(c.dtype).toBe('float32');
    expect(c.conditionalShape).toBeNull();
  });

  it('keeps given values and treats undefined as default', () => {
    const c = resolveConfig({
      imageShape: [8, 8, 1],
      numResnet: 1,
      numHierarchies: undefined,
      conditionalShape: [],
      numClasses: 4,
    });
    expect(c.numResnet).toBe(1);
    expect(c.numHierarchies).toBe(3);
    expect(conditionalUnits(c)).toBe(4);
    expect(
      conditionalUnits(resolveConfig({ imageShape: [8, 8, 1], conditionalShape: [2, 3] })),
    ).toBe(6);
    expect(conditionalUnits(resolveConfig({ imageShape: [8, 8, 1], conditionalShape: [] }))).toBe(
      1,
    );
    expect(conditionalUnits(resolveConfig({ imageShape: [8, 8, 1] }))).toBe(0);
  });

  it('rejects sides not divisible by 2^(numHierarchies-1) (TFP breaks silently on 7x7)', () => {
    expect(() => resolveConfig({ imageShape: [7, 7, 1], numHierarchies: 2 })).toThrow(
      /Error in PixelCNN: imageShape \[7,7,1\]: height and width must be divisible by 2\^\(numHierarchies-1\) = 2/,
    );
    expect(() => resolveConfig({ imageShape: [28, 30, 1], numHierarchies: 3 })).toThrow(
      /divisible by 2\^\(numHierarchies-1\) = 4/,
    );
    expect(() => resolveConfig({ imageShape: [7, 7, 1], numHierarchies: 1 })).not.toThrow();
  });

  it('rejects an unknown activation, naming the allowed ones', () => {
    expect(() =>
      resolveConfig({ imageShape: [8, 8, 1], resnetActivation: 'gelu' as 'elu' }),
    ).toThrow(
      "Error in PixelCNN: unknown resnetActivation 'gelu'; expected one of 'concat_elu', 'elu', 'relu'",
    );
  });

  it.each([
    [{ imageShape: [8, 8] }, /imageShape must be \[height, width, channels\]/],
    [{ imageShape: [8, 8, 0] }, /imageShape must be/],
    [{ imageShape: [8, 8, 1], numResnet: 0 }, /numResnet must be a positive integer, got 0/],
    [{ imageShape: [8, 8, 1], numFilters: 2.5 }, /numFilters must be a positive integer/],
    [{ imageShape: [8, 8, 1], receptiveFieldDims: [3, 4] }, /odd cols >= 3/],
    [{ imageShape: [8, 8, 1], receptiveFieldDims: [1, 3] }, /rows >= 2/],
    [{ imageShape: [8, 8, 1], dropoutP: 1 }, /dropoutP must be in \[0, 1\)/],
    [{ imageShape: [8, 8, 1], high: 0, low: 0 }, /low < high/],
    [{ imageShape: [8, 8, 1], high: 2.5 }, /low and high must be integers/],
    [
      { imageShape: [8, 8, 1], dtype: 'float64' },
      /dtype 'float64' is not supported: only 'float32'/,
    ],
    [{ imageShape: [8, 8, 1], numClasses: 3 }, /numClasses \(3\) needs conditionalShape \[\]/],
    [
      { imageShape: [8, 8, 1], conditionalShape: [0] },
      /conditionalShape must be an array of positive integers/,
    ],
    [{ imageShape: [8, 8, 1], convention: 'keras' }, /convention must be 'tfp' or 'pixelcnnpp'/],
    [{ imageShape: [8, 8, 1], numLayers: 3 }, /unknown config option 'numLayers'/],
  ])('rejects %j', (config, message) => {
    expect(() => resolveConfig(config as never)).toThrow(message);
  });
});
