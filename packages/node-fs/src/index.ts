export { type FileData, writeDirAtomic, writeFileAtomic, writeFileAtomicSync } from './atomic';
export { ensureWritableDir } from './ensureWritableDir';
export { makeDirs, makeDirsSync } from './makeDirs';
