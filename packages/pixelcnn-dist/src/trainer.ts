import { checkValues } from '@pixelcnn/logistic-mixture';
import { effectiveWeight, withEffectiveWeights } from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import { type TensorInput, toFloatTensor } from './inputs';
import {
  backendMemoryLimit,
  fitMicroBatch,
  fusedKernelsRegistered,
  microBatchRefusal,
} from './memory';
import { normalizedLayers } from './network';
import { applyGradientsInChunks } from './optimizerUpdate';
import type { PixelCNN } from './pixelCnn';
import { checkSchedule, type LearningRateSchedule, learningRateAt } from './schedule';
import type { StateTensor, TrainerOptionsJSON, TrainerSnapshot } from './trainerState';
import { WeightEMA } from './weightEma';

/** PixelCNN++'s training settings (openai/pixel-cnn train.py). */
export const PIXELCNNPP_TRAINING = {
  learningRate: 1e-3,
  beta1: 0.95,
  beta2: 0.9995,
  /** Multiplied into the learning rate after every step. */
  lrDecay: 0.999995,
  /** Polyak averaging of the weights for evaluation and sampling. */
  emaDecay: 0.9995,
} as const;

/** Options of {@link Trainer}. Defaults: Adam(1e-3, 0.9, 0.999), constant lr, no EMA, whole-batch steps. */
export interface TrainerOptions {
  /** Any tfjs optimizer (default Adam with the settings below). */
  optimizer?: tf.Optimizer;
  /** Initial learning rate (default 1e-3, or the given optimizer's own). */
  learningRate?: number;
  /** Adam's betas when the trainer makes the optimizer (PixelCNN++: 0.95, 0.9995). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /**
   * Learning rate of update t (0-based) from `learningRate`: constant (default), exponential
   * decay, linear warm-up, or a function (see {@link LearningRateSchedule}).
   */
  schedule?: LearningRateSchedule;
  /**
   * Shorthand for `schedule: { kind: 'exponential', decay: lrDecay }`: lr_t = learningRate *
   * lrDecay^t after t applied steps (PixelCNN++: 0.999995). Give this or `schedule`, not both.
   */
  lrDecay?: number;
  /**
   * Split each batch into micro-batches of this size and accumulate their gradients before one
   * update: the same update as the whole batch (up to dropout masks and float rounding), with the
   * memory of one micro-batch (the wasm heap is 4 GB). `'auto'`: the largest that fits
   * `memoryLimitBytes` by {@link estimateTrainingMemory} (the whole batch without a limit).
   * Default: whole batch.
   */
  microBatchSize?: number | 'auto';
  /**
   * Gradient checkpointing (`recomputeBlocks` of {@link PixelCNN.logProb}): the backward pass
   * recomputes each gated resnet instead of keeping its intermediates, for a fraction of the
   * activation memory at the cost of one more forward pass of the blocks. `'auto'` (default):
   * only under a memory limit, where a micro-batch fits no other way or (with an `'auto'`
   * micro-batch) where it makes the step faster ({@link fitMicroBatch}).
   */
  recomputeBlocks?: boolean | 'auto';
  /**
   * Refuse, before any work, a micro-batch whose estimated training step
   * ({@link estimateTrainingMemory}, plus 5%) exceeds this many bytes, naming the largest that
   * fits. Default: 4 GiB on the wasm backend (its heap cannot grow further: running out aborts
   * the process), no limit elsewhere.
   */
  memoryLimitBytes?: number;
  /** Keep an EMA of the weights with this decay (e.g. 0.9995); 0 = off (default). */
  emaDecay?: number;
  /** Clip the global gradient norm to this value (default: no clipping). */
  clipGradNorm?: number;
  /**
   * Seed of the dropout masks: update t's micro-batch i uses `dropoutSeed(seed, t, i)`, so a
   * restored trainer draws the same masks. Default: a random integer (kept in the trainer's state).
   */
  seed?: number;
  /**
   * Dispose `optimizer` with the trainer (default: only an optimizer the trainer made itself).
   */
  disposeOptimizer?: boolean;
  /** Check pixel values (and class labels) each step, on the device (one small read). Default true. */
  validate?: boolean;
}

