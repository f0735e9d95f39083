import * as tf from '@tensorflow/tfjs-core';
import type { TensorEntry } from './checkpoint';

/** Adam settings plus the learning-rate schedule. */
export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Multiply the learning rate by this every step (PixelCNN++: 0.999995; 1 = constant). */
  lrDecay: number;
  /** Linear warm-up from lr/warmup to lr over this many steps (0 = none). */
  warmupSteps: number;
  /** Clip gradients to this global L2 norm (0 = no clipping). */
  gradClipNorm: number;
}

/** The learning rate used for step `step` (0-based): lr * decay^step, times the warm-up ramp. */
export function learningRateAt(s: AdamSettings, step: number): number {
  const warm = s.warmupSteps > 0 ? Math.min(1, (step + 1) / s.warmupSteps) : 1;
  return s.learningRate * s.lrDecay ** step * warm;
}

/** A non-trainable variable holding `init` (which is disposed). */
function ownVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, false);
  init.dispose();
  return v;
}

/** Global L2 norm of a list of tensors (a scalar tensor). */
export function globalNorm(ts: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(ts.map((t) => tf.sum(tf.square(t))))) as tf.Scalar);
}

/**
 * Adam as in PixelCNN++'s `adam_updates` (Kingma & Ba 2015 with explicit bias correction, eps
 * outside the square root), with moments held in variables we can save and restore exactly, so
 * a resumed run continues bit-for-bit. Works with any list of float32 variables.
 */
export class Adam {
  /** Updates applied so far. */
  step = 0;
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];

  constructor(
    readonly vars: readonly tf.Variable[],
    readonly settings: AdamSettings,
  ) {
    this.m = vars.map((x) => ownVariable(tf.zerosLike(x)));
    this.v = vars.map((x) => ownVariable(tf.zerosLike(x)));
  }

  /**
   * Apply one update from `grads` (same order and shapes as `vars`). The caller checks the
   * gradients are finite first. Returns the learning rate used.
   */
  apply(grads: readonly tf.Tensor[], gradNorm?: number): number {
    const s = this.settings;
    if (grads.length !== this.vars.length) {
      throw new Error(
        `Error in Adam.apply: got ${grads.length} gradients for ${this.vars.length} variables`,
      );
    }
    const lr = learningRateAt(s, this.step);
    const t = this.step + 1;
    const clip =
      s.gradClipNorm > 0 && gradNorm !== undefined && gradNorm > s.gradClipNorm
        ? s.gradClipNorm / gradNorm
        : 1;
    const c1 = 1 - s.beta1 ** t;
    const c2 = 1 - s.beta2 ** t;
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        const g = clip === 1 ? grads[i] : tf.mul(grads[i], clip);
        const m = tf.add(tf.mul(this.m[i], s.beta1), tf.mul(g, 1 - s.beta1));
        const v = tf.add(tf.mul(this.v[i], s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), s.epsilon));
        w.assign(tf.sub(w, tf.mul(update, lr)));
      });
    });
    this.step = t;
    return lr;
  }

  /** The moments as named entries (m then v per variable) for a checkpoint. */
  exportState(names: readonly string[]): TensorEntry[] {
    return this.vars.flatMap((_, i) => [
      {
        name: `${names[i]}/adam_m`,
        shape: this.m[i].shape,
        data: this.m[i].dataSync() as Float32Array,
      },
      {
        name: `${names[i]}/adam_v`,
        shape: this.v[i].shape,
        data: this.v[i].dataSync() as Float32Array,
      },
    ]);
  }

  importState(entries: readonly TensorEntry[], step: number): void {
    if (entries.length !== 2 * this.vars.length) {
      throw new Error(
        `optimizer state has ${entries.length} tensors, this model needs ${2 * this.vars.length}`,
      );
    }
    this.vars.forEach((w, i) => {
      for (const [k, target] of [
        [2 * i, this.m[i]],
        [2 * i + 1, this.v[i]],
      ] as const) {
        const e = entries[k];
        if (e.shape.join(',') !== w.shape.join(',')) {
          throw new Error(
            `optimizer tensor '${e.name}' has shape [${e.shape}], the model's variable has [${w.shape}]`,
          );
        }
        tf.tidy(() => target.assign(tf.tensor(e.data, e.shape, 'float32')));
      }
    });
    this.step = step;
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Polyak / exponential moving average of weights (PixelCNN++ evaluates and samples with it):
 * shadow = d * shadow + (1 - d) * w after every step, with d = min(decay, (1 + t) / (10 + t)) as
 * TensorFlow's ExponentialMovingAverage with num_updates, so short runs are not dominated by the
 * initial weights.
 */
export class WeightAverage {
  readonly shadow: tf.Variable[];

  constructor(
    readonly vars: readonly tf.Variable[],
    readonly decay: number,
  ) {
    this.shadow = vars.map((x) => ownVariable(tf.clone(x)));
  }

  /** The decay used after update number `t` (1-based). */
  decayAt(t: number): number {
    return Math.min(this.decay, (1 + t) / (10 + t));
  }

  update(t: number): void {
    const d = this.decayAt(t);
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        this.shadow[i].assign(tf.add(tf.mul(this.shadow[i], d), tf.mul(w, 1 - d)));
      });
    });
  }

  /** Reset the average to the current weights (after data-dependent init). */
  reset(): void {
    this.vars.forEach((w, i) => {
      this.shadow[i].assign(w);
    });
  }

  /** Run `f` with the averaged weights swapped into the variables, then put the raw ones back. */
  async withAveraged<T>(f: () => Promise<T> | T): Promise<T> {
    const saved = this.vars.map((w) => tf.clone(w));
    try {
      this.vars.forEach((w, i) => {
        w.assign(this.shadow[i]);
      });
      return await f();
    } finally {
      this.vars.forEach((w, i) => {
        w.assign(saved[i]);
      });
      tf.dispose(saved);
    }
  }

  exportState(names: readonly string[]): TensorEntry[] {
    return this.shadow.map((s, i) => ({
      name: `${names[i]}/ema`,
      shape: s.shape,
      data: s.dataSync() as Float32Array,
    }));
  }

  importState(entries: readonly TensorEntry[]): void {
    if (entries.length !== this.vars.length) {
      throw new Error(
        `EMA state has ${entries.length} tensors, this model needs ${this.vars.length}`,
      );
    }
    entries.forEach((e, i) => {
      if (e.shape.join(',') !== this.vars[i].shape.join(',')) {
        throw new Error(
          `EMA tensor '${e.name}' has shape [${e.shape}], the model's variable has [${this.vars[i].shape}]`,
        );
      }
      tf.tidy(() => this.shadow[i].assign(tf.tensor(e.data, e.shape, 'float32')));
    });
  }

  dispose(): void {
    tf.dispose(this.shadow);
  }
}
