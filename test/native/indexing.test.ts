/**
 * Indexing kernels of the native CPU backend (gather, scatterAdd, sort, topK) against the
 * js backend's kernels: same shapes, dtypes and values (NaN equals NaN, -0 differs
 * from 0), on every dtype and ISA path this machine has; bad indices are errors
 * naming the op, the index and the axis size.
 */
import { describe, expect, it } from 'vitest';
import { randomArray } from './helpers.js';
import type { NativeDType } from '../../lib/backends/cpu/native.js';
import { native, isas, ARRAY, DTYPES, size, data, sameValues, check, nativeError, type Input } from './kernel_harness.js';


function indices(values: number[], shape = [values.length]): Input {
  return { values: Int32Array.from(values), shape, dtype: 'int32' };
}

/** Float values with many ties, -0/0 pairs, infinities and NaN: what a stable sort must order exactly. */
function tricky(shape: number[], dtype: NativeDType, seed: number): Input {
  const n = size(shape);
  const r = randomArray(n, seed);
  const values = new ARRAY[dtype](n);
  const pool = [NaN, 0, -0, 1, -1, 2.5, Infinity, -Infinity, 1, 0];
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') values[i] = r[i]! > 0 ? 1 : 0;
    else if (dtype === 'int32') values[i] = Math.round(r[i]! * 4);
    else values[i] = i % 3 === 0 ? pool[Math.floor((r[i]! + 1) * 5)]! : Math.round(r[i]! * 8) / 2;
  }
  return { values, shape, dtype };
}

/** Values over the whole range of the dtype: every byte of the sort keys varies; some NaN, +-0, +-inf, subnormals. */
function wide(shape: number[], dtype: NativeDType, seed: number): Input {
  const n = size(shape);
  const r = randomArray(2 * n, seed);
  const values = new ARRAY[dtype](n);
  const special = [NaN, -0, 0, Infinity, -Infinity, 1e-40, -1e-310];
  for (let i = 0; i < n; i++) {
    const a = r[2 * i]!, b = r[2 * i + 1]!;
    if (dtype === 'bool') values[i] = a > 0 ? 1 : 0;
    else if (dtype === 'int32') values[i] = Math.floor(a * 2 ** 31);
    else if (i % 11 === 0) values[i] = special[Math.floor((b + 1) * 3.5)]!;
    else values[i] = a * 2 ** Math.round(b * (dtype === 'float32' ? 120 : 1000));
  }
  return { values, shape, dtype };
}

