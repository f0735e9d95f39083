import * as tf from '@tensorflow/tfjs-core';
import { check, isPositiveInt } from './errors';

/**
 * The masked layers of TFP's `_PixelCNNNetwork` (tensorflow_probability/python/distributions/
 * pixel_cnn.py), for `receptiveFieldDims = [rows, cols]`:
 * - 'verticalInit': `(2*rows-1, cols)`, rows `[0, rows-1)` valid (strictly above the pixel).
 * - 'horizontalInitAbove': `(3, cols)`, row 0 valid (the row above).
 * - 'horizontalInitLeft': `(3, cols)`, rows `[0, 2)`, columns `[0, cols//2)` (strictly left).
 * - 'vertical': `(2*rows-3, cols)`, rows `[0, rows-1)` (stride-1 vertical-stack layers).
 * - 'horizontal': `(3, cols)`, rows `[0, 2)`, columns `[0, cols//2+1)` (stride-1 horizontal).
 * - 'verticalDownsample' / 'horizontalDownsample': stride-2 convs, `(2h, w+1)` resp. `(2h, 2w)`
 *   with rows `[0, h)`, columns `[0, w)`, where `(h, w)` = `(rows-1, cols)` resp. `(2, cols//2+1)`.
 * - 'verticalUpsample' / 'horizontalUpsample': stride-2 transposed convs, `(2h-2, w+1)` with rows
 *   `[h-2, 2h-2)`, columns `[0, w)`, resp. `(2h-2, 2w-2)` with columns `[w-2, 2w-2)`.
 *
 * Each equals a PixelCNN++ padded conv whose small kernel is the valid block (see
 * maskedCounterpart): 'vertical' = downShifted `[rows-1, cols]`, 'horizontal' = downRightShifted
 * `[2, cols//2+1]`, the *sample layers the stride-2 (transposed) versions, and (with zero bias)
 * 'verticalInit' = downShift(downShifted `[rows-1, cols]`), 'horizontalInitAbove' =
 * downShift(downShifted `[1, cols]`), 'horizontalInitLeft' = rightShift(downRightShifted
 * `[2, cols//2]`).
 *
 * Unlike TFP, which applies these as Keras kernel *constraints* (only after an optimizer step, so
 * an untrained TFP PixelCNN is not autoregressive), {@link maskedConv2d} multiplies the kernel by
 * the mask in every call.
 */
export type TfpLayer =
  | 'verticalInit'
  | 'horizontalInitAbove'
  | 'horizontalInitLeft'
  | 'vertical'
  | 'horizontal'
  | 'verticalDownsample'
  | 'horizontalDownsample'
  | 'verticalUpsample'
  | 'horizontalUpsample';

export const TFP_LAYERS: readonly TfpLayer[] = [
  'verticalInit',
  'horizontalInitAbove',
  'horizontalInitLeft',
  'vertical',
  'horizontal',
  'verticalDownsample',
  'horizontalDownsample',
  'verticalUpsample',
  'horizontalUpsample',
];

export interface TfpMaskOptions {
  /** TFP's `receptive_field_dims` `(rows, cols)`: rows >= 2, cols odd (default PixelCNN++ `[3, 3]`). */
  receptiveField: [number, number];
  layer: TfpLayer;
}

/** A TFP kernel mask with the layer's geometry. */
export interface TfpMask {
  kernelSize: [number, number];
  /** `[kh, kw, 1, 1]` 0/1 mask (broadcasts over channels in maskedConv2d). */
  mask: tf.Tensor4D;
  /** Valid rows / columns, half-open `[start, end)` as in TFP's `_make_kernel_constraint`. */
  validRows: [number, number];
  validCols: [number, number];
  /** Top-left corner of the valid block (for embedKernel). */
  offset: [number, number];
  strides: 1 | 2;
  transposed: boolean;
}

interface Geometry {
  size: [number, number];
  rows: [number, number];
  cols: [number, number];
  strides: 1 | 2;
  transposed: boolean;
}

