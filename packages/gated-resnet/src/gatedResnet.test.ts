import { describeBackends } from '@pixelcnn/backend/testing';
import {
  type ConvParams,
  conv2d,
  downRightShiftedConv2d,
  downShiftedConv2d,
  type LayerCallOptions,
  nin,
} from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { randn, randomizeBlock } from '../test/helpers';
import { act, add, channelStats, linear, mat, maxRelDiff } from '../test/reference';
import {
  ACTIVATIONS,
  type Activation,
  applyActivation,
  type ConvFn,
  createGatedResnetParams,
  disposeGatedResnetParams,
  type GatedResnetParams,
  gatedResnet,
  gatedResnetVariables,
} from './index';

const conv1x1: ConvFn = (x, p, o) => conv2d(x, p, o);

/** The block in float64 with 1x1 convs (so the reference needs no spatial code). */
async function reference(
  x: tf.Tensor,
  p: GatedResnetParams,
  skip?: tf.Tensor,
  h?: tf.Tensor,
): Promise<Float64Array> {
  const a = p.activation;
  const F = p.channels;
  const X = await mat(x);
  let c1 = await linear(act(X, a), p.conv1);
  if (skip && p.skip) c1 = add(c1, await linear(act(await mat(skip), a), p.skip));
  const c2 = await linear(act(c1, a), p.conv2);
  const hp = h && p.cond ? await linear(await mat(h), p.cond) : undefined;
  const pixelsPerImage = X.n / x.shape[0];
  const out = new Float64Array(X.n * F);
  for (let i = 0; i < X.n; i++) {
    const hRow = hp ? (hp.n === 1 ? 0 : Math.floor(i / pixelsPerImage)) : 0;
    for (let k = 0; k < F; k++) {
      const extra = (j: number) => (hp ? hp.data[hRow * 2 * F + j] : 0);
      const av = c2.data[i * 2 * F + k] + extra(k);
      const bv = c2.data[i * 2 * F + F + k] + extra(F + k);
      out[i * F + k] = X.data[i * F + k] + av / (1 + Math.exp(-bv));
    }
  }
  return out;
}

