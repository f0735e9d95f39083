// The model runs here, off the page's thread: load a served run's model, sample pixel by pixel
// (posting every pixel as it is drawn), complete drawings, and train a model with
// pixelcnn-dist's Trainer (pause, resume, stop, autosave, download). Tensor work is serialised
// by one lock, so a sampling job, a download and a training step never interleave.
import { type BackendName, type BackendReport, initBackend } from '@pixelcnn/backend';
import {
  backendMemoryLimit,
  decodeCheckpoint,
  encodeCheckpoint,
  estimateTrainingMemory,
  fitMicroBatch,
  microBatchRefusal,
  networkSize,
  PixelCNN,
  type PixelProgress,
  SAMPLERS,
  Trainer,
} from '@pixelcnn/pixelcnn-dist';
import {
  type MetricsRow,
  parseCheckpointMeta,
  type RunProgress,
} from '@pixelcnn/pixelcnn-dist/run';
import { loadModel, MODEL_NAMES, modelInfo } from '@pixelcnn/quickdraw-models';
import { type CheckpointMeta, type RunSettings, trainerOptions } from '@pixelcnn/trainer/settings';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {
  fetchCheckpointFiles,
  fetchModelArtifacts,
  locateModel,
  type ModelFacts,
  NoModelError,
} from '../lib/loadModel';
import type { TrainStart, WorkerMessage, WorkerRequest } from '../lib/protocol';
import { runArchiveEntries } from '../lib/runArchive';
import { zipStore } from '../lib/zip';
import { listAutosaves, openNewestAutosave, removeAutosaves, saveAutosave } from './autosave';
import { openTrainingData } from './trainingData';
import { TrainingSession } from './trainingSession';

