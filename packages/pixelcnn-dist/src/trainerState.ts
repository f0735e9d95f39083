import type { LearningRateScheduleJSON } from './schedule';
import { crc32 } from './serialization';

/** `format` field of a trainer-state JSON (trainer.json in a checkpoint directory). */
export const TRAINER_STATE_FORMAT = 'pixelcnn-trainer-state';
/** Version of the trainer-state layout this library writes and reads. */
export const TRAINER_STATE_VERSION = 1;
/** File names of a trainer state beside a model's model.json + weights.bin. */
export const TRAINER_JSON_FILE = 'trainer.json';
export const TRAINER_BIN_FILE = 'trainer.bin';

/** A float32 array with its name and shape (an optimizer slot, an EMA shadow). */
export interface StateTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The trainer options a snapshot records (the JSON-able ones), for rebuilding the trainer. */
export interface TrainerOptionsJSON {
  /** Base learning rate. */
  learningRate: number;
  /** The schedule, or `{ kind: 'custom' }` for a function (pass it again when restoring). */
  schedule: LearningRateScheduleJSON | { kind: 'custom' };
  microBatchSize?: number | 'auto';
  recomputeBlocks?: boolean | 'auto';
  emaDecay: number;
  clipGradNorm?: number;
  seed: number;
  validate: boolean;
}

/**
 * A trainer's state with each of its arrays as an `A`: the array itself in a
 * {@link TrainerSnapshot}, its name and shape in trainer.json ({@link TrainerStateJSON}).
 */
export interface TrainerStateOf<A> {
  /** Updates applied (the schedule's position and the dropout masks' step). */
  step: number;
  /** Updates skipped on a NaN/Inf loss or gradient. */
  skippedSteps: number;
  /** The base learning rate the schedule scales. */
  baseLearningRate: number;
  /** The seed the dropout masks derive from. */
  seed: number;
  /** The options the trainer was made with (JSON-able part). */
  options: TrainerOptionsJSON;
  optimizer: {
    /** tfjs class name (`'Adam'`, `'SGD'`, `'Momentum'`, ...). */
    className: string;
    /** tfjs `getConfig()` of the optimizer (Adam: learningRate, beta1, beta2, epsilon). */
    config: Record<string, unknown>;
    /** tfjs's iteration counter. */
    iterations: number;
    /**
     * The optimizer's slots in tfjs `getWeights()` order, named `<weight name>/<slot>` with the
     * model's stable weight names (Adam: every `.../m`, then every `.../v`).
     */
    slots: A[];
    /** State tfjs's `setWeights` does not restore exactly (Adam: `accBeta1`, `accBeta2`). */
    extra: A[];
  };
  /** The EMA of the weights, when the trainer keeps one. */
  ema: {
    decay: number;
    warmup: boolean;
    numUpdates: number;
    /** One per weight, in the model's stable order, named `<weight name>`. */
    shadows: A[];
  } | null;
}

/**
 * The whole state of a {@link Trainer} (not the model's weights: those are the model's save), as
 * plain data: {@link Trainer.exportState} makes it, {@link Trainer.importState} restores it
 * bit-exactly, {@link encodeTrainerState} / {@link decodeTrainerState} turn it into bytes.
 */
export interface TrainerSnapshot extends TrainerStateOf<StateTensor> {}

