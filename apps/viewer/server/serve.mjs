#!/usr/bin/env node
// @ts-check
// `pnpm --filter @pixelcnn/viewer serve -- --run runs/demo`: serve the built viewer against a
// trainer run directory (and the QuickDraw mirror for real drawings) on http://127.0.0.1:4173/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createViewerServer, resolveRunDir } from './viewerServer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = path.resolve(here, '..');
const repoRoot = path.resolve(appRoot, '..', '..');

export const SERVE_USAGE = `Usage: pnpm --filter @pixelcnn/viewer serve -- [--run DIR] [options]

Serve the PixelCNN++ viewer: train a model in the page, and show a trainer run directory.

Options:
  --run DIR        trainer output directory (pixelcnn train/demo --out DIR), its checkpoints/
                   folder, one checkpoint directory, or a PixelCNN.save directory (model.json)
                   (default: none, and the page opens the pretrained model that
                   @pixelcnn/quickdraw-models ships, bundled with the page)
  --data DIR|URL   QuickDraw mirror laid out like the bucket, for the real drawings (default:
                   $QUICKDRAW_BASE_URL, else $PIXELCNN_SHARED_DIR/quickdraw, else ../shared/quickdraw
                   beside the repository)
  --port N         port (default 4173; 0 = any free port)
  --host HOST      address to listen on (default 127.0.0.1)
  --app DIR        the built app (default apps/viewer/dist)
  -h, --help       this help
`;

/**
 * @param {readonly string[]} argv
 * @param {Record<string, string | undefined>} env
 * @param {string} cwd where relative paths start (pnpm sets INIT_CWD to where it was run)
 */
export function parseServeArgs(argv, env, cwd) {
  /** @type {Record<string, string>} */
  const v = {};
  let help = false;
  const known = ['run', 'data', 'port', 'host', 'app'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m || !known.includes(m[1])) throw new Error(`unknown argument '${a}'\n\n${SERVE_USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`option --${m[1]} needs a value`);
    v[m[1]] = value;
  }
  const port = v.port === undefined ? 4173 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`option --port: expected a port number, got '${v.port}'`);
  }
  // Without --run the page opens the pretrained model of @pixelcnn/quickdraw-models.
  const run = v.run ? path.resolve(cwd, v.run) : null;
  if (run && !fs.existsSync(run)) {
    throw new Error(`option --run: ${run} does not exist`);
  } else if (run && !fs.statSync(run).isDirectory()) {
    throw new Error(`option --run: ${run} is not a directory`);
  }
  /** @type {string | null} */
  let dataDir = null;
  /** @type {string | null} */
  let dataUrl = null;
  const pickData = (/** @type {string} */ value, /** @type {string} */ from) => {
    if (/^https?:\/\//i.test(value)) {
      dataUrl = value.endsWith('/') ? value : `${value}/`;
      return;
    }
    const dir = path.resolve(cwd, value.startsWith('file://') ? fileURLToPath(value) : value);
    if (!fs.existsSync(path.join(dir, 'full', 'numpy_bitmap'))) {
      throw new Error(`${from}: ${dir} is not a QuickDraw mirror (no full/numpy_bitmap/ in it)`);
    }
    dataDir = dir;
  };
  if (v.data) pickData(v.data, 'option --data');
  else if (env.QUICKDRAW_BASE_URL) pickData(env.QUICKDRAW_BASE_URL, '$QUICKDRAW_BASE_URL');
  else {
    const candidates = [
      ...(env.PIXELCNN_SHARED_DIR ? [path.resolve(cwd, env.PIXELCNN_SHARED_DIR, 'quickdraw')] : []),
      path.resolve(repoRoot, '..', 'shared', 'quickdraw'),
    ];
    dataDir = candidates.find((d) => fs.existsSync(path.join(d, 'full', 'numpy_bitmap'))) ?? null;
  }
  return {
    help,
    port,
    host: v.host ?? '127.0.0.1',
    appDir: path.resolve(cwd, v.app ?? path.join(appRoot, 'dist')),
    run,
    dataDir,
    dataUrl,
  };
}

async function main() {
  const cwd = process.env.INIT_CWD ?? process.cwd();
  let args;
  try {
    args = parseServeArgs(process.argv.slice(2), process.env, cwd);
  } catch (e) {
    process.stderr.write(`error: ${/** @type {Error} */ (e).message}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  const run = args.run ? resolveRunDir(args.run) : null;
  let server;
  try {
    server = createViewerServer({
      appDir: args.appDir,
      runDir: run?.runDir ?? null,
      checkpoint: run?.checkpoint,
      runLabel: run ? path.relative(cwd, run.runDir) || '.' : undefined,
      dataDir: args.dataDir,
      dataUrl: args.dataUrl,
    });
  } catch (e) {
    process.stderr.write(`error: ${/** @type {Error} */ (e).message}\n`);
    process.exit(1);
  }
  server.listen(args.port, args.host, () => {
    const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
    const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    const lines = [
      `PixelCNN++ viewer: http://${host}:${addr.port}/`,
      `  run:       ${run ? `${run.runDir}${run.checkpoint ? ` (checkpoint ${run.checkpoint})` : ''}` : 'none: the page opens the pretrained model of @pixelcnn/quickdraw-models (train one in the page, or pass --run DIR, e.g. --run runs/demo)'}`,
      `  drawings:  ${args.dataDir ?? args.dataUrl ?? 'no QuickDraw mirror found (pass --data DIR); the page shows no real drawings and trains on dropped .npy files only'}`,
      '  Ctrl-C to stop',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
  server.on('error', (e) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main();
}
