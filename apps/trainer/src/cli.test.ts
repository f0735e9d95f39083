import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeIo, TINY_NETWORK } from './fakeIo';
import { main } from './main';
import { demoOptions, evalOptions, sampleOptions, trainOptions } from './options';

// Backend-independent: these tests check how the CLI handles arguments, data and checkpoints.
// The few that train or sample pass no --backend, so they run on the automatic choice a user gets
// (wasm here, whatever PIXELCNN_TEST_BACKENDS says); the micro-batch test names wasm, whose 4 GiB
// heap it is about. The CLI on each selected backend is e2e.test.ts's and images.test.ts's job.
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('pixelcnn CLI: usage and errors before any work', () => {
  it('prints the commands without a command (exit 2) and with --help (exit 0)', async () => {
    const a = fakeIo();
    expect(await main([], a.io)).toBe(2);
    expect(a.out()).toMatch(/Usage: pixelcnn <command>/);
    for (const c of ['demo', 'train', 'sample', 'eval']) expect(a.out()).toContain(`  ${c}`);
    const b = fakeIo();
    expect(await main(['--help'], b.io)).toBe(0);
  });

  it('--help of each command lists every option', async () => {
    const cases: [string, { name: string }[]][] = [
      ['train', trainOptions],
      ['sample', sampleOptions],
      ['eval', evalOptions],
      ['demo', demoOptions],
    ];
    for (const [cmd, specs] of cases) {
      const f = fakeIo();
      expect(await main([cmd, '--help'], f.io)).toBe(0);
      expect(f.out()).toContain(`Usage: pixelcnn ${cmd} [options]`);
      for (const s of specs) expect(f.out()).toContain(s.name);
    }
    const h = fakeIo();
    expect(await main(['help', 'eval'], h.io)).toBe(0);
    expect(h.out()).toContain('Usage: pixelcnn eval');
  });

  it('rejects an unknown command with the closest one', async () => {
    const f = fakeIo();
    expect(await main(['trian'], f.io)).toBe(2);
    expect(f.err()).toBe(
      "error: unknown command 'trian'; did you mean 'train'? (commands: demo, train, sample, eval)\n",
    );
  });

  it('rejects an unknown option with the closest one and the valid list', async () => {
    const f = fakeIo();
    expect(await main(['train', '--num-filter', '8'], f.io)).toBe(2);
    expect(f.err()).toMatch(
      /^error: unknown option --num-filter for 'pixelcnn train'; did you mean --num-filters\?\n/,
    );
    expect(f.err()).toMatch(/valid options: --classes, --per-class, .*--num-filters/);
    expect(f.err()).toContain("Run 'pixelcnn train --help' for the options.");
    const g = fakeIo();
    expect(await main(['sample', '--temprature', '0.5'], g.io)).toBe(2);
    expect(g.err()).toMatch(/did you mean --temperature\?/);
    const h = fakeIo();
    expect(await main(['train', 'extra'], h.io)).toBe(2);
    expect(h.err()).toMatch(/unexpected argument 'extra'/);
  });

  it('rejects bad values and impossible combinations', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--lr', '-1'], /option --lr: must be > 0, got -1/],
      [
        ['train', '--num-hierarchies', '4'],
        /28x28 images need sides divisible by 2\^\(numHierarchies-1\) = 8; use 1 to 3/,
      ],
      [
        ['train', '--batch-size', '4', '--micro-batch', '8'],
        /--micro-batch 8 is larger than --batch-size 4/,
      ],
      [['train', '--classes', 'applle'], /'applle' is not a QuickDraw class; did you mean 'apple'/],
      [['train', '--classes', '999'], /999 is not a TFDS label/],
      [['train', '--classes', 'fish,fish'], /'fish' is given twice/],
      [['train', '--backend', 'cuda'], /'cuda' is not one of auto, tensorflow-gpu/],
      [['sample'], /'pixelcnn sample' needs --checkpoint PATH/],
      [['sample', '--checkpoint', 'runs/x', '--model', 'y'], /or --model NAME .*, one of them/],
      [
        ['sample', '--model', 'nope'],
        /option --model: no pretrained model 'nope'; @pixelcnn\/quickdraw-models ships: /,
      ],
      [['eval'], /'pixelcnn eval' needs --checkpoint PATH/],
      [['train', '--preset', 'blgo'], /'blgo' is not one of demo, blog \(did you mean 'blog'\?\)/],
    ];
    for (const [argv, re] of cases) {
      const f = fakeIo();
      expect(await main(argv, f.io), argv.join(' ')).toBe(2);
      expect(f.err(), argv.join(' ')).toMatch(re);
    }
  });

  it('an unwritable output directory fails before loading anything', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, '');
    const f = fakeIo();
    expect(await main(['train', '--out', path.join(file, 'run')], f.io)).toBe(1);
    expect(f.err()).toMatch(
      /^error: cannot write to the output directory \(--out\) .*a-file\/run \((ENOTDIR|EEXIST)\)/,
    );
    expect(f.out()).not.toMatch(/backend:/);
  });

  it('missing data fails before training, naming what the mirror has', async () => {
    const f = fakeIo();
    expect(
      await main(['train', '--classes', 'bee,apple', '--out', path.join(tmp, 'bee')], f.io),
    ).toBe(2);
    expect(f.err()).toMatch(
      /no bitmaps for 'bee' in the QuickDraw mirror .*quickdraw \(\$QUICKDRAW_BASE_URL\); it has: airplane, alarm clock, apple/,
    );
    expect(f.err()).toMatch(/--data https:\/\/storage\.googleapis\.com\/quickdraw_dataset\//);
    expect(f.out()).not.toMatch(/backend:/);
    // The blog preset's classes are not in the local mirror either.
    const g = fakeIo();
    expect(await main(['train', '--preset', 'blog', '--out', path.join(tmp, 'blog')], g.io)).toBe(
      2,
    );
    expect(g.err()).toMatch(/no bitmaps for 'bee', 'broccoli', .*'tree'/);
    const h = fakeIo({ env: {} });
    expect(
      await main(
        ['train', '--data', path.join(tmp, 'nowhere'), '--out', path.join(tmp, 'x')],
        h.io,
      ),
    ).toBe(2);
    expect(h.err()).toMatch(/the QuickDraw mirror .*nowhere \(from --data\) does not exist/);
    const i = fakeIo({ env: {} });
    expect(await main(['train', '--data', tmp, '--out', path.join(tmp, 'x')], i.io)).toBe(2);
    expect(i.err()).toMatch(
      /is not a QuickDraw mirror: expected .*full\/numpy_bitmap\/<class>\.npy/,
    );
  });

  it('a missing checkpoint fails with what was expected', async () => {
    for (const cmd of ['sample', 'eval']) {
      const f = fakeIo();
      expect(await main([cmd, '--checkpoint', path.join(tmp, 'none')], f.io)).toBe(1);
      expect(f.err()).toMatch(/^error: --checkpoint: no checkpoint at .*none: it does not exist/);
    }
    const g = fakeIo();
    expect(await main(['train', '--resume', tmp], g.io)).toBe(1);
    expect(g.err()).toMatch(/--resume: no checkpoint at .*: expected a checkpoint directory/);
  });
});

