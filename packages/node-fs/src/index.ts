export { type FileData, writeDirAtomic, writeFileAtomicSync } from './atomic';
export { ensureWritableDir } from './ensureWritableDir';
export { makeDirs, makeDirsSync } from './makeDirs';
