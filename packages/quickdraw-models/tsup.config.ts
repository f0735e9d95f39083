import { packageConfig } from '../../tsup.shared.ts';

// shims: the CJS build gets import.meta.url (the shipped models are found relative to it).
export default packageConfig(['src/index.ts', 'src/node.ts'], { shims: true });
