import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { TFP_NETWORK } from './config';
import { PixelCNN } from './pixelCnn';

/**
 * TensorFlow Probability's `tensorflow_probability/python/distributions/pixel_cnn_test.py`, ported
 * case by case: `PixelCnnTest` and `ConditionalPixelCnnTest` (which reruns every case with a
 * conditional input of shape (5,) and adds `testScalarConditional`). Same shapes and settings as
 * there: 8x8x3 images with values in [0, 10], batch (2,), num_resnet 2, num_hierarchies 2,
 * num_filters 1, num_logistic_mix 1, weight norm and data init off except in testSample (and in
 * testScalarConditional, which keeps TFP's defaults). Each `it` is named after the TFP test it
 * ports; comments mark where the port has to differ from the Python.
 *
 * The network is TFP's (`TFP_NETWORK`: no constant channel, gate init scale 1); only the seed is
 * ours, to make the tests deterministic (TFP draws fresh random images and weights every run).
 */
const BATCH_SHAPE = [2];
const IMAGE_SHAPE: [number, number, number] = [8, 8, 3];
const HIGH = 10;
const LOW = 0;
const NUM_LOGISTIC_MIX = 1;
const [H, W, C] = IMAGE_SHAPE;

interface TestClass {
  name: 'PixelCnnTest' | 'ConditionalPixelCnnTest';
  /** `self.h_shape`. */
  hShape: number[] | null;
}

const CLASSES: TestClass[] = [
  { name: 'PixelCnnTest', hShape: null },
  { name: 'ConditionalPixelCnnTest', hShape: [5] },
];

/** numpy's `randint(lo, hi, size)` stand-in (hi exclusive), seeded. */
function randint(lo: number, hi: number, shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = lo + (s % (hi - lo));
  }
  return tf.tensor(data, shape, 'float32');
}