/** What {@link Trainer.trainStep} reports. */
export interface TrainStepResult {
  /** Updates applied so far (after this call). */
  step: number;
  /** Mean negative log-likelihood of the batch, nats per image (before the update). */
  loss: number;
  /** The same in bits per dimension. */
  bitsPerDim: number;
  /** Global norm of the gradient (before clipping). */
  gradNorm: number;
  /** Learning rate used for this update. */
  learningRate: number;
  /** True when the loss or gradient was NaN/Inf and the update was skipped. */
  skipped: boolean;
  reason?: string;
  microBatches: number;
  /** Whether the micro-batches recomputed their gated resnets in the backward pass (memory). */
  recomputedBlocks: boolean;
  /** True when this call ran the data-dependent init (on its first micro-batch) first. */
  ranDataInit: boolean;
  /** Wall time of the call. */
  ms: number;
}

/**
 * Whether `opt` is tfjs's Adam, whose beta powers live outside getWeights (by class name and
 * fields: tfjs optimizers' `instanceof` is true for any optimizer).
 */
function isAdam(opt: tf.Optimizer): boolean {
  const o = opt as unknown as { accBeta1?: unknown; accBeta2?: unknown };
  return (
    opt.getClassName() === 'Adam' &&
    o.accBeta1 instanceof tf.Variable &&
    o.accBeta2 instanceof tf.Variable
  );
}

/** What a tfjs optimizer's getWeights returns. */
type OptimizerWeights = Awaited<ReturnType<tf.Optimizer['getWeights']>>;

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * The dropout seed of micro-batch `microBatch` of update `step` (both 0-based) for the trainer
 * seed `seed`: a pure function (a 32-bit integer hash), so the masks depend on nothing but these
 * three numbers. Each gated resnet adds a small offset to it.
 */
export function dropoutSeed(seed: number, step: number, microBatch: number): number {
  const fmix = (h: number) => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  };
  let h = fmix(seed | 0);
  h = fmix(h ^ Math.imul(step | 0, 0x9e3779b1));
  h = fmix(h ^ Math.imul(microBatch | 0, 0x7feb352d));
  return h >>> 1; // [0, 2^31)
}
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** A tfjs optimizer's current learning rate (tfjs keeps it in a protected field). */
function optimizerLearningRate(opt: tf.Optimizer): number | undefined {
  const lr = (opt as unknown as { learningRate?: unknown }).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}

/** Set a tfjs optimizer's learning rate (SGD/momentum via setLearningRate; others read the field each step). */
function setOptimizerLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** Check a batch's pixels, and its class labels when it has any, on the device (async reads). */
async function checkBatchOnDevice(
  fn: string,
  dist: PixelCNN,
  x: tf.Tensor,
  cond: tf.Tensor | undefined,
): Promise<void> {
  const { low, high, numClasses } = dist.config;
  await checkValues(fn, 'images', x, low, high);
  if (cond && numClasses > 0) {
    await checkValues(fn, `class labels (numClasses ${numClasses})`, cond, 0, numClasses - 1);
  }
}

/**
 * Training of a {@link PixelCNN} on -mean(logProb) (nats per image): data-dependent init on the
 * first batch, gradient accumulation over micro-batches, a learning-rate schedule, NaN/Inf
 * detection (the update is skipped and reported), optional gradient clipping and EMA of the
 * weights. Reads tensors only asynchronously (runs on WebGPU).
 */
export class Trainer {
  readonly optimizer: tf.Optimizer;
  readonly ema?: WeightEMA;
  /** The learning-rate schedule (from `schedule`, or `lrDecay`). */
  readonly schedule: LearningRateSchedule;
  private readonly ownsOptimizer: boolean;
  private readonly o: TrainerOptions;
  private baseLr: number;
  private dropoutBase: number;
  private steps = 0;
  private skipped = 0;

