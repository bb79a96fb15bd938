/**
 * Native CPU reductions (sum, mean, prod, max, min, any, all) on every instruction-set
 * path: accuracy of long sums against a compensated float64 reference, every layout
 * the driver distinguishes (all axes, trailing, leading and middle axes, several
 * unmergeable axes) against the js kernels, NaN and infinities, and results that do
 * not depend on the thread count. any/all of bool and sum/mean/max/min of int32 fold in
 * integer lanes (exact): they must give the js kernels' values, bit for bit.
 *
 * The accuracy bound. Every fold is a tree of double additions whose depth is at most
 * 128 for any element (reduction_kernels.h: a block of 4 chains x 16 steps is 18 deep,
 * pairwise block partials add at most log2 of the block count, a run's tail of fewer
 * than one block at most 63 vector steps and 7 scalar ones, the lanes 3, segment or
 * row-chunk partials log2 of their count; a column fold: 11 within a block of 64 rows (8 rows a step),
 * at most 64 blocks per chunk, then chunks pairwise; a column fold by quarters (rows of 32 to 4096
 * columns that follow each other): 2 within a step of four rows, 32 within a block of 32 steps, at
 * most 32 blocks per chunk of 4096 rows, 3 rows left over, then chunks pairwise). So |sum - exact| <= 128 u sum|x|
 * with u = 2^-53 (Higham, 4.3), plus the final rounding to the output type: half an
 * ulp of float32 (2^-24 |exact|), and for the float64 reference its own error (2u |exact|).
 *
 * argmax/argmin and cumsum/cumprod must give exactly the js kernels' results: the first
 * extreme wins ties (-0 and 0 tie), the first NaN wins outright; scans keep a double
 * running value per row or column in the js order, so every prefix rounds the same.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType, NativeTensor, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import { reductionKernels } from '../../lib/backends/js/reduction.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import type { Tensor } from '../../lib/tensor.js';
import { addon, randomArray } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
const defaultThreads = native.backendInfo().threads;
afterAll(() => {
  native.setIsa(defaultIsa);
  native.setNumThreads(0);
});

const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array } as const;
type Dtype = keyof typeof ARRAY;
const U = 2 ** -53;
const DEPTH = 128;

const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/** Runs a reduction natively and returns its values (handles disposed). */
function run(op: string, values: ArrayLike<number>, shape: number[], dtype: Dtype, axes?: number[]): number[] {
  const x = native.createTensor(ARRAY[dtype].from(values) as NativeTypedArray, shape, dtype as NativeDType);
  let out: NativeTensor | undefined;
  try {
    [out] = native.runKernel(op, [x], axes ? { axes } : {});
    return Array.from(out!.read());
  } finally {
    x.dispose();
    out?.dispose();
  }
}

/** The js backend's kernel (the reference semantics). */
function jsRun(op: string, values: ArrayLike<number>, shape: number[], dtype: Dtype, axes: number[]): number[] {
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const outDtype = op === 'any' || op === 'all' ? 'bool' : dtype;
  const input = { shape, dtype, storage: new JsStorage(ARRAY[dtype].from(values)) } as unknown as Tensor;
  const [storage] = reductionKernels[op]!([input], { axes, keepdims: false }, [{ shape: outShape, dtype: outDtype }]) as JsStorage[];
  return Array.from(storage!.data);
}

/** Neumaier's compensated sum and sum|x| of the elements at `offsets`: the exact sum to about u. */
function exactSum(values: ArrayLike<number>, offsets: Iterable<number>): { sum: number; magnitude: number } {
  let sum = 0, compensation = 0, magnitude = 0;
  for (const i of offsets) {
    const v = values[i]!;
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
    magnitude += Math.abs(v);
  }
  return { sum: sum + compensation, magnitude };
}

function* range(start: number, count: number, stride: number): Generator<number> {
  for (let k = 0; k < count; k++) yield start + k * stride;
}

/** Checks got against the exact sums within the derived bound; names the first output that misses. */
function expectAccurate(label: string, got: number[], exact: { sum: number; magnitude: number }[], dtype: Dtype): void {
  expect(got.length, label).toBe(exact.length);
  exact.forEach(({ sum, magnitude }, i) => {
    const rounding = dtype === 'float32' ? 2 ** -24 * Math.abs(sum) : 2 * U * Math.abs(sum);
    const bound = DEPTH * U * magnitude + rounding;
    const error = Math.abs(got[i]! - sum);
    if (!(error <= bound)) throw new Error(`${label}: output ${i} is ${got[i]}, exact ${sum}: error ${error} > bound ${bound}`);
  });
}

/**
 * Values in [1, 5/3) with full 53-bit significands (the division by 3): the partial sums
 * grow with n, so a sequential sum's error (about sqrt(n) u n; 9e-8 for the first test's
 * data) is past the bound (2e-8), which a tree of depth <= 128 keeps.
 */
function positive(n: number, seed: number): Float64Array {
  return randomArray(n, seed).map((v) => 1 + (v + 1) / 3);
}

/** Identical element by element (NaN equal to NaN); -0 and 0 count as equal, as in the parity suite. */
function expectSameValues(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (!(g === w || (Number.isNaN(g) && Number.isNaN(w)))) throw new Error(`${label}: output ${i} is ${g}, js gives ${w}`);
  }
}

/** Within rtol of the js kernel, which folds sequentially in double. */
function expectClose(label: string, got: number[], want: number[], rtol: number): void {
  expect(got.length, label).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i]!;
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) return;
    if (!(Math.abs(g - w) <= rtol * Math.abs(w))) throw new Error(`${label}: output ${i} is ${g}, js gives ${w}`);
  });
}


/** An axis op (argmax, argmin, cumsum, cumprod) natively, and its values. */
function runAxis(op: string, values: ArrayLike<number>, shape: number[], dtype: Dtype, axis: number): ArrayLike<number> {
  const x = native.createTensor(new ARRAY[dtype](values as ArrayLike<number> & number[]) as NativeTypedArray, shape, dtype as NativeDType);
  let out: NativeTensor | undefined;
  try {
    [out] = native.runKernel(op, [x], { axis });
    return out!.read(); // typed: Array.from costs about a microsecond an element here
  } finally {
    x.dispose();
    out?.dispose();
  }
}

