import * as tf from '@tensorflow/tfjs-core';

/** Format tag of a saved classifier (`modelTopology.class_name`). */
export const CLASSIFIER_FORMAT = 'DrawingClassifier';
/** Version of the saved layout; a classifier of another version is refused when loaded. */
export const CLASSIFIER_FORMAT_VERSION = 1;

/** A classifier's architecture and classes (saved with its weights). */
export interface ClassifierConfig {
  /** Class names by label: label i is `classes[i]`. At least two. */
  classes: readonly string[];
  /** `[H, W]` of the drawings (default QuickDraw's 28x28); H and W at least 8. */
  imageSize?: readonly [number, number];
  /** Channels of the three 3x3 conv layers (default [16, 32, 64]). */
  filters?: readonly [number, number, number];
  /** Units of the hidden dense layer (default 128). */
  hidden?: number;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
}

export type ResolvedClassifierConfig = Required<ClassifierConfig>;

/** Labelled grayscale drawings: `images` `[N * H * W]` uint8 (0 = background), `labels` `[N]`. */
export interface LabelledImages {
  images: Uint8Array;
  labels: Int32Array;
}

function fail(message: string): never {
  throw new Error(`Error in DrawingClassifier: ${message}`);
}

function resolve(config: ClassifierConfig): ResolvedClassifierConfig {
  const c: ResolvedClassifierConfig = {
    classes: config.classes,
    imageSize: config.imageSize ?? [28, 28],
    filters: config.filters ?? [16, 32, 64],
    hidden: config.hidden ?? 128,
    seed: config.seed ?? 0,
  };
  if (
    !Array.isArray(c.classes) ||
    c.classes.length < 2 ||
    c.classes.some((n) => typeof n !== 'string')
  )
    fail(`classes must name at least two classes, got ${JSON.stringify(c.classes)}`);
  if (new Set(c.classes).size !== c.classes.length)
    fail(`classes must be distinct, got ${JSON.stringify(c.classes)}`);
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (c.imageSize.length !== 2 || !c.imageSize.every((s) => positive(s) && s >= 8))
    fail(`imageSize must be [H, W] with H, W >= 8, got ${JSON.stringify(c.imageSize)}`);
  if (c.filters.length !== 3 || !c.filters.every(positive))
    fail(`filters must be three positive integers, got ${JSON.stringify(c.filters)}`);
  if (!positive(c.hidden)) fail(`hidden must be a positive integer, got ${c.hidden}`);
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed >= 2 ** 28)
    fail(`seed must be an integer in [0, 2^28), got ${c.seed}`);
  return { ...c, classes: [...c.classes], imageSize: [...c.imageSize] as [number, number] };
}

/** Side after a 2x2 max-pool with 'valid' padding. */
const pooled = (n: number) => Math.floor(n / 2);

/** Variable shapes by name, in the saved order. */
function variableShapes(c: ResolvedClassifierConfig): [string, number[]][] {
  const [f1, f2, f3] = c.filters;
  const flat = c.imageSize.map((s) => pooled(pooled(pooled(s)))).reduce((a, b) => a * b) * f3;
  return [
    ['conv1/w', [3, 3, 1, f1]],
    ['conv1/b', [f1]],
    ['conv2/w', [3, 3, f1, f2]],
    ['conv2/b', [f2]],
    ['conv3/w', [3, 3, f2, f3]],
    ['conv3/b', [f3]],
    ['dense1/w', [flat, c.hidden]],
    ['dense1/b', [c.hidden]],
    ['dense2/w', [c.hidden, c.classes.length]],
    ['dense2/b', [c.classes.length]],
  ];
}

/**
 * A small convolutional classifier of drawings (three 3x3 conv + ReLU + 2x2 max-pool layers, a
 * hidden dense layer, softmax over the classes): the judge of whether a generated drawing looks
 * like its class. Trained on real drawings by {@link trainClassifier}, it gives the share of
 * generated drawings assigned to the class they were sampled for ({@link recognitionShare}),
 * which held-out bits/dim cannot tell. Deterministic from its seed; tfjs-core only.
 */
