import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // One copy of the shared modules for both entries in CJS too (classes keep one identity).
  splitting: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@pixelcnn\//],
});
