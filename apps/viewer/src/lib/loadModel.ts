import {
  type CheckpointFiles,
  decodeTrainerState,
  modelJSONToArtifacts,
  type PixelCNNConfig,
  type ResolvedPixelCNNConfig,
  TRAINER_BIN_FILE,
} from '@pixelcnn/pixelcnn-dist';
import { encodeArtifacts } from '@pixelcnn/pixelcnn-dist/internals';
import {
  CHECKPOINT_FILE,
  type CheckpointMeta,
  type HeldOutEval,
  locateCheckpoint,
  NoCheckpointError,
  parseCheckpointMeta,
  type RunReader,
} from '@pixelcnn/pixelcnn-dist/run';
import * as tf from '@tensorflow/tfjs-core';

/** Which weights to load: the raw ones or the trainer's Polyak average (what it samples with). */
export type WeightGroup = 'weights' | 'ema';

/** The subset of `fetch` the loaders use (so tests can serve files from disk). */
export type FetchLike = (url: string) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Where a run's model was found. */
export interface ModelLocation {
  /**
   * A checkpoint of the trainer (a `PixelCNN.save` directory with the trainer's state:
   * trainer.json + trainer.bin) or a plain `PixelCNN.save` (`model.json` + weights).
   */
  kind: 'trainer' | 'pixelcnn';
  /** URL of trainer.json / model.json. */
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
  for (const at of h ? [h, ''] : ['']) {
    try {
      const found = await locateCheckpoint(reader, at);
      return trainer(found.dir, found.text);
    } catch (e) {
      if (!(e instanceof NoCheckpointError)) throw e;
      tried.push(...e.tried);
    }
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

/** The weights of a model save as tfjs artifacts: `<dir>model.json` and the files it lists. */
async function fetchSave(
  fetchFn: FetchLike,
  dir: string,
  label: string,
  text?: string,
): Promise<tf.io.ModelArtifacts> {
  const jsonText = text ?? (await tryText(fetchFn, `${dir}model.json`));
  if (jsonText === null) {
    throw new Error(`${label}/model.json is missing (HTTP 404 for ${dir}model.json)`);
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(jsonText);
  } catch (e) {
    throw new Error(`${label}/model.json is not valid JSON (${(e as Error).message})`);
  }
  const paths = Array.isArray(json?.weightsManifest)
    ? json.weightsManifest.flatMap((g) => g.paths)
    : [];
  const parts: ArrayBuffer[] = [];
  for (const p of paths)
    parts.push(await fetchBinary(fetchFn, `${dir}${encodePath(p)}`, `${label}/${p}`));
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  const joined = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    joined.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return modelJSONToArtifacts('loadModel', json, joined.buffer);
}

/** Whether a checkpoint's trainer.json says the trainer kept an EMA of the weights. */
function hasEma(trainerJson: string): boolean {
  try {
    return JSON.parse(trainerJson)?.ema?.shadows?.length > 0;
  } catch {
    return false;
  }
}

/**
 * The checkpoint's model with its EMA weights: the save's config and metadata with the EMA
 * shadows of the trainer's state (pixelcnn-dist's decodeTrainerState) as the weights.
 */
async function emaArtifacts(
  saved: tf.io.ModelArtifacts,
  trainerJson: string,
  bin: ArrayBuffer,
  label: string,
): Promise<tf.io.ModelArtifacts> {
  const { snapshot } = decodeTrainerState(trainerJson, new Uint8Array(bin), {
    fn: 'loadModel',
    jsonName: `${label}/trainer.json`,
    binName: `${label}/${TRAINER_BIN_FILE}`,
  });
  if (!snapshot.ema) throw new Error(`${label}/trainer.json has no EMA of the weights`);
  const topo = saved.modelTopology as { config: ResolvedPixelCNNConfig };
  const udm = saved.userDefinedMetadata as { metadata?: Record<string, unknown> } | undefined;
  const weights = snapshot.ema.shadows.map((s) => ({
    name: s.name,
    tensor: tf.tensor(s.data, s.shape, 'float32'),
  }));
  try {
    return await encodeArtifacts(topo.config, weights, {
      initialized: true,
      metadata: udm?.metadata,
    });
  } finally {
    tf.dispose(weights.map((w) => w.tensor));
  }
}

/**
 * Fetch what `locateModel` found as `@pixelcnn/pixelcnn-dist` model artifacts (for
 * `PixelCNN.fromArtifacts`, which checks the config and every weight name and shape) plus the
 * facts the page shows. A trainer checkpoint is a `PixelCNN.save` directory: its model.json and
 * weights are loaded as they are, or (by default, when the trainer kept one: what it samples
 * with) with the EMA weights of its trainer state, unless `prefer` says 'weights'.
 */
export async function fetchModelArtifacts(
  loc: ModelLocation,
  fetchFn: FetchLike,
  prefer?: WeightGroup,
): Promise<{ artifacts: tf.io.ModelArtifacts; facts: ModelFacts; meta?: CheckpointMeta }> {
  const dir = dirOf(loc.url);
  if (loc.kind === 'trainer') {
    const meta = parseCheckpointMeta(loc.text, `${loc.label}/${CHECKPOINT_FILE}`);
    const saved = await fetchSave(fetchFn, dir, loc.label);
    const groups: WeightGroup[] = hasEma(loc.text) ? ['ema', 'weights'] : ['weights'];
    const group = prefer && groups.includes(prefer) ? prefer : groups[0];
    const artifacts =
      group === 'ema'
        ? await emaArtifacts(
            saved,
            loc.text,
            await fetchBinary(
              fetchFn,
              `${dir}${TRAINER_BIN_FILE}`,
              `${loc.label}/${TRAINER_BIN_FILE}`,
            ),
            loc.label,
          )
        : saved;
    const d = meta.settings.data;
    return {
      artifacts,
      meta,
      facts: {
        config: meta.settings.model,
        classes: [...d.classes],
        heldOut: d.heldOut,
        perClass: d.perClass,
        step: meta.progress.step,
        weights: group,
        lastEval: meta.progress.lastEval,
        train: meta.settings.train as Record<string, unknown> | undefined,
        label: loc.label,
      },
    };
  }
  const artifacts = await fetchSave(fetchFn, dir, loc.label, loc.text);
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

/**
 * The four files of a trainer checkpoint that `locateModel` found (`kind: 'trainer'`), for
 * pixelcnn-dist's `decodeCheckpoint`: to continue training the served run in the page.
 */
export async function fetchCheckpointFiles(
  loc: ModelLocation,
  fetchFn: FetchLike,
): Promise<CheckpointFiles> {
  if (loc.kind !== 'trainer') {
    throw new Error(
      `${loc.label} is a model save without the trainer's state (trainer.json, trainer.bin): it can be sampled, not continued`,
    );
  }
  const dir = dirOf(loc.url);
  const modelJson = await tryText(fetchFn, `${dir}model.json`);
  if (modelJson === null) throw new Error(`${loc.label}/model.json is missing`);
  let paths: string[] = [];
  try {
    paths = (JSON.parse(modelJson) as tf.io.ModelJSON).weightsManifest.flatMap((g) => g.paths);
  } catch (e) {
    throw new Error(`${loc.label}/model.json is not a model save (${(e as Error).message})`);
  }
  const parts: Uint8Array[] = [];
  for (const p of paths) {
    parts.push(
      new Uint8Array(await fetchBinary(fetchFn, `${dir}${encodePath(p)}`, `${loc.label}/${p}`)),
    );
  }
  const weights = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let off = 0;
  for (const p of parts) {
    weights.set(p, off);
    off += p.length;
  }
  const bin = await fetchBinary(
    fetchFn,
    `${dir}${TRAINER_BIN_FILE}`,
    `${loc.label}/${TRAINER_BIN_FILE}`,
  );
  return {
    'model.json': modelJson,
    'weights.bin': weights,
    'trainer.json': loc.text,
    'trainer.bin': new Uint8Array(bin),
  };
}
