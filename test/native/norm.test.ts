/**
 * Native CPU layerNorm and layerNormGrad against the js kernels (the reference) on
 * every instruction-set path: row lengths below, at and past each vector width, rows
 * split over several threads and row blocks (the same bits on 1 and 2 threads), size-0
 * rows and row counts, means far from 0, rms, float32 and float64; against a float64
 * textbook formula; a uniform gamma and beta (not loaded) against loaded ones, bitwise; by hand; errors.
 * Statistics, dgamma and dbeta are computed in double (an ulp from js); the float32 y and dx
 * outputs in float lanes, within Y_ULPS ulps of the terms they sum.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { getOp, type Attrs } from '../../lib/ops/registry.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import { nativeAttrs } from '../../lib/backends/cpu/index.js';
import { Tensor } from '../../lib/tensor.js';
import type { OutputSpec } from '../../lib/backends/backend.js';
import type { NativeDType } from '../../lib/backends/cpu/native.js';
import { randomArray } from './helpers.js';
import { native, isas, js, ARRAY, size, nativeError, type Input } from './kernel_harness.js';

type Float = 'float32' | 'float64';

function floats(shape: number[], dtype: Float, seed: number, scale = 1, offset = 0): Input {
  return { values: ARRAY[dtype].from(randomArray(size(shape), seed), (v) => v * scale + offset), shape, dtype };
}

/** Float32 ulps allowed in the float32 y and dx outputs, relative to the magnitude of the terms they sum. */
const Y_ULPS = 3;

/**
 * The allowed error of each float32 y (layerNorm) or dx (layerNormGrad): the native kernels write
 * them from float lanes (x - mean split exactly, then float multiplies and adds), so their error
 * is a few ulps of the terms summed: |xhat * gamma| + |beta| for y, rstd * (|g| + |mean(g)| +
 * |xhat * mean(g * xhat)|) with g = dy * gamma for dx; xhat from the reference mean and rstd.
 */
function floatOutputBound(op: string, inputs: Input[], want: JsStorage[], attrs: Attrs): Float64Array {
  const grad = op === 'layerNormGrad';
  const [dy, x, gamma, meanIn, rstdIn] = grad ? inputs : [null, ...inputs];
  const n = size(gamma!.shape);
  const mean = grad ? meanIn!.values : want[1]!.data, rstd = grad ? rstdIn!.values : want[2]!.data;
  const bound = new Float64Array(x!.values.length);
  for (let r = 0; r * n < bound.length; r++) {
    const xhat = (k: number) => (x!.values[r * n + k]! - (attrs.rms && !grad ? 0 : mean[r]!)) * rstd[r]!;
    let a = 0, c = 0;
    if (grad) {
      for (let k = 0; k < n; k++) {
        const g = dy!.values[r * n + k]! * gamma!.values[k]!;
        a += g / n;
        c += (g * xhat(k)) / n;
      }
      if (attrs.rms) a = 0;
    }
    for (let k = 0; k < n; k++) {
      const terms = grad
        ? rstd[r]! * (Math.abs(dy!.values[r * n + k]! * gamma!.values[k]!) + Math.abs(a) + Math.abs(xhat(k) * c))
        : Math.abs(xhat(k) * gamma!.values[k]!) + Math.abs(inputs[2]!.values[k]!);
      bound[r * n + k] = Y_ULPS * 2 ** -23 * terms;
    }
  }
  return bound;
}

/**
 * Native vs js, elementwise |a - b| <= rtol * |b| + atol (NaN equals NaN). Both compute the
 * statistics and gradients in double and round once; only summation order differs, so float32
 * results are at most an ulp apart and float64 results a few ulps (atol covers results that cancel
 * to near 0). The float32 y and dx outputs have their own bound (floatOutputBound).
 */
