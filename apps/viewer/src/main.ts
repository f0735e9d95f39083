import './style.css';
import { parseMetricsCsv, parseMetricsJsonl } from '@pixelcnn/pixelcnn-dist/run';
import { firstSampledIndex, keepTopRows } from './lib/completion';
import { configRows, describeModel, formatHeldOut } from './lib/configView';
import { MAKE_MODEL_COMMANDS, noModelMessage } from './lib/help';
import {
  blankGrid,
  cellAt,
  type GridGeometry,
  gridGeometry,
  paintImage,
  paintPixel,
  pixelRgb,
} from './lib/imageGrid';
import type { ModelFacts } from './lib/loadModel';
import { lossCurveSvg } from './lib/lossCurve';
import { summarizeMetrics } from './lib/metrics';
import type { WorkerMessage, WorkerRequest } from './lib/protocol';
import { fetchRealDrawings, type RealDrawings } from './lib/realDrawings';
import { imageToSketch, quantizeBitmap, sketchToImage } from './lib/sketch';
import { byId, h, setChildren } from './ui/dom';

/** What /api/info says (the serve command); defaults when the page is served some other way. */
interface ServerInfo {
  run: string | null;
  runLabel: string | null;
  checkpoint?: string;
  quickdraw: string | null;
}

interface Job {
  id: number;
  kind: 'sample' | 'complete';
  n: number;
  canvas: HTMLCanvasElement;
  geom: GridGeometry;
  rgba: Uint8ClampedArray;
  /** Grid cell of image 0 (the completion grid shows the kept rows in cell 0). */
  firstCell: number;
  /** First raster index sampled, and how many are sampled. */
  from: number;
  count: number;
  t0: number;
  prefix?: Float32Array;
  keepRows?: number;
}

/** Exposed for the end-to-end test and for poking around in the console. */
interface ViewerDebug {
  facts?: ModelFacts;
  backend?: string;
  /** @pixelcnn/backend's report line (the WebGPU adapter, skipped backends and why). */
  backendSummary?: string;
  lastJob?: {
    kind: Job['kind'];
    n: number;
    images: number[];
    prefix?: number[];
    keepRows?: number;
    ms: number;
  };
  real?: { className: string; images: number[][] };
}
const debug: ViewerDebug = {};
(window as unknown as { __viewer: ViewerDebug }).__viewer = debug;

const SCALE = 3;
const SKETCH_SCALE = 10;
const body = document.body;
const status = byId('status');
const message = byId('message');

let info: ServerInfo = { run: '/run/', runLabel: null, quickdraw: '/quickdraw/' };
let facts: ModelFacts | undefined;
let shape: [number, number, number] = [28, 28, 1];
let high = 255;
let low = 0;
let job: Job | undefined;
let nextId = 1;
let real: RealDrawings | undefined;
let realGeom: GridGeometry | undefined;
const realCache = new Map<string, Promise<RealDrawings>>();

function setStatus(text: string): void {
  status.textContent = text;
}

function showMessage(kind: 'info' | 'error', ...content: (Node | string)[]): void {
  message.hidden = false;
  message.className = `message ${kind}`;
  setChildren(message, ...content);
}

// ---------------------------------------------------------------- worker

const worker = new Worker(new URL('./worker/modelWorker.ts', import.meta.url), { type: 'module' });
const send = (req: WorkerRequest, transfer: Transferable[] = []) =>
  worker.postMessage(req, transfer);
worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => onWorkerMessage(e.data));
worker.addEventListener('error', (e) => {
  body.dataset.model = 'error';
  showMessage('error', `The model worker failed: ${e.message || 'could not start it'}`);
});

