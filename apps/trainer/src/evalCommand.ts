import path from 'node:path';
import { evaluateBitsPerDim, meanCi95 } from '@pixelcnn/pixelcnn-dist';
import { parseCommand, UsageError } from './args';
import { resolveIntactCheckpoint } from './checkpoint';
import { openRunData } from './data';
import { CliError, type CliIo, EXIT } from './io';
import {
  type CheckpointMeta,
  disposeTrainer,
  openCheckpoint,
  readCheckpointMeta,
} from './modelState';
import { evalOptions } from './options';
import { formatDuration } from './progress';
import { startBackend } from './trainCommand';

/** What `pixelcnn eval --json` prints. */
export interface EvalReport {
  checkpoint: string;
  step: number;
  split: 'held-out' | 'train';
  weights: 'ema' | 'raw';
  images: number;
  bitsPerDim: number;
  /** Half-width of the 95% confidence interval (Student t over images). */
  ci95: number;
  std: number;
  perClass: { class: string; images: number; bitsPerDim: number; ci95: number }[];
  seconds: number;
}

/** `pixelcnn eval --checkpoint PATH [options]`. */
export async function evalCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, evalOptions, 'pixelcnn eval', {
    summary:
      'Bits per dimension of a checkpoint on the held-out split (or the training split), with a 95%\nconfidence interval over images, overall and per class.',
    footer: 'Example:\n  pixelcnn eval --checkpoint runs/demo --json',
    out: io.stdout,
  });
  if (!parsed) return EXIT.ok;
  const v = parsed.values;
  const checkpoint = v.checkpoint as string | undefined;
  if (!checkpoint)
    throw new UsageError(
      "'pixelcnn eval' needs --checkpoint PATH (a run directory or a checkpoint)",
    );
  const json = v.json as boolean;
  const log = (s: string) => {
    if (!json) io.stdout.write(`${s}\n`);
  };
  let ckDir: string;
  let meta: CheckpointMeta;
  try {
    ckDir = await resolveIntactCheckpoint(
      path.resolve(io.cwd, checkpoint),
      (dir) =>
        `pixelcnn eval --checkpoint ${path.relative(io.cwd, dir) || '.'} (and your other options)`,
    );
    meta = readCheckpointMeta(ckDir);
  } catch (e) {
    throw new CliError(`--checkpoint: ${(e as Error).message}`);
  }
  const data = await openRunData(meta.settings.data, {
    data: v.data as string | undefined,
    cacheDir: v.cacheDir as string | undefined,
    env: io.env,
    cwd: io.cwd,
    log,
  });
  try {
    await startBackend(v, log);
    const { trainer } = await openCheckpoint(ckDir);
    try {
      const useEma = (v.ema as boolean) && trainer.ema !== undefined;
      const split = v.split as 'held-out' | 'train';
      const t0 = performance.now();
      const run = () =>
        evaluateBitsPerDim(trainer.dist, data.dataset, {
          split: split === 'held-out' ? 'test' : 'train',
          maxImages: v.maxImages as number,
          batchSize: v.batchSize as number,
          signal: io.signal,
        });
      const r = useEma ? await trainer.withEmaWeights(run) : await run();
      if (io.signal?.aborted) throw new CliError('evaluation interrupted', EXIT.interrupted);
      const classes = meta.settings.data.classes;
      const perClass = classes.map((name, c) => {
        const values = [...r.perImage].filter((_, i) => r.labels[i] === c);
        const s = meanCi95(values);
        return { class: name, images: s.n, bitsPerDim: s.mean, ci95: s.ci95 };
      });
      const report: EvalReport = {
        checkpoint: ckDir,
        step: meta.progress.step,
        split,
        weights: useEma ? 'ema' : 'raw',
        images: r.n,
        bitsPerDim: r.mean,
        ci95: r.ci95,
        std: r.std,
        perClass,
        seconds: (performance.now() - t0) / 1000,
      };
      if (json) {
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        log(
          `${split} bits/dim: ${r.mean.toFixed(4)} ± ${r.ci95.toFixed(4)} (95% CI over ${r.n} images; ` +
            `${useEma ? 'EMA' : 'raw'} weights; step ${meta.progress.step}; ${formatDuration(report.seconds)})`,
        );
        const width = Math.max(...classes.map((c) => c.length));
        for (const p of perClass) {
          log(
            `  ${p.class.padEnd(width)}  ${p.bitsPerDim.toFixed(4)} ± ${Number.isFinite(p.ci95) ? p.ci95.toFixed(4) : '  n/a '}  (${p.images} images)`,
          );
        }
      }
      return EXIT.ok;
    } finally {
      disposeTrainer(trainer);
    }
  } finally {
    await data.close();
  }
}
