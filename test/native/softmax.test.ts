/**
 * Native CPU softmax, logSoftmax, softmaxGrad and sparseSoftmaxCrossEntropy against the js
 * backend's kernels, the reference, on every instruction-set path: any axis (strided
 * rows), rows past one vector and past one thread's chunk, size-0/size-1 dims,
 * -inf / huge / NaN values, out-of-range labels, float32 and float64, and errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import { nnKernels } from '../../lib/backends/js/nn.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import '../../lib/ops/nn.js';
import { getOp } from '../../lib/ops/registry.js';
import type { Tensor } from '../../lib/tensor.js';
import { addon, randomArray } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));

const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;
type Dtype = keyof typeof ARRAY;

interface Operand {
  shape: number[];
  values: ArrayLike<number>;
  dtype: Dtype;
}

function jsRun(op: string, inputs: Operand[], attrs: Record<string, unknown>): Operand {
  const [out] = getOp(op).infer(inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })), attrs);
  const fake = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, storage: new JsStorage(ARRAY[t.dtype].from(t.values)) }) as unknown as Tensor);
  const [storage] = nnKernels[op]!(fake, attrs, [{ shape: out!.shape as number[], dtype: out!.dtype }]) as JsStorage[];
  return { shape: out!.shape as number[], values: storage!.data, dtype: out!.dtype as Dtype };
}

/** Native vs js: |a - b| <= rtol * |b| + atol, equal infinities and NaNs. */
function compare(op: string, inputs: Operand[], attrs: Record<string, unknown>, label: string): void {
  const want = jsRun(op, inputs, attrs);
  const f32 = want.dtype === 'float32';
  const rtol = f32 ? 3e-7 : 1e-13;
  // log(sum) of a row dominated by one entry is near 0 and only known to a few double ulps absolutely.
  const atol = op === 'softmax' ? (f32 ? 1e-37 : 1e-300) : 1e-15;
  const handles = inputs.map((t) => native.createTensor(ARRAY[t.dtype].from(t.values) as NativeTypedArray, t.shape, t.dtype as NativeDType));
  const [out] = native.runKernel(op, handles, attrs);
  try {
    expect(out!.shape, label).toEqual(want.shape);
    expect(out!.dtype, label).toBe(want.dtype);
    const got = out!.read();
    // logSoftmaxGrad's exp(y) is a float (vector_math's exp, within a few ulps, as the exp op's):
    // its error scales with exp(y) * sum(dy) = dy - dx, which dx can cancel down to far below.
    const scale = (b: number, i: number) => (op === 'logSoftmaxGrad' ? Math.abs(b) + 4 * Math.abs(inputs[1]!.values[i]! - b) : Math.abs(b));
    for (let i = 0; i < got.length; i++) {
      const a = got[i]!, b = want.values[i]!;
      const ok = Number.isNaN(b) ? Number.isNaN(a) : a === b || Math.abs(a - b) <= rtol * scale(b, i) + atol;
      if (!ok) throw new Error(`${label}: element ${i} expected ${b} got ${a}`);
    }
  } finally {
    handles.forEach((h) => h.dispose());
    out!.dispose();
  }
}

const ROW_CASES: [number[], number][] = [
  [[3, 5], 1],
  [[2, 4, 3], 1], // strided rows
  [[4, 1, 3], 0],
  [[2, 0, 3], 2],
  [[2, 3, 0], 1], // rows of length 0
  [[3, 67], 1], // not a multiple of any vector width
  [[64, 1000], 1], // several threads' chunks
  [[300, 7, 5], 1],
  [[7], 0],
  [[1, 1], 1],
  [[5, 33, 2], 2],
];

const SPECIAL = [-Infinity, 1, 2, -Infinity, 3e38, -3e38, 3, 0, 88, -103, 1e-30, -0, 50, -50, 7, 0.5, 2, 2, 2, 2, 2];