function geometry(rows: number, cols: number, layer: TfpLayer): Geometry | undefined {
  const half = Math.floor(cols / 2);
  const vh = rows - 1; // TFP kernel_valid_dims['vertical'] = (rows-1, cols)
  const vw = cols;
  const hh = 2; // TFP kernel_valid_dims['horizontal'] = (2, cols//2+1)
  const hw = half + 1;
  switch (layer) {
    case 'verticalInit':
      return g([2 * rows - 1, cols], [0, rows - 1], [0, cols]);
    case 'horizontalInitAbove':
      return g([3, cols], [0, 1], [0, cols]);
    case 'horizontalInitLeft':
      return g([3, cols], [0, 2], [0, half]);
    case 'vertical':
      return g([2 * rows - 3, cols], [0, vh], [0, vw]);
    case 'horizontal':
      return g([3, cols], [0, hh], [0, hw]);
    case 'verticalDownsample':
      return g([2 * vh, vw + 1], [0, vh], [0, vw], 2);
    case 'horizontalDownsample':
      return g([2 * hh, 2 * hw], [0, hh], [0, hw], 2);
    case 'verticalUpsample':
      return g([2 * vh - 2, vw + 1], [vh - 2, 2 * vh - 2], [0, vw], 2, true);
    case 'horizontalUpsample':
      return g([2 * hh - 2, 2 * hw - 2], [hh - 2, 2 * hh - 2], [hw - 2, 2 * hw - 2], 2, true);
    default:
      return undefined;
  }
}

function g(
  size: [number, number],
  rows: [number, number],
  cols: [number, number],
  strides: 1 | 2 = 1,
  transposed = false,
): Geometry {
  return { size, rows, cols, strides, transposed };
}

/**
 * TFP-style kernel mask for one layer of its PixelCNN network (see {@link TfpLayer}); use it with
 * {@link maskedConv2d} and conv params of size `kernelSize` (transposed params for the *Upsample
 * layers).
 */
export function tfpMask(o: TfpMaskOptions): TfpMask {
  const fn = 'tfpMask';
  check(o != null && typeof o === 'object', fn, () => 'expected an options object');
  const rf = o.receptiveField;
  check(
    Array.isArray(rf) && rf.length === 2 && isPositiveInt(rf[0]) && isPositiveInt(rf[1]),
    fn,
    () => `receptiveField must be two positive integers, got ${JSON.stringify(rf)}`,
  );
  const [rows, cols] = rf;
  check(rows >= 2, fn, () => `receptiveField rows must be >= 2, got [${rows}, ${cols}]`);
  check(cols % 2 === 1, fn, () => `receptiveField cols must be odd, got [${rows}, ${cols}]`);
  const geo = geometry(rows, cols, o.layer);
  check(
    geo !== undefined,
    fn,
    () => `unknown layer ${JSON.stringify(o.layer)} (expected one of ${TFP_LAYERS.join(', ')})`,
  );
  const { size, rows: vr, cols: vc } = geo;
  check(
    size[0] >= 1 && size[1] >= 1 && vr[1] > vr[0] && vc[1] > vc[0],
    fn,
    () =>
      `layer '${o.layer}' has an empty kernel for receptiveField [${rows}, ${cols}] (kernel [${size.join(', ')}], valid rows [${vr.join(', ')}), cols [${vc.join(', ')}))`,
  );
  const data = new Float32Array(size[0] * size[1]);
  for (let r = vr[0]; r < vr[1]; r++) {
    for (let c = vc[0]; c < vc[1]; c++) data[r * size[1] + c] = 1;
  }
  return {
    kernelSize: size,
    mask: tf.tensor4d(data, [size[0], size[1], 1, 1]),
    validRows: vr,
    validCols: vc,
    offset: [vr[0], vc[0]],
    strides: geo.strides,
    transposed: geo.transposed,
  };
}
