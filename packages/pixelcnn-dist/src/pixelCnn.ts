import {
  imageLogProb,
  type MixtureParams,
  numMixtureParams,
  splitMixtureParams,
} from '@pixelcnn/logistic-mixture';
import * as tf from '@tensorflow/tfjs-core';
import {
  conditionalUnits,
  type PixelCNNConfig,
  type ResolvedPixelCNNConfig,
  resolveConfig,
} from './config';
import {
  type PrefixInput,
  type PreparedInputs,
  prepareLogProbInputs,
  preparePrefix,
  prepareSampleConditional,
  sampleShapeOf,
  scaleImages,
  type TensorInput,
  toFloatTensor,
} from './inputs';
import {
  createNetworkParams,
  disposeNetworkParams,
  type NamedVariable,
  type NetworkParams,
  networkForward,
  networkVariables,
} from './network';
import { type NetworkPlan, networkPlan } from './networkPlan';
import { SAMPLERS } from './samplers';
import type { PixelProgress, Sampler, SamplerNetwork, SamplingNoise } from './samplers/types';
import { decodeArtifacts, encodeArtifacts } from './serialization';

/** Options of {@link PixelCNN.logProb} and {@link PixelCNN.networkOutput}. */
export interface LogProbOptions {
  /** Conditioning input `[...cb, ...conditionalShape]`; batch dims broadcast with the images'. */
  conditionalInput?: TensorInput;
  /**
   * Dropout on (default false). The first training-mode call of a model whose data-dependent init
   * has not run runs it on this batch first (TFP's lazy init).
   */
  training?: boolean;
  /** Seed of the dropout masks when training (default: random). */
  seed?: number;
  /**
   * Gradient checkpointing for training (default false): the backward pass recomputes each gated
   * resnet from its inputs instead of keeping its intermediates, for a fraction of the activation
   * memory (`estimateTrainingMemory(..., { recomputeBlocks: true })`) at the cost of one more
   * forward pass of the blocks. Same values and gradients.
   */
  recomputeBlocks?: boolean;
  /**
   * Default true: an image with a pixel that is not an integer in [low, high], or a class label
   * outside [0, numClasses), gets NaN (computed on the device: no data read); labels given as
   * numbers (not a tensor) are checked on the host and throw. With false, TFP's semantics: values
   * are floored and an image with a value outside [low, high] has log-probability -inf.
   */
  validate?: boolean;
}

/** Options of {@link PixelCNN.sample}. */
export interface SampleOptions {
  /**
   * Conditioning input: `conditionalShape` (every sample), or `[...cb, ...conditionalShape]`,
   * tiled over the samples as TFP does (the sample count must be a multiple of prod(cb); a sample
   * shape ending in cb gives sample `[..., i]` condition i).
   */
  conditionalInput?: TensorInput;
  /** Same seed -> same samples (ignored when `noise` is given). Default: random. */
  seed?: number;
  /**
   * Explicit uniform noise `{ mix [N, H, W, K], logistic [N, H, W, C] }` (N = prod(sample shape)),
   * e.g. from {@link samplingNoise}: sampling is then a deterministic function of it.
   */
  noise?: SamplingNoise;
  /**
   * Feed back grid-snapped values (default true; samples then follow logProb's distribution
   * exactly). false feeds back the continuous logistic draws, as TFP does.
   */
  snapToGrid?: boolean;
  /** Mixture component temperature (default 1 = the model; 0 = most likely component). */
  temperature?: number;
  /**
   * 'cached' (default: each activation computed once, Ramachandran et al. 2017), 'naive' (TFP's
   * H*W full forward passes; same samples for the same noise), or a {@link Sampler} function.
   */
  sampler?: string | Sampler;
  /**
   * Completion: keep the top `rows` (or first `pixels` in raster order) of `images` (`[H, W, C]`
   * for every sample, or `[...sampleShape, H, W, C]`) and draw the rest from p(rest | kept). Exact:
   * the joint factorises in raster order. Kept pixels are not reported to `onPixel`.
   */
  prefix?: PrefixInput;
  /** Called after every drawn pixel with its values (awaited when it returns a promise). */
  onPixel?: (p: PixelProgress) => void | Promise<void>;
  /** Abort between pixels. */
  signal?: AbortSignal;
}

let instanceCounter = 0;

