import { seededPermutation, seededRandom } from '@pixelcnn/quickdraw-data';

/** splitmix32-style integer hash of a list of 32-bit integers: deterministic seeds per (seed, epoch, ...). */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = (h + (Math.floor(p) >>> 0) + 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/**
 * The order in which epoch `epoch` visits `n` examples (of an `--images` array): a Fisher-Yates
 * shuffle with quickdraw-data's seeded PRNG, seeded by (seed, epoch). A pure function of its
 * arguments, so a resumed run only needs (epoch, position).
 */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  return seededPermutation(n, seededRandom(hashSeed(seed, epoch, 0x5eed)));
}
