import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptionSpec } from './args';
import { main } from './main';
import { evalOptions, sampleOptions, trainOptions } from './options';

// Issue 18: random and mutated command lines must each end, within a time bound, in a usage
// error or an error that names the option or file: never a hang, an internal message or a stack
// trace, and never a partial file left behind. `train` reads an empty data directory, so no run
// gets past loading its data (parsing, settings, paths, the .npy reader); `sample` and `eval`
// open a real one-step checkpoint, or a copy of it with one file truncated or one byte flipped.
// Backend-independent: what is checked (the exit code and the message) comes before or around the
// tensor work, which runs on whatever the drawn argv says (--backend is drawn too; without it the
// automatic choice, wasm here), not on PIXELCNN_TEST_BACKENDS.

// Keep any run that does start small: a tiny network, one step, output in the temp dir.
const TINY = [
  '--num-filters',
  '4',
  '--num-resnet',
  '1',
  '--per-class',
  '8',
  '--batch-size',
  '4',
  '--steps',
  '1',
];

let tmp: string;
let fixtures: Record<string, string>;
let checkpoints: string[];
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-fuzz-'));
  const f = (name: string, data: string | Uint8Array) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, data);
    return p;
  };
  const npyHeader = "{'descr': '|u1', 'fortran_order': False, 'shape': (10, 28, 28), }";
  const npy = new Uint8Array([0x93, ...Buffer.from('NUMPY'), 1, 0, npyHeader.length, 0]);
  fixtures = {
    empty: f('empty.npy', ''),
    html: f('page.npy', '<!doctype html><html><body>Not Found</body></html>'),
    truncatedNpy: f('truncated.npy', Buffer.concat([npy, Buffer.from(npyHeader), Buffer.alloc(7)])),
    randomBytes: f(
      'random.bin',
      new Uint8Array(Array.from({ length: 333 }, (_, i) => (i * 97) % 256)),
    ),
    badJson: f('checkpoint.json', '{"format": "pixelcnn-trainer-checkpoint", "meta": '),
    dir:
      fs.mkdirSync(path.join(tmp, 'a-directory'), { recursive: true }) ??
      path.join(tmp, 'a-directory'),
    missing: path.join(tmp, 'does-not-exist'),
    underFile: path.join(tmp, 'empty.npy', 'sub'),
    proc: '/proc/nope',
  };
  fs.mkdirSync(path.join(tmp, 'quickdraw-empty'));
  // A real run of one step, then copies of it with each checkpoint file truncated or flipped.
  const good = path.join(tmp, 'good');
  const quiet = { write: () => {} };
  const trained = await main(
    ['train', '--classes', 'apple,fish', ...TINY, '--held-out', '0.25', '--out', good],
    {
      stdout: { ...quiet, isTTY: false },
      stderr: { write: (s: string) => process.stderr.write(s) }, // the fixture run's errors, if any
      env: { QUICKDRAW_BASE_URL: quickdrawDir() },
      cwd: tmp,
    },
  );
  if (trained !== 0) throw new Error('the fixture run did not train');
  const ckDir = path.join(good, 'checkpoints');
  const latest = path.join(
    ckDir,
    fs
      .readdirSync(ckDir)
      .filter((f) => f.startsWith('step-'))
      .sort()
      .pop() as string,
  );
  checkpoints = [good, ckDir, latest, path.join(latest, 'nope')];
  const files = fs.readdirSync(latest).filter((f) => fs.statSync(path.join(latest, f)).isFile());
  files.forEach((file, i) => {
    for (const how of ['truncated', 'flipped']) {
      const copy = path.join(tmp, `bad-${i}-${how}`);
      fs.cpSync(good, copy, { recursive: true });
      const target = path.join(copy, path.relative(good, latest), file);
      const bytes = fs.readFileSync(target);
      if (how === 'truncated') fs.writeFileSync(target, bytes.subarray(0, bytes.length >> 1));
      else {
        bytes[bytes.length >> 1] ^= 0x5a;
        fs.writeFileSync(target, bytes);
      }
      checkpoints.push(copy);
    }
  });
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const INTERNAL =
  /Cannot read propert|undefined is not|is not a function|is not iterable|Error in oneHot|RangeError|TypeError|Maximum call stack|Aborted\(\)|out of bounds|\n\s+at /;

