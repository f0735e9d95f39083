import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import type { PixelCNNConfig } from './config';
import { nodeFileIO } from './node';
import { PixelCNN } from './pixelCnn';

const config: PixelCNNConfig = {
  imageShape: [4, 4, 3],
  high: 15,
  numResnet: 1,
  numHierarchies: 2,
  numFilters: 4,
  numLogisticMix: 2,
  conditionalShape: [],
  numClasses: 3,
  seed: 31,
  constantChannel: true, // 3 + 1 input channels in the shapes below
};

const images = () =>
  tf.tensor4d(
    Array.from({ length: 2 * 48 }, (_, i) => (i * 7) % 16),
    [2, 4, 4, 3],
  );

describeBackends('PixelCNN save / load', () => {
  it('round-trips config and weights exactly (artifacts and model.json + weights.bin files)', async () => {
    const dist = new PixelCNN(config);
    const x = images();
    dist.initialize(x, { conditionalInput: [0, 2] });
    const lp = Array.from(await dist.logProb(x, { conditionalInput: [1, 2] }).data());

    const again = PixelCNN.fromArtifacts(await dist.toArtifacts({ note: 'hi' }));
    expect(again.config).toEqual(dist.config);
    expect(again.initialized).toBe(true);
    expect(Array.from(await again.logProb(x, { conditionalInput: [1, 2] }).data())).toEqual(lp);
    again.dispose();

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixelcnn-save-'));
    try {
      await dist.save(nodeFileIO(dir), { metadata: { step: 3 } });
      const loaded = await PixelCNN.load(nodeFileIO(dir));
      expect(Array.from(await loaded.logProb(x, { conditionalInput: [1, 2] }).data())).toEqual(lp);
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      expect(json.format).toBe('pixelcnn-dist');
      expect(json.userDefinedMetadata.metadata).toEqual({ step: 3 });
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
      expect(fs.statSync(path.join(dir, 'weights.bin')).size).toBe(4 * dist.numParameters);
      loaded.dispose();

      // Saving over a save replaces each file whole (no temporaries left beside them). A crash
      // between the two files (the new weights written, the old model.json still there) is
      // refused by the weights' CRC rather than loaded as a mix.
      const oldJson = fs.readFileSync(path.join(dir, 'model.json'), 'utf8');
      const other = new PixelCNN({ ...config, seed: 32 });
      other.initialize(x, { conditionalInput: [0, 2] });
      await other.save(nodeFileIO(dir));
      expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
      const replaced = await PixelCNN.load(nodeFileIO(dir));
      expect(Array.from(await replaced.logProb(x, { conditionalInput: [1, 2] }).data())).toEqual(
        Array.from(await other.logProb(x, { conditionalInput: [1, 2] }).data()),
      );
      replaced.dispose();
      other.dispose();
      fs.writeFileSync(path.join(dir, 'model.json'), oldJson);
      await expect(PixelCNN.load(nodeFileIO(dir))).rejects.toThrow(/fails its CRC-32 check/);
      await dist.save(nodeFileIO(dir));

      // corrupt and truncated weight files
      const wpath = path.join(dir, 'weights.bin');
      const bytes = fs.readFileSync(wpath);
      bytes[100] ^= 0xff;
      fs.writeFileSync(wpath, bytes);
      await expect(PixelCNN.load(nodeFileIO(dir))).rejects.toThrow(
        /Error in PixelCNN.fromArtifacts: the weights data fails its CRC-32 check/,
      );
      fs.writeFileSync(wpath, bytes.subarray(0, 64));
      await expect(PixelCNN.load(nodeFileIO(dir))).rejects.toThrow(/truncated weights file/);
      fs.writeFileSync(path.join(dir, 'model.json'), '{"format": "pixelcnn-dist", ');
      await expect(PixelCNN.load(nodeFileIO(dir))).rejects.toThrow(/model.json is not valid JSON/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    dist.dispose();
  });

  it('loadWeights refuses weights saved with other parameters', async () => {
    const dist = new PixelCNN(config);
    const other = new PixelCNN({ ...config, numFilters: 6 });
    const art = await other.toArtifacts();
    expect(() => dist.loadWeights(art)).toThrow(
      /Error in loadWeights: weight 'init\/vertical\/v' has shape \[2, 3, 4, 6\] in the file but \[2, 3, 4, 4\] in this network \(saved with other parameters\?\)/,
    );
    const deeper = new PixelCNN({ ...config, numResnet: 2 });
    const deeperArt = await deeper.toArtifacts();
    expect(() => dist.loadWeights(deeperArt)).toThrow(
      /the file has \d+ weights, this network \d+ \(e\.g\. 'down0\/resnet1\/vertical\/conv1\/v' is not in this network\)/,
    );
    const same = new PixelCNN({ ...config, seed: 99 });
    dist.loadWeights(await same.toArtifacts());
    const x = images();
    expect(Array.from(await dist.logProb(x, { conditionalInput: 0 }).data())).toEqual(
      Array.from(await same.logProb(x, { conditionalInput: 0 }).data()),
    );
    for (const d of [dist, other, deeper, same]) d.dispose();
  });

  it('save without a handler for the URL says what to use in Node', async () => {
    const dist = new PixelCNN(config);
    await expect(dist.save('file://somewhere')).rejects.toThrow(
      "Error in save: no tfjs IO handler for 'file://somewhere'; in Node use nodeFileIO(dir) from '@pixelcnn/pixelcnn-dist/node'",
    );
    dist.dispose();
  });
});
