/**
 * The fused Adam update (adamUpdate, lib/ops/optimizer.ts): the same bits as Adam's update
 * written as ops (the form AMSGrad still runs), on js and on every cpu ISA path, in float32
 * and float64; what keras.optimizers.Adam traces; and its input errors from the op's
 * definition and from the native engine.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { DType, Tensor } from '../../lib/index.js';
import { getBackend, runOp } from '../../lib/engine.js';
import type { CpuBackend } from '../../lib/backends/cpu/index.js';
import { adamUpdate } from '../../lib/ops/optimizer.js';
import { nativeUnavailableReason } from '../parity/harness.js';
import { nativeError, size, type Input } from '../native/kernel_harness.js';

const { ops } = keras;
const reason = nativeUnavailableReason();
const cpu = reason ? null : (getBackend('cpu') as CpuBackend);
const info = cpu?.backendInfo();

/** n values from a sine of the seed, scaled: deterministic and of every sign. */
function values(n: number, seed: number, scale: number, dtype: DType, positive = false): Tensor {
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.sin(seed * 1000 + i * 12.9898) * 43758.5453;
    const u = s - Math.floor(s);
    a[i] = (positive ? u : 2 * u - 1) * scale;
  }
  return ops.convertToTensor(a);
}

/** Adam's update as ops, as Adam.updateStep writes it for AMSGrad (without the running max). */
function composite(p: Tensor, g: Tensor, m: Tensor, v: Tensor, alpha: Tensor, beta1: number, beta2: number, epsilon: number): Tensor[] {
  const mNext = ops.add(m, ops.multiply(ops.subtract(g, m), 1 - beta1));
  const vNext = ops.add(v, ops.multiply(ops.subtract(ops.square(g), v), 1 - beta2));
  const pNext = ops.subtract(p, ops.divide(ops.multiply(mNext, alpha), ops.add(ops.sqrt(vNext), epsilon)));
  return [pNext, mNext, vNext];
}

