// `node --import tsx scripts/ship.ts --checkpoint RUN --name NAME --classifier DIR [--sheet PNG]`
// (build the packages first): put a trained run into this package as the pretrained model NAME:
// models/NAME/model.json + weights.bin, a PixelCNN.save of the checkpoint's EMA weights (what the
// CLI samples and evaluates with), with the run's classes and data settings in its metadata;
// models/NAME/classifier/, the classifier that judged it; models/NAME/sheet.png, its sample sheet.
// The figures recorded in src/models.ts come from the CLI (`pixelcnn eval --checkpoint RUN
// --json`, `pixelcnn sample --checkpoint RUN --classifier DIR ...`), and `pixelcnn sample --model
// NAME` on the shipped files must reproduce them (the package's test checks it).
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '@pixelcnn/backend';
import { loadCheckpoint, nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import { locateCheckpoint, parseCheckpointMeta } from '@pixelcnn/pixelcnn-dist/run';

function arg(name: string, required = true): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (required && v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const run = path.resolve(arg('checkpoint') as string);
const name = arg('name') as string;
const classifier = path.resolve(arg('classifier') as string);
const sheet = arg('sheet', false);
const out = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'models', name);

await initBackend({ prefer: 'cpu', ignoreEnv: true }); // copying weights needs no speed
const reader = {
  readText: (rel: string) => {
    const f = path.join(run, rel);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null;
  },
};
const found = await locateCheckpoint(reader, '');
const ckDir = path.join(run, found.dir);
const meta = parseCheckpointMeta(found.text, ckDir) as unknown as {
  settings: { data: { classes: string[]; perClass: number; heldOut: number } };
  progress: { step: number };
};
const { model, trainer } = await loadCheckpoint(ckDir);
if (!trainer.ema) throw new Error(`${ckDir} kept no EMA of the weights`);
fs.rmSync(out, { recursive: true, force: true });
const { classes, perClass, heldOut } = meta.settings.data;
await trainer.withEmaWeights(() =>
  model.save(nodeFileIO(out), {
    metadata: { name, classes, perClass, heldOut, step: meta.progress.step, weights: 'ema' },
  }),
);
trainer.dispose();
model.dispose();
fs.cpSync(classifier, path.join(out, 'classifier'), { recursive: true });
if (sheet) fs.copyFileSync(sheet, path.join(out, 'sheet.png'));
const size = (d: string): number =>
  fs.readdirSync(d, { withFileTypes: true }).reduce((s, e) => {
    const p = path.join(d, e.name);
    return s + (e.isDirectory() ? size(p) : fs.statSync(p).size);
  }, 0);
console.log(
  `${out}: step ${meta.progress.step} (EMA weights), ${classes.join(', ')}; ${(size(out) / 1e6).toFixed(2)} MB`,
);