  constructor(
    readonly dist: PixelCNN,
    o: TrainerOptions = {},
  ) {
    const fn = 'Trainer';
    this.o = o;
    if (
      o.microBatchSize !== undefined &&
      o.microBatchSize !== 'auto' &&
      !(Number.isInteger(o.microBatchSize) && o.microBatchSize >= 1)
    ) {
      throw new Error(
        `Error in ${fn}: microBatchSize must be an integer >= 1 or 'auto', got ${o.microBatchSize}`,
      );
    }
    if (
      o.recomputeBlocks !== undefined &&
      o.recomputeBlocks !== 'auto' &&
      typeof o.recomputeBlocks !== 'boolean'
    ) {
      throw new Error(
        `Error in ${fn}: recomputeBlocks must be true, false or 'auto', got ${JSON.stringify(o.recomputeBlocks)}`,
      );
    }
    if (o.memoryLimitBytes !== undefined && !(o.memoryLimitBytes > 0)) {
      throw new Error(`Error in ${fn}: memoryLimitBytes must be > 0, got ${o.memoryLimitBytes}`);
    }
    if (o.lrDecay !== undefined && !(o.lrDecay > 0 && o.lrDecay <= 1)) {
      throw new Error(`Error in ${fn}: lrDecay must be in (0, 1], got ${o.lrDecay}`);
    }
    if (o.lrDecay !== undefined && o.schedule !== undefined) {
      throw new Error(
        `Error in ${fn}: give lrDecay or schedule, not both (lrDecay d is schedule { kind: 'exponential', decay: d })`,
      );
    }
    this.schedule = checkSchedule(
      fn,
      o.schedule ??
        (o.lrDecay === undefined || o.lrDecay === 1
          ? { kind: 'constant' }
          : { kind: 'exponential', decay: o.lrDecay }),
    );
    if (o.clipGradNorm !== undefined && !(o.clipGradNorm > 0)) {
      throw new Error(`Error in ${fn}: clipGradNorm must be > 0, got ${o.clipGradNorm}`);
    }
    if (o.seed !== undefined && !Number.isInteger(o.seed)) {
      throw new Error(`Error in ${fn}: seed must be an integer, got ${o.seed}`);
    }
    this.dropoutBase = o.seed ?? Math.floor(Math.random() * 2 ** 31);
    const emaDecay = o.emaDecay ?? 0;
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      throw new Error(`Error in ${fn}: emaDecay must be in [0, 1), got ${emaDecay}`);
    }
    if (o.optimizer) {
      this.optimizer = o.optimizer;
      this.ownsOptimizer = o.disposeOptimizer ?? false;
      this.baseLr = o.learningRate ?? optimizerLearningRate(o.optimizer) ?? 1e-3;
    } else {
      this.baseLr = o.learningRate ?? 1e-3;
      this.optimizer = tf.train.adam(this.baseLr, o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.epsilon);
      this.ownsOptimizer = true;
    }
    if (!(this.baseLr > 0))
      throw new Error(`Error in ${fn}: learningRate must be > 0, got ${this.baseLr}`);
    if (emaDecay > 0) this.ema = new WeightEMA(dist.trainableVariables, { decay: emaDecay });
  }

  /** Updates applied so far. */
  get step(): number {
    return this.steps;
  }

  /** Steps skipped because of a NaN/Inf loss or gradient. */
  get skippedSteps(): number {
    return this.skipped;
  }

  /** The base learning rate the schedule scales. */
  get baseLearningRate(): number {
    return this.baseLr;
  }

  /** The seed the dropout masks derive from (see {@link dropoutSeed}). */
  get seed(): number {
    return this.dropoutBase;
  }

  /** Learning rate of the next update. */
  get learningRate(): number {
    return learningRateAt(this.schedule, this.steps, this.baseLr);
  }

  /**
   * The whole training state as plain data (see {@link TrainerSnapshot}): step, skipped steps,
   * base learning rate, schedule, seed, the optimizer's slots (Adam's m and v per weight, its
   * iteration count and beta powers) and the EMA. Reads the tensors asynchronously. Restore it with
   * {@link importState} on a trainer of a model with these weights, e.g. after `PixelCNN.load`.
   */
  async exportState(): Promise<TrainerSnapshot> {
    const fn = 'Trainer.exportState';
    if (this.ema?.isSwapped) {
      throw new Error(`Error in ${fn}: the EMA weights are swapped in (inside withEmaWeights)`);
    }
    const named = this.dist.namedVariables();
    const stableName = new Map(named.map((n) => [n.variable.name, n.name]));
    const opt = this.optimizer;
    const className = opt.getClassName();
    let weights: OptimizerWeights;
    try {
      weights = await opt.getWeights();
    } catch (e) {
      throw new Error(
        `Error in ${fn}: the ${className} optimizer cannot export its state (${(e as Error).message}); use Adam, SGD, Momentum, RMSProp, Adagrad or Adadelta`,
      );
    }
    const [iter, ...slotTensors] = weights;
    if (iter?.name !== 'iter') {
      throw new Error(
        `Error in ${fn}: the ${className} optimizer's weights do not start with 'iter'`,
      );
    }
    const iterations = (await iter.tensor.data())[0];
    iter.tensor.dispose(); // a fresh scalar; the slots are the optimizer's own variables
    const read = async (name: string, t: tf.Tensor): Promise<StateTensor> => ({
      name,
      shape: [...t.shape],
      data: Float32Array.from((await t.data()) as Float32Array),
    });
    const slots: StateTensor[] = [];
    for (const w of slotTensors) {
      const cut = w.name.lastIndexOf('/');
      const weight = stableName.get(w.name.slice(0, cut));
      if (cut < 0 || weight === undefined) {
        throw new Error(
          `Error in ${fn}: optimizer slot '${w.name}' is not for a weight of this model (one optimizer shared by several models?)`,
        );
      }
      slots.push(await read(`${weight}/${w.name.slice(cut + 1)}`, w.tensor));
    }
    const extra: StateTensor[] = [];
    if (isAdam(opt)) {
      // setWeights recomputes these as beta^(t+1) with pow, which differs in the last bits from
      // the products applyGradients accumulates: keep the exact values.
      const acc = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
      extra.push(await read('accBeta1', acc.accBeta1), await read('accBeta2', acc.accBeta2));
    }
    const ema = this.ema;
    return {
      step: this.steps,
      skippedSteps: this.skipped,
      baseLearningRate: this.baseLr,
      seed: this.dropoutBase,
      options: this.optionsJSON(),
      optimizer: {
        className,
        config: JSON.parse(JSON.stringify(opt.getConfig())),
        iterations,
        slots,
        extra,
      },
      ema: ema
        ? {
            decay: ema.decay,
            warmup: ema.warmup,
            numUpdates: ema.numUpdates,
            shadows: await Promise.all(ema.shadows.map((t, i) => read(named[i].name, t))),
          }
        : null,
    };
  }

  /**
   * Restore a state from {@link exportState} (this trainer's model must have the weights saved
   * with it): afterwards training continues bit-exactly as the exporting trainer would have. The
   * optimizer must be of the same class. When this trainer keeps an EMA and the snapshot has
   * none, the EMA restarts from the current weights; a snapshot's EMA is ignored by a trainer
   * without one. Options (micro-batches, clipping, schedule) stay this trainer's own.
   */
  async importState(s: TrainerSnapshot): Promise<void> {
    const fn = 'Trainer.importState';
    if (this.ema?.isSwapped) {
      throw new Error(`Error in ${fn}: the EMA weights are swapped in (inside withEmaWeights)`);
    }
    const opt = this.optimizer;
    const className = opt.getClassName();
    if (s.optimizer.className !== className) {
      throw new Error(
        `Error in ${fn}: the state is of a ${s.optimizer.className} optimizer, this trainer's is ${className} (make the trainer with the same optimizer)`,
      );
    }
    for (const [k, v] of [
      ['step', s.step],
      ['skippedSteps', s.skippedSteps],
      ['seed', s.seed],
      ['optimizer.iterations', s.optimizer.iterations],
    ] as const) {
      if (!Number.isInteger(v))
        throw new Error(`Error in ${fn}: ${k} must be an integer, got ${v}`);
    }
    if (!(s.baseLearningRate > 0)) {
      throw new Error(`Error in ${fn}: baseLearningRate must be > 0, got ${s.baseLearningRate}`);
    }
    const named = this.dist.namedVariables();
    const n = named.length;
    const same = (a: readonly number[], b: readonly number[]) =>
      a.length === b.length && a.every((d, i) => d === b[i]);
    const { slots } = s.optimizer;
    if (slots.length % n !== 0) {
      throw new Error(
        `Error in ${fn}: the optimizer state has ${slots.length} slots, not a multiple of this model's ${n} weights (saved with another model?)`,
      );
    }
    const slotNames = slots.map((t, k) => {
      const want = named[k % n];
      const cut = t.name.lastIndexOf('/');
      if (t.name.slice(0, cut) !== want.name || !same(t.shape, want.variable.shape)) {
        throw new Error(
          `Error in ${fn}: optimizer slot ${k} is '${t.name}' [${t.shape.join(', ')}], expected one for '${want.name}' [${want.variable.shape.join(', ')}] (saved with another model?)`,
        );
      }
      return `${want.variable.name}/${t.name.slice(cut + 1)}`;
    });
    const adam = isAdam(opt);
    const extra = new Map(s.optimizer.extra.map((t) => [t.name, t]));
    if (
      adam &&
      !(extra.get('accBeta1')?.data.length === 1 && extra.get('accBeta2')?.data.length === 1)
    ) {
      throw new Error(`Error in ${fn}: the Adam state lacks accBeta1 / accBeta2`);
    }
    if (this.ema && s.ema) {
      s.ema.shadows.forEach((t, i) => {
        const want = named[i];
        if (!want || t.name !== want.name || !same(t.shape, want.variable.shape)) {
          throw new Error(
            `Error in ${fn}: EMA shadow ${i} is '${t.name}' [${t.shape.join(', ')}], expected '${want?.name}' (saved with another model?)`,
          );
        }
      });
      if (s.ema.shadows.length !== n) {
        throw new Error(
          `Error in ${fn}: the EMA has ${s.ema.shadows.length} shadows, this model ${n} weights (saved with another model?)`,
        );
      }
    }

    // checked: now replace the state
    const old = await opt.getWeights();
    const values: OptimizerWeights = [
      { name: 'iter', tensor: tf.scalar(s.optimizer.iterations, 'int32') },
      ...slots.map((t, k) => ({
        name: slotNames[k],
        tensor: tf.tensor(t.data, t.shape, 'float32'),
      })),
    ];
    try {
      await opt.setWeights(values);
    } finally {
      tf.dispose(values.map((v) => v.tensor)); // the new slot variables keep their data
    }
    tf.dispose(old.map((v) => v.tensor)); // the replaced slots and the iteration scalar
    if (adam) {
      const acc = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
      tf.tidy(() => {
        acc.accBeta1.assign(tf.scalar(extra.get('accBeta1')!.data[0]));
        acc.accBeta2.assign(tf.scalar(extra.get('accBeta2')!.data[0]));
      });
    }
    if (this.ema) {
      if (s.ema) {
        this.ema.load(
          s.ema.shadows.map((t) => t.data),
          s.ema.numUpdates,
        );
      } else {
        this.ema.reset();
      }
    }
    this.steps = s.step;
    this.skipped = s.skippedSteps;
    this.baseLr = s.baseLearningRate;
    this.dropoutBase = s.seed;
  }

  /** The JSON-able options (what a snapshot records to rebuild this trainer). */
  private optionsJSON(): TrainerOptionsJSON {
    const o = this.o;
    const j: TrainerOptionsJSON = {
      learningRate: this.baseLr,
      schedule: typeof this.schedule === 'function' ? { kind: 'custom' } : this.schedule,
      emaDecay: o.emaDecay ?? 0,
      seed: this.dropoutBase,
      validate: o.validate ?? true,
    };
    if (o.microBatchSize !== undefined) j.microBatchSize = o.microBatchSize;
    if (o.recomputeBlocks !== undefined) j.recomputeBlocks = o.recomputeBlocks;
    if (o.clipGradNorm !== undefined) j.clipGradNorm = o.clipGradNorm;
    return JSON.parse(JSON.stringify(j));
  }

  /**
   * The micro-batch size a batch of `batchSize` images trains in, checked against the memory
   * limit as {@link trainStep} checks it: throws the error trainStep would, naming the largest
   * micro-batch that fits or saying that one image does not. Call it to refuse an oversized
   * network before any work (even before the data is loaded). {@link recomputesBlocksFor} says
   * whether that micro-batch recomputes the gated resnets.
   */
  microBatchSizeFor(batchSize: number): number {
    return this.microBatchFor('Trainer.microBatchSizeFor', batchSize).mb;
  }

  /** Whether a step on a batch of `batchSize` recomputes the blocks (checked as {@link microBatchSizeFor}). */
  recomputesBlocksFor(batchSize: number): boolean {
    return this.microBatchFor('Trainer.recomputesBlocksFor', batchSize).recomputeBlocks;
  }

  /**
   * The micro-batch for a batch of `B` and whether it recomputes the blocks (the options; 'auto':
   * the fastest that fits the memory limit), checked against the limit before any work, so an
   * oversized step is refused with the size that fits instead of aborting the wasm heap mid-step.
   */
  private microBatchFor(fn: string, B: number): { mb: number; recomputeBlocks: boolean } {
    const { plan, numParameters } = this.dist;
    const limit = this.o.memoryLimitBytes ?? backendMemoryLimit(tf.getBackend());
    const fit = fitMicroBatch(plan, numParameters, B, this.o.microBatchSize ?? B, limit, {
      recomputeBlocks: this.o.recomputeBlocks ?? 'auto',
      fusedKernels: fusedKernelsRegistered(),
    });
    if (fit.fits || limit === undefined)
      return { mb: fit.microBatchSize, recomputeBlocks: fit.recomputeBlocks };
    const why = microBatchRefusal(fit, {
      bytes: limit,
      wasmHeap: this.o.memoryLimitBytes === undefined,
    });
    throw new Error(
      `Error in ${fn}: ${why}` +
        (fit.largest >= 1
          ? `: use microBatchSize: ${fit.largest} (or 'auto')`
          : '; use fewer filters, resnets or hierarchies, or a backend with more memory'),
    );
  }

  /**
   * One update on a batch `[B, H, W, C]` (integers in [low, high]); conditional input `[B, ...]`
   * or one for all. Runs data-dependent init first if the model has not been initialised.
   */
  async trainStep(
    images: TensorInput,
    o: { conditionalInput?: TensorInput } = {},
  ): Promise<TrainStepResult> {
    const fn = 'trainStep';
    const t0 = now();
    const { dist } = this;
    const x = toFloatTensor(images);
    const cond = o.conditionalInput == null ? undefined : toFloatTensor(o.conditionalInput);
    const created = [x !== images ? x : null, cond !== o.conditionalInput ? cond : null].filter(
      (t): t is tf.Tensor => t != null,
    );
    const grads = new Map<string, tf.Tensor>();
    try {
      const [H, W, C] = dist.eventShape;
      if (x.rank !== 4 || x.shape[1] !== H || x.shape[2] !== W || x.shape[3] !== C) {
        throw new Error(
          `Error in ${fn}: expected a batch [B, ${H}, ${W}, ${C}], got [${x.shape.join(', ')}]`,
        );
      }
      const B = x.shape[0];
      const condRank = dist.config.conditionalShape?.length ?? 0;
      const condPerExample = cond != null && cond.rank === condRank + 1;
      if (condPerExample && cond.shape[0] !== B) {
        throw new Error(
          `Error in ${fn}: conditionalInput has batch ${cond.shape[0]} but the images ${B}`,
        );
      }
      // Values are checked here, on the device, so logProb need not read the batch synchronously.
      const validate = this.o.validate ?? true;
      if (validate) await checkBatchOnDevice(fn, dist, x, cond);
      const { mb, recomputeBlocks } = this.microBatchFor(fn, B);
      const slices: Array<{ images: tf.Tensor; cond?: tf.Tensor }> = [];
      for (let start = 0; start < B; start += mb) {
        const size = Math.min(mb, B - start);
        slices.push({
          images: B === size ? x : tf.slice(x, start, size),
          cond: cond && condPerExample && B !== size ? tf.slice(cond, start, size) : cond,
        });
      }
      for (const s of slices) {
        if (s.images !== x) created.push(s.images);
        if (s.cond && s.cond !== cond) created.push(s.cond);
      }

      let ranDataInit = false;
      if (!dist.initialized) {
        ranDataInit = dist.initialize(slices[0].images, {
          conditionalInput: slices[0].cond,
          validate: false, // checked above
        });
      }
      // The average starts from the weights the first update starts from (after data init).
      if (this.ema && this.ema.numUpdates === 0) this.ema.reset();

      const vars = dist.trainableVariables;
      // Weight norm once per step, off the tape: every micro-batch is differentiated with respect
      // to these effective weights (and the other variables), then the accumulated gradient is
      // chained back through g * v / ||v|| once. Same gradient as differentiating through the
      // weight norm per micro-batch, without its weight-sized intermediates on every micro-batch's
      // tape (for TFP's default network at micro-batch 1 they outweighed the activations).
      const layers = normalizedLayers(dist.params);
      const normalized = new Set<tf.Variable>(
        layers.flatMap((l) => [l.params.v, l.params.g as tf.Variable]),
      );
      const direct = vars.filter((v) => !normalized.has(v));
      const effective = tf.tidy(() => layers.map((l) => effectiveWeight(l.params, l.outAxis)));
      created.push(...effective);
      const overrides = new Map(layers.map((l, k) => [l.params, effective[k]] as const));
      const xs: tf.Tensor[] = [...effective, ...direct];
      const acc: Array<tf.Tensor | undefined> = new Array(xs.length);
      let lossSum = 0;
      try {
        for (let i = 0; i < slices.length; i++) {
          const s = slices[i];
          const seed = dropoutSeed(this.dropoutBase, this.steps, i);
          const { value, grads: g } = tf.engine().gradients(
            () =>
              withEffectiveWeights(
                overrides,
                () =>
                  tf.div(
                    tf.neg(
                      tf.sum(
                        dist.logProb(s.images, {
                          conditionalInput: s.cond,
                          training: true,
                          seed,
                          validate: false,
                          recomputeBlocks,
                        }),
                      ),
                    ),
                    B,
                  ) as tf.Scalar,
              ),
            xs,
            undefined,
            true,
          );
          lossSum += (await value.data())[0];
          value.dispose();
          g.forEach((t, k) => {
            if (!t) return;
            const prev = acc[k];
            if (prev) {
              acc[k] = tf.add(prev, t);
              tf.dispose([prev, t]);
            } else {
              acc[k] = t;
            }
          });
        }
        // chain rule through the weight norm, once
        layers.forEach((l, k) => {
          const dw = acc[k];
          if (!dw) return;
          const p = l.params;
          const [dv, dg] = tf.grads((v: tf.Tensor, gg: tf.Tensor) =>
            effectiveWeight({ ...p, v, g: gg } as unknown as typeof p, l.outAxis),
          )([p.v, p.g as tf.Variable], dw);
          grads.set(p.v.name, dv);
          grads.set((p.g as tf.Variable).name, dg);
          dw.dispose(); // weight-sized: not kept through the other layers' chains
          acc[k] = undefined;
        });
        // nor are the effective weights kept through the update
        tf.dispose(effective);
        created.splice(created.length - effective.length, effective.length);
        direct.forEach((v, k) => {
          const t = acc[layers.length + k];
          if (t) grads.set(v.name, t);
        });
      } finally {
        // the effective-weight gradients, and any gradient not handed over (on an error)
        const handed = new Set(grads.values());
        tf.dispose(acc.filter((t): t is tf.Tensor => t != null && !handed.has(t)));
      }
      // Every variable gets a gradient, in the variables' stable order: tfjs optimizers keep
      // their slots by position, so the order must not change from step to step (or on resume).
      for (const v of vars) if (!grads.has(v.name)) grads.set(v.name, tf.zerosLike(v));
      const ordered = vars.map((v) => grads.get(v.name)!);

      // each square freed before the next (all at once: one more copy of every gradient)
      const gradNorm = tf.tidy(() =>
        tf.sqrt(tf.addN(ordered.map((g) => tf.tidy(() => tf.sum(tf.square(g)))))),
      );
      const norm = (await gradNorm.data())[0];
      gradNorm.dispose();
      const lr = this.learningRate;
      const numDims = prod(dist.eventShape);
      const base = {
        loss: lossSum,
        bitsPerDim: lossSum / (numDims * Math.LN2),
        gradNorm: norm,
        learningRate: lr,
        microBatches: slices.length,
        recomputedBlocks: recomputeBlocks,
        ranDataInit,
      };
      if (!Number.isFinite(lossSum) || !Number.isFinite(norm)) {
        this.skipped++;
        return {
          ...base,
          step: this.steps,
          skipped: true,
          reason: `non-finite ${Number.isFinite(lossSum) ? 'gradient norm' : 'loss'} (loss ${lossSum}, gradient norm ${norm}); update skipped`,
          ms: now() - t0,
        };
      }
      const clip = this.o.clipGradNorm;
      const scale = clip !== undefined && norm > clip ? clip / norm : 1;
      const update = vars.map((v, k) => ({
        name: v.name,
        tensor: scale === 1 ? ordered[k] : tf.mul(ordered[k], scale),
      }));
      try {
        if (optimizerLearningRate(this.optimizer) !== lr)
          setOptimizerLearningRate(this.optimizer, lr);
        applyGradientsInChunks(this.optimizer, update);
      } finally {
        if (scale !== 1) tf.dispose(update.map((u) => u.tensor));
      }
      this.steps++;
      this.ema?.update();
      return { ...base, step: this.steps, skipped: false, ms: now() - t0 };
    } finally {
      tf.dispose([...grads.values()]);
      tf.dispose(created);
    }
  }

  /**
   * Mean negative log-likelihood (nats per image) and bits/dim of a set of images, in batches,
   * without dropout; with the EMA weights when there are any (unless `useEma` is false).
   */
  async evaluate(
    images: TensorInput,
    o: { conditionalInput?: TensorInput; batchSize?: number; useEma?: boolean } = {},
  ): Promise<{ nats: number; bitsPerDim: number; count: number }> {
    const run = () => evaluateNll(this.dist, images, o);
    return this.ema && (o.useEma ?? true) ? this.ema.apply(run) : run();
  }

  /** Run `fn` with the EMA weights swapped in (or the plain weights when there is no EMA). */
  async withEmaWeights<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.ema ? this.ema.apply(fn) : fn();
  }

  /** Dispose the EMA shadows and the optimizer the trainer made. */
  dispose(): void {
    this.ema?.dispose();
    if (this.ownsOptimizer) this.optimizer.dispose();
  }
}

