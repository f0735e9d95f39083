import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, type BackendReport, initBackend } from '../initBackend';

/** Env var choosing which backends the suite runs on, comma-separated. Default: "wasm,cpu". */
export const TEST_BACKENDS_ENV = 'PIXELCNN_TEST_BACKENDS';
export const DEFAULT_TEST_BACKENDS: BackendName[] = ['wasm', 'cpu'];

export interface BackendStatus {
  name: BackendName;
  /** tfjs's name for it ('tensorflow' for both tfjs-node flavours). */
  tfName: string;
  available: boolean;
  reason?: string;
  /** What initBackend said when it started (the adapter, on webgpu). */
  report?: BackendReport;
}

const statuses = new Map<BackendName, BackendStatus>();

/** Backends on which the suite fails any synchronous tensor read (a GPU pipeline stall). */
export const NO_SYNC_READ_BACKENDS: readonly string[] = ['webgpu'];

const syncReads: string[] = [];

/**
 * Synchronous reads seen on a guarded backend since the last call (and forgets them):
 * `describeBackends` fails a test that made one, even where the library caught the error.
 */
export function takeSyncReads(): string[] {
  return syncReads.splice(0, syncReads.length);
}

/**
 * Make every synchronous read of a tensor held by backend `tfName` throw (and be remembered):
 * `dataSync`/`arraySync`/`bufferSync` (they go through the engine's readSync), and a kernel of
 * the backend reading a GPU-resident tensor synchronously (its own readSync on data with no CPU
 * copy; tfjs's CPU forwarding of small CPU-resident tensors stays allowed).
 */
function guardSyncReads(tfName: string): void {
  type DataId = object;
  const engine = tf.engine() as unknown as {
    readSync(id: DataId): unknown;
    state: { tensorInfo: WeakMap<DataId, { backend: unknown; shape: number[]; dtype: string }> };
  };
  const backend = tf.findBackend(tfName) as unknown as {
    readSync(id: DataId): unknown;
    tensorMap?: { get(id: DataId): { values?: unknown } | undefined };
    __noSyncReads?: boolean;
  } | null;
  if (!backend || backend.__noSyncReads) return;
  backend.__noSyncReads = true;
  const fail = (what: string): never => {
    const e = new Error(
      `Error in the ${tfName} test suite: ${what}. Synchronous reads stall a GPU pipeline (and throw in Node on webgpu): read with \`await t.data()\` / \`await t.array()\`.`,
    );
    syncReads.push(e.stack ?? e.message);
    throw e;
  };
  const engineRead = engine.readSync.bind(engine);
  engine.readSync = (id) => {
    const info = engine.state.tensorInfo.get(id);
    if (info && info.backend === backend) {
      fail(`dataSync/arraySync/bufferSync of a ${info.dtype} [${info.shape.join(', ')}] tensor`);
    }
    return engineRead(id);
  };
  const backendRead = backend.readSync.bind(backend);
  backend.readSync = (id) => {
    if (backend.tensorMap && backend.tensorMap.get(id)?.values == null) {
      fail(`a ${tfName} kernel read a GPU tensor synchronously (a tfjs limitation of that kernel)`);
    }
    return backendRead(id);
  };
}

export function selectedBackends(): BackendName[] {
  const raw = process.env[TEST_BACKENDS_ENV];
  if (!raw) return [...DEFAULT_TEST_BACKENDS];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as BackendName[];
}

/**
 * Start every selected backend once (called from the vitest setup file, before any test file is
 * collected), remembering which could start and why not. Ends with the first available one active.
 */
export async function prepareBackends(): Promise<Map<BackendName, BackendStatus>> {
  // Tests: silence tfjs's "install tfjs-node" banner (it cannot install on CI machines).
  tf.env().set('IS_TEST', true);
  for (const name of selectedBackends()) {
    if (statuses.has(name)) continue;
    try {
      const report = await initBackend({ prefer: name, ignoreEnv: true });
      statuses.set(name, { name, tfName: report.backend, available: true, report });
      if (NO_SYNC_READ_BACKENDS.includes(report.backend)) guardSyncReads(report.backend);
    } catch (e) {
      const reason = (e as Error).message.replace(
        /^Error in initBackend: no backend could be started: /,
        '',
      );
      statuses.set(name, { name, tfName: name, available: false, reason });
    }
  }
  return statuses;
}

export function backendStatus(name: BackendName): BackendStatus {
  const s = statuses.get(name);
  if (!s) {
    throw new Error(
      `Error in backendStatus: backend '${name}' was not prepared; is @pixelcnn/backend/testing/setup in vitest setupFiles?`,
    );
  }
  return s;
}

/** Kernels from `kernels` that `backend` lacks (asks tfjs's kernel registry). */
export function missingKernels(tfName: string, kernels: readonly string[]): string[] {
  return kernels.filter((k) => tf.getKernel(k, tfName) === undefined);
}