/** The js kernel of an axis op (axis non-negative). */
function jsAxis(op: string, values: ArrayLike<number>, shape: number[], dtype: Dtype, axis: number): ArrayLike<number> {
  const arg = op === 'argmax' || op === 'argmin';
  const outShape = arg ? shape.filter((_, d) => d !== axis) : shape;
  const outDtype = arg || dtype === 'bool' ? 'int32' : dtype;
  const input = { shape, dtype, storage: new JsStorage(new ARRAY[dtype](values as ArrayLike<number> & number[])) } as unknown as Tensor;
  const [storage] = reductionKernels[op]!([input], { axis }, [{ shape: outShape, dtype: outDtype }]) as JsStorage[];
  return storage!.data;
}

/**
 * Values of a few levels (many ties), with -0 and 0 side by side, infinities, and NaN at
 * `nanEvery`-th positions (0: none).
 */
function tiedValues(n: number, seed: number, nanEvery: number): Float64Array {
  return randomArray(n, seed).map((v, i) => {
    if (nanEvery && i % nanEvery === nanEvery - 1) return NaN;
    if (i % 101 === 50) return i % 2 ? Infinity : -Infinity;
    const level = Math.round(v * 3);
    return level === 0 ? (i % 2 ? -0 : 0) : level;
  });
}

/** js results of the large scans, computed once for every path. */
const largeScans = new Map<string, { values: NativeTypedArray; want: ArrayLike<number> }>();

