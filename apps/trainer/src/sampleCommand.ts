import fs from 'node:fs';
import path from 'node:path';
import { EVAL_SEED, type PixelCNN, type PixelProgress, SAMPLERS } from '@pixelcnn/pixelcnn-dist';
import { displayPixels, quantizePixels, RUN_LAYOUT } from '@pixelcnn/pixelcnn-dist/run';
import { classLabel, isClassName, resolveClassName } from '@pixelcnn/quickdraw-data';
import { MODEL_NAMES, type ModelInfo, modelInfo } from '@pixelcnn/quickdraw-models';
import { loadModel, modelDir } from '@pixelcnn/quickdraw-models/node';
import * as tf from '@tensorflow/tfjs-core';
import { type OptionValue, parseCommand, UsageError } from './args';
import { ensureWritableDir, writeFileAtomic } from './atomic';
import { resolveIntactCheckpoint, runDirOf } from './checkpoint';
import { type OpenedData, openRunData } from './data';
import { imageGrid } from './imageGrid';
import { CliError, type CliIo, EXIT } from './io';
import {
  type CheckpointMeta,
  disposeTrainer,
  openCheckpoint,
  readCheckpointMeta,
} from './modelState';
import { sampleOptions } from './options';
import { encodePng } from './png';
import { formatDuration } from './progress';
import {
  autoClassifierDir,
  type RecognitionReport,
  recogniseDrawings,
  recognitionLines,
} from './recognise';
import type { RunSettings } from './settings';
import { startBackend } from './trainCommand';

/** pixelcnn-dist's samplers in order of preference for 'auto' (the first it registers). */
export const SAMPLER_PREFERENCE = ['cached', 'naive'];

/** The sampler to use: an explicit registered name, or the fastest registered one for 'auto'. */
export function chooseSampler(name: string): string {
  const known = Object.keys(SAMPLERS);
  if (name === 'auto') return SAMPLER_PREFERENCE.find((s) => known.includes(s)) ?? known[0];
  if (!known.includes(name)) {
    throw new UsageError(
      `option --sampler: unknown sampler '${name}'; available: auto, ${known.join(', ')}`,
    );
  }
  return name;
}

/** File-system friendly class name: "The Eiffel Tower" -> "the-eiffel-tower". */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Name of the one group of samples of a model trained without labels. */
const UNLABELLED = 'samples';

/**
 * Which of a model's classes to sample (indices into its class list); a model trained without
 * labels has one group, 0.
 */
export function pickClasses(
  classes: readonly string[],
  list: readonly string[] | undefined,
): number[] {
  if (!classes.length) {
    if (list?.length)
      throw new UsageError('option --classes: the model was trained without labels; drop it');
    return [0];
  }
  if (!list?.length) return classes.map((_, i) => i);
  return list.map((item) => {
    let name = item;
    if (/^\d+$/.test(item)) {
      try {
        name = resolveClassName(Number(item));
      } catch {
        name = item;
      }
    } else if (isClassName(item)) name = resolveClassName(item);
    const i = classes.indexOf(name);
    if (i < 0) {
      throw new UsageError(
        `option --classes: the model was not trained on '${item}'; its classes: ${classes.join(', ')}`,
      );
    }
    return i;
  });
}

/** What is sampled: a checkpoint of a run, or a pretrained model of @pixelcnn/quickdraw-models. */
interface ModelSource {
  /** The data and network settings (as a run's) the samples and real drawings follow. */
  settings: Pick<RunSettings, 'data' | 'model'>;
  /** For titles and logs: 'step 250' or 'pretrained rainbow4'. */
  label: string;
  /** Default output directory. */
  defaultOut: string;
  /** Where `--classifier auto` looks (and trains one when nothing is there). */
  classifierDir: string;
  /** For samples.json. */
  describe: Record<string, unknown>;
  /** Run `fn` with the model (EMA weights of a checkpoint unless noEma), then free it. */
  withModel<T>(noEma: boolean, fn: (dist: PixelCNN, weights: string) => Promise<T>): Promise<T>;
}

