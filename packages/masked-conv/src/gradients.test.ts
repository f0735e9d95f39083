import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { randn, randomizeGB } from '../test/helpers';
import {
  type ConvParams,
  conv2d,
  createConvParams,
  createDenseParams,
  type DenseParams,
  deconv2d,
  dense,
  disposeParams,
  downRightShiftedConv2d,
  downRightShiftedDeconv2d,
  downShiftedConv2d,
  downShiftedDeconv2d,
  maskedConv2d,
  nin,
  paramVariables,
  pixelCnnMask,
} from './index';

type Layer = (x: tf.Tensor, p: ConvParams) => tf.Tensor;
const convLayers: [string, [number, number], boolean, Layer][] = [
  ['conv2d', [3, 3], false, (x, p) => conv2d(x, p)],
  ['deconv2d', [3, 3], true, (x, p) => deconv2d(x, p, { strides: 2 })],
  ['downShiftedConv2d', [2, 3], false, (x, p) => downShiftedConv2d(x, p)],
  ['downShiftedConv2d stride 2', [2, 3], false, (x, p) => downShiftedConv2d(x, p, { strides: 2 })],
  ['downRightShiftedConv2d', [2, 2], false, (x, p) => downRightShiftedConv2d(x, p)],
  [
    'downRightShiftedConv2d stride 2',
    [2, 2],
    false,
    (x, p) => downRightShiftedConv2d(x, p, { strides: 2 }),
  ],
  ['downShiftedDeconv2d', [2, 3], true, (x, p) => downShiftedDeconv2d(x, p)],
  ['downRightShiftedDeconv2d', [2, 2], true, (x, p) => downRightShiftedDeconv2d(x, p)],
];

/** loss = sum(f() * r) for a fixed random r of f's shape. */
function weightedLoss(f: () => tf.Tensor, seed: number): () => tf.Scalar {
  return () => {
    const y = f();
    return tf.sum(tf.mul(y, tf.randomNormal(y.shape, 0, 1, 'float32', seed))) as tf.Scalar;
  };
}

/** Every gradient finite and not all zero; and <grad, d> matches a central difference along d. */
async function checkGradients(
  vars: tf.Variable[],
  loss: () => tf.Scalar,
  what: string,
): Promise<void> {
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dispose();
  let directional = 0;
  // directions scaled to each variable (v ~ 0.05, g ~ 1), so the step stays in the linear regime
  const dirs = vars.map((v, i) =>
    tf.tidy(() => {
      const rms = tf.add(tf.sqrt(tf.mean(tf.square(v))), 1e-3);
      return tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 100 + i), tf.mul(rms, 0.1));
    }),
  );
  for (const [i, v] of vars.entries()) {
    const g = await grads[v.name].data();
    expect(g.every(Number.isFinite), `${what}: ${v.name} finite`).toBe(true);
    expect(
      g.some((e) => e !== 0),
      `${what}: gradient of variable #${i} ${JSON.stringify(v.shape)} is zero`,
    ).toBe(true);
    directional += (await tf.sum(tf.mul(grads[v.name], dirs[i])).data())[0];
  }
  tf.dispose(grads);
  const eps = 1e-2;
  const at = async (t: number) => {
    const saved = vars.map((v) => tf.clone(v));
    vars.forEach((v, i) => {
      v.assign(tf.tidy(() => tf.add(v, tf.mul(dirs[i], t))));
    });
    const l = loss();
    const out = (await l.data())[0];
    l.dispose();
    vars.forEach((v, i) => {
      v.assign(saved[i]);
    });
    tf.dispose(saved);
    return out;
  };
  const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
  tf.dispose(dirs);
  expect(Math.abs(numeric - directional), `${what}: ${numeric} vs ${directional}`).toBeLessThan(
    2e-2 * (1 + Math.abs(directional)),
  );
}

describeBackends(
  'gradients reach every conv parameter (v, g, b): finite, non-zero, match finite differences',
  () => {
    it('every shifted / plain conv and deconv, weight norm on and off', async () => {
      for (const [name, ks, transposed, f] of convLayers) {
        for (const weightNorm of [true, false]) {
          const p = createConvParams({
            kernelSize: ks,
            inChannels: 2,
            outChannels: 3,
            transposed,
            weightNorm,
            seed: 3,
          });
          randomizeGB(p, 4);
          const x = randn([2, transposed ? 2 : 4, 4, 2], 5);
          await checkGradients(
            paramVariables(p),
            weightedLoss(() => f(x, p), 6),
            `${name} wn=${weightNorm}`,
          );
          disposeParams(p);
        }
      }
    });

    it('maskedConv2d: gradients flow to the unmasked taps only', async () => {
      const p = createConvParams({ kernelSize: [3, 3], inChannels: 2, outChannels: 3, seed: 3 });
      randomizeGB(p, 4);
      const mask = pixelCnnMask({ kernelSize: 3, type: 'A', inChannels: 2, outChannels: 3 });
      const x = randn([2, 4, 4, 2], 5);
      const loss = weightedLoss(() => maskedConv2d(x, p, mask), 6);
      await checkGradients(paramVariables(p), loss, 'maskedConv2d');
      const { value, grads } = tf.variableGrads(loss, [p.v]);
      const gv = await grads[p.v.name].data();
      const m = await mask.data();
      for (let i = 0; i < m.length; i++) expect(gv[i] !== 0).toBe(m[i] === 1);
      tf.dispose([value, grads[p.v.name], mask]);
      disposeParams(p);
    });
  },
  { kernels: ['Conv2DBackpropFilter'] },
);

describeBackends('gradients without the conv filter kernel', () => {
  it('dense and nin: every parameter, weight norm on and off', async () => {
    for (const weightNorm of [true, false]) {
      const p: DenseParams = createDenseParams({ inUnits: 3, outUnits: 2, weightNorm, seed: 1 });
      randomizeGB(p, 2);
      const x = randn([2, 2, 2, 3], 3);
      await checkGradients(
        paramVariables(p),
        weightedLoss(() => nin(x, p), 4),
        `nin wn=${weightNorm}`,
      );
      await checkGradients(
        paramVariables(p),
        weightedLoss(() => dense(tf.reshape(x, [8, 3]), p), 5),
        `dense wn=${weightNorm}`,
      );
      disposeParams(p);
    }
  });

  it('input gradients of every conv are finite and match finite differences', async () => {
    for (const [name, ks, transposed, f] of convLayers) {
      const p = createConvParams({
        kernelSize: ks,
        inChannels: 2,
        outChannels: 3,
        transposed,
        seed: 3,
      });
      randomizeGB(p, 4);
      const x = tf.variable(randn([1, transposed ? 2 : 4, 4, 2], 5));
      await checkGradients(
        [x],
        weightedLoss(() => f(x, p), 6),
        name,
      );
      x.dispose();
      disposeParams(p);
    }
  });
});
