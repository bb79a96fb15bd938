/**
 * Indexing and rearranging ops: the `sort` and `topK` primitives (values and int32
 * indices along the last axis) and composites over the shape primitives (gather, scatterAdd, slice,
 * concatenate, pad, transpose...): moveaxis, swapaxes, rot90, ravel, unstack, hstack,
 * vstack, tile, repeat, split, roll, take,
 * takeAlongAxis, scatter, scatterUpdate, sliceUpdate, oneHot, sort, argsort, topK,
 * triu, tril, diag, diagonal, trace, meshgrid. Composites get their gradients from
 * the primitives' rules.
 */
import { FLOATX, isInt, parseDType, type DType } from '../dtype.js';
import { DTypeError, ShapeError, ValueError, describeValue, fmtShape } from '../errors.js';
import { run1, runOp } from '../engine.js';
import { broadcastShapes, normalizeAxis, sizeOf, stridesOf, type Dim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { Variable } from '../variable.js';
import { defineOp } from './registry.js';
import { arangeInt, asDType, assertIntList, convertToTensor, type TensorLike } from './common.js';
import { add, cast, equal, less, multiply, notEqual, where, zerosLike } from './elementwise.js';
import { sum } from './reduction.js';
import { broadcastTo, concatenate, expandDims, flip, pad, reshape, slice, transpose } from './shape.js';
import { tri } from './creation.js';
import { isPlainObject, optionalArgs } from '../utils/args.js';

/**
 * broadcastTo that also works when `shape` has unknown (null) dims inside a
 * trace: broadcastTo's target is a static attribute, so unknown dims come from x via `where`.
 */
function broadcastToDims(x: Tensor, shape: readonly Dim[]): Tensor {
  if (shape.every((d) => d !== null)) return broadcastTo(x, shape as number[]);
  const mask = run1('fill', [], { shape: shape.map((d) => d ?? 1), value: 1, dtype: 'bool' });
  return where(mask, x, x);
}

// ---------------------------------------------------------------- primitives

defineOp<{ descending: boolean }>({
  name: 'sort',
  category: 'indexing',
  attrs: ['descending'],
  arity: 1,
  infer([x]) {
    if (x.shape.length === 0) throw new ShapeError(`sort: x must have rank >= 1, received shape ${fmtShape(x.shape)}`);
    return [
      { shape: x.shape, dtype: x.dtype },
      { shape: x.shape, dtype: 'int32' },
    ];
  },
  grad: ({ inputs: [x], outputs: [, indices] }, [dValues]) => [dValues ? scatterAlongLast('sort', x, indices, dValues) : null],
});

// The k largest along the last axis, largest first: exactly the first k of the descending
// sort (ties: lower index first, -0 and 0 tie, NaN only when fewer than k numbers remain).
defineOp<{ k: number }>({
  name: 'topK',
  category: 'indexing',
  attrs: ['k'],
  arity: 1,
  infer([x], { k }) {
    if (x.shape.length === 0) throw new ShapeError(`topK: x must have rank >= 1, received shape ${fmtShape(x.shape)}`);
    const n = x.shape[x.shape.length - 1];
    if (!Number.isInteger(k) || k < 0 || (n !== null && k > n)) throw new ValueError(`topK: k=${k} must be an integer in [0, ${n}] for x of shape ${fmtShape(x.shape)}`);
    const shape = [...x.shape.slice(0, -1), k];
    return [
      { shape, dtype: x.dtype },
      { shape, dtype: 'int32' },
    ];
  },
  grad: ({ inputs: [x], outputs: [, indices] }, [dValues]) => [dValues ? scatterAlongLast('topK', x, indices, dValues) : null],
});

/**
 * The gradient of a pick along the last axis (sort, topK): out[..., j] came from
 * x[..., indices[..., j]], so dx[..., i] is the sum of the dValues[..., j] picked from i.
 */
function scatterAlongLast(op: string, x: Tensor, indices: Tensor, dValues: Tensor): Tensor {
  const n = x.shape[x.rank - 1];
  if (n === null) throw new ShapeError(`${op}: the gradient needs a known size of the sorted axis, received ${fmtShape(x.shape)}`);
  if (x.shape.some((d) => d === null)) {
    // Unknown leading dims (a graph with a batch dim): scatterAdd needs a static size, so
    // route through a one-hot [..., k, n] mask instead: dx[..., i] = sum_j dy[..., j] [indices[..., j] == i].
    const mask = equal(expandDims(indices, -1), arangeInt(n));
    return sum(where(mask, expandDims(dValues, -1), 0), -2);
  }
  const total = sizeOf(x.shape);
  const rows = sizeOf(x.shape.slice(0, -1) as number[]);
  const picked = sizeOf(indices.shape as number[]);
  const offsets = reshape(multiply(arangeInt(rows), n), [...x.shape.slice(0, -1), 1]);
  const flatIdx = reshape(add(indices, offsets), [picked]);
  const g = run1('scatterAdd', [flatIdx, reshape(dValues, [picked])], { axis: 0, dimSize: total });
  return reshape(g, x.shape);
}

// ---------------------------------------------------------------- helpers

/** Dims as reshape targets: an unknown dim becomes -1. */
function dims(shape: readonly Dim[]): number[] {
  return shape.map((d) => (d === null ? -1 : d));
}

function knownDim(x: Tensor, axis: number, op: string): number {
  const d = x.shape[axis];
  if (d === null) throw new ShapeError(`${op}: needs a known size for axis ${axis}, received shape ${fmtShape(x.shape)}`);
  return d;
}

/** Converts indices to an int32 tensor; float or bool indices are an error, as in numpy. */
function indexTensor(indices: TensorLike, op: string, arg = 'indices'): Tensor {
  const t = convertToTensor(indices, null, op);
  if (!isInt(t.dtype)) throw new DTypeError(`${op}: ${arg} must be integers, received dtype ${t.dtype} ${fmtShape(t.shape)}`);
  return t;
}

/**
 * Bounds-checks indices into an axis of size `dim` and wraps negative ones. Concrete
 * indices are checked now (an error naming the op, index and shapes); symbolic ones are wrapped by ops.
 */
function wrapIndices(idx: Tensor, dim: Dim, op: string, context: string): Tensor {
  if (dim === null) return idx;
  if (!idx.isSymbolic) {
    const v = idx.values();
    let negative = false;
    for (let i = 0; i < v.length; i++) {
      if (v[i] < -dim || v[i] >= dim) throw new ValueError(`${op}: index ${v[i]} is out of bounds for size ${dim} (${context})`);
      if (v[i] < 0) negative = true;
    }
    if (!negative) return idx;
    const wrapped = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) wrapped[i] = v[i] < 0 ? v[i] + dim : v[i];
    return reshape(convertToTensor(wrapped), idx.shape);
  }
  return where(less(idx, 0), add(idx, dim), idx);
}

