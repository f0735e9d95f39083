// One set of argument checks for the layer packages: masked-conv's.
export { check, fmt, isPositiveInt, isTensor } from '@pixelcnn/masked-conv/internals';
