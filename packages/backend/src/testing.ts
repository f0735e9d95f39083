export {
  type BackendStatus,
  backendStatus,
  DEFAULT_TEST_BACKENDS,
  missingKernels,
  prepareBackends,
  selectedBackends,
  TEST_BACKENDS_ENV,
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
export { expectReadmeShows } from './testing/readme';
export { quickdrawDir, sharedDir } from './testing/shared';
