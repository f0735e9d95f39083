import { defineConfig } from 'tsup';

// An app: ESM only. src/cli.ts starts with a node shebang, which esbuild keeps (and tsup makes
// dist/cli.js executable).
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/settingsEntry.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts', 'src/settingsEntry.ts'] },
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: [/^@tensorflow\//, /^@pixelcnn\//],
});
