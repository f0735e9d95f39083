import { modelJSONToArtifacts, type PixelCNNConfig } from '@pixelcnn/pixelcnn-dist';
import {
  CHECKPOINT_FILE,
  type HeldOutEval,
  locateCheckpoint,
  NoCheckpointError,
  type RunReader,
} from '@pixelcnn/pixelcnn-dist/run';
import type * as tf from '@tensorflow/tfjs-core';
import {
  availableWeightGroups,
  checkpointToArtifacts,
  parseTrainerCheckpoint,
  type TrainerCheckpoint,
  type WeightGroup,
} from './trainerCheckpoint';

/** The subset of `fetch` the loaders use (so tests can serve files from disk). */
export type FetchLike = (url: string) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Where a run's model was found. */
export interface ModelLocation {
  /** A trainer checkpoint (`checkpoint.json` + `<group>.bin`) or a `PixelCNN.save` (`model.json` + weights). */
  kind: 'trainer' | 'pixelcnn';
  /** URL of checkpoint.json / model.json. */
  url: string;
  /** Path shown to people, relative to the run directory (e.g. `checkpoints/step-00000150`). */
  label: string;
  /** The file's text (already fetched while looking). */
  text: string;
}

/** Thrown when a run directory holds no model at all (the page then explains how to make one). */
export class NoModelError extends Error {
  constructor(readonly tried: string[]) {
    super(`no model found (looked for ${tried.join(', ')})`);
    this.name = 'NoModelError';
  }
}

const dirOf = (url: string) => url.slice(0, url.lastIndexOf('/') + 1);
const join = (base: string, rel: string) => (base.endsWith('/') ? base : `${base}/`) + rel;
const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

async function tryText(fetchFn: FetchLike, url: string): Promise<string | null> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new Error(`could not fetch ${url}: ${(e as Error).message}`);
  }
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.text();
}

/** The run-directory contract's reader over HTTP (no listing), rooted at `runBase`. */
export function fetchRunReader(runBase: string, fetchFn: FetchLike): RunReader {
  return { readText: (rel) => tryText(fetchFn, join(runBase, encodePath(rel))) };
}

/**
 * Find the model of a run served under `runBase` (a URL ending in '/'), in this order:
 * `hint` (a checkpoint directory relative to the run, e.g. from the server), then the
 * checkpoint the run directory's (or the `checkpoints/` folder's) `latest.json` names, or the
 * run directory as one checkpoint (`@pixelcnn/pixelcnn-dist/run`'s `locateCheckpoint`), then a
 * `PixelCNN.save` (`model.json`). Throws {@link NoModelError} listing what it tried when none is
 * there.
 */
export async function locateModel(
  runBase: string,
  fetchFn: FetchLike,
  hint?: string,
): Promise<ModelLocation> {
  const reader = fetchRunReader(runBase, fetchFn);
  const tried: string[] = [];
  const trainer = (dir: string, text: string): ModelLocation => ({
    kind: 'trainer',
    url: join(runBase, encodePath(dir ? `${dir}/${CHECKPOINT_FILE}` : CHECKPOINT_FILE)),
    text,
    label: dir || '.',
  });
  const h = hint?.replace(/^\/+|\/+$/g, '');
  if (h !== undefined) {
    const rel = h ? `${h}/${CHECKPOINT_FILE}` : CHECKPOINT_FILE;
    tried.push(rel);
    const text = await reader.readText(rel);
    if (text !== null) return trainer(h, text);
  }
  try {
    const found = await locateCheckpoint(reader);
    return trainer(found.dir, found.text);
  } catch (e) {
    if (!(e instanceof NoCheckpointError)) throw e;
    tried.push(...e.tried);
  }
  tried.push('model.json');
  const url = join(runBase, 'model.json');
  const text = await tryText(fetchFn, url);
  if (text !== null) return { kind: 'pixelcnn', url, text, label: '.' };
  throw new NoModelError(tried);
}

/** What the viewer knows about a loaded model besides its weights. */
export interface ModelFacts {
  config: PixelCNNConfig;
  /** Class names by label (conditional models); empty when unknown. */
  classes: string[];
  /** Held-out fraction and rows per class used in training (to show held-out real drawings). */
  heldOut?: number;
  perClass?: number;
  /** Optimizer steps of the checkpoint. */
  step?: number;
  /** Which weights were loaded. */
  weights: WeightGroup | 'saved';
  lastEval?: HeldOutEval;
  /** The trainer's settings (shown as-is). */
  train?: Record<string, unknown>;
  /** Where it came from, e.g. `checkpoints/step-00000150`. */
  label: string;
}

async function fetchBinary(fetchFn: FetchLike, url: string, what: string): Promise<ArrayBuffer> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new Error(`could not fetch ${what}: ${(e as Error).message}`);
  }
  if (res.status === 404) throw new Error(`${what} is missing (HTTP 404 for ${url})`);
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} for ${url}`);
  return res.arrayBuffer();
}

/**
 * Fetch what `locateModel` found and turn it into `@pixelcnn/pixelcnn-dist` model artifacts
 * (for `PixelCNN.fromArtifacts`) plus the facts the page shows. Trainer checkpoints load their
 * EMA weights when they have them (what the trainer samples with) unless `prefer` says otherwise.
 */
export async function fetchModelArtifacts(
  loc: ModelLocation,
  fetchFn: FetchLike,
  prefer?: WeightGroup,
): Promise<{ artifacts: tf.io.ModelArtifacts; facts: ModelFacts; checkpoint?: TrainerCheckpoint }> {
  const dir = dirOf(loc.url);
  if (loc.kind === 'trainer') {
    const ck = parseTrainerCheckpoint(loc.text, `${loc.label}/checkpoint.json`);
    const groups = availableWeightGroups(ck);
    const group = prefer && groups.includes(prefer) ? prefer : groups[0];
    const data = await fetchBinary(fetchFn, `${dir}${group}.bin`, `${loc.label}/${group}.bin`);
    const artifacts = checkpointToArtifacts(ck, group, data, `${loc.label}/${group}.bin`);
    const d = ck.meta.settings.data;
    return {
      artifacts,
      checkpoint: ck,
      facts: {
        config: ck.meta.settings.model,
        classes: [...d.classes],
        heldOut: d.heldOut,
        perClass: d.perClass,
        step: ck.meta.progress.step,
        weights: group,
        lastEval: ck.meta.progress.lastEval,
        train: ck.meta.settings.train,
        label: loc.label,
      },
    };
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(loc.text);
  } catch (e) {
    throw new Error(`${loc.label}/model.json is not valid JSON (${(e as Error).message})`);
  }
  const paths = Array.isArray(json?.weightsManifest)
    ? json.weightsManifest.flatMap((g) => g.paths)
    : [];
  const parts: ArrayBuffer[] = [];
  for (const p of paths) parts.push(await fetchBinary(fetchFn, `${dir}${encodePath(p)}`, p));
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  const joined = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    joined.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  const artifacts = modelJSONToArtifacts('loadModel', json, joined.buffer);
  const topo = artifacts.modelTopology as { config?: PixelCNNConfig } | undefined;
  const meta = (artifacts.userDefinedMetadata as { metadata?: Record<string, unknown> } | undefined)
    ?.metadata;
  const classes = Array.isArray(meta?.classes) ? (meta.classes as unknown[]).map(String) : [];
  return {
    artifacts,
    facts: {
      config: (topo?.config ?? {}) as PixelCNNConfig,
      classes,
      step: typeof meta?.step === 'number' ? meta.step : undefined,
      weights: 'saved',
      label: loc.label,
    },
  };
}
