/**
 * The run paths of the native data-movement kernels against the js backend's kernels, on
 * every dtype and ISA: reversed runs (rows that prefetch the next row's source, one long run
 * cut into contiguous pieces, 16-byte steps and their tails); gather as block copies of runs
 * of consecutive indices (roll, ranges, pieces of long runs), as one copy per index (small
 * rows) and as element loads that prefetch the next row (permutations along the last axis).
 */
import { describe, it } from 'vitest';
import { native, isas, DTYPES, data, check, type Input } from './kernel_harness.js';

const indices = (values: number[], shape = [values.length]): Input => ({ values: Int32Array.from(values), shape, dtype: 'int32' });

/** numpy roll's gather indices: out[j] = x[(j - shift) mod n]. */
const rollIndices = (n: number, shift: number) => Array.from({ length: n }, (_, j) => (((j - shift) % n) + n) % n);

/** A fixed permutation of 0..n-1 (a linear congruential shuffle). */
function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

describe.each(isas)('native data-movement runs on %s', (isa) => {
  it('reverse: rows of every length around the 16-byte steps, whole tensors, middle axes, size 0', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      for (const cols of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33]) {
        check('reverse', [data([3, cols], dtype)], { axes: [1] }, 'rows');
        check('reverse', [data([3, cols], dtype)], { axes: [0, 1] }, 'whole');
      }
      check('reverse', [data([5, 6, 7], dtype)], { axes: [1, 2] }, 'two inner axes: one run per row');
      check('reverse', [data([5, 6, 7], dtype)], { axes: [0] }, 'outer axis: copied rows');
      check('reverse', [data([4, 0, 3], dtype)], { axes: [1] }, 'size 0');
      check('reverse', [data([0], dtype)], { axes: [0] }, 'empty');
    }
  });

  it('reverse: large rows on the threaded path (next rows prefetched), and one long run cut into pieces', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      check('reverse', [data([300, 1029], dtype)], { axes: [1] }, 'rows');
      check('reverse', [data([300, 1029], dtype)], { axes: [0, 1] }, 'pieces');
      check('reverse', [data([200003], dtype)], { axes: [0] }, 'pieces of a 1-D run');
    }
  });

  it('gather: runs of consecutive indices as block copies (roll by either sign, ranges, long runs)', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      const x = data([6, 37], dtype);
      for (const shift of [1, -1, 5, -36, 100]) {
        check('gather', [x, indices(rollIndices(37, shift))], { axis: 1 }, `roll ${shift}`);
        check('gather', [x, indices(rollIndices(6, shift))], { axis: 0 }, `roll rows ${shift}`);
      }
      check('gather', [x, indices([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, -2, -1])], { axis: 1 }, 'range, negative tail');
      check('gather', [x, indices([5, 4, 3, 2, 1, 0])], { axis: 0 }, 'descending rows');
      check('gather', [data([3, 40000], dtype), indices(rollIndices(40000, 12345))], { axis: 1 }, 'long runs cut in pieces');
      check('gather', [data([70000, 3], dtype), indices(rollIndices(70000, -7))], { axis: 0 }, 'long runs of rows');
      check('gather', [data([2, 0, 3], dtype), indices([0, 1])], { axis: 0 }, 'size-0 inner');
      // Small rows by indices mostly apart: more pieces than the list may hold, one copy per index.
      check('gather', [data([3000, 2], dtype), indices(permutation(3000, 7))], { axis: 0 }, 'small rows, permuted');
      check('gather', [data([5, 600, 3], dtype), indices(permutation(600, 8).concat(rollIndices(600, 9)))], { axis: 1 }, 'small rows, middle axis');
    }
  });

  it('gather: element loads along the last axis (permutations, prefetching the next row), sparse indices', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      check('gather', [data([9, 301], dtype), indices(permutation(301, 3))], { axis: 1 }, 'permutation');
      check('gather', [data([40, 5000], dtype), indices(permutation(5000, 4))], { axis: 1 }, 'chunks of a long row');
      check('gather', [data([7, 3000], dtype), indices([2999, 0, 1500, -1, 7, 7])], { axis: 1 }, 'sparse, repeated');
      check('gather', [data([2, 5, 64], dtype), indices(permutation(64, 5).concat(permutation(64, 6)))], { axis: 2 }, 'rank 3');
    }
  });
});
