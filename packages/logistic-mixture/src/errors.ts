/**
 * Throw `Error in <fn>: <message>` unless `cond`; the message is built only on failure. The same
 * contract as masked-conv's `check`: this package depends on tfjs-core alone, so it has its own.
 */
export function check(cond: boolean, fn: string, message: () => string): asserts cond {
  if (!cond) throw new Error(`Error in ${fn}: ${message()}`);
}

/** `[1, 8, 8, 3]` for error messages. */
export const formatShape = (s: readonly number[]) => `[${s.join(', ')}]`;
