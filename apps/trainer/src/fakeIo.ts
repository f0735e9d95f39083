import { quickdrawDir } from '@pixelcnn/backend/testing';
import type { CliIo } from './io';

/** Tests: the options of a tiny network (1 resnet, 2 hierarchies, 4 filters, 2 components). */
export const TINY_NETWORK = [
  '--num-resnet',
  '1',
  '--num-hierarchies',
  '2',
  '--num-filters',
  '4',
  '--num-logistic-mix',
  '2',
];

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