describe('pixelcnn train on one class', () => {
  // Issue 18.2: --classes apple (conditional by default) failed after loading the data with
  // tfjs's "Error in oneHot: depth must be >=2". One class trains unconditionally, and says so.
  it('trains an unconditional model, says so, and samples it', async () => {
    const out = path.join(tmp, 'one-class');
    const tiny = ['--per-class', '16', '--held-out', '0.25', ...TINY_NETWORK];
    tiny.push('--batch-size', '4', '--eval-images', '4', '--eval-batch', '4', '--seed', '3');
    const f = fakeIo();
    const code = await main(
      ['train', '--classes', 'apple', ...tiny, '--steps', '1', '--out', out],
      f.io,
    );
    expect(f.err()).toBe('');
    expect(code).toBe(0);
    expect(f.out()).toContain('one class (apple): training an unconditional model');
    const settings = JSON.parse(fs.readFileSync(path.join(out, 'settings.json'), 'utf8'));
    expect(settings.model).toMatchObject({ conditionalShape: null, numClasses: 0 });
    const s = fakeIo();
    expect(await main(['sample', '--checkpoint', out, '--n', '2', '--real', '2'], s.io)).toBe(0);
    expect(s.err()).toBe('');
  }, 120_000);
});

describe('pixelcnn train sizes its micro-batch against the wasm heap', () => {
  // Issue 18.4: TFP's network with --micro-batch 8 ran out of the 4 GB wasm heap mid-step and
  // aborted the process. A micro-batch that cannot fit is refused before any training, naming the
  // one that fits (issue 17: with the gated resnets recomputed in the backward pass, 8 fits).
  it("refuses TFP's network at --micro-batch 64 on wasm, naming the largest that fits", async () => {
    const out = path.join(tmp, 'too-big');
    const tfp = ['--num-resnet', '5', '--num-hierarchies', '3', '--num-filters', '160'];
    tfp.push('--num-logistic-mix', '10', '--receptive-field-dims', '3,3');
    const f = fakeIo();
    const code = await main(
      [
        'train',
        '--classes',
        'apple,fish',
        '--per-class',
        '40',
        ...tfp,
        '--batch-size',
        '64',
        '--micro-batch',
        '64',
        '--out',
        out,
      ],
      { ...f.io, env: { ...f.io.env, PIXELCNN_BACKEND: 'wasm' } },
    );
    expect(code).toBe(2);
    const m = f
      .err()
      .match(
        /^error: option --micro-batch 64: a training step on micro-batches of 64 images needs about \d+\.\d\d GiB, more than the wasm heap's 4\.00 GiB even with recomputed blocks; the largest micro-batch that fits is (\d+): use --micro-batch (\d+) \(or 0 = auto\)/,
      );
    expect(m, f.err()).not.toBeNull();
    expect(m?.[2]).toBe(m?.[1]);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(8);
    expect(fs.existsSync(path.join(out, 'checkpoints'))).toBe(false);
  }, 120_000);
});

