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
  packageConfig(['src/index.ts', 'src/testing.ts'], overrides),
  // The vitest setup file uses top-level await: ESM only.
  packageConfig({ 'testing/setup': 'src/testing/setup.ts' }, { ...overrides, format: ['esm'] }),
]);