function uniquePrefix(): string {
  const registered = tf.engine().registeredVariables;
  for (;;) {
    const prefix = `pixelcnn_${instanceCounter++}`;
    if (!Object.keys(registered).some((k) => k.startsWith(`${prefix}/`))) return prefix;
  }
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Uniform noise for {@link PixelCNN.sample} / the samplers: `mix [n, H, W, K]`,
 * `logistic [n, H, W, C]`, deterministic given `seed`. The caller disposes both.
 */
export function samplingNoise(
  config: Pick<ResolvedPixelCNNConfig, 'imageShape' | 'numLogisticMix'>,
  n: number,
  seed?: number,
): SamplingNoise {
  const [H, W, C] = config.imageShape;
  const base = seed ?? Math.floor(Math.random() * 2 ** 31);
  return {
    mix: tf.randomUniform([n, H, W, config.numLogisticMix], 0, 1, 'float32', base) as tf.Tensor4D,
    logistic: tf.randomUniform([n, H, W, C], 0, 1, 'float32', base + 7919) as tf.Tensor4D,
  };
}

/**
 * The PixelCNN++ distribution (Salimans et al. 2017) over `[H, W, C]` images of integers in
 * [low, high], with TFP's parameters and semantics (`tfp.distributions.PixelCNN`):
 * `p(x | h) = prod_i p(x_i | x_<i, h)` in raster order, channels coupled within a pixel, each
 * conditional a discretized logistic mixture. `batchShape` is `[]`, `eventShape` is `imageShape`.
 *
 * Unlike TFP's masked Keras kernels (masks are constraints applied only after an optimizer step),
 * the network is causal by construction (PixelCNN++'s shifted convs), from initialisation on.
 */
export class PixelCNN {
  /** The config with every default filled in. */
  readonly config: ResolvedPixelCNNConfig;
  /** `imageShape`. */
  readonly eventShape: [number, number, number];
  /** Always `[]` (TFP). */
  readonly batchShape: number[] = [];
  /** Always 'float32' (TFP's `dtype`; tfjs has no float64). */
  readonly dtype = 'float32' as const;
  /** The network as data (layers, kernel sizes, skip bookkeeping). */
  readonly plan: NetworkPlan;
  /** The network's parameters (per layer; for samplers and inspection). */
  readonly params: NetworkParams;
  /** Number of raw head outputs per pixel: K(1 + 2C + C(C-1)/2). */
  readonly numParamsPerPixel: number;
  private readonly named: NamedVariable[];
  private isInitialized = false;
  private disposed = false;

  constructor(config: PixelCNNConfig) {
    const c = resolveConfig(config);
    this.config = c;
    this.eventShape = [...c.imageShape];
    this.numParamsPerPixel = numMixtureParams(c.imageShape[2], c.numLogisticMix);
    this.plan = networkPlan(c, conditionalUnits(c), this.numParamsPerPixel);
    this.params = createNetworkParams(this.plan, {
      weightNorm: c.useWeightNorm,
      activation: c.resnetActivation,
      seed: c.seed ?? undefined,
      namePrefix: uniquePrefix(),
    });
    this.named = networkVariables(this.params);
    this.isInitialized = !(c.useDataInit && c.useWeightNorm);
  }

  /** TFP's `name` (config option, default 'PixelCNN'). */
  get name(): string {
    return this.config.name;
  }

  /** Whether data-dependent init has run (always true when it is off). */
  get initialized(): boolean {
    return this.isInitialized;
  }

  /** Every trainable variable, in the stable order of {@link namedVariables}. */
  get trainableVariables(): tf.Variable[] {
    return this.named.map((n) => n.variable);
  }

  /** Every variable with its stable name (the names used in saved files). */
  namedVariables(): NamedVariable[] {
    return [...this.named];
  }

  /** Number of scalar parameters. */
  get numParameters(): number {
    return this.named.reduce((a, n) => a + n.variable.size, 0);
  }

  private check(fn: string): void {
    if (this.disposed) throw new Error(`Error in ${fn}: this PixelCNN was disposed`);
  }

  /** Run the network on a prepared flat batch: raw head output `[N, H, W, P]`. */
  private rawFor(inputs: PreparedInputs, o: LogProbOptions, init = false): tf.Tensor4D {
    // TFP's WeightNorm(data_init=True): the first training-mode call of an uninitialised model
    // runs the data-dependent init on its batch first, so a custom loop never trains g = 1, b = 0.
    if (o.training && !init && !this.isInitialized) {
      tf.dispose(this.rawFor(inputs, {}, true));
      this.isInitialized = true;
    }
    return tf.tidy(() =>
      networkForward(this.params, scaleImages(inputs.images, this.config) as tf.Tensor4D, {
        h: inputs.h,
        training: o.training ?? false,
        dropoutP: this.config.dropoutP,
        seed: o.seed,
        init,
        gateInitScale: this.config.gateInitScale,
        recomputeBlocks: o.recomputeBlocks,
      }),
    );
  }

  private mixture(raw: tf.Tensor): MixtureParams {
    return splitMixtureParams(raw, {
      channels: this.config.imageShape[2],
      numMix: this.config.numLogisticMix,
      convention: this.config.convention,
    });
  }

  /**
   * Log-probability in nats per image: images `[...ib, H, W, C]` (integers in [low, high]) ->
   * `[...batch]`, batch = broadcast(ib, conditional batch dims) (TFP `_log_prob`). Differentiable
   * w.r.t. the variables.
   */
  logProb(images: TensorInput, o: LogProbOptions = {}): tf.Tensor {
    const fn = 'logProb';
    this.check(fn);
    const validate = o.validate ?? true;
    return tf.tidy(() => {
      // TFP's QuantizedDistribution floors values (a no-op on valid ones)
      const x = validate ? toFloatTensor(images) : tf.floor(toFloatTensor(images));
      const inputs = prepareLogProbInputs(fn, x, o.conditionalInput, this.config, validate);
      const raw = this.rawFor(inputs, o);
      const { low, high } = this.config;
      // validate: NaN for an image with a bad pixel (no data read)
      let lp = imageLogProb(this.mixture(raw), inputs.images, { low, high, validate }); // [N]
      if (!validate) {
        // outside the support: probability 0, as TFP
        const out = tf.logicalOr(tf.less(inputs.images, low), tf.greater(inputs.images, high));
        lp = tf.where(tf.any(out, [1, 2, 3]), tf.fill(lp.shape, -Infinity), lp);
      }
      return tf.reshape(lp, inputs.batchShape);
    });
  }

  /** Probability per image, `exp(logProb)` (TFP's `prob`); same arguments and shape. */
  prob(images: TensorInput, o: LogProbOptions = {}): tf.Tensor {
    return tf.tidy(() => tf.exp(this.logProb(images, o)));
  }

  /**
   * The raw head output `[...batch, H, W, P]` (P = {@link numParamsPerPixel}) for images
   * `[...ib, H, W, C]` (values need not be integers here).
   */
  rawOutput(images: TensorInput, o: LogProbOptions = {}): tf.Tensor {
    const fn = 'rawOutput';
    this.check(fn);
    return tf.tidy(() => {
      const x = toFloatTensor(images);
      const inputs = prepareLogProbInputs(fn, x, o.conditionalInput, this.config, false);
      const raw = this.rawFor(inputs, o);
      return tf.reshape(raw, [
        ...inputs.batchShape,
        ...this.eventShape.slice(0, 2),
        this.numParamsPerPixel,
      ]);
    });
  }

  /**
   * The per-pixel mixture parameters (TFP's network outputs): `logits [...batch, H, W, K]`,
   * `locs`/`scales [...batch, H, W, K, C]`, `coeffs [...batch, H, W, K, C(C-1)/2]` (locs before
   * the channel coupling). The caller disposes them.
   */
  networkOutput(images: TensorInput, o: LogProbOptions = {}): MixtureParams {
    const raw = this.rawOutput(images, o);
    try {
      return this.mixture(raw);
    } finally {
      raw.dispose();
    }
  }

  /**
   * Data-dependent initialisation (Salimans & Kingma 2016; PixelCNN++ train.py's init pass): one
   * forward pass over a first batch in which every weight-normalised layer sets g and b so its
   * output has mean 0 and variance 1 per channel on this batch. No dropout. Runs once: later calls
   * (and calls when `useDataInit` or `useWeightNorm` is off) do nothing and return false.
   * `validate` (default true) checks class labels given as numbers; nothing is read from tensors.
   */
  initialize(
    images: TensorInput,
    o: { conditionalInput?: TensorInput; force?: boolean; validate?: boolean } = {},
  ): boolean {
    const fn = 'initialize';
    this.check(fn);
    if (!(this.config.useDataInit && this.config.useWeightNorm)) return false;
    if (this.isInitialized && !o.force) return false;
    tf.tidy(() => {
      const x = toFloatTensor(images);
      const inputs = prepareLogProbInputs(
        fn,
        x,
        o.conditionalInput,
        this.config,
        o.validate ?? true,
      );
      this.rawFor(inputs, {}, true);
    });
    this.isInitialized = true;
    return true;
  }

  /** Mark the network as initialised (e.g. after setting weights from elsewhere). */
  markInitialized(): void {
    this.isInitialized = true;
  }

  /** The network as a {@link SamplerNetwork} (evaluation mode). */
  samplerNetwork(): SamplerNetwork {
    return {
      config: this.config,
      params: this.params,
      forward: (x, h) =>
        networkForward(this.params, x, { h, training: false, dropoutP: this.config.dropoutP }),
    };
  }

  /**
   * Draw samples `[...sampleShape, H, W, C]` (float32 integers in [low, high]). `n` is a count or
   * a sample shape; none or `[]` draws one image `[H, W, C]` (TFP's `sample()`). A batch of
   * conditional inputs (batch shape cb) is tiled over the samples (TFP: the count must be a
   * multiple of prod(cb)). Sequential in raster order; the default cached sampler computes each
   * layer's activation once (about one forward pass of work), the naive one runs H*W forward
   * passes. `sample(options)` is `sample([], options)` (TFP's `sample(conditional_input=...)`).
   */
  async sample(options?: SampleOptions): Promise<tf.Tensor>;
  async sample(n?: number | readonly number[], options?: SampleOptions): Promise<tf.Tensor>;
  async sample(
    nOrOptions?: number | readonly number[] | SampleOptions,
    options: SampleOptions = {},
  ): Promise<tf.Tensor> {
    const fn = 'sample';
    this.check(fn);
    const isOptions =
      nOrOptions != null && typeof nOrOptions === 'object' && !Array.isArray(nOrOptions);
    const o = isOptions ? (nOrOptions as SampleOptions) : options;
    const sampleShape = sampleShapeOf(
      fn,
      isOptions ? undefined : (nOrOptions as number[] | undefined),
    );
    const total = prod(sampleShape);
    const [H, W, C] = this.eventShape;
    const K = this.config.numLogisticMix;
    const temperature = o.temperature ?? 1;
    if (!(Number.isFinite(temperature) && temperature >= 0)) {
      throw new Error(
        `Error in ${fn}: temperature must be a finite number >= 0, got ${temperature}`,
      );
    }
    const sampler = typeof o.sampler === 'function' ? o.sampler : SAMPLERS[o.sampler ?? 'cached'];
    if (!sampler) {
      throw new Error(
        `Error in ${fn}: unknown sampler '${o.sampler}'; known: ${Object.keys(SAMPLERS).join(', ')}`,
      );
    }
    if (o.noise) {
      const want = { mix: [total, H, W, K], logistic: [total, H, W, C] };
      for (const key of ['mix', 'logistic'] as const) {
        const t = o.noise[key];
        if (!(t instanceof tf.Tensor) || t.shape.join(',') !== want[key].join(',')) {
          throw new Error(
            `Error in ${fn}: noise.${key} must have shape [${want[key].join(', ')}], got ${t instanceof tf.Tensor ? `[${t.shape.join(', ')}]` : typeof t}`,
          );
        }
      }
    }
    const prefix = o.prefix
      ? await preparePrefix(fn, sampleShape, o.prefix, this.config)
      : undefined;
    let h: tf.Tensor2D | undefined;
    try {
      h = prepareSampleConditional(fn, sampleShape, o.conditionalInput, this.config);
    } catch (e) {
      prefix?.values.dispose();
      throw e;
    }
    const noise = o.noise ?? samplingNoise(this.config, total, o.seed);
    try {
      const out = await sampler(this.samplerNetwork(), total, {
        h,
        noise,
        prefix,
        snapToGrid: o.snapToGrid ?? true,
        temperature,
        onPixel: o.onPixel,
        signal: o.signal,
      });
      const shaped = tf.reshape(out, [...sampleShape, H, W, C]);
      out.dispose();
      return shaped;
    } finally {
      h?.dispose();
      prefix?.values.dispose();
      if (!o.noise) tf.dispose([noise.mix, noise.logistic]);
    }
  }

  /**
   * Encode as tfjs model artifacts (config in `modelTopology`, weights in tfjs's binary format).
   * `metadata` is stored alongside (e.g. a trainer's step).
   */
  async toArtifacts(metadata?: Record<string, unknown>): Promise<tf.io.ModelArtifacts> {
    this.check('toArtifacts');
    return encodeArtifacts(
      this.config,
      this.named.map((n) => ({ name: n.name, tensor: n.variable })),
      { initialized: this.isInitialized, metadata },
    );
  }

  /**
   * Save through a tfjs IO handler or URL: `'downloads://name'`, `'localstorage://name'`,
   * `'indexeddb://name'`, `'http(s)://...'` in the browser; `nodeFileIO(dir)` from
   * '@pixelcnn/pixelcnn-dist/node' in Node.
   */
  async save(
    handlerOrUrl: tf.io.IOHandler | string,
    o: { metadata?: Record<string, unknown> } = {},
  ): Promise<tf.io.SaveResult> {
    const handler = resolveHandler('save', handlerOrUrl);
    if (!handler.save) throw new Error('Error in save: this IO handler cannot save');
    return handler.save(await this.toArtifacts(o.metadata));
  }

  /**
   * Replace this network's weights with saved ones. The saved config must produce the same network
   * (same weight names and shapes), else a clear error names the first difference.
   */
  loadWeights(artifacts: tf.io.ModelArtifacts): void {
    const fn = 'loadWeights';
    this.check(fn);
    const decoded = decodeArtifacts(
      fn,
      artifacts,
      this.named.map((n) => ({ name: n.name, shape: n.variable.shape })),
    );
    try {
      for (const n of this.named) n.variable.assign(decoded.weights.get(n.name)!);
    } finally {
      tf.dispose([...decoded.weights.values()]);
    }
    this.isInitialized = decoded.initialized || this.isInitialized;
  }

  /** A PixelCNN with the config and weights of artifacts from {@link toArtifacts}. */
  static fromArtifacts(artifacts: tf.io.ModelArtifacts): PixelCNN {
    const fn = 'PixelCNN.fromArtifacts';
    const decoded = decodeArtifacts(fn, artifacts);
    let dist: PixelCNN | undefined;
    try {
      dist = new PixelCNN(decoded.config);
      const saved = new Map(decoded.weights);
      for (const n of dist.named) {
        const t = saved.get(n.name);
        if (!t || t.shape.join(',') !== n.variable.shape.join(',')) {
          throw new Error(
            `Error in ${fn}: weight '${n.name}' ${t ? `has shape [${t.shape.join(', ')}] but the config gives [${n.variable.shape.join(', ')}]` : 'is missing'} (corrupt file?)`,
          );
        }
        n.variable.assign(t);
        saved.delete(n.name);
      }
      if (saved.size > 0) {
        throw new Error(
          `Error in ${fn}: the file has weights this config does not make (e.g. '${[...saved.keys()][0]}') (corrupt file?)`,
        );
      }
      // a save of a model whose data init never ran still gets it on its first training call
      dist.isInitialized = decoded.initialized || dist.isInitialized;
      return dist;
    } catch (e) {
      dist?.dispose();
      throw e;
    } finally {
      tf.dispose([...decoded.weights.values()]);
    }
  }

  /** Load a saved PixelCNN from a tfjs IO handler or URL (see {@link save}). */
  static async load(handlerOrUrl: tf.io.IOHandler | string): Promise<PixelCNN> {
    const handler = resolveHandler('load', handlerOrUrl);
    if (!handler.load) throw new Error('Error in PixelCNN.load: this IO handler cannot load');
    return PixelCNN.fromArtifacts(await handler.load());
  }

  /** Dispose every variable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeNetworkParams(this.params);
  }
}

export function resolveHandler(
  kind: 'save' | 'load',
  h: tf.io.IOHandler | string,
): tf.io.IOHandler {
  if (typeof h !== 'string') return h;
  const handlers = kind === 'save' ? tf.io.getSaveHandlers(h) : tf.io.getLoadHandlers(h);
  if (handlers.length === 0) {
    throw new Error(
      `Error in ${kind}: no tfjs IO handler for '${h}'; in Node use nodeFileIO(dir) from '@pixelcnn/pixelcnn-dist/node'`,
    );
  }
  return handlers[0];
}
