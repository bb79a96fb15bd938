/**
 * Reductions and scans: sum, mean, max, min, prod, any, all, argmax, argmin,
 * cumsum, cumprod, moments (mean and variance in one pass; var and std read it) and
 * logsumexp over one axis (primitives), and norm (composite).
 */
import { FLOATX, isFloat } from '../dtype.js';
import { DTypeError, ValueError, describeValue, fmtShape } from '../errors.js';
import { isRecording, run1, runOp } from '../engine.js';
import { checkAxes, normalizeAxes, normalizeAxis, reducedShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defineOp } from './registry.js';
import { optionalArgs } from '../utils/args.js';
import { asDType, asFloat, convertToTensor, type TensorLike } from './common.js';
import { abs, add, cast, divide, equal, maximum, multiply, power, sqrt, square, subtract, stopGradient, where, zerosLike, isinf, log, exp, notEqual } from './elementwise.js';
import { broadcastTo, reshape, reverse } from './shape.js';

type ReduceAttrs = { axes: number[]; keepdims: boolean };

/** Shape of the reduced result with keepdims, as reshape dims (-1 for an unknown dim). */
function keepShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d === null ? -1 : d));
}

/** The reduced gradient with the reduced dims kept (size 1). */
function keptGrad(dy: Tensor, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  return keepdims ? dy : reshape(dy, keepShape(x, axes));
}

/** Broadcasts a reduced gradient back over `x`'s shape (works with unknown dims). */
function expandGrad(dy: Tensor, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const g = keptGrad(dy, x, axes, keepdims);
  // One write of x's size; only a traced unknown dim needs x itself (adding zeros like it).
  if (x.shape.every((d) => d !== null)) return broadcastTo(g, x.shape as number[]);
  return add(g, zerosLike(x, g.dtype));
}

/** Number of reduced elements, as a tensor shaped for broadcasting against the kept dims. */
function reducedCount(x: Tensor, axes: readonly number[]): Tensor | number {
  if (axes.every((a) => x.shape[a] !== null)) return axes.reduce((n, a) => n * x.shape[a], 1);
  return run1('sum', [zerosLike(x, x.dtype === 'float64' ? 'float64' : FLOATX).dtype === x.dtype ? add(zerosLike(x), 1) : cast(add(zerosLike(x), 1), FLOATX)], { axes, keepdims: true });
}

