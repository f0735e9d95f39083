import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { resolveRunDir, viewerHandler } from './server/viewerServer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where @tensorflow/tfjs-backend-wasm keeps its .wasm binaries. */
function tfjsWasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(
    path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
    'dist',
  );
}

/**
 * Serve (dev) and emit (build) tfjs-backend-wasm's .wasm files under /tfjs-wasm/, where the
 * worker's `setWasmPaths` points: they come from node_modules at build time, never from git.
 */
function tfjsWasm(): Plugin {
  const dir = tfjsWasmDir();
  const files = () => fs.readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  return {
    name: 'pixelcnn-tfjs-wasm',
    configureServer(server) {
      server.middlewares.use('/tfjs-wasm', (req, res, next) => {
        const name = path.basename(new URL(req.url ?? '/', 'http://x').pathname);
        if (!files().includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        fs.createReadStream(path.join(dir, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const f of files()) {
        this.emitFile({
          type: 'asset',
          fileName: `tfjs-wasm/${f}`,
          source: fs.readFileSync(path.join(dir, f)),
        });
      }
    },
  };
}

/**
 * `vite` (dev) serves /run/, /quickdraw/ and /api/info like `pnpm serve` does, from
 * $PIXELCNN_VIEWER_RUN and $PIXELCNN_VIEWER_DATA (or ../shared/quickdraw beside the repository).
 */
function runFiles(): Plugin {
  return {
    name: 'pixelcnn-run-files',
    configureServer(server) {
      const runEnv = process.env.PIXELCNN_VIEWER_RUN;
      const run = runEnv
        ? resolveRunDir(path.resolve(process.env.INIT_CWD ?? process.cwd(), runEnv))
        : null;
      const shared = path.resolve(here, '..', '..', '..', 'shared', 'quickdraw');
      const dataDir = process.env.PIXELCNN_VIEWER_DATA ?? (fs.existsSync(shared) ? shared : null);
      const handle = viewerHandler({
        appDir: here,
        runDir: run?.runDir ?? null,
        checkpoint: run?.checkpoint,
        dataDir,
      });
      server.middlewares.use((req, res, next) => handle(req, res, next));
    },
  };
}

export default defineConfig({
  // Bundle sibling packages from their TypeScript sources (the '@pixelcnn/source' export
  // condition), so the app builds without building them first.
  resolve: {
    conditions: ['@pixelcnn/source', ...defaultClientConditions],
    dedupe: ['@tensorflow/tfjs-core'],
  },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, sourcemap: true },
  preview: { host: '127.0.0.1' },
  plugins: [tfjsWasm(), runFiles()],
});