describe.each(isas)('softmax family on the %s path', (isa) => {
  it('softmax and logSoftmax match the js kernels on every axis, float32 and float64', () => {
    native.setIsa(isa);
    ROW_CASES.forEach(([shape, axis], i) => {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const scale of [3, 60]) {
          const x = { shape, dtype, values: randomArray(size(shape), 10 + i).map((v) => v * scale) };
          compare('softmax', [x], { axis }, `softmax ${isa} ${dtype} ${JSON.stringify(shape)} axis ${axis} x${scale}`);
          compare('logSoftmax', [x], { axis }, `logSoftmax ${isa} ${dtype} ${JSON.stringify(shape)} axis ${axis} x${scale}`);
        }
      }
    });
  });

  it.each(['softmaxGrad', 'logSoftmaxGrad'])('%s matches the js kernel on every axis and row length, float32 and float64, NaN and inf in dy kept to their rows', (op) => {
    native.setIsa(isa);
    // softmax's y are probabilities, logSoftmax's their logs.
    const yOf = (v: number) => (op === 'softmaxGrad' ? (v + 1) / 2 : Math.log((v + 1.001) / 2));
    const cases: [number[], number][] = [...ROW_CASES, [[16, 4096], 1], [[40, 64], 1], [[9, 1], 1]];
    cases.forEach(([shape, axis], i) => {
      for (const dtype of ['float32', 'float64'] as const) {
        const y = { shape, dtype, values: randomArray(size(shape), 30 + i).map(yOf) };
        const dy = { shape, dtype, values: randomArray(size(shape), 40 + i).map((v) => v * 5) };
        compare(op, [y, dy], { axis }, `${op} ${isa} ${dtype} ${JSON.stringify(shape)} axis ${axis}`);
      }
    });
    const y = { shape: [3, 20], dtype: 'float32' as const, values: randomArray(60, 7).map(yOf) };
    const dy = { shape: [3, 20], dtype: 'float32' as const, values: Array.from(randomArray(60, 8), (v, k) => (k === 5 ? NaN : k === 33 ? Infinity : v)) };
    compare(op, [y, dy], { axis: 1 }, `${op} special ${isa}`);
  });

  it('sparseSoftmaxCrossEntropyGrad gives the bits of the composite it replaced, (softmax * valid - oneHot) * dy, out-of-range labels included', () => {
    native.setIsa(isa);
    const run = (op: string, inputs: ReturnType<typeof native.createTensor>[], attrs: Record<string, unknown> = {}) => native.runKernel(op, inputs, attrs)[0]!;
    for (const [rows, n] of [[5, 7], [64, 1000], [3, 4099], [300, 16]] as [number, number][]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const labelValues = Array.from({ length: rows }, (_, r) => (r % 7 === 6 ? (r % 2 ? -1 : n) : (r * 13) % n));
        const labels = native.createTensor(Int32Array.from(labelValues), [rows], 'int32');
        const logits = native.createTensor(ARRAY[dtype].from(randomArray(rows * n, rows + n).map((v) => v * 8)) as NativeTypedArray, [rows, n], dtype);
        const dyValues = randomArray(rows, 3 * rows);
        const dy = native.createTensor(ARRAY[dtype].from(dyValues) as NativeTypedArray, [rows], dtype);
        const gotHandle = run('sparseSoftmaxCrossEntropyGrad', [labels, logits, dy]);
        const pHandle = run('softmax', [logits], { axis: 1 });
        const got = gotHandle.read(), p = pHandle.read();
        const round = dtype === 'float32' ? Math.fround : (v: number) => v;
        for (let i = 0; i < rows * n; i++) {
          const r = Math.floor(i / n), k = i % n;
          const valid = labelValues[r]! >= 0 && labelValues[r]! < n ? 1 : 0;
          const want = round(round(p[i]! * valid - (k === labelValues[r] ? 1 : 0)) * round(dyValues[r]!));
          if (!Object.is(got[i], want)) throw new Error(`sparseSoftmaxCrossEntropyGrad ${isa} ${dtype} [${rows},${n}]: element ${i} expected ${want} got ${got[i]}`);
        }
        [labels, logits, dy, gotHandle, pHandle].forEach((h) => h.dispose());
      }
    }
  });

  it('-inf, huge magnitudes and NaN rows: no overflow, NaN only where js has it', () => {
    native.setIsa(isa);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of [3, 7, 21]) {
        const x = { shape: [SPECIAL.length, n], dtype, values: Array.from({ length: SPECIAL.length * n }, (_, k) => SPECIAL[(k * 5) % SPECIAL.length]!) };
        compare('softmax', [x], { axis: 1 }, `softmax special ${isa} ${dtype} n=${n}`);
        compare('logSoftmax', [x], { axis: 1 }, `logSoftmax special ${isa} ${dtype} n=${n}`);
        compare('softmax', [x], { axis: 0 }, `softmax special axis 0 ${isa} ${dtype} n=${n}`);
      }
      const nan = { shape: [2, 9], dtype, values: [1, 2, NaN, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9] };
      compare('softmax', [nan], { axis: 1 }, `softmax NaN ${isa} ${dtype}`);
      compare('logSoftmax', [nan], { axis: 1 }, `logSoftmax NaN ${isa} ${dtype}`);
      // a -inf entry gives exactly 0 / -inf, the rest are finite
      const t = native.createTensor(ARRAY[dtype].from([-Infinity, 0, Math.log(3), 1, 1, 1, 1, 1, 1, 1]), [1, 10], dtype);
      const [p] = native.runKernel('softmax', [t], { axis: 1 });
      const [lp] = native.runKernel('logSoftmax', [t], { axis: 1 });
      expect(p!.read()[0]).toBe(0);
      expect(lp!.read()[0]).toBe(-Infinity);
      expect(Array.from(lp!.read()).slice(1).every(Number.isFinite)).toBe(true);
      [t, p, lp].forEach((h) => h!.dispose());
    }
  });

  // float32 softmax rows form e^(x - max) differently by where the max lies
  // (softmax_kernels.h): e^x 2^k, k in {128, 64, 0, -64}, for a max in [-84, 88]; else
  // x - max with its rounding recovered (logSoftmax always), or exact when |max| >= 2^24.
  // Each edge, in rows long enough for the vector loops and their stash (n = 300, 1100),
  // with -inf, NaN, and entries far below the max inside them.
  it('every range of the row max, in long rows: softmax, logSoftmax and cross-entropy match js', () => {
    native.setIsa(isa);
    const maxima = [-3e7, -1e5, -85, -84, -41, -40, -20, -1e-3, 0, 1e-30, 30, 48, 48.5, 70, 88, 88.5, 1e5, 2e7];
    for (const n of [300, 1100]) {
      const base = randomArray(maxima.length * n, 77 + n);
      const values = Array.from(base, (v, k) => {
        const r = Math.floor(k / n), j = k % n;
        if (j === 7) return maxima[r]!; // the max itself
        if (j === 11 && r % 3 === 0) return -Infinity;
        return maxima[r]! - 20 * (1 + v); // within 40 below the max
      });
      const x = { shape: [maxima.length, n], dtype: 'float32' as const, values };
      compare('softmax', [x], { axis: 1 }, `softmax max ranges ${isa} n=${n}`);
      compare('logSoftmax', [x], { axis: 1 }, `logSoftmax max ranges ${isa} n=${n}`);
      const labels = { shape: [maxima.length], dtype: 'int32' as const, values: maxima.map((_, r) => (r * 37) % n) };
      compare('sparseSoftmaxCrossEntropy', [labels, x], {}, `sparseSoftmaxCrossEntropy max ranges ${isa} n=${n}`);
      const wide = { shape: [maxima.length, n], dtype: 'float32' as const, values: values.map((v, k) => (k % n === 5 ? maxima[Math.floor(k / n)]! - 150 : v)) };
      compare('softmax', [wide], { axis: 1 }, `softmax max ranges, an entry 150 below ${isa} n=${n}`);
      const nan = { shape: [2, n], dtype: 'float32' as const, values: values.slice(6 * n, 8 * n).map((v, k) => (k === 250 || k === n + 3 ? NaN : v)) };
      compare('softmax', [nan], { axis: 1 }, `softmax NaN in a long row ${isa} n=${n}`);
      compare('logSoftmax', [nan], { axis: 1 }, `logSoftmax NaN in a long row ${isa} n=${n}`);
    }
  });

  // A row of one to four vectors has no whole range block: its first vector starts the max and
  // min, the rest are taken one by one, and the lanes are folded at the end. The max, an entry
  // 150 below it (past exp's clamp), -inf and NaN at every index of such rows, on every lane;
  // rows near 0 and near 200 (whose p are e^(x - max), where a min folded wrong would skip the
  // clamp that keeps -inf - max finite).
  it('short rows: the max, a far entry, -inf or NaN at every index, softmax, logSoftmax and cross-entropy match js', () => {
    native.setIsa(isa);
    for (const n of [16, 17, 31, 40, 63, 64, 65]) {
      for (const level of [0, 200]) {
        const specials = [3, -150, -Infinity, NaN];
        const rows = specials.length * n;
        const base = randomArray(rows * n, 5 + n);
        const values = Array.from(base, (v, k) => {
          const r = Math.floor(k / n);
          return level + (k % n === r % n ? specials[Math.floor(r / n)]! : v);
        });
        const x = { shape: [rows, n], dtype: 'float32' as const, values };
        const label = `short rows ${isa} n=${n} near ${level}`;
        compare('softmax', [x], { axis: 1 }, `softmax ${label}`);
        compare('logSoftmax', [x], { axis: 1 }, `logSoftmax ${label}`);
        const labels = { shape: [rows], dtype: 'int32' as const, values: Array.from({ length: rows }, (_, r) => (r * 7) % n) };
        compare('sparseSoftmaxCrossEntropy', [labels, x], {}, `sparseSoftmaxCrossEntropy ${label}`);
      }
    }
  });
  it('logSoftmax and cross-entropy of long rows with one dominant entry keep log(sum) near 0 to its last digits', () => {
    native.setIsa(isa);
    // (a wider gap leaves log(sum) to the js kernel's own double rounding of sum, ~1e-15)
    for (const gap of [12, 20]) {
      const n = 1000;
      const values = Array.from(randomArray(4 * n, gap), (v, k) => (k % n === 123 ? 5 * (k / n) : 5 * Math.floor(k / n) - gap + v));
      const x = { shape: [4, n], dtype: 'float32' as const, values };
      compare('logSoftmax', [x], { axis: 1 }, `logSoftmax dominant entry ${isa} gap ${gap}`);
      compare('sparseSoftmaxCrossEntropy', [{ shape: [4], dtype: 'int32', values: [123, 123, 0, 999] }, x], {}, `sparseSoftmaxCrossEntropy dominant entry ${isa} gap ${gap}`);
    }
  });

  // Rows whose max lies in [-84, 88] sum p = e^x 2^k in float entries of a pack; where log(sum) is small,
  // the max's entry is recomputed and its p taken as exactly 1 (softmax_kernels.h, log_sum_pow2). The max
  // in each place a row's vectors take it (a pack's first, middle and last register, the single vectors
  // after the packs, the scalar tail), once or twice, at each scale 2^k, with sums either side of 16.
  it('logSoftmax and cross-entropy near 0 wherever the max lies in the row, at every scale of e^x', () => {
    native.setIsa(isa);
    const maxima = [-83.5, -60, -10, 0.25, 30, 60, 87.5];
    for (const n of [1000, 67, 13]) {
      const places = [0, 5, 17, 33, 50, 63, 123, 961, 975, 990, 995, n - 1].filter((j) => j < n);
      for (const [near, gap] of [[0, 14], [15, 9], [17, 9], [1, 0.5]]) {
        const rows: number[][] = [], labels: number[] = [];
        maxima.forEach((m, r) => {
          places.forEach((at, q) => {
            const noise = randomArray(n, 1000 * r + q + near);
            const row = Array.from(noise, (v) => m - gap - 2 + v);
            for (let j = 1; j <= near; j++) row[(at + 7 * j) % n] = m - 1e-3 * j; // entries just below the max
            row[at] = m;
            if (q % 3 === 2) row[(at + n - 1) % n] = m; // the max twice
            rows.push(row);
            labels.push(q % 2 ? at : (at + 3) % n);
          });
        });
        const x = { shape: [rows.length, n], dtype: 'float32' as const, values: rows.flat() };
        const label = `${isa} n=${n} near=${near} gap=${gap}`;
        compare('logSoftmax', [x], { axis: 1 }, `logSoftmax max placed ${label}`);
        compare('sparseSoftmaxCrossEntropy', [{ shape: [rows.length], dtype: 'int32', values: labels }, x], {}, `sparseSoftmaxCrossEntropy max placed ${label}`);
      }
    }
  });

  it('float32 softmax and logSoftmax of 4096-wide rows stay within 2.5 ulps of the float64 result', () => {
    native.setIsa(isa);
    const rows = 16, n = 4096;
    for (const scale of [4, 60]) {
      const x = Float32Array.from(randomArray(rows * n, scale), (v) => v * scale);
      const t = native.createTensor(x, [rows, n], 'float32');
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const [out] = native.runKernel(op, [t], { axis: 1 });
        const got = out!.read();
        out!.dispose();
        let worst = { ulps: 0, at: -1, want: 0 };
        for (let r = 0; r < rows; r++) {
          const row = x.subarray(r * n, (r + 1) * n);
          const m = row.reduce((a, b) => Math.max(a, b), -Infinity);
          const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
          for (let k = 0; k < n; k++) {
            const want = op === 'softmax' ? Math.exp(row[k]! - m) / s : row[k]! - m - Math.log(s);
            if (Math.abs(want) < 2 ** -126) continue; // subnormal outputs: absolute error only
            const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want))) - 23);
            const ulps = Math.abs(got[r * n + k]! - want) / ulp;
            if (ulps > worst.ulps) worst = { ulps, at: r * n + k, want };
          }
        }
        expect(worst.ulps, `${op} ${isa} x${scale}: element ${worst.at} is ${worst.ulps.toFixed(2)} ulps from ${worst.want}`).toBeLessThanOrEqual(2.5);
      }
      t.dispose();
    }
  });

  it('sparseSoftmaxCrossEntropy matches the js kernel, out-of-range labels give 0', () => {
    native.setIsa(isa);
    const shapes = [[4, 5], [2, 3, 7], [0, 3], [3, 67], [512, 100], [1, 1], [5, 0]];
    shapes.forEach((shape, i) => {
      const n = shape[shape.length - 1]!;
      const rows = size(shape.slice(0, -1));
      const labels = { shape: shape.slice(0, -1), dtype: 'int32' as const, values: Array.from({ length: rows }, (_, r) => (r % 5 === 4 ? (r % 2 ? -1 : n) : (r * 7) % Math.max(1, n))) };
      for (const dtype of ['float32', 'float64'] as const) {
        const logits = { shape, dtype, values: randomArray(size(shape), 50 + i).map((v) => v * 10) };
        compare('sparseSoftmaxCrossEntropy', [labels, logits], {}, `sparseSoftmaxCrossEntropy ${isa} ${dtype} ${JSON.stringify(shape)}`);
      }
    });
    for (const dtype of ['float32', 'float64'] as const) {
      const logits = { shape: [3, 7], dtype, values: Array.from({ length: 21 }, (_, k) => SPECIAL[k]!) };
      compare('sparseSoftmaxCrossEntropy', [{ shape: [3], dtype: 'int32', values: [1, 4, 6] }, logits], {}, `sparseSoftmaxCrossEntropy special ${isa} ${dtype}`);
    }
  });
});