function checkClose(op: string, inputs: Input[], attrs: Attrs, label: string): void {
  const tensors = inputs.map((t) => new Tensor({ shape: t.shape, dtype: t.dtype, storage: new JsStorage(t.values) }));
  const specs = getOp(op).infer(tensors, attrs) as OutputSpec[];
  const want = js.kernel(op)!(tensors, attrs, specs) as JsStorage[];
  const handles = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
  const got = native.runKernel(op, handles, nativeAttrs(attrs));
  const f32 = inputs[0]!.dtype === 'float32';
  const rtol = f32 ? 2.5e-7 : 1e-13, atol = f32 ? 1e-12 : 1e-13;
  const yBound = f32 ? floatOutputBound(op, inputs, want, attrs) : null;
  try {
    expect(got.length, label).toBe(specs.length);
    got.forEach((g, i) => {
      expect(g.shape, `${label} output ${i}`).toEqual(specs[i]!.shape);
      expect(g.dtype, `${label} output ${i}`).toBe(specs[i]!.dtype);
      const a = g.read(), b = want[i]!.data;
      for (let k = 0; k < b.length; k++) {
        const tol = i === 0 && yBound ? yBound[k]! : rtol * Math.abs(b[k]!) + atol;
        const ok = Number.isNaN(b[k]!) ? Number.isNaN(a[k]!) : a[k] === b[k] || Math.abs(a[k]! - b[k]!) <= tol;
        if (!ok) throw new Error(`${label}: output ${i} element ${k} is ${a[k]}, js has ${b[k]}`);
      }
    });
  } finally {
    for (const h of [...handles, ...got]) h.dispose();
  }
}

/** [x shape, first normalized axis] */
const ROWS: [number[], number][] = [
  [[3, 5], 1],
  [[2, 4, 3], 1], // two normalized dims
  [[7], 0], // one row
  [[4, 67], 1], // not a multiple of any vector width
  [[6, 8], 1],
  [[5, 16], 1],
  [[300, 1000], 1], // several threads' chunks
  [[4096, 24], 1], // many short rows: several row blocks in the gradient
  [[2, 3, 2, 33], 2],
  [[2, 0, 3], 1], // empty rows
  [[0, 4], 1], // no rows
];

describe.each(isas)('layerNorm on the %s path', (isa) => {
  it('forward and gradient match the js kernels, float32 and float64, layer and rms', () => {
    native.setIsa(isa);
    ROWS.forEach(([shape, axis], i) => {
      const dims = shape.slice(axis), rows = shape.slice(0, axis);
      for (const dtype of ['float32', 'float64'] as const) {
        for (const rms of [false, true]) {
          // Mean 4 * the spread: the variance pass must subtract the mean, not use E[x^2] - E[x]^2.
          const x = floats(shape, dtype, 10 + i, 3, 12);
          const gamma = floats(dims, dtype, 20 + i, 2), beta = floats(dims, dtype, 30 + i);
          const label = `${isa} ${dtype} ${JSON.stringify(shape)} axis ${axis}${rms ? ' rms' : ''}`;
          checkClose('layerNorm', [x, gamma, beta], { axis, epsilon: 1e-3, rms }, `layerNorm ${label}`);
          // Mean 2000 * the spread: x - mean must not lose the mean's bits below float precision.
          const offset = floats(shape, dtype, 70 + i, 0.5, 1000);
          checkClose('layerNorm', [offset, gamma, beta], { axis, epsilon: 1e-6, rms }, `layerNorm mean 1000 ${label}`);
          const dy = floats(shape, dtype, 40 + i), mean = floats(rows, dtype, 50 + i, 1, 12), rstd = floats(rows, dtype, 60 + i, 0.1, 0.3);
          checkClose('layerNormGrad', [dy, x, gamma, mean, rstd], { axis, rms }, `layerNormGrad ${label}`);
        }
      }
    });
  });

  it('float32 output within a few ulps of the float64 textbook formula', () => {
    native.setIsa(isa);
    const [rows, n, eps] = [9, 77, 1e-5];
    const x = floats([rows, n], 'float32', 3, 5, -2);
    const gamma = floats([n], 'float32', 4), beta = floats([n], 'float32', 5);
    const handles = [x, gamma, beta].map((t) => native.createTensor(t.values, t.shape, t.dtype));
    const [y, m, r] = native.runKernel('layerNorm', handles, { axis: 1, epsilon: eps, rms: false });
    const got = y!.read();
    for (let row = 0; row < rows; row++) {
      const v = Array.from(x.values.subarray(row * n, row * n + n));
      const mean = v.reduce((s, e) => s + e, 0) / n;
      const variance = v.reduce((s, e) => s + (e - mean) ** 2, 0) / n;
      expect(m!.read()[row], `mean of row ${row}`).toBe(Math.fround(mean));
      expect(r!.read()[row]! / (1 / Math.sqrt(variance + eps)), `rstd of row ${row}`).toBeCloseTo(1, 6);
      v.forEach((e, k) => {
        const scaled = ((e - mean) / Math.sqrt(variance + eps)) * gamma.values[k]!;
        const want = scaled + beta.values[k]!;
        const bound = Y_ULPS * 2 ** -23 * (Math.abs(scaled) + Math.abs(beta.values[k]!));
        if (Math.abs(got[row * n + k]! - want) > bound) throw new Error(`${isa} row ${row} element ${k}: ${got[row * n + k]} vs float64 ${want} (allowed ${bound})`);
      });
    }
    [...handles, y, m, r].forEach((h) => h!.dispose());
  });
});

