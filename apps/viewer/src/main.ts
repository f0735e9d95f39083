// Startup: the store, the worker, the panels; then ask the server what it serves and the
// worker to load that run's model.
import './style.css';
import type { ServerInfo, ViewerContext, ViewerState } from './app/state';
import { createStore } from './app/store';
import { createWorkerClient } from './app/workerClient';
import { MAKE_MODEL_COMMANDS } from './lib/help';
import { mountCompletionPanel } from './panels/completionPanel';
import { mountModelPanel } from './panels/modelPanel';
import { mountSamplesPanel } from './panels/samplesPanel';
import { createSamplingJobs } from './panels/samplingJobs';
import { mountTrainPanel } from './panels/trainPanel';
import { byId, h, setChildren } from './ui/dom';

const DEFAULT_INFO: ServerInfo = { run: '/run/', runLabel: null, quickdraw: '/quickdraw/' };

function pageNotices(): ViewerContext['page'] {
  const status = byId('status');
  const message = byId('message');
  return {
    setStatus: (text) => {
      status.textContent = text;
    },
    showMessage: (kind, ...content) => {
      message.hidden = false;
      message.className = `message ${kind}`;
      setChildren(message, ...content);
    },
    hideMessage: () => {
      message.hidden = true;
    },
  };
}

/** `window.__viewer`: what the end-to-end test (and someone in the console) reads. */
function exposeDebug(ctx: ViewerContext, pickReal: (i: number) => void): void {
  const s = () => ctx.store.get();
  const debug = {
    get facts() {
      return s().model?.facts;
    },
    get backend() {
      return s().backend?.name;
    },
    get backendSummary() {
      return s().backend?.summary;
    },
    get lastJob() {
      return s().lastJob;
    },
    get training() {
      const t = s().training;
      return (
        t && {
          state: t.state,
          message: t.message,
          step: t.progress?.step,
          rows: t.rows,
          grids: t.grids,
          savedStep: t.savedStep,
          resumedAt: t.resumedAt,
          microBatch: t.microBatch,
        }
      );
    },
    get real() {
      const real = s().real;
      return real && { className: real.className, images: real.images.map((im) => Array.from(im)) };
    },
    pickReal,
  };
  (window as unknown as { __viewer: typeof debug }).__viewer = debug;
}

async function serverInfo(): Promise<ServerInfo> {
  try {
    const res = await fetch('/api/info', { cache: 'no-store' });
    if (res.ok) return (await res.json()) as ServerInfo;
  } catch {
    // served by something else: keep the defaults
  }
  return DEFAULT_INFO;
}

async function start(): Promise<void> {
  const store = createStore<ViewerState>({ info: DEFAULT_INFO });
  const worker = createWorkerClient();
  const ctx: ViewerContext = { store, worker, page: pageNotices() };
  worker.onError((message) => {
    document.body.dataset.model = 'error';
    ctx.page.showMessage('error', `The model worker failed: ${message}`);
  });
  const jobs = createSamplingJobs(ctx);
  mountModelPanel(ctx);
  mountTrainPanel(ctx);
  const completion = mountCompletionPanel(ctx, jobs, {
    sampleSettings: () => samples.settings(),
  });
  const samples = mountSamplesPanel(ctx, jobs, { onPickReal: (b) => completion.showBitmap(b) });
  exposeDebug(ctx, (i) => {
    const real = store.get().real;
    if (real?.images[i]) completion.showBitmap(real.images[i]);
  });

  const info = await serverInfo();
  store.set({ info });
  const params = new URLSearchParams(location.search);
  const backends = params.get('backend') ?? undefined;
  if (!info.run && params.get('pretrained') !== 'none') {
    // No run directory: the pretrained model of @pixelcnn/quickdraw-models, bundled with the page
    // (?pretrained=NAME picks another shipped one, ?pretrained=none none: train one below).
    ctx.page.setStatus('starting a TensorFlow.js backend for the pretrained model…');
    worker.send({ type: 'load-pretrained', name: params.get('pretrained') ?? undefined, backends });
    return;
  }
  if (!info.run) {
    document.body.dataset.model = 'none';
    ctx.page.setStatus('no run directory: train a model below');
    ctx.page.showMessage(
      'info',
      h(
        'p',
        {},
        'No run is served (the viewer was started without --run): train a model in this page below, or make one with the command line and serve it.',
      ),
      h(
        'details',
        {},
        h('summary', {}, 'the commands'),
        h('pre', {}, MAKE_MODEL_COMMANDS.join('\n')),
      ),
    );
    return;
  }
  ctx.page.setStatus('starting a TensorFlow.js backend…');
  const weights = params.get('weights');
  worker.send({
    type: 'load',
    runBase: new URL(info.run, location.href).href,
    hint: info.checkpoint,
    backends,
    weights: weights === 'ema' || weights === 'weights' ? weights : undefined,
  });
}

void start();
