/**
 * A harness for native kernel tests: runs an op on the js kernel (the reference) and on
 * the native kernel and compares shapes, dtypes and values exactly.
 */
import { afterAll, expect } from 'vitest';
import '../../lib/index.js';
import { getOp, type Attrs } from '../../lib/ops/registry.js';
import { JsBackend } from '../../lib/backends/js/index.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import { nativeAttrs } from '../../lib/backends/cpu/index.js';
import { Tensor } from '../../lib/tensor.js';
import type { NativeDType, NativeTensor, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import type { OutputSpec } from '../../lib/backends/backend.js';
import { addon, randomArray } from './helpers.js';

export const native = addon();
export const isas = native.backendInfo().availableIsas;
export const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));
export const js = new JsBackend();

export const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array } as const;
export const DTYPES: NativeDType[] = ['float32', 'float64', 'int32', 'bool'];
export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export interface Input {
  values: NativeTypedArray;
  shape: number[];
  dtype: NativeDType;
}

/** Values of a dtype, with NaN, +-0 and infinities among the floats. */
export function data(shape: number[], dtype: NativeDType, seed = 1): Input {
  const n = size(shape);
  const r = randomArray(n, seed);
  const values = new ARRAY[dtype](n);
  const special = [NaN, -0, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') values[i] = r[i]! > 0 ? 1 : 0;
    else if (dtype === 'int32') values[i] = Math.round(r[i]! * 1000);
    else values[i] = i % 17 === 5 ? special[(i / 17) % 4 | 0]! : r[i]! * 10;
  }
  return { values, shape, dtype };
}

export function sameValues(label: string, got: NativeTypedArray, want: ArrayLike<number>): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

/** Runs `op` on the js kernel (reference) and the native kernel and asserts equal results. */
export function check(op: string, inputs: Input[], attrs: Attrs, label = ''): NativeTypedArray[] {
  const tensors = inputs.map((t) => new Tensor({ shape: t.shape, dtype: t.dtype, storage: new JsStorage(t.values) }));
  const specs = getOp(op).infer(tensors, attrs) as OutputSpec[];
  const want = js.kernel(op)!(tensors, attrs, specs) as JsStorage[];
  const handles = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
  const got = native.runKernel(op, handles, nativeAttrs(attrs));
  const name = `${op} ${label} ${JSON.stringify(attrs)} ${inputs.map((t) => `${t.dtype}${JSON.stringify(t.shape)}`).join(' ')}`;
  try {
    expect(got.length, name).toBe(specs.length);
    return got.map((g, i) => {
      expect(g.shape, name).toEqual(specs[i]!.shape);
      expect(g.dtype, name).toBe(specs[i]!.dtype);
      const values = g.read();
      sameValues(name, values, want[i]!.data);
      return values;
    });
  } finally {
    for (const h of [...handles, ...got]) h.dispose();
  }
}

/** The native error for `op` on these inputs (the kernel must throw). */
export function nativeError(op: string, inputs: Input[], attrs: Attrs): Error {
  const handles: NativeTensor[] = inputs.map((t) => native.createTensor(t.values, t.shape, t.dtype));
  try {
    native.runKernel(op, handles, nativeAttrs(attrs));
  } catch (e) {
    return e as Error;
  } finally {
    for (const h of handles) h.dispose();
  }
  throw new Error(`${op}: expected an error`);
}
