import { CATEGORIES_ORDER, TFDS_ORDER } from './generated/classNames';

/**
 * Which label numbering to use: `'tfds'` is TensorFlow Datasets' `quickdraw_bitmap` (a
 * case-insensitive sort of the file names; label 26 = bee), `'categories'` is the line order of
 * Google's categories.txt. The two differ at 37 indices.
 */
export type LabelOrder = 'tfds' | 'categories';

/** Number of QuickDraw classes (345). */
export const NUM_CLASSES: number = TFDS_ORDER.length;

export { CATEGORIES_ORDER, TFDS_ORDER };

/** All class names in the given order (default TFDS). */
export function classNames(order: LabelOrder = 'tfds'): readonly string[] {
  return namesIn('classNames', order);
}

function namesIn(fn: string, order: LabelOrder): readonly string[] {
  if (order === 'tfds') return TFDS_ORDER;
  if (order === 'categories') return CATEGORIES_ORDER;
  throw new Error(`Error in ${fn}: order must be 'tfds' or 'categories', got '${String(order)}'`);
}

/** Lookup key: lower case with spaces, underscores and hyphens removed ("Alarm_Clock" = "alarm clock"). */
function key(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

let byKey: Map<string, string> | undefined;
let labelMaps: Record<LabelOrder, Map<string, number>> | undefined;

function lookup(): Map<string, string> {
  byKey ??= new Map(TFDS_ORDER.map((n) => [key(n), n]));
  return byKey;
}

function labels(order: LabelOrder): Map<string, number> {
  labelMaps ??= {
    tfds: new Map(TFDS_ORDER.map((n, i) => [n, i])),
    categories: new Map(CATEGORIES_ORDER.map((n, i) => [n, i])),
  };
  return labelMaps[order];
}

/** True when `name` is a QuickDraw class (case, spaces, underscores and hyphens ignored). */
export function isClassName(name: string): boolean {
  return typeof name === 'string' && lookup().has(key(name));
}

/**
 * Levenshtein distance (insertions, deletions, substitutions, each cost 1) between two strings.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/**
 * The class names closest to `name` by edit distance (on lower-cased names without spaces,
 * underscores or hyphens), best first; ties keep TFDS order.
 */
export function closestClassNames(name: string, count = 3): string[] {
  const k = key(String(name));
  return TFDS_ORDER.map((n, i) => ({ n, i, d: editDistance(k, key(n)) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, Math.max(0, count))
    .map((x) => x.n);
}

function unknownName(fn: string, name: string): Error {
  const [best] = closestClassNames(name, 1);
  return new Error(
    `Error in ${fn}: unknown QuickDraw class '${name}'; did you mean '${best}'? (classNames() lists all ${NUM_CLASSES})`,
  );
}

/**
 * The canonical class name (as in Google's file names, e.g. "The Eiffel Tower") for a name given
 * in any case/spacing ("the_eiffel_tower", "Alarm Clock"), or for a label number in `order`
 * (default TFDS). Throws for unknown names, suggesting the closest one.
 */
export function resolveClassName(nameOrLabel: string | number, order: LabelOrder = 'tfds'): string {
  return resolveIn('resolveClassName', nameOrLabel, order);
}

/** {@link resolveClassName} with errors attributed to `fn` (for this package's functions). */
export function resolveIn(fn: string, nameOrLabel: string | number, order: LabelOrder): string {
  if (typeof nameOrLabel === 'number') return labelToName(fn, nameOrLabel, order);
  if (typeof nameOrLabel !== 'string') {
    throw new Error(
      `Error in ${fn}: expected a class name or label, got ${typeof nameOrLabel} ${String(nameOrLabel)}`,
    );
  }
  const hit = lookup().get(key(nameOrLabel));
  if (hit === undefined) throw unknownName(fn, nameOrLabel);
  return hit;
}

function labelToName(fn: string, label: number, order: LabelOrder): string {
  const names = namesIn(fn, order);
  if (!Number.isInteger(label) || label < 0 || label >= names.length) {
    throw new Error(
      `Error in ${fn}: label ${label} is not an integer in 0..${names.length - 1} (${order} order)`,
    );
  }
  return names[label];
}

/** The label of a class in `order` (default TFDS): `classLabel('bee') === 26`. */
export function classLabel(name: string, order: LabelOrder = 'tfds'): number {
  const canonical = resolveIn('classLabel', name, order);
  return labels(order).get(canonical)!;
}

/** The class name of a label in `order` (default TFDS): `className(26) === 'bee'`. */
export function className(label: number, order: LabelOrder = 'tfds'): string {
  return labelToName('className', label, order);
}

/** Convert a label between the two orders, e.g. `convertLabel(26, 'tfds', 'categories')`. */
export function convertLabel(label: number, from: LabelOrder, to: LabelOrder): number {
  const name = labelToName('convertLabel', label, from);
  namesIn('convertLabel', to);
  return labels(to).get(name)!;
}
