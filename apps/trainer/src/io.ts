import type { TrainHooks } from './training';

/** Where a command reads and writes: the process in the CLI, fakes in tests. */
export interface CliIo {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on Ctrl-C: training checkpoints and stops after the current step. */
  signal?: AbortSignal;
  /** Test hooks (fault injection). */
  hooks?: TrainHooks;
}

/** An error the CLI reports as one message (no stack trace), with an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  nonFinite: 3,
  interrupted: 130,
} as const;
