import { defineConfig, type Options } from 'tsup';

const common: Options = {
  dts: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@pixelcnn\//, 'vitest'],
  // tfjs-core's gradients ship only as extensionless ESM that Node cannot load: bundle them.
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  shims: true,
};

// No `clean`: the two configs build in parallel and a cleaning one deletes the other's .d.ts
// files; the build script empties dist first instead.
export default defineConfig([
  { ...common, entry: ['src/index.ts', 'src/testing.ts'], format: ['esm', 'cjs'] },
  // The vitest setup file uses top-level await: ESM only.
  { ...common, entry: { 'testing/setup': 'src/testing/setup.ts' }, format: ['esm'] },
]);
