// `pnpm --filter @pixelcnn/bench receptive-field`: which input pixels can reach a pixel's output
// in PixelCNN++ networks of 28x28 images, measured the only way that cannot be wrong: the
// gradient of the network output at a pixel with respect to the input image (non-zero = in the
// receptive field), for random weights (cpu backend; 1 filter per layer suffices: the wiring, not
// the width, sets the field). Prints, per network, how many of the pixels before the bottom-right
// one (27, 27) in raster order it sees, and the rows and columns they span.
import { initBackend } from '@pixelcnn/backend';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';

await initBackend({ prefer: 'cpu', ignoreEnv: true });
const side = 28;
const nets: [number, number][] = [
  [1, 1],
  [1, 2],
  [2, 2],
  [1, 3],
  [2, 3],
  [5, 3],
];
console.log(
  '| numResnet | numHierarchies | pixel | sees (of the pixels before it) | rows | cols |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [numResnet, numHierarchies] of nets) {
  const dist = new PixelCNN({
    imageShape: [side, side, 1],
    numResnet,
    numHierarchies,
    numFilters: 2,
    numLogisticMix: 1,
    dropoutP: 0,
    useDataInit: false,
    seed: 3,
  });
  for (const [r, c] of [
    [27, 27],
    [27, 0],
  ]) {
    const x = tf.randomUniform([1, side, side, 1], 0, 255, 'float32', 5);
    const g = tf.grad((inp: tf.Tensor) =>
      tf.sum(tf.slice(dist.rawOutput(inp), [0, r, c, 0], [1, 1, 1, -1])),
    )(x);
    const a = await g.data();
    let n = 0;
    let top = side;
    let left = side;
    let right = -1;
    for (let i = 0; i < side; i++)
      for (let j = 0; j < side; j++)
        if (a[i * side + j] !== 0) {
          n++;
          top = Math.min(top, i);
          left = Math.min(left, j);
          right = Math.max(right, j);
        }
    tf.dispose([x, g]);
    const before = r * side + c;
    console.log(
      `| ${numResnet} | ${numHierarchies} | (${r}, ${c}) | ${n} of ${before} (${((100 * n) / before).toFixed(0)}%) | ${top}..${r} | ${left}..${right} |`,
    );
  }
  dist.dispose();
}
