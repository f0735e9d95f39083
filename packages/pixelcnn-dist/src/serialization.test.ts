import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config';
import { nodeFileIO } from './node';
import {
  artifactsToModelJSON,
  crc32,
  decodeArtifacts,
  encodeArtifacts,
  modelJSONToArtifacts,
} from './serialization';

const config = resolveConfig({ imageShape: [4, 4, 1], numHierarchies: 2, numFilters: 2 });

describe('crc32', () => {
  it('matches the standard check value', () => {
    // CRC-32/ISO-HDLC check value of "123456789"
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describeBackends('encodeArtifacts / decodeArtifacts', () => {
  const make = async () => {
    const a = tf.tensor2d([1.5, -2, 3.25, 4], [2, 2]);
    const b = tf.tensor1d([0.1, 0.2, 0.3]);
    const art = await encodeArtifacts(
      config,
      [
        { name: 'x/v', tensor: a },
        { name: 'x/b', tensor: b },
      ],
      { initialized: true, metadata: { step: 7 } },
    );
    tf.dispose([a, b]);
    return art;
  };
  const expected = [
    { name: 'x/v', shape: [2, 2] },
    { name: 'x/b', shape: [3] },
  ];

  it('round-trips config, flags, metadata and exact weights', async () => {
    const art = await make();
    const d = decodeArtifacts('load', art, expected);
    expect(d.config).toEqual(config);
    expect(d.initialized).toBe(true);
    expect(d.metadata).toEqual({ step: 7 });
    expect(Array.from(await d.weights.get('x/v')!.data())).toEqual([1.5, -2, 3.25, 4]);
    expect(Array.from(await d.weights.get('x/b')!.data())).toEqual(
      Array.from(new Float32Array([0.1, 0.2, 0.3])),
    );
    tf.dispose([...d.weights.values()]);
  });

  it('survives model.json + weights file form', async () => {
    const art = await make();
    const json = JSON.stringify(artifactsToModelJSON(art));
    const back = modelJSONToArtifacts('load', json, art.weightData as ArrayBuffer);
    const d = decodeArtifacts('load', back, expected);
    expect(Array.from(await d.weights.get('x/v')!.data())).toEqual([1.5, -2, 3.25, 4]);
    tf.dispose([...d.weights.values()]);
  });

  it('rejects truncated, corrupt, foreign and mismatched files clearly', async () => {
    const art = await make();
    const buf = art.weightData as ArrayBuffer;
    expect(() => decodeArtifacts('load', { ...art, weightData: buf.slice(0, 20) })).toThrow(
      'Error in load: the weights data has 20 bytes but the weight specs need 28 (truncated weights file)',
    );
    const flipped = buf.slice(0);
    new Uint8Array(flipped)[5] ^= 0x40;
    expect(() => decodeArtifacts('load', { ...art, weightData: flipped })).toThrow(
      /fails its CRC-32 check \(corrupt weights file/,
    );
    expect(() => decodeArtifacts('load', { ...art, format: 'layers-model' })).toThrow(
      "Error in load: not a PixelCNN save (format 'layers-model', expected 'pixelcnn-dist')",
    );
    expect(() =>
      decodeArtifacts('load', {
        ...art,
        modelTopology: { class_name: 'PixelCNN', formatVersion: 99, config },
      }),
    ).toThrow(/saved with format version 99; this library reads version 1/);
    expect(() =>
      decodeArtifacts('load', {
        ...art,
        modelTopology: {
          class_name: 'PixelCNN',
          formatVersion: 1,
          config: { imageShape: [7, 7, 1] },
        },
      }),
    ).toThrow(/the saved config is invalid: Error in PixelCNN: imageShape \[7,7,1\]/);
    expect(() =>
      decodeArtifacts('load', art, [{ name: 'x/v', shape: [2, 3] }, expected[1]]),
    ).toThrow(
      "Error in load: weight 'x/v' has shape [2, 2] in the file but [2, 3] in this network (saved with other parameters?)",
    );
    expect(() => decodeArtifacts('load', art, [...expected, { name: 'y/g', shape: [1] }])).toThrow(
      "Error in load: the file has no weight 'y/g' (saved with other parameters?)",
    );
    expect(() => decodeArtifacts('load', art, [expected[0]])).toThrow(
      "Error in load: the file has 2 weights, this network 1 (e.g. 'x/b' is not in this network)",
    );
    expect(() => modelJSONToArtifacts('load', '{"modelTopology": ', buf)).toThrow(
      /Error in load: model.json is not valid JSON/,
    );
  });

  it('saves and loads files with node:fs (nodeFileIO)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixelcnn-io-'));
    try {
      const art = await make();
      const res = await nodeFileIO(dir).save(art);
      expect(res.modelArtifactsInfo.weightDataBytes).toBe(28);
      expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
      const back = await nodeFileIO(path.join(dir, 'model.json')).load();
      const d = decodeArtifacts('load', back, expected);
      expect(Array.from(await d.weights.get('x/v')!.data())).toEqual([1.5, -2, 3.25, 4]);
      tf.dispose([...d.weights.values()]);
      // a truncated weights file on disk
      fs.writeFileSync(
        path.join(dir, 'weights.bin'),
        fs.readFileSync(path.join(dir, 'weights.bin')).subarray(0, 10),
      );
      const cut = await nodeFileIO(`file://${dir}`).load();
      expect(() => decodeArtifacts('load', cut, expected)).toThrow(
        /has 10 bytes but the weight specs need 28/,
      );
      await expect(nodeFileIO(path.join(dir, 'missing')).load()).rejects.toThrow(
        /Error in nodeFileIO: cannot read .*missing\/model.json/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