function onWorkerMessage(m: WorkerMessage): void {
  switch (m.type) {
    case 'backend':
      debug.backend = m.backend;
      debug.backendSummary = m.summary;
      setStatus(`backend ${m.summary} · loading the model…`);
      break;
    case 'no-model':
      body.dataset.model = 'none';
      setStatus(`backend ${debug.backend ?? '?'} · no model`);
      showMessage(
        'info',
        h('p', {}, noModelMessage(info.runLabel, m.tried)),
        h(
          'p',
          {},
          'Make one with the trainer, then serve the viewer against its output directory:',
        ),
        h('pre', {}, MAKE_MODEL_COMMANDS.join('\n')),
      );
      break;
    case 'load-error':
      body.dataset.model = 'error';
      setStatus(`backend ${debug.backend ?? '?'} · the model could not be loaded`);
      showMessage(
        'error',
        h('p', {}, h('strong', {}, 'The model could not be loaded. ')),
        h('p', { id: 'load-error' }, m.message),
        h(
          'p',
          {},
          `Run directory: ${info.runLabel ?? '(none)'}. A model from another version, or a file copied while training wrote it? Train again or pick another checkpoint:`,
        ),
        h('pre', {}, MAKE_MODEL_COMMANDS.join('\n')),
      );
      break;
    case 'loaded':
      onLoaded(m);
      break;
    case 'pixel':
      onPixel(m);
      break;
    case 'done':
      onDone(m);
      break;
    case 'stopped':
      finishJob(m.id, 'stopped', 'stopped');
      break;
    case 'sample-error':
      finishJob(m.id, 'error', `error: ${m.message}`);
      showMessage('error', `Sampling failed: ${m.message}`);
      break;
  }
}

// ---------------------------------------------------------------- model + metrics

function onLoaded(m: Extract<WorkerMessage, { type: 'loaded' }>): void {
  facts = m.facts;
  debug.facts = m.facts;
  const cfg = m.facts.config;
  shape = [...cfg.imageShape] as [number, number, number];
  high = cfg.high ?? 255;
  low = cfg.low ?? 0;
  body.dataset.model = 'ready';
  message.hidden = true;
  setStatus(
    `backend ${debug.backend} · ${m.facts.label} · ${m.numParameters.toLocaleString('en-US')} parameters · sampler '${m.sampler}' · loaded in ${(m.ms / 1000).toFixed(1)} s`,
  );
  byId('model-summary').textContent =
    `${describeModel(cfg)}${m.facts.step !== undefined ? `, after ${m.facts.step} training steps` : ''}.`;
  const table = byId('config-table');
  setChildren(
    table,
    ...configRows(m.facts, m.numParameters).map(([k, v, note]) =>
      h('tr', {}, h('th', {}, k), h('td', {}, v), h('td', { class: 'muted small' }, note)),
    ),
  );
  byId('held-out').textContent = formatHeldOut(m.facts.lastEval);
  for (const id of ['samples-section', 'complete-section', 'model-section'])
    byId(id).hidden = false;
  setupClasses();
  setupSketch();
  void loadMetrics();
  void showReal();
  resetGenerated();
}

async function loadMetrics(): Promise<void> {
  const el = byId('loss-curve');
  if (!info.run) return;
  const get = async (name: string) => {
    const res = await fetch(`${info.run}${name}`, { cache: 'no-store' });
    return res.ok ? res.text() : null;
  };
  try {
    let parsed = null;
    const jsonl = await get('metrics.jsonl');
    if (jsonl !== null) parsed = parseMetricsJsonl(jsonl);
    else {
      const csv = await get('metrics.csv');
      if (csv !== null) parsed = parseMetricsCsv(csv);
    }
    if (!parsed) {
      el.innerHTML = lossCurveSvg({ train: [], heldOut: [] });
      return;
    }
    const summary = summarizeMetrics(parsed.rows);
    el.innerHTML = lossCurveSvg(summary);
    if (summary.lastEval) byId('held-out').textContent = formatHeldOut(summary.lastEval);
  } catch (e) {
    el.textContent = `could not read the metrics: ${(e as Error).message}`;
  }
}

// ---------------------------------------------------------------- classes + real drawings

const classSelect = byId<HTMLSelectElement>('class');

function classNames(): string[] {
  if (!facts) return [];
  const cfg = facts.config;
  const n = cfg.conditionalShape?.length === 0 ? (cfg.numClasses ?? 0) : 0;
  if (n > 0) return Array.from({ length: n }, (_, i) => facts!.classes[i] ?? `class ${i}`);
  return facts.classes;
}

function isConditional(): boolean {
  return facts?.config.conditionalShape != null;
}

function setupClasses(): void {
  const names = classNames();
  setChildren(classSelect, ...names.map((n, i) => h('option', { value: i }, n)));
  if (names.length === 0) setChildren(classSelect, h('option', { value: 0 }, '(unconditional)'));
  classSelect.disabled = names.length <= 1 && !isConditional();
}

classSelect.addEventListener('change', () => {
  void showReal();
  resetGenerated();
});

function count(id: string, max: number): number {
  const el = byId<HTMLInputElement>(id);
  const v = Math.max(1, Math.min(max, Math.round(Number(el.value) || 1)));
  el.value = String(v);
  return v;
}