describe.each(isas)('reductions on the %s path', (isa) => {
  it('sums over all axes of 2^20 + 4099 elements within 128 u sum|x| of the exact sum (float64 and float32)', () => {
    native.setIsa(isa);
    const n = 2 ** 20 + 4099; // several segments, and a tail shorter than a block and a vector
    const values = positive(n, 1);
    expectAccurate('float64 sum', run('sum', values, [n], 'float64'), [exactSum(values, range(0, n, 1))], 'float64');
    const floats = Float32Array.from(values);
    expectAccurate('float32 sum', run('sum', floats, [n], 'float32'), [exactSum(floats, range(0, n, 1))], 'float32');
    const exact = exactSum(values, range(0, n, 1));
    expectAccurate('float64 mean', run('mean', values, [n], 'float64'), [{ sum: exact.sum / n, magnitude: exact.magnitude / n }], 'float64');
  });

  it('sums over a leading axis (tall, wide and middle axes) within the bound', () => {
    native.setIsa(isa);
    // Tall and narrow: many row chunks of one column block, columns not a vector multiple.
    const [rows, cols] = [65539, 17];
    const tall = positive(rows * cols, 2);
    expectAccurate('sum over axis 0 of [65539, 17]', run('sum', tall, [rows, cols], 'float64', [0]),
      Array.from({ length: cols }, (_, j) => exactSum(tall, range(j, rows, cols))), 'float64');
    // Wider than one column block (4096 accumulators).
    const [r2, c2] = [300, 5000];
    const wide = Float32Array.from(positive(r2 * c2, 3));
    expectAccurate('float32 sum over axis 0 of [300, 5000]', run('sum', wide, [r2, c2], 'float32', [0]),
      Array.from({ length: c2 }, (_, j) => exactSum(wide, range(j, r2, c2))), 'float32');
    // Rows of 32 to 4096 columns are folded by quarters: five chunks of 4003 rows (quarters of
    // 1000 rows, the deepest: 32 blocks each, and 3 rows left over), columns not a vector multiple.
    const [r3, c3] = [20011, 100];
    const byQuarters = Float32Array.from(positive(r3 * c3, 6));
    expectAccurate('float32 sum over axis 0 of [20011, 100]', run('sum', byQuarters, [r3, c3], 'float32', [0]),
      Array.from({ length: c3 }, (_, j) => exactSum(byQuarters, range(j, r3, c3))), 'float32');
    // A middle axis: outputs of both outer and inner kept dims.
    const [a, b, c] = [3, 5000, 70];
    const middle = positive(a * b * c, 4);
    const exact = [];
    for (let i = 0; i < a; i++) for (let k = 0; k < c; k++) exact.push(exactSum(middle, range(i * b * c + k, b, c)));
    expectAccurate('sum over axis 1 of [3, 5000, 70]', run('sum', middle, [a, b, c], 'float64', [1]), exact, 'float64');
    // Trailing axis, rows longer than one segment (65536).
    const [r4, c4] = [3, 70001];
    const longRows = positive(r4 * c4, 5);
    expectAccurate('sum over axis 1 of [3, 70001]', run('sum', longRows, [r4, c4], 'float64', [1]),
      Array.from({ length: r4 }, (_, i) => exactSum(longRows, range(i * c4, c4, 1))), 'float64');
  });

  it('every reduction matches the js kernels on every layout the driver distinguishes', () => {
    native.setIsa(isa);
    const cases: [number[], number[]][] = [
      [[70000], [0]], // one run cut into segments
      [[257, 300], [1]], // trailing axis
      [[20000, 5], [1]], // many short runs, folded as columns
      [[1000, 17], [1]], // runs of two vectors and a scalar tail, folded in batches of outputs
      [[7, 300, 8], [2]], // the same, kept dims merged
      [[301, 257], [0]], // leading axis, 32 to 4096 columns: folded by quarters, one row left over
      [[303, 37], [0]], // the same, three rows left over and a scalar column tail
      [[3, 40], [0]], // the same, fewer rows than quarters
      [[20, 4200], [0]], // leading axis, column blocks narrower than the input: 8 rows a step
      [[300, 17], [0]], // leading axis, fewer than 32 columns: 8 rows a step
      [[5, 7, 9, 11], [0, 2]], // kept innermost dim, two reduced dims
      [[5, 7, 9, 11], [1, 3]], // reduced innermost dim, two reduced dims
      [[4, 1, 33], [1]], // only size-1 dims reduced
      [[3, 1, 5], [0, 1]],
      [[1, 1], [0, 1]],
      [[6], [0]],
    ];
    const ops = ['sum', 'mean', 'prod', 'max', 'min', 'any', 'all'];
    for (const [shape, axes] of cases) {
      const n = size(shape);
      // Near 1 so long products stay finite; a few exact zeros for any/all.
      const values = randomArray(n, n).map((v, i) => (i % 997 === 5 ? 0 : 1 + v / 64));
      for (const dtype of ['float32', 'float64', 'int32', 'bool'] as Dtype[]) {
        const typed = dtype === 'int32' ? values.map((v, i) => Math.round(v * 1000) - 1000 + (i % 7)) : dtype === 'bool' ? values.map((v) => (v > 1 ? 1 : 0)) : values;
        for (const op of ops) {
          if ((dtype === 'bool') !== (op === 'any' || op === 'all')) continue; // any/all take bool only
          // int32 products pass 2^53 within a few dozen elements, and the int32 wrap of an
          // inexact double depends on the order of the multiplications.
          if (dtype === 'int32' && op === 'prod' && n > 6) continue;
          const label = `${op} ${dtype} [${shape}] axes [${axes}]`;
          const got = run(op, typed, shape, dtype, axes);
          const want = jsRun(op, ARRAY[dtype].from(typed), shape, dtype, axes);
          const exact = op === 'max' || op === 'min' || op === 'any' || op === 'all' || dtype === 'int32' || dtype === 'bool';
          if (exact) expectSameValues(label, got, want);
          // Both fold in double, in other orders: float32 results may round one ulp apart.
          else expectClose(label, got, want, dtype === 'float32' ? 2.4e-7 : 1e-12);
        }
      }
    }
  });

  it('NaN anywhere gives NaN, infinities fold as in js, any/all see a single element', () => {
    native.setIsa(isa);
    const n = 200003;
    for (const dtype of ['float32', 'float64'] as Dtype[]) {
      for (const at of [0, 77777, n - 1]) {
        const values = positive(n, at);
        values[at] = NaN;
        for (const op of ['sum', 'max', 'min', 'prod', 'mean']) {
          expect(run(op, values, [n], dtype)[0], `${op} ${dtype} with NaN at ${at}`).toBeNaN();
        }
      }
      // Over axis 0 by quarters: NaN in a quarter's row and in the last row (left over).
      const [rows, cols] = [403, 70];
      const grid = positive(rows * cols, 10);
      grid[150 * cols + 9] = NaN;
      grid[402 * cols + 5] = NaN;
      for (const op of ['sum', 'max', 'min', 'prod', 'mean']) {
        const nans = run(op, grid, [rows, cols], dtype, [0]).map((v) => Number.isNaN(v));
        expect(nans, `${op} ${dtype} over axis 0 with NaN in columns 5 and 9`).toEqual(nans.map((_, j) => j === 5 || j === 9));
      }
      const values = positive(n, 9);
      values[12345] = Infinity;
      values[150000] = -Infinity;
      expect(run('sum', values, [n], dtype)[0], `inf + -inf (${dtype})`).toBeNaN();
      expect(run('max', values, [n], dtype), `max with inf (${dtype})`).toEqual([Infinity]);
      expect(run('min', values, [n], dtype), `min with -inf (${dtype})`).toEqual([-Infinity]);
    }
    const ones = new Uint8Array(n).fill(1);
    expect(run('all', ones, [n], 'bool'), 'all of ones').toEqual([1]);
    ones[199999] = 0;
    expect(run('all', ones, [n], 'bool'), 'all with one zero').toEqual([0]);
    const zeros = new Uint8Array(n);
    expect(run('any', zeros, [n], 'bool'), 'any of zeros').toEqual([0]);
    zeros[3] = 1;
    expect(run('any', zeros, [n], 'bool'), 'any with one one').toEqual([1]);
  });

  it('bool any/all and int32 sum/mean/max/min (integer lanes) match js on every layout, tails, lone values, 1 and 2 threads', () => {
    native.setIsa(isa);
    // Sizes around the lane counts (16-64 bytes a vector, 2-4 chains), segments (65536),
    // whole rows of 32-4096 columns, column blocks (1024), row blocks of sums (64), size 0/1 dims.
    const cases: [number[], number[] | undefined][] = [
      [[1], undefined], [[15], undefined], [[16], undefined], [[17], undefined], [[63], undefined], [[64], undefined],
      [[65], undefined], [[255], undefined], [[257], undefined], [[1023], undefined], [[70001], undefined],
      [[37, 513], [1]], [[37, 513], [0]], [[130, 37], [0]], [[5, 70], [0]], [[65, 4096], [0]], [[20, 4200], [0]],
      [[300, 17], [0]], [[2000, 5], [1]], [[7, 9, 130], [1]], [[7, 130, 9], [1]], [[5, 7, 9, 11], [0, 2]],
      [[5, 7, 9, 11], [1, 3]], [[3, 1, 70], [1]], [[1, 1], undefined], [[3, 70001], [1]], [[600, 1030], [0]],
      [[600, 1030], [1]], [[4, 600, 70], [1]], [[0, 5], [0]], [[5, 0], [1]], [[0, 5], undefined],
      [[3, 2, 600001], [0, 2]], // runs not merged, longer than an int32 sum's segment of 2^15 steps a lane
      // Long runs whose segments (65536) the threads claim 8 of bool (512 KiB) at a time: claims
      // that cross from one output's segments to the next, and short last segments.
      [[3, 600001], [1]], [[1200007], undefined],
    ];
    const runKeep = (op: string, values: ArrayLike<number>, shape: number[], dtype: Dtype, axes: number[] | undefined, keepdims: boolean) => {
      const x = native.createTensor(ARRAY[dtype].from(values) as NativeTypedArray, shape, dtype as NativeDType);
      let out: NativeTensor | undefined;
      try {
        [out] = native.runKernel(op, [x], { ...(axes ? { axes } : {}), keepdims });
        return { values: Array.from(out!.read()), shape: out!.shape };
      } finally {
        x.dispose();
        out?.dispose();
      }
    };
    for (const [shape, axesOrAll] of cases) {
      const n = size(shape);
      const axes = axesOrAll ?? shape.map((_, d) => d);
      const reduced = axes.reduce((m, d) => m * shape[d]!, 1);
      const r = randomArray(n, n + 3);
      // Bool bytes other than 1 count as true (js: truthy). Lone zeros among ones (all) and
      // lone ones among zeros (any), about one per output, so outputs of both kinds occur.
      const rare = (v: number) => (v + 1) / 2 < 0.7 / Math.max(1, reduced);
      const mostlyOnes = r.map((v, i) => (rare(v) ? 0 : i % 5 === 1 ? 2 : i % 11 === 3 ? 255 : 1));
      const mostlyZeros = r.map((v, i) => (rare(v) ? (i % 3 ? 1 : 128) : 0));
      // Full-range int32 (sums of these stay exact in double below 2^53).
      const ints = r.map((v, i) => (i % 13 === 0 ? (i % 2 ? -2147483648 : 2147483647) : Math.floor(v * 2147483647)));
      const runs: [string, Dtype, ArrayLike<number>][] = [
        ['all', 'bool', mostlyOnes], ['any', 'bool', mostlyOnes], ['all', 'bool', mostlyZeros], ['any', 'bool', mostlyZeros],
        ['sum', 'int32', ints], ['mean', 'int32', ints], ['max', 'int32', ints], ['min', 'int32', ints],
      ];
      for (const [op, dtype, values] of runs) {
        const want = jsRun(op, ARRAY[dtype].from(values), shape, dtype, axes);
        for (const threads of n > 100000 ? [1, 2] : [defaultThreads]) {
          native.setNumThreads(threads);
          for (const keepdims of [false, true]) {
            const label = `${op} ${dtype} [${shape}] axes ${axesOrAll ? `[${axes}]` : 'all'} keepdims ${keepdims}, ${threads} threads`;
            const got = runKeep(op, values, shape, dtype, axesOrAll, keepdims);
            expect(got.shape, label).toEqual(shape.map((s, d) => (axes.includes(d) ? 1 : s)).filter((_, d) => keepdims || !axes.includes(d)));
            expectSameValues(label, got.values, want);
          }
        }
        native.setNumThreads(defaultThreads);
      }
    }
  });

  it('gives the same bits on 1 and 2 threads (work is split by size, not by thread count)', () => {
    native.setIsa(isa);
    const shape = [2048, 1030];
    const values = randomArray(size(shape), 11);
    const layouts: (number[] | undefined)[] = [undefined, [0], [1]];
    const rowsOf20 = [size(shape) / 20, 20]; // many short runs, folded in batches of outputs
    const rowsOf40 = [size(shape) / 40, 40]; // over axis 0: rows folded in memory order, many chunks
    const results = [1, 2].map((threads) => {
      native.setNumThreads(threads);
      return [
        ...layouts.map((axes) => run('sum', values, shape, 'float32', axes)),
        run('sum', values, rowsOf20, 'float32', [1]),
        run('sum', values, rowsOf40, 'float32', [0]),
      ];
    });
    native.setNumThreads(defaultThreads);
    layouts.forEach((axes, i) => expect(results[0]![i], `sum over ${axes ?? 'all'} axes`).toEqual(results[1]![i]));
    expect(results[0]![layouts.length], `sum over axis 1 of [${rowsOf20}]`).toEqual(results[1]![layouts.length]);
    expect(results[0]![layouts.length + 1], `sum over axis 0 of [${rowsOf40}]`).toEqual(results[1]![layouts.length + 1]);
  });

  it('argmax/argmin match the js kernels on every axis (ties, -0 and 0, infinities, NaN first and later)', () => {
    native.setIsa(isa);
    const shapes = [[1], [7], [37], [100, 33], [33, 100], [3, 1, 40], [5, 7, 9, 11], [2, 3, 70, 65], [1, 1], [0, 5], [4, 0, 3], [17, 1]];
    for (const shape of shapes) {
      const n = size(shape);
      for (const nanEvery of [0, 29, 3]) {
        const values = tiedValues(n, n + nanEvery, nanEvery);
        // A NaN first in some runs: the js step never replaces it.
        if (n > 0 && nanEvery) values[0] = NaN;
        for (const dtype of ['float32', 'float64', 'int32', 'bool'] as Dtype[]) {
          if (nanEvery && (dtype === 'int32' || dtype === 'bool')) continue;
          const typed = dtype === 'int32' ? values.map((v) => (Number.isFinite(v) ? v : v > 0 ? 2 ** 31 - 1 : -(2 ** 31)))
            : dtype === 'bool' ? values.map((v) => (v > 0 ? 1 : 0)) : values;
          for (let axis = 0; axis < shape.length; axis++) {
            if (shape[axis] === 0) continue; // an empty axis is an error
            for (const op of ['argmax', 'argmin']) {
              const label = `${op} ${dtype} [${shape}] axis ${axis} nan every ${nanEvery}`;
              expect(Array.from(runAxis(op, typed, shape, dtype, axis)), label).toEqual(Array.from(jsAxis(op, typed, shape, dtype, axis)));
            }
          }
        }
      }
    }
    // -0 and 0 tie: the first wins, whichever its sign; along rows and down columns.
    for (const dtype of ['float32', 'float64'] as Dtype[]) {
      for (const pair of [[-0, 0], [0, -0]]) {
        const row = Array.from({ length: 40 }, (_, i) => (i === 21 ? pair[0]! : i === 33 ? pair[1]! : -1 - i));
        expect(Array.from(runAxis('argmax', row, [40], dtype, 0)), `argmax ${dtype} of ${pair}`).toEqual([21]);
        expect(Array.from(runAxis('argmax', row, [40, 1], dtype, 0)), `argmax ${dtype} of ${pair} down a column`).toEqual([21]);
        const columns = [...row, ...row.map((v) => -v)];
        expect(Array.from(runAxis('argmax', columns, [2, 40], dtype, 1)), `argmax ${dtype} rows`).toEqual([21, 39]);
        expect(Array.from(runAxis('argmin', columns.map((v) => -v), [2, 40], dtype, 1)), `argmin ${dtype} rows`).toEqual([21, 39]);
      }
    }
  });

  it('argmax/argmin by extremes then indices match js: picks in every block and group, ties across them, NaN after the pick, infinities of both signs', () => {
    // Runs are folded in blocks of 256 (the pick is found again in its block) and columns in
    // groups of 8 rows (only groups that change a pick take the js step): patterns that put
    // the pick, a later tie, a NaN or the overlapping tail at those edges.
    native.setIsa(isa);
    const patterns: [string, (n: number) => number[]][] = [];
    for (const at of [0, 7, 8, 255, 256, 257, 511, -2, -1]) {
      const pick = (n: number) => (at < 0 ? n + at : Math.min(at, n - 1));
      patterns.push([`9 at ${at}`, (n) => Array.from({ length: n }, (_, i) => (i === pick(n) ? 9 : (i * 37) % 8))]);
      patterns.push([`9 at ${at}, tied later`, (n) => Array.from({ length: n }, (_, i) => (i === pick(n) || i === n - 1 ? 9 : (i * 37) % 8))]);
      patterns.push([`9 at ${at}, NaN last`, (n) => Array.from({ length: n }, (_, i) => (i === n - 1 && pick(n) !== n - 1 ? NaN : i === pick(n) ? 9 : (i * 37) % 8))]);
      patterns.push([`NaN at ${at}, 9 first`, (n) => Array.from({ length: n }, (_, i) => (i === pick(n) ? NaN : i === 0 ? 9 : (i * 37) % 8))]);
    }
    // Both infinities in one run: the lanes' sums are NaN without a NaN (a block read again, no pick change).
    patterns.push(['inf and -inf', (n) => Array.from({ length: n }, (_, i) => (i % 16 === 3 ? Infinity : i % 16 === 5 ? -Infinity : i % 7))]);
    patterns.push(['sums past float32', (n) => Array.from({ length: n }, (_, i) => (i % 3 ? 3e38 : -3e38) + (i === 300 ? 1e32 : 0))]);
    patterns.push(['all -inf', (n) => new Array<number>(n).fill(-Infinity)]);
    patterns.push(['all inf', (n) => new Array<number>(n).fill(Infinity)]);
    patterns.push(['all equal', (n) => new Array<number>(n).fill(2)]);
    patterns.push(['ascending', (n) => Array.from({ length: n }, (_, i) => i)]);
    patterns.push(['descending', (n) => Array.from({ length: n }, (_, i) => -i)]);
    const columns = 35;
    for (const n of [9, 17, 256, 257, 1037]) {
      for (const [name, pattern] of patterns) {
        const run = pattern(n);
        // Column c is the run turned by 7c places: picks fall in every group and in the tail rows.
        const down = new Float64Array(n * columns), along = new Float64Array(n * columns);
        for (let c = 0; c < columns; c++) {
          for (let i = 0; i < n; i++) down[i * columns + c] = along[c * n + i] = run[(i + 7 * c) % n]!;
        }
        for (const dtype of ['float32', 'float64', 'int32'] as Dtype[]) {
          const typed = (data: Float64Array) =>
            dtype === 'int32' ? data.map((v) => (Number.isNaN(v) ? 0 : Number.isFinite(v) ? Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v)) : v > 0 ? 2 ** 31 - 1 : -(2 ** 31))) : data;
          for (const op of ['argmax', 'argmin']) {
            const label = `${op} ${dtype} ${name}, n ${n}`;
            const flip = (data: Float64Array) => (op === 'argmin' ? typed(data).map((v) => -v) : typed(data));
            expect(Array.from(runAxis(op, flip(Float64Array.from(run)), [n], dtype, 0)), `${label}, one run`).toEqual(Array.from(jsAxis(op, flip(Float64Array.from(run)), [n], dtype, 0)));
            expect(Array.from(runAxis(op, flip(along), [columns, n], dtype, 1)), `${label}, rows`).toEqual(Array.from(jsAxis(op, flip(along), [columns, n], dtype, 1)));
            expect(Array.from(runAxis(op, flip(down), [n, columns], dtype, 0)), `${label}, columns`).toEqual(Array.from(jsAxis(op, flip(down), [n, columns], dtype, 0)));
          }
        }
      }
    }
  });

  it('argmax/argmin of large inputs (threads, segments of one long run) match js on 1 and 2 threads', () => {
    native.setIsa(isa);
    const cases: [number[], number][] = [[[3, 200003], 1], [[200003], 0], [[600, 1030], 0], [[600, 1030], 1], [[4, 600, 70], 1], [[70, 3000], 0]];
    const runs: { label: string; run: () => ArrayLike<number>; want: ArrayLike<number> }[] = [];
    for (const [shape, axis] of cases) {
      const n = size(shape);
      const values = tiedValues(n, 13, 0).map((v, i) => v + (i % 1000) / 4096);
      values[n - 5] = 9; // the extreme late, in the last segment
      values[n - 3] = 9;
      const withNaN = Float64Array.from(values);
      withNaN[Math.floor(n / 2)] = NaN;
      withNaN[n - 7] = NaN;
      for (const [label, data] of [['', values], [' with NaN', withNaN]] as const) {
        for (const op of ['argmax', 'argmin']) {
          runs.push({ label: `${op} [${shape}] axis ${axis}${label}`, run: () => runAxis(op, data, shape, 'float32', axis), want: jsAxis(op, data, shape, 'float32', axis) });
        }
      }
    }
    for (const threads of [1, 2]) {
      native.setNumThreads(threads);
      for (const { label, run, want } of runs) expect(Array.from(run()), `${label}, ${threads} threads`).toEqual(Array.from(want));
    }
    native.setNumThreads(defaultThreads);
  });

  it('argmax/argmin over leading axes by row chunks and quarters: picks, ties and NaN across chunks match js on 1 and 2 threads', () => {
    // Rows of 32-4096 columns that follow each other are cut into chunks of 2^20 elements
    // (here 1024 rows, the last one 3 rows), each picked four rows a step from its quarters
    // (256 rows), and the chunks' picks merged: the pick in each chunk, ties across chunks
    // and across quarters (visited later, with the smaller row), NaN in a later chunk only.
    native.setIsa(isa);
    const rows = 2051, columns = 1024, n = rows * columns;
    const special: ((r: number) => number | undefined)[] = [
      (r) => (r === 5 || r === 1500 ? 9 : undefined), // pick in chunk 0, tied in chunk 1
      (r) => (r === 1100 ? 9 : undefined), // pick in chunk 1 only
      (r) => (r === 2049 ? 9 : r === 2050 ? 9 : undefined), // pick in the last, short chunk
      (r) => (r === 3 ? 9 : r === 1030 ? NaN : undefined), // NaN in the later chunk only
      (r) => (r === 900 || r === 1025 ? NaN : r === 0 ? 9 : undefined), // NaN in both chunks
      (r) => (r === 10 || r === 266 || r === 1800 ? 9 : undefined), // ties in one step of the quarters
      (r) => (r === 1000 || r === 250 ? 9 : undefined), // the tie visited later has the smaller row
      (r) => (r === 1300 ? -0 : r === 1100 ? 0 : r === 2050 ? 0 : undefined), // -0 and 0 tie, every other row below
    ];
    const values = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) values[r * columns + c] = special[c % 8]!(r) ?? ((r * 37 + c) % 8) - 4 - (c % 8 === 7 ? 4 : 0);
    }
    const runs: { label: string; run: () => ArrayLike<number>; want: ArrayLike<number> }[] = [];
    for (const dtype of ['float32', 'float64', 'int32'] as Dtype[]) {
      for (const op of ['argmax', 'argmin']) {
        const data = values.map((v) => (op === 'argmin' ? -v : v)).map((v) => (dtype === 'int32' && Number.isNaN(v) ? 0 : v));
        runs.push({ label: `${op} ${dtype} [${rows}, ${columns}] axis 0`, run: () => runAxis(op, data, [rows, columns], dtype, 0), want: jsAxis(op, data, [rows, columns], dtype, 0) });
      }
    }
    const argmax32 = runs[0]!.want;
    expect(Array.from(argmax32.slice(0, 8)), 'the cases pick their intended rows').toEqual([5, 1100, 2049, 1030, 900, 10, 250, 1100]);
    for (const threads of [1, 2]) {
      native.setNumThreads(threads);
      for (const { label, run, want } of runs) expect(Array.from(run()), `${label}, ${threads} threads`).toEqual(Array.from(want));
    }
    native.setNumThreads(defaultThreads);
  });

  it('cumsum/cumprod give the js kernels\' values on every axis, and the same on 1 and 2 threads', () => {
    native.setIsa(isa);
    // Rows along the last axis go 16 at a time: a group's whole register tiles (avx512: 16
    // float or 8 double columns; a partial group's missing rows scan zeros), then 64-column
    // chunks through scratch; groups of one or two rows in scalar code. Whole groups and chunks
    // ([32, 64]), one row and one column past them ([65, 129]: the running sums carried from
    // the tiles to the scratch), partial groups of 4 and 11 rows ([100, 33], [5, 7, 9, 11]),
    // one-element rows ([70, 1]).
    const shapes = [[1], [37], [100, 33], [33, 100], [3, 1, 40], [5, 7, 9, 11], [9, 2, 70], [0, 5], [17, 1], [20, 2000], [2000, 20],
      [32, 64], [65, 129], [70, 1]];
    const runs: { label: string; run: () => ArrayLike<number>; want: ArrayLike<number> }[] = [];
    for (const shape of shapes) {
      const n = size(shape);
      // Near 1 so products stay finite over 2000 steps; a NaN and an infinity in float cases.
      const values = randomArray(n, n + 1).map((v, i) => (i === 77 ? NaN : i === 150 ? Infinity : 1 + v / 1024));
      for (const dtype of ['float32', 'float64', 'int32', 'bool'] as Dtype[]) {
        const typed = dtype === 'int32' ? values.map((v, i) => (i % 5) - 2) : dtype === 'bool' ? values.map((_, i) => i % 3 ? 1 : 0) : values;
        for (let axis = 0; axis < shape.length; axis++) {
          for (const op of ['cumsum', 'cumprod']) {
            runs.push({ label: `${op} ${dtype} [${shape}] axis ${axis}`, run: () => runAxis(op, typed, shape, dtype, axis), want: jsAxis(op, typed, shape, dtype, axis) });
          }
        }
      }
    }
    for (const threads of [1, 2]) {
      native.setNumThreads(threads);
      for (const { label, run, want } of runs) expectSameValues(`${label}, ${threads} threads`, run(), want);
    }
    native.setNumThreads(defaultThreads);
  });

  it('cumsum/cumprod outputs past the last-level cache (streaming stores, rows aligned to lines or not) match js', () => {
    native.setIsa(isa);
    const l3 = native.backendInfo().cpu.l3Bytes;
    // 2050 columns: each row's first vector-aligned element differs (rows staged, then
    // streamed); 2048 and 1032 (float64): rows of whole lines, streamed straight from the
    // transposed tiles, with a group of rows past the last whole tile.
    const cases = [['float32', 'cumsum', 0, 2050], ['float32', 'cumprod', 1, 2050], ['float64', 'cumsum', 0, 2050],
      ['float32', 'cumsum', 1, 2048], ['float64', 'cumprod', 1, 1032]] as const;
    for (const [dtype, op, axis, cols] of cases) {
      const rows = Math.ceil(l3 / ARRAY[dtype].BYTES_PER_ELEMENT / cols) + 3;
      const key = `${op} ${dtype} [${rows}, ${cols}] axis ${axis}`;
      // Built once for every path (typed arrays throughout: 2M+ elements).
      if (!largeScans.has(key)) {
        const values = new ARRAY[dtype](rows * cols);
        const random = randomArray(rows * cols, 21);
        for (let i = 0; i < values.length; i++) values[i] = 1 + random[i]! / 4096;
        const input = { shape: [rows, cols], dtype, storage: new JsStorage(values) } as unknown as Tensor;
        const [want] = reductionKernels[op]!([input], { axis }, [{ shape: [rows, cols], dtype }]) as JsStorage[];
        largeScans.set(key, { values, want: want!.data });
      }
      const { values, want } = largeScans.get(key)!;
      const x = native.createTensor(values as NativeTypedArray, [rows, cols], dtype as NativeDType);
      const [out] = native.runKernel(op, [x], { axis });
      const got = out!.read();
      x.dispose();
      out!.dispose();
      let first = -1;
      for (let i = 0; i < want.length && first < 0; i++) if (got[i] !== want[i]) first = i;
      expect(first, `${key}: first output that differs from js`).toBe(-1);
    }
  });
});