describe.each(isas)('layerNorm rows on the %s path, by thread count', (isa) => {
  it('all outputs are the same bits on 1 and 2 threads (rows and row blocks are split by size, not by thread count)', () => {
    native.setIsa(isa);
    // 1003: whole pipeline steps and a tail on every path; 96 rows: several chunks per thread and 6 gradient row blocks.
    const shape = [96, 1003];
    const x = floats(shape, 'float32', 80, 3, 12), dy = floats(shape, 'float32', 81);
    const gamma = floats([1003], 'float32', 82, 2), beta = floats([1003], 'float32', 83);
    const defaultThreads = native.backendInfo().threads;
    try {
      for (const rms of [false, true]) {
        const results = [1, 2].map((threads) => {
          native.setNumThreads(threads);
          const handles = [x, gamma, beta, dy].map((t) => native.createTensor(t.values, t.shape, t.dtype));
          const fwd = native.runKernel('layerNorm', handles.slice(0, 3), { axis: 1, epsilon: 1e-3, rms });
          const grad = native.runKernel('layerNormGrad', [handles[3]!, handles[0]!, handles[1]!, fwd[1]!, fwd[2]!], { axis: 1, rms });
          const out = [...fwd, ...grad].map((h) => Array.from(h.read()));
          [...handles, ...fwd, ...grad].forEach((h) => h.dispose());
          return out;
        });
        ['y', 'mean', 'rstd', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => {
          const k = results[0]![i]!.findIndex((v, j) => !Object.is(v, results[1]![i]![j]));
          if (k >= 0) throw new Error(`${isa}${rms ? ' rms' : ''}: ${name}[${k}] is ${results[0]![i]![k]} on 1 thread, ${results[1]![i]![k]} on 2`);
        });
      }
    } finally {
      native.setNumThreads(defaultThreads);
    }
  });
});

/**
 * The forward of a gamma whose elements all have the same bits and a beta likewise (the ones and
 * zeros of keras.ops.layerNormalization without them) broadcasts one value each instead of loading
 * them (norm.cc, Affine in norm_kernels.h). Its results must be the bits of the path that loads
 * them: y[r, k] is computed from x's row r, gamma[k] and beta[k] alone, so a run whose gamma
 * differs only at column 0, and one where it differs only at column n - 1, take the loading path
 * and between them give every column's bits under the same gamma and beta.
 */
