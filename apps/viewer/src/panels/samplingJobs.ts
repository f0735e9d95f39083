// Sampling jobs for every panel: one at a time in the worker, painted pixel by pixel as the
// worker draws them, with the shared progress bar, time estimate and stop button.

import type { JobKind, ViewerContext } from '../app/state';
import { type GridGeometry, paintImage, paintPixel, pixelRgb } from '../lib/imageGrid';
import { drawRgba } from '../ui/canvas';
import { byId } from '../ui/dom';

/** A job to run: where it paints and what the worker samples. */
export interface JobSpec {
  kind: JobKind;
  n: number;
  canvas: HTMLCanvasElement;
  geom: GridGeometry;
  /** The grid's pixels (already showing the kept rows of a completion). */
  rgba: Uint8ClampedArray;
  /** Grid cell of image 0 (the completion grid shows the kept rows in cell 0). */
  firstCell: number;
  /** First raster index sampled. */
  from: number;
  label?: number;
  seed: number;
  temperature: number;
  /** Completion: `[H * W * C]` values and the rows kept from them. */
  prefix?: Float32Array;
  keepRows?: number;
}

export interface SamplingJobs {
  /** Start a job unless one is running (the store's `job` says which). */
  start(spec: JobSpec): void;
}

export function createSamplingJobs(ctx: ViewerContext): SamplingJobs {
  const { store, worker } = ctx;
  const progress = byId<HTMLProgressElement>('progress');
  const progressText = byId('progress-text');
  const stopBtn = byId<HTMLButtonElement>('stop');
  let nextId = 1;
  let current: (JobSpec & { id: number; count: number; t0: number }) | undefined;
  let pendingPaint = false;

  const finish = (id: number, state: 'done' | 'stopped' | 'error', text: string) => {
    if (!current || current.id !== id) return;
    drawRgba(current.canvas, current.geom, current.rgba);
    current = undefined;
    document.body.dataset.job = state;
    progressText.textContent = text;
    stopBtn.disabled = true;
    store.set({ job: undefined });
  };

  worker.on('pixel', (m) => {
    const job = current;
    if (!job || m.id !== job.id) return;
    const model = store.get().model;
    if (!model) return;
    const C = model.shape[2];
    const v = new Array<number>(C);
    for (let b = 0; b < job.n; b++) {
      for (let c = 0; c < C; c++) v[c] = m.values[b * C + c];
      paintPixel(job.rgba, job.geom, job.firstCell + b, m.row, m.col, pixelRgb(v, model.high));
    }
    const done = m.index - job.from + 1;
    progress.value = done;
    const s = (performance.now() - job.t0) / 1000;
    const eta = (s / done) * (job.count - done);
    progressText.textContent = `pixel ${done}/${job.count} (row ${m.row + 1}/${model.shape[0]}) · ${s.toFixed(1)} s · about ${eta.toFixed(0)} s left`;
    // Repaint at most once per animation frame.
    if (!pendingPaint) {
      pendingPaint = true;
      requestAnimationFrame(() => {
        pendingPaint = false;
        if (current) drawRgba(current.canvas, current.geom, current.rgba);
      });
    }
  });

  worker.on('done', (m) => {
    const job = current;
    const model = store.get().model;
    if (!job || m.id !== job.id || !model) return;
    const [H, W, C] = model.shape;
    const px = H * W * C;
    for (let b = 0; b < job.n; b++) {
      const image = m.images.subarray(b * px, (b + 1) * px);
      paintImage(job.rgba, job.geom, job.firstCell + b, image, C, model.high);
    }
    store.set({
      lastJob: {
        kind: job.kind,
        n: job.n,
        images: Array.from(m.images),
        prefix: job.prefix ? Array.from(job.prefix) : undefined,
        keepRows: job.keepRows,
        ms: m.ms,
      },
    });
    const rate = job.count > 0 ? (m.ms / job.count).toFixed(0) : '0';
    finish(
      m.id,
      'done',
      `done: ${job.n} drawing${job.n === 1 ? '' : 's'} in ${(m.ms / 1000).toFixed(1)} s (${rate} ms per pixel)`,
    );
  });

  worker.on('stopped', (m) => finish(m.id, 'stopped', 'stopped'));
  worker.on('sample-error', (m) => {
    finish(m.id, 'error', `error: ${m.message}`);
    ctx.page.showMessage('error', `Sampling failed: ${m.message}`);
  });

  stopBtn.addEventListener('click', () => {
    if (!current) return;
    worker.send({ type: 'stop', id: current.id });
    progressText.textContent = 'stopping…';
  });

  return {
    start(spec) {
      const model = store.get().model;
      if (!model || current) return;
      const [H, W] = model.shape;
      const id = nextId++;
      current = { ...spec, id, count: H * W - spec.from, t0: performance.now() };
      drawRgba(spec.canvas, spec.geom, spec.rgba);
      document.body.dataset.job = 'running';
      stopBtn.disabled = false;
      progress.max = Math.max(1, current.count);
      progress.value = 0;
      progressText.textContent =
        current.count === 0
          ? 'nothing to sample (every row is kept)'
          : `${spec.kind === 'sample' ? 'sampling' : 'completing'}…`;
      store.set({ job: { id, kind: spec.kind } });
      worker.send({
        type: 'sample',
        id,
        n: spec.n,
        label: spec.label,
        seed: spec.seed,
        temperature: spec.temperature,
        prefix: spec.prefix ? spec.prefix.slice() : undefined,
        keepRows: spec.keepRows,
      });
    },
  };
}