/**
 * moments (mean and population variance in one pass) and logsumexp over one axis.
 *
 * Reference: float64 over the input's values, the mean from a compensated sum and the
 * variance as the compensated sum of squared deviations from it (two passes). float32
 * results must be within 1 float32 ulp (2^-23 relative) of it: the kernels compute in
 * double, so only the final rounding shows. float64 within 2^-36 relative: the means are
 * double sums (trees of depth ~150 at most: 128 steps a lane within a chunk, then chunks),
 * off by ~1e-12 at 1e4, and Chan's formula squares the difference of two such means
 * (measured: 1.0e-12 relative on [3, 40, 21] axis 1).
 * The data sit at 1e4 + [-1.7, 1.7): E[x^2] - E[x]^2 would lose every digit of the
 * variance there (in float32) or 8 of them (in float64); the chunked two-pass does not.
 */
function referenceMoments(values: ArrayLike<number>, shape: number[], axes: number[]): { mean: number[]; variance: number[] } {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const offsetsOf = (dims: number[]) => {
    let offsets = [0];
    for (const d of dims) offsets = offsets.flatMap((o) => Array.from({ length: shape[d]! }, (_, i) => o + i * strides[d]!));
    return offsets;
  };
  const reduced = offsetsOf(axes);
  const mean: number[] = [], variance: number[] = [];
  for (const base of offsetsOf(kept)) {
    const m = exactSum(values, reduced.map((o) => base + o)).sum / reduced.length;
    const squares = reduced.map((o) => (values[base + o]! - m) ** 2);
    mean.push(m);
    variance.push(exactSum(squares, squares.keys()).sum / reduced.length);
  }
  return { mean, variance };
}