describe('softmax family by hand and errors', () => {
  it('hand values', () => {
    const x = native.createTensor(new Float64Array([0, Math.log(3), 5, 5]), [2, 2], 'float64');
    const [p] = native.runKernel('softmax', [x], { axis: 1 });
    expect(Array.from(p!.read()).map((v) => +v.toFixed(12))).toEqual([0.25, 0.75, 0.5, 0.5]);
    const [pc] = native.runKernel('softmax', [x], { axis: 0 });
    const e = 1 / (1 + Math.exp(5));
    Array.from(pc!.read()).forEach((v, i) => expect(v).toBeCloseTo([e, 3 / (3 + Math.exp(5)), 1 - e, Math.exp(5) / (3 + Math.exp(5))][i]!, 12));
    const labels = native.createTensor(new Int32Array([1, 9]), [2], 'int32');
    const [l] = native.runKernel('sparseSoftmaxCrossEntropy', [labels, x], {});
    expect(l!.read()[0]).toBeCloseTo(Math.log(4 / 3), 14);
    expect(l!.read()[1]).toBe(0);
    // softmaxGrad: y = [1/4, 3/4], dy = [1, 0]: sum(dy y) = 1/4, dx = y (dy - 1/4).
    const y = native.createTensor(new Float32Array([0.25, 0.75]), [1, 2], 'float32');
    const dy = native.createTensor(new Float32Array([1, 0]), [1, 2], 'float32');
    const [dx] = native.runKernel('softmaxGrad', [y, dy], { axis: 1 });
    expect(Array.from(dx!.read())).toEqual([0.1875, -0.1875]);
    // logSoftmaxGrad: y = log [1/4, 3/4], dy = [1, 0]: sum(dy) = 1, dx = dy - exp(y).
    const ly = native.createTensor(new Float32Array([Math.log(0.25), Math.log(0.75)]), [1, 2], 'float32');
    const [ldx] = native.runKernel('logSoftmaxGrad', [ly, dy], { axis: 1 });
    Array.from(ldx!.read()).forEach((v, i) => expect(v).toBeCloseTo([0.75, -0.75][i]!, 6));
    [x, p, pc, labels, l, y, dy, dx, ly, ldx].forEach((h) => h!.dispose());
  });

  it('errors name the op and the shapes', () => {
    const f32 = (shape: number[]) => native.createTensor(new Float32Array(size(shape)), shape, 'float32');
    const i32 = (shape: number[]) => native.createTensor(new Int32Array(size(shape)), shape, 'int32');
    expect(() => native.runKernel('softmax', [f32([2, 3])], { axis: 2 })).toThrow(/softmax: axis 2 is out of range for input of shape \(2, 3\)/);
    expect(() => native.runKernel('logSoftmax', [i32([2, 3])], { axis: 1 })).toThrow(/logSoftmax: expected a float tensor, received int32 \(2, 3\)/);
    expect(() => native.runKernel('sparseSoftmaxCrossEntropy', [i32([3]), f32([2, 4])], {})).toThrow(/sparseSoftmaxCrossEntropy: labels must have the shape of logits without the last axis, received labels.shape=\(3,\), logits.shape=\(2, 4\)/);
    expect(() => native.runKernel('sparseSoftmaxCrossEntropy', [f32([2]), f32([2, 4])], {})).toThrow(/sparseSoftmaxCrossEntropy: labels must be int32, received float32 \(2,\)/);
    expect(() => native.runKernel('sparseSoftmaxCrossEntropy', [i32([2]), i32([2, 4])], {})).toThrow(/sparseSoftmaxCrossEntropy: logits must be a float tensor/);
    expect(() => native.runKernel('softmaxGrad', [f32([2, 3]), f32([2, 4])], { axis: 1 })).toThrow(/softmaxGrad: dy must be float32 \(2, 3\) like y, received float32 \(2, 4\)/);
    expect(() => native.runKernel('softmaxGrad', [f32([2, 3]), f32([2, 3])], { axis: 2 })).toThrow(/softmaxGrad: axis 2 is out of range for input of shape \(2, 3\)/);
    expect(() => native.runKernel('logSoftmaxGrad', [f32([2, 3]), f32([3, 3])], { axis: 1 })).toThrow(/logSoftmaxGrad: dy must be float32 \(2, 3\) like y, received float32 \(3, 3\)/);
    expect(() => native.runKernel('sparseSoftmaxCrossEntropyGrad', [i32([2]), f32([2, 4]), f32([3])], {})).toThrow(/sparseSoftmaxCrossEntropyGrad: dy must be float32 \(2,\) like the loss, received float32 \(3,\)/);
    // The gradient's checks of labels and logits name the gradient, not the loss.
    expect(() => native.runKernel('sparseSoftmaxCrossEntropyGrad', [i32([3]), f32([2, 4]), f32([2])], {})).toThrow(/^sparseSoftmaxCrossEntropyGrad: labels must have the shape of logits without the last axis, received labels.shape=\(3,\), logits.shape=\(2, 4\)/);
    expect(() => native.runKernel('sparseSoftmaxCrossEntropyGrad', [f32([2]), f32([2, 4]), f32([2])], {})).toThrow(/^sparseSoftmaxCrossEntropyGrad: labels must be int32, received float32 \(2,\)/);
  });
});