describe.each(isas)('layerNorm with a uniform gamma and beta on the %s path', (isa) => {
  const run = (x: Input, gamma: Input, beta: Input, rms: boolean) => {
    const h = [x, gamma, beta].map((t) => native.createTensor(t.values, t.shape, t.dtype));
    const out = native.runKernel('layerNorm', h, { axis: 1, epsilon: 1e-3, rms });
    const got = out.map((t) => Array.from(t.read()));
    [...h, ...out].forEach((t) => t.dispose());
    return got;
  };
  const same = (a: number[], b: number[]) => a.findIndex((v, k) => !Object.is(v, b[k]));
  const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

  it('the same bits as gamma and beta loaded: float32 and float64, layer and rms, every tail, -0, NaN and inf', () => {
    native.setIsa(isa);
    // Row lengths below, at and past each vector width and pipeline step (avx512: 16 floats, 32 a step).
    for (const n of [2, 3, 7, 8, 16, 31, 33, 59, 67, 128, 1003, 4109]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const x = floats([5, n], dtype, 100 + n, 3, 12);
        // Row 1 alternates +0 and -0 (xhat is -0 where x is), row 2 is constant (xhat +0), row 3 has a NaN and an inf.
        for (let k = 0; k < n; k++) {
          x.values[n + k] = k % 2 ? -0 : 0;
          x.values[2 * n + k] = 7;
        }
        x.values[3 * n + (n >> 1)] = NaN;
        x.values[3 * n + n - 1] = Infinity;
        for (const [g, b] of [[1, 0], [1, -0], [2.5, -3]] as const) {
          const fill = (v: number): Input => ({ values: ARRAY[dtype].from({ length: n }, () => v), shape: [n], dtype });
          const gamma = fill(g), beta = fill(b);
          const firstOff = fill(g), lastOff = fill(g);
          firstOff.values[0] = g + 1;
          lastOff.values[n - 1] = g + 1;
          for (const rms of [false, true]) {
            const label = `${isa} ${dtype} n ${n} gamma ${g} beta ${show(b)}${rms ? ' rms' : ''}`;
            const [y, mean, rstd] = run(x, gamma, beta, rms);
            const [yFirst, meanFirst, rstdFirst] = run(x, firstOff, beta, rms);
            const [yLast] = run(x, lastOff, beta, rms);
            const want = yFirst!.map((v, i) => (i % n === 0 ? yLast![i]! : v));
            const k = same(y!, want);
            if (k >= 0) throw new Error(`${label}: y[${k}] is ${show(y![k]!)}, the loading path gives ${show(want[k]!)}`);
            expect(same(mean!, meanFirst!), `${label} mean`).toBe(-1);
            expect(same(rstd!, rstdFirst!), `${label} rstd`).toBe(-1);
          }
        }
      }
    }
  });

  it('by hand: rows of +0 and -0 give y = xhat + beta, +0 with beta +0, the bits of x with beta -0', () => {
    native.setIsa(isa);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of [5, 37]) {
        const x: Input = { values: ARRAY[dtype].from({ length: 2 * n }, (_, k) => (k % 3 ? -0 : 0)), shape: [2, n], dtype };
        const ones: Input = { values: ARRAY[dtype].from({ length: n }, () => 1), shape: [n], dtype };
        for (const rms of [false, true]) {
          for (const b of [0, -0]) {
            const [y] = run(x, ones, { values: ARRAY[dtype].from({ length: n }, () => b), shape: [n], dtype }, rms);
            const want = Array.from(x.values, (v) => (Object.is(b, -0) ? v : 0));
            const k = same(y!, want);
            if (k >= 0) throw new Error(`${isa} ${dtype} n ${n} beta ${show(b)}${rms ? ' rms' : ''}: y[${k}] is ${show(y![k]!)}, want ${show(want[k]!)}`);
          }
        }
      }
    }
  });
});

const l3Bytes = native.backendInfo().cpu.l3Bytes;
/** Inputs of n-long rows whose float32 dx is larger than the last-level cache, made once for every ISA. */
const pastCache = new Map<number, { rows: number; x: Input; dy: Input; gamma: Input; beta: Input }>();
function pastCacheInputs(n: number) {
  let got = pastCache.get(n);
  if (!got) {
    const rows = Math.ceil(l3Bytes / (4 * n)) + 37;
    got = { rows, x: floats([rows, n], 'float32', 90, 3, 12), dy: floats([rows, n], 'float32', 91), gamma: floats([n], 'float32', 92, 2), beta: floats([n], 'float32', 93) };
    pastCache.set(n, got);
  }
  return got;
}

describe.each(isas)('layerNormGrad past the last-level cache on the %s path', (isa) => {
  // A float32 dx larger than the cache is written by streaming stores (rows aligned to the vector); its values must be
  // those of the same rows in a small call (plain stores). 1003: one row in 16 aligned; 1024: every row.
  it.skipIf(l3Bytes > 64 * 1024 * 1024).each([1003, 1024])('rows of %i: dx is the same bits as the rows alone', (n) => {
    native.setIsa(isa);
    const { rows, x, dy, gamma, beta } = pastCacheInputs(n);
    const part = 40; // rows checked: the first ones and the last ones
    const slice = (t: Input, from: number): Input => ({ ...t, values: t.values.slice(from * n, (from + part) * n), shape: [part, n] });
    const run = (xs: Input, dys: Input) => {
      const h = [xs, gamma, beta, dys].map((t) => native.createTensor(t.values, t.shape, t.dtype));
      const fwd = native.runKernel('layerNorm', h.slice(0, 3), { axis: 1, epsilon: 1e-3, rms: false });
      const grad = native.runKernel('layerNormGrad', [h[3]!, h[0]!, h[1]!, fwd[1]!, fwd[2]!], { axis: 1, rms: false });
      const dx = grad[0]!.read();
      [...h, ...fwd, ...grad].forEach((t) => t.dispose());
      return dx;
    };
    const whole = run(x, dy);
    for (const from of [0, rows - part]) {
      const alone = run(slice(x, from), slice(dy, from));
      const k = alone.findIndex((v, i) => !Object.is(v, whole[from * n + i]));
      if (k >= 0) throw new Error(`${isa} n ${n}: dx[${from * n + k}] is ${whole[from * n + k]} in the whole, ${alone[k]} alone`);
    }
  });
});

