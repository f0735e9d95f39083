import { closest, UsageError } from './args';
import { demoCommand } from './demoCommand';
import { evalCommand } from './evalCommand';
import { CliError, type CliIo, EXIT } from './io';
import { sampleCommand } from './sampleCommand';
import { trainCommand } from './trainCommand';

const COMMANDS: Record<
  string,
  { run: (argv: readonly string[], io: CliIo) => Promise<number>; summary: string }
> = {
  demo: {
    run: demoCommand,
    summary: 'train a small model on 4 classes (~7 min on 2 CPU cores), sample, write PNGs',
  },
  train: {
    run: trainCommand,
    summary: 'train a PixelCNN++ on QuickDraw classes (checkpoints, metrics, loss curve)',
  },
  sample: { run: sampleCommand, summary: 'draw samples per class from a checkpoint into PNGs' },
  eval: {
    run: evalCommand,
    summary: 'bits/dim of a checkpoint on the held-out split, with a 95% CI',
  },
};

export const USAGE = `Usage: pixelcnn <command> [options]

PixelCNN++ (TensorFlow.js) on Google's QuickDraw drawings.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`)
  .join('\n')}

Run 'pixelcnn <command> --help' for its options.
`;

/** The process's streams and environment. */
export function processIo(signal?: AbortSignal): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal,
  };
}

/**
 * Run the CLI on `argv` (without node and the script) and return the exit code: 0 ok, 1 error,
 * 2 usage error, 3 non-finite loss, 130 interrupted. Errors are printed as one message to
 * `io.stderr`, never thrown.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      if (command === 'help' && rest[0] && COMMANDS[rest[0]])
        return await COMMANDS[rest[0]].run(['--help'], io);
      io.stdout.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    const c = COMMANDS[command];
    if (!c) {
      const near = closest(command, Object.keys(COMMANDS));
      throw new UsageError(
        `unknown command '${command}'${near ? `; did you mean '${near}'?` : ''} (commands: ${Object.keys(COMMANDS).join(', ')})`,
      );
    }
    return await c.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(
        `error: ${e.message}\n${command && COMMANDS[command] ? `Run 'pixelcnn ${command} --help' for the options.\n` : ''}`,
      );
      return EXIT.usage;
    }
    if (e instanceof CliError) {
      io.stderr.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    io.stderr.write(`error: ${err?.message ?? String(e)}\n`);
    if (io.env.PIXELCNN_DEBUG && err?.stack) io.stderr.write(`${err.stack}\n`);
    return EXIT.error;
  }
}
