// The "Complete a drawing" panel: a sketch canvas (drawn on, or a real drawing picked in the
// samples panel), the rows to keep, and completions sampled below them.
import type { ViewerContext } from '../app/state';
import { firstSampledIndex, keepTopRows } from '../lib/completion';
import { blankGrid, gridGeometry, paintImage } from '../lib/imageGrid';
import { imageToSketch, quantizeBitmap, sketchToImage } from '../lib/sketch';
import { countInput } from '../ui/canvas';
import { byId } from '../ui/dom';
import { GRID_SCALE } from './samplesPanel';
import type { SamplingJobs } from './samplingJobs';

const SKETCH_SCALE = 10;

export interface CompletionPanel {
  /** Put a real QuickDraw bitmap (`[28 * 28]` uint8) on the sketch canvas. */
  showBitmap(bitmap: Uint8Array): void;
}

export function mountCompletionPanel(
  ctx: ViewerContext,
  jobs: SamplingJobs,
  o: { sampleSettings: () => { label?: number; seed: number; temperature: number } },
): CompletionPanel {
  const { store } = ctx;
  const sketch = byId<HTMLCanvasElement>('sketch');
  const overlay = byId<HTMLCanvasElement>('sketch-overlay');
  const keepInput = byId<HTMLInputElement>('keep-rows');
  const completeBtn = byId<HTMLButtonElement>('complete');
  const shape = () => store.get().model?.shape ?? [28, 28, 1];

  function clearSketch(): void {
    const c = sketch.getContext('2d')!;
    c.fillStyle = '#fff';
    c.fillRect(0, 0, sketch.width, sketch.height);
  }

  function drawOverlay(): void {
    const [H] = shape();
    const k = Number(keepInput.value);
    byId('keep-rows-value').textContent = String(k);
    const c = overlay.getContext('2d')!;
    c.clearRect(0, 0, overlay.width, overlay.height);
    const y = k * SKETCH_SCALE;
    c.fillStyle = 'rgba(31, 90, 200, 0.10)';
    c.fillRect(0, y, overlay.width, H * SKETCH_SCALE - y);
    c.strokeStyle = '#d33';
    c.lineWidth = 2;
    c.beginPath();
    c.moveTo(0, y);
    c.lineTo(overlay.width, y);
    c.stroke();
  }

  function resize(): void {
    const [H, W] = shape();
    for (const c of [sketch, overlay]) {
      c.width = W * SKETCH_SCALE;
      c.height = H * SKETCH_SCALE;
    }
    keepInput.max = String(H);
    if (Number(keepInput.value) > H) keepInput.value = String(Math.floor(H / 2));
    clearSketch();
    drawOverlay();
  }

  // drawing with the mouse or a finger
  let last: [number, number] | null = null;
  const pos = (e: PointerEvent): [number, number] => {
    const r = sketch.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * sketch.width) / r.width,
      ((e.clientY - r.top) * sketch.height) / r.height,
    ];
  };
  const line = (a: [number, number], b: [number, number]) => {
    const c = sketch.getContext('2d')!;
    c.strokeStyle = '#000';
    c.lineWidth = 1.6 * SKETCH_SCALE;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a[0], a[1]);
    c.lineTo(b[0], b[1]);
    c.stroke();
  };
  overlay.addEventListener('pointerdown', (e) => {
    overlay.setPointerCapture(e.pointerId);
    last = pos(e);
    line(last, last);
  });
  overlay.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = pos(e);
    line(last, p);
    last = p;
  });
  const end = () => {
    last = null;
  };
  overlay.addEventListener('pointerup', end);
  overlay.addEventListener('pointercancel', end);
  keepInput.addEventListener('input', drawOverlay);
  byId('clear-sketch').addEventListener('click', clearSketch);

  completeBtn.addEventListener('click', () => {
    const model = store.get().model;
    if (!model) return;
    const [H, W, C] = model.shape;
    const { high, low } = model;
    const n = countInput(byId<HTMLInputElement>('complete-count'), 16);
    const keepRows = Number(keepInput.value);
    const ink = sketchToImage(
      sketch.getContext('2d')!.getImageData(0, 0, sketch.width, sketch.height).data,
      sketch.width,
      sketch.height,
      H,
      W,
      high - low,
    );
    const image = Float32Array.from({ length: H * W * C }, (_, k) => low + ink[Math.floor(k / C)]);
    const prefix = keepTopRows(image, model.shape, keepRows);
    const geom = gridGeometry(n + 1, {
      cols: Math.min(n + 1, 5),
      imageHeight: H,
      imageWidth: W,
      scale: GRID_SCALE,
    });
    const rgba = blankGrid(geom);
    const from = firstSampledIndex(keepRows, W);
    for (let i = 0; i <= n; i++) paintImage(rgba, geom, i, prefix, C, high, from);
    jobs.start({
      kind: 'complete',
      n,
      canvas: byId<HTMLCanvasElement>('completion-grid'),
      geom,
      rgba,
      firstCell: 1,
      from,
      prefix,
      keepRows,
      ...o.sampleSettings(),
    });
  });

  store.subscribe((s, prev) => {
    completeBtn.disabled = s.job !== undefined || !s.model;
    if (s.model !== prev.model && s.model) {
      byId('complete-section').hidden = false;
      resize();
    }
  });

  return {
    showBitmap(bitmap) {
      const model = store.get().model;
      if (!model) return;
      const [H, W] = model.shape;
      const values = quantizeBitmap(bitmap, model.high);
      const rgba = imageToSketch(values, H, W, SKETCH_SCALE, model.high);
      sketch
        .getContext('2d')!
        .putImageData(
          new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, W * SKETCH_SCALE, H * SKETCH_SCALE),
          0,
          0,
        );
      sketch.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    },
  };
}
