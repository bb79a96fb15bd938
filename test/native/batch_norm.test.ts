/**
 * Native fused batch normalization kernels (batchNorm, batchNormGrad) against the js
 * kernels, the reference, on every instruction-set path, at sizes the parity suite does
 * not reach: rows past one thread's block and past one chunk of the sums (2^17 values),
 * channel counts off the vector widths and past one register tile (channels last), long runs
 * of a middle channel axis, offsets far larger than the spread (|mean| >> std), float32 and
 * float64; the same bits on any thread count; and the native errors.
 */
import { describe, expect, it } from 'vitest';
import type { NativeDType } from '../../lib/backends/cpu/native.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import { nativeAttrs } from '../../lib/backends/cpu/index.js';
import { getOp } from '../../lib/ops/registry.js';
import type { OutputSpec } from '../../lib/backends/backend.js';
import { Tensor } from '../../lib/tensor.js';
import { ARRAY, isas, js, native, nativeError, size, type Input } from './kernel_harness.js';
import { randomArray } from './helpers.js';

/** Values offset + spread * uniform(-1, 1). */
function values(shape: number[], dtype: NativeDType, seed: number, offset = 0, spread = 2): Input {
  const r = randomArray(size(shape), seed);
  return { values: ARRAY[dtype].from(r, (v) => offset + spread * v) as Input['values'], shape, dtype };
}

/**
 * Native vs js: |got - want| <= rtol |want| + atol max|want| per output. Both compute in
 * double and round once; they differ only in summation order (and the variance's shift).
 */
function compare(op: string, inputs: Input[], attrs: Record<string, unknown>, label: string): void {
  const tensors = inputs.map((t) => new Tensor({ shape: t.shape, dtype: t.dtype, storage: new JsStorage(t.values) }));
  const specs = getOp(op).infer(tensors, attrs) as OutputSpec[];
  const want = js.kernel(op)!(tensors, attrs, specs) as JsStorage[];
  const handles = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
  const got = native.runKernel(op, handles, nativeAttrs(attrs));
  const f32 = inputs[0]!.dtype === 'float32';
  const rtol = f32 ? 3e-7 : 1e-12;
  const atol = f32 ? 1e-6 : 1e-12;
  try {
    expect(got.length, label).toBe(3);
    got.forEach((g, k) => {
      expect(g.shape, `${label} output ${k} shape`).toEqual(specs[k]!.shape);
      const v = g.read();
      const w = want[k]!.data;
      let scale = 0;
      for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]!));
      for (let i = 0; i < w.length; i++) {
        const ok = Object.is(v[i], w[i]) || Math.abs(v[i]! - w[i]!) <= rtol * Math.abs(w[i]!) + atol * scale;
        if (!ok) throw new Error(`${label}: output ${k} element ${i} is ${v[i]}, js ${w[i]} (rtol ${rtol}, atol ${atol} x ${scale})`);
      }
    });
  } finally {
    for (const h of [...handles, ...got]) h.dispose();
  }
}

function batchCase(shape: number[], axis: number, dtype: NativeDType, offset: number, seed: number) {
  const c = [shape[axis]!];
  const x = values(shape, dtype, seed, offset);
  const gamma = values(c, dtype, seed + 1, 1, 0.5);
  const beta = values(c, dtype, seed + 2);
  const dy = values(shape, dtype, seed + 3);
  const mean = values(c, dtype, seed + 4, offset, 0.1);
  const variance = values(c, dtype, seed + 5, 1.5, 1);
  return { forward: [x, gamma, beta], backward: [dy, x, gamma, mean, variance], attrs: { axis, epsilon: 1e-3 } };
}

const BATCH: [number[], number, NativeDType, number][] = [
  [[16, 9, 9, 35], 3, 'float32', 0], // channels last, C off the vector widths
  [[16, 9, 9, 35], 3, 'float32', 500],
  [[600, 20], 1, 'float64', 7],
  [[4, 6, 33, 17], 1, 'float32', -3], // channels first: runs of 561
  [[5, 3000], 0, 'float64', 0],
  [[2048, 64], 1, 'float32', 1], // many rows: one block of rows per thread
  [[3, 2, 1], 2, 'float32', 0],
  [[1200, 200], 1, 'float32', 1000], // two chunks; 200 channels: a wide tile, single vectors, a scalar tail
  [[2, 6, 40, 300], 1, 'float32', -50], // runs of 12000, two chunks
];

