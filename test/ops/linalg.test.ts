import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { run1 } from '../../lib/engine.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops } = keras;

/** Naive reference product of row-major matrices, for checking the blocked kernel. */
function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}

const f64 = (x: number[] | number[][] | number[][][]) => ops.convertToTensor(x, 'float64');
const T = (x: Tensor) => ops.transpose(x);
/** float32 ones without depending on the creation ops. */
const ones = (shape: number[]) => ops.reshape(ops.convertToTensor(new Float32Array(shape.reduce((p, d) => p * d, 1)).fill(1)), shape);

describe('matmul', () => {
  it('multiplies 2-D matrices (hand-derived)', () => {
    const y = ops.matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]);
    expect(y.dtype).toBe('int32');
    expectClose(y, [[19, 22], [43, 50]], { shape: [2, 2] });
    const z = ops.matmul(ops.convertToTensor([[1, 2, 3]], 'float32'), [[1], [0.5], [-1]]);
    expect(z.dtype).toBe('float32');
    expectClose(z, [[-1]], { shape: [1, 1] });
  });

  it('promotes dtypes as result_type', () => {
    expect(ops.matmul(ops.convertToTensor([[1, 2]], 'int32'), f64([[1], [2]])).dtype).toBe('float64');
    expect(ops.matmul(ops.convertToTensor([[1, 2]], 'int32'), ops.convertToTensor([[1], [2]], 'float32')).dtype).toBe('float32');
    const b = ops.matmul([[true, false], [false, false]], [[true], [true]]);
    expect(b.dtype).toBe('bool');
    expect(b.arraySync()).toEqual([[true], [false]]);
  });

  it('handles 1-D operands as numpy does', () => {
    const s = ops.matmul([1, 2, 3], [4, 5, 6]);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(32);
    expectClose(ops.matmul([1, 2], [[1, 2, 3], [4, 5, 6]]), [9, 12, 15], { shape: [3] });
    expectClose(ops.matmul([[1, 2, 3], [4, 5, 6]], [1, 0, -1]), [-2, -2], { shape: [2] });
    // A vector against a stack of matrices: [2] x [2, 2, 3] -> [2, 3].
    expectClose(ops.matmul([1, 1], [[[1, 2, 3], [4, 5, 6]], [[0, 1, 0], [1, 0, 1]]]), [[5, 7, 9], [1, 1, 1]], { shape: [2, 3] });
  });

  it('broadcasts batch dims', () => {
    // One matrix times a stack (and the stack-times-matrix fold path).
    const stack = [[[1, 0], [0, 1]], [[0, 1], [1, 0]]];
    expectClose(ops.matmul(stack, [[1, 2], [3, 4]]), [[[1, 2], [3, 4]], [[3, 4], [1, 2]]], { shape: [2, 2, 2] });
    expectClose(ops.matmul([[1, 2], [3, 4]], stack), [[[1, 2], [3, 4]], [[2, 1], [4, 3]]], { shape: [2, 2, 2] });
    // [2,1,1,2] x [3,2,1] -> [2,3,1,1]: every pair of batch entries.
    const a = [[[[1, 2]]], [[[3, 4]]]];
    const b = [[[1], [0]], [[0], [1]], [[1], [1]]];
    expectClose(ops.matmul(a, b), [[[[1]], [[2]], [[3]]], [[[3]], [[4]], [[7]]]], { shape: [2, 3, 1, 1] });
  });

  it('matches a naive product on odd sizes (loop tails) in float32 and float64', () => {
    for (const [m, k, n] of [[5, 7, 3], [1, 9, 1], [6, 4, 11], [3, 1, 2]]) {
      const a = randomTensor([m, k], m + k);
      const b = randomTensor([k, n], n + 3);
      const want = naiveMatmul(a.dataSync(), b.dataSync(), m, k, n);
      expectClose(ops.matmul(a, b), want, { shape: [m, n], rtol: 1e-12, atol: 1e-12 });
      expectClose(ops.matmul(ops.cast(a, 'float32'), ops.cast(b, 'float32')), want, { shape: [m, n], rtol: 1e-5, atol: 1e-5 });
    }
  });

  it('handles size-0 dims', () => {
    expectClose(ops.matmul(ops.reshape(f64([]), [2, 0]), ops.reshape(f64([]), [0, 3])), [[0, 0, 0], [0, 0, 0]], { shape: [2, 3] });
    expect(ops.matmul(ops.reshape(f64([]), [0, 3]), f64([[1, 2], [3, 4], [5, 6]])).shape).toEqual([0, 2]);
    expect(ops.matmul(ops.reshape(f64([]), [0, 2, 3]), f64([[1], [2], [3]])).shape).toEqual([0, 2, 1]);
    expect(ops.matmul(ops.reshape(f64([]), [2, 0, 3]), ops.reshape(f64([]), [1, 3, 0])).shape).toEqual([2, 0, 0]);
  });

  it('computes the four transpose combinations of the primitive', () => {
    const a = f64([[1, 2, 3], [4, 5, 6]]); // 2x3
    const b = f64([[1, 0], [0, 1], [1, 1]]); // 3x2
    const want = [[4, 5], [10, 11]];
    expectClose(run1('matmul', [a, b], { transposeA: false, transposeB: false }), want);
    expectClose(run1('matmul', [T(a), b], { transposeA: true, transposeB: false }), want);
    expectClose(run1('matmul', [a, T(b)], { transposeA: false, transposeB: true }), want);
    expectClose(run1('matmul', [T(a), T(b)], { transposeA: true, transposeB: true }), want);
    // Batched and broadcast with a transposed B.
    const stack = ops.stack([a, ops.multiply(a, 2)]);
    expectClose(run1('matmul', [stack, T(b)], { transposeA: false, transposeB: true }), [want, [[8, 10], [20, 22]]]);
  });

  it('names the op and both shapes on bad input', () => {
    expect(() => ops.matmul(ones([2, 3]), ones([4, 5]))).toThrow(/matmul.*\(2, 3\).*\(4, 5\).*3 vs 4/);
    expect(() => ops.matmul(ones([3]), ones([4]))).toThrow(/matmul.*\(3,\).*\(4,\)/);
    expect(() => ops.matmul(ones([2, 2, 3]), ones([3, 3, 1]))).toThrow(/matmul.*batch.*\(2, 2, 3\).*\(3, 3, 1\)/);
    expect(() => ops.matmul(3, ones([3]))).toThrow(/matmul.*rank >= 1/);
    expect(() => run1('matmul', [ones([2, 3]), ones([2, 3])], { transposeA: true, transposeB: true })).toThrow(/matmul.*\(2, 3\).*\(2, 3\).*transposeA=true.*2 vs 3/);
  });

  it('infers shapes on symbolic inputs with unknown dims', () => {
    const g = keras.trace((x: Tensor) => ops.matmul(x, ones([4, 5])), [{ shape: [null, 3, 4] }]);
    expect(g.outputs[0].shape).toEqual([null, 3, 5]);
    const g2 = keras.trace((x: Tensor, y: Tensor) => ops.matmul(x, y), [{ shape: [null, 2, 4] }, { shape: [4, null] }]);
    expect(g2.outputs[0].shape).toEqual([null, 2, null]);
    const g3 = keras.trace((x: Tensor, y: Tensor) => ops.matmul(x, y), [{ shape: [null, 2, null] }, { shape: [null, 3] }]);
    expect(g3.outputs[0].shape).toEqual([null, 2, 3]);
    const g4 = keras.trace((x: Tensor) => ops.einsum('bij,jk->bik', x, ones([3, 4])), [{ shape: [null, 2, 3] }]);
    expect(g4.outputs[0].shape).toEqual([null, 2, 4]);
    const x = randomTensor([3, 2, 3], 1);
    expectClose(keras.ir.run(g4, [ops.cast(x, 'float32')])[0], ops.einsum('bij,jk->bik', x, ones([3, 4])), { rtol: 1e-5 });
    expect(() => keras.trace((x: Tensor) => ops.matmul(x, ones([5, 2])), [{ shape: [null, 4] }])).toThrow(/matmul.*\(None, 4\).*\(5, 2\)/);
  });

  it('differentiates every transpose combination (float64)', () => {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randomTensor(tA ? [3, 2] : [2, 3], 1);
        const b = randomTensor(tB ? [4, 3] : [3, 4], 2);
        checkGrad((x, y) => run1('matmul', [x, y], { transposeA: tA, transposeB: tB }), [a, b]);
        // With broadcast batch dims on both sides.
        const ab = randomTensor(tA ? [2, 1, 3, 2] : [2, 1, 2, 3], 3);
        const bb = randomTensor(tB ? [3, 4, 3] : [3, 3, 4], 4);
        checkGrad((x, y) => run1('matmul', [x, y], { transposeA: tA, transposeB: tB }), [ab, bb]);
      }
    }
  });

  it('differentiates inside a traced graph with an unknown batch dim', () => {
    const w = randomTensor([3, 2], 9);
    const g = keras.trace((x: Tensor, y: Tensor) => ops.sum(ops.multiply(ops.matmul(x, y), ops.matmul(x, w))), [
      { shape: [null, 2, 3], dtype: 'float64' },
      { shape: [null, 3, 2], dtype: 'float64' },
    ]);
    const dg = keras.ir.differentiate(g);
    const x = randomTensor([4, 2, 3], 1);
    const y = randomTensor([4, 3, 2], 2);
    const [, dx, dy] = keras.ir.run(dg, [x, y]);
    const [ex, ey] = keras.grad((p: Tensor, q: Tensor) => ops.sum(ops.multiply(ops.matmul(p, q), ops.matmul(p, w))), { argnums: [0, 1] })(x, y) as Tensor[];
    expectClose(dx, ex, { rtol: 1e-12 });
    expectClose(dy, ey, { rtol: 1e-12 });
  });

  it('leaves no tensors behind inside tidy, gradients included', () => {
    const a = randomTensor([2, 3, 4], 1);
    const b = randomTensor([4, 5], 2);
    const before = keras.memory().numTensors;
    keras.tidy(() => {
      ops.matmul(a, b);
      keras.grad((x: Tensor, y: Tensor) => ops.sum(ops.matmul(x, y)), { argnums: [0, 1] })(a, b);
    });
    expect(keras.memory().numTensors).toBe(before);
  });

  it('differentiates the public function with 1-D and stacked operands', () => {
    checkGrad((x, y) => ops.matmul(x, y), [randomTensor([4], 1), randomTensor([4], 2)]);
    checkGrad((x, y) => ops.matmul(x, y), [randomTensor([3], 1), randomTensor([2, 3, 2], 2)]);
    checkGrad((x, y) => ops.matmul(x, y), [randomTensor([2, 2, 3], 1), randomTensor([3], 2)]);
    checkGrad((x, y) => ops.matmul(x, y), [randomTensor([2, 3, 4], 5), randomTensor([4, 2], 6)]);
  });
});

