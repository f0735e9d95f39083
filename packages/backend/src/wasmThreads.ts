import * as tf from '@tensorflow/tfjs-core';

/** The tfjs-backend-wasm version whose internals `enableWasmThreads` relies on. */
export const WASM_THREADS_PINNED_VERSION = '4.22.0';

/** Threads the 4.22 threaded build can run (it pre-creates 8 pthread workers). */
export const MAX_WASM_THREADS = 8;

const INIT_TIMEOUT_MS = 30_000;

/** What `enableWasmThreads` did, for logs. */
export interface WasmThreadsReport {
  requested: number | 'auto';
  /** Threads the wasm backend runs (or will run once it starts). */
  threads: number;
  /** Why it is that many, e.g. "one thread requested" or the failure behind a fallback. */
  reason: string;
}

/** The public surface of @tensorflow/tfjs-backend-wasm 4.22 used here. */
interface WasmPackage {
  BackendWasm: new (module: unknown) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** The parts of the emscripten module (threaded build) used here. */
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: unknown;
  PThread?: {
    unusedWorkers: NodeWorker[];
    runningWorkers: NodeWorker[];
    terminateAllThreads(): void;
  };
}

interface NodeWorker {
  onerror: ((e: unknown) => void) | null;
  unref(): void;
}

interface EmscriptenImports {
  env: Record<string, unknown>;
}

let lastReport: WasmThreadsReport | undefined;
let prepared: number | undefined;

/** What the last `enableWasmThreads` call did (undefined before the first). */
export function wasmThreadsReport(): WasmThreadsReport | undefined {
  return lastReport;
}

function note(requested: number | 'auto', threads: number, reason: string): number {
  lastReport = { requested, threads, reason };
  return threads;
}

function resolveCount(threads: number | 'auto', cores: number): number {
  const n = threads === 'auto' ? cores : threads;
  return Math.max(1, Math.min(MAX_WASM_THREADS, n));
}

/**
 * Run the wasm backend multi-threaded in Node. tfjs 4.22 runs it single-threaded there: it
 * reports no thread support under Node, hands its pthread workers a `blob:` URL that Node's
 * `worker_threads` cannot load, and its C++ side caps threads at half the logical cores (1 on
 * a 2-core machine). This starts the threaded SIMD build itself: the worker script is written
 * to a real file (in the OS temp dir), the main script is the package's own file, and the
 * core count the C++ side reads is raised to 2 x the requested threads. The prepared backend
 * is registered as tfjs's 'wasm' backend, to be selected as usual (`tf.setBackend('wasm')`).
 *
 * Guarded: pinned to @tensorflow/tfjs-backend-wasm 4.22.0 internals; any failure (other
 * version, no SharedArrayBuffer, not Node, a worker that does not start within 30 s) leaves
 * tfjs's own single-threaded backend in place and returns 1. It must run before the wasm
 * backend initialises; afterwards it changes nothing and returns the running count.
 *
 * @param threads a count (capped at 8, the build's worker pool) or 'auto' (every logical core,
 *   capped at 8). 1 leaves tfjs's stock backend alone.
 * @returns the number of threads the wasm backend runs (tfjs's `getThreadsCount()`).
 */
export async function enableWasmThreads(threads: number | 'auto'): Promise<number> {
  if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(
      `Error in enableWasmThreads: threads must be a positive integer or 'auto', got ${String(threads)}`,
    );
  }
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmPackage;
  if (tf.findBackend('wasm')) {
    let running = 1;
    try {
      running = wasm.getThreadsCount();
    } catch {
      // a wasm backend that is not tfjs's (or not initialised yet): assume one thread
    }
    return note(
      threads,
      running,
      prepared !== undefined
        ? 'already started'
        : 'the wasm backend had already started; threads are fixed when it starts',
    );
  }
  if (prepared !== undefined) return note(threads, prepared, 'already prepared');
  const proc = globalThis.process;
  const getBuiltin = proc?.getBuiltinModule;
  if (!proc?.versions?.node || typeof getBuiltin !== 'function') {
    return note(threads, 1, 'threads are only set up in Node >= 20.16 (process.getBuiltinModule)');
  }
  const os = getBuiltin('node:os');
  const wanted = resolveCount(threads, os.availableParallelism?.() ?? os.cpus().length);
  if (wanted <= 1) {
    return note(threads, 1, threads === 'auto' ? 'one logical core' : 'one thread requested');
  }
  try {
    const running = await startThreaded(wasm, wanted, getBuiltin);
    prepared = running;
    return note(threads, running, `threaded SIMD build, ${running} threads`);
  } catch (e) {
    return note(threads, 1, `fell back to one thread: ${(e as Error).message ?? String(e)}`);
  }
}

