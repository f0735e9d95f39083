/**
 * Which formulation the wasm backend's conv gradient kernels use. The defaults are the fast
 * ones; the others are kept as independent implementations, for benchmarks that compare them in
 * one process (bench `profile --compare`) and for bisecting a wrong result.
 *
 * - `backpropInput` (`Conv2DBackpropInput`, also conv2dTranspose's forward pass):
 *   `'polyphase'` (the stride^2 output phases as one convolution of dy with the phases'
 *   sub-filters, interleaved: no multiplications by inserted zeros; the flipped filter built in
 *   JS) or `'zero-insertion'` (one convolution of dy with zeros inserted between its rows and
 *   columns, stride^2 times the work, and the filter flipped by the wasm Reverse + Transpose).
 * - `backpropFilter` (`Conv2DBackpropFilter`): `'taps'` (one XNNPACK matrix product per filter
 *   tap, over views of x's phases: im2col without building the patch matrix) or `'conv'` (a
 *   dilated convolution with the batch as the contraction axis: starved at small batches, where
 *   XNNPACK sees one input channel). Measured in bench `kernels`: taps is the faster or within a
 *   few percent at every shape of both networks, batch 1 to 32.
 */
export interface WasmConvAlgorithms {
  backpropInput: 'polyphase' | 'zero-insertion';
  backpropFilter: 'taps' | 'conv';
}

const DEFAULTS: WasmConvAlgorithms = { backpropInput: 'polyphase', backpropFilter: 'taps' };

let current: WasmConvAlgorithms = { ...DEFAULTS };

const CHOICES: { [K in keyof WasmConvAlgorithms]: readonly WasmConvAlgorithms[K][] } = {
  backpropInput: ['polyphase', 'zero-insertion'],
  backpropFilter: ['taps', 'conv'],
};

/** The formulations in use now. */
export function wasmConvAlgorithms(): Readonly<WasmConvAlgorithms> {
  return { ...current };
}

/**
 * Choose formulations (unnamed ones keep their current choice; `'default'` restores the
 * defaults). Returns the previous choice, so a benchmark can restore it.
 */
export function setWasmConvAlgorithms(
  choice: Partial<WasmConvAlgorithms> | 'default',
): WasmConvAlgorithms {
  const previous = { ...current };
  const next = choice === 'default' ? { ...DEFAULTS } : { ...current, ...choice };
  for (const key of Object.keys(next) as (keyof WasmConvAlgorithms)[]) {
    if (!(key in CHOICES)) {
      throw new Error(
        `Error in setWasmConvAlgorithms: unknown kernel '${key}' (known: ${Object.keys(CHOICES).join(', ')})`,
      );
    }
    const allowed = CHOICES[key] as readonly string[];
    if (!allowed.includes(next[key])) {
      throw new Error(
        `Error in setWasmConvAlgorithms: ${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${next[key]}'`,
      );
    }
  }
  current = next;
  return previous;
}
