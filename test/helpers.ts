/**
 * Test helpers: value comparison with informative messages and float64
 * finite-difference gradient checks.
 */
import { expect } from 'vitest';
import * as keras from '../lib/index.js';
import type { Tensor } from '../lib/index.js';

const { ops } = keras;

type Nested = number | boolean | Nested[];

function flatten(v: Nested | ArrayLike<number>): number[] {
  if (typeof v === 'number') return [v];
  if (typeof v === 'boolean') return [v ? 1 : 0];
  if (Array.isArray(v)) return v.flatMap((x) => flatten(x as Nested));
  return Array.from(v as ArrayLike<number>);
}

/**
 * Asserts `actual` has `expected` values (nested arrays or a tensor) within
 * tolerance; on failure names the first differing element, both values and the shapes.
 */
export function expectClose(actual: Tensor, expected: Nested | Tensor | ArrayLike<number>, options: { rtol?: number; atol?: number; shape?: number[] } = {}): void {
  const { rtol = 1e-5, atol = 1e-6 } = options;
  const got = Array.from(actual.dataSync());
  const want = expected instanceof keras.Tensor ? Array.from(expected.dataSync()) : flatten(expected as Nested);
  if (options.shape) expect(actual.shape, 'shape').toEqual(options.shape);
  if (expected instanceof keras.Tensor) expect(actual.shape, 'shape').toEqual(expected.shape);
  expect(got.length, `number of elements (shape ${JSON.stringify(actual.shape)})`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    const ok = (Number.isNaN(w) && Number.isNaN(g)) || g === w || Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) {
      expect.fail(`element ${i} of shape ${JSON.stringify(actual.shape)} differs: got ${g}, expected ${w} (rtol ${rtol}, atol ${atol})\n got: ${JSON.stringify(got.slice(0, 20))}\nwant: ${JSON.stringify(want.slice(0, 20))}`);
    }
  }
}

/** Uniform integers in [0, n) from a seeded LCG: the random configurations of a test, reproducible by seed. */
export function draws(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

/** A float64 tensor with deterministic pseudo-random values in [lo, hi). */
export function randomTensor(shape: number[], seed = 1, lo = -1, hi = 1): Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    values[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return ops.reshape(ops.convertToTensor(values), shape);
}

/**
 * Compares `keras.grad` of `fn` (reduced by a fixed random projection to a scalar,
 * so every output element matters) with central finite differences in float64.
 */
export function checkGrad(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: { eps?: number; rtol?: number; atol?: number; argnums?: number[] } = {}): void {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-7 } = options;
  const argnums = options.argnums ?? inputs.map((_, i) => i);
  for (const x of inputs) if (argnums.includes(inputs.indexOf(x))) expect(x.dtype, 'checkGrad inputs must be float64').toBe('float64');
  const probe = fn(...inputs);
  const weights = randomTensor(probe.shape, 7, 0.5, 1.5);
  const scalar = (...xs: Tensor[]) => ops.sum(ops.multiply(fn(...xs), ops.cast(weights, probe.dtype)));
  const analytic = keras.grad(scalar, { argnums })(...inputs) as Tensor[];
  argnums.forEach((argIndex, k) => {
    const x = inputs[argIndex];
    const base = x.dataSync() as Float64Array;
    const numeric = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number) => {
        const v = base.slice();
        v[i] += delta;
        const xi = ops.reshape(ops.convertToTensor(v), x.shape);
        const args = inputs.map((t, j) => (j === argIndex ? xi : t));
        return scalar(...args).item();
      };
      numeric[i] = (at(eps) - at(-eps)) / (2 * eps);
    }
    const got = analytic[k].dataSync();
    expect(analytic[k].shape, `gradient shape of input ${argIndex}`).toEqual(x.shape);
    for (let i = 0; i < numeric.length; i++) {
      const ok = Math.abs(got[i] - numeric[i]) <= atol + rtol * Math.abs(numeric[i]) + 1e-4 * eps;
      if (!ok) expect.fail(`gradient of input ${argIndex} element ${i}: autodiff ${got[i]}, finite differences ${numeric[i]}`);
    }
  });
}