function defineReduction(name: string, kind: 'numeric' | 'bool', grad?: (x: Tensor, y: Tensor, dy: Tensor, attrs: ReduceAttrs) => Tensor) {
  defineOp<ReduceAttrs>({
    name,
    category: 'reduction',
    attrs: ['axes', 'keepdims'],
    arity: 1,
    infer([x], { axes, keepdims }) {
      if (kind === 'numeric' && x.dtype === 'bool') throw new DTypeError(`${name}: bool input is not supported ${fmtShape(x.shape)}; cast it first`);
      if (kind === 'bool' && x.dtype !== 'bool') throw new DTypeError(`${name}: expected a bool tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
      checkAxes(name, x.shape, axes);
      return [{ shape: reducedShape(x.shape, axes, keepdims), dtype: kind === 'bool' ? 'bool' : x.dtype }];
    },
    grad: grad ? ({ inputs: [x], outputs: [y], attrs }, [dy]) => [grad(x, y, dy!, attrs)] : undefined,
  });
}

defineReduction('sum', 'numeric', (x, y, dy, { axes, keepdims }) => expandGrad(dy, x, axes, keepdims));
// Divided before the broadcast: one division per reduced value, not per element of x.
defineReduction('mean', 'numeric', (x, y, dy, { axes, keepdims }) => expandGrad(divide(keptGrad(dy, x, axes, keepdims), reducedCount(x, axes)), x, axes, true));
defineReduction('prod', 'numeric', (x, y, dy, { axes, keepdims }) =>
  // d prod / d x_i = prod / x_i; exact for non-zero inputs.
  divide(multiply(expandGrad(dy, x, axes, keepdims), expandGrad(y, x, axes, keepdims)), x),
);
const extremumGrad = (x: Tensor, y: Tensor, dy: Tensor, { axes, keepdims }: ReduceAttrs) => {
  // Ties share the gradient equally, as TF does.
  const mask = cast(equal(x, expandGrad(y, x, axes, keepdims)), x.dtype);
  const ties = run1('sum', [mask], { axes, keepdims: true });
  return divide(multiply(mask, expandGrad(dy, x, axes, keepdims)), ties);
};
defineReduction('max', 'numeric', extremumGrad);
defineReduction('min', 'numeric', extremumGrad);
defineReduction('any', 'bool');
defineReduction('all', 'bool');

for (const name of ['argmax', 'argmin']) {
  defineOp<{ axis: number }>({
    name,
    category: 'reduction',
    attrs: ['axis'],
    arity: 1,
    infer([x], { axis }) {
      checkAxes(name, x.shape, [axis]);
      if (x.shape[axis] === 0) throw new ValueError(`${name}: cannot take ${name} over an empty axis ${axis} of shape ${fmtShape(x.shape)}`);
      return [{ shape: reducedShape(x.shape, [axis], false), dtype: 'int32' }];
    },
  });
}

defineOp<{ axis: number }>({
  name: 'cumsum',
  category: 'reduction',
  attrs: ['axis'],
  arity: 1,
  infer([x], { axis }) {
    checkAxes('cumsum', x.shape, [axis]);
    return [{ shape: x.shape, dtype: x.dtype === 'bool' ? 'int32' : x.dtype }];
  },
  grad: ({ attrs: { axis } }, [dy]) => [reverse(cumsum(reverse(dy!, [axis]), axis), [axis])],
});

defineOp<{ axis: number }>({
  name: 'cumprod',
  category: 'reduction',
  attrs: ['axis'],
  arity: 1,
  infer([x], { axis }) {
    checkAxes('cumprod', x.shape, [axis]);
    return [{ shape: x.shape, dtype: x.dtype === 'bool' ? 'int32' : x.dtype }];
  },
  // dx_i = sum_{j >= i} dy_j * y_j / x_i; exact for non-zero inputs.
  grad: ({ inputs: [x], outputs: [y], attrs: { axis } }, [dy]) => [divide(reverse(cumsum(reverse(multiply(dy!, y), [axis]), axis), [axis]), x)],
});

// Mean and population variance over `axes` in one pass over x (var, std, and nn's moments).
// Kernels: the variance is the mean of squared deviations from the mean, never
// E[x^2] - E[x]^2 (which loses every digit of a variance small beside the squared mean).
defineOp<ReduceAttrs>({
  name: 'moments',
  category: 'reduction',
  attrs: ['axes', 'keepdims'],
  arity: 1,
  infer([x], { axes, keepdims }) {
    if (!isFloat(x.dtype)) throw new DTypeError(`moments: expected a float tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
    checkAxes('moments', x.shape, axes);
    const shape = reducedShape(x.shape, axes, keepdims);
    return [{ shape, dtype: x.dtype }, { shape, dtype: x.dtype }];
  },
  // d mean / dx = 1 / n, d var / dx = 2 (x - mean) / n.
  grad: ({ inputs: [x], outputs: [m], attrs: { axes, keepdims } }, [dm, dv]) => {
    const n = reducedCount(x, axes);
    const perN = (g: Tensor) => divide(keptGrad(g, x, axes, keepdims), n);
    const fromVar = dv ? multiply(subtract(x, keptGrad(m, x, axes, keepdims)), multiply(perN(dv), 2)) : null;
    if (!dm) return [fromVar];
    return [fromVar ? add(fromVar, perN(dm)) : expandGrad(perN(dm), x, axes, true)];
  },
});

// log(sum(exp(x))) over one (non-negative) axis, kept with size 1: the max taken out first,
// a row whose max is infinite gives that max (all -inf: -inf), a NaN gives NaN.
defineOp<{ axis: number }>({
  name: 'logsumexp',
  category: 'reduction',
  attrs: ['axis'],
  arity: 1,
  infer([x], { axis }) {
    if (!isFloat(x.dtype)) throw new DTypeError(`logsumexp: expected a float tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
      throw new ValueError(`logsumexp: axis ${axis} is out of range for input of shape ${fmtShape(x.shape)} (a non-negative axis is expected)`);
    }
    return [{ shape: x.shape.map((d, i) => (i === axis ? 1 : d)), dtype: x.dtype }];
  },
  // d logsumexp / dx = softmax(x) along the axis.
  grad: ({ inputs: [x], attrs: { axis } }, [dy]) => [multiply(run1('softmax', [x], { axis }), dy!)],
});

// ---------------------------------------------------------------- public API

type Axis = number | number[] | null;

/** Parses Keras' (x, axis, keepdims) with the options-object form. */
// Through optionalArgs, as every op's options: a misspelt name (`keepDims`) is an error, not a default.
function reduceArgs(name: string, axis: Axis | { axis?: Axis; keepdims?: boolean } | undefined, keepdims: boolean | undefined): { axis: Axis; keepdims: boolean } {
  return optionalArgs<{ axis: Axis; keepdims: boolean }>(name, { axis: null, keepdims: false }, [axis, keepdims]);
}

function reduce(name: string, t: Tensor, axisArg: Axis | { axis?: Axis; keepdims?: boolean } | undefined, keepdimsArg?: boolean): Tensor {
  const { axis, keepdims } = reduceArgs(name, axisArg, keepdimsArg);
  const axes = normalizeAxes(axis, t.rank, name);
  return run1(name, [t], { axes, keepdims });
}

type ReduceOptions = { axis?: Axis; keepdims?: boolean };

/** Sum over `axis` (all axes by default); bools count as int32. */
export function sum(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = convertToTensor(x, null, 'sum');
  return reduce('sum', t.dtype === 'bool' ? cast(t, 'int32') : t, axis, keepdims);
}

/** Arithmetic mean; integer inputs give floatx. */
export function mean(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  return reduce('mean', asFloat(x, 'mean'), axis, keepdims);
}

/** Product over `axis`. */
export function prod(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = convertToTensor(x, null, 'prod');
  return reduce('prod', t.dtype === 'bool' ? cast(t, 'int32') : t, axis, keepdims);
}

function checkNonEmpty(name: string, t: Tensor, axis: Axis | ReduceOptions | undefined, keepdims?: boolean): void {
  const { axis: a } = reduceArgs(name, axis, keepdims);
  const axes = normalizeAxes(a, t.rank, name);
  if (axes.some((ax) => t.shape[ax] === 0)) throw new ValueError(`${name}: zero-size reduction over axis ${JSON.stringify(a)} of shape ${fmtShape(t.shape)} has no identity`);
}

/** Maximum over `axis`. */
export function max(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = convertToTensor(x, null, 'max');
  checkNonEmpty('max', t, axis, keepdims);
  return reduce('max', t.dtype === 'bool' ? cast(t, 'int32') : t, axis, keepdims);
}

/** Minimum over `axis`. */
export function min(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = convertToTensor(x, null, 'min');
  checkNonEmpty('min', t, axis, keepdims);
  return reduce('min', t.dtype === 'bool' ? cast(t, 'int32') : t, axis, keepdims);
}

/** Alias of max. */
export const amax = max;
/** Alias of min. */
export const amin = min;

/** True if any element along `axis` is true (non-zero). */
export function any(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  return reduce('any', asDType(x, 'bool', 'any'), axis, keepdims);
}

/** True if all elements along `axis` are true (non-zero). */
export function all(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  return reduce('all', asDType(x, 'bool', 'all'), axis, keepdims);
}

function argReduce(name: string, x: TensorLike, axis: number | null | { axis?: number | null; keepdims?: boolean } | undefined, keepdims?: boolean): Tensor {
  let t = convertToTensor(x, null, name);
  const opts = axis !== null && typeof axis === 'object' ? axis : { axis, keepdims };
  if (t.dtype === 'bool') t = cast(t, 'int32');
  if (opts.axis === null || opts.axis === undefined) {
    const flat = run1(name, [reshape(t, [-1])], { axis: 0 });
    return opts.keepdims ? reshape(flat, t.shape.map(() => 1)) : flat;
  }
  const a = normalizeAxis(opts.axis, t.rank, name);
  const out = run1(name, [t], { axis: a });
  return opts.keepdims ? reshape(out, keepShape(t, [a])) : out;
}

/** Index of the largest value along `axis` (of the flattened tensor when axis is null). First wins on ties. */
export function argmax(x: TensorLike, axis?: number | null | { axis?: number | null; keepdims?: boolean }, keepdims?: boolean): Tensor {
  return argReduce('argmax', x, axis, keepdims);
}

/** Index of the smallest value along `axis`. */
export function argmin(x: TensorLike, axis?: number | null | { axis?: number | null; keepdims?: boolean }, keepdims?: boolean): Tensor {
  return argReduce('argmin', x, axis, keepdims);
}

function scan(name: string, x: TensorLike, axis: number | null | undefined, dtype?: string): Tensor {
  let t = convertToTensor(x, null, name);
  if (dtype) t = cast(t, dtype as Tensor['dtype']);
  if (t.dtype === 'bool') t = cast(t, 'int32');
  if (axis === null || axis === undefined) return run1(name, [reshape(t, [-1])], { axis: 0 });
  return run1(name, [t], { axis: normalizeAxis(axis, t.rank, name) });
}

/** Cumulative sum along `axis` (flattened when axis is null). */
export function cumsum(x: TensorLike, axis: number | null = null, dtype?: string): Tensor {
  return scan('cumsum', x, axis, dtype);
}

/** Cumulative product along `axis` (flattened when axis is null). */
export function cumprod(x: TensorLike, axis: number | null = null, dtype?: string): Tensor {
  return scan('cumprod', x, axis, dtype);
}

/** Variance (population, ddof 0, as Keras), from the single-pass `moments` primitive. */
export function variance(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = asFloat(x, 'var');
  const { axis: a, keepdims: k } = reduceArgs('var', axis, keepdims);
  const [m, v] = runOp('moments', [t], { axes: normalizeAxes(a, t.rank, 'var'), keepdims: k });
  if (!isRecording() && !m.isSymbolic) m.dispose(); // a recorded gradient reads the mean
  return v;
}

export { variance as var };

/** Standard deviation (population). */
export function std(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  return sqrt(variance(x, axis, keepdims));
}

/**
 * log(sum(exp(x))) computed stably. One axis, or trailing axes (all axes by default)
 * of known size, run the single-pass `logsumexp` primitive (trailing axes as one, through
 * a reshape); other sets of axes use the composite formula.
 */
export function logsumexp(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = asFloat(x, 'logsumexp');
  const { axis: a, keepdims: k } = reduceArgs('logsumexp', axis, keepdims);
  const axes = normalizeAxes(a, t.rank, 'logsumexp');
  const outShape = reducedShape(t.shape, axes, k).map((d) => (d === null ? -1 : d));
  const finish = (out: Tensor) => (k ? out : reshape(out, outShape));
  if (axes.length === 1) return finish(run1('logsumexp', [t], { axis: axes[0] }));
  const trailing = axes.length > 1 && axes.every((ax, i) => ax === t.rank - axes.length + i);
  const lead = t.shape.slice(0, t.rank - axes.length);
  const reducedKnown = axes.every((ax) => t.shape[ax] !== null);
  if (trailing && reducedKnown && lead.filter((d) => d === null).length <= 1) {
    const rows = reshape(t, [lead.reduce<number>((p, d) => (d === null || p < 0 ? -1 : p * d), 1), axes.reduce((p, ax) => p * (t.shape[ax] as number), 1)]);
    return reshape(run1('logsumexp', [rows], { axis: 1 }), outShape);
  }
  if (axes.length === 0) return finish(t);
  const m = stopGradient(max(t, a, true));
  const safeM = where(isinf(m), 0, m);
  const s = log(sum(exp(subtract(t, safeM)), a, true));
  const out = add(s, safeM);
  return k ? out : reshape(out, outShape);
}

/**
 * Vector norms (ord: 2 default, 1, Infinity, -Infinity, 0, or any p) over one axis,
 * or matrix norms ('fro', 1, -1, Infinity, -Infinity) over two axes.
 */
export function norm(x: TensorLike, ord: number | 'fro' | null = null, axis: Axis = null, keepdims = false): Tensor {
  const t = asFloat(x, 'norm');
  if (ord !== null && ord !== 'fro' && typeof ord !== 'number') throw new ValueError(`norm: ord must be a number, 'fro' or null, received ${describeValue(ord)}`);
  const axes = normalizeAxes(axis, t.rank, 'norm');
  const isMatrix = axis !== null && Array.isArray(axis) && axis.length === 2;
  if (axis !== null && Array.isArray(axis) && axis.length > 2) throw new ValueError(`norm: axis must name 1 or 2 axes, received ${JSON.stringify(axis)}`);
  if (ord === null || (ord === 'fro' && (isMatrix || axis === null))) return sqrt(sum(square(t), axes, keepdims));
  if (!isMatrix) {
    if (ord === 'fro') throw new ValueError(`norm: ord='fro' needs a matrix (two axes), received axis ${JSON.stringify(axis)}`);
    if (axis === null && t.rank > 1) throw new ValueError(`norm: ord=${ord} needs axis for a tensor of rank ${t.rank}`);
    if (ord === Infinity) return max(abs(t), axes, keepdims);
    if (ord === -Infinity) return min(abs(t), axes, keepdims);
    if (ord === 0) return sum(cast(notEqual(t, 0), t.dtype), axes, keepdims);
    if (ord === 1) return sum(abs(t), axes, keepdims);
    if (ord === 2) return sqrt(sum(square(t), axes, keepdims));
    return power(sum(power(abs(t), ord), axes, keepdims), 1 / ord);
  }
  const [rowAxis, colAxis] = [normalizeAxis((axis as number[])[0], t.rank, 'norm'), normalizeAxis((axis as number[])[1], t.rank, 'norm')];
  const reduceOuter = (inner: number, outer: number, pick: typeof max) => {
    const s = sum(abs(t), inner, true);
    const r = pick(s, outer, true);
    return keepdims ? r : reshape(r, t.shape.filter((_, i) => i !== rowAxis && i !== colAxis).map((d) => (d === null ? -1 : d)));
  };
  if (ord === 1) return reduceOuter(rowAxis, colAxis, max);
  if (ord === -1) return reduceOuter(rowAxis, colAxis, min);
  if (ord === Infinity) return reduceOuter(colAxis, rowAxis, max);
  if (ord === -Infinity) return reduceOuter(colAxis, rowAxis, min);
  throw new ValueError(`norm: matrix ord=${ord} is not supported (supported: 'fro', 1, -1, Infinity, -Infinity); 'nuc' and 2 need an SVD`);
}

void isFloat;
void maximum;
