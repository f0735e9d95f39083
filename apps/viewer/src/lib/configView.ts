import type { PixelCNNConfig } from '@pixelcnn/pixelcnn-dist';
import type { ModelFacts } from './loadModel';

/** One line of the model table: what, its value, and a note. */
export type ConfigRow = [label: string, value: string, note: string];

const show = (v: unknown): string =>
  v === undefined || v === null
    ? '—'
    : Array.isArray(v)
      ? `[${v.join(', ')}]`
      : typeof v === 'boolean'
        ? v
          ? 'yes'
          : 'no'
        : String(v);

/** What a model is conditioned on: "unconditional", "class-conditional (4 classes)", ... */
export function conditioningOf(config: PixelCNNConfig): string {
  if (config.conditionalShape == null) return 'unconditional';
  if (config.conditionalShape.length === 0 && (config.numClasses ?? 0) > 0) {
    return `class-conditional (${config.numClasses} classes)`;
  }
  return `conditional on [${config.conditionalShape.join(', ')}]`;
}

/** Short description: "28×28×1, 256 levels, class-conditional (4 classes)". */
export function describeModel(config: PixelCNNConfig): string {
  const [H, W, C] = config.imageShape;
  const levels = (config.high ?? 255) - (config.low ?? 0) + 1;
  return `${H}×${W}×${C}, ${levels} levels, ${conditioningOf(config)}`;
}

/**
 * The rows of the model table: the PixelCNN parameters (TFP's names), with defaults filled in
 * where the saved config left them out, then what the run says (step, weights, held-out score).
 */
export function configRows(facts: ModelFacts, numParameters?: number): ConfigRow[] {
  const c = facts.config;
  const d = <T>(v: T | undefined, def: T) => (v === undefined ? def : v);
  const rows: ConfigRow[] = [
    ['image shape', show(c.imageShape), 'H, W, C'],
    ['pixel values', `${d(c.low, 0)}..${d(c.high, 255)}`, 'low..high, inclusive'],
    ['conditioning', conditioningOf(c), facts.classes.join(', ')],
    ['numResnet', show(d(c.numResnet, 5)), 'gated resnets per hierarchy'],
    ['numHierarchies', show(d(c.numHierarchies, 3)), 'resolutions'],
    ['numFilters', show(d(c.numFilters, 160)), 'channels of each stream'],
    ['numLogisticMix', show(d(c.numLogisticMix, 10)), 'mixture components per pixel'],
    [
      'receptiveFieldDims',
      show(d(c.receptiveFieldDims, [3, 3])),
      'rows, cols of the causal window',
    ],
    ['resnetActivation', show(d(c.resnetActivation, 'concat_elu')), ''],
    ['dropoutP', show(d(c.dropoutP, 0.5)), 'training only'],
    ['useWeightNorm', show(d(c.useWeightNorm, true)), ''],
    ['convention', show(d(c.convention, 'tfp')), 'head parametrisation'],
  ];
  if (numParameters !== undefined) {
    rows.push(['parameters', numParameters.toLocaleString('en-US'), '']);
  }
  rows.push([
    'loaded from',
    facts.label,
    facts.weights === 'ema'
      ? 'EMA (Polyak) weights'
      : facts.weights === 'weights'
        ? 'raw weights (no EMA saved)'
        : 'PixelCNN.save',
  ]);
  if (facts.step !== undefined) rows.push(['training steps', String(facts.step), '']);
  return rows;
}

/** "1.2345 ± 0.0123 bits/dim (95% CI, 400 held-out images, step 150)" or a note that none exists. */
export function formatHeldOut(
  e: { bitsPerDim: number; ci95?: number; images?: number; step?: number } | undefined,
): string {
  if (!e || !Number.isFinite(e.bitsPerDim)) return 'no held-out evaluation recorded';
  const ci = e.ci95 !== undefined && e.ci95 > 0 ? ` ± ${e.ci95.toFixed(4)}` : '';
  const extra = [
    e.ci95 !== undefined && e.ci95 > 0 ? '95% CI' : '',
    e.images !== undefined ? `${e.images} held-out images` : 'held-out',
    e.step !== undefined ? `step ${e.step}` : '',
  ].filter(Boolean);
  return `${e.bitsPerDim.toFixed(4)}${ci} bits/dim (${extra.join(', ')})`;
}
