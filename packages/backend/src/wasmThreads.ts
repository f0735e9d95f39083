/** Multi-threaded wasm in Node (filled in by the backend work). Returns the thread count. */
export async function enableWasmThreads(_threads: number | 'auto'): Promise<number> {
  return 1;
}
