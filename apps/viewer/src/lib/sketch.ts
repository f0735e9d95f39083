import { quantizePixels } from '@pixelcnn/pixelcnn-dist/run';
/**
 * Ink of a sketch canvas (dark strokes on white; RGBA, `width x height`) averaged over the
 * `outH x outW` boxes it divides into, as values in [0, high] (QuickDraw's convention: 0 = paper,
 * high = full ink). Canvas sides must be multiples of the output's.
 */
export function sketchToImage(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
  outH: number,
  outW: number,
  high: number,
): Float32Array {
  const fn = 'sketchToImage';
  if (rgba.length !== width * height * 4) {
    throw new Error(
      `Error in ${fn}: expected ${width * height * 4} RGBA bytes for ${width}x${height}, got ${rgba.length}`,
    );
  }
  if (width % outW !== 0 || height % outH !== 0) {
    throw new Error(
      `Error in ${fn}: a ${width}x${height} canvas does not divide into ${outW}x${outH} boxes`,
    );
  }
  if (!Number.isInteger(high) || high < 1)
    throw new Error(`Error in ${fn}: high must be an integer >= 1, got ${high}`);
  const bx = width / outW;
  const by = height / outH;
  const out = new Float32Array(outH * outW);
  for (let r = 0; r < outH; r++) {
    for (let c = 0; c < outW; c++) {
      let ink = 0;
      for (let y = r * by; y < (r + 1) * by; y++) {
        for (let x = c * bx; x < (c + 1) * bx; x++) {
          const p = (y * width + x) * 4;
          const a = rgba[p + 3] / 255;
          // luminance composited over white paper
          const lum =
            (0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]) * a + 255 * (1 - a);
          ink += 1 - lum / 255;
        }
      }
      out[r * outW + c] = Math.max(0, Math.min(high, Math.round((ink / (bx * by)) * high)));
    }
  }
  return out;
}

/**
 * A `[H, W]` single-channel image (values in [0, high]) drawn `scale` times larger as RGBA, ink
 * dark on white: what the sketch canvas shows when a real drawing is picked.
 * `sketchToImage(imageToSketch(v, ...), ...)` gives `v` back.
 */
export function imageToSketch(
  values: ArrayLike<number>,
  H: number,
  W: number,
  scale: number,
  high: number,
): Uint8ClampedArray {
  if (values.length !== H * W) {
    throw new Error(
      `Error in imageToSketch: expected ${H * W} values for ${H}x${W}, got ${values.length}`,
    );
  }
  const width = W * scale;
  const rgba = new Uint8ClampedArray(width * H * scale * 4);
  for (let y = 0; y < H * scale; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[Math.floor(y / scale) * W + Math.floor(x / scale)];
      const g = 255 - Math.round((v * 255) / high);
      const p = (y * width + x) * 4;
      rgba[p] = g;
      rgba[p + 1] = g;
      rgba[p + 2] = g;
      rgba[p + 3] = 255;
    }
  }
  return rgba;
}

/** Requantise 0..255 bitmap bytes (QuickDraw .npy) to 0..high, as the trainer does. */
export function quantizeBitmap(bytes: ArrayLike<number>, high: number): Float32Array {
  return Float32Array.from(quantizePixels(bytes, high));
}
