export {
  type BackendStatus,
  backendStatus,
  DEFAULT_TEST_BACKENDS,
  missingKernels,
  NO_SYNC_READ_BACKENDS,
  prepareBackends,
  selectedBackends,
  TEST_BACKENDS_ENV,
  takeSyncReads,
} from './testing/backends';
export {
  type ConvGeometry,
  type ConvLayout,
  conv2dFilterGradRef,
  conv2dInputGradRef,
  conv2dRef,
  convLayout,
  type RefPad,
  randomValues,
  relativeError,
} from './testing/convReference';
export {
  type BackendContext,
  type DescribeBackendsOptions,
  describeBackends,
  expectNoLeaks,
} from './testing/describeBackends';
export { gradientPattern } from './testing/gradientPattern';
export { expectReadmeShows } from './testing/readme';
export { quickdrawDir, sharedDir } from './testing/shared';
