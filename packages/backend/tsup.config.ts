import { defineConfig } from 'tsup';

const common = {
  dts: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@pixelcnn\//, 'vitest'],
} as const;

export default defineConfig([
  { ...common, entry: ['src/index.ts', 'src/testing.ts'], format: ['esm', 'cjs'], clean: true },
  // The vitest setup file uses top-level await: ESM only.
  { ...common, entry: { 'testing/setup': 'src/testing/setup.ts' }, format: ['esm'] },
]);
