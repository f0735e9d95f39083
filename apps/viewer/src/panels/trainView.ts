// What the Train panel shows of a run: the progress line, the facts line, the loss curve, and
// the sample grid (per class, real drawings above generated ones).
import type { RunSettings } from '@pixelcnn/trainer/settings';
import type { TrainingView } from '../app/state';
import { blankGrid, gridGeometry, paintImage } from '../lib/imageGrid';
import { lossCurveSvg } from '../lib/lossCurve';
import { summarizeMetrics } from '../lib/metrics';
import { drawRgba } from '../ui/canvas';
import { byId, h, setChildren } from '../ui/dom';
import type { SampleGrid } from '../worker/trainingSession';

const GIB = 2 ** 30;
const fmtTime = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
};
const fmtBytes = (b: number) =>
  b >= GIB ? `${(b / GIB).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`;

/** The grid: one canvas per class, its held-out drawings in the top row, samples below. */
export function drawSampleGrid(g: SampleGrid, settings: RunSettings | undefined): void {
  const high = settings?.model.high ?? 255;
  const [H, W, C] = settings?.model.imageShape ?? [28, 28, 1];
  const px = H * W * C;
  const k = g.perClass;
  const blocks = g.classes.map((name, c) => {
    const geom = gridGeometry(2 * k, {
      cols: k,
      imageHeight: H,
      imageWidth: W,
      scale: 2,
      gap: 3,
    });
    const rgba = blankGrid(geom);
    for (let j = 0; j < k; j++) {
      if (j < g.realCounts[c]) {
        paintImage(rgba, geom, j, g.real.subarray((c * k + j) * px, (c * k + j + 1) * px), C, high);
      }
      paintImage(
        rgba,
        geom,
        k + j,
        g.generated.subarray((c * k + j) * px, (c * k + j + 1) * px),
        C,
        high,
      );
    }
    const canvas = h('canvas', { class: 'train-grid-canvas', 'data-class': name });
    drawRgba(canvas, geom, rgba);
    return h('div', { class: 'grid-class' }, h('div', {}, name), canvas);
  });
  setChildren(byId('train-grid'), ...blocks);
  byId('train-grid-caption').textContent =
    `step ${g.step}: real drawings (held out) above generated ones (EMA weights, ${(g.ms / 1000).toFixed(1)} s to sample)`;
}

/** The progress line, the facts line and the loss curve of a run. */
export function renderTraining(t: TrainingView, backend: string | undefined): void {
  const total = t.live?.totalSteps ?? t.settings?.train.steps ?? undefined;
  const step = t.progress?.step ?? 0;
  const progress = byId<HTMLProgressElement>('train-progress');
  progress.max = Math.max(1, total ?? 1);
  progress.value = step;
  const last = [...t.rows].reverse().find((r) => r.kind === 'train');
  const held = [...t.rows].reverse().find((r) => r.kind === 'eval');
  const text =
    t.state === 'preparing'
      ? (t.message ?? 'preparing…')
      : t.state === 'error'
        ? 'not started'
        : [
            `${t.state} · step ${step}${total ? `/${total}` : ''}`,
            t.live ? `epoch ${t.live.epoch}/${t.live.totalEpochs}` : '',
            last ? `loss ${last.bitsPerDim.toFixed(3)} bits/dim` : '',
            held ? `held-out ${held.bitsPerDim.toFixed(3)} ± ${(held.ci95 ?? 0).toFixed(3)}` : '',
            t.live ? `${t.live.imagesPerSec.toFixed(1)} img/s` : '',
            t.live && t.state === 'running' ? `ETA ${fmtTime(t.live.etaSeconds)}` : '',
          ]
            .filter(Boolean)
            .join(' · ');
  byId('train-progress-text').textContent = text;
  const facts = [
    backend ? `backend ${backend}` : '',
    t.numParameters ? `${t.numParameters.toLocaleString('en-US')} parameters` : '',
    t.microBatch && t.settings && t.microBatch < t.settings.train.batchSize
      ? `micro-batches of ${t.microBatch} (memory)`
      : '',
    t.estimateBytes
      ? `a step needs about ${fmtBytes(t.estimateBytes)}${t.limitBytes ? ` of ${fmtBytes(t.limitBytes)}` : ''}`
      : '',
    t.trainSize !== undefined ? `${t.trainSize} training / ${t.heldOutSize} held-out drawings` : '',
    t.resumedAt !== undefined ? `continued from step ${t.resumedAt}` : '',
    t.savedStep !== undefined ? `autosaved at step ${t.savedStep}` : '',
  ].filter(Boolean);
  byId('train-status').textContent = facts.join(' · ');
  byId('train-curve').innerHTML = lossCurveSvg(summarizeMetrics(t.rows));
}
