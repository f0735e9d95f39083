import { PixelCNN, type PixelCNNConfig } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import { DrawingClassifier } from './classifier';

/** How a shipped model was made and what it reaches, recorded when it was trained. */
export interface ModelRecord {
  /** The exact command that trained it (the repository's `pixelcnn` CLI). */
  command: string;
  /** Git commit of the repository the command ran in. */
  commit: string;
  seed: number;
  steps: number;
  /** Training wall time and the machine it ran on. */
  trainMinutes: number;
  machine: string;
  /** Held-out bits/dim of the shipped (EMA) weights over every held-out drawing, 95% CI. */
  heldOut: { bitsPerDim: number; ci95: number; images: number };
  /** The shipped classifier's verdict (see {@link recognitionShare}). */
  recognised: {
    /** `pixelcnn sample` options of the judged samples: per class, seed, temperature. */
    sampling: { perClass: number; seed: number; temperature: number };
    /** Generated drawings assigned to the class they were sampled for. */
    generated: { hits: number; n: number; share: number };
    /** Real held-out drawings assigned to their class (the classifier's accuracy). */
    real: { hits: number; n: number; share: number };
  };
  /** The QuickDraw rows used: the first `perClass` of each class, `heldOut` of them held out. */
  data: { perClass: number; heldOut: number };
}

/** A pretrained class-conditional PixelCNN++ of QuickDraw drawings shipped in this package. */
export interface ModelInfo {
  name: string;
  /** Class names by label: label i draws `classes[i]`. */
  classes: readonly string[];
  /** One line: the network and its training. */
  summary: string;
  /** The network's configuration (as saved in its model.json). */
  config: PixelCNNConfig & { imageShape: [number, number, number] };
  record: ModelRecord;
}

/** Where a shipped model's files are (file: URLs in Node, bundled asset URLs in a web app). */
export interface ModelFiles {
  model: URL;
  weights: URL;
  classifier: URL;
  classifierWeights: URL;
  /** Real drawings (top) and generated ones (below) per class, PNG. */
  sheet: URL;
}

/**
 * The shipped models. Their files sit in this package's `models/<name>/`, found with
 * `new URL(literal, import.meta.url)`, which Node resolves to the installed files and bundlers
 * (Vite, webpack 5, esbuild with a file loader) copy as assets.
 */
const FILES: Record<string, () => ModelFiles> = {};

export const MODELS: Readonly<Record<string, ModelInfo>> = {};

/** Names of the shipped models. */
export const MODEL_NAMES: readonly string[] = Object.keys(MODELS);

/** A shipped model's description; a clear error naming the shipped ones for another name. */
export function modelInfo(name: string): ModelInfo {
  const info = MODELS[name];
  if (!info) {
    throw new Error(
      `Error in modelInfo: no pretrained model '${name}'; this package ships: ${MODEL_NAMES.join(', ') || 'none'}`,
    );
  }
  return info;
}

/** The URLs of a shipped model's files. */
export function modelFiles(name: string): ModelFiles {
  modelInfo(name);
  return FILES[name]();
}

/** Options of the fetch-based loaders. */
export interface FetchOptions {
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

async function fetchOk(f: typeof fetch, url: URL): Promise<Response> {
  let r: Response;
  try {
    r = await f(url.href);
  } catch (e) {
    throw new Error(`cannot fetch ${url.href}: ${(e as Error).message}`);
  }
  if (!r.ok) throw new Error(`cannot fetch ${url.href}: HTTP ${r.status}`);
  return r;
}

/**
 * A tfjs IO handler that loads a model.json and its one weights file from two URLs with fetch:
 * the weights URL is given rather than resolved beside the JSON, because bundlers rename assets.
 */
export function fetchHandler(json: URL, weights: URL, o: FetchOptions = {}): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const f = o.fetch ?? globalThis.fetch;
      if (!f) throw new Error('Error in fetchHandler: no fetch here; pass { fetch }');
      try {
        const [j, w] = await Promise.all([fetchOk(f, json), fetchOk(f, weights)]);
        const parsed = (await j.json()) as tf.io.ModelJSON;
        if (!Array.isArray(parsed?.weightsManifest))
          throw new Error(`${json.href} has no weightsManifest`);
        const specs = parsed.weightsManifest.flatMap((g) => g.weights);
        return tf.io.getModelArtifactsForJSONSync(parsed, specs, await w.arrayBuffer());
      } catch (e) {
        throw new Error(
          `Error in fetchHandler: ${(e as Error).message.replace(/^Error in fetchHandler: /, '')}`,
        );
      }
    },
  };
}

/**
 * A shipped model's IO handler for `PixelCNN.load` by fetch: in the browser (the files as
 * bundled assets or served beside the package) or from any http(s) mirror. In Node, use
 * `@pixelcnn/quickdraw-models/node`, which reads the files with node:fs.
 */
export function modelHandler(name: string, o: FetchOptions = {}): tf.io.IOHandler {
  const f = modelFiles(name);
  return fetchHandler(f.model, f.weights, o);
}

/** Load a shipped model with fetch (see {@link modelHandler}). */
export function loadModel(name: string, o: FetchOptions = {}): Promise<PixelCNN> {
  return PixelCNN.load(modelHandler(name, o));
}

/** Load the classifier shipped with a model (trained on the same classes) with fetch. */
export async function loadClassifier(
  name: string,
  o: FetchOptions = {},
): Promise<DrawingClassifier> {
  const f = modelFiles(name);
  return DrawingClassifier.load(fetchHandler(f.classifier, f.classifierWeights, o));
}
