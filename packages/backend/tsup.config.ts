import { defineConfig } from 'tsup';
import { packageConfig, packageOptions } from '../../tsup.shared.ts';

const overrides = {
  // No `clean`: the two configs build in parallel and a cleaning one deletes the other's .d.ts
  // files; the build script empties dist first instead.
  clean: false,
  external: [...packageOptions.external, 'vitest'],
  // tfjs-core's gradients ship only as extensionless ESM that Node cannot load: bundle them.
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
};

export default defineConfig([
  // ESM: the vitest setup file (top-level await: ESM only) shares its chunks with ./testing, so
  // the backends it prepares are the ones describeBackends reads (one module state, one copy of
  // tfjs-core's gradients).
  packageConfig(
    { index: 'src/index.ts', testing: 'src/testing.ts', 'testing/setup': 'src/testing/setup.ts' },
    { ...overrides, format: ['esm'] },
  ),
  // CJS has no import.meta.url (wasmThreads' createRequire, testing's repository root): tsup's
  // shims give it one. Not for ESM: there they are `import path from "path"` and `url` at the top
  // of every chunk, which no browser bundler resolves (the main entry is browser-safe).
  packageConfig(['src/index.ts', 'src/testing.ts'], { ...overrides, format: ['cjs'], shims: true }),
]);
