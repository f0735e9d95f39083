import { defineConfig } from 'tsup';
import { packageConfig, packageOptions } from '../../tsup.shared.ts';

const overrides = {
  // No `clean`: the two configs build in parallel and a cleaning one deletes the other's .d.ts
  // files; the build script empties dist first instead.
  clean: false,
  external: [...packageOptions.external, 'vitest'],
  // tfjs-core's gradients ship only as extensionless ESM that Node cannot load: bundle them.
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  shims: true,
};

export default defineConfig([
  // ESM: the vitest setup file (top-level await: ESM only) shares its chunks with ./testing, so
  // the backends it prepares are the ones describeBackends reads (one module state, one copy of
  // tfjs-core's gradients).
  packageConfig(
    { index: 'src/index.ts', testing: 'src/testing.ts', 'testing/setup': 'src/testing/setup.ts' },
    { ...overrides, format: ['esm'] },
  ),
  packageConfig(['src/index.ts', 'src/testing.ts'], { ...overrides, format: ['cjs'] }),
]);
