import * as tf from '@tensorflow/tfjs-core';

/**
 * Parameters per optimizer call in {@link applyGradientsInChunks}. tfjs's Adam runs its whole
 * update in one `tf.tidy`, so every intermediate it makes for every variable (about 12 per
 * parameter: the moments' products, the bias corrections, the square root, the step) lives until
 * the update ends: for TFP's default network (54 M parameters) 2.6 GB at once, which with the
 * weights, moments, EMA and gradients took a step to the 4 GiB wasm heap's limit whatever the
 * micro-batch. In chunks of 4 M parameters those intermediates take ~190 MB.
 */
export const UPDATE_CHUNK_PARAMETERS = 4_000_000;

/** tfjs 4.22 Adam's state, as `applyGradients` uses it. */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: unknown[];
  accumulatedSecondMoment: unknown[];
  iterations_: number;
}

function adamInternals(opt: tf.Optimizer): AdamInternals | undefined {
  const a = opt as unknown as Partial<AdamInternals>;
  const ok =
    opt.getClassName() === 'Adam' &&
    a.accBeta1 instanceof tf.Variable &&
    a.accBeta2 instanceof tf.Variable &&
    Array.isArray(a.accumulatedFirstMoment) &&
    Array.isArray(a.accumulatedSecondMoment);
  return ok ? (a as AdamInternals) : undefined;
}

/**
 * `opt.applyGradients(update)`, the same update to the bit, with Adam's in chunks of about
 * `maxParameters` parameters so its intermediates are freed chunk by chunk (see
 * {@link UPDATE_CHUNK_PARAMETERS}). tfjs's Adam keeps its moments by the position of a variable
 * in the list it is given and advances its beta powers and iteration count once per call, so
 * each chunk sees the moments of its own variables (the chunk's slice of the full lists, written
 * back after the call: the first update creates them) and the step's beta powers, and the count
 * advances once. Other optimizers get one call (their per-call state differs; SGD and momentum
 * keep no per-variable intermediates worth chunking).
 */
export function applyGradientsInChunks(
  opt: tf.Optimizer,
  update: Array<{ name: string; tensor: tf.Tensor }>,
  maxParameters = UPDATE_CHUNK_PARAMETERS,
): void {
  const adam = adamInternals(opt);
  const total = update.reduce((n, u) => n + u.tensor.size, 0);
  if (!adam || total <= maxParameters) {
    opt.applyGradients(update);
    return;
  }
  const chunks: Array<[number, number]> = [];
  for (let start = 0, end = 0; start < update.length; start = end) {
    let size = 0;
    end = start;
    while (
      end < update.length &&
      (end === start || size + update[end].tensor.size <= maxParameters)
    )
      size += update[end++].tensor.size;
    chunks.push([start, end]);
  }
  const first = adam.accumulatedFirstMoment;
  const second = adam.accumulatedSecondMoment;
  const beta1 = tf.clone(adam.accBeta1);
  const beta2 = tf.clone(adam.accBeta2);
  const iterations = opt.iterations;
  try {
    for (const [start, end] of chunks) {
      adam.accBeta1.assign(beta1);
      adam.accBeta2.assign(beta2);
      adam.accumulatedFirstMoment = first.slice(start, end);
      adam.accumulatedSecondMoment = second.slice(start, end);
      try {
        opt.applyGradients(update.slice(start, end));
      } finally {
        // the moments this call made (the first update creates them) go back to their places
        adam.accumulatedFirstMoment.forEach((m, i) => {
          first[start + i] = m;
        });
        adam.accumulatedSecondMoment.forEach((m, i) => {
          second[start + i] = m;
        });
        adam.accumulatedFirstMoment = first;
        adam.accumulatedSecondMoment = second;
      }
    }
    adam.iterations_ = iterations + 1;
  } finally {
    tf.dispose([beta1, beta2]);
  }
}
