/**
 * Factorization kernels of the native CPU backend (inv, det, solve, cholesky)
 * against the js backend's kernels: same shapes, dtypes and values (bit for bit:
 * both compute in float64 with the same operation order), over 0x0 to 17x17
 * matrices, unbatched and batched (incl. batches large enough to run in
 * parallel), float32 and float64, plus singular / not positive definite inputs,
 * whose errors must name the same op, batch index, pivot and shape.
 */
import { describe, expect, it } from 'vitest';
import '../../lib/index.js';
import { getOp } from '../../lib/ops/registry.js';
import { JsBackend } from '../../lib/backends/js/index.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import { Tensor } from '../../lib/tensor.js';
import type { NativeTensor, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import type { OutputSpec } from '../../lib/backends/backend.js';
import { addon, randomArray } from './helpers.js';

const native = addon();
const js = new JsBackend();

type FloatDType = 'float32' | 'float64';
const ARRAY = { float32: Float32Array, float64: Float64Array } as const;
const DTYPES: FloatDType[] = ['float32', 'float64'];
const SIZES = [0, 1, 3, 17];
const BATCHES: number[][] = [[], [1], [5], [2, 3]];
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface Input {
  values: Float32Array | Float64Array;
  shape: number[];
  dtype: FloatDType;
}

/** A stack of diagonally dominant (well-conditioned, invertible) matrices [...batch, n, n]. */
function wellConditioned(batch: number[], n: number, dtype: FloatDType, seed = 1): Input {
  const shape = [...batch, n, n];
  const values = new ARRAY[dtype](randomArray(size(shape), seed));
  for (let m = 0; m < size(batch); m++) for (let i = 0; i < n; i++) values[m * n * n + i * n + i]! += n + 1;
  return { values, shape, dtype };
}

/**
 * Symmetric positive definite stacks B B^T + I in the lower triangle, with noise in
 * the strict upper triangle (both kernels must read only the lower one).
 */
function positiveDefinite(batch: number[], n: number, dtype: FloatDType, seed = 2): Input {
  const shape = [...batch, n, n];
  const r = randomArray(size(shape), seed);
  const values = new ARRAY[dtype](size(shape));
  for (let m = 0; m < size(batch); m++) {
    const o = m * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (j > i) {
          values[o + i * n + j] = 100 * r[o + i * n + j]!;
          continue;
        }
        let s = i === j ? 1 : 0;
        for (let p = 0; p < n; p++) s += r[o + i * n + p]! * r[o + j * n + p]!;
        values[o + i * n + j] = s;
      }
    }
  }
  return { values, shape, dtype };
}

function sameValues(label: string, got: NativeTypedArray, want: ArrayLike<number>): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

const tensorsOf = (inputs: Input[]) =>
  inputs.map((t) => new Tensor({ shape: t.shape, dtype: t.dtype, storage: new JsStorage(t.values) }));

/** Runs `op` on the js kernel (reference) and on the native kernel; asserts equal shapes, dtypes and values. */
function check(op: string, inputs: Input[]): NativeTypedArray {
  const tensors = tensorsOf(inputs);
  const specs = getOp(op).infer(tensors, {}) as OutputSpec[];
  const want = js.kernel(op)!(tensors, {}, specs) as JsStorage[];
  const handles = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
  const label = `${op} ${inputs.map((t) => `${t.dtype}${JSON.stringify(t.shape)}`).join(' ')}`;
  const got = native.runKernel(op, handles, {});
  try {
    expect(got.length, label).toBe(1);
    expect(got[0]!.shape, label).toEqual(specs[0]!.shape);
    expect(got[0]!.dtype, label).toBe(specs[0]!.dtype);
    const values = got[0]!.read();
    sameValues(label, values, want[0]!.data);
    return values;
  } finally {
    for (const h of [...handles, ...got]) h.dispose();
  }
}

/** The js kernel's error and the native one for the same inputs; both must throw. */
function errors(op: string, inputs: Input[]): [Error, Error] {
  const tensors = tensorsOf(inputs);
  const specs = getOp(op).infer(tensors, {}) as OutputSpec[];
  let jsError: Error | undefined;
  try {
    js.kernel(op)!(tensors, {}, specs);
  } catch (e) {
    jsError = e as Error;
  }
  const handles: NativeTensor[] = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
  let nativeError: Error | undefined;
  try {
    native.runKernel(op, handles, {});
  } catch (e) {
    nativeError = e as Error;
  } finally {
    for (const h of handles) h.dispose();
  }
  if (!jsError || !nativeError) throw new Error(`${op}: expected both kernels to throw`);
  return [jsError, nativeError];
}

