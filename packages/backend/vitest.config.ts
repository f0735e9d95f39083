import { configDefaults } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Threads are fixed when the wasm backend starts (in the setup file), so the multi-threaded
// tests run as their own projects, in processes started with PIXELCNN_WASM_THREADS=2: one where
// threads work, one where they cannot (no writable temp dir for the worker script) and must
// fall back to one thread. Projects extend the root config and add to its include list, so the
// root lists none.
const THREADS_TESTS = 'src/**/*.threads.test.ts';
const FALLBACK_TESTS = 'src/**/*.fallback.test.ts';

export default sharedConfig({
  include: [],
  projects: [
    {
      extends: true,
      test: {
        name: 'backend',
        include: ['src/**/*.test.ts'],
        exclude: [...configDefaults.exclude, THREADS_TESTS, FALLBACK_TESTS],
      },
    },
    {
      extends: true,
      test: { name: 'wasm-threads', include: [THREADS_TESTS], env: { PIXELCNN_WASM_THREADS: '2' } },
    },
    {
      extends: true,
      test: {
        name: 'wasm-threads-fallback',
        include: [FALLBACK_TESTS],
        env: { PIXELCNN_WASM_THREADS: '2', TMPDIR: '/nonexistent/pixelcnn-no-tmp' },
      },
    },
  ],
});
