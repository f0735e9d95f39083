import { quickdrawDir } from '@pixelcnn/backend/testing';
import type { CliIo } from './io';

/** Tests: a CliIo that records what the CLI writes, with the shared QuickDraw mirror as data. */
export function fakeIo(extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s), isTTY: false },
    stderr: { write: (s: string) => err.push(s) },
    env: { QUICKDRAW_BASE_URL: quickdrawDir() },
    cwd: process.cwd(),
    ...extra,
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}
