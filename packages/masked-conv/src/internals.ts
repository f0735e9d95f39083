/**
 * `@pixelcnn/masked-conv/internals`: the argument checks behind every layer's
 * `Error in <function>: ...` messages, shared with the packages built on these layers
 * (gated-resnet). No stability promise: they follow the layers and may change in any release.
 */
export { check, checkRank4, fmt, isPositiveInt, isTensor } from './errors';
