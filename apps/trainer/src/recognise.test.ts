import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import { nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import { DrawingClassifier, wilsonInterval } from '@pixelcnn/quickdraw-models';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fakeIo, TINY_NETWORK } from './fakeIo';
import { main } from './main';
import type { RecognitionReport } from './recognise';

// A 2-step model of two classes (its drawings are noise) and the classifier the sample command
// trains for it on the run's 60 training drawings: the share of generated drawings recognised
// is near chance, the real drawings' share is the classifier's held-out accuracy.
const tiny = (classes = 'rainbow,fish') => [
  '--classes',
  classes,
  '--per-class',
  '40',
  '--held-out',
  '0.25',
  ...TINY_NETWORK,
  '--dropout',
  '0',
  '--batch-size',
  '4',
  '--eval-images',
  '4',
  '--seed',
  '3',
  '--steps',
  '2',
];

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-recognise-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describeBackends(
  'sample --classifier',
  ({ backend }) => {
    const cli = async (argv: string[]) => {
      const f = fakeIo();
      const code = await main([...argv, '--backend', backend], f.io);
      return { code, out: f.out(), err: f.err() };
    };

    it('trains a classifier of the run classes once, judges samples and real held-out drawings', async () => {
      const run = path.join(tmp, 'run');
      expect((await cli(['train', ...tiny(), '--out', run])).code).toBe(0);
      const clf = path.join(tmp, 'classifier');
      const first = await cli([
        'sample',
        '--checkpoint',
        run,
        '--n',
        '6',
        '--real',
        '2',
        '--classifier',
        clf,
      ]);
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      const trained = /training a classifier of rainbow, fish on (\d+) training drawings/.exec(
        first.out,
      );
      expect(trained).not.toBeNull();
      expect(first.out).toMatch(
        /generated \d+\.\d% \[\d+\.\d, \d+\.\d\] of 12; real held-out \d+\.\d% \[/,
      );
      const r = JSON.parse(fs.readFileSync(path.join(run, 'samples', 'samples.json'), 'utf8'))
        .recognition as RecognitionReport;
      expect(r.classifier).toMatchObject({ classes: ['rainbow', 'fish'], trainedNow: true });
      expect(r.generated.n).toBe(12);
      expect(r.generated.perClass.map((c) => [c.class, c.n])).toEqual([
        ['rainbow', 6],
        ['fish', 6],
      ]);
      // every row of the two classes is a training drawing or a held-out one (split by row hash)
      expect(r.real.n + Number(trained?.[1])).toBe(80);
      expect(r.real.n).toBeGreaterThan(10);
      expect(r.real.ci95).toEqual(wilsonInterval(r.real.hits, r.real.n));
      // The saved classifier's verdict on the real drawings is what was reported.
      const saved = await DrawingClassifier.load(nodeFileIO(clf));
      expect(saved.classes).toEqual(['rainbow', 'fish']);
      saved.dispose();

      // A second call loads it: the same verdict on the same samples.
      const again = await cli([
        'sample',
        '--checkpoint',
        run,
        '--n',
        '6',
        '--real',
        '0',
        '--classifier',
        clf,
      ]);
      expect(again.code).toBe(0);
      expect(again.out).not.toContain('training a classifier');
      const r2 = JSON.parse(fs.readFileSync(path.join(run, 'samples', 'samples.json'), 'utf8'))
        .recognition as RecognitionReport;
      expect(r2.generated).toEqual(r.generated);
      expect(r2.real).toEqual(r.real);
      expect(r2.classifier.trainedNow).toBe(false);
    });

    it('refuses a classifier of other classes, naming both', async () => {
      const other = path.join(tmp, 'other');
      expect((await cli(['train', ...tiny('rainbow,house'), '--out', other])).code).toBe(0);
      const r = await cli([
        'sample',
        '--checkpoint',
        other,
        '--n',
        '1',
        '--real',
        '0',
        '--classifier',
        path.join(tmp, 'classifier'),
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('judges fish, rainbow, but the model draws rainbow, house');
    });
  },
  { only: ['wasm'] },
);