/**
 * Mean negative log-likelihood in nats per image, and bits/dim, of images `[B, H, W, C]`
 * (conditional input `[B, ...]` or one for all), evaluated in batches of `batchSize` (default 32)
 * without dropout. `validate` (default true) checks the values once, on the device.
 */
export async function evaluateNll(
  dist: PixelCNN,
  images: TensorInput,
  o: { conditionalInput?: TensorInput; batchSize?: number; validate?: boolean } = {},
): Promise<{ nats: number; bitsPerDim: number; count: number }> {
  const fn = 'evaluateNll';
  const x = toFloatTensor(images);
  const cond = o.conditionalInput == null ? undefined : toFloatTensor(o.conditionalInput);
  try {
    const B = x.shape[0];
    const bs = o.batchSize ?? 32;
    if (o.validate ?? true) await checkBatchOnDevice(fn, dist, x, cond);
    const condRank = dist.config.conditionalShape?.length ?? 0;
    let total = 0;
    for (let start = 0; start < B; start += bs) {
      const size = Math.min(bs, B - start);
      const lp = tf.tidy(() => {
        const xi = tf.slice(x, start, size);
        const ci = cond && cond.rank === condRank + 1 ? tf.slice(cond, start, size) : cond;
        return tf.sum(dist.logProb(xi, { conditionalInput: ci, validate: false }));
      });
      total += (await lp.data())[0];
      lp.dispose();
    }
    const nats = -total / B;
    return { nats, bitsPerDim: nats / (prod(dist.eventShape) * Math.LN2), count: B };
  } finally {
    if (x !== images) x.dispose();
    if (cond && cond !== o.conditionalInput) cond.dispose();
  }
}
