import { ACTIVATIONS, type Activation } from '@pixelcnn/gated-resnet';
import type { Convention } from '@pixelcnn/logistic-mixture';

/**
 * Parameters of a {@link PixelCNN}: TFP's `tfp.distributions.PixelCNN` arguments in camelCase, with
 * TFP's defaults, plus a few of our own (marked "ours").
 */
export interface PixelCNNConfig {
  /** `[H, W, C]`. H and W must be divisible by 2^(numHierarchies-1). */
  imageShape: readonly [number, number, number] | readonly number[];
  /** Shape of the conditioning input without batch dims; `[]` is a scalar label. Default: none. */
  conditionalShape?: readonly number[] | null;
  /**
   * Ours: with `conditionalShape: []`, one-hot encode the integer label `0..numClasses-1` before the
   * per-layer projections. TFP feeds the raw float label (a class index used as a magnitude).
   * Default 0 = raw float like TFP.
   */
  numClasses?: number;
  /** Gated resnets per hierarchy (down pass; the up pass uses numResnet+1 after its first block). Default 5. */
  numResnet?: number;
  /** Resolutions; numHierarchies-1 stride-2 down- and up-samplings. Default 3. */
  numHierarchies?: number;
  /** Channels of every stream. Default 160. */
  numFilters?: number;
  /** Mixture components K. Default 10. */
  numLogisticMix?: number;
  /** (rows, cols) of the causal window including the current row; cols odd. Default [3, 3]. */
  receptiveFieldDims?: readonly [number, number] | readonly number[];
  /** Dropout inside every gated resnet, training only. Default 0.5. */
  dropoutP?: number;
  /** 'concat_elu' (default), 'elu' or 'relu'. */
  resnetActivation?: Activation;
  /** Weight-normalised convs and dense layers. Default true. */
  useWeightNorm?: boolean;
  /** Data-dependent init of g and b on the first batch (only with weight norm). Default true. */
  useDataInit?: boolean;
  /** Largest pixel value (inclusive). Default 255. */
  high?: number;
  /** Smallest pixel value (inclusive). Default 0. */
  low?: number;
  /** Only 'float32': tfjs has no float64 tensors, so TFP's `dtype=tf.float64` is rejected. */
  dtype?: 'float32';
  /** TFP's `name` (default 'PixelCNN'): the distribution's name, kept in saved files. */
  name?: string;
  /** Ours: seed of the weight initialisation (default: random). */
  seed?: number | null;
  /** Ours: how the head's raw numbers become scales/coeffs. 'tfp' (default) or 'pixelcnnpp'. */
  convention?: Convention;
  /**
   * Ours: append PixelCNN++'s constant channel of ones to the network input, so the causal convs'
   * zero padding differs from a mid-grey pixel (value 0 after scaling). TFP does not. Default false
   * (TFP's: better held-out bits/dim on the demo, see the README's differences from TFP).
   */
  constantChannel?: boolean;
  /**
   * Ours: the std the data-dependent init gives the second conv of every gated resnet (the gate's
   * input). PixelCNN++'s `init_scale` is 0.1 (blocks start near identity); TFP's WeightNorm data
   * init uses 1, the default (better held-out bits/dim on the demo, see the README).
   */
  gateInitScale?: number;
}

/** A config with every default filled in (what {@link PixelCNN.config} holds and what is saved). */
export interface ResolvedPixelCNNConfig {
  imageShape: [number, number, number];
  conditionalShape: number[] | null;
  numClasses: number;
  numResnet: number;
  numHierarchies: number;
  numFilters: number;
  numLogisticMix: number;
  receptiveFieldDims: [number, number];
  dropoutP: number;
  resnetActivation: Activation;
  useWeightNorm: boolean;
  useDataInit: boolean;
  high: number;
  low: number;
  dtype: 'float32';
  name: string;
  seed: number | null;
  convention: Convention;
  constantChannel: boolean;
  gateInitScale: number;
}

/** TFP's defaults (and ours for the options TFP lacks). */
export const PIXELCNN_DEFAULTS: Omit<ResolvedPixelCNNConfig, 'imageShape'> = {
  conditionalShape: null,
  numClasses: 0,
  numResnet: 5,
  numHierarchies: 3,
  numFilters: 160,
  numLogisticMix: 10,
  receptiveFieldDims: [3, 3],
  dropoutP: 0.5,
  resnetActivation: 'concat_elu',
  useWeightNorm: true,
  useDataInit: true,
  high: 255,
  low: 0,
  dtype: 'float32',
  name: 'PixelCNN',
  seed: null,
  convention: 'tfp',
  constantChannel: false,
  gateInitScale: 1,
};

/**
 * The options that make the network TFP's exactly (`tfp.distributions.PixelCNN`): no constant
 * input channel, and data init giving every layer std 1 (TFP's WeightNorm has no init scale).
 * They are the defaults; spread it to say so (`new PixelCNN({ ...TFP_NETWORK, imageShape })`).
 * PixelCNN++'s network: `{ constantChannel: true, gateInitScale: 0.1 }`.
 */
export const TFP_NETWORK = { constantChannel: false, gateInitScale: 1 } as const satisfies Partial<
  Omit<ResolvedPixelCNNConfig, 'imageShape'>
>;

const KNOWN_KEYS = new Set<string>(['imageShape', ...Object.keys(PIXELCNN_DEFAULTS)]);