function runMoments(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'float64', axes: number[]): [number[], number[]] {
  const x = native.createTensor(ARRAY[dtype].from(values) as NativeTypedArray, shape, dtype);
  const [m, v] = native.runKernel('moments', [x], { axes, keepdims: false });
  const out: [number[], number[]] = [Array.from(m!.read()), Array.from(v!.read())];
  x.dispose();
  m!.dispose();
  v!.dispose();
  return out;
}

function runLogsumexp(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'float64', axis: number): number[] {
  const x = native.createTensor(ARRAY[dtype].from(values) as NativeTypedArray, shape, dtype);
  const [y] = native.runKernel('logsumexp', [x], { axis });
  const out = Array.from(y!.read());
  x.dispose();
  y!.dispose();
  return out;
}

/** The js kernel of logsumexp in float64 over the (already rounded) values. */
function jsLogsumexp(values: ArrayLike<number>, shape: number[], axis: number): Float64Array {
  const input = { shape, dtype: 'float64', storage: new JsStorage(Float64Array.from(values)) } as unknown as Tensor;
  const outShape = shape.map((d, i) => (i === axis ? 1 : d));
  const [out] = reductionKernels.logsumexp!([input], { axis }, [{ shape: outShape, dtype: 'float64' }]) as JsStorage[];
  return out!.data as Float64Array;
}

