import * as tf from '@tensorflow/tfjs-core';

/**
 * WebGPU for tfjs, in the browser (`navigator.gpu`) and in Node (Dawn, from the npm package
 * `webgpu`, loaded only when asked for: see the README for why it is not a dependency).
 */

/** The `webgpu` (Dawn) version this package is tested with; install the same one. */
export const WEBGPU_NODE_VERSION = '0.6.2';

/** Where Linux distributions put SwiftShader's Vulkan driver (shipped with Chromium). */
export const SWIFTSHADER_ICD_PATHS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/** Adapters that emulate a GPU on the CPU: never chosen unless webgpu is asked for by name. */
export const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render/i;

/** The adapter `initBackend` started webgpu on. */
export interface WebGpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU emulation (SwiftShader, llvmpipe, ...): correct, but says nothing about GPU speed. */
  software: boolean;
  /** Where the adapter came from. */
  source: 'navigator.gpu' | 'webgpu (Dawn)';
  /** Node: the Vulkan driver file this package pointed VK_ICD_FILENAMES at, if it did. */
  icd?: string;
}

// The slice of the WebGPU API used here (no dependency on @webgpu/types).
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
  features: { has(f: string): boolean };
  limits: Record<string, number>;
  requestDevice(d?: unknown): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(o?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const DAWN_PACKAGE = 'webgpu';
let started: WebGpuAdapter | undefined;

/** The adapter webgpu runs on, once `initBackend` has started it. */
export function webgpuAdapter(): WebGpuAdapter | undefined {
  return started;
}

/** One line: "google swiftshader (SwiftShader driver 5.0.0), software". */
export function describeAdapter(a: WebGpuAdapter): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const desc = a.description || a.device;
  return `${name}${desc ? ` (${desc})` : ''}${a.software ? ', software' : ''}`;
}

function adapterOf(
  adapter: GpuAdapterLike,
  source: WebGpuAdapter['source'],
  icd?: string,
): WebGpuAdapter {
  const i = adapter.info ?? {};
  const a: WebGpuAdapter = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
    software: false,
    source,
  };
  if (icd) a.icd = icd;
  a.software =
    i.isFallbackAdapter === true ||
    adapter.isFallbackAdapter === true ||
    SOFTWARE_ADAPTER.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
  return a;
}

const isNode = () =>
  typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

/** Node: the file `import('webgpu')` loads from this module, or why there is none. */
function resolveDawn(): { url: string } | { reason: string } {
  try {
    const { createRequire } = process.getBuiltinModule('node:module');
    const file = createRequire(import.meta.url).resolve(DAWN_PACKAGE);
    return { url: process.getBuiltinModule('node:url').pathToFileURL(file).href };
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/Cannot find (module|package)|MODULE_NOT_FOUND/.test(msg)) {
      return { reason: `webgpu (Dawn) not installed: npm install webgpu@${WEBGPU_NODE_VERSION}` };
    }
    return { reason: `webgpu (Dawn) failed to resolve: ${msg.split('\n')[0]}` };
  }
}

