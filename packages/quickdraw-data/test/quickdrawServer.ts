import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** What the test server saw: one entry per request. */
export interface SeenRequest {
  path: string;
  range?: string;
  status: number;
  /** Body bytes written. */
  sent: number;
}

/**
 * Per-request fault injection: return `undefined` to serve normally. 'drop' sends `afterBytes`
 * of the body then destroys the socket; 'stall' never answers; 'html' sends an error page.
 */
export type Fault =
  | { kind: 'drop'; afterBytes: number }
  | { kind: 'status'; status: number }
  | { kind: 'stall' }
  | { kind: 'html' }
  | { kind: 'ignore-range' }
  /** 302 to `to` (a path under the root). */
  | { kind: 'redirect'; to: string }
  /** Answer a Range request with bytes from 0 (and a Content-Range saying so). */
  | { kind: 'wrong-start' }
  /** Answer a Range request with 206 but no Content-Range header. */
  | { kind: 'no-content-range' }
  /** Serve at most this many bytes per response (206 with a shorter range). */
  | { kind: 'max-bytes'; bytes: number };

export interface QuickdrawServer {
  url: string;
  requests: SeenRequest[];
  /** Decide a fault for the n-th request (0-based) to `urlPath`. */
  fault?: (urlPath: string, n: number) => Fault | undefined;
  /** Extra files served from memory (path under the root -> bytes). */
  extra: Map<string, Uint8Array>;
  /** Forget requests, per-path counts, faults and extra files. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A static HTTP server on 127.0.0.1 serving `root` (a directory laid out like the QuickDraw
 * bucket), with single-range `Range: bytes=a-b` / `bytes=a-` support and fault injection.
 */
export async function startQuickdrawServer(root: string): Promise<QuickdrawServer> {
  const counts = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const state: QuickdrawServer = {
    url: '',
    requests: [],
    extra: new Map(),
    reset: () => {
      state.requests.length = 0;
      state.fault = undefined;
      state.extra.clear();
      counts.clear();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const n = counts.get(urlPath) ?? 0;
    counts.set(urlPath, n + 1);
    const seen: SeenRequest = { path: urlPath, range: req.headers.range, status: 0, sent: 0 };
    state.requests.push(seen);
    const fault = state.fault?.(urlPath, n);
    if (fault?.kind === 'stall') return;
    if (fault?.kind === 'status') {
      seen.status = fault.status;
      res.writeHead(fault.status, { 'Content-Type': 'text/plain' });
      res.end('injected failure');
      return;
    }
    if (fault?.kind === 'redirect') {
      seen.status = 302;
      res.writeHead(302, { Location: `/${encodeURI(fault.to)}` });
      res.end();
      return;
    }
    if (fault?.kind === 'html') {
      seen.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Sign in to continue</body></html>');
      return;
    }
    let data: Uint8Array;
    const file = path.join(root, urlPath);
    if (state.extra.has(urlPath)) data = state.extra.get(urlPath)!;
    else if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      seen.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    } else data = fs.readFileSync(file);
    let start = 0;
    let end = data.length - 1;
    let status = 200;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
    };
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m && fault?.kind !== 'ignore-range') {
      start = fault?.kind === 'wrong-start' ? 0 : Number(m[1]);
      if (m[2] !== '') end = Math.min(end, Number(m[2]));
      if (fault?.kind === 'max-bytes') end = Math.min(end, start + fault.bytes - 1);
      if (start >= data.length) {
        seen.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
        res.end();
        return;
      }
      status = 206;
      if (fault?.kind !== 'no-content-range') {
        headers['Content-Range'] = `bytes ${start}-${end}/${data.length}`;
      }
    }
    const body = data.subarray(start, end + 1);
    headers['Content-Length'] = body.length;
    seen.status = status;
    res.writeHead(status, headers);
    if (fault?.kind === 'drop') {
      const piece = body.subarray(0, fault.afterBytes);
      seen.sent = piece.length;
      res.write(piece, () => {
        // Let the bytes leave before cutting the connection.
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    seen.sent = body.length;
    res.end(body);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return state;
}
