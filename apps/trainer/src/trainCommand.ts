import fs from 'node:fs';
import path from 'node:path';
import {
  type BackendName,
  type BackendReport,
  initBackend,
  WASM_THREADS_ENV,
} from '@pixelcnn/backend';
import type { Trainer } from '@pixelcnn/pixelcnn-dist';
import { RUN_LAYOUT } from '@pixelcnn/pixelcnn-dist/run';
import { type OptionValue, parseCommand, UsageError } from './args';
import { ensureWritableDir, writeJsonAtomic } from './atomic';
import { listCheckpoints, resolveIntactCheckpoint, runDirOf } from './checkpoint';
import { type OpenedData, openRunData, QUICKDRAW_SHAPE } from './data';
import { CliError, type CliIo, EXIT } from './io';
import {
  type CheckpointMeta,
  createTrainer,
  disposeTrainer,
  openCheckpoint,
  readCheckpointMeta,
  type TrainProgress,
} from './modelState';
import { trainOptions } from './options';
import { formatDuration, ProgressReporter } from './progress';
import {
  applyPreset,
  checkMicroBatchFits,
  dataSettingsFrom,
  modelConfigFrom,
  type RunSettings,
  resumeSettings,
  trainSettingsFrom,
} from './settings';
import { type TrainOutcome, train } from './training';

export const TRAIN_SUMMARY =
  'Train a class-conditional PixelCNN++ on QuickDraw drawings, or on any uint8 [N, H, W(, C)] .npy\n' +
  'array with --images (and --labels). Writes checkpoints (each epoch, on Ctrl-C and at the end),\n' +
  'metrics.jsonl/metrics.csv and loss.png to --out; --resume continues exactly.';

/** Start the backend the options ask for and return its report. */
export async function startBackend(
  values: Record<string, OptionValue>,
  log: (s: string) => void,
): Promise<BackendReport> {
  const backend = values.backend as string;
  const threadsRaw = values.wasmThreads as string | undefined;
  let wasmThreads: number | 'auto' | undefined;
  if (threadsRaw !== undefined) {
    if (threadsRaw === 'auto') wasmThreads = 'auto';
    else if (/^\d+$/.test(threadsRaw) && Number(threadsRaw) >= 1) wasmThreads = Number(threadsRaw);
    else
      throw new UsageError(
        `option --wasm-threads: expected a positive integer or 'auto', got '${threadsRaw}'`,
      );
  } else if (process.env[WASM_THREADS_ENV] === undefined) {
    // Every core (2 threads: a training step 1.4x faster on 2 cores); @pixelcnn/backend falls
    // back to one thread, and says why, where threads cannot start.
    wasmThreads = 'auto';
  }
  let report: BackendReport;
  try {
    report = await initBackend({
      prefer: backend === 'auto' ? undefined : (backend as BackendName),
      wasmThreads,
    });
  } catch (e) {
    throw new CliError((e as Error).message.replace(/^Error in initBackend: /, 'backend: '));
  }
  log(`backend: ${report.summary}`);
  return report;
}

/** What `runTraining` needs: parsed options (preset applied) and where to write. */
export interface TrainRequest {
  values: Record<string, OptionValue>;
  explicit: ReadonlySet<string>;
  /** Resume from this path (run dir / checkpoints dir / checkpoint). */
  resume?: string;
  /** Start over in `out`, deleting an earlier run's checkpoints and metrics there (the demo). */
  fresh?: boolean;
}

export interface TrainResult {
  code: number;
  runDir: string;
  checkpoint?: string;
  settings: RunSettings;
  outcome?: TrainOutcome;
}

/**
 * Everything `train` does after parsing: checks (output dir, data, checkpoint compatibility)
 * before any long work, then the backend, the model, and the training loop.
 */
