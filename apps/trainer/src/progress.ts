/** Seconds as a short human duration: "45s", "3m12s", "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface ProgressState {
  /** Steps done so far (global). */
  step: number;
  totalSteps: number;
  epoch: number;
  totalEpochs: number;
  /** Mean negative log-likelihood of the last step, nats per image. */
  loss: number;
  /** The same as bits per dimension. */
  bitsPerDim: number;
  imagesPerSec: number;
  /** Estimated seconds left, NaN when unknown. */
  etaSeconds: number;
}

/** A fixed-width bar: "[########--------]". */
export function formatBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/**
 * One progress line:
 * "epoch 1/3 [#####-----] 120/300  40% | loss 512.31 | 0.943 bits/dim | 12.5 img/s | ETA 3m12s".
 * `barWidth` 0 leaves the bar out (plain log lines).
 */
export function formatProgress(p: ProgressState, barWidth = 20): string {
  const pct = p.totalSteps > 0 ? Math.floor((100 * p.step) / p.totalSteps) : 0;
  const digits = String(p.totalSteps).length;
  const parts = [
    `epoch ${p.epoch}/${p.totalEpochs}`,
    ...(barWidth > 0 ? [formatBar(p.totalSteps > 0 ? p.step / p.totalSteps : 0, barWidth)] : []),
    `step ${String(p.step).padStart(digits)}/${p.totalSteps} ${String(pct).padStart(3)}%`,
  ];
  return [
    parts.join(' '),
    `loss ${p.loss.toFixed(2)}`,
    `${p.bitsPerDim.toFixed(3)} bits/dim`,
    `${p.imagesPerSec.toFixed(1)} img/s`,
    `ETA ${formatDuration(p.etaSeconds)}`,
  ].join(' | ');
}

export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Writes progress: on a TTY one line redrawn in place with a bar; otherwise (pipes, CI) plain
 * lines, at most one every `plainEverySeconds` (and always the last step).
 */
export class ProgressReporter {
  private lastPlain = Number.NEGATIVE_INFINITY;
  private open = false;
  readonly tty: boolean;

  constructor(
    private readonly out: ProgressSink,
    o: { ci?: boolean; plainEverySeconds?: number; now?: () => number } = {},
  ) {
    this.tty = Boolean(out.isTTY) && !o.ci;
    this.plainEvery = o.plainEverySeconds ?? 10;
    this.now = o.now ?? (() => performance.now() / 1000);
  }
  private readonly plainEvery: number;
  private readonly now: () => number;

  update(p: ProgressState): void {
    if (this.tty) {
      const cols = this.out.columns ?? 100;
      let line = formatProgress(p, 20);
      if (line.length >= cols) line = formatProgress(p, 0).slice(0, cols - 1);
      this.out.write(`\r\x1b[2K${line}`);
      this.open = true;
      return;
    }
    const t = this.now();
    if (t - this.lastPlain >= this.plainEvery || p.step === p.totalSteps) {
      this.out.write(`${formatProgress(p, 0)}\n`);
      this.lastPlain = t;
    }
  }

  /** Print a whole line (ending the in-place line first on a TTY). */
  log(line: string): void {
    this.finishLine();
    this.out.write(`${line}\n`);
  }

  finishLine(): void {
    if (this.open) {
      this.out.write('\n');
      this.open = false;
    }
  }
}
