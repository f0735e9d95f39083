// `pnpm bench`: training throughput against a lone conv's (the roofline), memory, and naive vs
// cached sampling, for the demo network and TFP's default one, on wasm with 1 and 2 threads, on
// cpu (sampling only: its conv weight gradient is pathological) and on webgpu (the adapter is
// printed; rows on a software adapter are marked and use smaller sizes). Each setting runs in its
// own process. Prints tables and writes JSON (default bench/results/latest.json).
//
//   pnpm bench                                 everything (about 15 minutes on 2 cores)
//   pnpm bench --quick                         demo network only, wasm 1 and 2 threads
//   pnpm bench --configs tfp --settings wasm2  one network, one setting
//   pnpm bench --settings webgpu               webgpu only (PIXELCNN_BACKEND is ignored)
//   pnpm bench --out results.json
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIGS, type WorkerArgs, type WorkerResult } from './configs';
import { topShares } from './kernelProfile';

const here = path.dirname(fileURLToPath(import.meta.url));

const SETTINGS: Record<string, Omit<WorkerArgs, 'label' | 'configs'> & { configs?: string[] }> = {
  wasm1: { backend: 'wasm', threads: 1 },
  wasm2: { backend: 'wasm', threads: 2 },
  // cpu: sampling of the demo network only (one TFP-sized forward pass takes minutes there)
  cpu: { backend: 'cpu', threads: 1, configs: ['demo'], skipTrain: ['demo', 'tfp'] },
  // webgpu: Dawn in Node on whatever adapter there is. On a software one (SwiftShader, no GPU)
  // the demo network only, at the smaller sizes of its `software` entry, marked in every row.
  webgpu: { backend: 'webgpu', threads: 1 },
};

function parseArgs(argv: string[]) {
  const o = {
    configs: Object.keys(CONFIGS),
    settings: Object.keys(SETTINGS),
    out: path.join(here, '..', 'results', 'latest.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === '--quick') {
      o.configs = ['demo'];
      o.settings = ['wasm1', 'wasm2'];
    } else if (a === '--configs') o.configs = value().split(',');
    else if (a === '--settings') o.settings = value().split(',');
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0]);
      process.exit(0);
    } else throw new Error(`bench: unknown option ${a} (see --help)`);
  }
  for (const c of o.configs) {
    if (!CONFIGS[c])
      throw new Error(`bench: unknown config '${c}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  }
  for (const s of o.settings) {
    if (!SETTINGS[s])
      throw new Error(`bench: unknown setting '${s}' (known: ${Object.keys(SETTINGS).join(', ')})`);
  }
  return o;
}

function runWorker(args: WorkerArgs): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, path.join(here, 'worker.ts'), JSON.stringify(args)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('BENCH_RESULT '.length)));
      else
        reject(
          new Error(`bench: ${args.label} exited with ${code ?? signal} (out of wasm memory?)`),
        );
    });
  });
}

const fmt = (x: number | undefined, digits = 1) => (x === undefined ? '-' : x.toFixed(digits));
const mb = (b: number | undefined) => (b === undefined ? '-' : `${(b / 2 ** 20).toFixed(0)} MB`);

function table(head: string[], rows: string[][]): string {
  const w = head.map((_, c) => Math.max(...[head, ...rows].map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(w[c])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join(
    '\n',
  );
}

const o = parseArgs(process.argv.slice(2));
console.log(
  `bench: ${o.configs.join(', ')} on ${o.settings.join(', ')} (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, node ${process.version})`,
);
const results: WorkerResult[] = [];
const failures: string[] = [];
for (const s of o.settings) {
  const setting = SETTINGS[s];
  const configs = o.configs.filter((c) => !setting.configs || setting.configs.includes(c));
  if (configs.length === 0) continue;
  // one process per network too: a network that runs out of wasm memory aborts only itself
  for (const c of configs) {
    console.log(`\n${s}: ${c}`);
    try {
      const r = await runWorker({ ...setting, label: s, configs: [c] });
      if (r.skipped) {
        console.log(`  ${s}: skipped (${r.skipped})`);
        break;
      }
      if (r.adapter) console.log(`  ${s}: adapter ${r.adapter}`);
      results.push(r);
    } catch (e) {
      failures.push(`${c}: ${(e as Error).message}`);
      console.error((e as Error).message);
    }
  }
}

const trainRows: string[][] = [];
const sampleRows: string[][] = [];
for (const r of results) {
  for (const c of r.configs) {
    const setting =
      r.backend === 'webgpu'
        ? `webgpu${r.software ? ' (SOFTWARE adapter: not a GPU figure)' : ''}`
        : `${r.backend} ${r.threads}t`;
    if (c.train && c.loneConv) {
      const t = c.train;
      trainRows.push([
        c.name,
        setting,
        `${t.batch}${t.microBatch ? ` (micro ${t.microBatch})` : ''}`,
        fmt(t.msPerStep / 1000, 2),
        fmt(t.imagesPerSecond, 2),
        fmt(t.gflops),
        `${fmt(c.loneConv.forwardGflops)} / ${fmt(c.loneConv.trainGflops)}`,
        `${fmt((100 * t.gflops) / c.loneConv.trainGflops, 0)}%`,
        mb(c.heapBytes),
        c.profile ? topShares(c.profile, 4) : '',
      ]);
    }
    if (c.sample) {
      const m = c.sample;
      sampleRows.push([
        c.name,
        setting,
        String(m.n),
        `${fmt(m.naiveSeconds, 0)} s (from ${m.naiveTimedPixels} steps)`,
        `${fmt(m.cachedSeconds, 1)} s${m.cachedTimedPixels ? ` (from ${m.cachedTimedPixels} px)` : ''}`,
        fmt(m.cachedImagesPerSecond, 2),
        `${fmt(m.speedup, 0)}x`,
      ]);
    }
  }
}
console.log(
  '\nTraining (forward + backward + Adam; GFLOP/s counts convs and 1x1 layers, 3x forward)',
);
console.log(
  table(
    [
      'network',
      'backend',
      'batch',
      's/step',
      'img/s',
      'GFLOP/s',
      'lone conv fwd / fwd+bwd',
      'of lone conv',
      'wasm heap',
      'step time by kernel',
    ],
    trainRows,
  ),
);
console.log(
  '\nSampling 28x28 (naive: extrapolated from timed steps of the real naive sampler to H*W)',
);
console.log(
  table(
    ['network', 'backend', 'images', 'naive', 'cached', 'cached img/s', 'speed-up'],
    sampleRows,
  ),
);
for (const c of o.configs) {
  const r = results.flatMap((x) => x.configs).find((x) => x.name === c);
  if (r) {
    console.log(
      `${c}: ${CONFIGS[c].description}; ${(r.parameters / 1e6).toFixed(2)} M effective parameters (TFP's Keras count ${(r.tfpKerasParameters / 1e6).toFixed(2)} M), ${r.gflopForwardPerImage.toFixed(2)} GFLOP per image forward`,
    );
  }
}
for (const r of results.filter((x) => x.adapter)) {
  console.log(
    `${r.label}: adapter ${r.adapter}${r.software ? ' (a CPU emulation: its rows measure the CPU, at the smaller sizes of the config, and say nothing about GPU speed)' : ''}`,
  );
}
fs.mkdirSync(path.dirname(o.out), { recursive: true });
fs.writeFileSync(
  o.out,
  `${JSON.stringify({ date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, results, failures }, null, 2)}\n`,
);
console.log(`\nwrote ${path.relative(process.cwd(), o.out)}`);
if (failures.length) process.exit(1);
