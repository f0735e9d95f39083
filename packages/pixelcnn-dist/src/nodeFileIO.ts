import fs from 'node:fs/promises';
import path from 'node:path';
import { makeDirs, writeFileAtomic } from '@pixelcnn/node-fs';
import type * as tf from '@tensorflow/tfjs-core';
import { artifactsToModelJSON, modelJSONToArtifacts, WEIGHTS_FILE } from './serialization';

function locate(target: string): { dir: string; jsonPath: string } {
  if (target.startsWith('file://')) target = target.slice('file://'.length);
  if (target.endsWith('.json')) return { dir: path.dirname(target), jsonPath: target };
  return { dir: target, jsonPath: path.join(target, 'model.json') };
}

/** A tfjs IO handler with both `save` and `load`. */
export interface NodeFileIO extends tf.io.IOHandler {
  save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult>;
  load(): Promise<tf.io.ModelArtifacts>;
}

/**
 * A tfjs IO handler that saves and loads with node:fs, no tfjs-node needed: `model.json` plus
 * `weights.bin` in a directory (tfjs-node's `file://` layout). `target` is the directory, or the
 * path of the model.json (its weights go beside it); a leading `file://` is accepted.
 *
 * ```ts
 * await dist.save(nodeFileIO('out/model'));
 * const again = await PixelCNN.load(nodeFileIO('out/model'));
 * ```
 */
export function nodeFileIO(target: string): NodeFileIO {
  const { dir, jsonPath } = locate(target);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('Error in nodeFileIO: binary modelTopology is not supported');
      }
      await makeDirs(dir);
      const json = artifactsToModelJSON(artifacts, WEIGHTS_FILE);
      const data = artifacts.weightData;
      const buffers = data == null ? [] : Array.isArray(data) ? data : [data];
      const bytes = Buffer.concat(buffers.map((b) => new Uint8Array(b)));
      const text = JSON.stringify(json);
      // Each file is replaced atomically, the weights first: a crash leaves the old model, the
      // new one, or new weights beside the old model.json, which load refuses by its weights'
      // CRC (never a torn file, never a silent mix).
      await writeFileAtomic(path.join(dir, WEIGHTS_FILE), bytes);
      await writeFileAtomic(jsonPath, text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(text),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(json.weightsManifest)),
          weightDataBytes: bytes.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await fs.readFile(jsonPath, 'utf8');
      } catch (e) {
        throw new Error(`Error in nodeFileIO: cannot read ${jsonPath}: ${(e as Error).message}`);
      }
      const parsed = modelJSONToArtifacts('nodeFileIO', text, new ArrayBuffer(0));
      const manifest = (JSON.parse(text) as tf.io.ModelJSON).weightsManifest;
      const parts: Buffer[] = [];
      for (const group of manifest) {
        for (const p of group.paths) {
          const file = path.resolve(path.dirname(jsonPath), p);
          try {
            parts.push(await fs.readFile(file));
          } catch (e) {
            throw new Error(
              `Error in nodeFileIO: cannot read weights file ${file}: ${(e as Error).message}`,
            );
          }
        }
      }
      const joined = Buffer.concat(parts);
      parsed.weightData = joined.buffer.slice(
        joined.byteOffset,
        joined.byteOffset + joined.byteLength,
      ) as ArrayBuffer;
      return parsed;
    },
  };
}
