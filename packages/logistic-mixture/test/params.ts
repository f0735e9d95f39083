import * as tf from '@tensorflow/tfjs-core';
import type { MixtureParams } from '../src/mixtureParams';
import { mulberry32, type Pixel64, pixelsFromArrays } from './reference64';

/** Test parameter regimes. 'wide': ordinary values; 'extreme': tiny scales, far locs, big logits. */
export type Regime = 'wide' | 'extreme';

/**
 * Random mixture parameters for N pixels as float32 tensors with batch shape `batch` (product N),
 * plus the same numbers (read back, so exactly the float32 values) as float64 pixels.
 */
export function randomParams(
  seed: number,
  batch: number[],
  K: number,
  C: number,
  regime: Regime = 'wide',
): { p: MixtureParams; pixels: Pixel64[] } {
  const rng = mulberry32(seed);
  const N = batch.reduce((a, b) => a * b, 1);
  const nc = (C * (C - 1)) / 2;
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng();
  const logits = Array.from({ length: N * K }, () => u(-3, 3));
  const locs = Array.from({ length: N * K * C }, () => u(-1.2, 1.2));
  // log-uniform scales from exp(-7) to 2
  const scales = Array.from({ length: N * K * C }, () => Math.exp(u(-7, Math.log(2))));
  const coeffs = Array.from({ length: N * K * nc }, () => u(-1, 1));
  if (regime === 'extreme') {
    for (let i = 0; i < scales.length; i++) {
      if (rng() < 0.5) scales[i] = Math.exp(-7);
      if (rng() < 0.3) locs[i] = u(-6, 6);
    }
    for (let i = 0; i < logits.length; i++) if (rng() < 0.3) logits[i] = u(-40, 40);
  }
  const p: MixtureParams = {
    logits: tf.tensor(logits, [...batch, K]),
    locs: tf.tensor(locs, [...batch, K, C]),
    scales: tf.tensor(scales, [...batch, K, C]),
    coeffs: tf.tensor(coeffs, [...batch, K, nc]),
  };
  const f = (a: number[]) => Float32Array.from(a);
  const pixels = pixelsFromArrays(N, K, C, {
    logits: f(logits),
    locs: f(locs),
    scales: f(scales),
    coeffs: f(coeffs),
  });
  return { p, pixels };
}

/** Every value tuple of C channels in [low, high], row-major (channel 0 slowest). */
export function allValues(C: number, low: number, high: number): number[][] {
  let out: number[][] = [[]];
  for (let c = 0; c < C; c++) {
    const next: number[][] = [];
    for (const t of out) for (let v = low; v <= high; v++) next.push([...t, v]);
    out = next;
  }
  return out;
}
