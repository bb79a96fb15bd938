/**
 * The one place parity tolerances live. A cpu value `a` matches the js reference `b`
 * when both are NaN, both are equal (infinities included), or
 * |a - b| <= atol * scale + rtol * |b|, where `scale` is the magnitude of the case's
 * inputs (so tiny-magnitude cases are not waved through by an absolute tolerance).
 * Integer and bool results must be identical.
 */
import type { DType } from '../../lib/index.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * Forward results. float32: the native kernels use vectorized polynomial
 * approximations and other summation orders than js (which computes in float64 and
 * rounds once), a few ulps apart. float64: the same, at float64 precision.
 */
export const FORWARD: Record<DType, Tolerance> = {
  float32: { rtol: 2e-5, atol: 2e-6 },
  float64: { rtol: 1e-12, atol: 1e-13 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
  float16: { rtol: 1e-3, atol: 1e-3 },
  bfloat16: { rtol: 1e-2, atol: 1e-2 },
};

/**
 * Ops that sum many products (matmul, convolutions, reductions, scans, linear solves):
 * their float32 error grows with the reduction length and cancellation, and native
 * kernels accumulate in float32 where js accumulates in float64.
 */
export const ACCUMULATING = new Set([
  'matmul', 'conv', 'convBackpropInput', 'convBackpropFilter', 'avgPool', 'avgPoolGrad',
  'sum', 'mean', 'prod', 'cumsum', 'cumprod', 'inv', 'det', 'solve', 'cholesky', 'scatterAdd',
  'lstmSequence', 'lstmSequenceGrad', 'gruSequence', 'gruSequenceGrad', // a recurrent product a timestep, its rounding carried into the next
]);
export const FORWARD_ACCUMULATING: Record<DType, Tolerance> = {
  ...FORWARD,
  float32: { rtol: 1e-4, atol: 1e-4 },
  float64: { rtol: 1e-11, atol: 1e-12 },
};

/** The forward tolerance of `op` for outputs of `dtype`. */
export function forwardTolerance(op: string, dtype: DType): Tolerance {
  return (ACCUMULATING.has(op) ? FORWARD_ACCUMULATING : FORWARD)[dtype];
}

/** Gradients chain several ops, each within FORWARD, so they get ten times the room. */
export const GRAD: Record<DType, Tolerance> = {
  float32: { rtol: 2e-4, atol: 2e-5 },
  float64: { rtol: 1e-10, atol: 1e-12 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
  float16: { rtol: 1e-2, atol: 1e-2 },
  bfloat16: { rtol: 1e-1, atol: 1e-1 },
};

/** A compiled MLP train step (forward, loss, gradients, SGD update) over a few steps. */
export const GRAPH: Record<'float32' | 'float64', Tolerance> = {
  float32: { rtol: 1e-4, atol: 1e-5 },
  float64: { rtol: 1e-10, atol: 1e-12 },
};

/** First element where `got` (cpu) and `want` (js) differ beyond `tol`, or -1. */
export function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, scale = 1): number {
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (!Number.isFinite(a) || !Number.isFinite(b)) return i;
    if (Math.abs(a - b) > tol.atol * scale + tol.rtol * Math.abs(b)) return i;
  }
  return -1;
}
