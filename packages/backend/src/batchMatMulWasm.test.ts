import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { randomValues, relativeError } from './testing/convReference';
import { describeBackends } from './testing/describeBackends';

/** Float64 reference of matMul over broadcast batch dims (shapes after the transposes). */
function matMulRef(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { values: Float64Array; shape: number[] } {
  const ra = aShape.length;
  const rb = bShape.length;
  const M = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const K = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const N = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  const batchA = aShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = bShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batch = Math.max(batchA, batchB);
  const at = (bi: number, i: number, k: number) =>
    a[(batchA === 1 ? 0 : bi) * M * K + (transposeA ? k * M + i : i * K + k)];
  const bt = (bi: number, k: number, j: number) =>
    b[(batchB === 1 ? 0 : bi) * K * N + (transposeB ? j * K + k : k * N + j)];
  const out = new Float64Array(batch * M * N);
  for (let bi = 0; bi < batch; bi++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += at(bi, i, k) * bt(bi, k, j);
        out[(bi * M + i) * N + j] = s;
      }
  const lead = (ra >= rb ? aShape : bShape).slice(0, -2);
  return { values: out, shape: [...lead, M, N] };
}

const CASES: Array<{ a: number[]; b: number[]; tA: boolean; tB: boolean }> = [];
for (const tA of [false, true]) {
  for (const tB of [false, true]) {
    const [M, K, N] = [37, 53, 29];
    CASES.push({ a: tA ? [K, M] : [M, K], b: tB ? [N, K] : [K, N], tA, tB });
    CASES.push({ a: tA ? [3, K, M] : [3, M, K], b: tB ? [3, N, K] : [3, K, N], tA, tB });
    CASES.push({ a: tA ? [2, K, M] : [2, M, K], b: tB ? [1, N, K] : [1, K, N], tA, tB }); // broadcast b
  }
}

describeBackends(
  'BatchMatMul with transposed operands (wasm: explicit transposes, then XNNPACK)',
  () => {
    for (const c of CASES) {
      it(`[${c.a}]${c.tA ? 'ᵀ' : ''} @ [${c.b}]${c.tB ? 'ᵀ' : ''}`, async () => {
        const av = randomValues(
          c.a.reduce((x, y) => x * y, 1),
          11,
        );
        const bv = randomValues(
          c.b.reduce((x, y) => x * y, 1),
          12,
        );
        const ref = matMulRef(av, c.a, bv, c.b, c.tA, c.tB);
        const y = tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.tA, c.tB);
        expect(y.shape).toEqual(ref.shape);
        expect(relativeError(await y.data(), ref.values)).toBeLessThan(1e-5);
      });
    }

    it("gives matMul's gradients (a^T @ dy and dy @ b^T) to 1e-5", async () => {
      const [M, K, N] = [41, 23, 31];
      const av = randomValues(M * K, 1);
      const bv = randomValues(K * N, 2);
      const rv = randomValues(M * N, 3);
      const r = tf.tensor2d(rv, [M, N]);
      const [da, db] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b), r)))(
        [tf.tensor2d(av, [M, K]), tf.tensor2d(bv, [K, N])],
      );
      // dL/da = r @ b^T, dL/db = a^T @ r
      const wantA = matMulRef(rv, [M, N], bv, [K, N], false, true);
      const wantB = matMulRef(av, [M, K], rv, [M, N], true, false);
      expect(relativeError(await da.data(), wantA.values)).toBeLessThan(1e-5);
      expect(relativeError(await db.data(), wantB.values)).toBeLessThan(1e-5);
    });
  },
);
