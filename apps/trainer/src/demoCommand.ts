import path from 'node:path';
import { RUN_LAYOUT } from '@pixelcnn/pixelcnn-dist/run';
import { parseArgs, parseCommand } from './args';
import { CliError, type CliIo, EXIT } from './io';
import { DEMO_SAMPLES, DEMO_STEPS, demoOptions, PRESETS, trainOptions } from './options';
import { formatDuration } from './progress';
import { formatShare, shippedClassifierDir } from './recognise';
import { runSampling } from './sampleCommand';
import { runTraining } from './trainCommand';

/** `pixelcnn demo`: train the demo preset, sample, write PNGs, print where they are. */
export async function demoCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, demoOptions, 'pixelcnn demo', {
    summary:
      `Train a small class-conditional PixelCNN++ on ${(PRESETS.demo.classes as string[]).join(', ')} (QuickDraw) for\n` +
      `${DEMO_STEPS} steps (about 10 minutes on 2 CPU cores with wasm), then sample ${DEMO_SAMPLES} drawings per class and\n` +
      'write PNGs (real drawings on top, generated below) and the loss curve.',
    out: io.stdout,
  });
  if (!parsed) return EXIT.ok;
  const v = parsed.values;
  const t0 = performance.now();
  // The train options with their defaults, the demo preset, then the demo's own options.
  const train = parseArgs([], trainOptions, 'pixelcnn demo');
  const values = { ...train.values, ...PRESETS.demo };
  for (const k of ['out', 'seed', 'data', 'cacheDir', 'backend', 'wasmThreads'] as const) {
    if (v[k] !== undefined) values[k] = v[k];
  }
  values.steps = (v.steps as number | undefined) ?? DEMO_STEPS;
  values.evalImages = 400;
  const explicit = new Set(['steps']);
  const resume = v.resume as boolean;
  io.stdout.write(
    `pixelcnn demo: ${values.steps} training steps, then sampling; output in ${values.out}\n`,
  );
  const trained = await runTraining(
    { values, explicit, resume: resume ? (values.out as string) : undefined, fresh: !resume },
    io,
  );
  if (trained.code !== EXIT.ok || !trained.checkpoint) return trained.code;
  // The classifier shipped with the pretrained model of the same classes judges the samples.
  const judge = shippedClassifierDir({
    classes: values.classes as string[],
    heldOut: values.heldOut as number,
  });
  const sampled = await runSampling(
    {
      checkpoint: trained.checkpoint,
      values: {
        n: DEMO_SAMPLES,
        real: 8,
        classifier: judge,
        seed: values.seed,
        temperature: 1,
        sampler: 'auto',
        ema: true,
        data: values.data,
        cacheDir: values.cacheDir,
        backend: values.backend,
      },
      backendReady: true,
    },
    io,
  ).catch((e: unknown) => {
    if (e instanceof CliError) throw e;
    throw new CliError(`sampling failed: ${(e as Error).message}`);
  });
  const rel = (p: string) => path.relative(io.cwd, p) || '.';
  const ev = trained.outcome?.progress.lastEval;
  const lines = [
    '',
    `demo finished in ${formatDuration((performance.now() - t0) / 1000)}` +
      (ev ? `: held-out ${ev.bitsPerDim.toFixed(3)} ± ${ev.ci95.toFixed(3)} bits/dim` : '') +
      (sampled.recognition
        ? `; the classifier recognises ${formatShare(sampled.recognition.generated)} of the generated drawings (real: ${formatShare(sampled.recognition.real)})`
        : ''),
    'real (top) and generated (bottom) drawings per class:',
    ...sampled.perClass.map((f) => `  ${rel(f)}`),
    `all classes:  ${rel(sampled.sheet)} (real and generated), ${rel(sampled.overview)} (generated)`,
    `loss curve:   ${rel(path.join(trained.runDir, RUN_LAYOUT.lossPlot))}`,
    `checkpoint:   ${rel(trained.checkpoint)}`,
    `more samples: pixelcnn sample --checkpoint ${rel(trained.runDir)} --seed 2`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
