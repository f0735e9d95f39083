// @ts-check
// A small static server for the viewer: the built app, a trainer run directory under /run/, a
// QuickDraw mirror under /quickdraw/ (laid out like Google's bucket), and /api/info saying what
// is served. node:http only, so `pnpm --filter @pixelcnn/viewer serve` needs nothing else.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** Content types by file extension. */
export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.npy': 'application/octet-stream',
  '.ndjson': 'application/x-ndjson; charset=utf-8',
};

/**
 * The file under `root` that URL path `urlPath` names, or null when it would leave `root`
 * (`..`, encoded slashes, NUL) or is not valid percent-encoding.
 * @param {string} root
 * @param {string} urlPath
 * @returns {string | null}
 */
export function safeJoin(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return null;
  const full = path.join(root, ...parts);
  const rel = path.relative(root, full);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return full;
}

/**
 * A single `bytes=start-end` range of a file of `size` bytes: `[start, end]` inclusive, null
 * when there is no (usable) Range header, or 'unsatisfiable'.
 * @param {string | undefined} header
 * @param {number} size
 * @returns {[number, number] | null | 'unsatisfiable'}
 */
export function parseRange(header, size) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // multi-range or malformed: whole file
  let start;
  let end;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

/**
 * Where a `--run` path points: a run directory (with `checkpoints/`), its `checkpoints/` folder,
 * or one checkpoint directory (`<run>/checkpoints/step-N`). Returns the run directory to serve
 * and, for a single checkpoint, its path relative to that directory.
 * @param {string} dir absolute
 * @returns {{ runDir: string, checkpoint?: string }}
 */
export function resolveRunDir(dir) {
  const has = (/** @type {string} */ p) => fs.existsSync(path.join(dir, p));
  if (has('trainer.json')) {
    const parent = path.dirname(dir);
    if (path.basename(parent) === 'checkpoints') {
      return {
        runDir: path.dirname(parent),
        checkpoint: `checkpoints/${path.basename(dir)}`,
      };
    }
    return { runDir: dir, checkpoint: '' };
  }
  if (has('latest.json') && path.basename(dir) === 'checkpoints' && !has('metrics.jsonl')) {
    return { runDir: path.dirname(dir) };
  }
  return { runDir: dir };
}

/**
 * @typedef {object} ViewerServerOptions
 * @property {string} appDir the built app (vite's outDir)
 * @property {string | null} [runDir] the trainer run directory served under /run/
 * @property {string} [checkpoint] a checkpoint directory relative to runDir to show (else the latest)
 * @property {string | null} [dataDir] a local QuickDraw mirror served under /quickdraw/
 * @property {string | null} [dataUrl] a remote mirror the page fetches from instead (needs CORS)
 * @property {string} [runLabel] how the run directory is shown on the page
 */

/**
 * The JSON of /api/info: what the page can load.
 * @param {ViewerServerOptions} o
 */
export function serverInfo(o) {
  return {
    run: o.runDir ? '/run/' : null,
    runLabel: o.runDir ? (o.runLabel ?? o.runDir) : null,
    checkpoint: o.checkpoint,
    quickdraw: o.dataDir ? '/quickdraw/' : (o.dataUrl ?? null),
    quickdrawClasses: o.dataDir ? mirrorClasses(o.dataDir) : null,
  };
}

/**
 * The classes a local QuickDraw mirror has bitmaps for (full/numpy_bitmap/<class>.npy), sorted;
 * empty when it has none.
 * @param {string} dir
 * @returns {string[]}
 */
export function mirrorClasses(dir) {
  try {
    return fs
      .readdirSync(path.join(dir, 'full', 'numpy_bitmap'))
      .filter((f) => f.endsWith('.npy'))
      .map((f) => f.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {string} text
 */
function sendText(res, status, text) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(`${text}\n`);
}

/**
 * Send a file (with HTTP Range support, so big .npy files can be read in part).
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {string} file
 * @param {{ cache?: string }} [o]
 */
export function sendFile(req, res, file, o = {}) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    sendText(res, 404, `not found: ${req.url}`);
    return;
  }
  if (stat.isDirectory()) {
    const index = path.join(file, 'index.html');
    if (fs.existsSync(index)) {
      sendFile(req, res, index, o);
      return;
    }
    sendText(res, 404, `not found: ${req.url}`);
    return;
  }
  const type =
    /** @type {Record<string, string>} */ (MIME)[path.extname(file).toLowerCase()] ??
    'application/octet-stream';
  const headers = {
    'Content-Type': type,
    'Accept-Ranges': 'bytes',
    'Cache-Control': o.cache ?? 'no-store',
  };
  const range = parseRange(req.headers.range, stat.size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${stat.size}` });
    res.end();
    return;
  }
  const [start, end] = range ?? [0, stat.size - 1];
  const status = range ? 206 : 200;
  res.writeHead(status, {
    ...headers,
    'Content-Length': String(Math.max(0, end - start + 1)),
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${stat.size}` } : {}),
  });
  if (req.method === 'HEAD' || stat.size === 0) {
    res.end();
    return;
  }
  fs.createReadStream(file, { start, end })
    .on('error', () => res.destroy())
    .pipe(res);
}

/**
 * A request handler for the viewer's routes; calls `next()` (if given) for paths it does not own,
 * else serves `appDir`. Usable as vite dev-server middleware.
 * @param {ViewerServerOptions} o
 * @returns {(req: http.IncomingMessage, res: http.ServerResponse, next?: () => void) => void}
 */
export function viewerHandler(o) {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    if (p === '/api/info') {
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      res.end(JSON.stringify(serverInfo(o)));
      return;
    }
    /** @type {[string, string | null | undefined][]} */
    const mounts = [
      ['/run/', o.runDir],
      ['/quickdraw/', o.dataDir],
    ];
    for (const [prefix, root] of mounts) {
      if (p === prefix.slice(0, -1) || p.startsWith(prefix)) {
        if (!root) {
          sendText(
            res,
            404,
            `nothing is served under ${prefix} (start the viewer with ${prefix === '/run/' ? '--run DIR' : '--data DIR'})`,
          );
          return;
        }
        const file = safeJoin(root, p.slice(prefix.length));
        if (!file) {
          sendText(res, 400, `bad path: ${p}`);
          return;
        }
        sendFile(req, res, file, { cache: prefix === '/quickdraw/' ? 'max-age=3600' : 'no-store' });
        return;
      }
    }
    if (next) {
      next();
      return;
    }
    const file = safeJoin(o.appDir, p === '/' ? 'index.html' : p);
    if (!file) {
      sendText(res, 400, `bad path: ${p}`);
      return;
    }
    sendFile(req, res, file, {
      cache: p.startsWith('/assets/') ? 'max-age=31536000, immutable' : 'no-cache',
    });
  };
}

/**
 * An http.Server for the viewer (not listening yet).
 * @param {ViewerServerOptions} o
 */
export function createViewerServer(o) {
  if (!fs.existsSync(path.join(o.appDir, 'index.html'))) {
    throw new Error(
      `the viewer is not built: ${o.appDir} has no index.html (run: pnpm --filter @pixelcnn/viewer build)`,
    );
  }
  const handle = viewerHandler(o);
  return http.createServer((req, res) => handle(req, res));
}