export async function runTraining(req: TrainRequest, io: CliIo): Promise<TrainResult> {
  const log = (s: string) => io.stdout.write(`${s}\n`);
  const { values, explicit } = req;
  let runDir = path.resolve(io.cwd, values.out as string);
  let resumeDir: string | undefined;
  let savedMeta: CheckpointMeta | undefined;
  if (req.resume) {
    try {
      resumeDir = await resolveIntactCheckpoint(
        path.resolve(io.cwd, req.resume),
        (dir) =>
          `pixelcnn train --resume ${path.relative(io.cwd, dir) || '.'} (and your other options)`,
      );
      savedMeta = readCheckpointMeta(resumeDir);
    } catch (e) {
      throw new CliError(`--resume: ${(e as Error).message}`);
    }
  }
  const access = {
    data: values.data as string | undefined,
    cacheDir: values.cacheDir as string | undefined,
    env: io.env,
    cwd: io.cwd,
    log,
  };
  const requestedData = dataSettingsFrom(values, explicit, io.cwd);
  // The image shape and the classes: QuickDraw's are known up front; an --images array's come
  // from its files (read now: local and quick), a checkpoint's from its settings.
  let data: OpenedData | undefined =
    requestedData.images && !savedMeta ? await openRunData(requestedData, access) : undefined;
  let trainer: Trainer | undefined;
  try {
    if (data && !data.classes.length && explicit.has('conditional') && values.conditional) {
      throw new UsageError(
        'option --conditional needs class labels: give --labels FILE.npy with --images',
      );
    }
    const classes = data?.classes ?? savedMeta?.settings.data.classes ?? requestedData.classes;
    const imageShape = data?.imageShape ?? savedMeta?.settings.model.imageShape ?? QUICKDRAW_SHAPE;
    // On resume, an option left out means the checkpoint's: its hierarchies fit its images.
    const hier =
      savedMeta && !explicit.has('numHierarchies')
        ? { numHierarchies: savedMeta.settings.model.numHierarchies ?? values.numHierarchies }
        : {};
    const requested: RunSettings = {
      data: { ...requestedData, classes },
      model: modelConfigFrom({ ...values, ...hier }, classes.length, imageShape),
      train: trainSettingsFrom(values),
    };
    if (classes.length === 1 && values.conditional && !savedMeta) {
      log(
        `one class (${classes[0]}): training an unconditional model (a label that never varies carries no information)`,
      );
    }
    let settings = requested;
    if (resumeDir && savedMeta) {
      settings = resumeSettings(savedMeta.settings, requested, explicit, values, resumeDir);
      if (!explicit.has('out')) runDir = runDirOf(resumeDir);
    }
    runDir = ensureWritableDir(runDir, 'output directory (--out)');
    if (req.fresh) {
      for (const f of Object.values(RUN_LAYOUT))
        fs.rmSync(path.join(runDir, f), { recursive: true, force: true });
    } else if (!resumeDir && listCheckpoints(path.join(runDir, RUN_LAYOUT.checkpoints)).length) {
      throw new UsageError(
        `${runDir} already holds a training run; continue it with --resume ${path.relative(io.cwd, runDir) || '.'} or choose another --out`,
      );
    }

    data ??= await openRunData(settings.data, access);
    if (data.imageShape.join(',') !== settings.model.imageShape.join(',')) {
      throw new CliError(
        `the data's images are ${data.imageShape.join('x')}, the checkpoint's model takes ${settings.model.imageShape.join('x')} (was ${settings.data.images ?? 'the data'} replaced?)`,
      );
    }
    const { dataset } = data;
    log(data.summary);
    const backend = await startBackend(values, log);
    let progress: TrainProgress = { step: 0, epoch: 0, batchInEpoch: 0, elapsedSeconds: 0 };
    if (resumeDir && savedMeta) {
      const loaded = await openCheckpoint(resumeDir, settings.train.microBatch || 'auto');
      trainer = loaded.trainer;
      progress = loaded.meta.progress;
      log(`resuming from ${resumeDir} (step ${progress.step}, epoch ${progress.epoch + 1})`);
    } else {
      trainer = createTrainer(settings);
    }
    checkMicroBatchFits(trainer.dist, settings.train.microBatch, backend.chosen);
    writeJsonAtomic(path.join(runDir, RUN_LAYOUT.settings), settings);
    const reporter = new ProgressReporter(io.stdout, { ci: Boolean(io.env.CI) });
    const outcome = await train({
      settings,
      runDir,
      trainer,
      dataset,
      progress,
      backend: backend.chosen,
      reporter,
      signal: io.signal,
      maxMinutes: values.maxMinutes as number | undefined,
      hooks: io.hooks,
    });
    const rel = (p: string) => path.relative(io.cwd, p) || '.';
    const resumeHint = `pixelcnn train --resume ${rel(runDir)}`;
    switch (outcome.kind) {
      case 'non-finite':
        io.stderr.write(`error: ${outcome.message}\n`);
        return {
          code: EXIT.nonFinite,
          runDir,
          settings,
          outcome,
          checkpoint: outcome.lastCheckpoint,
        };
      case 'interrupted':
        log(
          `interrupted at step ${outcome.progress.step}: checkpoint written to ${rel(outcome.checkpoint)}`,
        );
        log(`continue with: ${resumeHint}`);
        return {
          code: EXIT.interrupted,
          runDir,
          settings,
          outcome,
          checkpoint: outcome.checkpoint,
        };
      default: {
        const p = outcome.progress;
        const ev = p.lastEval;
        log(
          `${outcome.kind === 'time-limit' ? 'stopped' : 'done'}: ${p.step} steps in ${formatDuration(p.elapsedSeconds)}` +
            (ev ? `; held-out ${ev.bitsPerDim.toFixed(4)} ± ${ev.ci95.toFixed(4)} bits/dim` : ''),
        );
        log(`checkpoint: ${rel(outcome.checkpoint)}`);
        log(
          `metrics:    ${rel(path.join(runDir, RUN_LAYOUT.metricsJsonl))}, ${rel(path.join(runDir, RUN_LAYOUT.metricsCsv))}`,
        );
        log(`loss curve: ${rel(path.join(runDir, RUN_LAYOUT.lossPlot))}`);
        if (outcome.kind === 'time-limit') log(`continue with: ${resumeHint}`);
        return { code: EXIT.ok, runDir, settings, outcome, checkpoint: outcome.checkpoint };
      }
    }
  } finally {
    if (trainer) disposeTrainer(trainer);
    await data?.close();
  }
}

/** `pixelcnn train [options]`. */
export async function trainCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, trainOptions, 'pixelcnn train', {
    summary: TRAIN_SUMMARY,
    footer:
      'Examples:\n' +
      '  pixelcnn train --classes cat,dog,26 --epochs 2 --out runs/cats\n' +
      '  pixelcnn train --resume runs/cats --epochs 4\n' +
      '  pixelcnn train --images cifar_x.npy --labels cifar_y.npy --num-hierarchies 3 --out runs/cifar\n' +
      '  pixelcnn train --preset blog --data https://storage.googleapis.com/quickdraw_dataset/ --out runs/blog',
    out: io.stdout,
  });
  if (!parsed) return EXIT.ok;
  const values = applyPreset(
    parsed.values,
    parsed.explicit,
    parsed.values.preset as string | undefined,
  );
  const result = await runTraining(
    { values, explicit: parsed.explicit, resume: values.resume as string | undefined },
    io,
  );
  return result.code;
}