const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

function fail(what: string): never {
  throw new Error(`Error in PixelCNN: ${what}`);
}

/**
 * Fill in the defaults and validate every field, throwing "Error in PixelCNN: ..." with what is
 * wrong. In particular H and W must be divisible by 2^(numHierarchies-1): TFP silently produces
 * wrongly-shaped outputs on e.g. 7x7 with 2 hierarchies (tensorflow/probability#1565).
 */
export function resolveConfig(config: PixelCNNConfig): ResolvedPixelCNNConfig {
  if (config == null || typeof config !== 'object') fail('expected a config object');
  for (const key of Object.keys(config)) {
    if (!KNOWN_KEYS.has(key)) fail(`unknown config option '${key}'`);
  }
  const defined = Object.fromEntries(
    Object.entries(config).filter(([, v]) => v !== undefined),
  ) as PixelCNNConfig;
  const c = { ...PIXELCNN_DEFAULTS, ...defined } as ResolvedPixelCNNConfig;

  const shape = config.imageShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(isPosInt)) {
    fail(
      `imageShape must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`,
    );
  }
  c.imageShape = [shape[0], shape[1], shape[2]];

  for (const key of ['numResnet', 'numHierarchies', 'numFilters', 'numLogisticMix'] as const) {
    if (!isPosInt(c[key])) fail(`${key} must be a positive integer, got ${c[key]}`);
  }
  const factor = 2 ** (c.numHierarchies - 1);
  const [H, W] = c.imageShape;
  if (H % factor !== 0 || W % factor !== 0) {
    fail(
      `imageShape ${JSON.stringify(c.imageShape)}: height and width must be divisible by 2^(numHierarchies-1) = ${factor} ` +
        `(numHierarchies ${c.numHierarchies}); pad or crop the images, or use fewer hierarchies`,
    );
  }

  const rf = c.receptiveFieldDims;
  if (!Array.isArray(rf) || rf.length !== 2 || !rf.every(isPosInt)) {
    fail(`receptiveFieldDims must be [rows, cols] of positive integers, got ${JSON.stringify(rf)}`);
  }
  if (rf[0] < 2 || rf[1] < 3 || rf[1] % 2 !== 1) {
    fail(
      `receptiveFieldDims must have rows >= 2 and odd cols >= 3, got ${JSON.stringify(rf)} ` +
        '(rows includes the current row; cols is centred on the current pixel)',
    );
  }
  c.receptiveFieldDims = [rf[0], rf[1]];

  if (typeof c.dropoutP !== 'number' || !(c.dropoutP >= 0 && c.dropoutP < 1)) {
    fail(`dropoutP must be in [0, 1), got ${c.dropoutP}`);
  }
  if (!ACTIVATIONS.includes(c.resnetActivation)) {
    fail(
      `unknown resnetActivation '${c.resnetActivation}'; expected one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  for (const key of ['useWeightNorm', 'useDataInit', 'constantChannel'] as const) {
    if (typeof c[key] !== 'boolean') fail(`${key} must be a boolean, got ${c[key]}`);
  }
  if (!Number.isInteger(c.low) || !Number.isInteger(c.high) || c.high <= c.low) {
    fail(`low and high must be integers with low < high, got low ${c.low}, high ${c.high}`);
  }
  if (c.dtype !== 'float32') {
    fail(
      `dtype '${c.dtype}' is not supported: only 'float32' (the default) works, because tfjs has no float64 tensors`,
    );
  }
  if (typeof c.name !== 'string' || c.name.length === 0) {
    fail(`name must be a non-empty string, got ${JSON.stringify(c.name)}`);
  }
  if (
    typeof c.gateInitScale !== 'number' ||
    !(c.gateInitScale > 0 && Number.isFinite(c.gateInitScale))
  ) {
    fail(`gateInitScale must be a positive number, got ${c.gateInitScale}`);
  }
  if (c.seed !== null && !Number.isFinite(c.seed)) fail(`seed must be a number, got ${c.seed}`);
  if (c.convention !== 'tfp' && c.convention !== 'pixelcnnpp') {
    fail(`convention must be 'tfp' or 'pixelcnnpp', got '${c.convention}'`);
  }

  if (c.conditionalShape != null) {
    const cs = c.conditionalShape;
    if (!Array.isArray(cs) || !cs.every(isPosInt)) {
      fail(
        `conditionalShape must be an array of positive integers ([] for a scalar label), got ${JSON.stringify(cs)}`,
      );
    }
    c.conditionalShape = [...cs];
  } else {
    c.conditionalShape = null;
  }
  if (!Number.isInteger(c.numClasses) || c.numClasses < 0) {
    fail(`numClasses must be a non-negative integer, got ${c.numClasses}`);
  }
  if (c.numClasses > 0 && (c.conditionalShape == null || c.conditionalShape.length !== 0)) {
    fail(
      `numClasses (${c.numClasses}) needs conditionalShape [] (a scalar label), got ${JSON.stringify(c.conditionalShape)}`,
    );
  }
  return c;
}

/** Length of the flattened conditioning vector h fed to every layer's projection (0: none). */
export function conditionalUnits(c: ResolvedPixelCNNConfig): number {
  if (c.conditionalShape == null) return 0;
  if (c.numClasses > 0) return c.numClasses;
  return c.conditionalShape.reduce((a, b) => a * b, 1);
}
