import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fakeIo } from './fakeIo';
import { main } from './main';
import { readCheckpointMeta } from './modelState';
import { DEMO_SAMPLES, PRESETS } from './options';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-demo-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// `pixelcnn demo` with its real preset (network, classes, data), cut to 2 training steps: it
// trains, evaluates, samples every class and writes the sheets (wasm: the 400 held-out drawings
// and the sampling take minutes on tfjs's cpu backend).
describeBackends(
  'pixelcnn demo',
  ({ backend }) => {
    it('trains the preset, samples every class and writes a sheet per class', async () => {
      const out = path.join(tmp, 'demo');
      const f = fakeIo();
      const code = await main(['demo', '--steps', '2', '--out', out, '--backend', backend], f.io);
      expect(f.err()).toBe('');
      expect(code).toBe(0);
      expect(f.out()).toMatch(/demo finished in .*: held-out \d+\.\d+ ± \d+\.\d+ bits\/dim/);
      const ck = readCheckpointMeta(path.join(out, 'checkpoints', 'step-00000002'));
      const preset = PRESETS.demo;
      expect(ck.settings.data.classes).toEqual(preset.classes);
      expect(ck.settings.model).toMatchObject({
        numResnet: preset.numResnet,
        numHierarchies: preset.numHierarchies,
        numFilters: preset.numFilters,
        numLogisticMix: preset.numLogisticMix,
      });
      const samples = JSON.parse(
        fs.readFileSync(path.join(out, 'samples', 'samples.json'), 'utf8'),
      );
      expect(samples.n).toBe(DEMO_SAMPLES);
      expect(samples.classes).toEqual(preset.classes);
      for (const c of preset.classes as string[])
        expect(fs.existsSync(path.join(out, 'samples', `${c}.png`))).toBe(true);
    });
  },
  { only: ['wasm'] },
);
