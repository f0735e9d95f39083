import { describe, expect, it } from 'vitest';
import {
  camelCase,
  closest,
  formatHelp,
  type OptionSpec,
  parseArgs,
  parseCommand,
  UsageError,
} from './args';

const specs: OptionSpec[] = [
  { name: 'num-filters', type: 'integer', description: 'filters', default: 32, min: 1 },
  { name: 'lr', type: 'number', description: 'learning rate', default: 0.001, exclusiveMin: 0 },
  { name: 'classes', type: 'list', description: 'classes' },
  { name: 'sampler', type: 'string', description: 'sampler', choices: ['naive', 'cached'] },
  { name: 'ema', type: 'boolean', description: 'use ema', default: true },
  { name: 'dims', type: 'numberList', description: 'dims', default: [3, 3], min: 1 },
];

describe('parseArgs', () => {
  it('reads --name value, --name=value, flags, --no-flags and lists; fills defaults', () => {
    const p = parseArgs(
      ['--num-filters', '64', '--lr=0.01', '--classes', 'cat, dog,26', '--no-ema', 'pos'],
      specs,
      'pixelcnn train',
    );
    expect(p.values).toEqual({
      numFilters: 64,
      lr: 0.01,
      classes: ['cat', 'dog', '26'],
      sampler: undefined,
      ema: false,
      dims: [3, 3],
    });
    expect([...p.explicit].sort()).toEqual(['classes', 'ema', 'lr', 'numFilters']);
    expect(p.positionals).toEqual(['pos']);
    expect(p.help).toBe(false);
    expect(parseArgs(['-h'], specs, 'x').help).toBe(true);
    expect(parseArgs(['--dims', '2,5'], specs, 'x').values.dims).toEqual([2, 5]);
    expect(parseArgs(['--ema=false'], specs, 'x').values.ema).toBe(false);
  });

  it('rejects an unknown option, suggesting the closest and listing the valid ones', () => {
    const run = () => parseArgs(['--num-filter', '3'], specs, 'pixelcnn train');
    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      /unknown option --num-filter for 'pixelcnn train'; did you mean --num-filters\?/,
    );
    expect(run).toThrow(
      /valid options: --num-filters, --lr, --classes, --sampler, --ema, --dims, --help/,
    );
    expect(() => parseArgs(['--zzzzzzzzzz'], specs, 'x')).toThrow(
      /unknown option --zzzzzzzzzz for 'x'\n/,
    );
    expect(() => parseArgs(['-n', '3'], specs, 'x')).toThrow(/unknown option -n for 'x'/);
  });

  it('rejects bad values with the option name and the rule', () => {
    expect(() => parseArgs(['--num-filters', 'abc'], specs, 'x')).toThrow(
      "option --num-filters: expected a number, got 'abc'",
    );
    expect(() => parseArgs(['--num-filters', '2.5'], specs, 'x')).toThrow(
      "option --num-filters: expected an integer, got '2.5'",
    );
    expect(() => parseArgs(['--num-filters', '0'], specs, 'x')).toThrow(
      'option --num-filters: must be >= 1, got 0',
    );
    expect(() => parseArgs(['--lr', '0'], specs, 'x')).toThrow('option --lr: must be > 0, got 0');
    expect(() => parseArgs(['--sampler', 'cachd'], specs, 'x')).toThrow(
      "option --sampler: 'cachd' is not one of naive, cached (did you mean 'cached'?)",
    );
    expect(() => parseArgs(['--lr'], specs, 'x')).toThrow('option --lr needs a value');
    expect(() => parseArgs(['--lr', '--ema'], specs, 'x')).toThrow('option --lr needs a value');
    expect(() => parseArgs(['--lr', '1', '--lr', '2'], specs, 'x')).toThrow(
      'option --lr given more than once',
    );
    expect(() => parseArgs(['--ema=maybe'], specs, 'x')).toThrow(
      "option --ema: expected true or false, got 'maybe'",
    );
    expect(() => parseArgs(['--no-ema=1'], specs, 'x')).toThrow('option --no-ema takes no value');
    expect(() => parseArgs(['--no-lr'], specs, 'x')).toThrow(/unknown option --no-lr/);
  });

  it('accepts negative numbers as values', () => {
    const s: OptionSpec[] = [{ name: 'low', type: 'integer', description: 'low' }];
    expect(parseArgs(['--low', '-3'], s, 'x').values.low).toBe(-3);
  });
});

describe('parseCommand', () => {
  const out = () => {
    let text = '';
    return { write: (s: string) => (text += s), text: () => text };
  };
  it('writes the help and gives undefined for --help', () => {
    const o = out();
    const help = { summary: 'Does a thing.', footer: 'Example:\n  x run --num-filters 2', out: o };
    expect(parseCommand(['--num-filters', '2', '--help'], specs, 'x run', help)).toBeUndefined();
    expect(o.text()).toBe(
      formatHelp('x run', 'Does a thing.', specs, 'Example:\n  x run --num-filters 2'),
    );
  });
  it('parses like parseArgs, and refuses a positional argument', () => {
    const o = out();
    const parsed = parseCommand(['--num-filters', '2'], specs, 'x run', { summary: '', out: o });
    expect(parsed).toEqual(parseArgs(['--num-filters', '2'], specs, 'x run'));
    expect(o.text()).toBe('');
    expect(() =>
      parseCommand(['--num-filters', '2', 'extra'], specs, 'x run', { summary: '', out: o }),
    ).toThrow(new UsageError("unexpected argument 'extra' for 'x run' (options start with --)"));
  });
});

describe('helpers', () => {
  it('camelCases kebab names', () => {
    expect(camelCase('num-logistic-mix')).toBe('numLogisticMix');
    expect(camelCase('lr')).toBe('lr');
  });

  it('closest finds near misses and prefixes, nothing for far words', () => {
    expect(closest('epoch', ['epochs', 'steps'])).toBe('epochs');
    expect(closest('batch', ['batch-size', 'micro-batch', 'seed'])).toBe('batch-size');
    expect(closest('qqqqqq', ['epochs', 'steps'])).toBeUndefined();
  });

  it('formats help with every option, its default and boolean negation', () => {
    const help = formatHelp('pixelcnn train', 'Train a model.', specs);
    expect(help).toMatch(/^Usage: pixelcnn train \[options\]/);
    for (const s of specs) expect(help).toContain(s.name);
    expect(help).toContain('--[no-]ema');
    expect(help).toContain('(default: 0.001)');
    expect(help).toContain('--sampler naive|cached');
  });
});
