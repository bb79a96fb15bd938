/**
 * Runs one primitive op case on two backends and compares outputs and gradients.
 */
import { expect } from 'vitest';
import * as keras from '../../lib/index.js';
import type { DType, Tensor } from '../../lib/index.js';
import { allocate } from '../../lib/dtype.js';
import { fromValues, getBackend, runOp, setBackend } from '../../lib/engine.js';
import { getOp } from '../../lib/ops/registry.js';
import { isNativeAvailable, loadNativeAddon } from '../../lib/backends/cpu/native.js';
import type { Backend } from '../../lib/backends/backend.js';
import { makeValues, type OpCase } from './cases.js';
import { GRAD, firstMismatch, forwardTolerance, type Tolerance } from './tolerances.js';

const { ops } = keras;

/** Why the cpu backend is unavailable, or null when it loads. */
export function nativeUnavailableReason(): string | null {
  if (isNativeAvailable()) return null;
  try {
    loadNativeAddon();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return 'unknown reason';
}

const isFloatDType = (d: DType) => d === 'float32' || d === 'float64';

function upload(values: number[], shape: number[], dtype: DType, backend: Backend): Tensor {
  const data = allocate(dtype, values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i];
  return fromValues(data, shape, dtype, backend);
}

function describeCase(op: string, c: OpCase): string {
  const ins = c.inputs.map((i) => `${i.dtype}[${i.shape.join(',')}]${i.scale ? `*${i.scale}` : ''}`).join(', ');
  return `${op}(${ins}${c.attrs ? `, ${JSON.stringify(c.attrs)}` : ''})`;
}

/** Asserts `got` (cpu) equals `want` (js) in shape, dtype and values within `tol`. */
export function expectParity(got: Tensor, want: Tensor, tol: Tolerance, scale: number, what: string): void {
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const g = got.dataSync();
  const w = want.dataSync();
  const exact = !isFloatDType(want.dtype);
  const i = firstMismatch(g, w, exact ? { rtol: 0, atol: 0 } : tol, scale);
  if (i >= 0) {
    expect.fail(
      `${what}: element ${i} differs: cpu ${g[i]}, js ${w[i]} (rtol ${tol.rtol}, atol ${tol.atol} x scale ${scale})\n` +
        ` cpu: ${JSON.stringify(Array.from(g.slice(0, 16)))}\n  js: ${JSON.stringify(Array.from(w.slice(0, 16)))}`,
    );
  }
}

/**
 * Runs `op` with case `c` on one backend (made current, so constants made by gradient rules
 * live there too), and the gradients wrt inputs `withGrad` of sum(op(...)[0] * w).
 */
export function runOn(backendName: string, op: string, c: OpCase, values: number[][], withGrad: number[]): { outputs: Tensor[]; grads: Tensor[] } | { error: Error } {
  setBackend(backendName);
  const backend = getBackend(backendName);
  try {
    return keras.tidy(() => {
      const ins = c.inputs.map((spec, k) => upload(values[k], spec.shape, spec.dtype, backend));
      const outputs = runOp(op, ins, c.attrs ?? {}, backend);
      let grads: Tensor[] = [];
      if (withGrad.length) {
        const y = outputs[0];
        const w = upload(makeValues({ shape: y.shape, dtype: y.dtype, domain: 'positive' }, 99), y.shape, y.dtype, backend);
        const f = (...xs: Tensor[]) => ops.sum(ops.multiply(runOp(op, xs, c.attrs ?? {}, backend)[0], w));
        grads = keras.grad(f, { argnums: withGrad })(...ins) as Tensor[];
      }
      return { outputs, grads };
    });
  } catch (error) {
    return { error: error as Error };
  }
}

/** Which inputs a case differentiates: float inputs the op does not declare non-differentiable. */
export function gradInputs(op: string, c: OpCase): number[] {
  const def = getOp(op);
  if (c.grad === false || !def.grad) return [];
  const wrt = c.wrt ?? c.inputs.map((_, i) => i).filter((i) => isFloatDType(c.inputs[i].dtype) && !(def.nonDifferentiableInputs ?? []).includes(i));
  if (!wrt.length) return [];
  // The scalar sum(y * w) needs a float output.
  const spec = def.infer(c.inputs.map((i) => ({ shape: i.shape, dtype: i.dtype })), (c.attrs ?? {}) as Record<string, unknown>)[0];
  return isFloatDType(spec.dtype) ? wrt : [];
}

/** Runs every case of `op` on js and cpu; compares outputs, gradients, and that both reject the same bad cases. */
export function checkOpParity(op: string, cases: OpCase[], caseSeed: number): void {
  cases.forEach((c, ci) => {
    const what = describeCase(op, c);
    const values = c.inputs.map((spec, k) => makeValues(spec, caseSeed * 1000 + ci * 10 + k));
    // Tiny-magnitude cases shrink the absolute tolerance with their inputs.
    const scale = Math.min(1, ...c.inputs.map((i) => i.scale ?? 1));
    const wrt = gradInputs(op, c);
    const ref = runOn('js', op, c, values, wrt);
    const got = runOn('cpu', op, c, values, wrt);
    try {
      if ('error' in ref) {
        expect('error' in got, `${what}: js threw ${ref.error.name}: ${ref.error.message}; cpu did not`).toBe(true);
        return;
      }
      if ('error' in got) throw new Error(`${what}: cpu threw ${got.error.name}: ${got.error.message}\n${got.error.stack}`);
      expect(got.outputs.length, `${what}: number of outputs`).toBe(ref.outputs.length);
      got.outputs.forEach((t, k) => expectParity(t, ref.outputs[k], forwardTolerance(op, ref.outputs[k].dtype), scale, `${what} output ${k}`));
      got.grads.forEach((t, k) => expectParity(t, ref.grads[k], GRAD[ref.grads[k].dtype], scale, `${what} gradient wrt input ${wrt[k]}`));
    } finally {
      for (const r of [ref, got]) if (!('error' in r)) for (const t of [...r.outputs, ...r.grads]) t.dispose();
    }
  });
}
