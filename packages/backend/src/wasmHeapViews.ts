import type * as tf from '@tensorflow/tfjs-core';

/** What views use of the wasm backend (tfjs-backend-wasm 4.22: all public members). */
interface WasmViewBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
  dataIdMap: {
    get(dataId: tf.DataId): { id: number; memoryOffset: number; refCount: number } | undefined;
    delete(dataId: tf.DataId): boolean;
  };
  wasm: { tfjs: { disposeData(id: number): void } };
}

/**
 * Tensors of the wasm backend that alias part of another tensor's buffer, for handing a kernel
 * (XNNPACK's matmul) a sub-matrix without copying it. A view is registered with the backend at
 * `memoryOffset` (tfjs's `makeOutput` with an offset: memory "allocated elsewhere"), so kernels
 * read it like any tensor; it must be released with {@link WasmHeapViews.release} (never
 * `disposeData`, which would `free` an interior pointer) while its base is alive.
 */
export class WasmHeapViews {
  private readonly open: tf.TensorInfo[] = [];

  constructor(private readonly backend: tf.KernelBackend) {}

  private get wasm(): WasmViewBackend {
    return this.backend as unknown as WasmViewBackend;
  }

  /** A float32 view of `shape` starting `offset` elements into `base`'s buffer. */
  view(base: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
    const data = this.wasm.dataIdMap.get(base.dataId);
    if (!data || base.dtype !== 'float32') {
      throw new Error('Error in WasmHeapViews.view: base must be a live float32 wasm tensor');
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const length = base.shape.reduce((a, b) => a * b, 1);
    if (offset < 0 || offset + size > length) {
      throw new Error(
        `Error in WasmHeapViews.view: [${offset}, ${offset + size}) is outside the base's ${length} elements`,
      );
    }
    const v = this.wasm.makeOutput(shape, 'float32', data.memoryOffset + 4 * offset);
    this.open.push(v);
    return v;
  }

  /** Unregister every view (their memory belongs to the bases). */
  releaseAll(): void {
    let shared = 0;
    for (const v of this.open) {
      const data = this.wasm.dataIdMap.get(v.dataId);
      if (!data) continue;
      if (data.refCount !== 1) shared++;
      this.wasm.wasm.tfjs.disposeData(data.id); // the C++ side's record and callbacks, no free
      this.wasm.dataIdMap.delete(v.dataId);
    }
    this.open.length = 0;
    if (shared > 0) {
      throw new Error(
        `Error in WasmHeapViews.releaseAll: ${shared} view(s) were still referenced by another tensor`,
      );
    }
  }
}
