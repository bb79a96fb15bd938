/**
 * Data-movement and creation kernels of the native CPU backend (reshape, transpose,
 * broadcastTo, slice, reverse, concatenate, pad, fill, arange) against the js
 * backend's kernels: same shapes, dtypes and values (NaN equals NaN, -0 differs
 * from 0), on every dtype and every ISA path this machine has, plus errors.
 */
import { describe, expect, it } from 'vitest';
import { native, isas, DTYPES, data, sameValues, check, nativeError } from './kernel_harness.js';

describe.each(isas)('native shape kernels on %s', (isa) => {
  it('reshape copies the values in order, with -1 and size-0 dims', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      check('reshape', [data([2, 3, 4], dtype)], { shape: [4, -1] });
      check('reshape', [data([6], dtype)], { shape: [1, 6, 1] });
      check('reshape', [data([0, 3], dtype)], { shape: [3, 0] });
      check('reshape', [data([], dtype)], { shape: [1, 1] });
      check('reshape', [data([200, 300], dtype)], { shape: [-1] });
    }
  });

  it('transpose: every permutation of rank 2-4, tiled and plain paths, all dtypes', () => {
    native.setIsa(isa);
    const perms: Record<number, number[][]> = {
      1: [[0]],
      2: [[0, 1], [1, 0]],
      3: [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]],
      4: [[3, 2, 1, 0], [0, 2, 3, 1], [1, 0, 3, 2], [0, 3, 1, 2]],
    };
    const shapes = [[5], [3, 4], [1, 7], [0, 3], [33, 70], [2, 3, 4], [5, 1, 9], [9, 40, 37], [2, 3, 4, 5], [3, 17, 1, 40]];
    for (const dtype of DTYPES) {
      for (const shape of shapes) {
        for (const perm of perms[shape.length]!) check('transpose', [data(shape, dtype)], { perm });
      }
    }
    check('transpose', [data([513, 1031], 'float32')], { perm: [1, 0] }, 'large');
    check('transpose', [data([8, 130, 260], 'float64')], { perm: [0, 2, 1] }, 'large batched');
    check('transpose', [data([64, 64, 64], 'float32')], { perm: [2, 0, 1] }, 'large rank 3');
  });

  it('transpose: register tiles of every element size, their edges and the plain remainders', () => {
    native.setIsa(isa);
    // Micro-tiles are 4x4 to 16x16 and tiles one 64-byte line wide: sides around those sizes.
    const shapes = [
      [1, 100], [100, 1], [0, 50], [50, 0], [7, 9], [8, 8], [15, 17], [16, 16], [17, 65], [64, 64],
      [65, 63], [63, 129], [255, 257], [256, 16], [300, 129], [3, 1000], [1000, 3],
    ];
    for (const dtype of DTYPES) {
      for (const shape of shapes) check('transpose', [data(shape, dtype)], { perm: [1, 0] });
    }
  });

  it('transpose: every permutation of rank 5, and layouts that swap two axes with a kept inner block', () => {
    native.setIsa(isa);
    const permutations = (n: number): number[][] =>
      n === 0 ? [[]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
    const x5 = data([3, 4, 5, 2, 7], 'float32');
    for (const perm of permutations(5)) check('transpose', [x5], { perm });
    for (const dtype of DTYPES) {
      const y5 = data([2, 17, 3, 9, 20], dtype);
      for (const perm of [[4, 3, 2, 1, 0], [0, 2, 1, 4, 3], [1, 4, 0, 3, 2], [0, 4, 1, 2, 3], [3, 0, 4, 1, 2]]) {
        check('transpose', [y5], { perm });
      }
      check('transpose', [data([2, 9, 11, 35], dtype)], { perm: [0, 3, 1, 2] }, 'NHWC to NCHW');
      check('transpose', [data([2, 35, 9, 11], dtype)], { perm: [0, 2, 3, 1] }, 'NCHW to NHWC');
      check('transpose', [data([2, 33, 5, 24], dtype)], { perm: [0, 2, 1, 3] }, '[B, S, H, D] to [B, H, S, D]');
      check('transpose', [data([3, 40, 6, 4], dtype)], { perm: [0, 2, 1, 3] }, 'short kept block');
    }
  });

  it('transpose: large inputs on the threaded path, written around the caches past the last-level cache', () => {
    native.setIsa(isa);
    check('transpose', [data([4, 32, 32, 128], 'float32')], { perm: [0, 3, 1, 2] }, 'NHWC to NCHW');
    check('transpose', [data([4, 128, 32, 32], 'float32')], { perm: [0, 2, 3, 1] }, 'NCHW to NHWC');
    check('transpose', [data([8, 256, 8, 64], 'float32')], { perm: [0, 2, 1, 3] }, '[B, S, H, D] to [B, H, S, D]');
    check('transpose', [data([1300, 900], 'bool')], { perm: [1, 0] }, 'bytes');
    check('transpose', [data([700, 900], 'int32')], { perm: [1, 0] }, 'int32');
    // Outputs past this machine's last-level cache (the kernel streams there) with 64-byte-aligned rows, and without.
    const l3 = native.backendInfo().cpu.l3Bytes;
    const past = (rows: number, bytes: number) => Math.ceil(l3 / (rows * bytes)) + 8;
    check('transpose', [data([1024, past(1024, 4)], 'float32')], { perm: [1, 0] }, 'streamed');
    check('transpose', [data([1024, past(1024, 8)], 'float64')], { perm: [1, 0] }, 'streamed');
    check('transpose', [data([1030, past(1030, 4)], 'float32')], { perm: [1, 0] }, 'past the cache, rows unaligned');
  });

  it('broadcastTo: new leading dims, size-1 dims, scalars and size 0', () => {
    native.setIsa(isa);
    const cases: [number[], number[]][] = [
      [[], [2, 3]], [[3], [2, 3]], [[2, 1], [2, 5]], [[1, 3, 1], [4, 3, 2]], [[1], [0]], [[2, 1], [0, 2, 7]],
      [[1, 1], [1, 1]], [[300, 1], [300, 400]], [[1, 500], [300, 500]], [[7, 1, 5], [2, 7, 64, 5]],
    ];
    for (const dtype of DTYPES) for (const [from, to] of cases) check('broadcastTo', [data(from, dtype)], { shape: to });
  });

  it('slice: begins, sizes, -1 sizes and empty slices', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      const x = data([4, 5, 6], dtype);
      check('slice', [x], { begin: [0, 0, 0], size: [4, 5, 6] });
      check('slice', [x], { begin: [1, 2, 3], size: [2, 2, 2] });
      check('slice', [x], { begin: [1, 0, 2], size: [-1, -1, -1] });
      check('slice', [x], { begin: [3, 4, 5], size: [1, 1, 1] });
      check('slice', [x], { begin: [0, 5, 0], size: [4, 0, 6] });
      check('slice', [x], { begin: [0, 0, 6], size: [-1, -1, -1] });
      check('slice', [data([7], dtype)], { begin: [2], size: [3] });
      check('slice', [data([], dtype)], { begin: [], size: [] });
      check('slice', [data([400, 300], dtype)], { begin: [17, 3], size: [300, 290] });
    }
  });

  it('slice: long rows apart in the source (copied with prefetch), rows cut in pieces, short rows', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      const x = data([600, 1200], dtype);
      check('slice', [x], { begin: [0, 0], size: [600, 600] });
      check('slice', [x], { begin: [3, 5], size: [590, 1100] });
      check('slice', [x], { begin: [1, 1199], size: [599, 1] });
      check('slice', [data([12, 40000], dtype)], { begin: [1, 7], size: [10, 39000] });
      check('slice', [data([50, 8, 130], dtype)], { begin: [2, 1, 3], size: [40, 6, 127] });
    }
  });

  it('reverse: one, several, all and no axes, negative axes', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      const x = data([3, 4, 5], dtype);
      for (const axes of [[], [0], [1], [2], [0, 2], [0, 1, 2], [-1]]) {
        // The TS op receives normalized axes; the native op also takes negative ones.
        const jsAxes = axes.map((a) => (a < 0 ? a + 3 : a));
        const [want] = check('reverse', [x], { axes: jsAxes });
        const h = native.createTensor(x.values, x.shape, x.dtype);
        const [r] = native.runKernel('reverse', [h], { axes });
        sameValues(`reverse ${axes}`, r!.read(), want!);
        h.dispose();
        r!.dispose();
      }
      check('reverse', [data([0, 3], dtype)], { axes: [0, 1] });
      check('reverse', [data([300, 500], dtype)], { axes: [1] });
    }
  });

  it('concatenate: any axis, many inputs, size-0 parts, negative axis', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      check('concatenate', [data([2, 3], dtype, 1), data([4, 3], dtype, 2)], { axis: 0 });
      check('concatenate', [data([2, 3], dtype, 1), data([2, 1], dtype, 2), data([2, 5], dtype, 3)], { axis: 1 });
      check('concatenate', [data([2, 3, 4], dtype, 1), data([2, 0, 4], dtype, 2), data([2, 2, 4], dtype, 3)], { axis: 1 });
      check('concatenate', [data([2, 3, 4], dtype, 1), data([2, 3, 1], dtype, 2)], { axis: 2 });
      check('concatenate', [data([5], dtype, 1)], { axis: 0 });
      check('concatenate', [data([0, 2], dtype, 1), data([0, 3], dtype, 2)], { axis: 1 });
      check('concatenate', [data([300, 200], dtype, 1), data([300, 100], dtype, 2)], { axis: 1 });
      check('concatenate', [data([300, 200], dtype, 1), data([100, 200], dtype, 2)], { axis: 0 });
      // One output row (leading axis): 64 KiB pieces of it split over threads, each copying the
      // inputs it overlaps: many inputs across piece boundaries, size-0 ones among them.
      const parts = Array.from({ length: 60 }, (_, i) => data([i % 7 === 3 ? 0 : 3 + (i % 5), 997], dtype, i + 1));
      check('concatenate', parts, { axis: 0 });
    }
    const a = data([2, 3], 'float32', 1), b = data([2, 2], 'float32', 2);
    const [want] = check('concatenate', [a, b], { axis: 1 });
    const ha = native.createTensor(a.values, a.shape, a.dtype), hb = native.createTensor(b.values, b.shape, b.dtype);
    const [r] = native.runKernel('concatenate', [ha, hb], { axis: -1 });
    sameValues('concatenate axis -1', r!.read(), want!);
    for (const h of [ha, hb, r!]) h.dispose();
  });

  it('pad: before/after per axis (flattened pairs), constants as each dtype stores them', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      for (const constantValue of [0, 1.5, -2, 300]) {
        check('pad', [data([2, 3], dtype)], { paddings: [[1, 2], [0, 1]], constantValue });
        check('pad', [data([2, 3, 4], dtype)], { paddings: [[0, 0], [2, 0], [0, 0]], constantValue });
      }
      check('pad', [data([3], dtype)], { paddings: [[0, 0]], constantValue: 7 });
      check('pad', [data([0, 2], dtype)], { paddings: [[1, 1], [2, 0]], constantValue: 1 });
      check('pad', [data([2, 2], dtype)], { paddings: [[0, 3], [0, 0]], constantValue: 1 });
      check('pad', [data([], dtype)], { paddings: [], constantValue: 1 });
      check('pad', [data([64, 30, 30, 3], dtype)], { paddings: [[0, 0], [1, 1], [2, 2], [0, 0]], constantValue: 0 });
    }
    check('pad', [data([2, 2], 'float32')], { paddings: [[1, 0], [0, 1]], constantValue: NaN });
    check('pad', [data([2, 2], 'int32')], { paddings: [[1, 0], [0, 1]], constantValue: 2 ** 32 + 5 });
  });

  it('fill and arange store values as the js typed arrays do', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      for (const value of [0, 1, -1.75, 2.5e9, NaN, Infinity, 256, 1e-50]) {
        check('fill', [], { shape: [2, 3], value, dtype });
      }
      check('fill', [], { shape: [], value: 3, dtype });
      check('fill', [], { shape: [0, 4], value: 3, dtype });
      check('fill', [], { shape: [1000, 300], value: 0.1, dtype });
      for (const [start, step, n] of [[0, 1, 10], [-3.5, 0.1, 50], [5, -2, 7], [0, 0, 3], [1e9, 1e9, 5], [0.3, 0.7, 100000], [0, 1, 0]]) {
        check('arange', [], { start, step, size: n, dtype });
      }
    }
  });

  it('errors name the op and the shapes', () => {
    native.setIsa(isa);
    const x = data([2, 3], 'float32');
    expect(nativeError('reshape', [x], { shape: [4, 2] }).message).toMatch(/reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4, 2\)/);
    expect(nativeError('reshape', [x], { shape: [-1, -1] }).message).toMatch(/reshape: invalid target shape \[-1,-1\]/);
    expect(nativeError('reshape', [x], { shape: [4, -1] }).name).toBe('ShapeError');
    expect(nativeError('transpose', [x], { perm: [0, 0] }).message).toMatch(/transpose: axes \[0,0\] are not a permutation of the 2 axes of \(2, 3\)/);
    const e = nativeError('broadcastTo', [x], { shape: [3, 3] });
    expect(e.name).toBe('ShapeError');
    expect(e.message).toMatch(/broadcastTo: cannot broadcast \(2, 3\) to \(3, 3\)/);
    expect(nativeError('broadcastTo', [x], { shape: [3] }).message).toMatch(/broadcastTo: cannot broadcast \(2, 3\) to \(3,\)/);
    expect(nativeError('slice', [x], { begin: [1, 2], size: [2, 1] }).message).toMatch(/slice: start 1 with size 2 is out of range for axis 0 of \(2, 3\)/);
    expect(nativeError('slice', [x], { begin: [0], size: [1] }).message).toMatch(/slice: start_indices \[0\] and shape \[1\] must have one entry per axis of \(2, 3\)/);
    expect(nativeError('reverse', [x], { axes: [2] }).message).toMatch(/reverse: axis 2 is out of bounds for shape \(2, 3\)/);
    expect(nativeError('concatenate', [x, data([3, 3], 'float32')], { axis: 1 }).message).toMatch(/concatenate: input 1 has shape \(3, 3\), incompatible with \(2, 3\) along all axes but 1/);
    const d = nativeError('concatenate', [x, data([2, 3], 'int32')], { axis: 0 });
    expect(d.name).toBe('DTypeError');
    expect(d.message).toMatch(/concatenate: input 1 has dtype int32, input 0 has float32/);
    expect(nativeError('concatenate', [x], { axis: 2 }).message).toMatch(/concatenate: axis 2 is out of bounds for shape \(2, 3\)/);
    expect(nativeError('concatenate', [], { axis: 0 }).message).toMatch(/concatenate: needs at least one tensor/);
    expect(nativeError('pad', [x], { paddings: [[1, 1]], constantValue: 0 }).message).toMatch(/pad: pad_width \[\[1,1\]\] must hold one \[before, after\] pair of non-negative integers per axis of \(2, 3\)/);
    expect(nativeError('pad', [x], { paddings: [[1, -1], [0, 0]], constantValue: 0 }).name).toBe('ShapeError');
    expect(nativeError('fill', [], { shape: [2, -1], value: 1, dtype: 'float32' }).message).toMatch(/fill: shape must be an array of non-negative integers, received \[2,-1\]/);
    expect(nativeError('fill', [], { shape: [2], value: 1, dtype: 'int8' }).message).toMatch(/fill: unknown dtype "int8"/);
    expect(nativeError('fill', [x], { shape: [2], value: 1, dtype: 'float32' }).message).toMatch(/fill: expected 0 inputs, received 1/);
    expect(nativeError('arange', [], { start: 0, step: Infinity, size: 3, dtype: 'float32' }).message).toMatch(/arange: start and step must be finite/);
    expect(nativeError('arange', [], { start: 0, step: 1, size: -3, dtype: 'float32' }).message).toMatch(/arange: size must be a non-negative integer, received -3/);
  });
});

