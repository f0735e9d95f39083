/**
 * The page's one piece of mutable state: a plain object replaced (never mutated) by `set`, with
 * subscribers called after every change. Panels read it, write their part, and react to others'.
 */
export interface Store<S extends object> {
  get(): S;
  /** Shallow-merge `patch` (or what `fn(state)` returns) into the state, then notify. */
  set(patch: Partial<S> | ((s: S) => Partial<S>)): void;
  /** Call `fn(state, previous)` after every change; returns the unsubscribe function. */
  subscribe(fn: (s: S, prev: S) => void): () => void;
}

export function createStore<S extends object>(initial: S): Store<S> {
  let state = initial;
  const subscribers = new Set<(s: S, prev: S) => void>();
  return {
    get: () => state,
    set(patch) {
      const prev = state;
      state = { ...prev, ...(typeof patch === 'function' ? patch(prev) : patch) };
      for (const fn of subscribers) fn(state, prev);
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
  };
}