describe('dot, tensordot, outer, inner, vdot', () => {
  it('dot follows numpy', () => {
    expect(ops.dot([1, 2, 3], [4, 5, 6]).item()).toBe(32);
    expectClose(ops.dot(2, [[1, 2]]), [[2, 4]]);
    expectClose(ops.dot([[1, 2], [3, 4]], [[5, 6], [7, 8]]), [[19, 22], [43, 50]]);
    expectClose(ops.dot([[1, 2], [3, 4]], [1, 1]), [3, 7]);
    // N-D: dot(a, b)[i, j, k, m] = sum(a[i, j, :] * b[k, :, m]).
    const a = randomTensor([2, 3, 4], 1);
    const b = randomTensor([5, 4, 6], 2);
    const y = ops.dot(a, b);
    expect(y.shape).toEqual([2, 3, 5, 6]);
    const av = a.dataSync();
    const bv = b.dataSync();
    let s = 0;
    for (let p = 0; p < 4; p++) s += av[1 * 12 + 2 * 4 + p] * bv[3 * 24 + p * 6 + 5];
    expect(ops.slice(y, [1, 2, 3, 5], [1, 1, 1, 1]).item()).toBeCloseTo(s, 12);
    expectClose(ops.dot(a, [1, 0, 0, 0]), ops.slice(a, [0, 0, 0], [2, 3, 1]).dataSync(), { shape: [2, 3] });
    checkGrad((x, w) => ops.dot(x, w), [randomTensor([2, 3, 4], 3), randomTensor([2, 4, 2], 4)]);
  });

  it('tensordot contracts the given axes', () => {
    const a = f64([[1, 2], [3, 4]]);
    const b = f64([[5, 6], [7, 8]]);
    expect(ops.tensordot(a, b).item()).toBe(5 + 12 + 21 + 32); // axes = 2: full contraction
    expectClose(ops.tensordot(a, b, 1), [[19, 22], [43, 50]]);
    expectClose(ops.tensordot([1, 2], [3, 4, 5], 0), [[3, 4, 5], [6, 8, 10]]);
    expectClose(ops.tensordot(a, b, [[0], [0]]), [[26, 30], [38, 44]]); // a^T b
    expectClose(ops.tensordot(a, b, { axes: [-1, -1] }), [[17, 23], [39, 53]]); // a b^T
    expect(ops.tensordot(a, b, [[1, 0], [0, 1]]).item()).toBe(1 * 5 + 2 * 7 + 3 * 6 + 4 * 8);
    const big = randomTensor([2, 3, 4], 1);
    expect(ops.tensordot(big, randomTensor([4, 3, 5], 2), [[1, 2], [1, 0]]).shape).toEqual([2, 5]);
    expect(ops.tensordot(ops.reshape(f64([]), [2, 0]), ops.reshape(f64([]), [0, 3]), 1).arraySync()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(() => ops.tensordot(ones([2, 3]), ones([4, 5]), 1)).toThrow(/tensordot.*\(2, 3\).*\(4, 5\)/);
    expect(() => ops.tensordot(ones([2, 3]), ones([3]), 3)).toThrow(/tensordot.*axes=3/);
    checkGrad((x, y) => ops.tensordot(x, y, [[1, 2], [1, 0]]), [big, randomTensor([4, 3, 2], 5)]);
  });

  it('outer, inner and vdot', () => {
    expectClose(ops.outer([1, 2], [[3], [4], [5]]), [[3, 4, 5], [6, 8, 10]]);
    expect(ops.inner([1, 2, 3], [4, 5, 6]).item()).toBe(32);
    expectClose(ops.inner([[1, 2], [3, 4]], [[1, 0], [1, 1]]), [[1, 3], [3, 7]]); // a b^T
    expectClose(ops.inner(3, [1, 2]), [3, 6]);
    expect(ops.vdot([[1, 2], [3, 4]], [1, 1, 1, 2]).item()).toBe(14);
    expect(ops.vdot([1, 2], [3, 4]).dtype).toBe('int32');
    expect(() => ops.vdot([1, 2], [1, 2, 3])).toThrow(/vdot.*\(2,\).*\(3,\)/);
    expect(() => ops.inner([1, 2], [1, 2, 3])).toThrow(/tensordot.*\(2,\).*\(3,\)/);
    checkGrad((x, y) => ops.outer(x, y), [randomTensor([3], 1), randomTensor([2, 2], 2)]);
    checkGrad((x, y) => ops.inner(x, y), [randomTensor([2, 3], 1), randomTensor([4, 3], 2)]);
    checkGrad((x, y) => ops.vdot(x, y), [randomTensor([2, 3], 1), randomTensor([6], 2)]);
  });
});

describe('einsum', () => {
  const a = f64([[1, 2], [3, 4]]);
  const b = f64([[5, 6], [7, 8]]);

  it('computes explicit and implicit forms (hand-derived)', () => {
    expectClose(ops.einsum('ij,jk->ik', a, b), [[19, 22], [43, 50]]);
    expectClose(ops.einsum('ij,jk', a, b), [[19, 22], [43, 50]]);
    expectClose(ops.einsum('ij,kj->ik', a, b), [[17, 23], [39, 53]]);
    expectClose(ops.einsum('ij->ji', a), [[1, 3], [2, 4]]);
    expectClose(ops.einsum('ji', a), [[1, 3], [2, 4]]); // implicit output is sorted: i, j
    expect(ops.einsum('ij->', a).item()).toBe(10);
    expectClose(ops.einsum('ij->j', a), [4, 6]);
    expect(ops.einsum('i,i', [1, 2, 3], [4, 5, 6]).item()).toBe(32);
    expectClose(ops.einsum('i,i->i', [1, 2, 3], [4, 5, 6]), [4, 10, 18]);
    expectClose(ops.einsum('i,j->ij', [1, 2], [3, 4, 5]), [[3, 4, 5], [6, 8, 10]]);
    expectClose(ops.einsum('ij,ij->i', a, b), [17, 53]);
    expectClose(ops.einsum('ij,jk,kl->il', a, b, f64([[1, 0], [0, -1]])), [[19, -22], [43, -50]]);
    expectClose(ops.einsum(' i j , j k -> i k ', a, b), [[19, 22], [43, 50]]);
  });

  it('batches, broadcasts ellipsis dims and keeps int dtypes', () => {
    const x = randomTensor([3, 2, 4], 1);
    const y = randomTensor([3, 4, 5], 2);
    expectClose(ops.einsum('bij,bjk->bik', x, y), ops.matmul(x, y), { rtol: 1e-12 });
    expectClose(ops.einsum('...ij,...jk->...ik', x, y), ops.matmul(x, y), { rtol: 1e-12 });
    expectClose(ops.einsum('...ij,jk', x, ops.reshape(ops.slice(y, [0, 0, 0], [1, 4, 5]), [4, 5])), ops.matmul(x, ops.slice(y, [0, 0, 0], [1, 4, 5])), { rtol: 1e-12 });
    // Ellipsis dims broadcast: [2,1,2] with [3,2] -> [2,3].
    expectClose(ops.einsum('...i,...i->...', [[[1, 1]], [[2, 0]]], [[1, 2], [3, 4], [5, 6]]), [[3, 7, 11], [2, 6, 10]]);
    expectClose(ops.einsum('b...,b...->b', [[1, 2], [3, 4]], [[1, 1], [2, 2]]), [3, 14]);
    const iy = ops.einsum('ij,jk->ik', [[1, 2], [3, 4]], [[5, 6], [7, 8]]);
    expect(iy.dtype).toBe('int32');
    expect(iy.arraySync()).toEqual([[19, 22], [43, 50]]);
    // A contracted index of size 1 on one side broadcasts.
    expectClose(ops.einsum('ij,jk->ik', [[1], [2]], [[1, 2], [3, 4]]), [[4, 6], [8, 12]]);
    expect(ops.einsum('ij,jk->ik', ops.reshape(f64([]), [2, 0]), ops.reshape(f64([]), [0, 3])).arraySync()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });

  it('takes the last product in the order that gives the output axes as they are (attention\'s key-first scores): no transpose after it', () => {
    const k = randomTensor([2, 5, 3, 4], 1);
    const q = randomTensor([2, 6, 3, 4], 2);
    // scores[a, c, b, e] = sum_d q[a, b, c, d] k[a, e, c, d]
    const want = ops.matmul(ops.transpose(q, [0, 2, 1, 3]), ops.transpose(k, [0, 2, 3, 1]));
    expectClose(ops.einsum('aecd,abcd->acbe', k, q), want, { rtol: 1e-12 });
    const g = keras.trace((x: Tensor, y: Tensor) => ops.einsum('aecd,abcd->acbe', x, y), [{ shape: [2, 5, 3, 4] }, { shape: [2, 6, 3, 4] }]);
    const names = g.nodes.map((n) => n.op.name);
    expect(names.filter((n) => n === 'transpose'), names.join(' ')).toHaveLength(2); // the operands' only
    expect(names[names.length - 1] === 'matmul' || names.slice(names.lastIndexOf('matmul')).every((n) => n !== 'transpose'), names.join(' ')).toBe(true);
    checkGrad((x, y) => ops.einsum('aecd,abcd->acbe', x, y), [randomTensor([1, 3, 2, 2], 3), randomTensor([1, 2, 2, 2], 4)]);
  });

  it('refuses diagonals and mismatched sizes with clear errors', () => {
    expect(() => ops.einsum('ii->i', a)).toThrow(/einsum.*repeated index "i".*\(2, 2\)/);
    expect(() => ops.einsum('ij,jk->ik', ones([2, 3]), ones([4, 5]))).toThrow(/einsum.*"j".*3 and 4.*\(2, 3\).*\(4, 5\)/);
    expect(() => ops.einsum('ij,jk->ik', a)).toThrow(/einsum.*2 operands, received 1/);
    expect(() => ops.einsum('ijk', a)).toThrow(/einsum.*"ijk".*\(2, 2\)/);
    expect(() => ops.einsum('ij->iz', a)).toThrow(/einsum.*"z"/);
    expect(() => ops.einsum('i1', a)).toThrow(/einsum.*invalid character "1"/);
  });

  it('differentiates the common forms (float64)', () => {
    const x = randomTensor([2, 3], 1);
    const y = randomTensor([3, 4], 2);
    checkGrad((p, q) => ops.einsum('ij,jk->ik', p, q), [x, y]);
    checkGrad((p, q) => ops.einsum('ij,kj->ki', p, q), [x, randomTensor([4, 3], 3)]);
    checkGrad((p, q) => ops.einsum('bij,bjk->bik', p, q), [randomTensor([2, 2, 3], 4), randomTensor([2, 3, 2], 5)]);
    checkGrad((p, q) => ops.einsum('...i,...i->...', p, q), [randomTensor([2, 1, 3], 6), randomTensor([4, 3], 7)]);
    checkGrad((p) => ops.einsum('ijk->kj', p), [randomTensor([2, 3, 4], 8)]);
    checkGrad((p, q, r) => ops.einsum('ij,jk,k->i', p, q, r), [x, y, randomTensor([4], 9)]);
    checkGrad((p, q) => ops.einsum('i,j->ij', p, q), [randomTensor([3], 10), randomTensor([2], 11)]);
  });
});

describe('inv, det, solve, cholesky', () => {
  it('inv (hand-derived), batched, ints become floatx', () => {
    const y = ops.inv([[4, 7], [2, 6]]);
    expect(y.dtype).toBe('float32');
    expectClose(y, [[0.6, -0.7], [-0.2, 0.4]]);
    expectClose(ops.inv(f64([[[2, 0], [0, 4]], [[0, 1], [1, 0]]])), [[[0.5, 0], [0, 0.25]], [[0, 1], [1, 0]]], { rtol: 1e-12 });
    // Needs pivoting (zero leading entry).
    expectClose(ops.inv(f64([[0, 2, 0], [1, 0, 0], [0, 0, 4]])), [[0, 1, 0], [0.5, 0, 0], [0, 0, 0.25]], { rtol: 1e-12 });
    const m = randomTensor([3, 4, 4], 1);
    const eye4 = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
    expectClose(ops.matmul(m, ops.inv(m)), [eye4, eye4, eye4], { atol: 1e-10 });
    expect(ops.inv(ops.reshape(f64([]), [0, 0])).shape).toEqual([0, 0]);
    expect(ops.inv(ops.reshape(f64([]), [0, 2, 2])).shape).toEqual([0, 2, 2]);
    expect(() => ops.inv([[1, 2], [2, 4]])).toThrow(/inv.*singular.*\(2, 2\)/);
    expect(() => ops.inv(ones([2, 3]))).toThrow(/inv.*square.*\(2, 3\)/);
    expect(() => ops.inv([1, 2])).toThrow(/inv.*rank >= 2.*\(2,\)/);
  });

  it('det (hand-derived), batched, singular is 0, empty is 1', () => {
    expect(ops.det([[4, 7], [2, 6]]).item()).toBeCloseTo(10, 5);
    expect(ops.det(f64([[2, -3, 1], [2, 0, -1], [1, 4, 5]])).item()).toBeCloseTo(49, 12);
    expect(ops.det(f64([[0, 1], [1, 0]])).item()).toBe(-1);
    expectClose(ops.det(f64([[[1, 2], [3, 4]], [[2, 0], [0, 3]], [[1, 2], [2, 4]]])), [-2, 6, 0], { shape: [3], atol: 1e-12 });
    expect(ops.det(ops.reshape(f64([]), [0, 0])).item()).toBe(1);
    expect(ops.det(f64([[5]])).item()).toBe(5);
    expect(() => ops.det(ones([2, 2, 3]))).toThrow(/det.*\(2, 2, 3\)/);
  });

  it('solve with vector and matrix right-hand sides, batched with broadcasting', () => {
    const a = f64([[3, 1], [1, 2]]);
    const x = ops.solve(a, [9, 8]);
    expect(x.dtype).toBe('float64');
    expectClose(x, [2, 3], { shape: [2], rtol: 1e-12 });
    expectClose(ops.solve(a, f64([[9, 1], [8, 2]])), [[2, 0], [3, 1]], { rtol: 1e-12, atol: 1e-15 });
    expectClose(ops.solve([[2, 0], [0, 4]], [[2], [4]]), [[1], [1]], { shape: [2, 1] });
    // One matrix for a stack of right-hand sides, and a stack of matrices for one rhs.
    expectClose(ops.solve(a, f64([[[9], [8]], [[3], [1]]])), [[[2], [3]], [[1], [0]]], { shape: [2, 2, 1], atol: 1e-12 });
    const stackA = f64([[[3, 1], [1, 2]], [[1, 0], [0, 2]]]);
    expectClose(ops.solve(stackA, f64([[9, 8], [1, 4]])), [[2, 3], [1, 2]], { shape: [2, 2], atol: 1e-12 });
    expectClose(ops.solve(stackA, f64([[[9], [8]]])), [[[2], [3]], [[9], [4]]], { shape: [2, 2, 1], atol: 1e-12 });
    expect(() => ops.solve(a, [1, 2, 3])).toThrow(/solve.*\(2, 2\).*\(3,\).*2 vs 3/);
    expect(() => ops.solve([[1, 2], [2, 4]], [1, 1])).toThrow(/solve.*singular/);
  });

  it('cholesky (hand-derived), batched, upper, not positive definite', () => {
    const l = ops.cholesky(f64([[4, 2], [2, 3]]));
    expectClose(l, [[2, 0], [1, Math.SQRT2]], { rtol: 1e-12 });
    expectClose(ops.cholesky(f64([[4, 12, -16], [12, 37, -43], [-16, -43, 98]])), [[2, 0, 0], [6, 1, 0], [-8, 5, 3]], { rtol: 1e-12, atol: 1e-12 });
    expectClose(ops.cholesky(f64([[[4, 2], [2, 3]], [[9, 0], [0, 1]]])), [[[2, 0], [1, Math.SQRT2]], [[3, 0], [0, 1]]], { rtol: 1e-12 });
    expectClose(ops.cholesky(f64([[4, 2], [2, 3]]), { upper: true }), [[2, 1], [0, Math.SQRT2]], { rtol: 1e-12 });
    expect(ops.cholesky([[4, 0], [0, 1]]).dtype).toBe('float32');
    expect(() => ops.cholesky(f64([[1, 2], [2, 1]]))).toThrow(/cholesky.*not positive definite.*\(2, 2\)/);
    expect(() => ops.cholesky(f64([[[1, 0], [0, 1]], [[-1, 0], [0, 1]]]))).toThrow(/cholesky.*matrix 1 of the batch.*\(2, 2, 2\)/);
  });

  /** A well-conditioned matrix: random plus a multiple of the identity. */
  const wellConditioned = (shape: number[], seed: number) => {
    const n = shape[shape.length - 1];
    const eye = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? n : 0)));
    return ops.add(randomTensor(shape, seed), f64(eye));
  };
  /** Symmetric positive definite from an unconstrained input, so finite differences see the same function. */
  const spd = (x: Tensor) => {
    const n = x.shape[x.rank - 1];
    const eye = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? n : 0)));
    const perm = x.shape.map((_, i) => i);
    [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
    return ops.add(ops.multiply(ops.add(x, ops.transpose(x, perm)), 0.5), f64(eye));
  };

  it('differentiates inv, det, solve and cholesky (float64)', () => {
    checkGrad((x) => ops.inv(x), [wellConditioned([3, 3], 1)]);
    checkGrad((x) => ops.inv(x), [wellConditioned([2, 2, 2], 2)]);
    checkGrad((x) => ops.det(x), [wellConditioned([3, 3], 3)]);
    checkGrad((x) => ops.det(x), [wellConditioned([2, 3, 3], 4)]);
    checkGrad((p, q) => ops.solve(p, q), [wellConditioned([3, 3], 5), randomTensor([3, 2], 6)]);
    checkGrad((p, q) => ops.solve(p, q), [wellConditioned([3, 3], 7), randomTensor([3], 8)]);
    checkGrad((p, q) => ops.solve(p, q), [wellConditioned([2, 2], 9), randomTensor([3, 2, 1], 10)]);
    checkGrad((x) => ops.cholesky(spd(x)), [randomTensor([3, 3], 11)]);
    checkGrad((x) => ops.cholesky(spd(x)), [randomTensor([2, 2, 2], 12)]);
    checkGrad((x) => ops.cholesky(spd(x), true), [randomTensor([3, 3], 13)]);
  });

  it('traces symbolically', () => {
    const g = keras.trace((x: Tensor) => [ops.inv(x), ops.det(x), ops.cholesky(x)], [{ shape: [null, 3, 3], dtype: 'float64' }]);
    expect(g.outputs.map((o) => o.shape)).toEqual([[null, 3, 3], [null], [null, 3, 3]]);
    const m = wellConditioned([2, 3, 3], 1);
    const [yi, yd] = keras.ir.run(g, [m]);
    expectClose(yi, ops.inv(m), { rtol: 1e-12 });
    expectClose(yd, ops.det(m), { rtol: 1e-12 });
  });
});
