// `pnpm --filter @pixelcnn/bench recipes --arms a,b [--out runs/recipes]` runs recipe arms with
// the `pixelcnn` CLI (apps/trainer/dist/cli.js: build it first): train at the arm's fixed number
// of steps, `eval` on every held-out drawing, then `sample` 64 drawings per class judged by the
// classifier of the arm's classes (trained once per class set on the training drawings, kept in
// <out>/classifier-<classes>, reused by every arm on those classes). Each arm writes
// <out>/<arm>/recipe.json. `recipes --table [--out DIR]` prints the markdown table of every arm
// found there. An arm with `from` only samples another arm's checkpoint (sampling levers).
//
// Budgets are wall time on an idle 2-core machine, wasm with 2 threads: each configuration's
// seconds per step were measured once under `heavy --exclusive` (SEC_PER_STEP), and the steps are
// the budget's training time over it. The arms themselves may run anywhere (1 thread, loaded
// machine): the result depends on the steps, not on the wall time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

interface Arm {
  /** The lever this arm moves, for the table. */
  lever: string;
  budget: '10 min' | '2 h';
  /** The network's key in SEC_PER_STEP (its step time on an idle machine). */
  net?: string;
  /** `pixelcnn train` options after BASE (later options override earlier ones). */
  train?: string[];
  steps?: number;
  /** Sample another arm's checkpoint instead of training. */
  from?: string;
  /** `pixelcnn sample` options (temperature, snap-to-grid). */
  sample?: string[];
}

/**
 * Every arm starts from the demo's settings before this work (the old `--preset demo`: 1 resnet,
 * 2 hierarchies, 32 filters, 5 components, no dropout, batch 32, Adam 1e-3, EMA 0.995, the first
 * 2000 drawings of each class), spelled out so a later demo preset does not change them.
 */
const BASE = [
  '--num-resnet',
  '1',
  '--num-hierarchies',
  '2',
  '--num-filters',
  '32',
  '--num-logistic-mix',
  '5',
  '--dropout',
  '0',
  '--batch-size',
  '32',
  '--lr',
  '1e-3',
  '--ema',
  '0.995',
  '--per-class',
  '2000',
  '--seed',
  '1',
];

/** The demo's classes before this work. */
const DEMO4 = ['--classes', 'apple,fish,house,rainbow'];

/**
 * Seconds per step of batch 32, wasm 2 threads, idle 2-core machine (heavy --exclusive, median of
 * steps 2..9 of `pixelcnn train --steps 9`), by network: resnets/hierarchies/filters.
 */
export const SEC_PER_STEP: Record<string, number> = {
  r1h2f32: 1.23,
  r1h3f32: 1.39,
  r1h3f32b16: 0.74,
  r2h3f32: 2.05,
  r1h3f64: 3.35,
  r2h3f64: 5.2,
  r3h3f64: 7.63,
  r2h3f96: 13.1,
};

/** Training seconds of the 10-minute budget: 600 s less startup, data init, evaluation, sampling. */
const TEN_MINUTES = 565;
const stepsFor = (net: string, seconds = TEN_MINUTES) => Math.floor(seconds / SEC_PER_STEP[net]);

/** The simple shapes. */
const SIMPLE4 = ['--classes', 'rainbow,lollipop,eye,apple'];
const H3 = ['--num-hierarchies', '3'];

