import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import {
  applyPreset,
  modelConfigFrom,
  parseArgs,
  trainOptions,
  trainSettingsFrom,
} from './settingsEntry';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The relative modules `file` imports at run time (`import type` is erased by the bundler). */
function runtimeImports(file: string): { relative: string[]; bare: string[] } {
  const src = fs.readFileSync(file, 'utf8');
  const relative: string[] = [];
  const bare: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
    if (m[1]) continue;
    (m[2].startsWith('.') ? relative : bare).push(m[2]);
  }
  return { relative, bare };
}

it('@pixelcnn/trainer/settings pulls in no node: module (the viewer bundles it for the browser)', () => {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const imports = runtimeImports(file);
    for (const b of imports.bare) bare.add(b);
    for (const r of imports.relative) visit(path.resolve(path.dirname(file), `${r}.ts`));
  };
  visit(path.join(here, 'settingsEntry.ts'));
  expect(seen.size).toBeGreaterThan(3);
  expect(
    [...bare].filter((b) => b.startsWith('node:') || ['fs', 'path', 'os'].includes(b)),
  ).toEqual([]);
  // what it does import at run time is browser-safe
  expect([...bare].sort()).toEqual([
    '@pixelcnn/backend',
    '@pixelcnn/pixelcnn-dist',
    '@pixelcnn/quickdraw-data',
    '@pixelcnn/quickdraw-models', // its main entry: model names and fetch loaders, no fs
  ]);
});

it('builds the settings `pixelcnn train --preset demo` would from an argument list', () => {
  const parsed = parseArgs(
    ['--classes', 'apple,fish', '--num-filters', '8', '--steps', '20'],
    trainOptions,
    'pixelcnn train',
  );
  const values = applyPreset(parsed.values, parsed.explicit, 'demo');
  const model = modelConfigFrom(values, 2, [28, 28, 1]);
  const train = trainSettingsFrom(values);
  expect(model).toMatchObject({ numFilters: 8, numResnet: 1, numHierarchies: 3, numClasses: 2 });
  expect(model.dropoutP).toBe(0); // the demo preset's, under the explicit options
  expect(train).toMatchObject({ steps: 20, batchSize: 32, ema: 0.995, seed: 1 });
});