const cols = (n: number) => Math.min(n, 8);

async function showReal(): Promise<void> {
  const canvas = byId<HTMLCanvasElement>('real-grid');
  const note = byId('real-note');
  const caption = byId('real-caption');
  const name = facts?.classes[Number(classSelect.value)];
  const [H, W, C] = shape;
  real = undefined;
  realGeom = undefined;
  if (!info.quickdraw || !name || H !== 28 || W !== 28) {
    canvas.hidden = true;
    caption.hidden = true;
    note.textContent = !info.quickdraw
      ? 'Real drawings: no QuickDraw mirror is served (start the viewer with --data DIR).'
      : !name
        ? 'Real drawings: the model does not say which classes it was trained on.'
        : 'Real drawings: QuickDraw bitmaps are 28x28, this model is not.';
    return;
  }
  const n = count('count', 32);
  const key = `${name}:${n}`;
  let p = realCache.get(key);
  if (!p) {
    p = fetchRealDrawings(name, {
      baseUrl: new URL(info.quickdraw, location.href).href,
      count: n,
      heldOut: facts?.heldOut,
      perClass: facts?.perClass,
    });
    realCache.set(key, p);
  }
  try {
    note.textContent = `loading real drawings of ${name}…`;
    const got = await p;
    if (facts?.classes[Number(classSelect.value)] !== name) return; // class changed meanwhile
    real = got;
    debug.real = { className: got.className, images: got.images.map((im) => Array.from(im)) };
    const geom = gridGeometry(got.images.length, {
      cols: cols(n),
      imageHeight: H,
      imageWidth: W,
      scale: SCALE,
    });
    realGeom = geom;
    const rgba = blankGrid(geom);
    got.images.forEach((im, i) => {
      const q = quantizeBitmap(im, high);
      const v =
        C === 1 ? q : Float32Array.from({ length: H * W * C }, (_, k) => q[Math.floor(k / C)]);
      paintImage(rgba, geom, i, v, C, high);
    });
    drawRgba(canvas, geom, rgba);
    canvas.hidden = false;
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
    canvas.hidden = true;
    note.textContent = `Real drawings could not be loaded: ${(e as Error).message}`;
  }
}

function drawRgba(canvas: HTMLCanvasElement, g: GridGeometry, rgba: Uint8ClampedArray): void {
  if (canvas.width !== g.width || canvas.height !== g.height) {
    canvas.width = g.width;
    canvas.height = g.height;
  }
  canvas
    .getContext('2d')!
    .putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, g.width, g.height), 0, 0);
}

byId('real-grid').addEventListener('click', (e) => {
  if (!real || !realGeom) return;
  const canvas = e.currentTarget as HTMLCanvasElement;
  const rect = canvas.getBoundingClientRect();
  const x = ((e as MouseEvent).clientX - rect.left) * (canvas.width / rect.width);
  const y = ((e as MouseEvent).clientY - rect.top) * (canvas.height / rect.height);
  const i = cellAt(realGeom, Math.floor(x), Math.floor(y));
  if (i >= 0) pickReal(i);
});

/** Put real drawing `i` on the sketch canvas (for completion). */
function pickReal(i: number): void {
  if (!real) return;
  const [H, W] = shape;
  const values = quantizeBitmap(real.images[i], high);
  const rgba = imageToSketch(values, H, W, SKETCH_SCALE, high);
  sketch
    .getContext('2d')!
    .putImageData(
      new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, W * SKETCH_SCALE, H * SKETCH_SCALE),
      0,
      0,
    );
  sketch.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}
(debug as unknown as { pickReal: typeof pickReal }).pickReal = pickReal;

// ---------------------------------------------------------------- sampling

const progress = byId<HTMLProgressElement>('progress');
const progressText = byId('progress-text');
const sampleBtn = byId<HTMLButtonElement>('sample');
const completeBtn = byId<HTMLButtonElement>('complete');
const stopBtn = byId<HTMLButtonElement>('stop');
const seedInput = byId<HTMLInputElement>('seed');
const tempInput = byId<HTMLInputElement>('temperature');

seedInput.value = String(1 + Math.floor(Math.random() * 99_999));
byId('new-seed').addEventListener('click', () => {
  seedInput.value = String(1 + Math.floor(Math.random() * 99_999));
});
tempInput.addEventListener('input', () => {
  byId('temperature-value').textContent = Number(tempInput.value).toFixed(2);
});