describe.each(isas)('native indexing kernels on %s', (isa) => {
  it('gather: every axis, negative indices, repeated indices, index tensors of any rank', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      const x = data([4, 5, 6], dtype);
      check('gather', [x, indices([0, 3, -1, 2, 2])], { axis: 0 });
      check('gather', [x, indices([4, -5, 1, 1], [2, 2])], { axis: 1 });
      check('gather', [x, indices([5, 0, -6])], { axis: 2 });
      check('gather', [x, indices([2], [])], { axis: 1 });
      check('gather', [x, indices([], [0])], { axis: 0 });
      check('gather', [data([0, 3], dtype), indices([1, 2])], { axis: 1 });
      check('gather', [data([1000, 64], dtype), indices(Array.from(randomArray(3000, 7), (v) => Math.floor((v + 1) * 500)))], { axis: 0 }, 'embedding');
      check('gather', [data([3000], dtype), indices(Array.from(randomArray(5000, 8), (v) => Math.floor((v + 1) * 1500)))], { axis: 0 }, 'scalars');
    }
    // Negative axis on the native side.
    const x = data([3, 4], 'float32');
    const [want] = check('gather', [x, indices([3, 0])], { axis: 1 });
    const hx = native.createTensor(x.values, x.shape, x.dtype), hi = native.createTensor(Int32Array.from([3, 0]), [2], 'int32');
    const [r] = native.runKernel('gather', [hx, hi], { axis: -1 });
    sameValues('gather axis -1', r!.read(), want!);
    for (const h of [hx, hi, r!]) h.dispose();
  });

  it('scatterAdd: the transpose of gather, duplicates summed in index order, every dtype', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      check('scatterAdd', [indices([0, 2, 2, -1]), data([4, 3], dtype)], { axis: 0, dimSize: 5 });
      check('scatterAdd', [indices([1, 0, 1]), data([2, 3, 4], dtype)], { axis: 1, dimSize: 2 });
      check('scatterAdd', [indices([3, 3, 0]), data([2, 3], dtype)], { axis: 1, dimSize: 4 });
      check('scatterAdd', [indices([]), data([0, 3], dtype)], { axis: 0, dimSize: 4 });
      check('scatterAdd', [indices([1, 1]), data([0, 2], dtype)], { axis: 1, dimSize: 3 });
      const big = Array.from(randomArray(4000, 9), (v) => Math.floor((v + 1) * 50));
      check('scatterAdd', [indices(big), data([4000, 96], dtype)], { axis: 0, dimSize: 100 }, 'embedding gradient');
      check('scatterAdd', [indices(big.slice(0, 300)), data([40, 300, 3], dtype)], { axis: 1, dimSize: 100 }, 'middle axis');
      // Each work item zeroes its own rows: rows cut into column blocks (past 16 KiB), and
      // a few named rows among many (their zeroing split over threads).
      check('scatterAdd', [indices([3, 7, 3, 39]), data([4, 5000], dtype)], { axis: 0, dimSize: 40 }, 'column blocks');
      check('scatterAdd', [indices([5, 9000, 5]), data([3, 200], dtype)], { axis: 0, dimSize: 10000 }, 'few of many rows');
    }
    // int32 sums wrap as an Int32Array does.
    const [wrapped] = check('scatterAdd', [indices([0, 0]), { values: Int32Array.from([2 ** 31 - 1, 5]), shape: [2], dtype: 'int32' }], { axis: 0, dimSize: 1 });
    expect(wrapped![0]).toBe(-(2 ** 31) + 4);
  });

  it('sort: stable, NaN last in both directions, ties and -0/0 in index order, every dtype', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      for (const descending of [false, true]) {
        // Rows from 64 on sort by radix (keys of every byte: wide), shorter ones by comparison.
        for (const shape of [[1], [7], [3, 10], [2, 3, 33], [4, 0], [0, 5], [3, 63], [3, 64], [2, 65], [50, 200], [3, 257], [2, 5000]]) {
          check('sort', [tricky(shape, dtype, shape.length * 13 + shape[0]!)], { descending });
          check('sort', [wide(shape, dtype, shape.length * 7 + shape[0]!)], { descending }, 'wide');
        }
      }
    }
    const [values, order] = check('sort', [{ values: Float64Array.from([3, NaN, -0, 1, 0, NaN, -Infinity, 1]), shape: [8], dtype: 'float64' }], { descending: true });
    expect(Array.from(values!)).toEqual([3, 1, 1, -0, 0, -Infinity, NaN, NaN]);
    expect(Array.from(order!)).toEqual([0, 3, 7, 2, 4, 6, 1, 5]);
  });

  it('topK: exactly the first k of the descending sort (ties, -0/0, NaN only when numbers run out), every dtype', () => {
    native.setIsa(isa);
    /** Rows the threshold scan treats differently: rising (every element enters the heap), flat, all NaN, mostly NaN, mixed. */
    function patterned(shape: number[], dtype: NativeDType, pattern: string): Input {
      const n = shape[shape.length - 1]!;
      const values = new ARRAY[dtype](size(shape));
      const r = randomArray(values.length, n + 3);
      for (let i = 0; i < values.length; i++) {
        const j = i % n;
        const rising = pattern === 'rising' || (pattern === 'mixed' && Math.floor(i / n) % 2 === 0);
        const v = rising ? j : pattern === 'mixed' ? Math.round(r[i]! * 50) : pattern === 'falling' ? n - j : pattern === 'flat' ? 2 : pattern === 'nan' ? NaN : r[i]! > -0.6 ? NaN : j % 5;
        values[i] = dtype === 'bool' ? (Number.isNaN(v) ? 1 : v % 2) : v;
      }
      return { values, shape, dtype };
    }
    for (const dtype of DTYPES) {
      const inputs: Input[] = [];
      for (const shape of [[1], [7], [3, 10], [2, 3, 33], [4, 0], [0, 5], [1, 1], [5, 1], [50, 200], [2, 5000], [3, 131]]) {
        inputs.push(tricky(shape, dtype, shape.length * 17 + shape[0]!));
      }
      // Selection (k <= n/64) gives up on rising rows and on rows short of numbers; 'mixed' alternates rising and random rows.
      for (const pattern of ['rising', 'falling', 'flat', 'nan', 'mostlyNaN']) inputs.push(patterned([3, 300], dtype, pattern));
      inputs.push(patterned([6, 2000], dtype, 'mixed'));
      for (const x of inputs) {
        const n = x.shape[x.shape.length - 1]!;
        const rows = n === 0 ? 0 : size(x.shape) / n;
        const [sortedValues, sortedOrder] = check('sort', [x], { descending: true });
        for (const k of new Set([0, 1, 2, 8, n >> 1, n - 1, n].filter((k) => k >= 0 && k <= n))) {
          // Native against js, then both against the old path: sort descending, keep k.
          const [values, order] = check('topK', [x], { k });
          const label = `topK k=${k} ${dtype}${JSON.stringify(x.shape)}`;
          const pick = (all: ArrayLike<number>) => Array.from({ length: rows * k }, (_, j) => all[Math.floor(j / k) * n + (j % k)]!);
          sameValues(`${label} values against sort`, values!, pick(sortedValues!));
          sameValues(`${label} indices against sort`, order!, pick(sortedOrder!));
        }
      }
    }
    const [values, order] = check('topK', [{ values: Float32Array.from([0, NaN, -0, 5, -Infinity, 0, NaN, 5]), shape: [8], dtype: 'float32' }], { k: 7 });
    expect(Array.from(values!)).toEqual([5, 5, 0, -0, 0, -Infinity, NaN]);
    expect(Array.from(order!)).toEqual([3, 7, 0, 2, 5, 4, 1]);
  });

  it('errors: out-of-range indices name the op, the index and the axis size; bad shapes and dtypes', () => {
    native.setIsa(isa);
    const x = data([3, 4], 'float32');
    const e = nativeError('gather', [x, indices([1, 4, 0])], { axis: 1 });
    expect(e.name).toBe('ValueError');
    expect(e.message).toMatch(/gather: index 4 is out of bounds for axis 1 with size 4/);
    expect(nativeError('gather', [x, indices([-4])], { axis: 0 }).message).toMatch(/gather: index -4 is out of bounds for axis 0 with size 3/);
    expect(nativeError('gather', [x, indices([2 ** 31 - 1])], { axis: 0 }).message).toMatch(/gather: index 2147483647 is out of bounds for axis 0 with size 3/);
    expect(nativeError('gather', [x, data([2], 'float32')], { axis: 0 }).message).toMatch(/gather: indices must be int32, received float32 \(2,\)/);
    expect(nativeError('gather', [x, indices([0])], { axis: 2 }).message).toMatch(/gather: axis 2 is out of bounds for shape \(3, 4\)/);
    const s = nativeError('scatterAdd', [indices([0, 7]), data([2, 3], 'float64')], { axis: 0, dimSize: 5 });
    expect(s.name).toBe('ValueError');
    expect(s.message).toMatch(/scatterAdd: index 7 is out of bounds for axis 0 with size 5/);
    expect(nativeError('scatterAdd', [indices([0, 1, 2]), data([2, 3], 'float64')], { axis: 0, dimSize: 5 }).message).toMatch(/scatterAdd: indices \(3,\) must be 1-D and match updates \(2, 3\) along axis 0/);
    expect(nativeError('scatterAdd', [data([2], 'float32'), data([2, 3], 'float64')], { axis: 0, dimSize: 5 }).name).toBe('DTypeError');
    const r = nativeError('sort', [data([], 'float32')], { descending: false });
    expect(r.name).toBe('ShapeError');
    expect(r.message).toMatch(/sort: x must have rank >= 1, received shape \(\)/);
    expect(nativeError('topK', [data([], 'float32')], { k: 0 }).message).toMatch(/topK: x must have rank >= 1, received shape \(\)/);
    const k = nativeError('topK', [data([2, 3], 'float32')], { k: 4 });
    expect(k.name).toBe('ValueError');
    expect(k.message).toMatch(/topK: k=4 must be an integer in \[0, 3\] for x of shape \(2, 3\)/);
  });
});

