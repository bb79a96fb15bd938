/**
 * Elementwise and reduction kernels of the native CPU backend against plain JS
 * loops with the js backend's semantics (compute in double, store into the
 * output TypedArray), on every ISA path this machine has.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType, NativeTensor, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import { erf, erfinv, floorMod, roundHalfEven } from '../../lib/backends/js/special.js';
import { addon, randomArray } from './helpers.js';
import { check, type Input } from './kernel_harness.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));

type Values = ArrayLike<number>;
const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array } as const;

const UNARY: Record<string, (a: number) => number> = {
  negative: (a) => -a,
  abs: Math.abs,
  sign: (a) => (a > 0 ? 1 : a < 0 ? -1 : a === 0 ? 0 : NaN),
  square: (a) => a * a,
  round: roundHalfEven,
  exp: Math.exp, expm1: Math.expm1, log: Math.log, log1p: Math.log1p, sqrt: Math.sqrt,
  rsqrt: (a) => 1 / Math.sqrt(a), reciprocal: (a) => 1 / a,
  sin: Math.sin, cos: Math.cos, tan: Math.tan, arcsin: Math.asin, arccos: Math.acos, arctan: Math.atan,
  sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh, arcsinh: Math.asinh, arccosh: Math.acosh, arctanh: Math.atanh,
  floor: Math.floor, ceil: Math.ceil, erf, erfinv,
  sigmoid: (a) => (a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a))),
};
const PREDICATES: Record<string, (a: number) => boolean> = {
  isnan: Number.isNaN,
  isinf: (a) => a === Infinity || a === -Infinity,
  isfinite: Number.isFinite,
};
const EXACT_UNARY = new Set(['negative', 'abs', 'sign', 'square', 'round', 'sqrt', 'reciprocal', 'floor', 'ceil']);

const ARITH: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b, subtract: (a, b) => a - b, multiply: (a, b) => a * b, divide: (a, b) => a / b,
  floorDivide: (a, b) => Math.floor(a / b), mod: floorMod, power: Math.pow,
  maximum: (a, b) => (a > b || a !== a ? a : b), minimum: (a, b) => (a < b || a !== a ? a : b),
  arctan2: Math.atan2,
};
const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  equal: (a, b) => a === b, notEqual: (a, b) => a !== b, less: (a, b) => a < b,
  lessEqual: (a, b) => a <= b, greater: (a, b) => a > b, greaterEqual: (a, b) => a >= b,
};

const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

function tensor(values: Values, shape: number[], dtype: NativeDType): NativeTensor {
  return native.createTensor(ARRAY[dtype].from(values) as NativeTypedArray, shape, dtype);
}

/** Interesting values first (signed zeros, NaN, infinities, ties), then random ones. */
function sample(n: number, seed: number, dtype: NativeDType): number[] {
  const special = dtype === 'int32' ? [0, 1, -1, 7, -7, 2 ** 31 - 1, -(2 ** 31)] : [0, -0, NaN, Infinity, -Infinity, 0.5, -2.5, 1, -1];
  const random = Array.from(randomArray(n, seed), (v) => (dtype === 'int32' ? Math.round(v * 20) : v * 3));
  return [...special, ...random].slice(0, n);
}

/** Index-wise broadcasting reference over a flat output index. */
function broadcastIndex(shape: number[], outShape: number[]): (flat: number) => number {
  const offset = outShape.length - shape.length;
  return (flat) => {
    let index = 0, stride = 1, rest = flat;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const i = rest % outShape[d]!;
      rest = Math.floor(rest / outShape[d]!);
      if (d >= offset && shape[d - offset] !== 1) index += i * stride;
      if (d >= offset) stride *= shape[d - offset]!;
    }
    return index;
  };
}

function expectSame(label: string, got: NativeTypedArray, want: NativeTypedArray, relTol = 0): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const ok = Object.is(g, w) || (relTol > 0 && Math.abs(g - w) <= relTol * Math.max(Math.abs(w), 1e-30)) ||
      (relTol === 0 && g === w && g !== 0);
    if (!ok) throw new Error(`${label}: element ${i} expected ${w} got ${g}`);
  }
}

