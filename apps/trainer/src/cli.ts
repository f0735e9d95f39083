#!/usr/bin/env node
import { main, processIo } from './main';

// Ctrl-C: the first asks training to checkpoint and stop after the current step; a second one
// exits at once.
const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts === 1) {
    process.stderr.write(
      '\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)\n',
    );
    controller.abort();
  } else {
    process.exit(130);
  }
});

const code = await main(process.argv.slice(2), processIo(controller.signal));
process.exitCode = code;