export const ARMS: Record<string, Arm> = {
  // The demo before this work: its classes and network, 250 steps.
  'demo-before': {
    lever: 'the demo before: apple, fish, house, rainbow; 1 resnet, 2 hierarchies, 32 filters',
    budget: '10 min',
    train: DEMO4,
    net: 'r1h2f32',
    steps: 250,
  },
  h3: {
    lever: '3 hierarchies (receptive field spans the image), demo classes',
    budget: '10 min',
    train: [...DEMO4, ...H3],
    net: 'r1h3f32',
    steps: stepsFor('r1h3f32'),
  },
  'h3-simple': {
    lever: 'h3 on rainbow, lollipop, eye, apple',
    budget: '10 min',
    train: [...SIMPLE4, ...H3],
    net: 'r1h3f32',
    steps: stepsFor('r1h3f32'),
  },
  // Levers on h3-simple, one at a time.
  's-h2': {
    lever: 'h3-simple with 2 hierarchies (the receptive field misses the top rows)',
    budget: '10 min',
    train: SIMPLE4,
    net: 'r1h2f32',
    steps: stepsFor('r1h2f32'),
  },
  's-r2': {
    lever: 'h3-simple, 2 resnets per hierarchy (deeper, fewer steps)',
    budget: '10 min',
    train: [...SIMPLE4, ...H3, '--num-resnet', '2'],
    net: 'r2h3f32',
    steps: stepsFor('r2h3f32'),
  },
  's-f64': {
    lever: 'h3-simple, 64 filters (wider, fewer steps)',
    budget: '10 min',
    train: [...SIMPLE4, ...H3, '--num-filters', '64'],
    net: 'r1h3f64',
    steps: stepsFor('r1h3f64'),
  },
  's-lr': {
    lever: 'h3-simple, lr 2e-3, 20 warm-up steps, then x0.995 a step (x0.13 by the end)',
    budget: '10 min',
    train: [...SIMPLE4, ...H3, '--lr', '2e-3', '--warmup-steps', '20', '--lr-decay', '0.995'],
    net: 'r1h3f32',
    steps: stepsFor('r1h3f32'),
  },
  's-ema99': {
    lever: 'h3-simple, EMA decay 0.99 (demo: 0.995)',
    budget: '10 min',
    train: [...SIMPLE4, ...H3, '--ema', '0.99'],
    net: 'r1h3f32',
    steps: stepsFor('r1h3f32'),
  },
  's-b16': {
    lever: 'h3-simple, batch 16 (twice the steps)',
    budget: '10 min',
    train: [...SIMPLE4, ...H3, '--batch-size', '16'],
    net: 'r1h3f32b16',
    steps: stepsFor('r1h3f32b16'),
  },
  's-mix10': {
    lever: 'h3-simple, 10 mixture components (demo: 5)',
    budget: '10 min',
    train: [...SIMPLE4, ...H3, '--num-logistic-mix', '10'],
    net: 'r1h3f32',
    steps: stepsFor('r1h3f32'),
  },
  's-t08': {
    lever: 'h3-simple sampled at temperature 0.8',
    budget: '10 min',
    from: 'h3-simple',
    sample: ['--temperature', '0.8'],
  },
  's-nosnap': {
    lever: 'h3-simple sampled without snap-to-grid (continuous feedback, as TFP)',
    budget: '10 min',
    from: 'h3-simple',
    sample: ['--no-snap-to-grid'],
  },
};