describeBackends('gatedResnet', () => {
  it('equals the float64 reference: every activation, with/without skip and h, weight norm on/off', async () => {
    const F = 3;
    let seed = 0;
    for (const activation of ACTIVATIONS) {
      for (const [withSkip, withH, weightNorm, hBatch] of [
        [false, false, true, 2],
        [true, false, true, 2],
        [false, true, false, 2],
        [true, true, true, 1],
      ] as const) {
        seed += 10;
        const p = createGatedResnetParams({
          channels: F,
          kernelSize: [1, 1],
          activation,
          skipChannels: withSkip ? 2 : undefined,
          conditionalUnits: withH ? 4 : undefined,
          weightNorm,
          seed,
        });
        randomizeBlock(p, seed);
        const x = randn([2, 3, 2, F], seed + 1) as tf.Tensor4D;
        const skip = withSkip ? (randn([2, 3, 2, 2], seed + 2) as tf.Tensor4D) : undefined;
        const h = withH ? (randn([hBatch, 4], seed + 3) as tf.Tensor2D) : undefined;
        const y = gatedResnet(x, p, { conv: conv1x1, skip, h });
        expect(y.shape).toEqual(x.shape);
        const what = `${activation} skip=${withSkip} h=${withH}[${hBatch}] wn=${weightNorm}`;
        expect(maxRelDiff(await y.data(), await reference(x, p, skip, h)), what).toBeLessThan(1e-5);
        disposeGatedResnetParams(p);
      }
    }
  });

  it('the gate halves: a = channels [0, F) of conv2, b = [F, 2F)', async () => {
    // With conv2's bias saying a = 2, b = +-inf-ish and zero direction, out = x + 2 * sigmoid(b).
    const p = createGatedResnetParams({
      channels: 2,
      kernelSize: [1, 1],
      weightNorm: true,
      seed: 1,
    });
    p.conv2.g!.assign(tf.zeros([4]));
    p.conv2.b.assign(tf.tensor1d([2, 2, 30, -30]));
    const x = randn([1, 2, 2, 2], 2) as tf.Tensor4D;
    const y = gatedResnet(x, p, { conv: conv1x1 });
    const diff = await tf.sub(y, x).data();
    for (let i = 0; i < diff.length; i++) expect(diff[i]).toBeCloseTo(i % 2 === 0 ? 2 : 0, 5);
    disposeGatedResnetParams(p);
  });

  it('data init: conv1 and skip outputs mean 0 / variance 1, conv2 std 0.1; init output = later output', async () => {
    const F = 4;
    for (const [conv, ks] of [
      [downShiftedConv2d, [2, 3]],
      [downRightShiftedConv2d, [2, 2]],
    ] as const) {
      const p = createGatedResnetParams({
        channels: F,
        kernelSize: [ks[0], ks[1]],
        skipChannels: 3,
        conditionalUnits: 2,
        seed: 5,
      });
      const x = randn([2, 4, 4, F], 1) as tf.Tensor4D;
      const skip = randn([2, 4, 4, 3], 2) as tf.Tensor4D;
      const h = randn([2, 2], 3) as tf.Tensor2D;
      const condBefore = await p.cond!.v.data();
      const yInit = gatedResnet(x, p, { conv, skip, h, init: true });
      const ax = applyActivation(x, 'concat_elu') as tf.Tensor4D;
      const s1 = channelStats(await mat(conv(ax, p.conv1)));
      const sSkip = channelStats(
        await mat(nin(applyActivation(skip, 'concat_elu') as tf.Tensor4D, p.skip!)),
      );
      for (const s of [s1, sSkip]) {
        for (const m of s.mean) expect(Math.abs(m)).toBeLessThan(1e-4);
        for (const v of s.variance) expect(Math.abs(v - 1)).toBeLessThan(1e-4);
      }
      const c1 = tf.add(
        conv(ax, p.conv1),
        nin(applyActivation(skip, 'concat_elu') as tf.Tensor4D, p.skip!),
      );
      const s2 = channelStats(
        await mat(conv(applyActivation(c1, 'concat_elu') as tf.Tensor4D, p.conv2)),
      );
      for (const m of s2.mean) expect(Math.abs(m)).toBeLessThan(1e-5);
      for (const v of s2.variance) expect(Math.abs(Math.sqrt(v) - 0.1)).toBeLessThan(1e-4);
      const y = gatedResnet(x, p, { conv, skip, h });
      expect(maxRelDiff(await y.data(), await yInit.data())).toBeLessThan(1e-5);
      expect(await p.cond!.v.data()).toEqual(condBefore); // the h projection is not data-initialised
      disposeGatedResnetParams(p);
    }
  });

  it('dropout: off unless training; when training, act(c1) entries are 0 or scaled by 1/(1-p); seeded', async () => {
    const p = createGatedResnetParams({ channels: 4, kernelSize: [2, 3], seed: 2 });
    randomizeBlock(p, 3);
    const captured: tf.Tensor[] = []; // conv2's input, act(c1) after dropout, for every call
    const spy: ConvFn = (x, q: ConvParams, o?: LayerCallOptions) => {
      if (q === p.conv2) captured.push(tf.keep(tf.clone(x)));
      return downShiftedConv2d(x, q, o);
    };
    const x = randn([2, 6, 6, 4], 4) as tf.Tensor4D;
    const plain = gatedResnet(x, p, { conv: spy });
    const c1a = captured[0];
    const evalRun = gatedResnet(x, p, { conv: spy, dropoutP: 0.5 });
    expect(await evalRun.data()).toEqual(await plain.data());
    const trainRun = gatedResnet(x, p, { conv: spy, dropoutP: 0.5, training: true, seed: 7 });
    const dropped = captured[2];
    expect(maxRelDiff(await trainRun.data(), await plain.data())).toBeGreaterThan(1e-3);
    const a = await c1a.data();
    const d = await dropped.data();
    let zeros = 0;
    let nonzero = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === 0) continue;
      nonzero++;
      if (d[i] === 0) zeros++;
      else expect(d[i]).toBeCloseTo(a[i] * 2, 4);
    }
    // 576 non-zero units, rate 0.5: the dropped fraction has sd ~0.02
    expect(Math.abs(zeros / nonzero - 0.5)).toBeLessThan(0.1);
    const again = gatedResnet(x, p, { conv: spy, dropoutP: 0.5, training: true, seed: 7 });
    expect(await again.data()).toEqual(await trainRun.data());
    const other = gatedResnet(x, p, { conv: spy, dropoutP: 0.5, training: true, seed: 8 });
    expect(maxRelDiff(await other.data(), await trainRun.data())).toBeGreaterThan(1e-3);
    const noDrop = gatedResnet(x, p, { conv: spy, dropoutP: 0, training: true, seed: 8 });
    expect(await noDrop.data()).toEqual(await plain.data());
    tf.dispose(captured);
    disposeGatedResnetParams(p);
  });

  it('params: shapes per layer, stable variable order', () => {
    const p = createGatedResnetParams({
      channels: 4,
      kernelSize: [2, 3],
      skipChannels: 5,
      conditionalUnits: 6,
      name: 'block0',
    });
    expect(p.conv1.v.shape).toEqual([2, 3, 8, 4]);
    expect(p.skip!.v.shape).toEqual([10, 4]);
    expect(p.conv2.v.shape).toEqual([2, 3, 8, 8]);
    expect(p.cond!.v.shape).toEqual([6, 8]);
    expect(p.cond!.weightNorm).toBe(false);
    expect(gatedResnetVariables(p).map((v) => v.name)).toEqual([
      'block0/conv1/v',
      'block0/conv1/g',
      'block0/conv1/b',
      'block0/skip/v',
      'block0/skip/g',
      'block0/skip/b',
      'block0/conv2/v',
      'block0/conv2/g',
      'block0/conv2/b',
      'block0/cond/v',
      'block0/cond/b',
    ]);
    disposeGatedResnetParams(p);
    const q = createGatedResnetParams({
      channels: 3,
      kernelSize: [2, 2],
      activation: 'relu',
      weightNorm: false,
    });
    expect(q.conv1.v.shape).toEqual([2, 2, 3, 3]);
    expect(gatedResnetVariables(q).length).toBe(4);
    disposeGatedResnetParams(q);
  });
});