describe('layerNorm by hand, through keras.ops, and errors', () => {
  const t = (values: number[], shape: number[], dtype: NativeDType = 'float64') => native.createTensor(ARRAY[dtype].from(values), shape, dtype);

  it('hand values: x = [1, 2, 3, 6] has mean 3, variance 3.5, mean square 12.5', () => {
    const [x, ones, zeros, dyOnes] = [t([1, 2, 3, 6], [1, 4]), t([1, 1, 1, 1], [4]), t([0, 0, 0, 0], [4]), t([1, 1, 1, 1], [1, 4])];
    const [y, m, r] = native.runKernel('layerNorm', [x!, ones!, zeros!], { axis: 1, epsilon: 0, rms: false });
    Array.from(y!.read()).forEach((v, k) => expect(v).toBeCloseTo([-2, -1, 0, 3][k]! / Math.sqrt(3.5), 14));
    expect(m!.read()[0]).toBe(3);
    expect(r!.read()[0]).toBeCloseTo(1 / Math.sqrt(3.5), 15);
    const [yr, mr] = native.runKernel('layerNorm', [x!, ones!, zeros!], { axis: 1, epsilon: 0, rms: true });
    Array.from(yr!.read()).forEach((v, k) => expect(v).toBeCloseTo([1, 2, 3, 6][k]! / Math.sqrt(12.5), 14));
    expect(mr!.read()[0]).toBe(0);
    // dy = 1, gamma = 1: dx = rstd * (1 - 1 - xhat * mean(xhat)) = 0; dgamma = xhat; dbeta = 1.
    const [dx, dgamma, dbeta] = native.runKernel('layerNormGrad', [dyOnes!, x!, ones!, m!, r!], { axis: 1, rms: false });
    Array.from(dx!.read()).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-15));
    Array.from(dgamma!.read()).forEach((v, k) => expect(v).toBeCloseTo([-2, -1, 0, 3][k]! / Math.sqrt(3.5), 14));
    expect(Array.from(dbeta!.read())).toEqual([1, 1, 1, 1]);
    [x, ones, zeros, dyOnes, y, m, r, yr, mr, dx, dgamma, dbeta].forEach((h) => h!.dispose());
  });

  it('a constant float32 row has variance 0 (rstd = 1 / sqrt(epsilon), y = beta); an infinite first value gives an infinite mean', () => {
    for (const isa of isas) {
      native.setIsa(isa);
      const x = t(Array.from({ length: 37 }, () => 1e4 / 3), [1, 37], 'float32');
      const gamma = t(Array.from({ length: 37 }, (_, k) => k + 1), [37], 'float32'), beta = t(Array.from({ length: 37 }, (_, k) => -k - 1), [37], 'float32');
      const [y, m, r] = native.runKernel('layerNorm', [x, gamma, beta], { axis: 1, epsilon: 0.25, rms: false });
      expect(m!.read()[0], isa).toBe(Math.fround(1e4 / 3));
      expect(r!.read()[0], isa).toBe(2);
      expect(Array.from(y!.read()), isa).toEqual(Array.from({ length: 37 }, (_, k) => -k - 1));
      const inf = t([Infinity, ...Array.from({ length: 16 }, (_, k) => k)], [1, 17], 'float32');
      const [ones, zeros] = [t(new Array(17).fill(1), [17], 'float32'), t(new Array(17).fill(0), [17], 'float32')];
      const [yi, mi, ri] = native.runKernel('layerNorm', [inf, ones!, zeros!], { axis: 1, epsilon: 1e-3, rms: false });
      expect(mi!.read()[0], isa).toBe(Infinity);
      expect(ri!.read()[0], isa).toBeNaN();
      expect(Array.from(yi!.read()).every(Number.isNaN), isa).toBe(true);
      [x, gamma, beta, y, m, r, inf, ones, zeros, yi, mi, ri].forEach((h) => h!.dispose());
    }
  });

  it('keras.ops.layerNormalization and rmsNormalization on cpu equal js, values and gradients', () => {
    const { ops } = keras;
    const run = (backend: string) => {
      keras.config.setBackend(backend);
      const x = ops.convertToTensor(Array.from(randomArray(2 * 3 * 40, 7), (v) => v * 4 + 1), 'float32');
      const xr = ops.reshape(x, [2, 3, 40]);
      const g = ops.convertToTensor(Array.from(randomArray(40, 8)), 'float32');
      const b = ops.convertToTensor(Array.from(randomArray(40, 9)), 'float32');
      const w = ops.reshape(ops.convertToTensor(Array.from(randomArray(240, 10)), 'float32'), [2, 3, 40]);
      const loss = (a: Tensor, gg: Tensor, bb: Tensor) =>
        ops.add(ops.sum(ops.multiply(ops.layerNormalization(a, { gamma: gg, beta: bb, epsilon: 1e-3 }), w)), ops.sum(ops.multiply(ops.rmsNormalization(a, { scale: gg }), w)));
      const grads = keras.grad(loss, { argnums: [0, 1, 2] })(xr, g, b) as Tensor[];
      return [loss(xr, g, b), ...grads].map((r) => Array.from(r.dataSync()));
    };
    try {
      const [want, got] = [run('js'), run('cpu')];
      got.forEach((vals, i) => vals.forEach((v, k) => {
        if (Math.abs(v - want[i]![k]!) > 2e-5 * Math.abs(want[i]![k]!) + 2e-5) throw new Error(`result ${i} element ${k}: cpu ${v}, js ${want[i]![k]}`);
      }));
    } finally {
      keras.config.setBackend('js');
    }
  });

  it('errors name the op, the argument and the shapes', () => {
    const f32 = (shape: number[]): Input => ({ values: new Float32Array(size(shape)), shape, dtype: 'float32' });
    const f64 = (shape: number[]): Input => ({ values: new Float64Array(size(shape)), shape, dtype: 'float64' });
    const i32 = (shape: number[]): Input => ({ values: new Int32Array(size(shape)), shape, dtype: 'int32' });
    const attrs = { axis: 1, epsilon: 1e-3, rms: false };
    expect(nativeError('layerNorm', [f32([2, 3]), f32([2]), f32([3])], attrs).message).toMatch(/layerNorm: gamma must have the shape \(3,\) of the normalized dims of x \(2, 3\), received \(2,\)/);
    expect(nativeError('layerNorm', [f32([2, 3]), f32([3]), f64([3])], attrs).message).toMatch(/layerNorm: beta must be float32 like x, received float64 \(3,\)/);
    expect(nativeError('layerNorm', [i32([2, 3]), i32([3]), i32([3])], attrs).message).toMatch(/layerNorm: expected a float tensor x, received int32 \(2, 3\)/);
    expect(nativeError('layerNorm', [f32([2, 3]), f32([3]), f32([3])], { ...attrs, axis: 2 }).message).toMatch(/layerNorm: axis 2 is out of range for x of shape \(2, 3\)/);
    expect(nativeError('layerNorm', [f32([2, 3]), f32([3]), f32([3])], { axis: 1, rms: false }).message).toMatch(/layerNorm: attribute epsilon is required/);
    expect(nativeError('layerNormGrad', [f32([2, 3]), f32([2, 3]), f32([3]), f32([3]), f32([2])], { axis: 1, rms: false }).message).toMatch(
      /layerNormGrad: mean must have the shape \(2,\) of the rows of x \(2, 3\), received \(3,\)/,
    );
    expect(nativeError('layerNormGrad', [f32([3, 2]), f32([2, 3]), f32([3]), f32([2]), f32([2])], { axis: 1, rms: false }).message).toMatch(/layerNormGrad: dy must have the shape \(2, 3\) of x, received \(3, 2\)/);
    expect(nativeError('layerNorm', [f32([2, 3]), f32([3])], attrs).message).toMatch(/layerNorm: expected 3 inputs, received 2/);
    expect(nativeError('layerNorm', [f32([2, 3]), f32([3]), f32([3])], { ...attrs, rms: 3 }).message).toMatch(/layerNorm: attribute 'rms' must be a boolean/);
  });
});
