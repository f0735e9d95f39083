/**
 * `image` ([H, W, C] row-major) with every row from `keepRows` on set to 0: the raster prefix a
 * completion conditions on (pixelcnn-dist's `sample(n, { prefix: { images, rows } })` draws the
 * rest from p(rest | prefix) with the cached sampler). `keepRows` in [0, H].
 */
export function keepTopRows(
  image: ArrayLike<number>,
  shape: readonly [number, number, number],
  keepRows: number,
): Float32Array {
  const [H, W, C] = shape;
  checkKeepRows('keepTopRows', keepRows, H);
  if (image.length !== H * W * C) {
    throw new Error(
      `Error in keepTopRows: expected ${H * W * C} values for [${H}, ${W}, ${C}], got ${image.length}`,
    );
  }
  const out = new Float32Array(H * W * C);
  const keep = keepRows * W * C;
  for (let i = 0; i < keep; i++) out[i] = image[i];
  return out;
}

function checkKeepRows(fn: string, keepRows: number, H: number): void {
  if (!Number.isInteger(keepRows) || keepRows < 0 || keepRows > H) {
    throw new Error(`Error in ${fn}: keepRows must be an integer in [0, ${H}], got ${keepRows}`);
  }
}

/** Raster index of the first pixel a completion samples (everything before it is kept). */
export function firstSampledIndex(keepRows: number, width: number): number {
  return keepRows * width;
}