export class DrawingClassifier {
  readonly config: ResolvedClassifierConfig;
  /** Trainable variables by name, in the saved order. */
  readonly variables: ReadonlyMap<string, tf.Variable>;

  constructor(config: ClassifierConfig, weights?: ReadonlyMap<string, tf.Tensor>) {
    this.config = resolve(config);
    const vars = new Map<string, tf.Variable>();
    variableShapes(this.config).forEach(([name, shape], i) => {
      const given = weights?.get(name);
      if (weights && !given) fail(`weights lack '${name}' (saved with another configuration?)`);
      if (given && given.shape.join() !== shape.join())
        fail(
          `weight '${name}' has shape [${given.shape}], expected [${shape}] (saved with another configuration?)`,
        );
      const init = tf.tidy(() => {
        if (given) return given.clone();
        if (name.endsWith('/b')) return tf.zeros(shape);
        // He initialisation for ReLU layers: std sqrt(2 / fan_in), one seed per variable (>= 1:
        // tfjs draws an unseeded Math.random() stream for seed 0).
        const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
        const seed = (this.config.seed >>> 0) * 16 + i + 1;
        return tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), Math.sqrt(2 / fanIn));
      });
      // unnamed: tfjs names variables uniquely, so several classifiers can coexist
      vars.set(name, tf.variable(init, true));
      init.dispose();
    });
    this.variables = vars;
  }

  get classes(): readonly string[] {
    return this.config.classes;
  }

  get numParameters(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /** Logits `[B, K]` of drawings `[B, H, W, 1]` with values 0..255 (ink high, as QuickDraw's). */
  logits(images: tf.Tensor4D): tf.Tensor2D {
    const [, h, w, c] = images.shape;
    const [H, W] = this.config.imageSize;
    if (images.rank !== 4 || h !== H || w !== W || c !== 1)
      fail(`expected drawings [B, ${H}, ${W}, 1], got [${images.shape}]`);
    const v = (name: string) => this.variables.get(name) as tf.Variable;
    return tf.tidy(() => {
      let x: tf.Tensor4D = tf.div(images, 255);
      for (const layer of ['conv1', 'conv2', 'conv3']) {
        const y = tf.relu(
          tf.add(tf.conv2d(x, v(`${layer}/w`) as tf.Tensor4D, 1, 'same'), v(`${layer}/b`)),
        );
        x = tf.maxPool(y as tf.Tensor4D, 2, 2, 'valid'); // [B, H/2, W/2, F]
      }
      const flat = tf.reshape(x, [x.shape[0], -1]); // [B, h*w*F]
      const hidden = tf.relu(tf.add(tf.matMul(flat, v('dense1/w') as tf.Tensor2D), v('dense1/b')));
      return tf.add(
        tf.matMul(hidden as tf.Tensor2D, v('dense2/w') as tf.Tensor2D),
        v('dense2/b'),
      ) as tf.Tensor2D;
    });
  }

  /**
   * Mean softmax cross-entropy (nats) of drawings `[B, H, W, 1]` and their labels `[B]`:
   * -mean_i log softmax(logits_i)[label_i], the training loss.
   */
  crossEntropy(images: tf.Tensor4D, labels: tf.Tensor1D): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.logits(images);
      const logSoftmax = tf.sub(logits, tf.logSumExp(logits, 1, true)); // [B, K]
      const picked = tf.sum(tf.mul(tf.oneHot(labels, this.config.classes.length), logSoftmax), 1);
      return tf.neg(tf.mean(picked)) as tf.Scalar;
    });
  }

  /**
   * The most likely class (label) of each drawing: `images` as `[N * H * W]` uint8 or a
   * `[N, H, W, 1]` tensor of values 0..255. Runs in batches; reads results asynchronously.
   */
  async predict(images: Uint8Array | tf.Tensor4D, batchSize = 256): Promise<Int32Array> {
    const [H, W] = this.config.imageSize;
    const n = images instanceof Uint8Array ? images.length / (H * W) : images.shape[0];
    if (!Number.isInteger(n)) fail(`${n * H * W} bytes are not whole ${H}x${W} drawings`);
    const out = new Int32Array(n);
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const labels = tf.tidy(() => {
        const x =
          images instanceof Uint8Array
            ? tf.tensor4d(Float32Array.from(images.subarray(start * H * W, end * H * W)), [
                end - start,
                H,
                W,
                1,
              ])
            : tf.slice(images, start, end - start);
        return tf.argMax(this.logits(x), 1);
      });
      out.set(await labels.data(), start);
      labels.dispose();
    }
    return out;
  }

  /** tfjs model artifacts: the config as topology, float32 weights, `metadata` kept as given. */
  async toArtifacts(metadata: Record<string, unknown> = {}): Promise<tf.io.ModelArtifacts> {
    const named: tf.NamedTensorMap = {};
    for (const [name, v] of this.variables) named[name] = v;
    const { data, specs } = await tf.io.encodeWeights(named);
    return {
      modelTopology: {
        class_name: CLASSIFIER_FORMAT,
        formatVersion: CLASSIFIER_FORMAT_VERSION,
        config: { ...this.config },
      },
      weightSpecs: specs,
      weightData: data,
      format: 'pixelcnn-quickdraw-models',
      userDefinedMetadata: { metadata },
    };
  }

  /** Save through any tfjs IO handler (e.g. pixelcnn-dist's `nodeFileIO(dir)`). */
  async save(
    handler: tf.io.IOHandler,
    metadata?: Record<string, unknown>,
  ): Promise<tf.io.SaveResult> {
    if (!handler.save) fail('the IO handler cannot save');
    return handler.save(await this.toArtifacts(metadata));
  }

  /** A classifier from artifacts written by {@link toArtifacts}; checks format and shapes. */
  static fromArtifacts(artifacts: tf.io.ModelArtifacts): DrawingClassifier {
    const topology = artifacts.modelTopology as
      | { class_name?: unknown; formatVersion?: unknown; config?: ClassifierConfig }
      | undefined;
    if (topology?.class_name !== CLASSIFIER_FORMAT)
      fail(
        `not a saved DrawingClassifier (modelTopology.class_name ${JSON.stringify(topology?.class_name)})`,
      );
    if (topology.formatVersion !== CLASSIFIER_FORMAT_VERSION)
      fail(
        `saved in format version ${String(topology.formatVersion)}; this version reads ${CLASSIFIER_FORMAT_VERSION}`,
      );
    if (!artifacts.weightSpecs || !artifacts.weightData) fail('the artifacts have no weights');
    const data = Array.isArray(artifacts.weightData)
      ? concat(artifacts.weightData)
      : artifacts.weightData;
    const expected = artifacts.weightSpecs.reduce(
      (s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1),
      0,
    );
    if (data.byteLength !== expected)
      fail(
        `weights hold ${data.byteLength} bytes, the manifest needs ${expected} (truncated file?)`,
      );
    const decoded = tf.io.decodeWeights(data, artifacts.weightSpecs);
    const weights = new Map(Object.entries(decoded));
    try {
      return new DrawingClassifier(topology.config as ClassifierConfig, weights);
    } finally {
      tf.dispose(Object.values(decoded));
    }
  }

  /** Load through any tfjs IO handler. */
  static async load(handler: tf.io.IOHandler): Promise<DrawingClassifier> {
    if (!handler.load) fail('the IO handler cannot load');
    return DrawingClassifier.fromArtifacts(await handler.load());
  }

  /** The metadata saved with artifacts by {@link toArtifacts}. */
  static metadata(artifacts: tf.io.ModelArtifacts): Record<string, unknown> {
    const m = (artifacts.userDefinedMetadata as { metadata?: Record<string, unknown> } | undefined)
      ?.metadata;
    return m ?? {};
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(buffers.reduce((s, b) => s + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}
