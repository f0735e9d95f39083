import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import type { BackendName } from '../initBackend';
import { backendStatus, missingKernels, selectedBackends, takeSyncReads } from './backends';

export interface DescribeBackendsOptions {
  /** Kernels the block needs; a backend without one of them is skipped with the reason. */
  kernels?: readonly string[];
  /** Restrict to these backends (still only those selected by PIXELCNN_TEST_BACKENDS). */
  only?: readonly BackendName[];
  /** Check that no tensor outlives each test's scope (default true). */
  checkLeaks?: boolean;
}

export interface BackendContext {
  /** Our name for the backend of this block. */
  backend: BackendName;
}

/**
 * tfjs's `describeWithFlags` for vitest: runs `fn` once per selected backend (env
 * PIXELCNN_TEST_BACKENDS, default "wasm,cpu"), in a block titled `name [backend]`. Each test runs
 * in its own tensor scope; a tensor that outlives it (a leak, or a variable never disposed) fails
 * the test. On webgpu any synchronous read (`dataSync`, `arraySync`, `bufferSync`) throws and
 * fails the test (see `NO_SYNC_READ_BACKENDS`). A backend that could not start, or lacks a kernel
 * in `options.kernels`, gives a skipped block whose title says why.
 */
export function describeBackends(
  name: string,
  fn: (ctx: BackendContext) => void,
  options: DescribeBackendsOptions = {},
): void {
  const { kernels = [], only, checkLeaks = true } = options;
  for (const backend of selectedBackends()) {
    const status = backendStatus(backend);
    let skipReason: string | undefined;
    // Listed as skipped rather than left out, so a file whose suites are all for other backends
    // still has one (vitest fails a file with no suite: "No test suite found").
    if (only && !only.includes(backend)) skipReason = `only on ${only.join(', ')}`;
    else if (!status.available) skipReason = status.reason ?? 'not available';
    else {
      const missing = missingKernels(status.tfName, kernels);
      if (missing.length) skipReason = `missing kernel(s) ${missing.join(', ')}`;
    }
    if (skipReason) {
      describe.skip(`${name} [${backend}] (skipped: ${skipReason})`, () => fn({ backend }));
      continue;
    }
    describe(`${name} [${backend}]`, () => {
      let before = 0;
      beforeAll(async () => {
        await tf.setBackend(status.tfName);
        await tf.ready();
      });
      beforeEach(() => {
        before = tf.memory().numTensors;
        takeSyncReads();
        tf.engine().startScope();
      });
      afterEach(() => {
        tf.engine().endScope();
        const reads = takeSyncReads();
        expect(reads, `synchronous tensor reads on ${backend} (first: ${reads[0]})`).toEqual([]);
        if (checkLeaks) {
          const after = tf.memory().numTensors;
          expect(after - before, `tensors leaked by this test on ${backend}`).toBe(0);
        }
      });
      fn({ backend });
    });
  }
}

/** Run `f` and assert it leaves no tensor behind (for library calls that must clean up). */
export async function expectNoLeaks<T>(f: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await f();
  const after = tf.memory().numTensors;
  expect(after - before, 'tensors created and not disposed').toBe(0);
  return out;
}