/** Reads a small list of integers given as numbers, an array, or a concrete tensor. */
function intList(value: number | readonly number[] | TensorLike, op: string, arg: string): number[] {
  let list: number[];
  if (typeof value === 'number') list = [value];
  else if (value instanceof Tensor || value instanceof Variable) {
    const t = value instanceof Variable ? value.value : value;
    if (t.isSymbolic) throw new ValueError(`${op}: ${arg} must be known when the op is built, received a symbolic tensor of shape ${fmtShape(t.shape)}`);
    if (!isInt(t.dtype)) throw new DTypeError(`${op}: ${arg} must be integers, received dtype ${t.dtype}`);
    list = Array.from(t.values());
  } else if (Array.isArray(value)) list = (value as unknown[]).flat(Infinity) as number[];
  else throw new ValueError(`${op}: ${arg} must be an integer or a list of integers, received ${typeof value}`);
  list.forEach((v) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${op}: ${arg} must hold integers, received ${JSON.stringify(value)}`);
  });
  return list;
}

// ---------------------------------------------------------------- axes

/** Moves axes `source` to positions `destination`; the other axes keep their order. */
export function moveaxis(x: TensorLike, source: number | readonly number[], destination: number | readonly number[]): Tensor {
  const t = convertToTensor(x, null, 'moveaxis');
  const src = assertIntList(source, 'moveaxis', 'source').map((a) => normalizeAxis(a, t.rank, 'moveaxis', 'source'));
  const dst = assertIntList(destination, 'moveaxis', 'destination').map((a) => normalizeAxis(a, t.rank, 'moveaxis', 'destination'));
  if (src.length !== dst.length) throw new ValueError(`moveaxis: source ${JSON.stringify(source)} and destination ${JSON.stringify(destination)} must have the same number of elements`);
  if (new Set(src).size !== src.length || new Set(dst).size !== dst.length) throw new ValueError(`moveaxis: repeated axis in source ${JSON.stringify(source)} or destination ${JSON.stringify(destination)}`);
  const perm = t.shape.map((_, i) => i).filter((i) => !src.includes(i));
  const pairs = dst.map((d, i) => [d, src[i]]).sort((a, b) => a[0] - b[0]);
  for (const [d, s] of pairs) perm.splice(d, 0, s);
  return transpose(t, perm);
}

/** Swaps two axes. */
export function swapaxes(x: TensorLike, axis1: number, axis2: number): Tensor {
  const t = convertToTensor(x, null, 'swapaxes');
  const a = normalizeAxis(axis1, t.rank, 'swapaxes', 'axis1');
  const b = normalizeAxis(axis2, t.rank, 'swapaxes', 'axis2');
  const perm = t.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return transpose(t, perm);
}

/** Rotates by 90 degrees `k` times in the plane of `axes` (from the first axis towards the second), as numpy. */
export function rot90(array: TensorLike, k: number | { k?: number; axes?: readonly [number, number] } = 1, axes?: readonly [number, number]): Tensor {
  const o = optionalArgs<{ k: number; axes: readonly number[] }>('rot90', { k: 1, axes: [0, 1] }, [k, axes]);
  const t = convertToTensor(array, null, 'rot90');
  if (t.rank < 2) throw new ShapeError(`rot90: array must have rank >= 2, received shape ${fmtShape(t.shape)}`);
  if (!Number.isInteger(o.k)) throw new ValueError(`rot90: k must be an integer, received ${JSON.stringify(o.k)}`);
  if (!Array.isArray(o.axes) || o.axes.length !== 2) throw new ValueError(`rot90: axes must be two axes, received ${JSON.stringify(o.axes)}`);
  const a0 = normalizeAxis(o.axes[0], t.rank, 'rot90', 'axes');
  const a1 = normalizeAxis(o.axes[1], t.rank, 'rot90', 'axes');
  if (a0 === a1) throw new ValueError(`rot90: axes must differ, received ${JSON.stringify(o.axes)} for shape ${fmtShape(t.shape)}`);
  const turns = ((o.k % 4) + 4) % 4;
  if (turns === 0) return t;
  if (turns === 2) return flip(t, [a0, a1]);
  return swapaxes(flip(t, turns === 1 ? a1 : a0), a0, a1);
}

/** Flattens x to 1-D. */
export function ravel(x: TensorLike): Tensor {
  return reshape(convertToTensor(x, null, 'ravel'), [-1]);
}

/** Splits x along `axis` into a list of its slices (the axis removed); `num`, if given, must match. */
export function unstack(x: TensorLike, num?: number | null | { num?: number | null; axis?: number }, axis?: number): Tensor[] {
  const o = optionalArgs<{ num: number | null; axis: number }>('unstack', { num: null, axis: 0 }, [num, axis]);
  const t = convertToTensor(x, null, 'unstack');
  const a = normalizeAxis(o.axis, t.rank, 'unstack');
  const n = knownDim(t, a, 'unstack');
  if (o.num !== null && o.num !== n) throw new ShapeError(`unstack: num=${describeValue(o.num)} does not match size ${n} of axis ${a} of ${fmtShape(t.shape)}`);
  const rest = dims(t.shape.filter((_, i) => i !== a));
  return Array.from({ length: n }, (_, i) =>
    reshape(
      slice(t, t.shape.map((_, k) => (k === a ? i : 0)), t.shape.map((_, k) => (k === a ? 1 : -1))),
      rest,
    ),
  );
}

/** Concatenates along the second axis (the first for 1-D tensors), as numpy hstack. */
export function hstack(xs: TensorLike[]): Tensor {
  if (!Array.isArray(xs) || !xs.length) throw new ValueError('hstack: needs a non-empty array of tensors');
  const ts = xs.map((x) => convertToTensor(x, null, 'hstack')).map((t) => (t.rank === 0 ? reshape(t, [1]) : t));
  return concatenate(ts, ts[0].rank === 1 ? 0 : 1);
}

/** Concatenates along the first axis, 1-D tensors becoming rows, as numpy vstack. */
export function vstack(xs: TensorLike[]): Tensor {
  if (!Array.isArray(xs) || !xs.length) throw new ValueError('vstack: needs a non-empty array of tensors');
  const ts = xs.map((x) => convertToTensor(x, null, 'vstack')).map((t) => (t.rank < 2 ? reshape(t, [1, -1]) : t));
  return concatenate(ts, 0);
}

// ---------------------------------------------------------------- repetition

/**
 * Repeats x `repeats[i]` times along axis i (numpy tile): fewer repeats than axes
 * repeat the trailing axes; more repeats than axes add leading axes.
 */
export function tile(x: TensorLike, repeats: number | readonly number[]): Tensor {
  let t = convertToTensor(x, null, 'tile');
  const reps = intList(repeats, 'tile', 'repeats');
  if (reps.some((r) => r < 0)) throw new ValueError(`tile: repeats must be non-negative, received ${JSON.stringify(repeats)}`);
  if (reps.length > t.rank) t = reshape(t, [...new Array<number>(reps.length - t.rank).fill(1), ...dims(t.shape)]);
  const full = [...new Array<number>(t.rank - reps.length).fill(1), ...reps];
  if (full.every((r) => r === 1)) return t;
  // [d0, d1] -> [1, d0, 1, d1] -> broadcast [r0, d0, r1, d1] -> [r0*d0, r1*d1].
  const interleaved = t.shape.flatMap((d) => [1, d]);
  const expanded = broadcastToDims(reshape(t, dims(interleaved)), t.shape.flatMap((d, i) => [full[i], d]));
  return reshape(expanded, t.shape.map((d, i) => (d === null ? -1 : d * full[i])));
}

/**
 * Repeats each element `repeats` times along `axis` (flattened when axis is null);
 * `repeats` is one count, or one count per element of that axis.
 */
export function repeat(x: TensorLike, repeats: number | readonly number[] | Tensor, axis: number | null | { axis?: number | null } = null): Tensor {
  const o = optionalArgs<{ axis: number | null }>('repeat', { axis: null }, [axis]);
  let t = convertToTensor(x, null, 'repeat');
  if (o.axis === null) {
    t = reshape(t, [-1]);
    o.axis = 0;
  }
  const a = normalizeAxis(o.axis, t.rank, 'repeat');
  const reps = intList(repeats, 'repeat', 'repeats');
  if (reps.some((r) => r < 0)) throw new ValueError(`repeat: repeats must be non-negative, received ${JSON.stringify(reps)}`);
  if (reps.length === 1) {
    const r = reps[0];
    if (r === 1) return t;
    // [.., d, ..] -> [.., d, 1, ..] -> broadcast [.., d, r, ..] -> [.., d*r, ..].
    const withAxis = reshape(t, dims([...t.shape.slice(0, a + 1), 1, ...t.shape.slice(a + 1)]));
    const expanded = broadcastToDims(withAxis, [...t.shape.slice(0, a + 1), r, ...t.shape.slice(a + 1)]);
    return reshape(expanded, dims(t.shape.map((d, i) => (i === a ? (d === null ? null : d * r) : d))));
  }
  const n = knownDim(t, a, 'repeat');
  if (reps.length !== n) throw new ShapeError(`repeat: repeats has ${reps.length} entries but axis ${a} of ${fmtShape(t.shape)} has size ${n}`);
  const idx: number[] = [];
  reps.forEach((r, i) => {
    for (let k = 0; k < r; k++) idx.push(i);
  });
  return run1('gather', [t, convertToTensor(new Int32Array(idx))], { axis: a });
}

// ---------------------------------------------------------------- splitting and rolling

/**
 * Splits x along `axis` into equal sections (a count that must divide the axis) or at
 * the given indices (numpy semantics: pieces may be empty). Returns an array.
 */
export function split(x: TensorLike, indicesOrSections: number | readonly number[], axis: number | { axis?: number } = 0): Tensor[] {
  const o = optionalArgs<{ axis: number }>('split', { axis: 0 }, [axis]);
  const t = convertToTensor(x, null, 'split');
  const a = normalizeAxis(o.axis, t.rank, 'split');
  const n = knownDim(t, a, 'split');
  let bounds: number[];
  if (typeof indicesOrSections === 'number') {
    const k = indicesOrSections;
    if (!Number.isInteger(k) || k <= 0) throw new ValueError(`split: the number of sections must be a positive integer, received ${k}`);
    if (n % k !== 0) throw new ShapeError(`split: axis ${a} of ${fmtShape(t.shape)} (size ${n}) does not divide into ${k} equal sections`);
    bounds = Array.from({ length: k + 1 }, (_, i) => (i * n) / k);
  } else {
    const idx = intList(indicesOrSections, 'split', 'indicesOrSections');
    bounds = [0, ...idx.map((i) => Math.min(n, Math.max(0, i < 0 ? i + n : i))), n];
  }
  const out: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i];
    const size = Math.max(0, bounds[i + 1] - start);
    out.push(slice(t, t.shape.map((_, k) => (k === a ? start : 0)), t.shape.map((_, k) => (k === a ? size : -1))));
  }
  return out;
}

/** Rolls elements along `axis` by `shift` (wrapping around); flattened when axis is null. */
export function roll(x: TensorLike, shift: number | readonly number[], axis: number | readonly number[] | null | { axis?: number | readonly number[] | null } = null): Tensor {
  const o = optionalArgs<{ axis: number | readonly number[] | null }>('roll', { axis: null }, [axis]);
  const t = convertToTensor(x, null, 'roll');
  const shifts = intList(shift, 'roll', 'shift');
  if (o.axis === null) {
    if (shifts.length !== 1) throw new ValueError(`roll: with axis null, shift must be one integer, received ${JSON.stringify(shift)}`);
    return reshape(roll(reshape(t, [-1]), shifts[0], 0), dims(t.shape));
  }
  const axes = assertIntList(o.axis, 'roll', 'axis').map((a) => normalizeAxis(a, t.rank, 'roll'));
  if (shifts.length !== axes.length && shifts.length !== 1 && axes.length !== 1) {
    throw new ValueError(`roll: shift ${JSON.stringify(shift)} and axis ${JSON.stringify(o.axis)} must have the same length`);
  }
  const count = Math.max(shifts.length, axes.length);
  let out = t;
  for (let i = 0; i < count; i++) {
    const a = axes[axes.length === 1 ? 0 : i];
    const n = knownDim(t, a, 'roll');
    const s = n === 0 ? 0 : (((shifts[shifts.length === 1 ? 0 : i] % n) + n) % n);
    if (s === 0) continue;
    // out[j] = x[(j - s) mod n]: one gather, whose gradient also works beside unknown dims.
    const idx = new Int32Array(n);
    for (let j = 0; j < n; j++) idx[j] = (j - s + n) % n;
    out = run1('gather', [out, convertToTensor(idx)], { axis: a });
  }
  return out;
}

// ---------------------------------------------------------------- gathering

/**
 * Elements of x at `indices` along `axis` (of the flattened x when axis is null):
 * out shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]. Negative indices
 * count from the end; out-of-range indices are an error.
 */
export function take(x: TensorLike, indices: TensorLike, axis: number | null | { axis?: number | null } = null): Tensor {
  const o = optionalArgs<{ axis: number | null }>('take', { axis: null }, [axis]);
  let t = convertToTensor(x, null, 'take');
  const idx = indexTensor(indices, 'take');
  if (o.axis === null) t = reshape(t, [-1]);
  const a = normalizeAxis(o.axis ?? 0, t.rank, 'take');
  const wrapped = wrapIndices(idx, t.shape[a], 'take', `axis ${a} of x ${fmtShape(t.shape)}, indices ${fmtShape(idx.shape)}`);
  return run1('gather', [t, wrapped], { axis: a });
}

/**
 * Picks x values along `axis` at `indices` (numpy take_along_axis): indices has x's
 * rank and broadcasts against x on the other axes. With axis null x is flattened.
 */
export function takeAlongAxis(x: TensorLike, indices: TensorLike, axis: number | null | { axis?: number | null } = null): Tensor {
  const o = optionalArgs<{ axis: number | null }>('takeAlongAxis', { axis: null }, [axis]);
  let t = convertToTensor(x, null, 'takeAlongAxis');
  let idx = indexTensor(indices, 'takeAlongAxis');
  if (o.axis === null) {
    t = reshape(t, [-1]);
    if (idx.rank !== 1) throw new ShapeError(`takeAlongAxis: with axis null, indices must be 1-D, received ${fmtShape(idx.shape)}`);
  }
  if (idx.rank !== t.rank) throw new ShapeError(`takeAlongAxis: indices ${fmtShape(idx.shape)} must have the rank of x ${fmtShape(t.shape)}`);
  const a = normalizeAxis(o.axis ?? 0, t.rank, 'takeAlongAxis');
  const rest = (s: readonly Dim[]) => s.map((d, i) => (i === a ? 1 : d));
  const other = broadcastShapes(rest(t.shape), rest(idx.shape), 'takeAlongAxis');
  const n = knownDim(t, a, 'takeAlongAxis');
  const m = knownDim(idx, a, 'takeAlongAxis');
  idx = wrapIndices(idx, n, 'takeAlongAxis', `axis ${a} of x ${fmtShape(t.shape)}, indices ${fmtShape(idx.shape)}`);
  if (other.some((d) => d === null)) {
    // Unknown dims (a graph with a batch dim) have no static strides: select with a one-hot
    // mask over the axis instead, out[.., j, ..] = sum_i x[.., i, ..] [idx[.., j, ..] == i].
    const xs = t.dtype === 'bool' ? cast(t, 'int32') : t;
    const mask = equal(expandDims(idx, a + 1), reshape(arangeInt(n), t.shape.map(() => 1).concat(1).map((d, i) => (i === a + 1 ? n : d))));
    const xe = expandDims(xs, a);
    const picked = sum(where(mask, xe, zerosLike(xe)), a + 1);
    return t.dtype === 'bool' ? cast(picked, 'bool') : picked;
  }
  const xShape = other.map((d, i) => (i === a ? n : d)) as number[];
  const outShape = other.map((d, i) => (i === a ? m : d)) as number[];
  idx = broadcastTo(idx, outShape);
  // Linear index into the broadcast x: idx * stride[a] + sum_{k != a} coord_k * stride[k].
  const strides = stridesOf(xShape);
  let lin = multiply(idx, strides[a]);
  outShape.forEach((d, k) => {
    if (k === a || d === 1) return;
    const coord = reshape(multiply(arangeInt(d), strides[k]), outShape.map((_, j) => (j === k ? d : 1)));
    lin = add(lin, coord);
  });
  const flatX = reshape(broadcastTo(t, xShape), [sizeOf(xShape)]);
  return reshape(run1('gather', [flatX, reshape(lin, [sizeOf(outShape)])], { axis: 0 }), outShape);
}

/**
 * Linear positions of `indices` [..., k] in the first k axes of `shape` (row-major),
 * with negative indices wrapped and concrete ones bounds-checked.
 */
function linearIndices(indices: Tensor, shape: readonly number[], op: string): { lin: Tensor; count: number; k: number } {
  if (indices.rank < 1) throw new ShapeError(`${op}: indices must have rank >= 1 (one row per update), received ${fmtShape(indices.shape)}`);
  const k = indices.shape[indices.rank - 1];
  if (k === null || k > shape.length) throw new ShapeError(`${op}: indices ${fmtShape(indices.shape)} index ${k} axes of a tensor of shape ${fmtShape(shape)}`);
  const lead = indices.shape.slice(0, -1);
  if (lead.some((d) => d === null)) throw new ShapeError(`${op}: needs a known indices shape, received ${fmtShape(indices.shape)}`);
  const count = sizeOf(lead as number[]);
  const rows = reshape(indices, [count, k]);
  const axisDims = shape.slice(0, k);
  let wrapped: Tensor;
  if (!rows.isSymbolic) {
    const v = rows.values();
    const w = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const d = axisDims[i % k];
      if (v[i] < -d || v[i] >= d) throw new ValueError(`${op}: index ${v[i]} in column ${i % k} of indices ${fmtShape(indices.shape)} is out of bounds for shape ${fmtShape(shape)}`);
      w[i] = v[i] < 0 ? v[i] + d : v[i];
    }
    wrapped = reshape(convertToTensor(w), [count, k]);
  } else {
    const d = convertToTensor(new Int32Array(axisDims));
    wrapped = where(less(rows, 0), add(rows, d), rows);
  }
  // k = 0 indexes no axis: every update goes to the one (whole-tensor) position 0.
  const lin = k === 0 ? run1('fill', [], { shape: [count], value: 0, dtype: 'int32' }) : sum(multiply(wrapped, convertToTensor(new Int32Array(stridesOf(axisDims)))), -1);
  return { lin, count, k };
}

function checkUpdates(op: string, updates: Tensor, indices: Tensor, shape: readonly number[], k: number, arg: string): number[] {
  const want = [...indices.shape.slice(0, -1), ...shape.slice(k)];
  if (updates.rank !== want.length || updates.shape.some((d, i) => d !== null && d !== want[i])) {
    throw new ShapeError(`${op}: ${arg} must have shape ${fmtShape(want)} (indices ${fmtShape(indices.shape)} into ${fmtShape(shape)}), received ${fmtShape(updates.shape)}`);
  }
  return want as number[];
}

/**
 * A tensor of `shape` holding zeros plus `values` added at `indices` (rows of k
 * coordinates, as tf.scatter_nd): values at repeated indices are summed.
 */
export function scatter(indices: TensorLike, values: TensorLike, shape: readonly number[]): Tensor {
  const idx = indexTensor(indices, 'scatter');
  let v = convertToTensor(values, null, 'scatter');
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`scatter: shape must be non-negative integers, received ${JSON.stringify(shape)}`);
  const { lin, count, k } = linearIndices(idx, shape, 'scatter');
  checkUpdates('scatter', v, idx, shape, k, 'values');
  const dtype = v.dtype;
  if (dtype === 'bool') v = cast(v, 'int32');
  const outer = sizeOf(shape.slice(0, k));
  const inner = sizeOf(shape.slice(k));
  const out = reshape(run1('scatterAdd', [lin, reshape(v, [count, inner])], { axis: 0, dimSize: outer }), [...shape]);
  return dtype === 'bool' ? cast(out, 'bool') : out;
}

/**
 * `inputs` with the slices at `indices` (rows of k coordinates) replaced by `updates`
 * (as tf.tensor_scatter_nd_update); for repeated indices the last update wins.
 */
export function scatterUpdate(inputs: TensorLike, indices: TensorLike, updates: TensorLike): Tensor {
  const x = convertToTensor(inputs, null, 'scatterUpdate');
  const idx = indexTensor(indices, 'scatterUpdate');
  if (x.shape.some((d) => d === null)) throw new ShapeError(`scatterUpdate: needs a known inputs shape, received ${fmtShape(x.shape)}`);
  const shape = x.shape;
  const { lin, count, k } = linearIndices(idx, shape, 'scatterUpdate');
  const work: DType = x.dtype === 'bool' ? 'int32' : x.dtype;
  const u = asDType(updates, work, 'scatterUpdate');
  checkUpdates('scatterUpdate', u, idx, shape, k, 'updates');
  if (count === 0) return x;
  const outer = sizeOf(shape.slice(0, k));
  const inner = sizeOf(shape.slice(k));
  // Keep only the last update per position: after a stable sort of positions, an entry is
  // the last of its run when the next sorted position differs.
  const [sortedLin, order] = runOp('sort', [lin], { descending: false });
  const next = concatenate([slice(sortedLin, [1], [count - 1]), run1('fill', [], { shape: [1], value: -1, dtype: 'int32' })]);
  const lastSorted = cast(notEqual(sortedLin, next), 'int32');
  const isLast = run1('scatterAdd', [order, lastSorted], { axis: 0, dimSize: count });
  const keep = reshape(cast(isLast, 'bool'), [count, 1]);
  const u2 = reshape(u, [count, inner]);
  const scattered = run1('scatterAdd', [lin, where(keep, u2, zerosLike(u2))], { axis: 0, dimSize: outer });
  const hit = reshape(cast(run1('scatterAdd', [lin, isLast], { axis: 0, dimSize: outer }), 'bool'), [outer, 1]);
  const x2 = reshape(x.dtype === work ? x : cast(x, work), [outer, inner]);
  const out = reshape(where(hit, scattered, x2), shape);
  return work === x.dtype ? out : cast(out, x.dtype);
}

/** `inputs` with the block starting at `startIndices` replaced by `updates` (jax dynamic_update_slice). */
export function sliceUpdate(inputs: TensorLike, startIndices: readonly number[] | Tensor, updates: TensorLike): Tensor {
  const x = convertToTensor(inputs, null, 'sliceUpdate');
  const u = asDType(updates, x.dtype, 'sliceUpdate');
  const start = intList(startIndices as number[] | Tensor, 'sliceUpdate', 'startIndices');
  if (start.length !== x.rank || u.rank !== x.rank) {
    throw new ShapeError(`sliceUpdate: startIndices ${JSON.stringify(start)} and updates ${fmtShape(u.shape)} must have one entry per axis of inputs ${fmtShape(x.shape)}`);
  }
  const paddings = x.shape.map((d, i): [number, number] => {
    const n = u.shape[i];
    if (d === null || n === null) throw new ShapeError(`sliceUpdate: needs known shapes, received inputs ${fmtShape(x.shape)} and updates ${fmtShape(u.shape)}`);
    if (start[i] < 0 || start[i] + n > d) throw new ShapeError(`sliceUpdate: updates ${fmtShape(u.shape)} at ${JSON.stringify(start)} do not fit in inputs ${fmtShape(x.shape)} (axis ${i})`);
    return [start[i], d - start[i] - n];
  });
  const mask = pad(run1('fill', [], { shape: u.shape, value: 1, dtype: 'bool' }), paddings);
  return where(mask, pad(u, paddings), x);
}

/** One-hot encoding: a new axis (`axis`, default last) of size numClasses (floatx by default); out-of-range values give all zeros. */
export function oneHot(x: TensorLike, numClasses: number, axis?: number | { axis?: number; dtype?: DType | null }, dtype?: DType | null): Tensor {
  const o = optionalArgs<{ axis: number; dtype: DType | null }>('oneHot', { axis: -1, dtype: null }, [axis, dtype]);
  let t = convertToTensor(x, null, 'oneHot');
  if (!Number.isInteger(numClasses) || numClasses < 0) throw new ValueError(`oneHot: numClasses must be a non-negative integer, received ${JSON.stringify(numClasses)}`);
  // Float labels compare by value (1.5 matches no class), as jax.nn.one_hot.
  if (t.dtype === 'bool') t = cast(t, 'int32');
  const a = normalizeAxis(o.axis, t.rank + 1, 'oneHot');
  const classes = reshape(arangeInt(numClasses), new Array<number>(t.rank + 1).fill(1).map((d, i) => (i === a ? numClasses : d)));
  return cast(equal(expandDims(t, a), classes), o.dtype === null ? FLOATX : parseDType(o.dtype, 'oneHot'));
}

// ---------------------------------------------------------------- sorting

function sortAlong(name: string, x: TensorLike, axis: number | null | { axis?: number | null } | undefined): { values: Tensor; indices: Tensor; restore: (t: Tensor) => Tensor } {
  const o = optionalArgs<{ axis: number | null }>(name, { axis: -1 }, [axis]);
  let t = convertToTensor(x, null, name);
  if (o.axis === null) t = reshape(t, [-1]);
  if (t.rank === 0) throw new ShapeError(`${name}: x must have rank >= 1, received shape ${fmtShape(t.shape)}`);
  const a = normalizeAxis(o.axis ?? 0, t.rank, name);
  const last = t.rank - 1;
  const moved = a === last ? t : moveaxis(t, a, last);
  const [values, indices] = runOp('sort', [moved], { descending: false });
  return { values, indices, restore: (r) => (a === last ? r : moveaxis(r, last, a)) };
}

/** Sorted copy of x along `axis` (ascending; NaN last; flattened when axis is null). */
export function sort(x: TensorLike, axis: number | null | { axis?: number | null } = -1): Tensor {
  const { values, restore } = sortAlong('sort', x, axis);
  return restore(values);
}

/** Indices (int32) that sort x along `axis`; stable, so ties keep their order. */
export function argsort(x: TensorLike, axis: number | null | { axis?: number | null } = -1): Tensor {
  const { indices, restore } = sortAlong('argsort', x, axis);
  return restore(indices);
}

/**
 * The k largest values along the last axis and their int32 indices, largest first
 * (ties: lower index first). `sorted: false` is accepted; the result is sorted anyway.
 */
export function topK(x: TensorLike, k: number, sorted: boolean | { sorted?: boolean } = true): [Tensor, Tensor] {
  optionalArgs<{ sorted: boolean }>('topK', { sorted: true }, [sorted]);
  const t = convertToTensor(x, null, 'topK');
  if (t.rank === 0) throw new ShapeError(`topK: x must have rank >= 1, received shape ${fmtShape(t.shape)}`);
  const n = knownDim(t, t.rank - 1, 'topK');
  if (!Number.isInteger(k) || k < 0 || k > n) throw new ValueError(`topK: k=${describeValue(k)} must be an integer in [0, ${n}] for x of shape ${fmtShape(t.shape)}`);
  const [values, indices] = runOp('topK', [t], { k });
  return [values, indices];
}

// ---------------------------------------------------------------- triangles and diagonals

function lastTwo(t: Tensor, op: string): [number, number] {
  if (t.rank < 2) throw new ShapeError(`${op}: x must have rank >= 2, received shape ${fmtShape(t.shape)}`);
  return [knownDim(t, t.rank - 2, op), knownDim(t, t.rank - 1, op)];
}

function kArg(k: unknown, op: string): number {
  const v = isPlainObject(k) ? (k as { k?: number }).k ?? 0 : k ?? 0;
  if (!Number.isInteger(v)) throw new ValueError(`${op}: k must be an integer, received ${JSON.stringify(v)}`);
  return v as number;
}

/** Lower triangle of the last two axes: elements with j <= i + k kept, the rest zero. */
export function tril(x: TensorLike, k: number | { k?: number } = 0): Tensor {
  const t = convertToTensor(x, null, 'tril');
  const [n, m] = lastTwo(t, 'tril');
  return where(tri(n, m, kArg(k, 'tril'), 'bool'), t, zerosLike(t));
}

/** Upper triangle of the last two axes: elements with j >= i + k kept, the rest zero. */
export function triu(x: TensorLike, k: number | { k?: number } = 0): Tensor {
  const t = convertToTensor(x, null, 'triu');
  const [n, m] = lastTwo(t, 'triu');
  return where(tri(n, m, kArg(k, 'triu') - 1, 'bool'), zerosLike(t), t);
}

/**
 * Diagonal `offset` of the 2-D slices over axis1 and axis2; those axes are removed
 * and the diagonal becomes the last axis (numpy).
 */
export function diagonal(x: TensorLike, offset: number | { offset?: number; axis1?: number; axis2?: number } = 0, axis1?: number, axis2?: number): Tensor {
  const o = optionalArgs<{ offset: number; axis1: number; axis2: number }>('diagonal', { offset: 0, axis1: 0, axis2: 1 }, [offset, axis1, axis2]);
  const t = convertToTensor(x, null, 'diagonal');
  if (t.rank < 2) throw new ShapeError(`diagonal: x must have rank >= 2, received shape ${fmtShape(t.shape)}`);
  const a1 = normalizeAxis(o.axis1, t.rank, 'diagonal', 'axis1');
  const a2 = normalizeAxis(o.axis2, t.rank, 'diagonal', 'axis2');
  if (a1 === a2) throw new ValueError(`diagonal: axis1 and axis2 must differ, both are ${a1} for shape ${fmtShape(t.shape)}`);
  if (!Number.isInteger(o.offset)) throw new ValueError(`diagonal: offset must be an integer, received ${JSON.stringify(o.offset)}`);
  const moved = moveaxis(t, [a1, a2], [t.rank - 2, t.rank - 1]);
  const [n, m] = lastTwo(moved, 'diagonal');
  const off = o.offset;
  const len = Math.max(0, off >= 0 ? Math.min(n, m - off) : Math.min(n + off, m));
  const idx = new Int32Array(len);
  for (let i = 0; i < len; i++) idx[i] = off >= 0 ? i * m + i + off : (i - off) * m + i;
  const lead = moved.shape.slice(0, -2);
  const flat = reshape(moved, dims([...lead, n * m]));
  return run1('gather', [flat, convertToTensor(idx)], { axis: lead.length });
}

/** 1-D x: a 2-D tensor with x on diagonal k. 2-D x: its k-th diagonal (numpy diag). */
export function diag(x: TensorLike, k: number | { k?: number } = 0): Tensor {
  const t = convertToTensor(x, null, 'diag');
  const kk = kArg(k, 'diag');
  if (t.rank === 2) return diagonal(t, kk);
  if (t.rank !== 1) throw new ShapeError(`diag: x must be 1-D or 2-D, received shape ${fmtShape(t.shape)}`);
  const len = knownDim(t, 0, 'diag');
  const size = len + Math.abs(kk);
  // Row i of [len, size + 1] holds x[i] then zeros; flattened, x[i] lands at i * (size + 1),
  // i.e. on the main diagonal of a size x size matrix; shifting by `start` moves it to diagonal k.
  const rows = reshape(pad(reshape(t, [len, 1]), [[0, 0], [0, size]]), [len * (size + 1)]);
  const start = kk >= 0 ? kk : -kk * size;
  const tail = size * size - start - len * (size + 1);
  const flat = tail >= 0 ? pad(rows, [[start, tail]]) : slice(pad(rows, [[start, 0]]), [0], [size * size]);
  return reshape(flat, [size, size]);
}

/** Sum of diagonal `offset` over axis1 and axis2 (ints and bools sum as int32). */
export function trace(x: TensorLike, offset: number | { offset?: number; axis1?: number; axis2?: number } = 0, axis1?: number, axis2?: number): Tensor {
  const o = optionalArgs<{ offset: number; axis1: number; axis2: number }>('trace', { offset: 0, axis1: 0, axis2: 1 }, [offset, axis1, axis2]);
  return sum(diagonal(x, o.offset, o.axis1, o.axis2), -1);
}

/**
 * Coordinate grids from 1-D vectors: with 'xy' (default) outputs have shape
 * [len(x1), len(x0), ...], with 'ij' [len(x0), len(x1), ...]. A trailing
 * `{ indexing }` object selects the mode.
 */
export function meshgrid(...args: (TensorLike | { indexing?: 'xy' | 'ij' })[]): Tensor[] {
  let indexing: unknown = 'xy';
  if (args.length && isPlainObject(args[args.length - 1])) {
    const o = optionalArgs<{ indexing: string }>('meshgrid', { indexing: 'xy' }, [args.pop()]);
    indexing = o.indexing;
  }
  if (indexing !== 'xy' && indexing !== 'ij') throw new ValueError(`meshgrid: indexing must be 'xy' or 'ij', received ${JSON.stringify(indexing)}`);
  const xs = args.map((a) => reshape(convertToTensor(a as TensorLike, null, 'meshgrid'), [-1]));
  const lens = xs.map((t) => t.shape[0]);
  if (indexing === 'xy' && xs.length >= 2) [lens[0], lens[1]] = [lens[1], lens[0]];
  if (lens.some((d) => d === null)) throw new ShapeError(`meshgrid: needs known lengths, received ${xs.map((t) => fmtShape(t.shape)).join(', ')}`);
  return xs.map((t, i) => {
    const pos = indexing === 'xy' && xs.length >= 2 && i < 2 ? 1 - i : i;
    const shaped = reshape(t, lens.map((d, j) => (j === pos ? (d as number) : 1)));
    return broadcastTo(shaped, lens as number[]);
  });
}
