/** Backends the viewer tries, in order: GPU (WebGL), then WebAssembly, then plain JS. */
export const BACKEND_PREFERENCE = ['webgl', 'wasm', 'cpu'] as const;
export type ViewerBackend = (typeof BACKEND_PREFERENCE)[number];

/** One backend tried, and why it was or was not taken. */
export interface BackendAttempt {
  name: ViewerBackend;
  ok: boolean;
  reason: string;
}

/**
 * The order to try backends in: the default, or a comma-separated list from the page URL
 * (`?backend=wasm,cpu`). Unknown names are an error that lists the known ones.
 */
export function backendOrder(param: string | null | undefined): ViewerBackend[] {
  if (!param) return [...BACKEND_PREFERENCE];
  const names = param
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(BACKEND_PREFERENCE as readonly string[]).includes(n)) {
      throw new Error(
        `unknown backend '${n}' in ?backend= (known: ${BACKEND_PREFERENCE.join(', ')})`,
      );
    }
  }
  if (names.length === 0) return [...BACKEND_PREFERENCE];
  return names as ViewerBackend[];
}

/**
 * Take the first backend that starts: `start(name)` resolves to null when it works, or the
 * reason it does not (it may also throw). Throws with every reason when none starts.
 */
export async function chooseBackend(
  order: readonly ViewerBackend[],
  start: (name: ViewerBackend) => Promise<string | null>,
): Promise<{ backend: ViewerBackend; attempts: BackendAttempt[] }> {
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    let reason: string | null;
    try {
      reason = await start(name);
    } catch (e) {
      reason = (e as Error)?.message ?? String(e);
    }
    attempts.push({ name, ok: reason === null, reason: reason ?? 'available' });
    if (reason === null) return { backend: name, attempts };
  }
  throw new Error(
    `no TensorFlow.js backend could start: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`,
  );
}

/** "wasm (webgl: no WebGL context)" for the status line. */
export function backendSummary(backend: string, attempts: readonly BackendAttempt[]): string {
  const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  return skipped.length ? `${backend} (skipped ${skipped.join('; ')})` : backend;
}

/**
 * Samplers that show drawings pixel by pixel, fastest first: a cached sampler (Ramachandran et
 * al. 2017) when pixelcnn-dist registers one, else the naive one. (A fixed-point sampler finishes
 * all pixels together, so it is not used for live display.)
 */
export const LIVE_SAMPLER_PREFERENCE = ['cached', 'naive'] as const;

/** The first preferred sampler among the registered ones (or the first registered one). */
export function chooseLiveSampler(registered: readonly string[]): string {
  const found = LIVE_SAMPLER_PREFERENCE.find((s) => registered.includes(s));
  if (found) return found;
  if (registered.length === 0) throw new Error('pixelcnn-dist registers no sampler');
  return registered[0];
}
