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
const FILES: Record<string, () => ModelFiles> = {
  shapes4: () => ({
    model: new URL('../models/shapes4/model.json', import.meta.url),
    weights: new URL('../models/shapes4/weights.bin', import.meta.url),
    classifier: new URL('../models/shapes4/classifier/model.json', import.meta.url),
    classifierWeights: new URL('../models/shapes4/classifier/weights.bin', import.meta.url),
    sheet: new URL('../models/shapes4/sheet.png', import.meta.url),
  }),
};

export const MODELS: Readonly<Record<string, ModelInfo>> = {
  shapes4: {
    name: 'shapes4',
    classes: ['rainbow', 'lollipop', 'eye', 'apple'],
    summary:
      '1 resnet, 3 hierarchies, 64 filters, 5 mixture components (2,298,526 parameters); batch 32, Adam 1e-3 x0.9995 a step, EMA 0.999; every drawing of the 4 classes in the mirror, 10% held out; 830 steps',
    config: {
      imageShape: [28, 28, 1],
      conditionalShape: [],
      numClasses: 4,
      numResnet: 1,
      numHierarchies: 3,
      numFilters: 64,
      numLogisticMix: 5,
      receptiveFieldDims: [3, 3],
      dropoutP: 0,
      resnetActivation: 'concat_elu',
      useWeightNorm: true,
      useDataInit: true,
      high: 255,
      low: 0,
      name: 'PixelCNN',
      seed: 1,
      convention: 'tfp',
      constantChannel: false,
      gateInitScale: 1,
    },
    record: {
      command:
        'PIXELCNN_WASM_THREADS=1 node apps/trainer/dist/cli.js train --classes rainbow,lollipop,eye,apple --per-class 0 --held-out 0.1 --num-resnet 1 --num-hierarchies 3 --num-filters 64 --num-logistic-mix 5 --dropout 0 --batch-size 32 --lr 1e-3 --lr-decay 0.9995 --ema 0.999 --seed 1 --steps 2100 --eval-images 400 --checkpoint-every 300 --keep-checkpoints 8 --data /work/shared/quickdraw --backend wasm --out /work/wt/i20/runs/pretrained/shapes4  # steps 1-172, stopped by Ctrl-C; then: PIXELCNN_WASM_THREADS=1 node apps/trainer/dist/cli.js train --resume /work/wt/i20/runs/pretrained/shapes4 --data /work/shared/quickdraw --max-minutes 112  # steps 173-830, interrupted (SIGINT, a checkpoint written) at 14:08 UTC, 23 minutes before that limit',
      commit:
        '8cb4904 (steps 1-172), 48beb74 (steps 173-830); evaluated, sampled and shipped at 2fe393f',
      seed: 1,
      steps: 830,
      trainMinutes: 111.7,
      machine:
        "the repository's shared 2-core machine (no GPU), wasm with 1 thread, other jobs on the other core: 8.1 s a step on average (3.35 s on an idle machine with 2 threads)",
      heldOut: { bitsPerDim: 1.239534965382525, ci95: 0.020772411104605815, images: 1628 },
      recognised: {
        sampling: { perClass: 64, seed: 1, temperature: 1 },
        generated: { hits: 201, n: 256, share: 201 / 256 },
        real: { hits: 1570, n: 1628, share: 1570 / 1628 },
      },
      data: { perClass: 0, heldOut: 0.1 },
    },
  },
};

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