function expectRelative(label: string, got: number[], want: number[], rtol: number): void {
  expect(got.length, `${label}: output count`).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i]!;
    if (!(Math.abs(g - w) <= rtol * Math.abs(w))) throw new Error(`${label}: output ${i} is ${g}, float64 reference ${w} (relative error ${Math.abs(g - w) / Math.abs(w)} > ${rtol})`);
  });
}

const largeMean = (n: number, seed: number) => randomArray(n, seed).map((v) => 1e4 + 1.7 * v);

describe.each(isas)('moments and logsumexp on the %s path', (isa) => {
  // Every layout moments_of distinguishes: rows (one chunk, a tail chunk, segments of long
  // rows), all axes (segments), columns (row chunks, column blocks, widths off the vectors,
  // an outer dim), interleaved axes (gathered), and a single value per output.
  const layouts: [number[], number[]][] = [
    [[33, 4099], [1]], [[7, 5], [1]], [[3, 300001], [1]], [[600003], [0]], [[2, 3, 5], [0, 1, 2]],
    [[2100, 37], [0]], [[1030, 1100], [0]], [[3, 40, 21], [1]], [[40, 6, 7], [0, 1]], [[6, 7, 8], [0, 2]], [[5, 1], [1]],
    [[9, 7], [1]], [[5, 8], [1]], // rows shorter than 8 (scalar passes) and of 8

  ];

  it('mean and variance of 1e4 + noise within 1 ulp (float32) of a float64 two-pass reference, on every layout', () => {
    native.setIsa(isa);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [shape, axes] of layouts) {
        const values = ARRAY[dtype].from(largeMean(size(shape), 31));
        const { mean, variance } = referenceMoments(values, shape, axes);
        const [m, v] = runMoments(values, shape, dtype, axes);
        const rtol = dtype === 'float32' ? 2 ** -23 : 2 ** -36;
        const label = `${dtype} ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`;
        expectRelative(`${label} mean`, m, mean, rtol);
        // A single value per output has variance exactly 0.
        if (variance.every((w) => w === 0)) expect(v.every((g) => g === 0), `${label} variance of single values`).toBe(true);
        else expectRelative(`${label} variance`, v, variance, rtol);
      }
    }
  });

  it('float32 variance past float\'s range of squares: deviations whose squares overflow or underflow float lanes', () => {
    native.setIsa(isa);
    const n = 5000;
    const rows = [
      randomArray(n, 5).map((v, i) => (i === 10 ? 1e20 : v)), // one square overflows float: variance 2e36
      Array.from({ length: n }, (_, i) => (i % 2 ? 3e38 : -3e38)), // the variance (9e76) overflows float32 too
      randomArray(n, 6).map((v) => 1e-21 * v), // squares and variance subnormal in float32
      randomArray(n, 8).map((v) => 1e-18 * (v + 2)), // squares near the smallest normal float
    ];
    const values = Float32Array.from(rows.flatMap((row) => Array.from(row)));
    const { variance } = referenceMoments(values, [rows.length, n], [1]);
    const [, v] = runMoments(values, [rows.length, n], 'float32', [1]);
    variance.forEach((w, r) => {
      const want = Math.fround(w);
      // 1 ulp of a normal result; 2 of the smallest subnormal's steps below 2^-126.
      const tolerance = Math.abs(want) >= 2 ** -126 ? 2 ** -23 * Math.abs(want) : 2 * 2 ** -149;
      expect(Math.abs(v[r]! - want) <= tolerance || v[r] === want, `row ${r}: variance ${v[r]}, float64 reference ${w}`).toBe(true);
    });
  });

  it('moments give the same bits on 1 and 2 threads; NaN and infinities as js; an empty axis gives NaN', () => {
    native.setIsa(isa);
    for (const [shape, axes] of [[[3, 300001], [1]], [[600003], [0]], [[2100, 1100], [0]]] as [number[], number[]][]) {
      const values = largeMean(size(shape), 7);
      const results = [1, 2].map((threads) => {
        native.setNumThreads(threads);
        return runMoments(values, shape, 'float32', axes);
      });
      native.setNumThreads(defaultThreads);
      expectSameValues(`${JSON.stringify(shape)} mean, 1 vs 2 threads`, results[1]![0], results[0]![0]);
      expectSameValues(`${JSON.stringify(shape)} variance, 1 vs 2 threads`, results[1]![1], results[0]![1]);
    }
    // Infinities and NaN where partial moments combine: [20, 67] by rows (one chunk each) and by
    // columns (groups of 8 rows: -inf in the first group only, +inf and -inf in different groups,
    // NaN in the last), [2, 9000] by rows (chunks of 2048: -inf in the first, +inf in the fifth).
    const special = (shape: number[], at: [number, number][]) => {
      const values = randomArray(size(shape), 3);
      for (const [i, v] of at) values[i] = v;
      return values;
    };
    const layoutsWithSpecials: [number[], number[], Float64Array][] = [
      [[20, 67], [1], special([20, 67], [[67 + 5, NaN], [2 * 67 + 66, Infinity], [3 * 67, -Infinity], [3 * 67 + 40, Infinity], [4 * 67 + 9, -Infinity]])],
      [[20, 67], [0], special([20, 67], [[67 + 5, -Infinity], [2 * 67 + 6, Infinity], [15 * 67 + 6, -Infinity], [12 * 67 + 7, NaN], [19 * 67 + 66, Infinity]])],
      [[2, 9000], [1], special([2, 9000], [[100, -Infinity], [9000 + 8500, Infinity]])],
    ];
    for (const [shape, axes, values] of layoutsWithSpecials) {
      const outShape = shape.filter((_, d) => !axes.includes(d));
      const input = { shape, dtype: 'float32', storage: new JsStorage(Float32Array.from(values)) } as unknown as Tensor;
      const [jm, jv] = reductionKernels.moments!([input], { axes, keepdims: false }, [{ shape: outShape, dtype: 'float32' }, { shape: outShape, dtype: 'float32' }]) as JsStorage[];
      const [m, v] = runMoments(values, shape, 'float32', axes);
      const nonFinite = (a: ArrayLike<number>) => Array.from(a, (g) => (Number.isFinite(g) ? 'finite' : String(g)));
      const label = `${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`;
      expect(nonFinite(m), `${label} mean: which outputs are NaN/inf`).toEqual(nonFinite(jm!.data));
      expect(nonFinite(v), `${label} variance: which outputs are NaN/inf`).toEqual(nonFinite(jv!.data));
    }
    const [m, v] = runMoments([], [2, 0, 3], 'float32', [1]);
    expect([m, v], 'empty axis').toEqual([[NaN, NaN, NaN, NaN, NaN, NaN], [NaN, NaN, NaN, NaN, NaN, NaN]]);
  });

  it('logsumexp within 2 float32 ulps of float64 (rows, tails, gathered axes, float64); infinite and NaN rows as js', () => {
    native.setIsa(isa);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [shape, axis, scale] of [[[64, 4096], 1, 4], [[9, 67], 1, 60], [[300, 77], 0, 30], [[5, 6, 7], 1, 1], [[3, 1], 1, 1], [[4, 100000], 1, 100]] as [number[], number, number][]) {
        const values = ARRAY[dtype].from(randomArray(size(shape), 11).map((v) => v * scale));
        const want = jsLogsumexp(values, shape, axis);
        const got = runLogsumexp(values, shape, dtype, axis);
        const label = `${dtype} ${JSON.stringify(shape)} axis ${axis}`;
        const ulps = dtype === 'float32' ? 2 ** -22 : 2 ** -44;
        want.forEach((w, i) => {
          const bound = ulps * Math.max(Math.abs(w), 1);
          if (!(Math.abs(got[i]! - w) <= bound)) throw new Error(`${label}: output ${i} is ${got[i]}, float64 ${w} (error ${Math.abs(got[i]! - w)} > ${bound})`);
        });
      }
      // Rows: all -inf, one +inf, a NaN, NaN and +inf, one -inf among finite values, huge values.
      const rows = [
        [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity], [1, Infinity, 2, -Infinity, 0], [1, 2, NaN, 3, 4],
        [NaN, Infinity, 0, 1, 2], [-Infinity, 1, 2, 3, 4], [3e38, 3e38, -3e38, 0, 1],
      ];
      const got = runLogsumexp(rows.flat(), [6, 5], dtype, 1);
      const want = Array.from(jsLogsumexp(ARRAY[dtype].from(rows.flat()), [6, 5], 1), (w) => (dtype === 'float32' ? Math.fround(w) : w));
      expect(got.slice(0, 4), `${dtype}: -inf, +inf, NaN, NaN rows`).toEqual([-Infinity, Infinity, NaN, NaN]);
      expectRelative(`${dtype} finite rows`, got.slice(4), want.slice(4), dtype === 'float32' ? 2 ** -23 : 2 ** -50);
      expect(runLogsumexp([], [2, 0], dtype, 1), `${dtype}: empty axis`).toEqual([-Infinity, -Infinity]);
    }
  });
});