describe('a damaged newest checkpoint', () => {
  // Issue 18.3: a corrupt newest checkpoint was reported, but --resume and sample gave up although
  // intact older checkpoints sat beside it. The error now names the newest intact one and the
  // command that uses it (no silent fallback: see resolveIntactCheckpoint).
  it('is refused, naming the newest intact checkpoint and the command; that command works', async () => {
    const run = path.join(tmp, 'damaged');
    const tiny = ['--classes', 'apple,fish', '--per-class', '16', '--held-out', '0.25'];
    tiny.push(...TINY_NETWORK, '--batch-size', '4', '--eval-images', '4');
    tiny.push('--eval-batch', '4', '--seed', '3', '--checkpoint-every', '1');
    tiny.push('--keep-checkpoints', '3');
    const t = fakeIo();
    expect(await main(['train', ...tiny, '--steps', '2', '--out', run], t.io)).toBe(0);
    const ck = path.join(run, 'checkpoints');
    const newest = path.join(ck, 'step-00000002');
    const weights = path.join(newest, 'weights.bin');
    fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 100));
    const older = path.join('damaged', 'checkpoints', 'step-00000001');

    const r = fakeIo({ cwd: tmp });
    expect(await main(['train', '--resume', run, '--steps', '3'], r.io)).toBe(1);
    expect(r.err()).toContain(`--resume: the checkpoint ${newest} is damaged: `);
    expect(r.err()).toMatch(/truncated weights file/);
    expect(r.err()).toContain(
      `the newest intact checkpoint is ${path.join(tmp, older)}; use it with:\n  pixelcnn train --resume ${older} (and your other options)`,
    );
    const s = fakeIo({ cwd: tmp });
    expect(await main(['sample', '--checkpoint', 'damaged', '--n', '1'], s.io)).toBe(1);
    expect(s.err()).toContain(`pixelcnn sample --checkpoint ${older} (and your other options)`);

    const again = fakeIo({ cwd: tmp });
    expect(await main(['train', '--resume', older, '--steps', '3'], again.io)).toBe(0);
    expect(again.err()).toBe('');
    expect(again.out()).toMatch(/resuming from .*step-00000001 \(step 1, epoch 1\)/);
  }, 180_000);
});