// The row copies of these kernels do not depend on the ISA path: run once, on outputs past this
// machine's last-level cache, where they write by streaming stores (whole lines streamed, the
// partial lines at a run's ends plainly). Runs start off the line (odd row lengths) and on it.
describe('native data movement past the last-level cache', () => {
  const l3 = native.backendInfo().cpu.l3Bytes;
  /** Rows of `rowElements` elements of `bytes` each that make an output just past L3. */
  const rowsPast = (rowElements: number, bytes: number) => Math.ceil(l3 / (rowElements * bytes)) + 3;

  it('concatenate along the last axis: rows of both inputs streamed to unaligned offsets', () => {
    const rows = rowsPast(1027 + 2053, 4);
    check('concatenate', [data([rows, 1027], 'float32'), data([rows, 2053], 'float32', 2)], { axis: 1 }, 'float32 past L3');
    const rows64 = rowsPast(512 + 1031, 8);
    check('concatenate', [data([rows64, 512], 'float64'), data([rows64, 1031], 'float64', 3)], { axis: 1 }, 'float64 past L3');
  });

  it('pad, slice and broadcastTo: their row runs streamed', () => {
    const rows = rowsPast(1504, 4);
    check('pad', [data([rows, 1500], 'float32')], { paddings: [[1, 2], [3, 1]], constantValue: 0.5 }, 'past L3');
    const rows64 = rowsPast(2990, 8);
    check('slice', [data([rows64 + 1, 3000], 'float64')], { begin: [1, 5], size: [rows64, 2990] }, 'past L3');
    const rowsB = rowsPast(3001, 4);
    check('broadcastTo', [data([1, 3001], 'float32')], { shape: [rowsB, 3001] }, 'past L3');
  });
});
