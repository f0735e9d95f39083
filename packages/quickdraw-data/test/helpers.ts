import fc from 'fast-check';
import type { BinaryDrawing, SimplifiedDrawing } from '../src/types';

/** The .bin record Google would write for a simplified drawing (timestamp to unix seconds). */
export function toBinary(d: SimplifiedDrawing): BinaryDrawing {
  const seconds = Math.floor(Date.parse(d.timestamp.replace(' ', 'T').replace(' UTC', 'Z')) / 1000);
  return {
    key_id: d.key_id,
    countrycode: d.countrycode,
    recognized: d.recognized,
    timestamp: seconds,
    drawing: d.drawing,
  };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Any drawing the .bin format holds (short strokes, a few of them). */
export const binaryDrawingArb: fc.Arbitrary<BinaryDrawing> = fc.record({
  key_id: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  countrycode: fc.string({
    unit: fc.constantFrom('A', 'Z', 'q', '1', ' '),
    minLength: 2,
    maxLength: 2,
  }),
  recognized: fc.boolean(),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  drawing: fc.array(
    fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc.tuple(
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }),
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }),
        ),
      ),
    { maxLength: 4 },
  ),
});
