import { describe, expect, it } from 'vitest';
import { checkSchedule, learningRateAt } from './schedule';
import { dropoutSeed } from './trainer';

describe('learningRateAt', () => {
  it('gives the closed forms of each schedule', () => {
    expect(learningRateAt({ kind: 'constant' }, 123, 0.01)).toBe(0.01);
    expect(learningRateAt({ kind: 'exponential', decay: 0.5 }, 0, 0.01)).toBe(0.01);
    expect(learningRateAt({ kind: 'exponential', decay: 0.5 }, 3, 0.01)).toBe(0.01 / 8);
    // linear ramp over 4 steps: 1/4, 2/4, 3/4, 1, 1, ...
    const warm = { kind: 'warmup', steps: 4 } as const;
    expect([0, 1, 2, 3, 4, 10].map((t) => learningRateAt(warm, t, 1))).toEqual([
      0.25, 0.5, 0.75, 1, 1, 1,
    ]);
    // warm-up times a decay that counts from step 0 (the CLI's PixelCNN++ schedule)
    // biome-ignore lint/suspicious/noThenProperty: a schedule field, not a thenable (never a function)
    const both = { kind: 'warmup', steps: 10, then: { kind: 'exponential', decay: 0.9 } } as const;
    expect(learningRateAt(both, 4, 2)).toBeCloseTo(2 * 0.9 ** 4 * 0.5, 15);
    expect(learningRateAt(both, 20, 2)).toBeCloseTo(2 * 0.9 ** 20, 15);
    expect(learningRateAt((t, lr) => lr / (1 + t), 3, 1)).toBe(0.25);
  });

  it('rejects bad schedules and bad function results, naming the field', () => {
    expect(() => checkSchedule('Trainer', { kind: 'exponential', decay: 0 })).toThrow(
      'Error in Trainer: schedule.decay must be in (0, 1], got 0',
    );
    expect(() =>
      // biome-ignore lint/suspicious/noThenProperty: a schedule field, not a thenable (never a function)
      checkSchedule('Trainer', { kind: 'warmup', steps: 2, then: { kind: 'warmup', steps: 0.5 } }),
    ).toThrow('Error in Trainer: schedule.then.steps must be an integer >= 1, got 0.5');
    expect(() => checkSchedule('Trainer', { kind: 'cosine' } as never)).toThrow(
      "Error in Trainer: unknown schedule.kind 'cosine'; known: constant, exponential, warmup",
    );
    expect(() => learningRateAt(() => Number.NaN, 5, 1)).toThrow(
      'the schedule function returned NaN for step 5',
    );
  });
});

describe('dropoutSeed', () => {
  it('is a pure function of (seed, step, micro-batch) with distinct values', () => {
    expect(dropoutSeed(1, 2, 3)).toBe(dropoutSeed(1, 2, 3));
    const seen = new Set<number>();
    for (const seed of [0, 1, 2])
      for (let step = 0; step < 50; step++)
        for (let mb = 0; mb < 8; mb++) {
          const s = dropoutSeed(seed, step, mb);
          expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
          seen.add(s);
        }
    expect(seen.size).toBe(3 * 50 * 8);
  });
});