/** Forward and backward outputs of a case on `threads` pool threads. */
function outputsOn(threads: number, c: ReturnType<typeof batchCase>): ArrayLike<number>[] {
  native.setNumThreads(threads);
  const results: ArrayLike<number>[] = [];
  for (const [op, inputs] of [['batchNorm', c.forward], ['batchNormGrad', c.backward]] as const) {
    const handles = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
    const got = native.runKernel(op, handles, nativeAttrs(c.attrs));
    results.push(...got.map((g) => g.read()));
    for (const h of [...handles, ...got]) h.dispose();
  }
  return results;
}

describe('native fused batch normalization vs the js kernels', () => {
  for (const isa of isas) {
    it(`batchNorm / batchNormGrad on ${isa}`, () => {
      native.setIsa(isa);
      BATCH.forEach(([shape, axis, dtype, offset], k) => {
        const c = batchCase(shape, axis, dtype, offset, 10 * k + 3);
        const label = `${isa} ${dtype}${JSON.stringify(shape)} axis ${axis} offset ${offset}`;
        compare('batchNorm', c.forward, c.attrs, `batchNorm ${label}`);
        compare('batchNormGrad', c.backward, c.attrs, `batchNormGrad ${label}`);
      });
    });
  }

  it('gives the same bits on 1, 2 and 3 threads (fixed chunks of the sums, added in order)', () => {
    const cases: [number[], number][] = [
      [[4096, 96], 1], // rows of 96 channels, three chunks
      [[8, 12, 64, 64], 1], // runs of 4096, three chunks
    ];
    try {
      for (const [shape, axis] of cases) {
        for (const dtype of ['float32', 'float64'] as const) {
          const c = batchCase(shape, axis, dtype, 3, 77);
          const one = outputsOn(1, c);
          for (const threads of [2, 3]) {
            outputsOn(threads, c).forEach((got, k) => {
              const want = one[k]!;
              for (let i = 0; i < want.length; i++) {
                if (!Object.is(got[i], want[i])) {
                  throw new Error(`${dtype}${JSON.stringify(shape)} output ${k} (y, mean, variance, dx, dgamma, dbeta) element ${i} is ${got[i]} on ${threads} threads, ${want[i]} on 1`);
                }
              }
            });
          }
        }
      }
    } finally {
      native.setNumThreads(0);
    }
  });

  it('rejects bad operands with errors naming the op, the argument and the shapes', () => {
    const x = values([2, 3], 'float32', 1);
    const v3 = values([3], 'float32', 2);
    const v2 = values([2], 'float32', 3);
    const err = (op: string, inputs: Input[], attrs: Record<string, unknown>) => nativeError(op, inputs, attrs).message;
    expect(err('batchNorm', [x, v3, v3], { axis: 0, epsilon: 1e-3 })).toMatch(/batchNorm: gamma must have the shape \(2,\) of the channels \(axis 0\) of x \(2, 3\), received \(3,\)/);
    expect(err('batchNorm', [x, values([3], 'float64', 4), v3], { axis: 1, epsilon: 1e-3 })).toMatch(/batchNorm: gamma must be float32 like x, received float64 \(3,\)/);
    expect(err('batchNorm', [x, v3, v3], { axis: 2, epsilon: 1e-3 })).toMatch(/batchNorm: axis 2 is out of range for x of shape \(2, 3\)/);
    expect(err('batchNorm', [x, v3, v3], { axis: 1 })).toMatch(/batchNorm: attribute epsilon is required/);
    expect(err('batchNorm', [x, v3, v3], { axis: 1, epsilon: -1 })).toMatch(/batchNorm: attribute epsilon must be a non-negative number/);
    expect(err('batchNormGrad', [values([2, 4], 'float32', 5), x, v3, v3, v3], { axis: 1, epsilon: 1e-3 })).toMatch(/batchNormGrad: dy must have the shape \(2, 3\) of x, received \(2, 4\)/);
    expect(err('batchNormGrad', [x, x, v3, v2, v3], { axis: 1, epsilon: 1e-3 })).toMatch(/batchNormGrad: mean must have the shape \(3,\) of the channels \(axis 1\) of x \(2, 3\), received \(2,\)/);
    expect(err('batchNorm', [values([2, 3], 'int32', 6), values([3], 'int32', 7), values([3], 'int32', 8)], { axis: 1, epsilon: 1e-3 })).toMatch(/batchNorm: expected a float tensor x, received int32 \(2, 3\)/);
  });
});
