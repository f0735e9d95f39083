/**
 * Node entry (`@pixelcnn/quickdraw-models/node`): the shipped models read from the installed
 * package with node:fs (no fetch of file: URLs, no tfjs-node).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import { type NodeFileIO, nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import { DrawingClassifier } from './classifier';
import { modelInfo } from './models';

/**
 * The installed package's directory: resolved by name from here, which also works from a
 * bundle of this module with the package installed beside it (a bundle's import.meta.url is
 * the bundle's, not this file's); else the folder above this module.
 */
function packageDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return path.dirname(require.resolve('@pixelcnn/quickdraw-models/package.json'));
  } catch {
    return fileURLToPath(new URL('..', import.meta.url));
  }
}

/** The directory of a shipped model's files (model.json, weights.bin, classifier/, sheet.png). */
export function modelDir(name: string): string {
  modelInfo(name);
  return path.join(packageDir(), 'models', name);
}

/** A shipped model's IO handler on node:fs, for `PixelCNN.load`. */
export function modelHandler(name: string): NodeFileIO {
  return nodeFileIO(modelDir(name));
}

/** Load a shipped model from the installed package. */
export function loadModel(name: string): Promise<PixelCNN> {
  return PixelCNN.load(modelHandler(name));
}

/** Load the classifier shipped with a model (trained on the same classes). */
export function loadClassifier(name: string): Promise<DrawingClassifier> {
  return DrawingClassifier.load(nodeFileIO(path.join(modelDir(name), 'classifier')));
}
