/**
 * Creation ops: two primitives with no inputs (`fill`, `arange`) and the Keras
 * constructors built on them (zeros, ones, full, arange, linspace, eye, identity, tri).
 * Inside a trace they record graph nodes like any other op (the dispatcher sees a
 * trace open and no inputs).
 */
import { FLOATX, isFloat, isInt, parseDType, resultType, type DType } from '../dtype.js';
import { DTypeError, ShapeError, ValueError, describeValue, fmtShape } from '../errors.js';
import { run1 } from '../engine.js';
import { broadcastShapes, normalizeAxis, type Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defineOp } from './registry.js';
import { arangeInt, asDType, dtypeOperand, type TensorLike } from './common.js';
import { add, cast, divide, equal, floor, greaterEqual, multiply, subtract, where } from './elementwise.js';
import { broadcastTo, concatenate, expandDims, reshape, transpose } from './shape.js';
import { optionalArgs } from '../utils/args.js';

// ---------------------------------------------------------------- primitives

function checkShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${op}: shape must be an array of non-negative integers, received ${describeValue(shape)}`);
  }
  return shape as number[];
}

defineOp<{ shape: number[]; value: number; dtype: DType }>({
  name: 'fill',
  category: 'creation',
  attrs: ['shape', 'value', 'dtype'],
  arity: 0,
  infer(inputs, { shape, value, dtype }) {
    if (typeof value !== 'number') throw new DTypeError(`fill: value must be a number, received ${typeof value}`);
    return [{ shape: [...checkShape(shape, 'fill')], dtype: parseDType(dtype, 'fill') }];
  },
});

defineOp<{ start: number; step: number; size: number; dtype: DType }>({
  name: 'arange',
  category: 'creation',
  attrs: ['start', 'step', 'size', 'dtype'],
  arity: 0,
  infer(inputs, { start, step, size, dtype }) {
    if (!Number.isFinite(start) || !Number.isFinite(step)) throw new ValueError(`arange: start and step must be finite numbers, received start=${start}, step=${step}`);
    if (!Number.isInteger(size) || size < 0) throw new ShapeError(`arange: size must be a non-negative integer, received ${size}`);
    return [{ shape: [size], dtype: parseDType(dtype, 'arange') }];
  },
});

// ---------------------------------------------------------------- helpers

function shapeArg(shape: number | readonly number[], op: string): number[] {
  return checkShape(typeof shape === 'number' ? [shape] : Array.isArray(shape) ? [...shape] : shape, op);
}

function dtypeArg(dtype: unknown, op: string, fallback: DType): DType {
  return dtype === null || dtype === undefined ? fallback : parseDType(dtype, op);
}

// ---------------------------------------------------------------- public API

/** A tensor of `shape` filled with zeros (floatx by default). */
export function zeros(shape: number | readonly number[], dtype?: DType | null | { dtype?: DType | null }): Tensor {
  const o = optionalArgs<{ dtype: DType | null }>('zeros', { dtype: null }, [dtype]);
  return run1('fill', [], { shape: shapeArg(shape, 'zeros'), value: 0, dtype: dtypeArg(o.dtype, 'zeros', FLOATX) });
}

/** A tensor of `shape` filled with ones (floatx by default). */
export function ones(shape: number | readonly number[], dtype?: DType | null | { dtype?: DType | null }): Tensor {
  const o = optionalArgs<{ dtype: DType | null }>('ones', { dtype: null }, [dtype]);
  return run1('fill', [], { shape: shapeArg(shape, 'ones'), value: 1, dtype: dtypeArg(o.dtype, 'ones', FLOATX) });
}

/** Keras `empty`: a tensor of `shape` whose values are unspecified; here zeros (floatx by default). */
export function empty(shape: number | readonly number[], dtype?: DType | null | { dtype?: DType | null }): Tensor {
  const o = optionalArgs<{ dtype: DType | null }>('empty', { dtype: null }, [dtype]);
  return run1('fill', [], { shape: shapeArg(shape, 'empty'), value: 0, dtype: dtypeArg(o.dtype, 'empty', FLOATX) });
}

/**
 * A tensor of `shape` filled with `fillValue` (floatx by default, as Keras). A tensor
 * fill value is broadcast to `shape` (and differentiates).
 */
export function full(shape: number | readonly number[], fillValue: TensorLike, dtype?: DType | null | { dtype?: DType | null }): Tensor {
  const o = optionalArgs<{ dtype: DType | null }>('full', { dtype: null }, [dtype]);
  const s = shapeArg(shape, 'full');
  const d = dtypeArg(o.dtype, 'full', FLOATX);
  if (typeof fillValue === 'number' || typeof fillValue === 'boolean') {
    return run1('fill', [], { shape: s, value: d === 'bool' ? Number(Boolean(fillValue)) : Number(fillValue), dtype: d });
  }
  const v = asDType(fillValue, d, 'full');
  const out = broadcastShapes(v.shape, s, 'full');
  if (out.length !== s.length || out.some((dim, i) => dim !== s[i])) throw new ShapeError(`full: fillValue of shape ${fmtShape(v.shape)} cannot be broadcast to ${fmtShape(s)}`);
  return broadcastTo(v, s);
}

type ArangeOptions = { stop?: number | null; step?: number; dtype?: DType | null };

/**
 * Evenly spaced values in [start, stop) (or [0, start) with one argument). dtype as
 * Keras: int32 when start, stop and step are integers, else floatx.
 */
export function arange(start: number, stop?: number | null | ArangeOptions, step?: number | ArangeOptions, dtype?: DType | null | ArangeOptions): Tensor {
  const o = optionalArgs<{ stop: number | null; step: number; dtype: DType | null }>('arange', { stop: null, step: 1, dtype: null }, [stop, step, dtype]);
  for (const [k, v] of [['start', start], ['stop', o.stop], ['step', o.step]] as const) {
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new ValueError(`arange: ${k} must be a finite number, received ${JSON.stringify(v)}`);
  }
  const [lo, hi] = o.stop === null ? [0, start] : [start, o.stop];
  if (o.step === 0) throw new ValueError(`arange: step must not be zero (start=${lo}, stop=${hi})`);
  const d = o.dtype === null ? resultType(...[lo, hi, o.step].map((v) => dtypeOperand(v))) : parseDType(o.dtype, 'arange');
  const size = Math.max(0, Math.ceil((hi - lo) / o.step));
  return run1('arange', [], { start: lo, step: o.step, size, dtype: d });
}

type LinspaceOptions = { num?: number; endpoint?: boolean; retstep?: boolean; dtype?: DType | null; axis?: number };

/**
 * `num` evenly spaced samples from start to stop (stop included when `endpoint`).
 * start/stop may be tensors: samples go along `axis`. dtype defaults to floatx; with
 * `retstep` returns [samples, step]. Integer dtypes floor the samples, as numpy.
 */
export function linspace(start: TensorLike, stop: TensorLike, num?: number, endpoint?: boolean, retstep?: false, dtype?: DType | null, axis?: number): Tensor;
export function linspace(start: TensorLike, stop: TensorLike, num: number, endpoint: boolean, retstep: true, dtype?: DType | null, axis?: number): [Tensor, Tensor];
export function linspace(start: TensorLike, stop: TensorLike, options: LinspaceOptions & { retstep: true }): [Tensor, Tensor];
export function linspace(start: TensorLike, stop: TensorLike, options?: LinspaceOptions & { retstep?: false }): Tensor;
export function linspace(start: TensorLike, stop: TensorLike, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  const o = optionalArgs<{ num: number; endpoint: boolean; retstep: boolean; dtype: DType | null; axis: number }>('linspace', { num: 50, endpoint: true, retstep: false, dtype: null, axis: 0 }, rest);
  const { num, endpoint } = o;
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`linspace: num must be a non-negative integer, received ${JSON.stringify(num)}`);
  const floatDType = resultType(dtypeOperand(start), dtypeOperand(stop), 'weak-float');
  const target = o.dtype === null ? floatDType : parseDType(o.dtype, 'linspace');
  const work: DType = isFloat(target) ? (target === 'float64' || floatDType === 'float64' ? 'float64' : target) : floatDType;
  const div = endpoint ? num - 1 : num;
  let samples: Tensor;
  let step: Tensor;
  if (typeof start === 'number' && typeof stop === 'number') {
    // Scalar bounds: the arange kernel computes start + i * step in double precision, as numpy.
    const stepValue = div > 0 ? (stop - start) / div : NaN;
    normalizeAxis(o.axis, 1, 'linspace');
    const body = run1('arange', [], { start, step: div > 0 ? stepValue : 0, size: endpoint && num > 1 ? num - 1 : num, dtype: work });
    samples = endpoint && num > 1 ? concatenate([body, run1('fill', [], { shape: [1], value: stop, dtype: work })]) : body;
    step = run1('fill', [], { shape: [], value: stepValue, dtype: work });
  } else {
    const s = asDType(start, work, 'linspace');
    const e = asDType(stop, work, 'linspace');
    const bshape = broadcastShapes(s.shape, e.shape, 'linspace');
    const ax = normalizeAxis(o.axis, bshape.length + 1, 'linspace');
    const s0 = expandDims(s, 0);
    const e0 = expandDims(e, 0);
    const t = reshape(cast(arangeInt(num), work), [num, ...bshape.map(() => 1)]);
    const delta = subtract(e0, s0);
    step = div > 0 ? divide(delta, div) : multiply(delta, NaN);
    // Multiplying before dividing keeps samples at integer fractions exact.
    let y = add(s0, div > 0 ? divide(multiply(t, delta), div) : multiply(t, delta));
    if (endpoint && num > 1) {
      // The last sample is exactly stop, as numpy (a where, so unknown dims still differentiate).
      const isLast = reshape(equal(arangeInt(num), num - 1), [num, ...bshape.map(() => 1)]);
      y = where(isLast, e0, y);
    }
    const perm = Array.from({ length: bshape.length + 1 }, (_, i) => i).slice(1);
    perm.splice(ax, 0, 0);
    samples = transpose(y, perm);
    step = reshape(step, bshape.map((d) => (d === null ? -1 : d)));
  }
  const out = isInt(target) || target === 'bool' ? cast(floor(samples), target) : cast(samples, target);
  return o.retstep ? [out, step] : out;
}

type EyeOptions = { M?: number | null; k?: number; dtype?: DType | null };

/** A 2-D tensor with ones on the k-th diagonal and zeros elsewhere (floatx by default). */
export function eye(N: number, M?: number | null | EyeOptions, k?: number | EyeOptions, dtype?: DType | null | EyeOptions): Tensor {
  const o = optionalArgs<{ M: number | null; k: number; dtype: DType | null }>('eye', { M: null, k: 0, dtype: null }, [M, k, dtype]);
  const rows = N;
  const cols = o.M ?? N;
  checkShape([rows, cols], 'eye');
  if (!Number.isInteger(o.k)) throw new ValueError(`eye: k must be an integer, received ${JSON.stringify(o.k)}`);
  const mask = equal(add(reshape(arangeInt(rows), [rows, 1]), o.k), arangeInt(cols));
  return cast(mask, dtypeArg(o.dtype, 'eye', FLOATX));
}

/** The n x n identity matrix (floatx by default). */
export function identity(n: number, dtype?: DType | null | { dtype?: DType | null }): Tensor {
  const o = optionalArgs<{ dtype: DType | null }>('identity', { dtype: null }, [dtype]);
  return eye(n, n, 0, o.dtype);
}

/** A 2-D tensor with ones at and below the k-th diagonal (j <= i + k), zeros elsewhere. */
export function tri(N: number, M?: number | null | EyeOptions, k?: number | EyeOptions, dtype?: DType | null | EyeOptions): Tensor {
  const o = optionalArgs<{ M: number | null; k: number; dtype: DType | null }>('tri', { M: null, k: 0, dtype: null }, [M, k, dtype]);
  const rows = N;
  const cols = o.M ?? N;
  checkShape([rows, cols], 'tri');
  if (!Number.isInteger(o.k)) throw new ValueError(`tri: k must be an integer, received ${JSON.stringify(o.k)}`);
  const mask = greaterEqual(add(reshape(arangeInt(rows), [rows, 1]), o.k), arangeInt(cols));
  return cast(mask, dtypeArg(o.dtype, 'tri', FLOATX));
}
