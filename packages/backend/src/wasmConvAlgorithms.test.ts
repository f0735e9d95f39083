import { afterEach, expect, it } from 'vitest';
import { setWasmConvAlgorithms, wasmConvAlgorithms } from './wasmConvAlgorithms';

afterEach(() => {
  setWasmConvAlgorithms('default');
});

it('defaults to polyphase and taps, sets one kernel at a time, returns the previous choice', () => {
  expect(wasmConvAlgorithms()).toEqual({ backpropInput: 'polyphase', backpropFilter: 'taps' });
  const previous = setWasmConvAlgorithms({ backpropFilter: 'conv' });
  expect(previous).toEqual({ backpropInput: 'polyphase', backpropFilter: 'taps' });
  expect(wasmConvAlgorithms()).toEqual({ backpropInput: 'polyphase', backpropFilter: 'conv' });
  setWasmConvAlgorithms({ backpropInput: 'zero-insertion' });
  expect(wasmConvAlgorithms()).toEqual({
    backpropInput: 'zero-insertion',
    backpropFilter: 'conv',
  });
  setWasmConvAlgorithms(previous);
  expect(wasmConvAlgorithms()).toEqual(previous);
});

it('names the kernel and the allowed choices on a bad choice, and keeps the current one', () => {
  expect(() => setWasmConvAlgorithms({ backpropInput: 'fft' as never })).toThrow(
    "setWasmConvAlgorithms: backpropInput must be one of 'polyphase', 'zero-insertion', got 'fft'",
  );
  expect(() => setWasmConvAlgorithms({ conv2d: 'x' } as never)).toThrow(
    "unknown kernel 'conv2d' (known: backpropInput, backpropFilter)",
  );
  expect(wasmConvAlgorithms()).toEqual({ backpropInput: 'polyphase', backpropFilter: 'taps' });
});