/** Node: load Dawn in this process and make its WebGPU globals visible to tfjs. */
async function dawnGpu(): Promise<{ gpu?: GpuLike; reason?: string }> {
  let mod: { create(o: string[]): GpuLike; globals: object };
  try {
    // The bare name (the file resolveDawn found): the CJS build turns import() into require(),
    // which takes no file: URL. A variable: bundlers and tsc leave the optional package alone.
    mod = await import(/* @vite-ignore */ DAWN_PACKAGE);
  } catch (e) {
    return { reason: `webgpu (Dawn) failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return { gpu: mod.create([]) };
}

/** What a Dawn probe in a child process found. */
export interface DawnProbe {
  /** The adapter Dawn offers by default (`requestAdapter({ powerPreference: 'high-performance' })`). */
  adapter?: GpuAdapterInfoLike;
  /** Why the probe gave no answer (crashed, timed out, failed to load Dawn). */
  failure?: string;
  /** What Dawn and the Vulkan loader wrote to stderr meanwhile (kept off this process's stderr). */
  log: string;
}

/** How long a probe may take before it counts as hung (a driver stuck in its initialisation). */
export const DAWN_PROBE_TIMEOUT_MS = 60_000;

const PROBE_SCRIPT = `const { create } = await import(process.argv[1]);
const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const i = a ? (a.info ?? {}) : null;
process.stdout.write(JSON.stringify(i && { vendor: i.vendor, architecture: i.architecture, device: i.device,
  description: i.description, isFallbackAdapter: i.isFallbackAdapter ?? a.isFallbackAdapter }));
process.exit(0);`;

/**
 * Node: ask Dawn for its default adapter in a child process. Every Vulkan instance Dawn creates
 * runs the loader's drivers and implicit layers, which write to the process's stderr themselves:
 * on a Linux machine without a display, Mesa's device-select layer prints "error:
 * XDG_RUNTIME_DIR is invalid or not set" twice, and Dawn warns about every driver it refuses
 * ("Vulkan shaderUniform*ArrayDynamicIndexing required" for Debian's lavapipe). Nothing has
 * failed, but they read like this program's errors on every start; probing in a child keeps them
 * in `log` (and a driver that crashes takes only the child down).
 */
export async function probeDawn(
  url: string,
  timeoutMs = DAWN_PROBE_TIMEOUT_MS,
): Promise<DawnProbe> {
  const { execFile } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', PROBE_SCRIPT, url],
      { timeout: timeoutMs, maxBuffer: 1 << 20, windowsHide: true },
      (error, stdout, stderr) => {
        const log = String(stderr);
        if (!error) {
          try {
            const info = JSON.parse(String(stdout)) as GpuAdapterInfoLike | null;
            resolve(info ? { adapter: info, log } : { log });
          } catch {
            resolve({
              failure: `webgpu (Dawn) probe printed no adapter: ${String(stdout).slice(0, 200)}`,
              log,
            });
          }
          return;
        }
        const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        // The message that names the failure (an exception's "Error: ..." line), else the last line.
        const lines = log
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !/XDG_RUNTIME_DIR/.test(l));
        const why =
          lines.find((l) => /^[\w.]*(Error|error)\b/.test(l)) ??
          lines.at(-1) ??
          e.message.split('\n')[0];
        const how = e.killed
          ? `did not answer in ${timeoutMs / 1000} s`
          : e.signal
            ? `crashed (${e.signal})`
            : 'failed';
        resolve({ failure: `webgpu (Dawn) probe ${how}: ${why}`, log });
      },
    );
  });
}

function fileExists(path: string): boolean {
  return process.getBuiltinModule('node:fs').existsSync(path);
}

const noAdapter = (icdTried: boolean) =>
  `no WebGPU adapter (Dawn found no usable Vulkan/Metal/D3D12 device${
    process.env.VK_ICD_FILENAMES ? ` with VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}` : ''
  }${icdTried ? ", nor SwiftShader's" : ''}; on Linux it needs libvulkan.so.1; without a GPU, point VK_ICD_FILENAMES at SwiftShader's vk_swiftshader_icd.json)`;

const probes = new Map<string, Promise<DawnProbe>>();

/** What Dawn printed while probing, for `initBackend`'s report (empty when it printed nothing). */
let dawnLog = '';

/** Node: what Dawn and the Vulkan loader printed during the last probe (not shown on stderr). */
export function webgpuProbeLog(): string {
  return dawnLog;
}

/**
 * Node: find Dawn's adapter. The default adapter is probed in a child process (see
 * {@link probeDawn}), so Dawn is loaded here only when it will be used: never on a machine where
 * the automatic order passes webgpu by. With no adapter at all, `allowSoftware` and
 * VK_ICD_FILENAMES unset, tries Chromium's SwiftShader in this process, with VK_ICD_FILENAMES at
 * its driver and NODEVICE_SELECT=1 (one driver leaves Mesa's device-select layer nothing to
 * select, and that layer is what prints the XDG_RUNTIME_DIR lines).
 */
async function dawnAdapter(
  allowSoftware: boolean,
): Promise<{ gpu: GpuLike; adapter: GpuAdapterLike; icd?: string } | { reason: string }> {
  const dawn = resolveDawn();
  if ('reason' in dawn) return dawn;
  // Once per process (and Vulkan driver list): what Dawn offers does not change while it runs, and
  // an app or a test suite that calls initBackend again should not pay for a child each time.
  const key = `${dawn.url} ${process.env.VK_ICD_FILENAMES ?? ''}`;
  if (!probes.has(key)) probes.set(key, probeDawn(dawn.url));
  const probe = await (probes.get(key) as Promise<DawnProbe>);
  dawnLog = probe.log;
  if (probe.failure) return { reason: probe.failure };
  let candidates: (string | undefined)[] = [undefined];
  if (probe.adapter) {
    const info = adapterOf({ info: probe.adapter } as GpuAdapterLike, 'webgpu (Dawn)');
    if (info.software && !allowSoftware) {
      return {
        reason: `only a software adapter: ${describeAdapter(info)}; used only when webgpu is asked for by name`,
      };
    }
  } else {
    if (!allowSoftware || process.env.VK_ICD_FILENAMES) return { reason: noAdapter(false) };
    candidates = SWIFTSHADER_ICD_PATHS.filter(fileExists);
    if (!candidates.length) return { reason: noAdapter(false) };
  }
  for (const icd of candidates) {
    const saved = { icd: process.env.VK_ICD_FILENAMES, select: process.env.NODEVICE_SELECT };
    if (icd) {
      process.env.VK_ICD_FILENAMES = icd; // read when Dawn creates its Vulkan instance
      process.env.NODEVICE_SELECT ??= '1';
    }
    const d = await dawnGpu();
    if (!d.gpu) return { reason: d.reason ?? 'webgpu (Dawn) gave no GPU' };
    const adapter = await d.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter) return { gpu: d.gpu, adapter, icd };
    for (const [k, v] of [
      ['VK_ICD_FILENAMES', saved.icd],
      ['NODEVICE_SELECT', saved.select],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { reason: noAdapter(candidates[0] !== undefined) };
}

/**
 * Find an adapter and register tfjs's `webgpu` backend on it (not yet `setBackend`). Returns the
 * reason when there is none, or only a software one and `allowSoftware` is false. In Node, Dawn's
 * default adapter is probed in a child process first (see {@link dawnAdapter}).
 */
export async function prepareWebGpu(allowSoftware: boolean): Promise<string | null> {
  if (started) {
    if (started.software && !allowSoftware) {
      return `only a software adapter: ${describeAdapter(started)}; used only when webgpu is asked for by name`;
    }
    return null;
  }
  dawnLog = '';
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  let gpu: GpuLike | undefined = nav?.gpu;
  let source: WebGpuAdapter['source'] = 'navigator.gpu';
  let adapter: GpuAdapterLike | null = null;
  let icd: string | undefined;
  if (gpu) {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return 'navigator.gpu.requestAdapter() returned no adapter';
  } else {
    if (!isNode())
      return 'navigator.gpu is absent (no WebGPU in this browser, or not a secure context)';
    const d = await dawnAdapter(allowSoftware);
    if ('reason' in d) return d.reason;
    ({ gpu, adapter, icd } = d);
    source = 'webgpu (Dawn)';
  }
  const info = adapterOf(adapter, source, icd);
  if (info.software && !allowSoftware) {
    return `only a software adapter: ${describeAdapter(info)}; used only when webgpu is asked for by name`;
  }
  if (source === 'webgpu (Dawn)') {
    // tfjs looks for navigator.gpu when its backend starts; Node 20 has no navigator.
    const g = globalThis as { navigator?: { gpu?: GpuLike } };
    if (!g.navigator) {
      Object.defineProperty(globalThis, 'navigator', {
        value: { gpu },
        configurable: true,
        writable: true,
      });
    } else if (!g.navigator.gpu) {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    }
  }
  let WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend;
  try {
    ({ WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
      WebGPUBackend: typeof WebGPUBackend;
    });
  } catch (e) {
    return `@tensorflow/tfjs-backend-webgpu failed to load: ${(e as Error).message.split('\n')[0]}`;
  }
  // The same device request as tfjs's own factory, but on the adapter chosen (and reported) here.
  const chosen = adapter;
  const limits = chosen.limits;
  const requiredLimits: Record<string, number> = {};
  for (const k of [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ]) {
    requiredLimits[k] = limits[k];
  }
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) =>
    chosen.features.has(f),
  );
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () =>
      new WebGPUBackend(
        await chosen.requestDevice({ requiredFeatures, requiredLimits }),
        chosen.info,
      ),
    1,
  );
  started = info;
  return null;
}
