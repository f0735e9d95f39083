/**
 * Node-only entry (`@pixelcnn/pixelcnn-dist/node`): file IO on node:fs (no tfjs-node needed) and
 * checkpoint directories (a model save plus the trainer's whole state).
 */
export { loadCheckpoint, saveCheckpoint, verifyCheckpoint } from './checkpoint';
export { type NodeFileIO, nodeFileIO } from './nodeFileIO';