/** trainer.json: a {@link TrainerSnapshot} without its arrays, plus their manifest. */
export interface TrainerStateJSON extends TrainerStateOf<{ name: string; shape: number[] }> {
  format: typeof TRAINER_STATE_FORMAT;
  version: number;
  /** The binary part: float32 little-endian, optimizer.extra, optimizer.slots, ema.shadows in order. */
  bin: { bytes: number; crc32: number };
  /** Whatever the caller stored beside the state (saveCheckpoint's `extra`). */
  extra?: Record<string, unknown>;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function tensorsOf(s: TrainerSnapshot): StateTensor[] {
  return [...s.optimizer.extra, ...s.optimizer.slots, ...(s.ema?.shadows ?? [])];
}

/**
 * A snapshot as JSON (`json`, to write with JSON.stringify) and bytes (`bin`: every array as
 * float32 little-endian, in the order the JSON lists them). `extra` is stored in the JSON as is.
 */
export function encodeTrainerState(
  s: TrainerSnapshot,
  extra?: Record<string, unknown>,
): { json: TrainerStateJSON; bin: Uint8Array } {
  const tensors = tensorsOf(s);
  const total = tensors.reduce((a, t) => a + t.data.length, 0);
  const floats = new Float32Array(total);
  let off = 0;
  for (const t of tensors) {
    if (t.data.length !== size(t.shape)) {
      throw new Error(
        `Error in encodeTrainerState: '${t.name}' has ${t.data.length} values but shape [${t.shape.join(', ')}]`,
      );
    }
    floats.set(t.data, off);
    off += t.data.length;
  }
  // Float32Array is platform-endian: write little-endian explicitly.
  const bin = new Uint8Array(total * 4);
  const view = new DataView(bin.buffer);
  for (let i = 0; i < total; i++) view.setFloat32(4 * i, floats[i], true);
  const meta = (ts: StateTensor[]) => ts.map((t) => ({ name: t.name, shape: [...t.shape] }));
  const json: TrainerStateJSON = {
    format: TRAINER_STATE_FORMAT,
    version: TRAINER_STATE_VERSION,
    step: s.step,
    skippedSteps: s.skippedSteps,
    baseLearningRate: s.baseLearningRate,
    seed: s.seed,
    options: s.options,
    optimizer: {
      className: s.optimizer.className,
      config: s.optimizer.config,
      iterations: s.optimizer.iterations,
      slots: meta(s.optimizer.slots),
      extra: meta(s.optimizer.extra),
    },
    ema: s.ema && {
      decay: s.ema.decay,
      warmup: s.ema.warmup,
      numUpdates: s.ema.numUpdates,
      shadows: meta(s.ema.shadows),
    },
    bin: { bytes: bin.byteLength, crc32: crc32(bin) },
  };
  if (extra !== undefined) json.extra = extra;
  return { json, bin };
}

/**
 * Check and decode a trainer state written by {@link encodeTrainerState}: `json` (object or text)
 * and its bytes. Throws "Error in <fn>: <jsonName|binName> ..." naming the file and the fix when
 * the JSON is not JSON or not a trainer state, another version wrote it, or the bytes are
 * truncated or corrupt.
 */
export function decodeTrainerState(
  json: TrainerStateJSON | string,
  bin: Uint8Array,
  o: { fn?: string; jsonName?: string; binName?: string } = {},
): { snapshot: TrainerSnapshot; extra: Record<string, unknown> } {
  const fn = o.fn ?? 'decodeTrainerState';
  const jsonName = o.jsonName ?? TRAINER_JSON_FILE;
  const binName = o.binName ?? TRAINER_BIN_FILE;
  const fix = 'resume from another checkpoint, or start again from the model alone (PixelCNN.load)';
  let j: TrainerStateJSON;
  if (typeof json === 'string') {
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw new Error(
        `Error in ${fn}: ${jsonName} is not valid JSON (${(e as Error).message}): a corrupt file; ${fix}`,
      );
    }
  } else {
    j = json;
  }
  if (j == null || typeof j !== 'object' || j.format !== TRAINER_STATE_FORMAT) {
    throw new Error(
      `Error in ${fn}: ${jsonName} is not a trainer state (format '${(j as { format?: unknown } | null)?.format}', expected '${TRAINER_STATE_FORMAT}')`,
    );
  }
  if (j.version !== TRAINER_STATE_VERSION) {
    throw new Error(
      `Error in ${fn}: ${jsonName} has trainer-state version ${j.version}; this library reads version ${TRAINER_STATE_VERSION}: resume it with the release that wrote it, or start again from the model alone (PixelCNN.load)`,
    );
  }
  const lists = [j.optimizer?.extra, j.optimizer?.slots, j.ema ? j.ema.shadows : []];
  if (lists.some((l) => !Array.isArray(l)) || typeof j.bin?.bytes !== 'number') {
    throw new Error(`Error in ${fn}: ${jsonName} lacks its tensor lists (corrupt file; ${fix})`);
  }
  const needed = 4 * lists.flat().reduce((a, t) => a + size(t.shape), 0);
  if (bin.byteLength !== needed || j.bin.bytes !== needed) {
    throw new Error(
      `Error in ${fn}: ${binName} has ${bin.byteLength} bytes but ${jsonName} lists ${needed} ` +
        `(${bin.byteLength < needed ? 'truncated' : 'corrupt or mismatched'} ${binName}; ${fix})`,
    );
  }
  if (crc32(bin) !== j.bin.crc32) {
    throw new Error(
      `Error in ${fn}: ${binName} fails its CRC-32 check (corrupt, or from another save; ${fix})`,
    );
  }
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  let off = 0;
  const read = (ts: Array<{ name: string; shape: number[] }>): StateTensor[] =>
    ts.map((t) => {
      const data = new Float32Array(size(t.shape));
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(off + 4 * i, true);
      off += 4 * data.length;
      return { name: t.name, shape: [...t.shape], data };
    });
  const extra = read(j.optimizer.extra);
  const slots = read(j.optimizer.slots);
  const shadows = j.ema ? read(j.ema.shadows) : [];
  return {
    snapshot: {
      step: j.step,
      skippedSteps: j.skippedSteps,
      baseLearningRate: j.baseLearningRate,
      seed: j.seed,
      options: j.options,
      optimizer: {
        className: j.optimizer.className,
        config: j.optimizer.config,
        iterations: j.optimizer.iterations,
        slots,
        extra,
      },
      ema: j.ema && {
        decay: j.ema.decay,
        warmup: j.ema.warmup,
        numUpdates: j.ema.numUpdates,
        shadows,
      },
    },
    extra: j.extra ?? {},
  };
}