function checkpointSource(ckDir: string, meta: CheckpointMeta): ModelSource {
  const runDir = runDirOf(ckDir);
  return {
    settings: meta.settings,
    label: `step ${meta.progress.step}`,
    defaultOut: path.join(runDir, RUN_LAYOUT.samples),
    classifierDir: autoClassifierDir(runDir, meta.settings.data),
    describe: { checkpoint: ckDir, step: meta.progress.step },
    async withModel(noEma, fn) {
      const { trainer } = await openCheckpoint(ckDir);
      try {
        const useEma = !noEma && trainer.ema !== undefined;
        const what = `checkpoint step ${meta.progress.step}${useEma ? ', EMA weights' : ''}`;
        return useEma
          ? await trainer.withEmaWeights(() => fn(trainer.dist, what))
          : await fn(trainer.dist, what);
      } finally {
        disposeTrainer(trainer);
      }
    },
  };
}

function pretrainedSource(name: string, cwd: string): ModelSource {
  let info: ModelInfo;
  try {
    info = modelInfo(name);
  } catch {
    throw new UsageError(
      `option --model: no pretrained model '${name}'; @pixelcnn/quickdraw-models ships: ${MODEL_NAMES.join(', ') || 'none'}`,
    );
  }
  const classes = [...info.classes];
  return {
    settings: {
      data: {
        classes,
        tfdsLabels: classes.map((c) => classLabel(c)),
        perClass: info.record.data.perClass,
        heldOut: info.record.data.heldOut,
      },
      model: info.config,
    },
    label: `pretrained ${name}`,
    defaultOut: path.join(cwd, 'runs', name, RUN_LAYOUT.samples),
    classifierDir: path.join(modelDir(name), 'classifier'),
    describe: { model: name, commit: info.record.commit },
    async withModel(_noEma, fn) {
      const dist = await loadModel(name);
      try {
        return await fn(dist, `pretrained model '${name}' (@pixelcnn/quickdraw-models)`);
      } finally {
        dist.dispose();
      }
    },
  };
}

export interface SampleRequest {
  /** A run dir, its checkpoints/ or one checkpoint ... */
  checkpoint?: string;
  /** ... or the name of a pretrained model of @pixelcnn/quickdraw-models. */
  model?: string;
  values: Record<string, OptionValue>;
  /** Skip starting a backend (the caller did). */
  backendReady?: boolean;
}

export interface SampleResult {
  outDir: string;
  /** With --classifier: the share of the samples recognised as their class. */
  recognition?: RecognitionReport;
  perClass: string[];
  overview: string;
  /** Every class in one PNG: a row of real drawings above two rows of generated ones. */
  sheet: string;
  seconds: number;
}

/**
 * Sample `n` drawings per class from a checkpoint and write one PNG per class (real held-out
 * drawings on top, generated ones below, as in the blog) and an overview grid of all classes.
 */
