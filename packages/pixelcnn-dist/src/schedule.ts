/**
 * A learning-rate schedule: the learning rate of update `step` (0-based: the number of updates
 * applied before it) from the base learning rate.
 *
 * - `{ kind: 'constant' }`: baseLr.
 * - `{ kind: 'exponential', decay }`: baseLr * decay^step (PixelCNN++: decay 0.999995).
 * - `{ kind: 'warmup', steps, then }`: min(1, (step + 1) / steps) * then(step): a linear ramp over
 *   the first `steps` updates, multiplied into `then` (default constant), which keeps counting
 *   from step 0.
 * - a function `(step, baseLr) => lr`: anything else (it must return a finite number >= 0).
 *
 * The schedule is a pure function of the step, so a restored trainer continues it exactly.
 */
export type LearningRateSchedule =
  | { kind: 'constant' }
  | { kind: 'exponential'; decay: number }
  | { kind: 'warmup'; steps: number; then?: LearningRateSchedule }
  | ((step: number, baseLr: number) => number);

/** A schedule that can be written to JSON (every schedule but a function). */
export type LearningRateScheduleJSON = Exclude<LearningRateSchedule, (...a: never[]) => unknown>;

/**
 * Check a schedule's fields, throwing "Error in <fn>: ..." naming the bad one; returns it.
 * `where` names the option in the messages (default `schedule`).
 */
export function checkSchedule(
  fn: string,
  s: LearningRateSchedule,
  where = 'schedule',
): LearningRateSchedule {
  if (typeof s === 'function') return s;
  if (s == null || typeof s !== 'object') {
    throw new Error(
      `Error in ${fn}: ${where} must be { kind: 'constant' | 'exponential' | 'warmup', ... } or a function (step, baseLr) => lr, got ${s}`,
    );
  }
  switch (s.kind) {
    case 'constant':
      return s;
    case 'exponential':
      if (!(s.decay > 0 && s.decay <= 1)) {
        throw new Error(`Error in ${fn}: ${where}.decay must be in (0, 1], got ${s.decay}`);
      }
      return s;
    case 'warmup':
      if (!(Number.isInteger(s.steps) && s.steps >= 1)) {
        throw new Error(`Error in ${fn}: ${where}.steps must be an integer >= 1, got ${s.steps}`);
      }
      if (s.then !== undefined) checkSchedule(fn, s.then, `${where}.then`);
      return s;
    default:
      throw new Error(
        `Error in ${fn}: unknown ${where}.kind '${(s as { kind?: unknown }).kind}'; known: constant, exponential, warmup (or pass a function)`,
      );
  }
}

/** The learning rate of update `step` (0-based) under `schedule` from `baseLr`. */
export function learningRateAt(
  schedule: LearningRateSchedule,
  step: number,
  baseLr: number,
): number {
  if (typeof schedule === 'function') {
    const lr = schedule(step, baseLr);
    if (!(Number.isFinite(lr) && lr >= 0)) {
      throw new Error(
        `Error in learningRateAt: the schedule function returned ${lr} for step ${step}; it must return a finite number >= 0`,
      );
    }
    return lr;
  }
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'exponential':
      return baseLr * schedule.decay ** step;
    case 'warmup':
      return (
        Math.min(1, (step + 1) / schedule.steps) *
        learningRateAt(schedule.then ?? { kind: 'constant' }, step, baseLr)
      );
  }
}
