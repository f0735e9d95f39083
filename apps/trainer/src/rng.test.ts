import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epochPermutation, hashSeed } from './rng';

describe('rng', () => {
  it('epochPermutation is a permutation, deterministic, different across epochs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), fc.nat(100), (n, seed, epoch) => {
        const p = epochPermutation(n, seed, epoch);
        expect([...p].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
        expect(epochPermutation(n, seed, epoch)).toEqual(p);
      }),
    );
    expect(epochPermutation(50, 1, 0)).not.toEqual(epochPermutation(50, 1, 1));
    expect(epochPermutation(50, 1, 0)).not.toEqual(epochPermutation(50, 2, 0));
  });

  it('hashSeed mixes its parts in order, deterministically', () => {
    expect(hashSeed(1, 2)).not.toBe(hashSeed(2, 1));
    expect(hashSeed(1, 2)).toBe(hashSeed(1, 2));
  });
});