describe.each(isas)('softmax rows on the %s path, by thread count', (isa) => {
  it('softmax and logSoftmax are the same bits on 1 and 2 threads (a row\'s max comes from the previous row\'s pass or its own)', () => {
    native.setIsa(isa);
    // 96 rows of 1003: several chunks per thread, whole exp chunks and a tail; NaN and -inf in a row's first
    // and later vectors, which the max of a row read during the previous row's pass meets too.
    const n = 1003;
    const special = new Map([[5 * n + 3, NaN], [9 * n + 700, NaN], [7 * n + 1, -Infinity], [40 * n + 900, -Infinity]]);
    const values = Float32Array.from(randomArray(96 * n, 90), (v, k) => special.get(k) ?? 12 * v);
    const defaultThreads = native.backendInfo().threads;
    try {
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const results = [1, 2].map((threads) => {
          native.setNumThreads(threads);
          const t = native.createTensor(values, [96, n], 'float32');
          const [out] = native.runKernel(op, [t], { axis: 1 });
          const got = Array.from(out!.read());
          [t, out!].forEach((h) => h.dispose());
          return got;
        });
        const k = results[0]!.findIndex((v, j) => !Object.is(v, results[1]![j]));
        if (k >= 0) throw new Error(`${op} ${isa}: element ${k} is ${results[0]![k]} on 1 thread, ${results[1]![k]} on 2`);
      }
    } finally {
      native.setNumThreads(defaultThreads);
    }
  });
});

