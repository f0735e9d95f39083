import { defineConfig, type Options } from 'tsup';

const common: Options = {
  dts: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@pixelcnn\//, 'vitest'],
};

export default defineConfig([
  { ...common, entry: ['src/index.ts', 'src/testing.ts'], format: ['esm', 'cjs'], clean: true },
  // The vitest setup file uses top-level await: ESM only.
  { ...common, entry: { 'testing/setup': 'src/testing/setup.ts' }, format: ['esm'] },
]);
