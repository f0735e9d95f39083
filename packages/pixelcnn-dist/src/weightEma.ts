import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link WeightEMA}. */
export interface WeightEMAOptions {
  /** Decay per update (PixelCNN++: 0.9995). */
  decay: number;
  /**
   * Use TensorFlow's `ExponentialMovingAverage(num_updates=...)` warm-up: the decay of update n is
   * min(decay, (1 + n) / (10 + n)), so early averages are not dominated by the initial weights.
   * Default true.
   */
  warmup?: boolean;
}

/**
 * Exponential moving average (Polyak averaging) of a list of variables, as PixelCNN++ uses for
 * evaluation and sampling: after each optimizer step `shadow = d * shadow + (1 - d) * weight`.
 * {@link apply} swaps the averages in for the duration of a function.
 */
export class WeightEMA {
  readonly decay: number;
  readonly warmup: boolean;
  /** Shadow copies, aligned with the variables (not trainable). */
  readonly shadows: tf.Variable[];
  private updates = 0;
  private swapped = false;

  constructor(
    readonly variables: readonly tf.Variable[],
    o: WeightEMAOptions,
  ) {
    if (!(o.decay > 0 && o.decay < 1)) {
      throw new Error(`Error in WeightEMA: decay must be in (0, 1), got ${o.decay}`);
    }
    this.decay = o.decay;
    this.warmup = o.warmup ?? true;
    this.shadows = variables.map((v) => tf.variable(v, false));
  }

  /** Updates made so far. */
  get numUpdates(): number {
    return this.updates;
  }

  /** The decay the next update uses. */
  currentDecay(): number {
    const n = this.updates;
    return this.warmup ? Math.min(this.decay, (1 + n) / (10 + n)) : this.decay;
  }

  /** Move every shadow towards its variable. */
  update(): void {
    if (this.swapped) throw new Error('Error in WeightEMA.update: averages are swapped in');
    const d = this.currentDecay();
    // one tidy per variable: the products of every variable at once would be two more copies of
    // the weights (1 GB for TFP's default network)
    this.variables.forEach((v, i) => {
      tf.tidy(() => {
        const s = this.shadows[i];
        s.assign(tf.add(tf.mul(s, d), tf.mul(v, 1 - d)));
      });
    });
    this.updates++;
  }

  /** Set every shadow to its variable's current value and the update count to 0 (a restart). */
  reset(): void {
    if (this.swapped) throw new Error('Error in WeightEMA.reset: averages are swapped in');
    this.variables.forEach((v, i) => {
      this.shadows[i].assign(v);
    });
    this.updates = 0;
  }

  /** Whether the averages are swapped into the variables (inside {@link apply}). */
  get isSwapped(): boolean {
    return this.swapped;
  }

  /** Restore saved averages (one array per variable, in order) and the update count. */
  load(values: readonly Float32Array[], numUpdates: number): void {
    if (this.swapped) throw new Error('Error in WeightEMA.load: averages are swapped in');
    if (values.length !== this.shadows.length) {
      throw new Error(
        `Error in WeightEMA.load: got ${values.length} arrays for ${this.shadows.length} variables`,
      );
    }
    values.forEach((v, i) => {
      const s = this.shadows[i];
      if (v.length !== s.size) {
        throw new Error(
          `Error in WeightEMA.load: array ${i} has ${v.length} values, the variable [${s.shape.join(', ')}]`,
        );
      }
      tf.tidy(() => s.assign(tf.tensor(v, s.shape, 'float32')));
    });
    this.updates = numUpdates;
  }

  /** Exchange the values of the variables and their averages (call twice to undo). */
  swap(): void {
    tf.tidy(() => {
      this.variables.forEach((v, i) => {
        const tmp = tf.clone(v);
        v.assign(this.shadows[i]);
        this.shadows[i].assign(tmp);
      });
    });
    this.swapped = !this.swapped;
  }

  /** Run `fn` with the averages in the variables, then restore the trained values. */
  async apply<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.swapped) throw new Error('Error in WeightEMA.apply: averages are already swapped in');
    this.swap();
    try {
      return await fn();
    } finally {
      this.swap();
    }
  }

  /** Dispose the shadow variables. */
  dispose(): void {
    if (this.swapped) this.swap();
    for (const s of this.shadows) s.dispose();
  }
}