// Rows of 2048 floats past this machine's last-level cache: built once for every path.
let pastCache: { rows: number; n: number; values: Float32Array } | undefined;

describe.each(isas)('softmax outputs past the last-level cache on the %s path', (isa) => {
  it('softmax (p through scratch, streamed to y) and logSoftmax (streamed) give the same bits as the same rows in cache', () => {
    native.setIsa(isa);
    if (!pastCache) {
      const n = 2048, rows = Math.ceil(native.backendInfo().cpu.l3Bytes / (4 * n)) + 3;
      pastCache = { rows, n, values: Float32Array.from(randomArray(rows * n, 91), (v) => 12 * v) };
    }
    const { rows, n, values } = pastCache;
    const run = (op: string, x: Float32Array, count: number) => {
      const t = native.createTensor(x, [count, n], 'float32');
      const [out] = native.runKernel(op, [t], { axis: 1 });
      const got = out!.read() as Float32Array;
      [t, out!].forEach((h) => h.dispose());
      return got;
    };
    for (const op of ['softmax', 'logSoftmax']) {
      const big = run(op, values, rows);
      // The first and last rows on their own: an output in cache, written plainly.
      for (const from of [0, rows - 40]) {
        const small = run(op, values.subarray(from * n, (from + 40) * n), 40);
        const k = small.findIndex((v, j) => !Object.is(v, big[from * n + j]));
        if (k >= 0) throw new Error(`${op} ${isa}: row ${from + Math.floor(k / n)} element ${k % n} is ${big[from * n + k]} past the cache, ${small[k]} in it`);
      }
    }
  });
});