export async function runSampling(req: SampleRequest, io: CliIo): Promise<SampleResult> {
  const log = (s: string) => io.stdout.write(`${s}\n`);
  const v = req.values;
  let source: ModelSource;
  if (req.model !== undefined) {
    source = pretrainedSource(req.model, io.cwd);
  } else {
    try {
      const ckDir = await resolveIntactCheckpoint(
        path.resolve(io.cwd, req.checkpoint ?? ''),
        (dir) =>
          `pixelcnn sample --checkpoint ${path.relative(io.cwd, dir) || '.'} (and your other options)`,
      );
      source = checkpointSource(ckDir, readCheckpointMeta(ckDir));
    } catch (e) {
      throw new CliError(`--checkpoint: ${(e as Error).message}`);
    }
  }
  const settings = source.settings;
  const picked = pickClasses(settings.data.classes, v.classes as string[] | undefined);
  const sampler = chooseSampler(v.sampler as string);
  const n = v.n as number;
  const realCount = v.real as number;
  const outDir = ensureWritableDir(
    path.resolve(io.cwd, (v.out as string | undefined) ?? source.defaultOut),
    'output directory (--out)',
  );
  const high = settings.model.high ?? 255;
  const [H, W, C] = settings.model.imageShape;
  const groupName = (c: number) => settings.data.classes[c] ?? UNLABELLED;
  // QuickDraw stores white ink on black: draw it black on white. --images arrays as they are.
  const invert = !settings.data.images;

  // Real drawings first (cheap, and a missing mirror fails before the long sampling).
  const real: Uint8Array[][] = picked.map(() => []);
  if (realCount > 0) {
    let data: OpenedData;
    try {
      data = await openRunData(settings.data, {
        data: v.data as string | undefined,
        cacheDir: v.cacheDir as string | undefined,
        env: io.env,
        cwd: io.cwd,
        log,
      });
    } catch (e) {
      throw new CliError(
        `${(e as Error).message}\n(use --real 0 to sample without showing real drawings)`,
      );
    }
    try {
      const ex = data.dataset.examples('test', { shuffle: true, seed: EVAL_SEED });
      const want = new Set(picked);
      for (let i = 0; i < ex.row.length && picked.some((_, k) => real[k].length < realCount); i++) {
        const c = ex.classIndex[i];
        const k = picked.indexOf(c);
        if (!want.has(c) || real[k].length >= realCount) continue;
        const raw = await data.dataset.read(ex, i, i + 1);
        real[k].push(displayPixels(quantizePixels(raw.images, high), high));
      }
    } finally {
      await data.close();
    }
  }

  if (!req.backendReady) await startBackend(v, log);
  const t0 = performance.now();
  let images: Float32Array;
  try {
    images = await source.withModel(!(v.ema ?? true), async (dist, weights) => {
      const total = n * picked.length;
      log(
        `sampling ${n} per class x ${picked.length} classes with the '${sampler}' sampler ` +
          `(${weights}, seed ${v.seed}, temperature ${v.temperature}) ...`,
      );
      const labels = new Int32Array(total);
      picked.forEach((c, k) => {
        labels.fill(c, k * n, (k + 1) * n);
      });
      const conditional = settings.model.conditionalShape != null;
      let lastRow = -1;
      const cond = conditional ? tf.tensor1d(labels, 'int32') : undefined;
      try {
        const out = await dist.sample(total, {
          conditionalInput: cond,
          seed: v.seed as number,
          temperature: v.temperature as number,
          snapToGrid: (v.snapToGrid as boolean | undefined) ?? true,
          sampler,
          signal: io.signal,
          onPixel: (p: PixelProgress) => {
            const every = Math.max(1, Math.round(H / 4));
            if (p.row !== lastRow && (p.row + 1) % every === 0 && p.col === W - 1) {
              lastRow = p.row;
              const s = (performance.now() - t0) / 1000;
              log(`  row ${p.row + 1}/${H} (${formatDuration(s)})`);
            }
          },
        });
        const data = (await out.data()) as Float32Array;
        out.dispose();
        return data;
      } finally {
        cond?.dispose();
      }
    });
  } catch (e) {
    if (io.signal?.aborted) throw new CliError('sampling interrupted', EXIT.interrupted);
    throw e;
  }
  const seconds = (performance.now() - t0) / 1000;
  const px = H * W * C;
  const generated = (k: number, j: number) =>
    displayPixels(images.subarray((k * n + j) * px, (k * n + j + 1) * px), high);
  const grid = { imageWidth: W, imageHeight: H, channels: C, invert };

  const perClass: string[] = [];
  const cols = Math.max(1, Math.min(8, Math.max(n, realCount)));
  const blank = new Uint8Array(px).fill(invert ? 0 : 255);
  picked.forEach((c, k) => {
    const name = groupName(c);
    const tfds = settings.data.tfdsLabels[c];
    const cells: Uint8Array[] = [];
    const rowLabels: string[] = [];
    const realRows = Math.ceil(real[k].length / cols);
    for (let r = 0; r < realRows; r++) {
      rowLabels.push(r === 0 ? 'real' : '');
      for (let j = 0; j < cols; j++) cells.push(real[k][r * cols + j] ?? blank);
    }
    const genRows = Math.ceil(n / cols);
    for (let r = 0; r < genRows; r++) {
      rowLabels.push(r === 0 ? 'generated' : '');
      for (let j = 0; j < cols; j++)
        cells.push(r * cols + j < n ? generated(k, r * cols + j) : blank);
    }
    const png = imageGrid(cells, {
      ...grid,
      cols,
      scale: 3,
      rowLabels,
      title: tfds === undefined ? name : `${name} (TFDS ${tfds})`,
      separatorsAfter: realRows > 0 ? [realRows - 1] : [],
    });
    const file = path.join(outDir, `${slug(name)}.png`);
    writeFileAtomic(file, encodePng(png));
    perClass.push(file);
  });
  // One sheet of every class: a row of real drawings above (up to) two rows of generated ones.
  const sheetCells: Uint8Array[] = [];
  const sheetLabels: string[] = [];
  const sheetSeparators: number[] = [];
  picked.forEach((c, k) => {
    const rows: Uint8Array[][] = [];
    if (real[k].length) rows.push(real[k].slice(0, cols));
    for (let r = 0; r < 2 && r * cols < n; r++)
      rows.push(
        Array.from({ length: Math.min(cols, n - r * cols) }, (_, j) => generated(k, r * cols + j)),
      );
    rows.forEach((cells, r) => {
      sheetLabels.push(
        r === 0
          ? real[k].length
            ? `${groupName(c)}: real`
            : groupName(c)
          : r === 1 && real[k].length
            ? 'generated'
            : '',
      );
      for (let j = 0; j < cols; j++) sheetCells.push(cells[j] ?? blank);
    });
    if (real[k].length) sheetSeparators.push(sheetLabels.length - rows.length);
  });
  const sheet = path.join(outDir, 'sheet.png');
  writeFileAtomic(
    sheet,
    encodePng(
      imageGrid(sheetCells, {
        ...grid,
        cols,
        scale: 2,
        rowLabels: sheetLabels,
        title: `real (top) and generated (below), ${source.label}`,
        separatorsAfter: sheetSeparators,
      }),
    ),
  );
  let recognition: RecognitionReport | undefined;
  if (v.classifier) {
    const all = new Uint8Array(picked.length * n * px);
    const intended = new Int32Array(picked.length * n);
    picked.forEach((c, k) => {
      for (let j = 0; j < n; j++) {
        all.set(generated(k, j), (k * n + j) * px);
        intended[k * n + j] = c;
      }
    });
    const where =
      v.classifier === 'auto' ? source.classifierDir : path.resolve(io.cwd, v.classifier as string);
    recognition = await recogniseDrawings({
      settings,
      generated: all,
      intended,
      picked,
      where,
      access: {
        data: v.data as string | undefined,
        cacheDir: v.cacheDir as string | undefined,
        env: io.env,
        cwd: io.cwd,
        log,
      },
      log,
    });
    for (const line of recognitionLines(recognition)) log(line);
  }
  const overviewCells: Uint8Array[] = [];
  picked.forEach((_, k) => {
    for (let j = 0; j < n; j++) overviewCells.push(generated(k, j));
  });
  const overview = path.join(outDir, 'overview.png');
  writeFileAtomic(
    overview,
    encodePng(
      imageGrid(overviewCells, {
        ...grid,
        cols: n,
        scale: 2,
        rowLabels: picked.map(groupName),
        title: `samples, ${source.label}`,
      }),
    ),
  );
  fs.writeFileSync(
    path.join(outDir, 'samples.json'),
    `${JSON.stringify({ ...source.describe, sampler, seed: v.seed, temperature: v.temperature, snapToGrid: v.snapToGrid ?? true, n, classes: picked.map(groupName), seconds, recognition }, null, 2)}\n`,
  );
  return { outDir, perClass, overview, sheet, seconds, recognition };
}

