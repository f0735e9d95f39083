import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `shared/` folder that sits beside the repository (real QuickDraw data, specs).
 * PIXELCNN_SHARED_DIR overrides it.
 */
export function sharedDir(): string {
  const env = process.env.PIXELCNN_SHARED_DIR;
  if (env) return path.resolve(env);
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
  return path.resolve(repoRoot, '../shared');
}

/** `shared/quickdraw`, failing with a clear message when it is not there. */
export function quickdrawDir(): string {
  const dir = path.join(sharedDir(), 'quickdraw');
  if (!fs.existsSync(path.join(dir, 'full', 'numpy_bitmap'))) {
    throw new Error(
      `Error in quickdrawDir: no QuickDraw mirror at ${dir}; put the shared folder beside the repository or set PIXELCNN_SHARED_DIR`,
    );
  }
  return dir;
}
