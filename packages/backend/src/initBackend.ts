import * as tf from '@tensorflow/tfjs-core';
// Gradients and chained ops (`x.add(y)`) for every backend: tfjs-core's main entry registers
// neither. These two files are extensionless ESM that plain Node cannot load, so tsup bundles
// them into dist (as the @tensorflow/tfjs union's own Node bundle does); bundlers and vitest read
// them as they are.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { registerConv2dGradient } from './conv2dGradient';
import { registerWasmTrainingKernels } from './wasmKernels';
import { enableWasmThreads, wasmThreadsReport } from './wasmThreads';
import {
  describeAdapter,
  prepareWebGpu,
  type WebGpuAdapter,
  webgpuAdapter,
  webgpuProbeLog,
} from './webgpu';
import { registerWebGpuKernels } from './webgpuKernels';
import { registerZeroGradients } from './zeroGradients';

/**
 * Backends we know how to prepare, fastest first. In this automatic order `webgpu` is taken only
 * on a hardware adapter; a software one (SwiftShader, llvmpipe) only when webgpu is named in
 * `prefer` or PIXELCNN_BACKEND.
 */
export const BACKEND_ORDER = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number] | 'webgl';

/** Environment variable that overrides the backend choice (comma-separated preference list). */
export const BACKEND_ENV = 'PIXELCNN_BACKEND';
/** Environment variable for the wasm thread count ("auto" or a number; default 1). */
export const WASM_THREADS_ENV = 'PIXELCNN_WASM_THREADS';

export interface InitBackendOptions {
  /** One backend or a preference list; overrides the default order. The env var overrides this. */
  prefer?: BackendName | readonly BackendName[];
  /** wasm threads: a count, or 'auto' (as many as the machine allows). Default: env var, else 1. */
  wasmThreads?: number | 'auto';
  /** Ignore the PIXELCNN_BACKEND env var. */
  ignoreEnv?: boolean;
}

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  reason: string;
  /**
   * webgpu in Node: what Dawn and the Vulkan loader printed while the adapter was probed (in a
   * child process, so it never reaches this process's stderr); absent when they printed nothing.
   */
  log?: string;
}

export interface BackendReport {
  /** The backend now active (`tf.getBackend()` name, e.g. 'tensorflow' for tfjs-node-gpu). */
  backend: string;
  /** Which of our names was chosen. */
  chosen: BackendName;
  /** Every backend tried in order, with why it was or was not taken. */
  attempts: BackendAttempt[];
  /** wasm only: threads actually running. */
  threads?: number;
  /** wasm only: why that many threads (e.g. the failure behind a fallback to one). */
  threadsReason?: string;
  /** webgpu only: the adapter (vendor, architecture, description; software or not). */
  adapter?: WebGpuAdapter;
  /** Kernels this package registered to make training possible on the chosen backend. */
  registeredKernels: string[];
  /** One line for a log: "wasm (2 threads); skipped tensorflow-gpu: not installed, ...". */
  summary: string;
}

const inNode = (): boolean =>
  typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

const envOf = (key: string): string | undefined =>
  typeof process !== 'undefined' && process.env ? process.env[key] : undefined;

function parseList(value: string): BackendName[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as BackendName[];
}

const KNOWN: readonly string[] = [...BACKEND_ORDER, 'webgl'];

async function importOptional(moduleName: string): Promise<string | null> {
  try {
    await import(/* @vite-ignore */ moduleName);
    return null;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(msg)) {
      return `${moduleName} not installed`;
    }
    return `${moduleName} failed to load: ${msg.split('\n')[0]}`;
  }
}

/**
 * Try to make `name` the active backend. Returns a reason string on failure, null on success.
 * tfjs-node(-gpu) are loaded with a dynamic import: they are never dependencies of this package
 * (their install downloads libtensorflow; see the README).
 */
