// The "Real and generated drawings" panel: pick a class, see held-out real drawings above
// samples of the model drawn live; click a real drawing to complete it in the completion panel.
import type { ViewerContext } from '../app/state';
import { blankGrid, cellAt, type GridGeometry, gridGeometry, paintImage } from '../lib/imageGrid';
import { fetchRealDrawings, type RealDrawings } from '../lib/realDrawings';
import { quantizeBitmap } from '../lib/sketch';
import { countInput, drawRgba } from '../ui/canvas';
import { byId, h, setChildren } from '../ui/dom';
import type { SamplingJobs } from './samplingJobs';

/** Canvas pixels per image pixel in the grids. */
export const GRID_SCALE = 3;
/** Columns of a grid of `n` drawings. */
export const gridCols = (n: number) => Math.min(n, 8);

export interface SamplesPanel {
  /** The class picked (its label; undefined for an unconditional model), seed and temperature. */
  settings(): { label?: number; seed: number; temperature: number };
}

export function mountSamplesPanel(
  ctx: ViewerContext,
  jobs: SamplingJobs,
  o: { onPickReal: (bitmap: Uint8Array) => void },
): SamplesPanel {
  const { store } = ctx;
  const classSelect = byId<HTMLSelectElement>('class');
  const countEl = byId<HTMLInputElement>('count');
  const seedInput = byId<HTMLInputElement>('seed');
  const tempInput = byId<HTMLInputElement>('temperature');
  const sampleBtn = byId<HTMLButtonElement>('sample');
  const realCanvas = byId<HTMLCanvasElement>('real-grid');
  const genCanvas = byId<HTMLCanvasElement>('gen-grid');
  const realCache = new Map<string, Promise<RealDrawings>>();
  let realGeom: GridGeometry | undefined;

  const isConditional = () => store.get().model?.facts.config.conditionalShape != null;
  const classNames = (): string[] => {
    const facts = store.get().model?.facts;
    if (!facts) return [];
    const cfg = facts.config;
    const n = cfg.conditionalShape?.length === 0 ? (cfg.numClasses ?? 0) : 0;
    if (n > 0) return Array.from({ length: n }, (_, i) => facts.classes[i] ?? `class ${i}`);
    return facts.classes;
  };

  function setupClasses(): void {
    const names = classNames();
    setChildren(classSelect, ...names.map((n, i) => h('option', { value: i }, n)));
    if (names.length === 0) setChildren(classSelect, h('option', { value: 0 }, '(unconditional)'));
    classSelect.disabled = names.length <= 1 && !isConditional();
  }

  async function showReal(): Promise<void> {
    const { model, info } = store.get();
    const note = byId('real-note');
    const caption = byId('real-caption');
    const name = model?.facts.classes[Number(classSelect.value)];
    realGeom = undefined;
    store.set({ real: undefined });
    if (!model) return;
    const [H, W, C] = model.shape;
    if (!info.quickdraw || !name || H !== 28 || W !== 28) {
      realCanvas.hidden = true;
      caption.hidden = true;
      note.textContent = !info.quickdraw
        ? 'Real drawings: no QuickDraw mirror is served (start the viewer with --data DIR).'
        : !name
          ? 'Real drawings: the model does not say which classes it was trained on.'
          : 'Real drawings: QuickDraw bitmaps are 28x28, this model is not.';
      return;
    }
    const n = countInput(countEl, 32);
    const key = `${name}:${n}`;
    let p = realCache.get(key);
    if (!p) {
      p = fetchRealDrawings(name, {
        baseUrl: new URL(info.quickdraw, location.href).href,
        count: n,
        heldOut: model.facts.heldOut,
        perClass: model.facts.perClass,
      });
      realCache.set(key, p);
    }
    try {
      note.textContent = `loading real drawings of ${name}…`;
      const got = await p;
      const now = store.get().model;
      if (now?.facts.classes[Number(classSelect.value)] !== name) return; // changed meanwhile
      const geom = gridGeometry(got.images.length, {
        cols: gridCols(n),
        imageHeight: H,
        imageWidth: W,
        scale: GRID_SCALE,
      });
      realGeom = geom;
      const rgba = blankGrid(geom);
      got.images.forEach((im, i) => {
        const q = quantizeBitmap(im, model.high);
        const v =
          C === 1 ? q : Float32Array.from({ length: H * W * C }, (_, k) => q[Math.floor(k / C)]);
        paintImage(rgba, geom, i, v, C, model.high);
      });
      drawRgba(realCanvas, geom, rgba);
      store.set({ real: { className: got.className, images: got.images } });
      realCanvas.hidden = false;
      caption.hidden = false;
      caption.textContent =
        got.split === 'held-out'
          ? `real (held out from training): ${got.className}`
          : `real: ${got.className}`;
      note.textContent =
        got.images.length < n
          ? `only ${got.images.length} held-out drawing${got.images.length === 1 ? '' : 's'} among the rows fetched`
          : '';
    } catch (e) {
      realCache.delete(key);
      realCanvas.hidden = true;
      note.textContent = `Real drawings could not be loaded: ${(e as Error).message}`;
    }
  }

  function resetGenerated(): void {
    const model = store.get().model;
    if (store.get().job || !model) return;
    const [H, W] = model.shape;
    const n = countInput(countEl, 32);
    const geom = gridGeometry(n, {
      cols: gridCols(n),
      imageHeight: H,
      imageWidth: W,
      scale: GRID_SCALE,
    });
    drawRgba(genCanvas, geom, blankGrid(geom));
  }

  const seed = (): number => {
    const v = Math.floor(Number(seedInput.value));
    const s = Number.isFinite(v) && v >= 0 ? v : 0;
    seedInput.value = String(s);
    return s;
  };
  const settings = () => ({
    label: isConditional() ? Number(classSelect.value) : undefined,
    seed: seed(),
    temperature: Number(tempInput.value),
  });

  seedInput.value = String(1 + Math.floor(Math.random() * 99_999));
  byId('new-seed').addEventListener('click', () => {
    seedInput.value = String(1 + Math.floor(Math.random() * 99_999));
  });
  tempInput.addEventListener('input', () => {
    byId('temperature-value').textContent = Number(tempInput.value).toFixed(2);
  });
  for (const el of [classSelect, countEl]) {
    el.addEventListener('change', () => {
      void showReal();
      resetGenerated();
    });
  }
  realCanvas.addEventListener('click', (e) => {
    const real = store.get().real;
    if (!real || !realGeom) return;
    const rect = realCanvas.getBoundingClientRect();
    const x = (e.clientX - rect.left) * (realCanvas.width / rect.width);
    const y = (e.clientY - rect.top) * (realCanvas.height / rect.height);
    const i = cellAt(realGeom, Math.floor(x), Math.floor(y));
    if (i >= 0) o.onPickReal(real.images[i]);
  });
  sampleBtn.addEventListener('click', () => {
    const model = store.get().model;
    if (!model) return;
    const [H, W] = model.shape;
    const n = countInput(countEl, 32);
    const geom = gridGeometry(n, {
      cols: gridCols(n),
      imageHeight: H,
      imageWidth: W,
      scale: GRID_SCALE,
    });
    jobs.start({
      kind: 'sample',
      n,
      canvas: genCanvas,
      geom,
      rgba: blankGrid(geom),
      firstCell: 0,
      from: 0,
      ...settings(),
    });
  });

  store.subscribe((s, prev) => {
    sampleBtn.disabled = s.job !== undefined || !s.model;
    if (s.model !== prev.model && s.model) {
      byId('samples-section').hidden = false;
      setupClasses();
      void showReal();
      resetGenerated();
    }
  });

  return { settings };
}

export type { RealDrawings };
