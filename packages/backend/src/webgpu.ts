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

/** Node: load Dawn and make its `navigator.gpu` and WebGPU globals visible to tfjs. */
async function dawnGpu(): Promise<{ gpu?: GpuLike; reason?: string }> {
  let mod: { create(o: string[]): GpuLike; globals: object };
  try {
    // A variable specifier: bundlers and tsc leave the optional Node-only package alone.
    mod = await import(/* @vite-ignore */ DAWN_PACKAGE);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(msg)) {
      return { reason: `webgpu (Dawn) not installed: npm install webgpu@${WEBGPU_NODE_VERSION}` };
    }
    return { reason: `webgpu (Dawn) failed to load: ${msg.split('\n')[0]}` };
  }
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return { gpu: mod.create([]) };
}

function fileExists(path: string): boolean {
  const fs = process.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
  return fs?.existsSync(path) ?? false;
}

/**
 * Find an adapter and register tfjs's `webgpu` backend on it (not yet `setBackend`). Returns the
 * reason when there is none, or only a software one and `allowSoftware` is false. In Node with no
 * adapter at all and `allowSoftware`, points VK_ICD_FILENAMES at Chromium's SwiftShader when the
 * variable is unset and the file is there (CI machines and dev boxes without a GPU).
 */
export async function prepareWebGpu(allowSoftware: boolean): Promise<string | null> {
  if (started) {
    if (started.software && !allowSoftware) {
      return `only a software adapter: ${describeAdapter(started)}; used only when webgpu is asked for by name`;
    }
    return null;
  }
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  let gpu: GpuLike | undefined = nav?.gpu;
  let source: WebGpuAdapter['source'] = 'navigator.gpu';
  let adapter: GpuAdapterLike | null = null;
  let icd: string | undefined;
  if (!gpu) {
    if (!isNode())
      return 'navigator.gpu is absent (no WebGPU in this browser, or not a secure context)';
    const d = await dawnGpu();
    if (!d.gpu) return d.reason ?? 'webgpu (Dawn) gave no GPU';
    gpu = d.gpu;
    source = 'webgpu (Dawn)';
  }
  adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter && source === 'webgpu (Dawn)' && allowSoftware && !process.env.VK_ICD_FILENAMES) {
    for (const p of SWIFTSHADER_ICD_PATHS) {
      if (!fileExists(p)) continue;
      process.env.VK_ICD_FILENAMES = p; // read when Dawn creates its next Vulkan instance
      const d = await dawnGpu();
      adapter = d.gpu ? await d.gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
      if (adapter) {
        gpu = d.gpu;
        icd = p;
        break;
      }
      delete process.env.VK_ICD_FILENAMES;
    }
  }
  if (!adapter) {
    return source === 'webgpu (Dawn)'
      ? `no WebGPU adapter (Dawn found no usable Vulkan/Metal/D3D12 device${
          process.env.VK_ICD_FILENAMES
            ? ` with VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}`
            : ''
        }; on Linux it needs libvulkan.so.1; without a GPU, point VK_ICD_FILENAMES at SwiftShader's vk_swiftshader_icd.json)`
      : 'navigator.gpu.requestAdapter() returned no adapter';
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
