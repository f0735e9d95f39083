import { sharedConfig } from '../../vitest.shared.ts';

// No tensors here: the tests need none of the tfjs backends the shared setup file starts.
export default sharedConfig({ setupFiles: [] });