interface Scope {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
  location: { href: string };
}
const scope = self as unknown as Scope;
const post = (m: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

/** Run `fn` after every earlier one has settled: one piece of tensor work at a time. */
function createLock(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** Everything the worker holds (one object; nothing else in this module changes). */
const worker: {
  backend?: Promise<BackendReport>;
  /** The model of the served run. */
  served?: PixelCNN;
  sampler: string;
  running: Map<number, AbortController>;
  /** The training run (its trainer's model is the one sampled while it exists). */
  session?: TrainingSession;
  /** The autosave slot written next. */
  nextSlot: number;
  lock: <T>(fn: () => Promise<T>) => Promise<T>;
} = { sampler: 'naive', running: new Map(), nextSlot: 0, lock: createLock() };

/** Yield to the event loop (a macrotask), so 'stop' messages get through between pixels. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Samplers that show drawings pixel by pixel, fastest first: the cached sampler (Ramachandran et
 * al. 2017) when pixelcnn-dist registers one, else the naive one.
 */
const LIVE_SAMPLER_PREFERENCE = ['cached', 'naive'];

function chooseLiveSampler(registered: readonly string[]): string {
  const found = LIVE_SAMPLER_PREFERENCE.find((s) => registered.includes(s));
  if (found) return found;
  if (registered.length === 0) throw new Error('pixelcnn-dist registers no sampler');
  return registered[0];
}

/**
 * @pixelcnn/backend's choice, as in Node: webgpu on a hardware adapter, wasm, cpu (a software
 * WebGPU adapter, or webgl, only when the page's `?backend=` names it). Started once.
 */
function ensureBackend(param: string | undefined): Promise<BackendReport> {
  worker.backend ??= (async () => {
    // The .wasm files are served from /tfjs-wasm/ (copied from the package by vite.config.ts).
    setWasmPaths(new URL(`${import.meta.env.BASE_URL}tfjs-wasm/`, scope.location.href).href);
    const prefer = param
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) as BackendName[] | undefined;
    const report = await initBackend({ prefer: prefer?.length ? prefer : undefined });
    post({
      type: 'backend',
      backend: report.chosen,
      summary: report.summary,
      adapter: report.adapter,
    });
    return report;
  })();
  return worker.backend;
}

const backendError = (e: unknown) => (e as Error).message.replace(/^Error in initBackend: /, '');

/** Serve `model` (the page samples it) and tell the page, with the facts it shows. */
function serve(model: PixelCNN, facts: ModelFacts, t0: number): void {
  worker.served?.dispose();
  worker.served = model;
  const samplers = Object.keys(SAMPLERS);
  worker.sampler = chooseLiveSampler(samplers);
  post({
    type: 'loaded',
    facts: { ...facts, config: model.config },
    numParameters: model.numParameters,
    samplers,
    sampler: worker.sampler,
    ms: performance.now() - t0,
  });
}

/** Start the backend a load asks for; false (the page told why) when none starts. */
async function backendReady(backends: string | undefined): Promise<boolean> {
  try {
    await ensureBackend(backends);
    return true;
  } catch (e) {
    post({ type: 'load-error', message: backendError(e) });
    return false;
  }
}

async function load(req: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  const t0 = performance.now();
  if (!(await backendReady(req.backends))) return;
  const fetchFn = (url: string) => fetch(url, { cache: 'no-store' });
  try {
    const loc = await locateModel(req.runBase, fetchFn, req.hint);
    const { artifacts, facts } = await fetchModelArtifacts(loc, fetchFn, req.weights);
    serve(PixelCNN.fromArtifacts(artifacts), facts, t0);
  } catch (e) {
    if (e instanceof NoModelError) post({ type: 'no-model', tried: e.tried });
    else post({ type: 'load-error', message: (e as Error).message });
  }
}

/**
 * A pretrained model of @pixelcnn/quickdraw-models: its files are assets of the page's bundle
 * (the package finds them with `new URL(..., import.meta.url)`, which Vite copies into the
 * build), fetched by the package's loader; its record gives the facts the page shows.
 */
async function loadPretrained(req: Extract<WorkerRequest, { type: 'load-pretrained' }>) {
  const t0 = performance.now();
  if (!(await backendReady(req.backends))) return;
  const name = req.name ?? MODEL_NAMES[0];
  if (name === undefined) {
    post({
      type: 'no-model',
      tried: ['a pretrained model (@pixelcnn/quickdraw-models ships none)'],
    });
    return;
  }
  try {
    const info = modelInfo(name);
    const model = await worker.lock(() => loadModel(name));
    const { record } = info;
    serve(
      model,
      {
        config: model.config,
        classes: [...info.classes],
        heldOut: record.data.heldOut,
        perClass: record.data.perClass,
        step: record.steps,
        weights: 'saved',
        lastEval: {
          step: record.steps,
          epoch: 0,
          bitsPerDim: record.heldOut.bitsPerDim,
          ci95: record.heldOut.ci95,
          images: record.heldOut.images,
        },
        train: { command: record.command, commit: record.commit, minutes: record.trainMinutes },
        label: `pretrained '${name}' (@pixelcnn/quickdraw-models)`,
      },
      t0,
    );
  } catch (e) {
    post({ type: 'load-error', message: (e as Error).message });
  }
}

async function sample(req: Extract<WorkerRequest, { type: 'sample' }>): Promise<void> {
  const session = worker.session;
  const model = session?.trainer.dist ?? worker.served;
  if (!model) {
    post({ type: 'sample-error', id: req.id, message: 'no model is loaded' });
    return;
  }
  const ctl = new AbortController();
  worker.running.set(req.id, ctl);
  try {
    await worker.lock(async () => {
      const t0 = performance.now();
      const conditional = model.config.conditionalShape != null;
      const cond = conditional
        ? tf.tensor1d(new Int32Array(req.n).fill(req.label ?? 0), 'int32')
        : undefined;
      // completion: the kept rows of the sketch, for every sample (pixelcnn-dist checks them)
      const prefix = req.prefix
        ? { images: tf.tensor3d(req.prefix, model.config.imageShape), rows: req.keepRows ?? 0 }
        : undefined;
      const draw = async () => {
        const out = await model.sample(req.n, {
          conditionalInput: cond,
          seed: req.seed,
          temperature: req.temperature,
          sampler: req.sampler ?? worker.sampler,
          prefix,
          signal: ctl.signal,
          onPixel: async (p: PixelProgress) => {
            post({
              type: 'pixel',
              id: req.id,
              row: p.row,
              col: p.col,
              index: p.index,
              total: p.total,
              values: p.values,
            });
            await yieldToEvents();
          },
        });
        const images = (await out.data()) as Float32Array;
        out.dispose();
        return images;
      };
      try {
        // a run trained here samples with its EMA weights, as the CLI does
        const images = session ? await session.trainer.withEmaWeights(draw) : await draw();
        post({ type: 'done', id: req.id, images, ms: performance.now() - t0 }, [images.buffer]);
      } finally {
        cond?.dispose();
        prefix?.images.dispose();
      }
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError' || ctl.signal.aborted)
      post({ type: 'stopped', id: req.id });
    else post({ type: 'sample-error', id: req.id, message: (e as Error).message });
  } finally {
    worker.running.delete(req.id);
  }
}

const GIB = 2 ** 30;
const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`;

/** A model and trainer to train: new, or continued from the autosave or the served checkpoint. */
async function openRun(
  run: TrainStart,
  memoryLimitBytes: number | undefined,
): Promise<{
  settings: RunSettings;
  trainer: Trainer;
  progress: RunProgress;
  resumedAt?: number;
  rows: MetricsRow[];
}> {
  const from = run.from;
  let rows = run.metrics ?? [];
  if (from.kind === 'new') {
    const model = new PixelCNN(from.settings.model);
    try {
      const trainer = new Trainer(model, {
        ...trainerOptions(from.settings.train),
        memoryLimitBytes,
      });
      return {
        settings: from.settings,
        trainer,
        progress: { step: 0, epoch: 0, batchInEpoch: 0, elapsedSeconds: 0 },
        rows: [],
      };
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  let meta: CheckpointMeta;
  let trainer: Trainer;
  if (from.kind === 'autosave') {
    post({ type: 'train-preparing', text: 'opening the autosave…' });
    const found = await openNewestAutosave({ memoryLimitBytes });
    if (!found)
      throw new Error('no autosave could be opened (IndexedDB holds none, or none whole)');
    trainer = found.opened.trainer;
    meta = found.info.meta;
    rows = found.rows;
    worker.nextSlot = 1 - found.info.slot;
  } else {
    post({ type: 'train-preparing', text: "fetching the served run's checkpoint…" });
    const fetchFn = (url: string) => fetch(url, { cache: 'no-store' });
    const loc = await locateModel(from.runBase, fetchFn, from.hint);
    const files = await fetchCheckpointFiles(loc, fetchFn);
    meta = parseCheckpointMeta(
      files['trainer.json'],
      `${loc.label}/trainer.json`,
    ) as CheckpointMeta;
    if (!meta.settings.train) {
      throw new Error(`${loc.label}/trainer.json has no training settings: it cannot be continued`);
    }
    if (meta.settings.data.images) {
      throw new Error(
        `the served run trains on an --images array (${meta.settings.data.images}), which the page cannot read: continue it with pixelcnn train --resume`,
      );
    }
    trainer = (await decodeCheckpoint(files, { trainer: { memoryLimitBytes }, where: loc.label }))
      .trainer;
  }
  return {
    settings: meta.settings,
    trainer,
    progress: { ...meta.progress },
    resumedAt: meta.progress.step,
    rows: rows.filter((r) => r.step <= meta.progress.step),
  };
}

async function trainStart(run: TrainStart): Promise<void> {
  const old = worker.session;
  if (old && (old.state === 'running' || old.state === 'paused')) {
    post({ type: 'train-error', message: 'a run is already training here: stop it first' });
    return;
  }
  post({ type: 'train-preparing', text: 'starting a TensorFlow.js backend…' });
  let report: BackendReport;
  try {
    report = await ensureBackend(run.backends);
  } catch (e) {
    post({ type: 'train-error', message: `no backend could start: ${backendError(e)}` });
    return;
  }
  // WebGPU does not say how much memory the GPU has: the page's assumption is the limit. wasm:
  // the Trainer's own (the 4 GiB heap).
  const memoryLimitBytes = report.chosen === 'webgpu' ? run.gpuMemoryBytes : undefined;
  /** The memory check's refusal, said for the page. */
  const tooBig = (e: unknown) => {
    const why = (e as Error).message.replace(/^Error in [\w.]+: /, '');
    return new Error(
      `This network is too big to train on ${report.chosen} here: ${why}.` +
        (report.chosen === 'webgpu'
          ? ` WebGPU does not tell a page how much memory the GPU has; this page assumes ${gib(run.gpuMemoryBytes)} (add ?gpuMemory=GiB to the address to change that).`
          : ''),
    );
  };
  let opened: Awaited<ReturnType<typeof openRun>> | undefined;
  try {
    if (run.from.kind === 'new') {
      // Before building it: a network too big for the heap or the GPU is refused from its size
      // estimate (pixelcnn-dist's fitMicroBatch, as the Trainer sizes its micro-batches), not
      // found out by a crashed worker, or by making its variables.
      const s = run.from.settings;
      const { plan, numParameters } = networkSize(s.model);
      const limit = memoryLimitBytes ?? backendMemoryLimit(report.chosen);
      const asked = trainerOptions(s.train).microBatchSize ?? s.train.batchSize;
      const fit = fitMicroBatch(plan, numParameters, s.train.batchSize, asked, limit);
      if (!fit.fits && limit !== undefined) {
        const why = microBatchRefusal(fit, {
          bytes: limit,
          wasmHeap: memoryLimitBytes === undefined,
        });
        throw tooBig(
          new Error(fit.largest >= 1 ? why : `${why}; use fewer filters, resnets or hierarchies`),
        );
      }
    }
    opened = await openRun(run, memoryLimitBytes);
    const { trainer } = opened;
    let { settings } = opened;
    if (run.steps !== undefined)
      settings = { ...settings, train: { ...settings.train, steps: run.steps } };
    const B = settings.train.batchSize;
    let microBatch: number;
    try {
      microBatch = trainer.microBatchSizeFor(B);
    } catch (e) {
      throw tooBig(e);
    }
    const estimateBytes = estimateTrainingMemory(
      trainer.dist.plan,
      trainer.dist.numParameters,
      microBatch,
    ).bytes;
    const dataset = await openTrainingData(settings.data, run.source, {
      onProgress: (text) => post({ type: 'train-preparing', text }),
    });
    if (old) {
      old.trainer.dispose();
      old.trainer.dist.dispose();
    }
    const metrics = opened.rows;
    const session = new TrainingSession({
      settings,
      trainer,
      dataset,
      progress: opened.progress,
      metrics,
      backend: report.chosen,
      cadence: run.cadence,
      exclusive: worker.lock,
      yieldToEvents,
      autosave: async (t, meta) => {
        const slot = worker.nextSlot;
        worker.nextSlot = 1 - slot; // even after a failed save: the other slot stays whole
        await saveAutosave(slot, t, meta, session.metrics);
      },
      events: {
        step: (row, live) => post({ type: 'train-step', row, live }),
        eval: (row) => post({ type: 'train-eval', row }),
        grid: (grid) => {
          const g = { ...grid, real: grid.real.slice() };
          post({ type: 'train-grid', grid: g }, [g.generated.buffer, g.real.buffer]);
        },
        saved: (step) => post({ type: 'train-saved', step }),
        saveFailed: (message) => post({ type: 'train-save-failed', message }),
        state: (state, message) =>
          post({ type: 'train-state', state, message, step: session.progress.step }),
      },
    });
    worker.session = session;
    post({
      type: 'train-started',
      settings,
      progress: opened.progress,
      metrics,
      numParameters: trainer.dist.numParameters,
      microBatch,
      estimateBytes,
      limitBytes: memoryLimitBytes ?? backendMemoryLimit(report.chosen),
      trainSize: dataset.size('train'),
      heldOutSize: dataset.size('test'),
      resumedAt: opened.resumedAt,
    });
    const samplers = Object.keys(SAMPLERS);
    worker.sampler = chooseLiveSampler(samplers);
    post({
      type: 'loaded',
      trainedHere: true,
      facts: {
        config: trainer.dist.config,
        classes: [...settings.data.classes],
        heldOut: settings.data.heldOut,
        perClass: settings.data.perClass,
        weights: trainer.ema ? 'ema' : 'weights',
        train: settings.train as unknown as Record<string, unknown>,
        label: 'the run training in this page',
      },
      numParameters: trainer.dist.numParameters,
      samplers,
      sampler: worker.sampler,
      ms: 0,
    });
    void session.run();
  } catch (e) {
    if (opened && worker.session?.trainer !== opened.trainer) {
      opened.trainer.dispose();
      opened.trainer.dist.dispose();
    }
    post({ type: 'train-error', message: (e as Error).message });
  }
}

/** The run as a zip of its run directory (settings, metrics, the checkpoint). */
async function download(): Promise<void> {
  const session = worker.session;
  if (!session) {
    post({ type: 'train-archive-error', message: 'nothing has been trained here yet' });
    return;
  }
  try {
    const { fileName, bytes } = await worker.lock(async () => {
      const meta = session.meta();
      const files = await encodeCheckpoint(session.trainer, {
        extra: meta as unknown as Record<string, unknown>,
      });
      const step = meta.progress.step;
      const root = `pixelcnn-run-step-${String(step).padStart(8, '0')}`;
      const entries = runArchiveEntries(root, {
        settings: meta.settings,
        progress: meta.progress,
        metrics: session.metrics,
        checkpoint: files,
      });
      return { fileName: `${root}.zip`, bytes: zipStore(entries) };
    });
    post({ type: 'train-archive', fileName, bytes }, [bytes.buffer]);
  } catch (e) {
    post({ type: 'train-archive-error', message: (e as Error).message });
  }
}

scope.addEventListener('message', (e) => {
  const req = e.data;
  switch (req.type) {
    case 'load':
      void load(req);
      break;
    case 'load-pretrained':
      void loadPretrained(req);
      break;
    case 'sample':
      void sample(req);
      break;
    case 'stop':
      worker.running.get(req.id)?.abort();
      break;
    case 'train-start':
      void trainStart(req.run);
      break;
    case 'train-control': {
      const s = worker.session;
      if (!s) break;
      if (req.action === 'pause') s.pause();
      else if (req.action === 'resume') s.resume();
      else if (req.action === 'stop') s.stop();
      else if (s.state === 'running' || s.state === 'paused') void s.save();
      break;
    }
    case 'train-download':
      void download();
      break;
    case 'autosave-find':
      void listAutosaves().then((found) => post({ type: 'autosave', found: found[0] ?? null }));
      break;
    case 'autosave-discard':
      void removeAutosaves().then(() => post({ type: 'autosave', found: null }));
      break;
  }
});
