import { initBackend } from '@pixelcnn/backend';
import * as tf from '@tensorflow/tfjs-core';

export async function main() {
  // The fastest backend available: tfjs-node-gpu, webgpu on a GPU, tfjs-node, wasm, cpu (PIXELCNN_BACKEND overrides).
  const report = await initBackend();
  console.log(report.summary); // e.g. "wasm (1 thread); skipped tensorflow-gpu: ... not installed, ..."

  // The weight gradient of a conv, which stock tfjs-backend-wasm 4.22 cannot compute.
  const x = tf.ones([2, 5, 5, 1]) as tf.Tensor4D; // [B, H, W, C]
  const w = tf.zeros([3, 3, 1, 1]) as tf.Tensor4D; // [kh, kw, C, O]
  const dw = tf.grad((f) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid')))(w);
  const taps = Array.from(await dw.data()); // each tap meets 2 images x 3x3 positions of ones: 18
  tf.dispose([x, w, dw]);
  return { backend: report.chosen, taps };
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