/** `pixelcnn sample --checkpoint PATH [options]`. */
export async function sampleCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, sampleOptions, 'pixelcnn sample', {
    summary:
      'Draw new drawings per class from a checkpoint or a pretrained model: one PNG per class (real\ndrawings on top, generated below) and overview.png with every class.',
    footer: 'Example:\n  pixelcnn sample --checkpoint runs/demo --n 8 --seed 3 --temperature 0.8',
    out: io.stdout,
  });
  if (!parsed) return EXIT.ok;
  const checkpoint = parsed.values.checkpoint as string | undefined;
  const model = parsed.values.model as string | undefined;
  if (!checkpoint === !model)
    throw new UsageError(
      `'pixelcnn sample' needs --checkpoint PATH (a run directory or a checkpoint) or --model NAME (pretrained: ${MODEL_NAMES.join(', ') || 'none shipped'}), one of them`,
    );
  const r = await runSampling({ checkpoint, model, values: parsed.values }, io);
  const rel = (p: string) => path.relative(io.cwd, p) || '.';
  io.stdout.write(`sampled in ${formatDuration(r.seconds)}; wrote:\n`);
  for (const f of [...r.perClass, r.overview, r.sheet]) io.stdout.write(`  ${rel(f)}\n`);
  return EXIT.ok;
}
