import { describe, expect, it } from 'vitest';
import { formatBar, formatDuration, formatProgress, ProgressReporter } from './progress';

const state = {
  step: 120,
  totalSteps: 300,
  epoch: 2,
  totalEpochs: 3,
  loss: 512.3149,
  bitsPerDim: 0.94276,
  imagesPerSec: 12.54,
  etaSeconds: 192,
};

describe('progress formatting', () => {
  it('formats durations', () => {
    expect(formatDuration(45.4)).toBe('45s');
    expect(formatDuration(192)).toBe('3m12s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(Number.NaN)).toBe('--');
    expect(formatDuration(-1)).toBe('--');
  });

  it('draws bars proportional to the fraction, clamped', () => {
    expect(formatBar(0.4, 10)).toBe('[####------]');
    expect(formatBar(0, 4)).toBe('[----]');
    expect(formatBar(2, 4)).toBe('[####]');
    expect(formatBar(Number.NaN, 3)).toBe('[---]');
  });

  it('shows epoch, bar, step, percent, loss, bits/dim, images/s and ETA', () => {
    expect(formatProgress(state, 10)).toBe(
      'epoch 2/3 [####------] step 120/300  40% | loss 512.31 | 0.943 bits/dim | 12.5 img/s | ETA 3m12s',
    );
    expect(formatProgress(state, 0)).toBe(
      'epoch 2/3 step 120/300  40% | loss 512.31 | 0.943 bits/dim | 12.5 img/s | ETA 3m12s',
    );
  });
});

describe('ProgressReporter', () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, s: { write: (x: string) => out.push(x), isTTY, columns: 200 } };
  };

  it('redraws one line in place on a TTY', () => {
    const { out, s } = sink(true);
    const p = new ProgressReporter(s);
    p.update(state);
    p.update({ ...state, step: 121 });
    p.log('epoch done');
    expect(out[0].startsWith('\r\x1b[2K')).toBe(true);
    expect(out[0]).toContain('[########------------]');
    expect(out.slice(2)).toEqual(['\n', 'epoch done\n']);
  });

  it('writes plain throttled lines when not a TTY (or in CI), always the last step', () => {
    let now = 0;
    const { out, s } = sink(false);
    const p = new ProgressReporter(s, { plainEverySeconds: 10, now: () => now });
    p.update(state);
    now = 5;
    p.update({ ...state, step: 121 });
    now = 11;
    p.update({ ...state, step: 122 });
    now = 12;
    p.update({ ...state, step: 300 });
    expect(out.map((l) => l.match(/step (\d+)/)?.[1])).toEqual(['120', '122', '300']);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r') && !l.includes('['))).toBe(true);
    const { s: tty } = sink(true);
    expect(new ProgressReporter(tty, { ci: true }).tty).toBe(false);
  });
});
