import { writeFileAtomicSync } from '@pixelcnn/node-fs';

/**
 * The CLI's file output, all synchronous: @pixelcnn/node-fs's crash-safe `writeFileAtomicSync`
 * (a reader sees the old content or the new, never a torn file) under the CLI's name, and its
 * check that an output directory is writable before any long work.
 */
export { ensureWritableDir, writeFileAtomicSync as writeFileAtomic } from '@pixelcnn/node-fs';

/** `writeFileAtomic` of pretty-printed JSON with a trailing newline. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomicSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
