import * as tf from '@tensorflow/tfjs-core';

/**
 * The values of one network activation `[N, h, w, d]` at the positions computed so far, for the
 * cached sampler. Rows are written whole (vertical stream) or pixel by pixel in raster order
 * (horizontal stream); a finished pixel row is joined into one row tensor. Reads of a window are
 * zero outside the image (the causal convs' zero padding) and fail loudly on a position inside the
 * image that was not computed yet, so a scheduling bug cannot silently read a wrong value. Rows
 * older than `keep` behind the newest are disposed: no layer looks further back.
 */
export class PositionCache {
  private readonly rows = new Map<number, tf.Tensor4D>(); // row -> [N, 1, w, d]
  private pixels: tf.Tensor4D[] = []; // the row being written pixel by pixel, [N, 1, 1, d] each
  private pixelRow = -1;
  private newest = -1;

  constructor(
    readonly name: string,
    readonly n: number,
    readonly h: number,
    readonly w: number,
    readonly d: number,
    private readonly keep: number,
  ) {}

  private fail(what: string): never {
    throw new Error(`Error in cachedSampler: ${this.name} ${what} (internal)`);
  }

  /** Store row `i` (`[N, 1, w, d]`); the cache keeps the tensor. */
  setRow(i: number, t: tf.Tensor4D): void {
    if (this.rows.has(i) || i === this.pixelRow) this.fail(`row ${i} written twice`);
    this.rows.set(i, tf.keep(t));
    this.advance(i);
  }

  /** Store pixel `(i, j)` (`[N, 1, 1, d]`); pixels of a row come in column order. */
  setPixel(i: number, j: number, t: tf.Tensor4D): void {
    if (j === 0) {
      if (this.pixels.length > 0 || this.rows.has(i)) this.fail(`row ${i} started twice`);
      this.pixelRow = i;
    } else if (i !== this.pixelRow || j !== this.pixels.length) {
      this.fail(`pixel (${i}, ${j}) out of raster order`);
    }
    this.pixels.push(tf.keep(t));
    if (j === this.w - 1) {
      const row = tf.keep(tf.concat(this.pixels, 2) as tf.Tensor4D); // [N, 1, w, d]
      tf.dispose(this.pixels);
      this.pixels = [];
      this.pixelRow = -1;
      this.rows.set(i, row);
      this.advance(i);
    }
  }

  private advance(i: number): void {
    if (i <= this.newest) return;
    this.newest = i;
    for (const [r, t] of this.rows) {
      if (r < i - this.keep) {
        t.dispose();
        this.rows.delete(r);
      }
    }
  }

  /** Row `i` as `[N, 1, w, d]` (must be complete). */
  row(i: number): tf.Tensor4D {
    const t = this.rows.get(i);
    if (!t) this.fail(`row ${i} read before it was computed`);
    return t;
  }

  /** Pixel `(i, j)` as `[N, 1, 1, d]`. */
  pixel(i: number, j: number): tf.Tensor4D {
    if (i === this.pixelRow) {
      if (j >= this.pixels.length) this.fail(`pixel (${i}, ${j}) read before it was computed`);
      return this.pixels[j];
    }
    return tf.slice(this.row(i), [0, 0, j, 0], [-1, 1, 1, -1]);
  }

  /**
   * Rows `r0..r1` and columns `c0..c1` (inclusive) as `[N, r1-r0+1, c1-c0+1, d]`, zero outside
   * the image.
   */
  window(r0: number, r1: number, c0: number, c1: number): tf.Tensor4D {
    const { n, h, w, d } = this;
    const lo = Math.max(c0, 0);
    const hi = Math.min(c1, w - 1);
    const parts: tf.Tensor4D[] = [];
    for (let r = Math.max(r0, 0); r <= Math.min(r1, h - 1); r++) {
      let part: tf.Tensor4D;
      if (r === this.pixelRow) {
        if (hi >= this.pixels.length) {
          this.fail(`pixel (${r}, ${hi}) read before it was computed`);
        }
        const px = this.pixels.slice(lo, hi + 1);
        part = px.length === 1 ? px[0] : (tf.concat(px, 2) as tf.Tensor4D);
      } else {
        const row = this.row(r);
        part =
          lo === 0 && hi === w - 1 ? row : tf.slice(row, [0, 0, lo, 0], [-1, 1, hi - lo + 1, -1]);
      }
      parts.push(part);
    }
    const top = Math.max(0, -r0);
    const bottom = Math.max(0, r1 - (h - 1));
    const left = lo - c0;
    const right = c1 - hi;
    if (parts.length === 0) return tf.zeros([n, r1 - r0 + 1, c1 - c0 + 1, d]);
    const body = parts.length === 1 ? parts[0] : (tf.concat(parts, 1) as tf.Tensor4D);
    if (top === 0 && bottom === 0 && left === 0 && right === 0) return body;
    return tf.pad(body, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
  }

  dispose(): void {
    for (const t of this.rows.values()) t.dispose();
    this.rows.clear();
    tf.dispose(this.pixels);
    this.pixels = [];
  }
}