function resetGenerated(): void {
  if (job) return;
  const [H, W] = shape;
  const n = count('count', 32);
  const geom = gridGeometry(n, { cols: cols(n), imageHeight: H, imageWidth: W, scale: SCALE });
  drawRgba(byId<HTMLCanvasElement>('gen-grid'), geom, blankGrid(geom));
}
byId('count').addEventListener('change', () => {
  void showReal();
  resetGenerated();
});

function seed(): number {
  const v = Math.floor(Number(seedInput.value));
  const s = Number.isFinite(v) && v >= 0 ? v : 0;
  seedInput.value = String(s);
  return s;
}

function startJob(kind: Job['kind']): void {
  if (!facts || job) return;
  const [H, W, C] = shape;
  const label = isConditional() ? Number(classSelect.value) : undefined;
  const temperature = Number(tempInput.value);
  let n: number;
  let canvas: HTMLCanvasElement;
  let geom: GridGeometry;
  let rgba: Uint8ClampedArray;
  let firstCell = 0;
  let prefix: Float32Array | undefined;
  let keepRows: number | undefined;
  if (kind === 'sample') {
    n = count('count', 32);
    canvas = byId<HTMLCanvasElement>('gen-grid');
    geom = gridGeometry(n, { cols: cols(n), imageHeight: H, imageWidth: W, scale: SCALE });
    rgba = blankGrid(geom);
  } else {
    n = count('complete-count', 16);
    keepRows = Number(byId<HTMLInputElement>('keep-rows').value);
    const ink = sketchToImage(
      sketch.getContext('2d')!.getImageData(0, 0, sketch.width, sketch.height).data,
      sketch.width,
      sketch.height,
      H,
      W,
      high - low,
    );
    const image = Float32Array.from({ length: H * W * C }, (_, k) => low + ink[Math.floor(k / C)]);
    prefix = keepTopRows(image, shape, keepRows);
    canvas = byId<HTMLCanvasElement>('completion-grid');
    geom = gridGeometry(n + 1, {
      cols: Math.min(n + 1, 5),
      imageHeight: H,
      imageWidth: W,
      scale: SCALE,
    });
    rgba = blankGrid(geom);
    firstCell = 1;
    const from = firstSampledIndex(keepRows, W);
    for (let i = 0; i <= n; i++) paintImage(rgba, geom, i, prefix, C, high, from);
  }
  drawRgba(canvas, geom, rgba);
  const from = kind === 'complete' ? firstSampledIndex(keepRows!, W) : 0;
  job = {
    id: nextId++,
    kind,
    n,
    canvas,
    geom,
    rgba,
    firstCell,
    from,
    count: H * W - from,
    t0: performance.now(),
    prefix,
    keepRows,
  };
  body.dataset.job = 'running';
  sampleBtn.disabled = true;
  completeBtn.disabled = true;
  stopBtn.disabled = false;
  progress.max = Math.max(1, job.count);
  progress.value = 0;
  progressText.textContent =
    job.count === 0
      ? 'nothing to sample (every row is kept)'
      : `${kind === 'sample' ? 'sampling' : 'completing'}…`;
  send({
    type: 'sample',
    id: job.id,
    n,
    label,
    seed: seed(),
    temperature,
    prefix: prefix ? prefix.slice() : undefined,
    keepRows,
  });
}

let pendingPaint = false;

function onPixel(m: Extract<WorkerMessage, { type: 'pixel' }>): void {
  if (!job || m.id !== job.id) return;
  const C = shape[2];
  const v = new Array<number>(C);
  for (let b = 0; b < job.n; b++) {
    for (let c = 0; c < C; c++) v[c] = m.values[b * C + c];
    paintPixel(job.rgba, job.geom, job.firstCell + b, m.row, m.col, pixelRgb(v, high));
  }
  const done = m.index - job.from + 1;
  progress.value = done;
  const s = (performance.now() - job.t0) / 1000;
  const eta = (s / done) * (job.count - done);
  progressText.textContent = `pixel ${done}/${job.count} (row ${m.row + 1}/${shape[0]}) · ${s.toFixed(1)} s · about ${eta.toFixed(0)} s left`;
  // Repaint at most once per animation frame.
  if (!pendingPaint) {
    pendingPaint = true;
    requestAnimationFrame(() => {
      pendingPaint = false;
      if (job) drawRgba(job.canvas, job.geom, job.rgba);
    });
  }
}

