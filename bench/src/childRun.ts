import { spawnSync } from 'node:child_process';

/**
 * Run `script --one <row as JSON>` in a fresh Node process (its own wasm heap, which never
 * shrinks) and parse the JSON object its last stdout line prints; on a crash, the reason: the
 * wasm heap running out ("Aborted()", "memory access out of bounds", "out of memory") or
 * "failed". For the scripts that measure one row per process (memory-probe, micro-batches).
 */
export function runRowInChild<T>(script: string, row: unknown): { ok: T } | { failed: string } {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', script, '--one', JSON.stringify(row)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    const why = child.stderr.match(/(Aborted\(\)|out of bounds|out of memory)/i);
    return { failed: why ? why[0] : 'failed' };
  }
  return { ok: JSON.parse(line) as T };
}