async function startThreaded(
  wasm: WasmPackage,
  threads: number,
  getBuiltin: NodeJS.Process['getBuiltinModule'],
): Promise<number> {
  const fs = getBuiltin('node:fs');
  const path = getBuiltin('node:path');
  const os = getBuiltin('node:os');
  const crypto = getBuiltin('node:crypto');
  const { createRequire } = getBuiltin('node:module');
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('no SharedArrayBuffer');

  const req = createRequire(import.meta.url);
  const pkgJson = req.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  const version = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
  if (version !== WASM_THREADS_PINNED_VERSION || tf.version_core !== WASM_THREADS_PINNED_VERSION) {
    throw new Error(
      `pinned to tfjs ${WASM_THREADS_PINNED_VERSION} internals, found tfjs-backend-wasm ${version} / tfjs-core ${tf.version_core}`,
    );
  }
  const out = path.join(path.dirname(pkgJson), 'wasm-out');
  const factoryPath = path.join(out, 'tfjs-backend-wasm-threaded-simd.js');
  const wasmPath = path.join(out, 'tfjs-backend-wasm-threaded-simd.wasm');
  // The worker source ships as a JS string with its "\n" escapes already decoded; re-escape
  // them (as tfjs does before making its blob) and write a real file Node can start.
  const { wasmWorkerContents } = req(
    path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as {
    wasmWorkerContents: string;
  };
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = crypto.createHash('sha256').update(source).digest('hex').slice(0, 16);
  const workerFile = path.join(os.tmpdir(), `pixelcnn-tfjs-wasm-${version}-worker-${hash}.cjs`);
  if (!fs.existsSync(workerFile) || fs.readFileSync(workerFile, 'utf8') !== source) {
    const tmp = `${workerFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, source);
    fs.renameSync(tmp, workerFile);
  }
  const factory = req(factoryPath) as (config: object) => Promise<EmscriptenModule>;
  const binary = fs.readFileSync(wasmPath);

  const listenersBefore = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  const config: Record<string, unknown> & Partial<EmscriptenModule> = {};
  const originalOnerror = new Map<NodeWorker, NodeWorker['onerror']>();
  let module: EmscriptenModule | undefined;
  try {
    module = await new Promise<EmscriptenModule>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the threaded module did not start within ${INIT_TIMEOUT_MS} ms`)),
        INIT_TIMEOUT_MS,
      );
      const done =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          f(v);
        };
      config.mainScriptUrlOrBlob = factoryPath;
      config.locateFile = (file: string, prefix: string) =>
        file.endsWith('.worker.js')
          ? workerFile
          : file.endsWith('.wasm')
            ? wasmPath
            : prefix + file;
      config.onAbort = (what: unknown) => done(reject)(new Error(`aborted: ${String(what)}`));
      config.instantiateWasm = (
        imports: EmscriptenImports,
        receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) => {
        const cores = imports.env.emscripten_num_logical_cores;
        if (typeof cores !== 'function') {
          throw new Error('unexpected module imports: no emscripten_num_logical_cores');
        }
        // The C++ side starts at most (logical cores / 2) threads.
        imports.env.emscripten_num_logical_cores = () => Math.max(cores() as number, 2 * threads);
        WebAssembly.instantiate(binary, imports as unknown as WebAssembly.Imports)
          .then(({ instance, module: compiled }) => {
            receive(instance, compiled);
            // A worker that fails to load would throw out of an event handler: reject instead.
            for (const w of config.PThread?.unusedWorkers ?? []) {
              originalOnerror.set(w, w.onerror);
              w.onerror = (e) =>
                done(reject)(
                  new Error(`a pthread worker failed: ${String((e as Error)?.message ?? e)}`),
                );
            }
          })
          .catch(done(reject));
        return {};
      };
      factory(config).then(done(resolve), done(reject));
    });
  } catch (e) {
    config.PThread?.terminateAllThreads();
    throw e;
  } finally {
    for (const [w, f] of originalOnerror) w.onerror = f;
    // The module adds process handlers that rethrow; leave the process as we found it.
    for (const l of process.listeners('uncaughtException')) {
      if (!listenersBefore.uncaughtException.includes(l))
        process.removeListener('uncaughtException', l);
    }
    for (const l of process.listeners('unhandledRejection')) {
      if (!listenersBefore.unhandledRejection.includes(l))
        process.removeListener('unhandledRejection', l);
    }
  }

  try {
    // What tfjs's own init() adds to the module before constructing its backend.
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    wasm.setThreadsCount(threads);
    const backend = new wasm.BackendWasm(module);
    const running = wasm.getThreadsCount();
    // Running pthreads hold a ref on the event loop: let the process exit without dispose().
    for (const w of module.PThread?.runningWorkers ?? []) w.unref();
    // Replace tfjs's factory; should this backend be removed later, the next start is tfjs's own.
    const stockFactory = tf.findBackendFactory('wasm') as
      | (() => tf.KernelBackend | Promise<tf.KernelBackend>)
      | null;
    if (stockFactory) tf.removeBackend('wasm');
    let handedOut = false;
    tf.registerBackend(
      'wasm',
      () => {
        if (!handedOut || !stockFactory) {
          handedOut = true;
          return backend;
        }
        return stockFactory();
      },
      2,
    );
    return running;
  } catch (e) {
    module.PThread?.terminateAllThreads();
    wasm.setThreadsCount(-1);
    throw e;
  }
}