describeBackends(
  'gatedResnet gradients',
  () => {
    it('reach every parameter, x, skip and h: finite and non-zero (vertical and horizontal convs, dropout on)', async () => {
      for (const [conv, ks, activation] of [
        [downShiftedConv2d, [2, 3], 'concat_elu'],
        [downRightShiftedConv2d, [2, 2], 'elu'],
        [downShiftedConv2d, [2, 3], 'relu'],
      ] as const) {
        const p = createGatedResnetParams({
          channels: 3,
          kernelSize: [ks[0], ks[1]],
          activation: activation as Activation,
          skipChannels: 2,
          conditionalUnits: 2,
          seed: 1,
        });
        randomizeBlock(p, 2);
        const x = tf.variable(randn([2, 4, 4, 3], 3));
        const skip = tf.variable(randn([2, 4, 4, 2], 4));
        const h = tf.variable(randn([2, 2], 5));
        const r = randn([2, 4, 4, 3], 6);
        const vars = [...gatedResnetVariables(p), x, skip, h];
        const { value, grads } = tf.variableGrads(
          () =>
            tf.sum(
              tf.mul(
                gatedResnet(x as unknown as tf.Tensor4D, p, {
                  conv,
                  skip: skip as unknown as tf.Tensor4D,
                  h: h as unknown as tf.Tensor2D,
                  dropoutP: 0.2,
                  training: true,
                  seed: 9,
                }),
                r,
              ),
            ) as tf.Scalar,
          vars,
        );
        for (const v of vars) {
          const g = await grads[v.name].data();
          expect(g.every(Number.isFinite), `${v.name} finite`).toBe(true);
          expect(
            g.some((e) => e !== 0),
            `${activation}: ${v.name} has a zero gradient`,
          ).toBe(true);
        }
        tf.dispose([value, ...Object.values(grads), x, skip, h]);
        disposeGatedResnetParams(p);
      }
    });
  },
  { kernels: ['Conv2DBackpropFilter'] },
);
