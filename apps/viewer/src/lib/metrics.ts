import type { MetricsRow } from '@pixelcnn/pixelcnn-dist/run';

/** What the page shows from the metrics. */
export interface MetricsSummary {
  /** Per-step training bits/dim, by step. */
  train: [number, number][];
  /** Held-out evaluations: [step, bits/dim, ci95]. */
  heldOut: [number, number, number][];
  /** The latest held-out evaluation (by step), if any. */
  lastEval?: MetricsRow;
  /** The latest training row, if any. */
  lastTrain?: MetricsRow;
}

/**
 * Split rows into the loss curve's series and pick the latest held-out evaluation. A resumed
 * run can repeat steps; the later row for a step wins.
 */
export function summarizeMetrics(rows: readonly MetricsRow[]): MetricsSummary {
  const train = new Map<number, number>();
  const held = new Map<number, [number, number, number]>();
  let lastEval: MetricsRow | undefined;
  let lastTrain: MetricsRow | undefined;
  for (const r of rows) {
    if (!Number.isFinite(r.bitsPerDim)) continue;
    if (r.kind === 'train') {
      train.set(r.step, r.bitsPerDim);
      if (!lastTrain || r.step >= lastTrain.step) lastTrain = r;
    } else {
      held.set(r.step, [r.step, r.bitsPerDim, r.ci95 ?? 0]);
      if (!lastEval || r.step >= lastEval.step) lastEval = r;
    }
  }
  const byStep = <T extends number[]>(a: T, b: T) => a[0] - b[0];
  return {
    train: [...train.entries()].sort(byStep),
    heldOut: [...held.values()].sort(byStep),
    lastEval,
    lastTrain,
  };
}
