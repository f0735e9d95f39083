import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';

/** Size of a file, 0 when it is missing. */
export async function sizeOf(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

/** Delete a file if it is there. */
export async function removeQuietly(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}

/** sha256 of a file, hex, read in 1 MiB chunks. */
export async function sha256Of(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
