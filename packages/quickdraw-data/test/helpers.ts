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
