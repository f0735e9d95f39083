import path from 'node:path';
import {
  backendMemoryLimit,
  fitMicroBatch,
  fusedKernelsRegistered,
  microBatchRefusal,
  type PixelCNN,
} from '@pixelcnn/pixelcnn-dist';
import { camelCase, type OptionValue, UsageError } from './args';
import { landsAt, type SettingPath, trainOptions } from './options';
import { type DataSettings, landed, type RunSettings, resolveClasses } from './runSettings';

export {
  applyPreset,
  type DataSettings,
  modelConfigFrom,
  type RunSettings,
  resolveClasses,
  scheduleOf,
  type TrainSettings,
  trainerOptions,
  trainSettingsFrom,
} from './runSettings';

/** The value at a settings path, e.g. 'model.numFilters'. */
function getAt(s: RunSettings, path: SettingPath): unknown {
  const [section, key] = path.split('.') as [keyof RunSettings, string];
  return (s[section] as unknown as Record<string, unknown>)[key];
}

/**
 * The data settings the options ask for: QuickDraw classes (names or TFDS labels, made canonical),
 * or with `--images` a .npy array (and `--labels`, paths made absolute), whose class names
 * `--classes` may give.
 */
export function dataSettingsFrom(
  v: Record<string, OptionValue>,
  explicit: ReadonlySet<string>,
  cwd: string,
): DataSettings {
  // images and labels are null when not given.
  const { classes, perClass, heldOut, images, labels } = landed(
    'data',
    v,
  ) as unknown as DataSettings;
  if (!images) {
    if (labels) throw new UsageError('option --labels needs --images (the images they label)');
    return { ...resolveClasses(classes), perClass, heldOut };
  }
  for (const quickdrawOnly of ['perClass', 'data', 'cacheDir'] as const) {
    if (explicit.has(quickdrawOnly)) {
      const name = quickdrawOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      throw new UsageError(
        `option --${name} is for QuickDraw data; with --images every image of the array is used (slice it in numpy to use fewer)`,
      );
    }
  }
  if (explicit.has('classes') && !labels) {
    throw new UsageError('option --classes names the classes of --labels; give --labels too');
  }
  return {
    classes: explicit.has('classes') ? [...classes] : [],
    tfdsLabels: [],
    perClass: 0,
    heldOut,
    images: path.resolve(cwd, images),
    ...(labels ? { labels: path.resolve(cwd, labels) } : {}),
  };
}

/** Options that define what a checkpoint is: on --resume they must match it (or be left out). */
const FROZEN = trainOptions
  .filter((spec) => spec.resume === 'frozen')
  .map((spec) => {
    const path = landsAt(spec)[0];
    const read = spec.read ?? ((x: unknown) => x);
    return {
      option: spec.name,
      key: camelCase(spec.name),
      get: (s: RunSettings) => read(getAt(s, path)),
    };
  });

/** Options a resumed run may change (the rest come from the checkpoint). */
const MUTABLE = trainOptions
  .filter((spec) => spec.resume === 'mutable')
  .map((spec) => ({ key: camelCase(spec.name), field: landsAt(spec)[0].split('.')[1] }));

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/**
 * Settings for a resumed run: the checkpoint's, with the options a resume may change taken from
 * the command line. An explicit option that contradicts the checkpoint (another model, other
 * data, another optimizer) is an error naming every difference.
 */
export function resumeSettings(
  saved: RunSettings,
  requested: RunSettings,
  explicit: ReadonlySet<string>,
  values: Record<string, OptionValue>,
  checkpointDir: string,
): RunSettings {
  const diffs: string[] = [];
  for (const f of FROZEN) {
    if (!explicit.has(f.key)) continue;
    const want = f.get(requested);
    const have = f.get(saved);
    if (!same(want, have)) diffs.push(`--${f.option} ${show(want)} (checkpoint: ${show(have)})`);
  }
  if (explicit.has('preset')) {
    // A preset changes many options at once; only accept it when it agrees with the checkpoint.
    for (const f of FROZEN) {
      if (explicit.has(f.key)) continue;
      const want = f.get(requested);
      const have = f.get(saved);
      if (!same(want, have))
        diffs.push(
          `--preset ${values.preset} sets --${f.option} ${show(want)} (checkpoint: ${show(have)})`,
        );
    }
  }
  if (diffs.length) {
    throw new UsageError(
      `the checkpoint ${checkpointDir} was made with another configuration:\n  ${diffs.join('\n  ')}\n` +
        'drop these options to continue it, or start a new run in another --out directory',
    );
  }
  const train = { ...saved.train };
  const fields = train as unknown as Record<string, OptionValue>;
  for (const m of MUTABLE) if (explicit.has(m.key)) fields[m.field] = values[m.key];
  if (explicit.has('epochs') && !explicit.has('steps')) train.steps = null;
  return { data: saved.data, model: saved.model, train };
}
/**
 * On wasm, refuse before any work a training step that cannot fit the 4 GiB heap (running out of
 * it aborts the process), by pixelcnn-dist's `fitMicroBatch` (the Trainer's own check) and in
 * its words (`microBatchRefusal`), with the option to change: an explicit --micro-batch too
 * large (naming the one that fits), or a network too big for even one image. --micro-batch 0 is
 * the Trainer's 'auto', the largest that fits. Other backends have no known limit
 * (`backendMemoryLimit`).
 */
export function checkMicroBatchFits(
  dist: Pick<PixelCNN, 'plan' | 'numParameters'>,
  requested: number,
  backend: string,
): void {
  const { plan, numParameters } = dist;
  // as the Trainer will: recomputing the gated resnets where that is what fits, fused kernels
  // where the backend has them
  const limit = backendMemoryLimit(backend);
  const fit = fitMicroBatch(
    plan,
    numParameters,
    Math.max(requested, 1),
    requested || 'auto',
    limit,
    { recomputeBlocks: 'auto', fusedKernels: fusedKernelsRegistered() },
  );
  if (fit.fits || limit === undefined) return;
  const why = microBatchRefusal(fit, { bytes: limit, wasmHeap: true });
  throw new UsageError(
    fit.largest === 0
      ? `${why}: use fewer --num-filters, --num-resnet or --num-hierarchies, or --backend webgpu`
      : `option --micro-batch ${requested}: ${why}: use --micro-batch ${fit.largest} (or 0 = auto)`,
  );
}
