import * as tf from '@tensorflow/tfjs-core';

/** The engine's tape, which a gradient computed inside a backward pass must not clobber. */
interface EngineTapeState {
  state: { activeTape: unknown };
}

/**
 * `f(...inputs)` with gradient checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear
 * Memory Cost"): the forward pass keeps none of f's intermediates, only its inputs; the backward
 * pass runs f again on them under a tape of its own and differentiates that. Memory for one
 * call of f's intermediates at a time instead of all of them, for one more forward pass of f.
 *
 * `inputs` are the activations f reads (kept until the backward pass); `params` are the live
 * tensors f reads through its closure and whose gradients are wanted (weights, biases: they must
 * outlive the backward pass, as variables and a trainer's effective weights do). f must compute
 * the same function when called again: a dropout seed fixed, any context it reads (e.g.
 * `effectiveWeightScope`) re-entered. Gradients of tensors f does not reach are zeros.
 *
 * Two tfjs (4.22) details this handles: a closure capture of an intermediate would be freed by the
 * forward pass's tidy, so the inputs go through customGrad's `save`; and a gradient computed
 * inside a backward pass starts a new tape and, at its end, drops the engine's active one (the
 * outer tape, whose saved tensors the outer pass frees when it finishes), so the outer tape is
 * put back after it.
 */
export function recomputeInBackward(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  params: tf.Tensor[],
): tf.Tensor {
  const n = inputs.length;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = args.slice(0, n) as tf.Tensor[];
    save(xs);
    return {
      value: f(...xs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const engine = tf.engine() as unknown as EngineTapeState;
        const outer = engine.state.activeTape;
        try {
          const wrt = [...saved, ...params];
          const { value, grads } = tf.engine().gradients(() => f(...saved), wrt, dy, true);
          value.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(wrt[i]));
        } finally {
          engine.state.activeTape = outer;
        }
      },
    };
  });
  return op(...inputs, ...params);
}