for (const cls of CLASSES) {
  const conditional = cls.hShape !== null;

  /** `_make_pixel_cnn(use_weight_norm_and_data_init=False)`. */
  const makePixelCnn = (useWeightNormAndDataInit = false) =>
    new PixelCNN({
      imageShape: IMAGE_SHAPE,
      conditionalShape: cls.hShape,
      numResnet: 2,
      numHierarchies: 2,
      numFilters: 1,
      numLogisticMix: NUM_LOGISTIC_MIX,
      high: HIGH,
      low: LOW,
      useWeightNorm: useWeightNormAndDataInit,
      useDataInit: useWeightNormAndDataInit,
      seed: 5,
      ...TFP_NETWORK,
    });

  let seed = 1;
  /** `_make_fake_images()`: integers in [low, high). */
  const makeFakeImages = () => randint(LOW, HIGH, [...BATCH_SHAPE, ...IMAGE_SHAPE], seed++);
  /** `_make_fake_conditional()`: None, or integers in [0, 10) of shape batch + h_shape. */
  const makeFakeConditional = () =>
    conditional ? randint(0, 10, [...BATCH_SHAPE, ...cls.hShape!], seed++) : undefined;

  /**
   * `_get_single_pixel_logit_gradients(dist, logit_ind, pixel_ind)`: the gradient of one network
   * output w.r.t. fresh fake images, after `_apply_channel_conditioning` (the locs coupled with the
   * scaled input's earlier channels). `logitInd` 0 = component logits, 1 = coupled locs, 2 = scales.
   */
  const singlePixelLogitGradients = async (
    dist: PixelCNN,
    logitInd: 0 | 1 | 2,
    pixelInd: number[],
  ): Promise<Float32Array> => {
    const h = makeFakeConditional();
    const imageInput = makeFakeImages();
    const g = (xRaw: tf.Tensor) => {
      const x = tf.sub(tf.div(tf.mul(2, tf.sub(xRaw, LOW)), HIGH - LOW), 1);
      const p = dist.networkOutput(xRaw, { conditionalInput: h });
      let out: tf.Tensor = p.logits;
      if (logitInd === 2) out = p.scales;
      if (logitInd === 1) {
        // loc_c += x_j * coeff for j < c, coefficients in order (1<-0, 2<-0, 2<-1)
        const locs = tf.split(p.locs, C, -1);
        const coefs = tf.split(p.coeffs, (C * (C - 1)) / 2, -1);
        const channels = tf.split(x, C, -1).map((t) => tf.expandDims(t, -2));
        let count = 0;
        for (let i = 0; i < C; i++) {
          for (let j = 0; j < i; j++) {
            locs[i] = tf.add(locs[i], tf.mul(channels[j], coefs[count++]));
          }
        }
        out = tf.concat(locs, -1);
      }
      return tf.reshape(
        tf.slice(
          out,
          pixelInd,
          pixelInd.map(() => 1),
        ),
        [],
      );
    };
    const grads = tf.grad(g)(imageInput);
    const data = (await grads.data()) as Float32Array;
    tf.dispose([grads, imageInput, h]);
    return data;
  };

  /** `grads[b][r][c][ch]` of a `[2, 8, 8, 3]` gradient. */
  const at = (g: Float32Array, b: number, r: number, c: number, ch: number) =>
    g[((b * H + r) * W + c) * C + ch];
  /** How many `[b][r][c][ch]` entries satisfy `keep`. */
  const count = (keep: (b: number, r: number, c: number, ch: number) => boolean) => {
    let n = 0;
    for (let b = 0; b < 2; b++)
      for (let r = 0; r < H; r++)
        for (let c = 0; c < W; c++) for (let ch = 0; ch < C; ch++) if (keep(b, r, c, ch)) n++;
    return n;
  };

  /** `_grads_assertions(grads, i, j)`. */
  const gradsAssertions = (g: Float32Array, i: number, j: number) => {
    const nz = (b: number, r: number, c: number, ch: number) => at(g, b, r, c, ch) !== 0;
    // Gradients of pixel output wrt pixels below are 0
    expect(count((b, r, c, ch) => b === 0 && r > i && nz(b, r, c, ch))).toBe(0);
    // Gradients of pixel output wrt pixels above are nonzero
    expect(count((b, r, c, ch) => b === 0 && r < i && !nz(b, r, c, ch))).toBe(0);
    // Gradients of pixels output wrt pixels to the right in the same row are 0
    expect(count((b, r, c, ch) => b === 0 && r === i && c > j && nz(b, r, c, ch))).toBe(0);
    // Gradients wrt pixels to the left in the same row is nonzero
    expect(count((b, r, c, ch) => b === 0 && r === i && c < j && !nz(b, r, c, ch))).toBe(0);
    // Gradients wrt pixels in different batches are zero
    expect(count((b, r, c, ch) => b === 1 && nz(b, r, c, ch))).toBe(0);
  };

  describeBackends(`${cls.name} (TFP pixel_cnn_test.py)`, () => {
    it('testLogProb', async () => {
      const dist = makePixelCnn();
      const images = makeFakeImages();
      const h = makeFakeConditional();
      const logProbValues = dist.logProb(images, { conditionalInput: h });
      expect(logProbValues.shape).toEqual(BATCH_SHAPE);
      const prob = tf.exp(logProbValues);
      for (const p of await prob.data()) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
      tf.dispose([images, h, logProbValues, prob]);
      dist.dispose();
    });

    it('testSample', async () => {
      const numSamples = 2;
      const h = makeFakeConditional();
      // TFP enables weight norm and data init here (in eager mode).
      const dist = makePixelCnn(true);
      // TFP's WeightNorm wrapper initialises on the network's first call (sampling's first
      // pass over uniform noise); here data init is explicit, on a batch of fake images.
      const first = makeFakeImages();
      dist.initialize(first, { conditionalInput: h });
      const sampleShape = h === undefined ? [numSamples] : [numSamples, ...BATCH_SHAPE];
      const samples = await dist.sample(sampleShape, { conditionalInput: h });
      expect(samples.shape).toEqual([...sampleShape, ...IMAGE_SHAPE]);
      const values = await samples.data();
      for (const v of values) {
        expect(v).toBeGreaterThanOrEqual(LOW);
        expect(v).toBeLessThanOrEqual(HIGH);
      }
      expect(new Set(values).size).toBeLessThanOrEqual(HIGH + 1);

      const seed = 42; // test_util.test_seed()
      const sampleRng1 = await dist.sample(BATCH_SHAPE, { conditionalInput: h, seed });
      const sampleRng2 = await dist.sample(BATCH_SHAPE, { conditionalInput: h, seed });
      expect(Array.from(await sampleRng1.data())).toEqual(Array.from(await sampleRng2.data()));
      tf.dispose([h, first, samples, sampleRng1, sampleRng2]);
      dist.dispose();
    });

    it('testAutoregression', async () => {
      const dist = makePixelCnn();
      // "Build/fit a model to activate autoregressive kernel constraints": TFP's masks act only
      // after an optimizer step; ours are causal from the start, but the port fits too: one
      // epoch of model.fit on the fake inputs (one batch of 2: one Adam step, Keras's default
      // learning rate 1e-3, dropout on as in fit's training mode).
      const trainImages = makeFakeImages();
      const trainCond = makeFakeConditional();
      const optimizer = tf.train.adam(1e-3);
      const loss = optimizer.minimize(
        () =>
          tf.neg(
            tf.mean(dist.logProb(trainImages, { conditionalInput: trainCond, training: true })),
          ) as tf.Scalar,
        true,
        dist.trainableVariables,
      );
      expect(Number.isFinite((await loss!.data())[0])).toBe(true);
      tf.dispose([loss!, trainImages, trainCond]);
      optimizer.dispose();

      // Test gradients of logistic means
      let [i, j] = [2, 3];
      let grads = await singlePixelLogitGradients(dist, 1, [0, i, j, 0, 1]);
      gradsAssertions(grads, i, j);
      // Since we're testing a green pixel: Gradients wrt the green and blue components of the
      // input pixel are 0
      expect(at(grads, 0, i, j, 1)).toBe(0);
      expect(at(grads, 0, i, j, 2)).toBe(0);
      // Gradients with respect to the red pixel are nonzero
      expect(at(grads, 0, i, j, 0)).not.toBe(0);

      // Test gradients of logistic scales
      [i, j] = [2, 2];
      grads = await singlePixelLogitGradients(dist, 2, [0, i, j, 0, 1]);
      gradsAssertions(grads, i, j);

      // Test gradients of mixture components
      [i, j] = [3, 3];
      grads = await singlePixelLogitGradients(dist, 0, [0, i, j, 0]);
      gradsAssertions(grads, i, j);
      dist.dispose();
    });

    it('testNetworkOutputShapes', () => {
      const dist = makePixelCnn();
      const images = makeFakeImages();
      const h = makeFakeConditional();
      // TFP calls dist.network([images, h]); networkOutput is that call on raw pixel values.
      const out = dist.networkOutput(images, { conditionalInput: h });
      const batchImageShape = [...BATCH_SHAPE, ...IMAGE_SHAPE];
      const numChannels = IMAGE_SHAPE[2];
      const numCoeffs = (numChannels * (numChannels - 1)) / 2;
      expect(out.logits.shape).toEqual([...batchImageShape.slice(0, -1), NUM_LOGISTIC_MIX]);
      expect(out.coeffs.shape).toEqual([
        ...batchImageShape.slice(0, -1),
        NUM_LOGISTIC_MIX,
        numCoeffs,
      ]);
      for (const t of [out.locs, out.scales]) {
        expect(t.shape).toEqual([...batchImageShape.slice(0, -1), NUM_LOGISTIC_MIX, numChannels]);
      }
      tf.dispose([images, h, out.logits, out.locs, out.scales, out.coeffs]);
      dist.dispose();
    });

    it('testDtype', async () => {
      const inputs = makeFakeImages();
      const h = makeFakeConditional();
      const dist = makePixelCnn();
      const numSamples = 4;
      const sampleShape = h === undefined ? numSamples : [numSamples, ...BATCH_SHAPE];
      const samples = await dist.sample(sampleShape, { conditionalInput: h });
      const logProb = dist.logProb(inputs, { conditionalInput: h });
      expect(dist.dtype).toBe('float32');
      expect(samples.dtype).toBe(dist.dtype);
      expect(logProb.dtype).toBe(dist.dtype);
      tf.dispose([inputs, h, samples, logProb]);

      // dist64: tfjs has no float64 tensors, so the port expects a clear rejection.
      expect(
        () =>
          new PixelCNN({
            imageShape: IMAGE_SHAPE,
            conditionalShape: cls.hShape,
            numResnet: 2,
            numHierarchies: 2,
            numFilters: 3,
            numLogisticMix: 2,
            dtype: 'float64' as 'float32',
            high: HIGH,
            low: LOW,
            useWeightNorm: false,
            useDataInit: false,
          }),
      ).toThrow(
        "Error in PixelCNN: dtype 'float64' is not supported: only 'float32' (the default) works, because tfjs has no float64 tensors",
      );
      dist.dispose();
    });

    if (conditional) {
      it('testScalarConditional', async () => {
        const dist = new PixelCNN({
          imageShape: IMAGE_SHAPE,
          conditionalShape: [],
          numResnet: 2,
          numHierarchies: 2,
          numFilters: 3,
          numLogisticMix: 2,
          high: HIGH,
          low: LOW,
          seed: 5,
          ...TFP_NETWORK,
        });
        // TFP's defaults: weight norm and data init, which TFP runs on sample's first network
        // call (conditional input 1); explicit here.
        const first = makeFakeImages();
        dist.initialize(first, { conditionalInput: 1 });
        const sample = await dist.sample({ conditionalInput: 1 });
        expect(sample.shape).toEqual(IMAGE_SHAPE);
        const lp = dist.logProb(sample, { conditionalInput: 0 });
        expect(lp.shape).toEqual([]);
        const v = (await lp.data())[0];
        expect(Number.isFinite(v) && v <= 0).toBe(true);
        tf.dispose([first, sample, lp]);
        dist.dispose();
      });
    }
  });
}
