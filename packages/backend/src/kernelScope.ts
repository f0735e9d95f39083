import * as tf from '@tensorflow/tfjs-core';

/** The part of a tfjs backend a kernel built from other kernels needs. */
interface DisposingBackend {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

type AttrsLike = Record<string, unknown>;

/** What tfjs passes a kernel function, with the input names spelled out. */
export interface KernelArgs<Inputs extends string> {
  inputs: Record<Inputs, tf.TensorInfo>;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}

/**
 * Runs registered kernels of one backend from inside another kernel (the way tfjs's own
 * backends compose kernels) and frees every intermediate it made, except the result.
 * Intermediates never become `tf.Tensor`s, so nothing lands on the gradient tape or in a
 * `tf.tidy` scope; forgetting one would leak backend memory, which tfjs's `IS_TEST` leak check
 * ("internal memory leak ... data ids") reports.
 */
export class KernelScope {
  private readonly temps: tf.TensorInfo[] = [];

  constructor(
    private readonly backend: tf.KernelBackend,
    private readonly backendName: string,
    private readonly caller: string,
  ) {}

  /** Run kernel `name` on this backend; its output is freed by `finish` unless returned. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: AttrsLike = {}): tf.TensorInfo {
    const kernel = tf.getKernel(name, this.backendName);
    if (!kernel) {
      throw new Error(
        `Error in ${this.caller}: kernel '${name}' is not registered for backend '${this.backendName}'`,
      );
    }
    const out = kernel.kernelFunc({
      inputs,
      backend: this.backend,
      attrs: attrs as tf.NamedAttrMap,
    }) as tf.TensorInfo;
    this.temps.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Free every intermediate except `result` (and the caller's inputs, which were never ours). */
  finish(result: tf.TensorInfo): tf.TensorInfo {
    this.disposeAll(result);
    return result;
  }

  /** Free every intermediate (for error paths). */
  disposeAll(keep?: tf.TensorInfo): void {
    const backend = this.backend as unknown as DisposingBackend;
    for (const t of this.temps) {
      if (t !== keep) backend.disposeData(t.dataId);
    }
    this.temps.length = 0;
  }
}

/** Run `body` with a fresh scope; on an exception every intermediate is freed. */
export function withKernelScope(
  backend: tf.KernelBackend,
  backendName: string,
  caller: string,
  body: (scope: KernelScope) => tf.TensorInfo,
): tf.TensorInfo {
  const scope = new KernelScope(backend, backendName, caller);
  try {
    return scope.finish(body(scope));
  } catch (e) {
    scope.disposeAll();
    throw e;
  }
}
