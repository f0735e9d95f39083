// The Train panel's form is a front end to `pixelcnn train`: its fields are the CLI's options,
// their defaults the demo's (`--preset demo`), and the settings are built by the CLI's own
// parser and builders (@pixelcnn/trainer/settings), so a run trained here is one the CLI
// continues (`pixelcnn train --resume`) and its errors read as the CLI's.
import { isClassName, resolveClassName } from '@pixelcnn/quickdraw-data';
import {
  applyPreset,
  DEMO_CLASSES,
  DEMO_STEPS,
  modelConfigFrom,
  parseArgs,
  type RunSettings,
  resolveClasses,
  trainOptions,
  trainSettingsFrom,
} from '@pixelcnn/trainer/settings';

/** A field of the form: a `pixelcnn train` option and how the page labels it. */
export interface FormField {
  option: string;
  label: string;
  group: 'data' | 'model' | 'training';
  /** `<input step>` (numbers). */
  step?: string;
}

/** The options the form shows, in order (the others keep the demo's values). */
export const FORM_FIELDS: readonly FormField[] = [
  { option: 'per-class', label: 'drawings per class', group: 'data' },
  { option: 'held-out', label: 'held out', group: 'data', step: '0.05' },
  { option: 'num-resnet', label: 'numResnet', group: 'model' },
  { option: 'num-hierarchies', label: 'numHierarchies', group: 'model' },
  { option: 'num-filters', label: 'numFilters', group: 'model' },
  { option: 'num-logistic-mix', label: 'numLogisticMix', group: 'model' },
  { option: 'dropout', label: 'dropoutP', group: 'model', step: '0.05' },
  { option: 'batch-size', label: 'batch size', group: 'training' },
  { option: 'steps', label: 'steps', group: 'training' },
  { option: 'lr', label: 'learning rate', group: 'training', step: 'any' },
  { option: 'ema', label: 'EMA decay', group: 'training', step: 'any' },
  { option: 'seed', label: 'seed', group: 'training' },
  { option: 'eval-images', label: 'held-out images scored', group: 'training' },
];

/**
 * Held-out images the page scores per evaluation (the CLI's default is 500, once an epoch; the
 * page evaluates every few steps, so it scores fewer each time).
 */
export const PAGE_EVAL_IMAGES = 200;

/** What the page does besides training (not run settings), with their defaults. */
export const CADENCE_DEFAULTS = {
  evalEvery: 50,
  gridEvery: 50,
  gridPerClass: 4,
  autosaveSeconds: 30,
} as const;

const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** The form's starting values: the CLI's defaults under `--preset demo`, the demo's steps. */
export function formDefaults(): { classes: string; fields: Record<string, string> } {
  const parsed = parseArgs([], trainOptions, 'pixelcnn train');
  const values = applyPreset(parsed.values, parsed.explicit, 'demo');
  const fields: Record<string, string> = {};
  for (const f of FORM_FIELDS) {
    const key = f.option.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    fields[f.option] = show(values[key] ?? '');
  }
  fields.steps = String(DEMO_STEPS);
  fields['eval-images'] = String(PAGE_EVAL_IMAGES);
  return { classes: DEMO_CLASSES.join(','), fields };
}

/**
 * The form's values for a run's settings (a run continued from an autosave or a served
 * checkpoint): each field's value where its option lands in the settings (the CLI's schema).
 */
export function formFromSettings(s: RunSettings): {
  classes: string;
  fields: Record<string, string>;
} {
  const fields: Record<string, string> = {};
  for (const f of FORM_FIELDS) {
    const spec = trainOptions.find((o) => o.name === f.option);
    const lands = spec?.lands;
    const at = Array.isArray(lands) ? lands[0] : lands;
    if (!at) continue;
    const [section, key] = (at as string).split('.') as [keyof RunSettings, string];
    const v = (s[section] as unknown as Record<string, unknown>)[key];
    fields[f.option] = v === null || v === undefined ? '' : show(v);
  }
  return { classes: s.data.classes.join(','), fields };
}

/** The class list typed in the form: names separated by commas, trimmed, empty ones dropped. */
export function classList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The `pixelcnn train` arguments of the form (every field, as typed). */
export function formArgv(classes: readonly string[], fields: Record<string, string>): string[] {
  const argv = ['--preset', 'demo', '--classes', classes.join(',')];
  for (const f of FORM_FIELDS) {
    const v = fields[f.option]?.trim();
    if (v) argv.push(`--${f.option}`, v);
  }
  return argv;
}

/**
 * The run settings of the form, built as `pixelcnn train` builds them from the same arguments
 * (its checks and messages: a bad value throws the CLI's UsageError). QuickDraw class names are
 * resolved (close misspellings get suggestions); `customClasses` (dropped files that are not
 * QuickDraw classes) are kept as they are.
 */
export function settingsFromForm(
  classes: readonly string[],
  fields: Record<string, string>,
  o: { customClasses?: boolean } = {},
): RunSettings {
  const parsed = parseArgs(formArgv(classes, fields), trainOptions, 'pixelcnn train');
  const values = applyPreset(parsed.values, parsed.explicit, 'demo');
  // Dropped files named otherwise than a QuickDraw class have no TFDS label (the CLI shows none).
  const resolved =
    o.customClasses && !classes.every(isClassName)
      ? { classes: [...classes], tfdsLabels: [] }
      : resolveClasses(classes);
  return {
    data: {
      classes: resolved.classes,
      tfdsLabels: resolved.tfdsLabels,
      perClass: values.perClass as number,
      heldOut: values.heldOut as number,
    },
    model: modelConfigFrom(values, resolved.classes.length, [28, 28, 1]),
    train: trainSettingsFrom(values),
  };
}

/**
 * The command that trains the same run with the CLI (the fields that differ from the demo's,
 * with the classes), e.g. to continue it on a machine with more cores.
 */
export function commandLine(classes: readonly string[], fields: Record<string, string>): string {
  const defaults = formDefaults().fields;
  const parts = ['pixelcnn train --preset demo', `--classes ${classes.join(',')}`];
  for (const f of FORM_FIELDS) {
    const v = fields[f.option]?.trim();
    if (v && (v !== defaults[f.option] || f.option === 'steps' || f.option === 'eval-images')) {
      parts.push(`--${f.option} ${v}`);
    }
  }
  return `${parts.join(' ')} --out runs/browser`;
}

/**
 * The class a dropped file holds, from its name: `cat.npy` and Google's
 * `full_numpy_bitmap_cat.npy` are QuickDraw's 'cat' (canonical spelling); any other name is used
 * as it is (without `.npy`).
 */
export function classOfFile(fileName: string): string {
  const stem = fileName
    .replace(/^.*[\\/]/, '')
    .replace(/\.npy$/i, '')
    .replace(/^full_numpy_bitmap_/, '');
  return isClassName(stem) ? resolveClassName(stem) : stem;
}