async function tryBackend(
  name: BackendName,
  wasmThreads: number | 'auto',
  allowSoftwareGpu: boolean,
): Promise<{
  reason: string | null;
  threads?: number;
  threadsReason?: string;
  registered: string[];
}> {
  let registered: string[] = [];
  let threads: number | undefined;
  let threadsReason: string | undefined;
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    const mod = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    if (!inNode()) return { reason: `${mod} runs only in Node`, registered };
    const why = await importOptional(mod);
    if (why) return { reason: why, registered };
    if (!tf.findBackendFactory('tensorflow')) {
      return {
        reason: `${mod} loaded but registered no 'tensorflow' backend on this copy of tfjs-core (${tf.version_core}); install the same tfjs version`,
        registered,
      };
    }
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    threads = await enableWasmThreads(wasmThreads);
    threadsReason = wasmThreadsReport()?.reason;
    registered = registerWasmTrainingKernels();
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else if (name === 'webgl') {
    // A page that bundles tfjs-backend-webgl has registered it; otherwise try to load it.
    const why = tf.findBackendFactory('webgl')
      ? null
      : await importOptional('@tensorflow/tfjs-backend-webgl');
    if (why) return { reason: why, registered };
  } else if (name === 'webgpu') {
    const why = await prepareWebGpu(allowSoftwareGpu);
    if (why) return { reason: why, registered };
    registered = registerWebGpuKernels();
  } else {
    return { reason: `unknown backend '${name}' (known: ${KNOWN.join(', ')})`, registered };
  }
  // Gradients tfjs lacks on every backend (comparison ops, dilated conv2d): global, idempotent.
  registerZeroGradients();
  registerConv2dGradient();
  const tfName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  let ok = false;
  try {
    ok = await tf.setBackend(tfName);
  } catch (e) {
    return { reason: `setBackend('${tfName}') threw: ${(e as Error).message}`, registered };
  }
  if (!ok) return { reason: `setBackend('${tfName}') returned false`, registered };
  await tf.ready();
  if (name === 'tensorflow-gpu' && !gpuVisible()) {
    return { reason: 'tfjs-node-gpu loaded but found no CUDA device', registered };
  }
  return { reason: null, threads, threadsReason, registered };
}

function gpuVisible(): boolean {
  // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; its backend exposes
  // isUsingGpuDevice on the binding in 4.x.
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice !== false;
}

/**
 * Pick and prepare the fastest available backend: tensorflow-gpu, webgpu on a hardware adapter,
 * tensorflow, wasm, cpu (in that order, unless `prefer` or the PIXELCNN_BACKEND env var says
 * otherwise; a software WebGPU adapter only when webgpu is named there). On wasm it
 * registers the kernels training needs (see `registerWasmTrainingKernels`) and, when asked,
 * runs it multi-threaded. Reports what it chose and why it skipped the others.
 *
 * @example
 * const report = await initBackend();
 * console.log(report.summary); // "wasm (1 thread); skipped tensorflow-gpu: @tensorflow/tfjs-node-gpu not installed, ..."
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const envChoice = options.ignoreEnv ? undefined : envOf(BACKEND_ENV);
  let order: BackendName[];
  if (envChoice) order = parseList(envChoice);
  else if (options.prefer)
    order = typeof options.prefer === 'string' ? [options.prefer] : [...options.prefer];
  else order = [...BACKEND_ORDER];
  for (const n of order) {
    if (!KNOWN.includes(n)) {
      throw new Error(
        `Error in initBackend: unknown backend '${n}'${envChoice ? ` (from ${BACKEND_ENV})` : ''}; known: ${KNOWN.join(', ')}`,
      );
    }
  }
  const envThreads = envOf(WASM_THREADS_ENV)?.trim();
  if (envThreads && envThreads !== 'auto' && !/^[1-9][0-9]*$/.test(envThreads)) {
    throw new Error(
      `Error in initBackend: ${WASM_THREADS_ENV} must be 'auto' or a positive integer, got '${envThreads}'`,
    );
  }
  const wasmThreads =
    options.wasmThreads ?? (envThreads ? (envThreads === 'auto' ? 'auto' : Number(envThreads)) : 1);
  // A software WebGPU adapter only when webgpu was named, never in the automatic order.
  const allowSoftwareGpu = Boolean(envChoice || options.prefer);
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const r = await tryBackend(name, wasmThreads, allowSoftwareGpu);
    const log = name === 'webgpu' ? webgpuProbeLog() : '';
    if (r.reason === null) {
      const adapter = name === 'webgpu' ? webgpuAdapter() : undefined;
      attempts.push({
        name,
        ok: true,
        reason: adapter ? `available on ${describeAdapter(adapter)}` : 'available',
        ...(log ? { log } : {}),
      });
      const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
      const fellBack = r.threads === 1 && wasmThreads !== 1 && r.threadsReason;
      const detail =
        r.threads !== undefined
          ? ` (${r.threads} thread${r.threads === 1 ? '' : 's'}${fellBack ? `: ${r.threadsReason}` : ''})`
          : adapter
            ? ` (${describeAdapter(adapter)})`
            : '';
      const summary = `${name}${detail}${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`;
      return {
        backend: tf.getBackend(),
        chosen: name,
        attempts,
        threads: r.threads,
        threadsReason: r.threadsReason,
        adapter,
        registeredKernels: r.registered,
        summary,
      };
    }
    attempts.push({ name, ok: false, reason: r.reason, ...(log ? { log } : {}) });
  }
  throw new Error(
    `Error in initBackend: no backend could be started: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`,
  );
}
