import type { Options } from 'tsup';

/**
 * How every published package builds: ESM and CJS with their own .d.ts/.d.cts, for Node 20 and
 * bundlers. tfjs and sibling packages stay external (peers and dependencies: one copy each in a
 * user's tree). `splitting` gives CJS one copy of the modules shared by several entries too, so
 * a class keeps one identity across `pkg` and `pkg/node`.
 */
export const packageOptions = {
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  splitting: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@pixelcnn\//],
} satisfies Options;

/** A package's tsup config: its entry points on top of {@link packageOptions}. */
export function packageConfig(entry: Options['entry'], overrides: Options = {}): Options {
  return { ...packageOptions, entry, ...overrides };
}
