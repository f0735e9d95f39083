import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from './initBackend';

describe('initBackend', () => {
  it('skips tfjs-node flavours that are not installed and says why', async () => {
    const report = await initBackend({
      prefer: ['tensorflow-gpu', 'tensorflow', 'cpu'],
      ignoreEnv: true,
    });
    expect(report.chosen).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(report.attempts.map((a) => a.name)).toEqual(['tensorflow-gpu', 'tensorflow', 'cpu']);
    expect(report.attempts[0].reason).toMatch(/tfjs-node-gpu not installed/);
    expect(report.summary).toMatch(/^cpu; skipped tensorflow-gpu: /);
  });

  it('rejects an unknown backend name with a clear error', async () => {
    await expect(initBackend({ prefer: 'cuda' as never, ignoreEnv: true })).rejects.toThrow(
      /Error in initBackend: unknown backend 'cuda'/,
    );
  });

  it('honours PIXELCNN_BACKEND over the option', async () => {
    process.env.PIXELCNN_BACKEND = 'cpu';
    try {
      const report = await initBackend({ prefer: 'wasm' });
      expect(report.chosen).toBe('cpu');
    } finally {
      delete process.env.PIXELCNN_BACKEND;
    }
  });
});

describe('initBackend wasm threads option', () => {
  it('rejects a PIXELCNN_WASM_THREADS that is neither auto nor a positive integer', async () => {
    const before = process.env.PIXELCNN_WASM_THREADS;
    try {
      for (const bad of ['0', 'two', '1.5', '-1']) {
        process.env.PIXELCNN_WASM_THREADS = bad;
        await expect(initBackend({ prefer: 'cpu', ignoreEnv: true })).rejects.toThrow(
          `Error in initBackend: PIXELCNN_WASM_THREADS must be 'auto' or a positive integer, got '${bad}'`,
        );
      }
    } finally {
      if (before === undefined) delete process.env.PIXELCNN_WASM_THREADS;
      else process.env.PIXELCNN_WASM_THREADS = before;
    }
  });
});