/** Runs `op` natively expecting an error; returns it. */
function nativeError(op: string, inputs: Input[]): Error {
  const handles = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
  try {
    native.runKernel(op, handles, {});
  } catch (e) {
    return e as Error;
  } finally {
    for (const h of handles) h.dispose();
  }
  throw new Error(`${op}: expected an error`);
}

describe('native linalg kernels', () => {
  it('inv matches the js kernel (float32 and float64, 0x0 to 17x17, batched)', () => {
    for (const dtype of DTYPES) {
      for (const n of SIZES) for (const batch of BATCHES) check('inv', [wellConditioned(batch, n, dtype)]);
    }
    // A hand-checked case: inv([[4, 7], [2, 6]]) = [[0.6, -0.7], [-0.2, 0.4]].
    const got = check('inv', [{ values: new Float64Array([4, 7, 2, 6]), shape: [2, 2], dtype: 'float64' }]);
    [0.6, -0.7, -0.2, 0.4].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 14));
  });

  it('det matches the js kernel; det of a 0x0 matrix is 1 and of a singular one 0', () => {
    for (const dtype of DTYPES) {
      for (const n of SIZES) for (const batch of BATCHES) check('det', [wellConditioned(batch, n, dtype)]);
    }
    expect([...check('det', [{ values: new Float32Array(0), shape: [3, 0, 0], dtype: 'float32' }])]).toEqual([1, 1, 1]);
    // Rows 1 and 2 are proportional in the second matrix; the first is [[1, 2], [3, 4]] (det -2).
    const values = new Float64Array([1, 2, 3, 4, 1, 2, 2, 4]);
    expect([...check('det', [{ values, shape: [2, 2, 2], dtype: 'float64' }])]).toEqual([-2, 0]);
    const nan = new Float64Array([NaN, 1, 1, 1]);
    check('det', [{ values: nan, shape: [2, 2], dtype: 'float64' }]);
  });

  it('solve matches the js kernel, with 0 and several right-hand sides', () => {
    for (const dtype of DTYPES) {
      for (const n of SIZES) {
        for (const batch of BATCHES) {
          for (const k of [0, 1, 4]) {
            const b = { values: new ARRAY[dtype](randomArray(size([...batch, n, k]), 7)), shape: [...batch, n, k], dtype };
            check('solve', [wellConditioned(batch, n, dtype), b]);
          }
        }
      }
    }
    // [[2, 1], [1, 3]] x = [3, 5] -> x = [0.8, 1.4].
    const a = { values: new Float64Array([2, 1, 1, 3]), shape: [2, 2], dtype: 'float64' as const };
    const got = check('solve', [a, { values: new Float64Array([3, 5]), shape: [2, 1], dtype: 'float64' }]);
    expect(got[0]).toBeCloseTo(0.8, 14);
    expect(got[1]).toBeCloseTo(1.4, 14);
  });

  it('cholesky matches the js kernel and reads only the lower triangle', () => {
    for (const dtype of DTYPES) {
      for (const n of SIZES) for (const batch of BATCHES) check('cholesky', [positiveDefinite(batch, n, dtype)]);
    }
    // [[4, junk], [2, 5]] -> L = [[2, 0], [1, 2]].
    const got = check('cholesky', [{ values: new Float64Array([4, 99, 2, 5]), shape: [2, 2], dtype: 'float64' }]);
    expect([...got]).toEqual([2, 0, 1, 2]);
  });

  it('large batches (split over threads) match the js kernels', () => {
    for (const dtype of DTYPES) {
      check('inv', [wellConditioned([300], 6, dtype, 3)]);
      check('det', [wellConditioned([40, 25], 5, dtype, 4)]);
      const b = { values: new ARRAY[dtype](randomArray(64 * 17 * 3, 5)), shape: [64, 17, 3], dtype };
      check('solve', [wellConditioned([64], 17, dtype, 6), b]);
      check('cholesky', [positiveDefinite([600], 9, dtype, 8)]);
    }
  });

  it('inv and solve name the first singular matrix of the batch and the shape, like the js kernel', () => {
    for (const dtype of DTYPES) {
      // Matrices 3 and 2950 of the batch are zero: the error names 3 even when the batch runs in parallel.
      for (const count of [5, 3000]) {
        const x = wellConditioned([count], 3, dtype);
        for (const bad of [3, count - 50]) if (bad >= 0) x.values.fill(0, bad * 9, bad * 9 + 9);
        const [jsInv, nativeInv] = errors('inv', [x]);
        expect(nativeInv.message).toBe(jsInv.message);
        expect(nativeInv.message).toBe(`inv: the matrix is singular (matrix 3 of the batch), input shape (${count}, 3, 3)`);
        expect(nativeInv.name).toBe('ValueError');
        const b = { values: new ARRAY[dtype](count * 3 * 2), shape: [count, 3, 2], dtype };
        const [jsSolve, nativeSolve] = errors('solve', [x, b]);
        expect(nativeSolve.message).toBe(jsSolve.message);
        expect(nativeSolve.message).toMatch(/^solve: the matrix is singular \(matrix 3 of the batch\), input shape \(\d+, 3, 3\)$/);
      }
      const single = { values: new ARRAY[dtype]([1, 2, 2, 4]), shape: [2, 2], dtype };
      expect(nativeError('inv', [single]).message).toBe('inv: the matrix is singular, input shape (2, 2)');
    }
  });

  it('cholesky names the batch index, the failing pivot and its value, like the js kernel', () => {
    for (const dtype of DTYPES) {
      for (const count of [5, 5000]) {
        const x = positiveDefinite([count], 4, dtype);
        // Matrix 2: pivot 1 becomes 1 - 4 = -3 ([[1, .], [2, 1]]); the last matrix: a negative first pivot.
        x.values.set([1, 0, 0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 2 * 16);
        x.values[(count - 1) * 16] = -0.1;
        const [jsError, nativeErr] = errors('cholesky', [x]);
        expect(nativeErr.name).toBe('ValueError');
        expect(nativeErr.message).toBe(jsError.message);
        expect(nativeErr.message).toBe(`cholesky: the matrix is not positive definite (matrix 2 of the batch) (pivot 1 is -3), input shape (${count}, 4, 4)`);
      }
      // The pivot value prints as JavaScript prints numbers (exponents, NaN).
      for (const v of [-0.1, -1.5e-7, -2.5e21, 0, NaN, -1 / 3]) {
        const x = { values: new ARRAY[dtype]([v]), shape: [1, 1], dtype };
        const [jsError, nativeErr] = errors('cholesky', [x]);
        expect(nativeErr.message).toBe(jsError.message);
      }
    }
  });

  it('inference errors name the op, the argument and the shapes', () => {
    const f = (shape: number[], dtype: FloatDType = 'float32'): Input => ({ values: new ARRAY[dtype](size(shape)), shape, dtype });
    expect(nativeError('inv', [f([3])]).message).toBe('inv: x must be a matrix or a stack of matrices (rank >= 2), received shape (3,)');
    expect(nativeError('det', [f([2, 3, 4])]).message).toBe('det: x must be square in its last two dimensions, received shape (2, 3, 4)');
    expect(nativeError('cholesky', [f([2, 3])]).name).toBe('ShapeError');
    const ints = native.createTensor(new Int32Array(4), [2, 2], 'int32');
    try {
      expect(() => native.runKernel('inv', [ints])).toThrowError('inv: x must be a float tensor, received int32 (2, 2)');
    } finally {
      ints.dispose();
    }
    expect(nativeError('solve', [f([2, 2]), f([2, 1], 'float64')]).message)
      .toBe('solve: a and b must have the same dtype, received float32 (2, 2) and float64 (2, 1)');
    expect(nativeError('solve', [f([3, 2, 2]), f([1, 2, 1])]).message)
      .toBe('solve: b must have shape [..., 2, k] with the batch dims of a, received a (3, 2, 2) and b (1, 2, 1)');
    expect(nativeError('solve', [f([2, 2]), f([2])]).name).toBe('ShapeError');
    expect(nativeError('solve', [f([2, 2]), f([3, 1])]).message).toMatch(/solve: b must have shape \[\.\.\., 2, k\].*\(3, 1\)/);
    // The same messages as the TypeScript inference.
    for (const [op, inputs] of [['inv', [f([3])]], ['det', [f([2, 3, 4])]], ['solve', [f([3, 2, 2]), f([1, 2, 1])]]] as const) {
      expect(() => getOp(op).infer(tensorsOf(inputs as unknown as Input[]), {})).toThrowError(nativeError(op, inputs as unknown as Input[]).message);
    }
  });
});