describe.each(isas)('elementwise on the %s path', (isa) => {
  it('binary arithmetic matches the reference with broadcasting, for float32, float64 and int32', () => {
    native.setIsa(isa);
    const shapes: [number[], number[], number[]][] = [
      [[3, 1, 5], [4, 1], [3, 4, 5]],
      [[7, 33], [7, 33], [7, 33]],
      [[], [2, 19], [2, 19]],
      [[40000], [1], [40000]], // long enough for SIMD runs and the thread pool
      [[2, 0, 3], [3], [2, 0, 3]],
    ];
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      for (const [op, fn] of Object.entries(ARITH)) {
        for (const [sa, sb, so] of shapes) {
          const av = sample(size(sa), 1, dtype), bv = sample(size(sb), 2, dtype).reverse();
          const a = tensor(av, sa, dtype), b = tensor(bv, sb, dtype);
          const [out] = native.runKernel(op, [a, b]);
          expect(out!.shape).toEqual(so);
          const ia = broadcastIndex(sa, so), ib = broadcastIndex(sb, so);
          const ar = a.read(), br = b.read();
          const want = new ARRAY[dtype](size(so));
          const got = out!.read();
          for (let i = 0; i < want.length; i++) {
            const exact = fn(ar[ia(i)]!, br[ib(i)]!);
            // pow beyond 2^53 is not exactly representable: libm and V8 may differ in the last bit, and int32 wrapping shows it.
            want[i] = dtype === 'int32' && Math.abs(exact) > 2 ** 53 ? got[i]! : exact;
          }
          const transcendental = op === 'power' || op === 'arctan2';
          expectSame(`${dtype} ${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, out!.read(), want,
            transcendental && dtype !== 'int32' ? (dtype === 'float32' ? 2e-7 : 1e-15) : 0);
          a.dispose(); b.dispose(); out!.dispose();
        }
      }
    }
  });

  it('comparisons and logical ops give bool', () => {
    native.setIsa(isa);
    const av = sample(60, 3, 'float32'), bv = [...av].reverse();
    const a = tensor(av, [6, 10], 'float32'), b = tensor(bv, [6, 10], 'float32');
    for (const [op, fn] of Object.entries(COMPARE)) {
      const [out] = native.runKernel(op, [a, b]);
      expect(out!.dtype).toBe('bool');
      const ar = a.read(), br = b.read();
      expectSame(op, out!.read(), Uint8Array.from(ar, (x, i) => (fn(x, br[i]!) ? 1 : 0)));
    }
    const p = tensor([1, 0, 1, 0], [4], 'bool'), q = tensor([1, 1, 0, 0], [4], 'bool');
    expect(Array.from(native.runKernel('logicalAnd', [p, q])[0]!.read())).toEqual([1, 0, 0, 0]);
    expect(Array.from(native.runKernel('logicalOr', [p, q])[0]!.read())).toEqual([1, 1, 1, 0]);
    expect(Array.from(native.runKernel('logicalXor', [p, q])[0]!.read())).toEqual([0, 1, 1, 0]);
    expect(Array.from(native.runKernel('logicalNot', [p])[0]!.read())).toEqual([0, 1, 0, 1]);
  });

  it('unary ops match the reference (exactly where IEEE rounds once)', () => {
    native.setIsa(isa);
    for (const dtype of ['float32', 'float64'] as const) {
      // Many inside (-1, 1), and a sweep over the whole float range for exp/log/tanh.
      const values = sample(5000, 4, dtype).map((v, i) => (i % 3 === 0 ? v / 3 : i % 3 === 1 ? v : Math.sign(v) * Math.exp(v * 30)));
      const x = tensor(values, [50, 100], dtype);
      const xr = x.read();
      for (const [op, fn] of Object.entries(UNARY)) {
        const [out] = native.runKernel(op, [x]);
        const want = ARRAY[dtype].from(xr, fn);
        // float32 transcendentals are vector approximations a few ulps from the correctly
        // rounded value (math_accuracy.test.ts bounds them in ulps): 4e-7 is 3.4 to 6.7 ulps.
        const tol = EXACT_UNARY.has(op) ? 0 : dtype === 'float32' ? 4e-7 : op === 'erfinv' || op === 'erf' ? 1e-12 : 1e-15;
        expectSame(`${dtype} ${op}`, out!.read(), want, tol);
      }
      for (const [op, fn] of Object.entries(PREDICATES)) {
        expectSame(`${dtype} ${op}`, native.runKernel(op, [x])[0]!.read(), Uint8Array.from(xr, (v) => (fn(v) ? 1 : 0)));
      }
    }
    const ints = tensor([-(2 ** 31), -3, 0, 5], [4], 'int32');
    expect(Array.from(native.runKernel('negative', [ints])[0]!.read())).toEqual([-(2 ** 31), 3, 0, -5]);
    expect(Array.from(native.runKernel('square', [ints])[0]!.read())).toEqual([0, 9, 0, 25]);
  });

  it('reductions match the reference over every axis combination, with keepdims', () => {
    native.setIsa(isa);
    const shape = [3, 4, 5];
    const axesList = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2], [], [-1]];
    const folds: Record<string, [number, (acc: number, v: number) => number]> = {
      sum: [0, (a, v) => a + v], mean: [0, (a, v) => a + v], prod: [1, (a, v) => a * v],
      max: [-Infinity, (a, v) => (v > a || v !== v ? v : a)], min: [Infinity, (a, v) => (v < a || v !== v ? v : a)],
    };
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const values = sample(60, 5, dtype);
      if (dtype !== 'int32') values[7] = NaN;
      const x = tensor(values, shape, dtype);
      const xr = x.read();
      for (const [op, [init, fold]] of Object.entries(folds)) {
        for (const axesIn of axesList) {
          const axes = axesIn.map((a) => (a < 0 ? a + 3 : a));
          const kept = [0, 1, 2].filter((d) => !axes.includes(d));
          const outShape = kept.map((d) => shape[d]!);
          const acc = new Array(size(outShape)).fill(init);
          const count = new Array(size(outShape)).fill(0);
          for (let i = 0; i < 60; i++) {
            const idx = [Math.floor(i / 20), Math.floor(i / 5) % 4, i % 5];
            const o = kept.reduce((flat, d) => flat * shape[d]! + idx[d]!, 0);
            acc[o] = fold(acc[o], xr[i]!);
            count[o]++;
          }
          const want = ARRAY[dtype].from(acc, (v, o) => (op === 'mean' ? v / count[o] : v));
          for (const keepdims of [false, true]) {
            const [out] = native.runKernel(op, [x], { axes: axesIn, keepdims });
            expect(out!.shape).toEqual(keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : outShape);
            expectSame(`${dtype} ${op} axes ${JSON.stringify(axesIn)}`, out!.read(), want, dtype === 'int32' ? 0 : 1e-6);
          }
        }
      }
    }
  });

  it('a row broadcast over the leading dims (a bias), either side, in runs of whole rows', () => {
    native.setIsa(isa);
    // Rows of 3, 32 and 100 elements (several rows to a run) and 3000 (one row a call); 517 rows:
    // runs split over threads, the last one short.
    for (const width of [3, 32, 100, 3000]) {
      const rows = width === 3000 ? 7 : 517;
      for (const dtype of ['float32', 'float64', 'int32'] as NativeDType[]) {
        const whole = sample(rows * width, 21, dtype);
        const row = sample(width, 22, dtype).reverse();
        const cast = (v: number) => ARRAY[dtype].from([v])[0]!;
        for (const [op, f] of [['add', ARITH.add], ['subtract', ARITH.subtract]] as const) {
          // int32 wraps; float32 rounds once, as ARRAY.from does.
          const apply = (x: number, y: number) => (dtype === 'int32' ? f(x, y) | 0 : f(x, y));
          const rowFirst = native.runKernel(op, [tensor(row, [width], dtype), tensor(whole, [rows, width], dtype)])[0]!;
          const rowSecond = native.runKernel(op, [tensor(whole, [rows, 1, width], dtype), tensor(row, [1, width], dtype)])[0]!;
          expect(rowSecond.shape).toEqual([rows, 1, width]);
          expectSame(`${dtype} ${op} row first, width ${width}`, rowFirst.read(), ARRAY[dtype].from(whole.map((v, i) => apply(cast(row[i % width]!), cast(v)))));
          expectSame(`${dtype} ${op} row second, width ${width}`, rowSecond.read(), ARRAY[dtype].from(whole.map((v, i) => apply(cast(v), cast(row[i % width]!)))));
        }
        const greater = native.runKernel('greater', [tensor(whole, [rows, width], dtype), tensor(row, [width], dtype)])[0]!;
        expect(greater.dtype).toBe('bool');
        expectSame(`${dtype} greater, width ${width}`, greater.read(), Uint8Array.from(whole.map((v, i) => (cast(v) > cast(row[i % width]!) ? 1 : 0))));
      }
    }
  });

  it('where: each of condition, a and b whole or one broadcast value, every dtype, vector runs and tails', () => {
    native.setIsa(isa);
    const n = 203; // vector steps of every width and a tail
    const dtypes: NativeDType[] = ['float32', 'float64', 'int32', 'bool'];
    for (const dtype of dtypes) {
      const pick = (v: number) => (dtype === 'bool' ? (v > 0 ? 1 : 0) : dtype === 'int32' ? Math.round(v * 50) : v);
      const cond = Array.from(randomArray(n, 11), (v) => (v > 0.2 ? 1 : 0));
      const as = sample(n, 12, dtype === 'bool' ? 'float32' : dtype).map(pick);
      const bs = Array.from(randomArray(n, 13), pick);
      for (let variant = 0; variant < 8; variant++) {
        const [cWhole, aWhole, bWhole] = [variant & 4, variant & 2, variant & 1].map(Boolean);
        const c = cWhole ? tensor(cond, [n], 'bool') : tensor([1], [1], 'bool');
        const a = aWhole ? tensor(as, [n], dtype) : tensor([as[3]!], [1], dtype);
        const b = bWhole ? tensor(bs, [n], dtype) : tensor([bs[5]!], [1], dtype);
        const [out] = native.runKernel('where', [c, a, b]);
        // Variant 0 (all three one value) is a one-element where.
        const want = Array.from({ length: variant ? n : 1 }, (_, i) => ((cWhole ? cond[i] : 1) ? (aWhole ? as[i]! : as[3]!) : bWhole ? bs[i]! : bs[5]!));
        const got = Array.from(out!.read());
        const wantTyped = Array.from(ARRAY[dtype].from(want));
        expect(got.map((v) => (Object.is(v, -0) ? '-0' : v)), `${dtype} variant ${variant}`).toEqual(wantTyped.map((v) => (Object.is(v, -0) ? '-0' : v)));
      }
    }
  });

  it('any/all, big reductions on the thread pool, and empty axes', () => {
    native.setIsa(isa);
    const b = tensor([0, 0, 1, 1, 1, 1], [2, 3], 'bool');
    expect(Array.from(native.runKernel('any', [b], { axes: [1] })[0]!.read())).toEqual([1, 1]);
    expect(Array.from(native.runKernel('all', [b], { axes: [1] })[0]!.read())).toEqual([0, 1]);
    const n = 300, m = 700;
    const values = Array.from(randomArray(n * m, 9));
    const x = tensor(values, [n, m], 'float64');
    const colSums = new Float64Array(m), rowSums = new Float64Array(n);
    values.forEach((v, i) => { colSums[i % m] += v; rowSums[Math.floor(i / m)] += v; });
    expectSame('column sums', native.runKernel('sum', [x], { axes: [0] })[0]!.read(), colSums, 1e-12);
    expectSame('row sums', native.runKernel('sum', [x], { axes: [1] })[0]!.read(), rowSums, 1e-12);
    const empty = tensor([], [0, 3], 'float32');
    expect(Array.from(native.runKernel('sum', [empty], { axes: [0] })[0]!.read())).toEqual([0, 0, 0]);
    expect(Array.from(native.runKernel('max', [empty], { axes: [0] })[0]!.read())).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(Array.from(native.runKernel('mean', [empty], { axes: [0] })[0]!.read())).toEqual([NaN, NaN, NaN]);
  });
});

describe.each(isas)('elementwise outputs past the last-level cache on the %s path', (isa) => {
  const l3Bytes = native.backendInfo().cpu.l3Bytes;
  // A binary op's output larger than the cache is written by streaming stores from the first element aligned to the
  // vector (the elements before it by plain stores); its values must be those of the same rows in a small call (plain
  // stores). The ops run in chunks of about 16K elements, and with rows of 1003 the chunks start unaligned. gelu: a
  // unary op, which stores plainly at any size.
  const n = 1003, part = 40; // rows checked: the first ones and the last ones
  const cases: [string, NativeDType][] = [['add', 'float32'], ['maximum', 'float32'], ['multiply', 'float64'], ['gelu', 'float32']];
  it.skipIf(l3Bytes > 64 * 1024 * 1024).each(cases)('%s %s gives the bits of its rows alone', (op, dtype) => {
    native.setIsa(isa);
    const rows = Math.ceil(l3Bytes / (ARRAY[dtype].BYTES_PER_ELEMENT * n)) + 37;
    const x = ARRAY[dtype].from(randomArray(rows * n, 31), (v) => v * 3);
    const y = ARRAY[dtype].from(randomArray(rows * n, 32), (v) => v * 3);
    const run = (xs: NativeTypedArray, ys: NativeTypedArray, count: number) => {
      const inputs = [xs, ys].slice(0, op === 'gelu' ? 1 : 2).map((t) => native.createTensor(t, [count, n], dtype));
      const [out] = native.runKernel(op, inputs);
      const values = out!.read();
      [...inputs, out!].forEach((t) => t.dispose());
      return values;
    };
    const whole = run(x, y, rows);
    for (const from of [0, rows - part]) {
      const slice = (t: NativeTypedArray) => t.slice(from * n, (from + part) * n);
      const alone = run(slice(x), slice(y), part);
      const k = alone.findIndex((v, i) => !Object.is(v, whole[from * n + i]));
      if (k >= 0) throw new Error(`${isa} ${dtype} ${op}: element ${from * n + k} is ${whole[from * n + k]} in the whole, ${alone[k]} alone`);
    }
  });
});

describe('where, cast, fills, copies, arg-reductions and scans', () => {
  it('where broadcasts condition and both branches', () => {
    const c = tensor([1, 0, 1], [3], 'bool');
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], 'float32');
    const b = tensor([-1], [], 'float32');
    const [out] = native.runKernel('where', [c, a, b]);
    expect(out!.shape).toEqual([2, 3]);
    expect(Array.from(out!.read())).toEqual([1, -1, 3, 4, -1, 6]);
  });

  it('cast follows the js backend: bool is x != 0 (NaN is true), int32 truncates and wraps', () => {
    const x = tensor([1.7, -1.7, NaN, 0, -0, 2 ** 32 + 5, Infinity], [7], 'float64');
    expect(Array.from(native.runKernel('cast', [x], { dtype: 'bool' })[0]!.read())).toEqual([1, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(native.runKernel('cast', [x], { dtype: 'int32' })[0]!.read())).toEqual([1, -1, 0, 0, 0, 5, 0]);
    const f = native.runKernel('cast', [x], { dtype: 'float32' })[0]!;
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.read())).toEqual(Array.from(Float32Array.from(x.read())));
    expect(() => native.runKernel('cast', [x], { dtype: 'complex64' })).toThrowError(/cast: unknown dtype "complex64"/);
  });

  it('fullLike, identity and stopGradient', () => {
    const x = tensor([1, 2, 3, 4], [2, 2], 'int32');
    expect(Array.from(native.runKernel('fullLike', [x], { value: 7 })[0]!.read())).toEqual([7, 7, 7, 7]);
    const half = native.runKernel('fullLike', [x], { value: 0.5, dtype: 'float32' })[0]!;
    expect([half.dtype, ...half.read()]).toEqual(['float32', 0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(native.runKernel('fullLike', [x], { value: true, dtype: 'bool' })[0]!.read())).toEqual([1, 1, 1, 1]);
    for (const op of ['identity', 'stopGradient']) {
      const [y] = native.runKernel(op, [x]);
      expect([y!.shape, Array.from(y!.read())]).toEqual([[2, 2], [1, 2, 3, 4]]);
    }
  });

  it('argmax/argmin pick the first extreme, and a NaN outright', () => {
    const x = tensor([3, 9, 9, 1, NaN, 5, 2, 2, 0], [3, 3], 'float32');
    expect(Array.from(native.runKernel('argmax', [x], { axis: 1 })[0]!.read())).toEqual([1, 1, 0]);
    expect(Array.from(native.runKernel('argmin', [x], { axis: 1 })[0]!.read())).toEqual([0, 1, 2]);
    expect(Array.from(native.runKernel('argmax', [x], { axis: 0 })[0]!.read())).toEqual([0, 1, 0]);
    expect(Array.from(native.runKernel('argmin', [x], { axis: -2 })[0]!.read())).toEqual([1, 1, 2]);
    expect(() => native.runKernel('argmax', [tensor([], [0, 3], 'float32')], { axis: 0 }))
      .toThrowError(/argmax: cannot take argmax over an empty axis 0 of shape \(0, 3\)/);
  });

  it('cumsum/cumprod scan along any axis; bool scans count in int32', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], 'float64');
    expect(Array.from(native.runKernel('cumsum', [x], { axis: 1 })[0]!.read())).toEqual([1, 3, 6, 4, 9, 15]);
    expect(Array.from(native.runKernel('cumsum', [x], { axis: 0 })[0]!.read())).toEqual([1, 2, 3, 5, 7, 9]);
    expect(Array.from(native.runKernel('cumprod', [x], { axis: 1 })[0]!.read())).toEqual([1, 2, 6, 4, 20, 120]);
    const b = native.runKernel('cumsum', [tensor([1, 0, 1, 1], [4], 'bool')], { axis: 0 })[0]!;
    expect([b.dtype, ...b.read()]).toEqual(['int32', 1, 1, 2, 3]);
  });
});

describe('elementwise errors', () => {
  it('name the op, the dtypes and the shapes', () => {
    const f = tensor([1, 2, 3], [3], 'float32');
    const d = tensor([1, 2, 3], [3], 'float64');
    const g = tensor([1, 2, 3, 4], [4], 'float32');
    expect(() => native.runKernel('add', [f, d])).toThrowError(/add: operands must have one dtype, received float32 \(3,\) and float64 \(3,\)/);
    expect(() => native.runKernel('multiply', [f, g])).toThrowError(/multiply: incompatible shapes \(3,\) and \(4,\)/);
    expect(() => native.runKernel('exp', [tensor([1], [1], 'int32')])).toThrowError(/exp: expected a float tensor, received int32 \(1,\)/);
    expect(() => native.runKernel('sum', [f], { axes: [1] })).toThrowError(/sum: axis 1 is out of bounds for rank 1/);
    expect(() => native.runKernel('sum', [f], { axes: [0, -1] })).toThrowError(/sum: repeated axis -1/);
    expect(() => native.runKernel('add', [f])).toThrowError(/add: expected 2 inputs, received 1/);
  });
});

// The ops with exact vector forms (sign, floor, ceil, power(x, 2); the bool results computed in the element type)
// against the js backend on every ISA, over special values, at lengths that leave a scalar tail on every vector width,
// contiguous and broadcast; and bit for bit (NaN payloads and signs too) against the scalar path, which a lone element
// takes.
describe.each(isas)('exact vector forms on the %s path', (isa) => {
  const bits = (dtype: 'float32' | 'float64', list: number[]) => {
    // NaNs with a sign and a payload, written as bits (a JS number may lose both).
    const out = new ARRAY[dtype](list.length + 2);
    out.set(list);
    if (dtype === 'float32') new Uint32Array(out.buffer).set([0xffc00000, 0x7fc12345], list.length);
    else new BigUint64Array(out.buffer).set([0xfff8000000000000n, 0x7ff8000012345678n], list.length);
    return out;
  };
  const SPECIAL: Record<'float32' | 'float64', NativeTypedArray> = {
    float32: bits('float32', [NaN, 0, -0, Infinity, -Infinity, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 1, -1,
      0.3, -0.3, 0.7, -0.7, 2 ** 23 - 0.5, -(2 ** 23 - 0.5), 2 ** 23 - 1, 2 ** 23, -(2 ** 23), 2 ** 23 + 2, 2 ** 24 + 2, 1e30, -1e30,
      3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -1.401298464324817e-45, 1.1754943508222875e-38,
      -5e-39, 1e-22, -3e-23, 1e19, 1.8446742974197924e19]),
    float64: bits('float64', [NaN, 0, -0, Infinity, -Infinity, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994,
      -0.49999999999999994, 1, -1, 0.3, -0.3, 0.7, -0.7, 2 ** 52 - 0.5, -(2 ** 52 - 0.5), 2 ** 52 - 1, 2 ** 52, -(2 ** 52),
      2 ** 53 + 2, 2 ** 23 - 0.5, 1e300, -1e300, 1.7976931348623157e308, 5e-324, -5e-324, 2.2250738585072014e-308,
      -1e-310, 1e-160, -3e-170, 1e154, 1.3407807929942596e154, 1 + 2 ** -26, 1.0000000000000064, 46341.5]),
  };
  // Special values, then random ones over many magnitudes; 16 * 11 + 13 elements.
  const values = (dtype: 'float32' | 'float64', seed: number, n = 189) => {
    const r = randomArray(n, seed);
    const out = new ARRAY[dtype](n);
    for (let i = 0; i < n; i++) out[i] = (r[i]! - 0.5) * 10 ** ((i % 13) - 4);
    out.set(SPECIAL[dtype].subarray(0, Math.min(n, SPECIAL[dtype].length)));
    return out;
  };
  const input = (values: NativeTypedArray, shape: number[], dtype: NativeDType): Input => ({ values, shape, dtype });
  /** The op run on each element alone (the scalar path on every ISA) equals the op run over all of them, bit for bit. */
  const sameBitsAlone = (op: string, inputs: Input[], label: string) => {
    const run = (ins: Input[]) => {
      const handles = ins.map((t) => native.createTensor(t.values, t.shape, t.dtype));
      const [out] = native.runKernel(op, handles);
      const values = out!.read();
      [...handles, out!].forEach((t) => t.dispose());
      return values;
    };
    const whole = run(inputs);
    const bytes = whole.BYTES_PER_ELEMENT;
    const wholeBytes = new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
    for (let i = 0; i < whole.length; i++) {
      const alone = run(inputs.map((t) => input(t.values.slice(t.shape.length ? i : 0, (t.shape.length ? i : 0) + 1) as NativeTypedArray, [1], t.dtype)));
      const a = new Uint8Array(alone.buffer, alone.byteOffset, alone.byteLength);
      for (let k = 0; k < bytes; k++) {
        if (a[k] !== wholeBytes[i * bytes + k]) throw new Error(`${isa} ${op} ${label}: element ${i} (${inputs.map((t) => t.values[t.shape.length ? i : 0]).join(', ')}) is ${whole[i]} in a run, ${alone[0]} alone (bits differ)`);
      }
    }
  };

  it('sign, floor, ceil and the predicates match the js backend, and their scalar path bit for bit', () => {
    native.setIsa(isa);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of [189, 1, 3, 7, 17, 40]) {
        const x = input(values(dtype, 11, n), [n], dtype);
        for (const op of ['sign', 'floor', 'ceil', 'isnan', 'isinf', 'isfinite', 'negative', 'abs', 'square', 'relu']) {
          check(op, [x], {}, `${isa}`);
          if (n === 189) sameBitsAlone(op, [x], dtype);
        }
      }
    }
    // int32 negative, abs, sign and relu run in int32: -(-2^31) wraps to -2^31 as ToInt32 of 2^31 does.
    const ints = Int32Array.from(randomArray(189, 14), (v, i) => (i % 6 === 0 ? [2 ** 31 - 1, -(2 ** 31), 0, 1, -1, -(2 ** 31) + 1][(i / 6) % 6]! : Math.round((v - 0.5) * 2 ** (i % 32))));
    for (const n of [189, 1, 5, 9, 17]) {
      for (const op of ['negative', 'abs', 'sign', 'relu', 'square']) check(op, [input(ints.slice(0, n), [n], 'int32')], {}, isa);
    }
    for (const n of [1, 31, 100]) {
      const p = input(Uint8Array.from(randomArray(n, 12), (v) => (v > 0.5 ? 1 : 0)), [n], 'bool');
      check('logicalNot', [p], {}, isa);
    }
  });

  it('power with a broadcast exponent of 2 is x * x, as Math.pow gives', () => {
    native.setIsa(isa);
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const x = dtype === 'int32' ? input(Int32Array.of(0, 1, -1, 46340, -46341, 2 ** 31 - 1, -(2 ** 31), 94906267, 123456789), [9], dtype)
        : input(values(dtype, 13), [189], dtype);
      const n = x.values.length;
      const two = (shape: number[], count: number) => input(new ARRAY[dtype](count).fill(2), shape, dtype);
      for (const b of [two([], 1), two([1], 1), two([n], n)]) check('power', [x, b], {}, isa);
      if (dtype !== 'int32') sameBitsAlone('power', [x, two([], 1)], dtype);
    }
  });

  it('comparisons and logical ops match the js backend, contiguous and broadcast', () => {
    native.setIsa(isa);
    const ops = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'];
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const make = (seed: number, n: number) => {
        if (dtype === 'int32') return Int32Array.from(randomArray(n, seed), (v, i) => (i % 7 === 0 ? [2 ** 31 - 1, -(2 ** 31), 0][i % 3]! : Math.round((v - 0.5) * 8)));
        // Pairs of equal values and rounded ones, so equality and ties happen.
        const v = values(dtype, seed, n);
        return v.map((e, i) => (i % 5 === 0 ? Math.round(e) : e));
      };
      for (const [sa, sb] of [[[189], [189]], [[189], [1]], [[1], [189]], [[189], []], [[13, 1], [1, 17]], [[3, 17], [17]]]) {
        const a = input(make(21, size(sa!)), sa!, dtype), b = input(make(22, size(sb!)), sb!, dtype);
        if (size(sb!) === 1 && dtype !== 'int32') b.values[0] = 0;
        for (const op of ops) check(op, [a, b], {}, `${isa}`);
        if (size(sa!) === size(sb!)) {
          const c = input(a.values.slice().reverse() as NativeTypedArray, sa!, dtype);
          for (const op of ops) check(op, [a, c], {}, `${isa} reversed`);
          for (const op of ops) check(op, [a, a], {}, `${isa} same`);
        }
      }
      const a = input(make(23, 189), [189], dtype), b = input(make(24, 189), [189], dtype);
      for (const op of ops) sameBitsAlone(op, [a, b], dtype);
    }
    for (const [sa, sb] of [[[77], [77]], [[77], [1]], [[1], [77]], [[7, 1], [1, 11]]]) {
      const p = input(Uint8Array.from(randomArray(size(sa!), 25), (v) => (v > 0.5 ? 1 : 0)), sa!, 'bool');
      const q = input(Uint8Array.from(randomArray(size(sb!), 26), (v) => (v > 0.4 ? 1 : 0)), sb!, 'bool');
      for (const op of ['logicalAnd', 'logicalOr', 'logicalXor', 'equal', 'less', 'greaterEqual']) check(op, [p, q], {}, isa);
    }
  });
});
