/**
 * matmul on the native CPU backend against a float64 loop reference, on every
 * instruction-set path this machine has (portable always), through setIsa.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType, NativeTensor, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import { draws } from '../helpers.js';
import { addon, assertClose, randomArray, referenceMatmul } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;

afterAll(() => native.setIsa(defaultIsa));

function upload(values: Float64Array, shape: number[], dtype: NativeDType): NativeTensor {
  const data = dtype === 'float32' ? new Float32Array(values) : dtype === 'float64' ? new Float64Array(values)
    : new Int32Array(values.map((v) => Math.round(v * 10)));
  return native.createTensor(data, shape, dtype);
}

interface Case {
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
}

const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
const tag = (c: Case) =>
  `${JSON.stringify(c.a)} x ${JSON.stringify(c.b)}${c.transposeA ? ' tA' : ''}${c.transposeB ? ' tB' : ''}`;

function check(c: Case, dtype: 'float32' | 'float64', seed: number): void {
  const aValues = randomArray(size(c.a), seed);
  const bValues = randomArray(size(c.b), seed + 1);
  const a = upload(aValues, c.a, dtype);
  const b = upload(bValues, c.b, dtype);
  // The reference sees exactly the rounded inputs the kernel sees.
  const want = referenceMatmul(a.read(), c.a, b.read(), c.b, c.transposeA, c.transposeB);
  const [out] = native.runKernel('matmul', [a, b], { transposeA: c.transposeA, transposeB: c.transposeB });
  // Rounding grows with k; bound it by a multiple of eps times the sum of |terms|.
  const k = c.transposeA ? c.a[c.a.length - 2] ?? c.a[0]! : c.a[c.a.length - 1]!;
  const eps = dtype === 'float32' ? 1.2e-7 : 2.3e-16;
  assertClose(`${dtype} matmul ${tag(c)}`, out!.read(), out!.shape, want, 4 * eps * (k + 4), 1e-30);
  expect(out!.dtype).toBe(dtype);
  a.dispose();
  b.dispose();
  out!.dispose();
}

const shapes: Case[] = [
  { a: [1, 1], b: [1, 1] },
  { a: [7, 13], b: [13, 5] },
  { a: [129, 65], b: [65, 257] },
  { a: [14, 32], b: [32, 32] },
  { a: [300, 600], b: [600, 270] }, // crosses the kc and mc blocks
  { a: [19, 37], b: [19, 23], transposeA: true },
  { a: [37, 19], b: [23, 19], transposeB: true },
  { a: [19, 37], b: [23, 19], transposeA: true, transposeB: true },
  { a: [130, 70], b: [90, 70], transposeB: true },
  { a: [2, 1, 5, 7], b: [3, 7, 4] }, // batch dims broadcast to (2, 3)
  { a: [4, 9, 6], b: [6, 11] },
  { a: [9, 6], b: [4, 6, 11] },
  { a: [3, 6, 9], b: [3, 11, 6], transposeA: true, transposeB: true },
  { a: [7], b: [7, 4] },
  { a: [5, 7], b: [7] },
  { a: [7], b: [7] },
  { a: [2, 5, 7], b: [7] },
  // Fewer rows than a register tile against a row-major B (the rows kernels): every row
  // count to past the tile, columns short of one vector, whole blocks and ragged tails,
  // and a broadcast batch.
  { a: [1, 300], b: [300, 3] },
  { a: [2, 70], b: [70, 145] },
  { a: [3, 33], b: [33, 64] },
  { a: [4, 129], b: [129, 81] },
  { a: [5, 17], b: [17, 200] },
  { a: [8, 40], b: [40, 31] },
  { a: [13, 25], b: [25, 70] },
  { a: [3, 2, 50], b: [50, 19] },
  { a: [2, 1, 30], b: [2, 30, 40] },
  { a: [3, 400], b: [400, 170] }, // B of 272 KB: column blocks split over two threads
  { a: [30, 3], b: [30, 20], transposeA: true }, // A read in place through its column stride
  // At most half a register tile of columns (the rows kernels too, over every row): a
  // classifier's logits, its weight gradient through A's column stride, a batch, a float64 width.
  { a: [128, 70], b: [70, 10] },
  { a: [70, 37], b: [70, 16], transposeA: true },
  { a: [3, 45, 20], b: [3, 20, 5] },
  { a: [33, 9], b: [9, 8] },
  // At most four columns against rows of A contiguous along k (the dot kernels): a column
  // vector read in place, columns packed from a row-major B, a transposed B's columns in
  // place; k with ragged tails past pairs of vectors and past one vector, every row count of
  // a call, a broadcast B and one B a matrix of the batch (packed again for each).
  { a: [37, 203], b: [203, 1] },
  { a: [6, 80], b: [80, 2] },
  { a: [3, 96], b: [96, 3] },
  { a: [9, 100], b: [4, 100], transposeB: true },
  { a: [3, 5, 70], b: [70, 1] },
  { a: [2, 7, 90], b: [2, 90, 4] },
  { a: [1, 64], b: [64, 1] },
  // A short k against a row-major B (the rows kernels, every row and column of C): an
  // outer product, k at the limit, one past it (packed panels), a batch.
  { a: [40, 1], b: [1, 70] },
  { a: [33, 5], b: [5, 97] },
  { a: [20, 64], b: [64, 40] },
  { a: [20, 65], b: [65, 40] },
  { a: [3, 17, 8], b: [3, 8, 50] },
  // A transposed B: few rows as dot products over its contiguous columns (every row count of
  // a call, k with a tail); a short k transposed for the rows kernels, one B and a broadcast
  // one (transposed once), and a B a matrix of the batch (packed panels).
  { a: [1, 200], b: [37, 200], transposeB: true },
  { a: [3, 64], b: [70, 64], transposeB: true },
  { a: [4, 97], b: [5, 97], transposeB: true },
  { a: [30, 10], b: [70, 10], transposeB: true },
  { a: [2, 40, 32], b: [2, 33, 32], transposeB: true },
  { a: [3, 20, 7], b: [50, 7], transposeB: true },
  // Whole register tiles then a few rows (the last tile through the rows kernels, from the
  // packed A panel): every tail of 14-row (avx512) and 6-row tiles, whole and ragged panels.
  ...[15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 32].map((m): Case => ({ a: [m, 23], b: [23, m % 2 ? 70 : 64] })),
];

describe.each(isas)('matmul on the %s path', (isa) => {
  it('matches the float64 reference for float32 on odd sizes, transposes and broadcast batches', () => {
    native.setIsa(isa);
    shapes.forEach((c, i) => check(c, 'float32', 10 + i));
  });

  it('matches the float64 reference for float64', () => {
    native.setIsa(isa);
    shapes.forEach((c, i) => check(c, 'float64', 100 + i));
  });

  it('is exact for int32 (wrapping like numpy)', () => {
    native.setIsa(isa);
    const c: Case = { a: [3, 9, 6], b: [6, 5] };
    const a = upload(randomArray(size(c.a), 7), c.a, 'int32');
    const b = upload(randomArray(size(c.b), 8), c.b, 'int32');
    const want = referenceMatmul(a.read(), c.a, b.read(), c.b);
    const [out] = native.runKernel('matmul', [a, b]);
    assertClose('int32 matmul', out!.read(), out!.shape, want, 0);
  });

  it('walks every blocking loop edge with tiny cache blocks', () => {
    native.setIsa(isa);
    process.env.KERAS_GEMM_BLOCKING = '28,16,64';
    try {
      check({ a: [61, 75], b: [75, 150] }, 'float32', 3); // k past the rows kernels' depth: packed panels
      check({ a: [45, 61], b: [150, 45], transposeA: true, transposeB: true }, 'float64', 4);
      // Large enough for the thread team that shares packed B blocks between barriers.
      check({ a: [301, 200], b: [200, 333] }, 'float32', 5);
      check({ a: [200, 301], b: [333, 200], transposeA: true, transposeB: true }, 'float64', 6);
    } finally {
      delete process.env.KERAS_GEMM_BLOCKING;
    }
  });

  it('matches the float64 reference on 150 random products: every dispatch path, transposes, broadcast batches, 1-3 threads', () => {
    // Sizes drawn across the paths' boundaries: a few rows or columns (rows and dot kernels),
    // a short k, whole and ragged register tiles, blocks past kc, size 0; batches of up to two
    // dims with either side broadcast or absent. (About 12,000 such draws over the three
    // paths found no mismatch before this test was written.)
    native.setIsa(isa);
    const draw = draws(isa.length * 7919 + 150);
    const dim = () => {
      const c = draw(10);
      return c < 3 ? 1 + draw(5) : c < 6 ? 1 + draw(40) : c < 8 ? 40 + draw(200) : c < 9 ? 200 + draw(400) : draw(3);
    };
    try {
      for (let i = 0; i < 150; i++) {
        const m = dim(), n = dim(), k = dim();
        const transposeA = draw(4) === 0, transposeB = draw(3) === 0;
        const batchA: number[] = [], batchB: number[] = [];
        for (let d = draw(3); d > 0; d--) {
          const extent = 1 + draw(3), broadcast = draw(3);
          batchA.push(broadcast === 1 ? 1 : extent);
          batchB.push(broadcast === 2 ? 1 : extent);
        }
        const c: Case = {
          a: [...(draw(4) ? batchA : []), ...(transposeA ? [k, m] : [m, k])],
          b: [...(draw(4) ? batchB : []), ...(transposeB ? [n, k] : [k, n])],
          transposeA,
          transposeB,
        };
        native.setNumThreads(1 + draw(3));
        check(c, draw(3) ? 'float32' : 'float64', 1000 + i);
      }
    } finally {
      native.setNumThreads(0);
    }
  });

  it('sums one to four rows against a B past twice L2 by slices of k: column tails, partial bands, A strided or 1-D, the same bits on 1-4 threads', () => {
    native.setIsa(isa);
    const l2 = native.backendInfo().cpu.l2Bytes;
    const rows = (n: number, bytes: number) => Math.ceil((2.2 * l2) / (n * bytes));
    const cases: [Case, 'float32' | 'float64'][] = [
      // Whole register blocks of columns, then whole vectors, then a partial one; k not a
      // multiple of the slices or of their bands.
      [{ a: [1, rows(1000, 4) + 3], b: [rows(1000, 4) + 3, 1000] }, 'float32'],
      [{ a: [rows(1000, 8) + 5], b: [rows(1000, 8) + 5, 1000] }, 'float64'], // A a vector
      [{ a: [rows(130, 4), 1], b: [rows(130, 4), 130], transposeA: true }, 'float32'], // A read through a stride; no whole block
      [{ a: [1, 300], b: [300, Math.ceil((2.2 * l2) / 1200)] }, 'float32'], // a few very long rows
      // Two to four rows of A share each load of B.
      [{ a: [2, rows(1000, 4) + 3], b: [rows(1000, 4) + 3, 1000] }, 'float32'],
      [{ a: [rows(1000, 8) + 5, 3], b: [rows(1000, 8) + 5, 1000], transposeA: true }, 'float64'],
      [{ a: [4, rows(130, 4)], b: [rows(130, 4), 130] }, 'float32'],
    ];
    cases.forEach(([c, dtype], i) => {
      check(c, dtype, 500 + i);
      const a = upload(randomArray(size(c.a), 600 + i), c.a, dtype);
      const b = upload(randomArray(size(c.b), 700 + i), c.b, dtype);
      const results = [1, 2, 3, 4].map((threads) => {
        native.setNumThreads(threads);
        const [out] = native.runKernel('matmul', [a, b], { transposeA: c.transposeA });
        const values = Array.from(out!.read());
        out!.dispose();
        return values;
      });
      native.setNumThreads(0);
      results.forEach((r, t) => expect(r, `${dtype} ${tag(c)} on ${t + 1} threads against 1`).toEqual(results[0]));
      a.dispose();
      b.dispose();
    });
  });

  it('handles size-0 dimensions', () => {
    native.setIsa(isa);
    const cases: [number[], number[], number[]][] = [
      [[0, 5], [5, 3], [0, 3]],
      [[4, 5], [5, 0], [4, 0]],
      [[0, 2, 3], [3, 4], [0, 2, 4]],
    ];
    for (const [sa, sb, so] of cases) {
      const [out] = native.runKernel('matmul', [upload(new Float64Array(size(sa)), sa, 'float32'),
        upload(new Float64Array(size(sb)), sb, 'float32')]);
      expect(out!.shape, `${JSON.stringify(sa)} x ${JSON.stringify(sb)}`).toEqual(so);
      expect(out!.read().length).toBe(0);
    }
    // k = 0: an empty sum is zero.
    const [zeros] = native.runKernel('matmul', [upload(new Float64Array(0), [3, 0], 'float32'),
      upload(new Float64Array(0), [0, 4], 'float32')]);
    expect(zeros!.shape).toEqual([3, 4]);
    expect(Array.from(zeros!.read())).toEqual(new Array(12).fill(0));
  });
});

describe('matmul on the thread pool', () => {
  it('splits one large product and a batch across threads with the same result', () => {
    check({ a: [512, 300], b: [300, 700] }, 'float32', 21);
    check({ a: [3, 200, 150], b: [3, 150, 220] }, 'float32', 22);
  });

  it('gives the same bits on 1 to 4 threads: shared B blocks, odd edges, tiny and transposed operands', () => {
    // Every thread count sums each element over k in the same blocks and order, so
    // the results agree exactly; against the float64 reference within rounding.
    // Tiny cache blocks: many B blocks per product, so buffers are reused and units
    // wait on the previous k block of their rows.
    // Sizes are above the engine's threading threshold (about 4 MFLOP per thread).
    const cases: Case[] = [
      { a: [29, 700], b: [700, 407] }, // 2 threads: just past 2 register tiles of rows each (avx512); 3-4: row-column tiles
      { a: [301, 200], b: [200, 333] },
      { a: [200, 301], b: [333, 200], transposeA: true, transposeB: true },
      { a: [1, 230, 170], b: [170, 131] }, // a batch of one, broadcast B
      { a: [3, 120, 150], b: [3, 150, 200] }, // fewer matrices than 4 threads
      { a: [1, 2000], b: [2000, 2100] }, // one row: fewer rows than threads
      { a: [1400, 3000], b: [3000, 1] }, // one column: dot products, rows split over threads
      { a: [1003, 700], b: [700, 3] }, // three columns packed by each thread, a ragged last block of rows
      { a: [1500, 2], b: [2, 1700] }, // an outer product of depth 2: the rows kernels, column blocks over threads
      { a: [2, 3000], b: [900, 3000], transposeB: true }, // two rows against B^T: dot products, columns over threads
      { a: [700, 20], b: [1500, 20], transposeB: true }, // a short k against B^T: transposed, then the rows kernels
      { a: [3001, 700], b: [700, 12] }, // a narrow product: rows split over threads
      { a: [5, 3], b: [3, 2] }, // smaller than one register tile
    ];
    const previous = process.env.KERAS_GEMM_BLOCKING;
    try {
      cases.forEach((c, i) => {
        const aValues = randomArray(size(c.a), 40 + i), bValues = randomArray(size(c.b), 41 + i);
        for (const dtype of ['float32', 'float64'] as const) {
          const a = upload(aValues, c.a, dtype);
          const b = upload(bValues, c.b, dtype);
          for (const blocking of ['28,16,64', undefined]) {
            if (blocking) process.env.KERAS_GEMM_BLOCKING = blocking;
            else delete process.env.KERAS_GEMM_BLOCKING;
            const results: NativeTypedArray[] = [];
            for (const threads of [1, 2, 3, 4]) {
              native.setNumThreads(threads);
              const [out] = native.runKernel('matmul', [a, b], { transposeA: c.transposeA, transposeB: c.transposeB });
              results.push(out!.read());
              out!.dispose();
            }
            for (let t = 1; t < results.length; t++) {
              const first = results[t]!.findIndex((v, j) => !Object.is(v, results[0]![j]));
              if (first >= 0) {
                throw new Error(`${dtype} ${tag(c)} blocking ${blocking ?? 'default'}: element ${first} is ${results[t]![first]} on ${t + 1} threads, ${results[0]![first]} on 1`);
              }
            }
          }
          a.dispose();
          b.dispose();
          native.setNumThreads(0);
          check(c, dtype, 40 + i);
        }
      });
    } finally {
      native.setNumThreads(0);
      if (previous === undefined) delete process.env.KERAS_GEMM_BLOCKING;
      else process.env.KERAS_GEMM_BLOCKING = previous;
    }
  });

  it('reads a B past the last-level cache by slices of k (a few rows) or in bands of rows, the next band requested ahead (more)', () => {
    // k not a multiple of the 16-row band (the last band partial, no band after it to request),
    // n not a multiple of a column block; five rows of A (past the sliced products' four) share
    // each block of B.
    const l3 = native.backendInfo().cpu.l3Bytes;
    const n = 1000, k = Math.ceil(l3 / 4 / n) + 7;
    check({ a: [1, k], b: [k, n] }, 'float32', 60);
    check({ a: [5, k], b: [k, n] }, 'float32', 61);
  });

  it('runs off the event loop with runKernelAsync and gives the same values', async () => {
    const a = upload(randomArray(64 * 48, 5), [64, 48], 'float32');
    const b = upload(randomArray(48 * 33, 6), [48, 33], 'float32');
    const [sync] = native.runKernel('matmul', [a, b]);
    const pending = native.runKernelAsync('matmul', [a, b]);
    a.dispose(); // the running kernel keeps its inputs alive
    const [out] = await pending;
    expect(Array.from(out!.read())).toEqual(Array.from(sync!.read()));
  });
});
