import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensureWritableDir,
  makeDirs,
  writeDirAtomic,
  writeFileAtomicSync,
} from '@pixelcnn/node-fs';

export async function main(root = fs.mkdtempSync(path.join(os.tmpdir(), 'node-fs-example-'))) {
  // Before any long work: the output directory exists and is writable, or a clear error.
  const out = ensureWritableDir(path.join(root, 'run'), 'output directory');

  // mkdir -p, one level at a time: fails at once where Node's recursive mkdir can spin forever.
  await makeDirs(path.join(out, 'samples', 'cat'));

  // A file replaced whole: a reader sees the old content or the new one, never a torn file.
  writeFileAtomicSync(path.join(out, 'latest.json'), '{ "step": 1 }\n');
  writeFileAtomicSync(path.join(out, 'latest.json'), '{ "step": 2 }\n');

  // A directory replaced whole: after a crash, the old checkpoint or the new one.
  await writeDirAtomic(path.join(out, 'checkpoint'), {
    'state.json': '{ "step": 2 }\n',
    'weights.bin': new Uint8Array([1, 2, 3, 4]),
  });

  const listing = fs.readdirSync(out).sort();
  const checkpoint = fs.readdirSync(path.join(out, 'checkpoint')).sort();
  const latest = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8'));
  console.log(listing, checkpoint, latest);
  fs.rmSync(root, { recursive: true, force: true });
  return { listing, checkpoint, latest };
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
