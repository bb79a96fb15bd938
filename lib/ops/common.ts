/**
 * Helpers shared by the op families: converting user values to tensors, Keras'
 * weak typing of JS numbers, and un-broadcasting gradients.
 */
import { FLOATX, isFloat, parseDType, resultType, type DType, type DTypeOperand, type TypedArray, allocate } from '../dtype.js';
import { DTypeError, ValueError, describeValue, fmtShape } from '../errors.js';
import { fromValues, run1 } from '../engine.js';
import { Tensor } from '../tensor.js';
import type { Backend } from '../backends/backend.js';
import { Variable } from '../variable.js';
import type { MergeableGrad } from './registry.js';

/** Anything keras.ops accepts where a tensor is expected. */
export type TensorLike = Tensor | Variable | number | boolean | TypedArray | NestedNumbers;
export type NestedNumbers = number[] | boolean[] | NestedNumbers[];

function inferNested(value: NestedNumbers, op: string): { shape: number[]; flat: (number | boolean)[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: (number | boolean)[] = [];
  const walk = (v: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new ValueError(`${op}: nested array holds ${typeof v}, expected numbers or booleans`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ValueError(`${op}: ragged nested array; expected length ${shape[dim]} at depth ${dim}, received ${Array.isArray(v) ? v.length : typeof v}`);
    }
    for (const x of v) walk(x, dim + 1);
  };
  walk(value, 0);
  return { shape, flat };
}

function dtypeOfTyped(v: TypedArray): DType {
  if (v instanceof Float32Array) return 'float32';
  if (v instanceof Float64Array) return 'float64';
  if (v instanceof Int32Array) return 'int32';
  return 'int32';
}

/**
 * `keras.ops.convertToTensor`: numbers become int32 if integral else float32 (as Keras
 * does for Python scalars), booleans bool, TypedArrays keep their type.
 */
export function convertToTensor(x: TensorLike, dtype?: DType | null, op = 'convertToTensor', backend?: Backend): Tensor {
  const target = dtype ? parseDType(dtype, op) : null;
  let t: Tensor;
  if (x instanceof Tensor) t = x;
  else if (x instanceof Variable) t = x.value;
  else if (typeof x === 'number' || typeof x === 'boolean') {
    const d = target ?? (typeof x === 'boolean' ? 'bool' : Number.isInteger(x) ? 'int32' : FLOATX);
    const values = allocate(d, 1);
    values[0] = Number(x);
    return fromValues(values, [], d, backend);
  } else if (ArrayBuffer.isView(x)) {
    const d = dtypeOfTyped(x);
    t = fromValues(x instanceof Uint8Array ? Int32Array.from(x) : x, [x.length], d, backend);
  } else if (Array.isArray(x)) {
    const { shape, flat } = inferNested(x, op);
    const d: DType = target ?? (flat.length && flat.every((v) => typeof v === 'boolean') ? 'bool' : flat.every((v) => Number.isInteger(v) || typeof v === 'boolean') && flat.length ? 'int32' : FLOATX);
    const values = allocate(d, flat.length);
    for (let i = 0; i < flat.length; i++) values[i] = Number(flat[i]);
    return fromValues(values, shape, d, backend);
  } else {
    throw new ValueError(`${op}: cannot convert ${x === null ? 'null' : typeof x} to a tensor`);
  }
  return target && target !== t.dtype ? run1('cast', [t], { dtype: target }) : t;
}

/** The dtype operand of a value for Keras type promotion (JS numbers are weak). */
export function dtypeOperand(x: TensorLike): DTypeOperand {
  if (x instanceof Tensor || x instanceof Variable) return x.dtype;
  if (typeof x === 'number') return Number.isInteger(x) ? 'weak-int' : 'weak-float';
  if (typeof x === 'boolean') return 'weak-bool';
  if (ArrayBuffer.isView(x)) return dtypeOfTyped(x);
  return convertToTensorDType(x);
}

function convertToTensorDType(x: NestedNumbers): DType {
  const { flat } = inferNested(x, 'convertToTensor');
  if (flat.length && flat.every((v) => typeof v === 'boolean')) return 'bool';
  return flat.every((v) => Number.isInteger(v) || typeof v === 'boolean') ? 'int32' : FLOATX;
}

/** Converts and casts to `dtype` (a no-op when already that dtype). */
export function asDType(x: TensorLike, dtype: DType, op: string): Tensor {
  if (!(x instanceof Tensor) && !(x instanceof Variable)) return convertToTensor(x, dtype, op);
  const t = convertToTensor(x, null, op);
  return t.dtype === dtype ? t : run1('cast', [t], { dtype });
}

/** Converts all operands to their promoted dtype (Keras `result_type`). */
export function promote(op: string, ...xs: TensorLike[]): { dtype: DType; tensors: Tensor[] } {
  // Tensors of one dtype, the common case of every eager op: nothing to convert.
  const first = xs[0];
  if (first instanceof Tensor && xs.every((x) => x instanceof Tensor && x.dtype === first.dtype)) return { dtype: first.dtype, tensors: xs as Tensor[] };
  const dtype = resultType(...xs.map(dtypeOperand));
  // JS values combined with tensors are made on those tensors' backend.
  const home = xs.find((x): x is Tensor => x instanceof Tensor && x.backend !== null)?.backend;
  return { dtype, tensors: xs.map((x) => (home && !(x instanceof Tensor) && !(x instanceof Variable) ? convertToTensor(x, dtype, op, home) : asDType(x, dtype, op))) };
}

/** A float tensor: ints and bools are cast to floatx, as Keras does for exp, sqrt, mean... */
export function asFloat(x: TensorLike, op: string): Tensor {
  const t = convertToTensor(x, null, op);
  return isFloat(t.dtype) ? t : run1('cast', [t], { dtype: FLOATX });
}

/**
 * An add's gradient for an operand broadcast along leading dims only (a bias row): the sum of dy
 * over its rows, which sums with the other uses of that operand by concatenating their rows, so
 * the recurrent bias an RNN adds at every timestep gets one sum of all timesteps' rows, not a sum
 * per timestep and the adds of T small vectors. Null for other shapes (grad then unbroadcasts).
 */
export function rowSum(x: Tensor, dy: Tensor): MergeableGrad | null {
  const lead = dy.rank - x.rank;
  if (lead < 1 || x.rank === 0 || x.shape.some((d, i) => d === null || d === 0 || d !== dy.shape[lead + i])) return null;
  return {
    key: `rows ${fmtShape(x.shape)}`,
    parts: [run1('reshape', [dy], { shape: [-1, ...x.shape] })],
    axes: [0],
    make: ([p]) => run1('sum', [p!], { axes: [0], keepdims: false }),
  };
}

/** Sums `dy` down to `shape` (the inverse of broadcasting) for gradients. */
export function unbroadcast(dy: Tensor, shape: readonly number[]): Tensor {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const lead = dy.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.shape.length; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && dy.shape[i] !== 1) axes.push(i);
  }
  let g = axes.length ? run1('sum', [dy], { axes, keepdims: true }) : dy;
  if (g.shape.length !== shape.length || g.shape.some((d, i) => d !== shape[i])) g = run1('reshape', [g], { shape: [...shape].map((d) => (d === null ? -1 : d)) });
  return g;
}

export function requireFloat(t: Tensor, op: string, arg = 'x'): void {
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: ${arg} must be a float tensor, received dtype ${t.dtype} ${fmtShape(t.shape)}`);
}

export function assertInt(value: unknown, op: string, arg: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ValueError(`${op}: ${arg} must be an integer, received ${describeValue(value)}`);
  return value;
}

/** `value`, an integer or an array of integers, as an array; a ValueError naming the op and the argument otherwise. */
export function assertIntList(value: unknown, op: string, arg: string): number[] {
  const list = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'number' || !Number.isInteger(v))) {
    throw new ValueError(`${op}: ${arg} must be an integer or an array of integers, received ${describeValue(value)}`);
  }
  return [...list];
}

/** int32 [0, 1, ..., n-1] (a graph node inside a trace). */
export function arangeInt(n: number): Tensor {
  return run1('arange', [], { start: 0, step: 1, size: n, dtype: 'int32' });
}
