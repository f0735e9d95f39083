import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, initBackend } from '../initBackend';

/** Env var choosing which backends the suite runs on, comma-separated. Default: "wasm,cpu". */
export const TEST_BACKENDS_ENV = 'PIXELCNN_TEST_BACKENDS';
export const DEFAULT_TEST_BACKENDS: BackendName[] = ['wasm', 'cpu'];

export interface BackendStatus {
  name: BackendName;
  /** tfjs's name for it ('tensorflow' for both tfjs-node flavours). */
  tfName: string;
  available: boolean;
  reason?: string;
}

const statuses = new Map<BackendName, BackendStatus>();

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
      statuses.set(name, { name, tfName: report.backend, available: true });
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
