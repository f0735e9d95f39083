// vitest setupFiles entry: start every selected backend before the test file is collected, so
// describeBackends can decide synchronously which blocks to run and which to skip (with why).
import { prepareBackends } from './backends';

await prepareBackends();
