/**
 * Kernels the stock wasm backend lacks for training (filled in by the backend work):
 * returns the names of the kernels registered.
 */
export function registerWasmTrainingKernels(): string[] {
  return [];
}
