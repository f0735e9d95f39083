import { packageConfig } from '../../tsup.shared.ts';

export default packageConfig([
  'src/index.ts',
  'src/internals.ts',
  'src/node.ts',
  'src/runDirectory.ts',
]);
