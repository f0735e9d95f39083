import { defineConfig } from 'tsup';

// An app: ESM only. src/cli.ts starts with a node shebang, which esbuild keeps (and tsup makes
// dist/cli.js executable).
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: [/^@tensorflow\//, /^@pixelcnn\//],
});