function onDone(m: Extract<WorkerMessage, { type: 'done' }>): void {
  if (!job || m.id !== job.id) return;
  const [H, W, C] = shape;
  const px = H * W * C;
  for (let b = 0; b < job.n; b++) {
    paintImage(
      job.rgba,
      job.geom,
      job.firstCell + b,
      m.images.subarray(b * px, (b + 1) * px),
      C,
      high,
    );
  }
  drawRgba(job.canvas, job.geom, job.rgba);
  debug.lastJob = {
    kind: job.kind,
    n: job.n,
    images: Array.from(m.images),
    prefix: job.prefix ? Array.from(job.prefix) : undefined,
    keepRows: job.keepRows,
    ms: m.ms,
  };
  const rate = job.count > 0 ? (m.ms / job.count).toFixed(0) : '0';
  finishJob(
    m.id,
    'done',
    `done: ${job.n} drawing${job.n === 1 ? '' : 's'} in ${(m.ms / 1000).toFixed(1)} s (${rate} ms per pixel)`,
  );
}

function finishJob(id: number, state: 'done' | 'stopped' | 'error', text: string): void {
  if (!job || job.id !== id) return;
  drawRgba(job.canvas, job.geom, job.rgba);
  job = undefined;
  body.dataset.job = state;
  progressText.textContent = text;
  sampleBtn.disabled = false;
  completeBtn.disabled = false;
  stopBtn.disabled = true;
}

sampleBtn.addEventListener('click', () => startJob('sample'));
completeBtn.addEventListener('click', () => startJob('complete'));
stopBtn.addEventListener('click', () => {
  if (job) {
    send({ type: 'stop', id: job.id });
    progressText.textContent = 'stopping…';
  }
});

// ---------------------------------------------------------------- sketch canvas

const sketch = byId<HTMLCanvasElement>('sketch');
const overlay = byId<HTMLCanvasElement>('sketch-overlay');
const keepInput = byId<HTMLInputElement>('keep-rows');
let sketchReady = false;

function clearSketch(): void {
  const ctx = sketch.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, sketch.width, sketch.height);
}

function drawOverlay(): void {
  const [H] = shape;
  const k = Number(keepInput.value);
  byId('keep-rows-value').textContent = String(k);
  const ctx = overlay.getContext('2d')!;
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  const y = k * SKETCH_SCALE;
  ctx.fillStyle = 'rgba(31, 90, 200, 0.10)';
  ctx.fillRect(0, y, overlay.width, H * SKETCH_SCALE - y);
  ctx.strokeStyle = '#d33';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(0, y);
  ctx.lineTo(overlay.width, y);
  ctx.stroke();
}

function setupSketch(): void {
  const [H, W] = shape;
  for (const c of [sketch, overlay]) {
    c.width = W * SKETCH_SCALE;
    c.height = H * SKETCH_SCALE;
  }
  keepInput.max = String(H);
  if (Number(keepInput.value) > H) keepInput.value = String(Math.floor(H / 2));
  clearSketch();
  drawOverlay();
  if (sketchReady) return;
  sketchReady = true;
  let last: [number, number] | null = null;
  const pos = (e: PointerEvent): [number, number] => {
    const r = sketch.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * sketch.width) / r.width,
      ((e.clientY - r.top) * sketch.height) / r.height,
    ];
  };
  const line = (a: [number, number], b: [number, number]) => {
    const ctx = sketch.getContext('2d')!;
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1.6 * SKETCH_SCALE;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
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
}
keepInput.addEventListener('input', drawOverlay);
byId('clear-sketch').addEventListener('click', clearSketch);

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  try {
    const res = await fetch('/api/info', { cache: 'no-store' });
    if (res.ok) info = (await res.json()) as ServerInfo;
  } catch {
    // served by something else: keep the defaults
  }
  if (!info.run) {
    body.dataset.model = 'none';
    setStatus('no run directory');
    showMessage(
      'info',
      h('p', {}, noModelMessage(null, [])),
      h(
        'p',
        {},
        'Make a model with the trainer, then serve the viewer against its output directory:',
      ),
      h('pre', {}, MAKE_MODEL_COMMANDS.join('\n')),
    );
    return;
  }
  setStatus('starting a TensorFlow.js backend…');
  const params = new URLSearchParams(location.search);
  const weights = params.get('weights');
  send({
    type: 'load',
    runBase: new URL(info.run, location.href).href,
    hint: info.checkpoint,
    backends: params.get('backend') ?? undefined,
    weights: weights === 'ema' || weights === 'weights' ? weights : undefined,
  });
}

void start();
