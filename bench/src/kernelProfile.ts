import type { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';

/**
 * One training micro-batch without the optimizer: the loss's forward pass and its gradients
 * with respect to every trainable variable, read back and disposed (`recomputeBlocks`: with
 * gradient checkpointing).
 */
export function trainingPass(
  dist: PixelCNN,
  x: tf.Tensor,
  o: { recomputeBlocks?: boolean } = {},
): () => Promise<void> {
  return async () => {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.neg(
          tf.mean(dist.logProb(x, { training: true, seed: 1, recomputeBlocks: o.recomputeBlocks })),
        ) as tf.Scalar,
      dist.trainableVariables,
    );
    const ts = [value, ...Object.values(grads)];
    await Promise.all(ts.map((t) => t.data()));
    tf.dispose(ts);
  };
}

export interface KernelShare {
  kernel: string;
  ms: number;
  /** of the summed kernel time */
  share: number;
  calls: number;
}

/**
 * Milliseconds per tfjs kernel of one run of `f` (tf.profile), summed by kernel name, largest
 * first. On wasm a kernel's time is its wall time (the backend is synchronous).
 */
export async function kernelProfile(
  f: () => Promise<void>,
): Promise<{ kernels: KernelShare[]; totalMs: number; peakBytes: number }> {
  const prof = await tf.profile(f);
  const by = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const ms = await k.kernelTimeMs;
    const e = by.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof ms === 'number' ? ms : 0;
    e.calls++;
    by.set(k.name, e);
  }
  const totalMs = [...by.values()].reduce((a, b) => a + b.ms, 0);
  const kernels = [...by]
    .map(([kernel, e]) => ({ kernel, ms: e.ms, share: e.ms / totalMs, calls: e.calls }))
    .sort((a, b) => b.ms - a.ms);
  return { kernels, totalMs, peakBytes: prof.peakBytes };
}

/** `Conv2DBackpropInput 31%, Conv2D 22%, ...`: the `top` largest shares, for a table cell. */
export function topShares(kernels: Pick<KernelShare, 'kernel' | 'share'>[], top = 4): string {
  return kernels
    .slice(0, top)
    .map((k) => `${k.kernel} ${(100 * k.share).toFixed(0)}%`)
    .join(', ');
}