/** `--name value` pairs of `base` with those of `over` replacing them (the CLI refuses repeats). */
function merged(base: readonly string[], over: readonly string[]): string[] {
  const pairs = new Map<string, string>();
  for (const list of [base, over])
    for (let i = 0; i < list.length; i += 2) pairs.set(list[i], list[i + 1]);
  return [...pairs].flat();
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const cli = path.join(root, 'apps/trainer/dist/cli.js');
const outRoot = path.resolve(process.cwd(), arg('out') ?? path.join(root, 'runs/recipes'));

function run(args: string[], log: string): { stdout: string; seconds: number } {
  const t0 = performance.now();
  fs.appendFileSync(log, `\n$ pixelcnn ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  fs.appendFileSync(log, r.stdout + r.stderr);
  if (r.status !== 0)
    throw new Error(`pixelcnn ${args.join(' ')} failed (${r.status}); see ${log}`);
  return { stdout: r.stdout, seconds: (performance.now() - t0) / 1000 };
}

function classesOf(arm: Arm): string {
  const i = arm.train?.indexOf('--classes') ?? -1;
  return i >= 0 ? (arm.train as string[])[i + 1] : 'apple,fish,house,rainbow';
}

function runArm(name: string): void {
  const arm = ARMS[name];
  if (!arm) throw new Error(`unknown arm '${name}'; known: ${Object.keys(ARMS).join(', ')}`);
  const dir = path.join(outRoot, name);
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'recipe.log');
  const source = arm.from ? path.join(outRoot, arm.from) : dir;
  const record: Record<string, unknown> = {
    arm: name,
    ...arm,
    startedAt: new Date().toISOString(),
  };
  if (!arm.from) {
    const train = [
      'train',
      ...merged(BASE, arm.train ?? []),
      '--steps',
      String(arm.steps),
      '--eval-images',
      '100',
      '--out',
      dir,
    ];
    record.trainCommand = `pixelcnn ${train.join(' ')}`;
    record.trainSeconds = run(train, log).seconds;
  }
  const ev = run(['eval', '--checkpoint', source, '--json'], log);
  record.eval = JSON.parse(ev.stdout.slice(ev.stdout.indexOf('{')));
  const classifier = path.join(
    outRoot,
    `classifier-${classesOf(ARMS[arm.from ?? name]).replace(/[^a-z0-9]+/gi, '-')}`,
  );
  const samples = path.join(dir, 'samples');
  const sample = [
    'sample',
    '--checkpoint',
    source,
    '--n',
    '64',
    '--real',
    '8',
    '--seed',
    '1',
    '--classifier',
    classifier,
    '--out',
    samples,
    ...(arm.sample ?? []),
  ];
  record.sampleCommand = `pixelcnn ${sample.join(' ')}`;
  record.sampleSeconds = run(sample, log).seconds;
  record.samples = JSON.parse(fs.readFileSync(path.join(samples, 'samples.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'recipe.json'), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`${name}: done (${path.relative(process.cwd(), dir)}/recipe.json)`);
}

const pc = (x: number) => (100 * x).toFixed(1);

function trainTail(dir: string): number | undefined {
  const file = path.join(dir, 'metrics.jsonl');
  if (!fs.existsSync(file)) return undefined;
  const rows = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'train')
    .slice(-20);
  return rows.reduce((a, r) => a + r.bitsPerDim, 0) / rows.length;
}

/** An arm's sample sheet (real above generated, every class), else its samples folder. */
function sheetOf(arm: string): string {
  const samples = path.join(outRoot, arm, 'samples');
  const sheet = path.join(samples, 'sheet.png');
  return path.relative(root, fs.existsSync(sheet) ? sheet : samples);
}

function table(): void {
  const rows = fs
    .readdirSync(outRoot)
    .filter((d) => fs.existsSync(path.join(outRoot, d, 'recipe.json')))
    .map((d) => JSON.parse(fs.readFileSync(path.join(outRoot, d, 'recipe.json'), 'utf8')));
  console.log(
    '| arm | lever | steps | min idle (here) | train bits/dim (last 20) | held-out bits/dim | generated recognised | real recognised | ratio | sheet |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const rec = r.samples.recognition;
    const share = (s: { share: number; ci95: [number, number] }) =>
      `${pc(s.share)}% [${pc(s.ci95[0])}, ${pc(s.ci95[1])}]`;
    const net = r.net ?? ARMS[r.arm]?.net;
    const idle = net && r.steps ? ((r.steps * SEC_PER_STEP[net]) / 60).toFixed(1) : '-';
    const here = r.trainSeconds ? (r.trainSeconds / 60).toFixed(0) : '-';
    const tail = trainTail(path.join(outRoot, r.from ?? r.arm));
    console.log(
      `| ${r.arm} | ${r.lever} | ${r.eval.step} | ${idle} (${here}) | ${tail?.toFixed(3) ?? '-'} | ${r.eval.bitsPerDim.toFixed(3)} ± ${r.eval.ci95.toFixed(3)} | ${share(rec.generated)} | ${share(rec.real)} | ${(rec.generated.share / rec.real.share).toFixed(2)} | ${sheetOf(r.arm)} |`,
    );
  }
}

if (process.argv.includes('--table')) table();
else for (const name of (arg('arms') ?? '').split(',').filter(Boolean)) runArm(name);
