// The model runs here, off the page's thread: load a run's model, sample pixel by pixel and
// post every pixel as it is drawn, complete drawings, stop on request.
import { type BackendName, initBackend } from '@pixelcnn/backend';
import { PixelCNN, type PixelProgress, SAMPLERS } from '@pixelcnn/pixelcnn-dist';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { fetchModelArtifacts, locateModel, NoModelError } from '../lib/loadModel';
import type { WorkerMessage, WorkerRequest } from '../lib/protocol';

interface Scope {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
  location: { href: string };
}
const scope = self as unknown as Scope;
const post = (m: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let model: PixelCNN | undefined;
let sampler = 'naive';
const running = new Map<number, AbortController>();

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
 * WebGPU adapter, or webgl, only when the page's `?backend=` names it).
 */
async function startBackend(param: string | undefined): Promise<void> {
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
}

async function load(req: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  const t0 = performance.now();
  try {
    await startBackend(req.backends);
  } catch (e) {
    post({
      type: 'load-error',
      message: (e as Error).message.replace(/^Error in initBackend: /, ''),
    });
    return;
  }
  const fetchFn = (url: string) => fetch(url, { cache: 'no-store' });
  try {
    const loc = await locateModel(req.runBase, fetchFn, req.hint);
    const { artifacts, facts } = await fetchModelArtifacts(loc, fetchFn, req.weights);
    model?.dispose();
    model = PixelCNN.fromArtifacts(artifacts);
    const samplers = Object.keys(SAMPLERS);
    sampler = chooseLiveSampler(samplers);
    post({
      type: 'loaded',
      facts: { ...facts, config: model.config },
      numParameters: model.numParameters,
      samplers,
      sampler,
      ms: performance.now() - t0,
    });
  } catch (e) {
    if (e instanceof NoModelError) post({ type: 'no-model', tried: e.tried });
    else post({ type: 'load-error', message: (e as Error).message });
  }
}

async function sample(req: Extract<WorkerRequest, { type: 'sample' }>): Promise<void> {
  if (!model) {
    post({ type: 'sample-error', id: req.id, message: 'no model is loaded' });
    return;
  }
  const ctl = new AbortController();
  running.set(req.id, ctl);
  const t0 = performance.now();
  const conditional = model.config.conditionalShape != null;
  const cond = conditional
    ? tf.tensor1d(new Int32Array(req.n).fill(req.label ?? 0), 'int32')
    : undefined;
  // completion: the kept rows of the sketch, for every sample (pixelcnn-dist checks them)
  const prefix = req.prefix
    ? { images: tf.tensor3d(req.prefix, model.config.imageShape), rows: req.keepRows ?? 0 }
    : undefined;
  try {
    const out = await model.sample(req.n, {
      conditionalInput: cond,
      seed: req.seed,
      temperature: req.temperature,
      sampler: req.sampler ?? sampler,
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
    post({ type: 'done', id: req.id, images, ms: performance.now() - t0 }, [images.buffer]);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || ctl.signal.aborted)
      post({ type: 'stopped', id: req.id });
    else post({ type: 'sample-error', id: req.id, message: (e as Error).message });
  } finally {
    cond?.dispose();
    prefix?.images.dispose();
    running.delete(req.id);
  }
}

scope.addEventListener('message', (e) => {
  const req = e.data;
  if (req.type === 'load') void load(req);
  else if (req.type === 'sample') void sample(req);
  else if (req.type === 'stop') running.get(req.id)?.abort();
});