/** A value for an option: mostly the kind it expects, often broken. */
const valueFor = (s: OptionSpec): fc.Arbitrary<string> => {
  const paths = fc.constantFrom(...Object.values(fixtures));
  const numbers = fc.oneof(
    fc.constantFrom('NaN', 'Infinity', '-Infinity', '-1', '0', '1e400', '1e-400', '0x10', '', ' '),
    fc.integer({ min: -5, max: 40 }).map(String),
    fc.double({ noNaN: false }).map(String),
  );
  const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('--', '-', '=', ',', ',,'));
  switch (s.type) {
    case 'string':
      return fc.oneof(paths, junk, s.choices ? fc.constantFrom(...s.choices) : junk);
    case 'list':
      return fc.oneof(
        fc.constantFrom('apple', 'apple,fish', 'applle', 'fish,fish', '999', '0,1', ''),
        junk,
      );
    case 'numberList':
      return fc.oneof(
        fc.array(numbers, { minLength: 1, maxLength: 3 }).map((a) => a.join(',')),
        junk,
      );
    case 'boolean':
      return fc.constantFrom('true', 'false', 'yes', '');
    default:
      return fc.oneof(numbers, junk);
  }
};

const argvFor = (specs: readonly OptionSpec[]): fc.Arbitrary<string[]> =>
  fc
    .array(
      fc.oneof(
        {
          weight: 8,
          arbitrary: fc
            .constantFrom(...specs)
            .chain((s) => valueFor(s).map((v) => [s, v] as const)),
        },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((w) => [null, w] as const) },
      ),
      { maxLength: 6 },
    )
    .chain((pairs) =>
      fc.boolean().map((inline) =>
        pairs.flatMap(([s, v]) => {
          if (!s) return [v];
          if (s.type === 'boolean') return v === '' ? [`--${s.name}`] : [`--${s.name}=${v}`];
          return inline ? [`--${s.name}=${v}`] : [`--${s.name}`, v];
        }),
      ),
    );

describe('pixelcnn CLI fuzz: every bad command line ends in a clear error', () => {
  const cases: Array<[string, readonly OptionSpec[], () => fc.Arbitrary<string[]>]> = [
    ['train', trainOptions, () => fc.constant([...TINY])],
    [
      'sample',
      sampleOptions,
      () =>
        fc.constantFrom(...checkpoints).map((c) => ['--checkpoint', c, '--n', '1', '--real', '1']),
    ],
    ['eval', evalOptions, () => fc.constantFrom(...checkpoints).map((c) => ['--checkpoint', c])],
  ];
  for (const [command, specs, baseFor] of cases) {
    it(`${command}: random and mutated options`, async () => {
      let n = 0;
      const hasOut = specs.some((s) => s.name === 'out');
      await fc.assert(
        fc.asyncProperty(baseFor(), fc.integer(), async (base, salt) => {
          // Options the base already gives are not drawn again ("given more than once" is tested elsewhere).
          const given = new Set(base.filter((a) => a.startsWith('--')).map((a) => a.slice(2)));
          const extra = fc.sample(
            argvFor(specs.filter((s) => !given.has(s.name) && s.name !== 'out')),
            { numRuns: 1, seed: salt },
          )[0];
          const out: string[] = [];
          const err: string[] = [];
          const runDir = path.join(tmp, `${command}-${n++}`);
          const io = {
            stdout: { write: (s: string) => out.push(s), isTTY: false },
            stderr: { write: (s: string) => err.push(s) },
            env: {
              QUICKDRAW_BASE_URL:
                command === 'train' ? path.join(tmp, 'quickdraw-empty') : quickdrawDir(),
            },
            cwd: tmp,
          };
          const argv = [command, ...base, ...(hasOut ? ['--out', runDir] : []), ...extra];
          const t0 = Date.now();
          const code = await main(argv, io);
          const msg = err.join('');
          if (process.env.FUZZ_LOG)
            fs.appendFileSync(
              process.env.FUZZ_LOG,
              `${code} ${msg.split('\n')[0].slice(0, 150)}\n`,
            );
          const where = `pixelcnn ${argv.join(' ')}\n${msg}`;
          expect(Date.now() - t0, where).toBeLessThan(30_000);
          expect([0, 1, 2], where).toContain(code);
          if (code === 0) {
            expect(msg, where).toBe('');
            return;
          }
          expect(msg, where).toMatch(/^error: /);
          expect(msg, where).not.toMatch(INTERNAL);
          // Names what is wrong: an option, a file or directory, a class, or a command.
          expect(msg, where).toMatch(/--[a-z]|\/|'[^']+'|option|argument|class|QuickDraw/);
          // No half-written files: atomic writes leave no temporaries behind.
          for (const dir of [runDir, tmp]) {
            if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
            expect(
              fs.readdirSync(dir).filter((f) => f.includes('.tmp-')),
              where,
            ).toEqual([]);
          }
        }),
        { seed: 18, numRuns: 40, endOnFailure: true },
      );
    }, 600_000);
  }
});