/** The first element where a and b differ (NaN equals NaN), as a message, or null. */
function firstDifference(name: string, a: Tensor, b: Tensor): string | null {
  const x = a.dataSync(), y = b.dataSync();
  if (x.length !== y.length) return `${name}: ${x.length} values vs ${y.length}`;
  for (let i = 0; i < x.length; i++) {
    if (!Object.is(x[i], y[i]) && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return `${name}[${i}]: fused ${x[i]} vs ops ${y[i]}`;
  }
  return null;
}

function expectSameBits(backend: string, dtype: DType, n: number, beta1: number, beta2: number, epsilon: number): void {
  keras.config.setBackend(backend);
  // Moments of every size against the gradient, v >= 0 as Adam keeps it.
  const p = values(n, 1, 1, dtype), g = values(n, 2, 0.1, dtype), m = values(n, 3, 0.05, dtype);
  const v = values(n, 4, 1e-3, dtype, true), alpha = ops.cast(ops.convertToTensor(1.7e-3), dtype);
  const fused = adamUpdate(p, g, m, v, alpha, { beta1, beta2, epsilon });
  const want = composite(p, g, m, v, alpha, beta1, beta2, epsilon);
  const differences = ['variable', 'm', 'v'].map((name, k) => firstDifference(name, fused[k]!, want[k]!)).filter((d) => d !== null);
  expect(differences, `${backend} ${dtype} n=${n}`).toEqual([]);
  for (const t of [p, g, m, v, alpha, ...fused, ...want]) t.dispose();
}

describe('adamUpdate', () => {
  afterAll(() => {
    if (cpu) cpu.setIsa(info!.isa);
    keras.config.setBackend('js');
  });

  it('gives the bits of the update written as ops on js, in float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      expectSameBits('js', dtype, 1000, 0.9, 0.999, 1e-7);
      expectSameBits('js', dtype, 37, 0.5, 0.75, 0.125);
    }
  });

  it.skipIf(reason !== null)('gives the bits of the update written as ops on every cpu ISA path (partial vectors, elements over threads)', () => {
    for (const isa of info!.availableIsas) {
      cpu!.setIsa(isa);
      for (const dtype of ['float32', 'float64'] as const) {
        for (const n of [1, 37, 1000, 70001]) expectSameBits('cpu', dtype, n, 0.9, 0.999, 1e-7);
        expectSameBits('cpu', dtype, 37, 0.5, 0.75, 0.125);
      }
    }
  });

  it('is what Adam traces for each variable; AMSGrad keeps the ops (it needs the running max of v)', () => {
    keras.config.setBackend('js');
    const opsOf = (amsgrad: boolean) => {
      const w = new keras.Variable(ops.convertToTensor(new Float32Array([1, 2, 3])), { name: 'fused_w' });
      const optimizer = new keras.optimizers.Adam({ learningRate: 0.01, amsgrad });
      optimizer.build([w]);
      const graph = keras.trace((g: Tensor) => {
        optimizer.apply([g], [w]);
        return [ops.sum(g)];
      }, [{ shape: [3] }]);
      const names = graph.nodes.map((n) => n.op.name);
      w.dispose();
      for (const s of optimizer.variables) s.dispose();
      return names;
    };
    expect(opsOf(false).filter((op) => op === 'adamUpdate')).toHaveLength(1);
    expect(opsOf(false)).not.toContain('square'); // g^2 is inside the fused update
    expect(opsOf(true)).not.toContain('adamUpdate');
    expect(opsOf(true)).toEqual(expect.arrayContaining(['square', 'maximum']));
  });

  it('names the argument, its shape and dtype when the inputs do not fit (op definition)', () => {
    keras.config.setBackend('js');
    const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    const error = (shapes: [number[], DType][], a: Record<string, unknown> = attrs) => {
      const tensors = shapes.map(([shape, dtype]) => ops.zeros(shape, dtype));
      try {
        runOp('adamUpdate', tensors, a);
      } catch (e) {
        return (e as Error).message;
      } finally {
        for (const t of tensors) t.dispose();
      }
      throw new Error('adamUpdate: expected an error');
    };
    const f32 = (shape: number[]): [number[], DType] => [shape, 'float32'];
    expect(error([f32([3]), f32([4]), f32([3]), f32([3]), f32([])])).toMatch(/adamUpdate: gradient must be float32 \(3,\) like the variable, received float32 \(4,\)/);
    expect(error([f32([3]), f32([3]), f32([3]), [[3], 'float64'], f32([])])).toMatch(/adamUpdate: v must be float32 \(3,\) like the variable, received float64 \(3,\)/);
    expect(error([f32([3]), f32([3]), f32([3]), f32([3]), f32([1])])).toMatch(/adamUpdate: alpha must be a float32 scalar, received float32 \(1,\)/);
    expect(error([[[3], 'int32'], [[3], 'int32'], [[3], 'int32'], [[3], 'int32'], [[], 'int32']])).toMatch(/adamUpdate: variable must be float32 or float64, received int32 \(3,\)/);
    expect(error([f32([3]), f32([3]), f32([3]), f32([3]), f32([])], { beta1: 0.9, beta2: 0.999 })).toMatch(/adamUpdate: attribute epsilon must be a finite number/);
  });

  it.skipIf(reason !== null)('names the argument, its shape and dtype when the inputs do not fit (native engine)', () => {
    const f32 = (shape: number[]): Input => ({ values: new Float32Array(size(shape)), shape, dtype: 'float32' });
    const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    expect(nativeError('adamUpdate', [f32([2, 3]), f32([2, 3]), f32([3, 2]), f32([2, 3]), f32([])], attrs).message).toMatch(/adamUpdate: m must be float32 \(2, 3\) like the variable, received float32 \(3, 2\)/);
    expect(nativeError('adamUpdate', [f32([2]), f32([2]), f32([2]), f32([2]), f32([2])], attrs).message).toMatch(/adamUpdate: alpha must be a float32 scalar, received float32 \(2,\)/);
    expect(nativeError('adamUpdate', [f32([2]), f32([2]), f32([2]), f32([2]), f32([])], { beta1: 0.9, beta2: 0.999 }).message).toMatch(/adamUpdate: attribute epsilon must be a finite number/);
  });
});