// Gathered rows past this machine's last-level cache are written by streaming stores: one copy
// per index where the indices jump, one per run of consecutive ones (ISA-independent: once).
// Single elements go through each ISA's element gathers (vector gathers on avx512 and avx2),
// streamed too, with the next row prefetched.
describe('native gather past the last-level cache', () => {
  it('gather along axis 0: single rows and runs of rows, row lengths off the line and on it', () => {
    const l3 = native.backendInfo().cpu.l3Bytes;
    for (const [cols, dtype, bytes] of [[1025, 'float32', 4], [1024, 'float32', 4], [777, 'float64', 8]] as const) {
      const rows = Math.ceil(l3 / (cols * bytes)) + 5;
      // First half: rows in a scattered order; second half: one run of consecutive rows.
      const order = Array.from({ length: rows }, (_, k) => (k < rows / 2 ? (k * 7919) % rows : k));
      check('gather', [data([rows, cols], dtype), indices(order)], { axis: 0 }, `${dtype} [${rows}, ${cols}] past L3`);
    }
  });

  it.each(isas)('gather along the last axis on %s: single elements, output rows on and off the register, counts off the step', (isa) => {
    native.setIsa(isa);
    const l3 = native.backendInfo().cpu.l3Bytes;
    // 999 and 515 elements a row: each output row starts elsewhere in a register (a plain head,
    // streamed registers, a plain tail); 1024 int32: every row aligned; bool: no vector gather.
    const cases = [[1000, 999, 'float32', 4], [515, 515, 'float64', 8], [1030, 1024, 'int32', 4], [700, 999, 'bool', 1]] as const;
    for (const [cols, m, dtype, bytes] of cases) {
      const rows = Math.ceil(l3 / (m * bytes)) + 3;
      // Scattered over the row (k * 389 mod cols): no two neighbours consecutive.
      const order = Array.from({ length: m }, (_, k) => (k * 389) % cols);
      check('gather', [data([rows, cols], dtype), indices(order)], { axis: 1 }, `${isa} ${dtype} [${rows}, ${cols}] by ${m} indices past L3`);
    }
  });
});
