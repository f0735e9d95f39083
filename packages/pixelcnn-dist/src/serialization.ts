import * as tf from '@tensorflow/tfjs-core';
import { type PixelCNNConfig, type ResolvedPixelCNNConfig, resolveConfig } from './config';

/** `format` field of our model artifacts / model.json. */
export const PIXELCNN_FORMAT = 'pixelcnn-dist';
/** Version of the layout of `modelTopology` and of the weight names. */
export const PIXELCNN_FORMAT_VERSION = 1;
/** File name of the weights next to model.json (as tfjs-node's file:// handler writes). */
export const WEIGHTS_FILE = 'weights.bin';

/** A weight by its stable name (independent of the tfjs variable's engine-wide name). */
export interface NamedWeight {
  name: string;
  tensor: tf.Tensor;
}

/** What {@link decodeArtifacts} reads back. */
export interface DecodedModel {
  config: ResolvedPixelCNNConfig;
  /** Whether data-dependent init had run (or training had happened) when saved. */
  initialized: boolean;
  /** Weights by stable name; the caller disposes them. */
  weights: Map<string, tf.Tensor>;
  /** Whatever the saver put in `metadata` (e.g. a trainer's step count). */
  metadata: Record<string, unknown>;
}

/** CRC-32 (IEEE) of bytes: detects corrupt weight files that have the right length. */
export function crc32(bytes: Uint8Array): number {
  let table = crcTable;
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    crcTable = table;
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
let crcTable: Uint32Array | undefined;

function joinWeightData(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/**
 * Encode a PixelCNN as tfjs model artifacts: `modelTopology` holds the resolved config,
 * `weightSpecs`/`weightData` the weights in tfjs's binary format (float32, little-endian, in the
 * given order), `userDefinedMetadata` the init flag, a CRC-32 of the weights, and `metadata`.
 */
export async function encodeArtifacts(
  config: ResolvedPixelCNNConfig,
  weights: readonly NamedWeight[],
  o: { initialized: boolean; metadata?: Record<string, unknown> },
): Promise<tf.io.ModelArtifacts> {
  const { data, specs } = await tf.io.encodeWeights(
    weights.map((w) => ({ name: w.name, tensor: w.tensor })),
  );
  const buffer = joinWeightData(data);
  return {
    format: PIXELCNN_FORMAT,
    generatedBy: `@pixelcnn/pixelcnn-dist format ${PIXELCNN_FORMAT_VERSION}`,
    convertedBy: null,
    modelTopology: {
      class_name: 'PixelCNN',
      formatVersion: PIXELCNN_FORMAT_VERSION,
      config: JSON.parse(JSON.stringify(config)),
    },
    weightSpecs: specs,
    weightData: buffer,
    userDefinedMetadata: {
      initialized: o.initialized,
      weightsCrc32: crc32(new Uint8Array(buffer)),
      metadata: (o.metadata ?? {}) as Record<string, unknown>,
    },
  };
}

/**
 * Check and decode model artifacts written by {@link encodeArtifacts}, throwing
 * "Error in <fn>: ..." when they are not ours, were written by another format version, have a
 * bad config, or their weights are truncated or corrupt. With `expected` (the weight names and
 * shapes of an existing network), also check the weights match it exactly.
 */
export function decodeArtifacts(
  fn: string,
  artifacts: tf.io.ModelArtifacts,
  expected?: ReadonlyArray<{ name: string; shape: readonly number[] }>,
): DecodedModel {
  const { buffer, specs, ...rest } = checkArtifacts(fn, artifacts, expected);
  return { ...rest, weights: new Map(Object.entries(tf.io.decodeWeights(buffer, specs))) };
}

/**
 * The checks of {@link decodeArtifacts} without making tensors (no backend needed): format,
 * version, config, weight sizes and CRC-32, and the expected weights. Returns what decoding needs.
 */
export function checkArtifacts(
  fn: string,
  artifacts: tf.io.ModelArtifacts,
  expected?: ReadonlyArray<{ name: string; shape: readonly number[] }>,
): Omit<DecodedModel, 'weights'> & { buffer: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] } {
  if (artifacts == null || typeof artifacts !== 'object') {
    throw new Error(`Error in ${fn}: expected model artifacts, got ${artifacts}`);
  }
  if (artifacts.format !== PIXELCNN_FORMAT) {
    throw new Error(
      `Error in ${fn}: not a PixelCNN save (format '${artifacts.format}', expected '${PIXELCNN_FORMAT}')`,
    );
  }
  const topo = artifacts.modelTopology as
    | { class_name?: string; formatVersion?: number; config?: PixelCNNConfig }
    | undefined;
  if (topo == null || topo instanceof ArrayBuffer || topo.config == null) {
    throw new Error(`Error in ${fn}: the model JSON has no PixelCNN config in modelTopology`);
  }
  if (topo.formatVersion !== PIXELCNN_FORMAT_VERSION) {
    throw new Error(
      `Error in ${fn}: saved with format version ${topo.formatVersion}; this library reads version ${PIXELCNN_FORMAT_VERSION}`,
    );
  }
  let config: ResolvedPixelCNNConfig;
  try {
    config = resolveConfig(topo.config);
  } catch (e) {
    throw new Error(`Error in ${fn}: the saved config is invalid: ${(e as Error).message}`);
  }
  const specs = artifacts.weightSpecs;
  if (!Array.isArray(specs) || artifacts.weightData == null) {
    throw new Error(`Error in ${fn}: the artifacts have no weights (weightSpecs / weightData)`);
  }
  const buffer = joinWeightData(artifacts.weightData);
  let needed = 0;
  for (const s of specs) {
    if (s.dtype !== 'float32' || s.quantization) {
      throw new Error(
        `Error in ${fn}: weight '${s.name}' is ${s.quantization ? 'quantized ' : ''}${s.dtype}; only float32 is supported`,
      );
    }
    needed += 4 * s.shape.reduce((a, b) => a * b, 1);
  }
  if (buffer.byteLength !== needed) {
    throw new Error(
      `Error in ${fn}: the weights data has ${buffer.byteLength} bytes but the weight specs need ${needed} ` +
        `(${buffer.byteLength < needed ? 'truncated' : 'corrupt or mismatched'} weights file)`,
    );
  }
  const meta = (artifacts.userDefinedMetadata ?? {}) as {
    initialized?: boolean;
    weightsCrc32?: number;
    metadata?: Record<string, unknown>;
  };
  if (
    typeof meta.weightsCrc32 === 'number' &&
    crc32(new Uint8Array(buffer)) !== meta.weightsCrc32
  ) {
    throw new Error(
      `Error in ${fn}: the weights data fails its CRC-32 check (corrupt weights file, or a weights file from another save)`,
    );
  }
  if (expected) {
    const saved = new Map(specs.map((s) => [s.name, s.shape]));
    for (const e of expected) {
      const s = saved.get(e.name);
      if (!s) {
        throw new Error(
          `Error in ${fn}: the file has no weight '${e.name}' (saved with other parameters?)`,
        );
      }
      if (s.length !== e.shape.length || s.some((d, i) => d !== e.shape[i])) {
        throw new Error(
          `Error in ${fn}: weight '${e.name}' has shape [${s.join(', ')}] in the file but [${e.shape.join(', ')}] in this network (saved with other parameters?)`,
        );
      }
    }
    if (specs.length !== expected.length) {
      const names = new Set(expected.map((e) => e.name));
      const extra = specs.find((s) => !names.has(s.name));
      throw new Error(
        `Error in ${fn}: the file has ${specs.length} weights, this network ${expected.length}` +
          `${extra ? ` (e.g. '${extra.name}' is not in this network)` : ''} (saved with other parameters?)`,
      );
    }
  }
  return {
    config,
    initialized: meta.initialized === true,
    metadata: meta.metadata ?? {},
    buffer,
    specs,
  };
}

/** model.json contents (tfjs's `ModelJSON`) for artifacts whose weights go in one file `weightsPath`. */
export function artifactsToModelJSON(
  artifacts: tf.io.ModelArtifacts,
  weightsPath = WEIGHTS_FILE,
): tf.io.ModelJSON {
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as Record<string, unknown>,
    weightsManifest: [{ paths: [weightsPath], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.format !== undefined) json.format = artifacts.format;
  if (artifacts.generatedBy !== undefined) json.generatedBy = artifacts.generatedBy;
  if (artifacts.convertedBy !== undefined) json.convertedBy = artifacts.convertedBy;
  if (artifacts.userDefinedMetadata !== undefined) {
    json.userDefinedMetadata = artifacts.userDefinedMetadata;
  }
  return json;
}

/**
 * Artifacts from a model.json (object or text) and the bytes of its weights file(s), concatenated
 * in manifest order. Throws a clear error on text that is not JSON.
 */
export function modelJSONToArtifacts(
  fn: string,
  json: tf.io.ModelJSON | string,
  weightData: ArrayBuffer,
): tf.io.ModelArtifacts {
  let parsed: tf.io.ModelJSON;
  if (typeof json === 'string') {
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new Error(`Error in ${fn}: model.json is not valid JSON (${(e as Error).message})`);
    }
  } else {
    parsed = json;
  }
  if (parsed == null || typeof parsed !== 'object' || !Array.isArray(parsed.weightsManifest)) {
    throw new Error(`Error in ${fn}: model.json has no weightsManifest`);
  }
  const specs = parsed.weightsManifest.flatMap((g) => g.weights);
  return tf.io.getModelArtifactsForJSONSync(parsed, specs, weightData);
}
