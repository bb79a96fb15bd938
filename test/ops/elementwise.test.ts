import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
import { isNativeAvailable } from '../../lib/backends/cpu/native.js';

const { ops } = keras;
type Fn = (x: keras.Tensor) => keras.Tensor;
const empty = (shape: number[]) => ops.reshape(ops.convertToTensor(new Float32Array(0)), shape);
const ones = (shape: number[]) => ops.onesLike(ops.reshape(ops.convertToTensor(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape));

/** Each unary op at a few points against Math (or a hand-derived value). */
const UNARY_CASES: [string, Fn, number[], (v: number) => number][] = [
  ['negative', ops.negative, [-2, 0, 3.5], (v) => -v],
  ['abs', ops.abs, [-2, 0, 3.5], Math.abs],
  ['sign', ops.sign, [-2, 0, 3.5], Math.sign],
  ['exp', ops.exp, [-1, 0, 2], Math.exp],
  ['expm1', ops.expm1, [-1e-8, 0, 2], Math.expm1],
  ['log', ops.log, [0.5, 1, 10], Math.log],
  ['log1p', ops.log1p, [1e-9, 0, 3], Math.log1p],
  ['log2', ops.log2, [0.5, 1, 8], Math.log2],
  ['log10', ops.log10, [0.1, 1, 1000], Math.log10],
  ['sqrt', ops.sqrt, [0, 4, 2], Math.sqrt],
  ['rsqrt', ops.rsqrt, [0.25, 4, 2], (v) => 1 / Math.sqrt(v)],
  ['square', ops.square, [-3, 0, 1.5], (v) => v * v],
  ['reciprocal', ops.reciprocal, [-4, 0.5, 2], (v) => 1 / v],
  ['sin', ops.sin, [-1, 0, 2], Math.sin],
  ['cos', ops.cos, [-1, 0, 2], Math.cos],
  ['tan', ops.tan, [-1, 0, 1.2], Math.tan],
  ['arcsin', ops.arcsin, [-0.5, 0, 0.9], Math.asin],
  ['arccos', ops.arccos, [-0.5, 0, 0.9], Math.acos],
  ['arctan', ops.arctan, [-3, 0, 0.9], Math.atan],
  ['sinh', ops.sinh, [-1, 0, 2], Math.sinh],
  ['cosh', ops.cosh, [-1, 0, 2], Math.cosh],
  ['tanh', ops.tanh, [-1, 0, 20], Math.tanh],
  ['arcsinh', ops.arcsinh, [-1, 0, 2], Math.asinh],
  ['arccosh', ops.arccosh, [1, 1.5, 3], Math.acosh],
  ['arctanh', ops.arctanh, [-0.5, 0, 0.9], Math.atanh],
  ['floor', ops.floor, [-1.5, 0.2, 2.7], Math.floor],
  ['ceil', ops.ceil, [-1.5, 0.2, 2.7], Math.ceil],
  ['round', ops.round, [-2.5, 0.5, 1.5, 2.5, 2.6], (v) => ({ '-2.5': -2, '0.5': 0, '1.5': 2, '2.5': 2, '2.6': 3 })[String(v)]!],
  ['sigmoid', ops.sigmoid, [-800, 0, 2], (v) => 1 / (1 + Math.exp(-v))],
  // erf reference values from tables (Abramowitz & Stegun 7.1).
  ['erf', ops.erf, [0, 0.5, 1, 2, 3, -1], (v) => ({ '0': 0, '0.5': 0.5204998778130465, '1': 0.8427007929497149, '2': 0.9953222650189527, '3': 0.9999779095030014, '-1': -0.8427007929497149 })[String(v)]!],
  ['erfinv', ops.erfinv, [0, 0.5204998778130465, -0.8427007929497149], (v) => ({ '0': 0, '0.5204998778130465': 0.5, '-0.8427007929497149': -1 })[String(v)]!],
];

describe('unary ops', () => {
  for (const [name, fn, points, ref] of UNARY_CASES) {
    it(`${name} matches its definition in float64 and float32`, () => {
      expectClose(fn(ops.convertToTensor(points, 'float64')), points.map(ref), { rtol: 1e-12, atol: 1e-14 });
      const y32 = fn(ops.convertToTensor(points, 'float32'));
      expect(y32.dtype).toBe('float32');
      expectClose(y32, points.map(ref), { rtol: 2e-6, atol: 1e-6 });
    });
  }

  const ODD_FUNCTIONS: [string, Fn][] = [
    ['sin', ops.sin], ['tan', ops.tan], ['arcsin', ops.arcsin], ['arctan', ops.arctan], ['sinh', ops.sinh], ['tanh', ops.tanh],
    ['arcsinh', ops.arcsinh], ['arctanh', ops.arctanh], ['erf', ops.erf], ['erfinv', ops.erfinv], ['expm1', ops.expm1], ['log1p', ops.log1p],
    ['gelu', (x) => ops.gelu(x, false)], ['gelu (tanh form)', (x) => ops.gelu(x, true)],
  ];
  for (const backend of ['js', ...(isNativeAvailable() ? ['cpu'] : [])]) {
    it(`functions with f(x) ~ c*x at 0 keep the sign of zero (IEEE, as libm), ${backend}`, () => {
      keras.config.setBackend(backend);
      try {
        for (const dtype of ['float32', 'float64'] as const) {
          for (const [name, fn] of ODD_FUNCTIONS) {
            const y = fn(ops.convertToTensor([-0, 0], dtype)).arraySync() as number[];
            expect(y.map((v) => Object.is(v, -0)), `${name}([-0, +0]) in ${dtype} on ${backend} gave ${y.map((v) => (Object.is(v, -0) ? '-0' : String(v)))}`).toEqual([true, false]);
          }
        }
      } finally {
        keras.config.setBackend('js');
      }
    });
  }

  it('keeps shapes, including size-0 and scalars', () => {
    expect(ops.exp(empty([2, 0, 3])).shape).toEqual([2, 0, 3]);
    expect(ops.exp(1).shape).toEqual([]);
    expectClose(ops.exp(1), [Math.E], { rtol: 1e-6 });
  });

  it('casts integers to floatx for float functions and keeps ints where Keras does', () => {
    const i = ops.convertToTensor([1, -2, 4]);
    expect(i.dtype).toBe('int32');
    expect(ops.sqrt(i).dtype).toBe('float32');
    expect(ops.abs(i).dtype).toBe('int32');
    expectClose(ops.abs(i), [1, 2, 4]);
    expectClose(ops.negative(i), [-1, 2, -4]);
    expectClose(ops.square(i), [1, 4, 16]);
  });

  it('predicates return bool', () => {
    const x = ops.convertToTensor([NaN, Infinity, -Infinity, 1], 'float32');
    expect(ops.isnan(x).dtype).toBe('bool');
    expect(ops.isnan(x).arraySync()).toEqual([true, false, false, false]);
    expect(ops.isinf(x).arraySync()).toEqual([false, true, true, false]);
    expect(ops.isfinite(x).arraySync()).toEqual([false, false, false, true]);
    expect(ops.isfinite(ops.convertToTensor([1, 2])).arraySync()).toEqual([true, true]);
    expect(ops.logicalNot([0, 2, 0]).arraySync()).toEqual([true, false, true]);
  });

  it('clip and nanToNum', () => {
    expectClose(ops.clip([-2, 0.5, 3], -1, 1), [-1, 0.5, 1]);
    expect(() => ops.clip([1], 2, 1)).toThrow(/clip: xMin \(2\) is greater than xMax \(1\)/);
    expectClose(ops.nanToNum(ops.convertToTensor([NaN, Infinity, -Infinity, 2], 'float64'), { nan: 7, posinf: 100 }), [7, 100, -Number.MAX_VALUE, 2]);
  });

  const GRAD_CASES: [string, Fn, [number, number]][] = [
    ['negative', ops.negative, [-2, 2]], ['abs', ops.abs, [0.1, 2]], ['square', ops.square, [-2, 2]],
    ['exp', ops.exp, [-2, 2]], ['expm1', ops.expm1, [-2, 2]], ['log', ops.log, [0.2, 3]], ['log1p', ops.log1p, [-0.5, 3]],
    ['log2', ops.log2, [0.2, 3]], ['log10', ops.log10, [0.2, 3]], ['sqrt', ops.sqrt, [0.2, 3]], ['rsqrt', ops.rsqrt, [0.2, 3]],
    ['reciprocal', ops.reciprocal, [0.5, 3]], ['sin', ops.sin, [-2, 2]], ['cos', ops.cos, [-2, 2]], ['tan', ops.tan, [-1, 1]],
    ['arcsin', ops.arcsin, [-0.8, 0.8]], ['arccos', ops.arccos, [-0.8, 0.8]], ['arctan', ops.arctan, [-2, 2]],
    ['sinh', ops.sinh, [-2, 2]], ['cosh', ops.cosh, [-2, 2]], ['tanh', ops.tanh, [-2, 2]], ['arcsinh', ops.arcsinh, [-2, 2]],
    ['arccosh', ops.arccosh, [1.2, 3]], ['arctanh', ops.arctanh, [-0.8, 0.8]], ['erf', ops.erf, [-2, 2]], ['erfinv', ops.erfinv, [-0.9, 0.9]],
    ['sigmoid', ops.sigmoid, [-3, 3]],
  ];
  for (const [name, fn, [lo, hi]] of GRAD_CASES) {
    it(`${name} gradient matches finite differences`, () => checkGrad(fn, [randomTensor([2, 3], name.length, lo, hi)]));
  }

  it('piecewise-constant ops have zero gradient', () => {
    for (const fn of [ops.floor, ops.ceil, ops.round, ops.sign]) {
      expectClose(keras.grad((x: keras.Tensor) => ops.sum(fn(x)))(ops.convertToTensor([0.3, 1.7], 'float64')), [0, 0]);
    }
  });
});

describe('binary ops', () => {
  it('broadcast numpy-style, including size-1 and size-0 dims', () => {
    expectClose(ops.add([[1], [2]], [10, 20, 30]), [[11, 21, 31], [12, 22, 32]]);
    expect(ops.add(empty([0, 3]), ones([1, 3])).shape).toEqual([0, 3]);
    expect(ops.multiply(ones([2, 1, 4]), ones([3, 1])).shape).toEqual([2, 3, 4]);
    expect(() => ops.add(ones([2, 3]), ones([4]))).toThrow(/add: cannot broadcast shapes \(2, 3\) and \(4,\)/);
  });

  it('promote dtypes as Keras result_type, with weak JS numbers', () => {
    const i = ops.convertToTensor([1, 2]);
    const f = ops.convertToTensor([1, 2], 'float32');
    const d = ops.convertToTensor([1, 2], 'float64');
    expect(ops.add(i, 1).dtype).toBe('int32');
    expect(ops.add(i, 1.5).dtype).toBe('float32');
    expect(ops.add(f, 2).dtype).toBe('float32');
    expect(ops.add(i, f).dtype).toBe('float32');
    expect(ops.add(f, d).dtype).toBe('float64');
    expect(ops.divide(i, i).dtype).toBe('float32');
    expect(keras.backend.resultType('bool', 'int32')).toBe('int32');
    expect(keras.backend.resultType('float16', 'bfloat16')).toBe('float32');
  });

  it('compute arithmetic with numpy semantics', () => {
    expectClose(ops.subtract([5, 1], [2, 3]), [3, -2]);
    expectClose(ops.multiply([2, -3], 4), [8, -12]);
    expectClose(ops.divide([1, 3], [4, 2]), [0.25, 1.5]);
    expectClose(ops.floorDivide([7, -7, 7], [2, 2, -2]), [3, -4, -4]);
    expect(ops.floorDivide([7, -7], [2, 2]).dtype).toBe('int32');
    expectClose(ops.mod([7, -7, 7, -7], [3, 3, -3, -3]), [1, 2, -2, -1]);
    expectClose(ops.mod(ops.convertToTensor([5.5, -5.5], 'float32'), 2), [1.5, 0.5]);
    expectClose(ops.power([2, 3, 4], [3, 2, 0.5]), [8, 9, 2]);
    expectClose(ops.maximum([1, 5, NaN], [3, 2, 0]), [3, 5, NaN]);
    expectClose(ops.minimum([1, 5], [3, 2]), [1, 2]);
    expectClose(ops.arctan2([1, -1, 0], [1, -1, -1]), [Math.PI / 4, (-3 * Math.PI) / 4, Math.PI], { rtol: 1e-6 });
    expectClose(ops.where([true, false, true], [1, 2, 3], [10, 20, 30]), [1, 20, 3]);
    expectClose(ops.where(ops.greater([1, 5], 2), 1.5, [[0], [-1]]), [[0, 1.5], [-1, 1.5]]);
  });

  it('compare and combine booleans', () => {
    expect(ops.equal([1, 2, 3], 2).arraySync()).toEqual([false, true, false]);
    expect(ops.notEqual([1, 2], 2).arraySync()).toEqual([true, false]);
    expect(ops.less([1, 2, 3], 2).arraySync()).toEqual([true, false, false]);
    expect(ops.lessEqual([1, 2, 3], 2).arraySync()).toEqual([true, true, false]);
    expect(ops.greater([1, 2, 3], 2).arraySync()).toEqual([false, false, true]);
    expect(ops.greaterEqual([1, 2, 3], 2).arraySync()).toEqual([false, true, true]);
    expect(ops.logicalAnd([true, true, false], [true, false, false]).arraySync()).toEqual([true, false, false]);
    expect(ops.logicalOr([true, false, false], [false, false, true]).arraySync()).toEqual([true, false, true]);
    expect(ops.logicalXor([true, true, false], [true, false, false]).arraySync()).toEqual([false, true, false]);
  });

  const BIN_GRADS: [string, (a: keras.Tensor, b: keras.Tensor) => keras.Tensor, [number, number]][] = [
    ['add', ops.add, [-2, 2]], ['subtract', ops.subtract, [-2, 2]], ['multiply', ops.multiply, [-2, 2]],
    ['divide', ops.divide, [0.5, 2]], ['power', ops.power, [0.5, 2]], ['maximum', ops.maximum, [-2, 2]],
    ['minimum', ops.minimum, [-2, 2]], ['arctan2', ops.arctan2, [0.5, 2]], ['mod', ops.mod, [0.3, 0.9]],
  ];
  for (const [name, fn, [lo, hi]] of BIN_GRADS) {
    it(`${name} gradient, with broadcasting, matches finite differences`, () => {
      checkGrad(fn, [randomTensor([2, 3], 3, lo, hi), randomTensor([3], 4, lo, hi)]);
      checkGrad(fn, [randomTensor([2, 1], 5, lo, hi), randomTensor([1, 3], 6, lo, hi)]);
    });
  }

  it('where and clip gradients', () => {
    const c = ops.convertToTensor([[true, false, true]]);
    checkGrad((a, b) => ops.where(c, a, b), [randomTensor([2, 3], 1), randomTensor([2, 1], 2)]);
    checkGrad((x) => ops.clip(x, -0.5, 0.5), [ops.convertToTensor([-0.9, -0.2, 0.3, 0.8], 'float64')]);
  });

  it('comparisons have no gradient', () => {
    expectClose(keras.grad((x: keras.Tensor) => ops.sum(ops.cast(ops.greater(x, 0), 'float64')))(ops.convertToTensor([1, 2], 'float64')), [0, 0]);
  });

  it('reject mixed-dtype primitives and unknown attributes with clear messages', () => {
    expect(() => ops.logicalAnd([1], [[1, 2], [3, 4], [5, 6]]).dataSync()).not.toThrow();
    expect(() => ops.cast([1], 'int8' as keras.DType)).toThrow(/cast: unknown dtype "int8"/);
  });
});

describe('cast', () => {
  it('truncates floats toward zero into int32, maps non-zero to true', () => {
    expectClose(ops.cast([-1.7, 1.7, 2.5], 'int32'), [-1, 1, 2]);
    expect(ops.cast([0, 2, -1], 'bool').arraySync()).toEqual([false, true, true]);
    expect(ops.cast([true, false], 'float32').arraySync()).toEqual([1, 0]);
  });
  it('passes gradients between float dtypes', () => {
    const g = keras.grad((x: keras.Tensor) => ops.sum(ops.multiply(ops.cast(x, 'float32'), 3)))(ops.convertToTensor([1, 2], 'float64'));
    expect(g.dtype).toBe('float64');
    expectClose(g, [3, 3]);
  });
});
