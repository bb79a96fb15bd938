/**
 * Shape and data-movement primitives (reshape, transpose, broadcastTo, slice,
 * reverse, concatenate, pad, gather, scatterAdd) and the public functions built
 * directly on them.
 */
import { DTypeError, ShapeError, ValueError, describeValue, fmtShape } from '../errors.js';
import { run1 } from '../engine.js';
import { checkAxes, normalizeAxis, normalizeAxes, broadcastShapes, resolveReshape, type Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defineOp, type GradContext, type MergeableGrad, type TensorSpec } from './registry.js';
import { convertToTensor, promote, assertInt, assertIntList, type TensorLike } from './common.js';
import { isInt } from '../dtype.js';

// ---------------------------------------------------------------- primitives

defineOp<{ shape: number[] }>({
  name: 'reshape',
  category: 'shape',
  attrs: ['shape'],
  arity: 1,
  infer: ([x], { shape }) => [{ shape: resolveReshape(x.shape, shape), dtype: x.dtype }],
  grad: ({ inputs: [x] }, [dy]) => [reshape(dy!, x.shape.map((d) => (d === null ? -1 : d)))],
});

defineOp<{ perm: number[] }>({
  name: 'transpose',
  category: 'shape',
  attrs: ['perm'],
  arity: 1,
  infer([x], { perm }) {
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.shape.length || sorted.some((p, i) => p !== i)) {
      throw new ValueError(`transpose: axes ${JSON.stringify(perm)} are not a permutation of the ${x.shape.length} axes of ${fmtShape(x.shape)}`);
    }
    return [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }];
  },
  grad: ({ attrs: { perm } }, [dy]) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(dy!, inv)];
  },
});

defineOp<{ shape: number[] }>({
  name: 'broadcastTo',
  category: 'shape',
  attrs: ['shape'],
  arity: 1,
  infer([x], { shape }) {
    const out = broadcastShapes(x.shape, shape, 'broadcastTo');
    if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    }
    return [{ shape: [...shape], dtype: x.dtype }];
  },
  grad: ({ inputs: [x] }, [dy]) => [unbroadcastTo(dy!, x.shape)],
});

/** Sums a broadcast gradient back to `shape`. */
function unbroadcastTo(dy: Tensor, shape: readonly Dim[]): Tensor {
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  const summed = axes.length ? run1('sum', [dy], { axes, keepdims: true }) : dy;
  return reshape(summed, shape.map((d) => (d === null ? -1 : d)));
}

defineOp<{ begin: number[]; size: number[] }>({
  name: 'slice',
  category: 'shape',
  attrs: ['begin', 'size'],
  arity: 1,
  infer([x], { begin, size }) {
    if (begin.length !== x.shape.length || size.length !== x.shape.length) {
      throw new ShapeError(`slice: start_indices ${JSON.stringify(begin)} and shape ${JSON.stringify(size)} must have one entry per axis of ${fmtShape(x.shape)}`);
    }
    const shape = size.map((s, i) => {
      const d = x.shape[i];
      if (begin[i] < 0 || (d !== null && (begin[i] > d || begin[i] + s > d)) || s < -1) {
        throw new ShapeError(`slice: start ${begin[i]} with size ${s} is out of range for axis ${i} of ${fmtShape(x.shape)}`);
      }
      return s === -1 ? (d === null ? null : d - begin[i]) : s;
    });
    return [{ shape, dtype: x.dtype }];
  },
  grad: ({ inputs: [x], outputs: [y], attrs: { begin } }, [dy]) => [run1('pad', [dy!], { paddings: slicePaddings(x, y, begin), constantValue: 0 })],
  // A slice along one axis is a gather of a range there: several slices of one tensor (unstack,
  // split, a loop over timesteps) send back one scatterAdd of their rows, not a zero-padded copy
  // of the whole tensor each, added pairwise. A lone slice keeps its pad.
  mergeableGrad: ({ inputs: [x], outputs: [y], attrs: { begin } }, [dy]) => {
    const cut = begin.flatMap((b, i) => (b === 0 && y.shape[i] === x.shape[i] ? [] : [i]));
    const axis = cut[0]!;
    if (cut.length !== 1 || x.shape[axis] === null || !y.shape[axis]) return [null];
    const indices = convertToTensor(Int32Array.from({ length: y.shape[axis]! }, (_, k) => begin[axis]! + k));
    const paddings = slicePaddings(x, y, begin);
    return [
      {
        ...scatterRows(axis, x.shape[axis]!, indices, dy!),
        single: ([, u]) => run1('pad', [u!], { paddings, constantValue: 0 }),
        run: { part: 1, start: begin[axis]!, total: x.shape[axis]! },
      },
    ];
  },
});

/** The zero padding that puts a slice's gradient back in its input's place. */
function slicePaddings(x: Tensor, y: Tensor, begin: readonly number[]): [number, number][] {
  // Axes taken whole need no padding, so unknown (batch) dims are fine there.
  return begin.map((b, i): [number, number] => {
    if (b === 0 && y.shape[i] === x.shape[i]) return [0, 0];
    if (x.shape[i] === null || y.shape[i] === null) {
      throw new ShapeError(`slice: the gradient needs a known size of axis ${i}, received input ${fmtShape(x.shape)} and output ${fmtShape(y.shape)}`);
    }
    return [b, x.shape[i]! - b - y.shape[i]!];
  });
}

/** Rows `indices` (1-D int32) of a zero tensor with `dimSize` entries along `axis` get `updates`' slices there, summed. */
function scatterRows(axis: number, dimSize: number, indices: Tensor, updates: Tensor): MergeableGrad {
  return {
    key: `scatterAdd ${axis} ${dimSize}`,
    parts: [indices, updates],
    axes: [0, axis],
    make: ([i, u]) => run1('scatterAdd', [i!, u!], { axis, dimSize }),
  };
}

defineOp<{ axes: number[] }>({
  name: 'reverse',
  category: 'shape',
  attrs: ['axes'],
  arity: 1,
  infer([x], { axes }) {
    checkAxes('reverse', x.shape, axes);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  grad: ({ attrs: { axes } }, [dy]) => [reverse(dy!, axes)],
});

defineOp<{ axis: number }>({
  name: 'concatenate',
  category: 'shape',
  attrs: ['axis'],
  arity: { min: 1 },
  infer(inputs, { axis }) {
    const first = inputs[0];
    checkAxes('concatenate', first.shape, [axis]);
    let total: Dim = 0;
    for (const [i, t] of inputs.entries()) {
      if (t.dtype !== first.dtype) throw new DTypeError(`concatenate: input ${i} has dtype ${t.dtype}, input 0 has ${first.dtype}`);
      if (t.shape.length !== first.shape.length || t.shape.some((d, k) => k !== axis && d !== null && first.shape[k] !== null && d !== first.shape[k])) {
        throw new ShapeError(`concatenate: input ${i} has shape ${fmtShape(t.shape)}, incompatible with ${fmtShape(first.shape)} along all axes but ${axis}`);
      }
      total = total === null || t.shape[axis] === null ? null : total + t.shape[axis]!;
    }
    const shape = first.shape.map((d, k) => (k === axis ? total : d ?? inputs.find((t) => t.shape[k] !== null)?.shape[k] ?? null));
    return [{ shape, dtype: first.dtype }];
  },
  grad: ({ inputs, attrs: { axis } }, [dy]) => {
    let start = 0;
    return inputs.map((t) => {
      const n = t.shape[axis];
      if (n === null) throw new ShapeError(`concatenate: the gradient needs known sizes along axis ${axis}`);
      const begin = t.shape.map((_, k) => (k === axis ? start : 0));
      const size = t.shape.map((d, k) => (k === axis ? n : -1));
      start += n;
      return run1('slice', [dy!], { begin, size });
    });
  },
});

defineOp<{ paddings: [number, number][]; constantValue: number }>({
  name: 'pad',
  category: 'shape',
  attrs: ['paddings', 'constantValue'],
  arity: 1,
  infer([x], { paddings }) {
    if (paddings.length !== x.shape.length || paddings.some((p) => p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
      throw new ShapeError(`pad: pad_width ${JSON.stringify(paddings)} must hold one [before, after] pair of non-negative integers per axis of ${fmtShape(x.shape)}`);
    }
    return [{ shape: x.shape.map((d, i) => (d === null ? null : d + paddings[i][0] + paddings[i][1])), dtype: x.dtype }];
  },
  grad: ({ inputs: [x], attrs: { paddings } }, [dy]) => [
    run1('slice', [dy!], { begin: paddings.map((p) => p[0]), size: x.shape.map((d) => (d === null ? -1 : d)) }),
  ],
});

function gatherShape(x: TensorSpec, indices: TensorSpec, axis: number): Dim[] {
  return [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
}

defineOp<{ axis: number }>({
  name: 'gather',
  category: 'shape',
  attrs: ['axis'],
  arity: 2,
  infer([x, indices], { axis }) {
    if (!isInt(indices.dtype)) throw new DTypeError(`gather: indices must be int32, received ${indices.dtype} ${fmtShape(indices.shape)}`);
    checkAxes('gather', x.shape, [axis]);
    return [{ shape: gatherShape(x, indices, axis), dtype: x.dtype }];
  },
  nonDifferentiableInputs: [1],
  grad: (ctx, dys) => {
    const rows = gatherScatterRows(ctx, dys);
    return [rows.make(rows.parts), null];
  },
  mergeableGrad: (ctx, dys) => [gatherScatterRows(ctx, dys), null],
});

/** gather's gradient as scatter rows: dy's slices along axis go back to the rows (indices) they came from. */
function gatherScatterRows({ inputs: [x, indices], attrs: { axis } }: GradContext<{ axis: number }>, [dy]: (Tensor | null)[]): MergeableGrad {
  const dim = x.shape[axis];
  if (dim === null) throw new ShapeError(`take: the gradient needs a known size of axis ${axis}, received ${fmtShape(x.shape)}`);
  const flatIdx = reshape(indices, [-1]);
  // Only one dim may be inferred: the index count when it is unknown, else x's unknown (batch) dim.
  const count = indices.shape.some((d) => d === null) ? null : indices.shape.reduce((a, b) => a * b, 1);
  const target = [...x.shape.slice(0, axis), count, ...x.shape.slice(axis + 1)];
  if (target.filter((d) => d === null).length > 1) {
    throw new ShapeError(`take: the gradient needs at most one unknown dim, received x ${fmtShape(x.shape)} and indices ${fmtShape(indices.shape)}`);
  }
  const updates = reshape(dy!, target.map((d) => (d === null ? -1 : d)));
  return scatterRows(axis, dim, flatIdx, updates);
}

defineOp<{ axis: number; dimSize: number }>({
  name: 'scatterAdd',
  category: 'shape',
  attrs: ['axis', 'dimSize'],
  arity: 2,
  infer([indices, updates], { axis, dimSize }) {
    if (!isInt(indices.dtype)) throw new DTypeError(`scatterAdd: indices must be int32, received ${indices.dtype} ${fmtShape(indices.shape)}`);
    checkAxes('scatterAdd', updates.shape, [axis]);
    if (indices.shape.length !== 1 || (indices.shape[0] !== null && updates.shape[axis] !== null && indices.shape[0] !== updates.shape[axis])) {
      throw new ShapeError(`scatterAdd: indices ${fmtShape(indices.shape)} must be 1-D and match updates ${fmtShape(updates.shape)} along axis ${axis}`);
    }
    return [{ shape: updates.shape.map((d, i) => (i === axis ? dimSize : d)), dtype: updates.dtype }];
  },
  nonDifferentiableInputs: [0],
  grad: ({ inputs: [indices], attrs: { axis } }, [dy]) => [null, run1('gather', [dy!, indices], { axis })],
});

// ---------------------------------------------------------------- public API

/** Gives x a new shape with the same number of elements; one dim may be -1. */
export function reshape(x: TensorLike, newShape: number | readonly number[]): Tensor {
  const t = convertToTensor(x, null, 'reshape');
  const shape = assertIntList(newShape, 'reshape', 'newShape');
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  return run1('reshape', [t], { shape });
}

/** Permutes the axes (reverses them by default). */
export function transpose(x: TensorLike, axes?: readonly number[] | null): Tensor {
  const t = convertToTensor(x, null, 'transpose');
  const perm = axes ? assertIntList(axes, 'transpose', 'axes').map((a) => normalizeAxis(a, t.rank, 'transpose', 'axes')) : t.shape.map((_, i) => t.rank - 1 - i);
  if (perm.length === t.rank && perm.every((p, i) => p === i)) return t;
  return run1('transpose', [t], { perm });
}

/** Reverses the order of elements along `axis` (all axes by default). */
export function flip(x: TensorLike, axis: number | number[] | null = null): Tensor {
  const t = convertToTensor(x, null, 'flip');
  const axes = normalizeAxes(axis, t.rank, 'flip');
  return axes.length ? run1('reverse', [t], { axes }) : t;
}

/** @internal Primitive reverse over already-normalized axes. */
export function reverse(x: Tensor, axes: number[]): Tensor {
  return run1('reverse', [x], { axes });
}

/** Inserts a size-1 axis at `axis` (several with an array). */
export function expandDims(x: TensorLike, axis: number | number[]): Tensor {
  const t = convertToTensor(x, null, 'expandDims');
  const list = assertIntList(axis, 'expandDims', 'axis');
  const outRank = t.rank + list.length;
  const axes = list.map((a) => normalizeAxis(a, outRank, 'expandDims'));
  if (new Set(axes).size !== axes.length) throw new ValueError(`expandDims: repeated axis in ${JSON.stringify(axis)}`);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < outRank; i++) shape.push(axes.includes(i) ? 1 : (t.shape[k++] ?? -1));
  return reshape(t, shape.map((d) => (d === null ? -1 : d)));
}

/** Removes size-1 axes (the given ones, or all). */
export function squeeze(x: TensorLike, axis: number | number[] | null = null): Tensor {
  const t = convertToTensor(x, null, 'squeeze');
  const axes = axis === null ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes(axis, t.rank, 'squeeze');
  for (const a of axes) {
    if (t.shape[a] !== 1) throw new ShapeError(`squeeze: cannot squeeze axis ${a} of size ${t.shape[a]} in ${fmtShape(t.shape)}`);
  }
  return reshape(t, t.shape.filter((_, i) => !axes.includes(i)).map((d) => (d === null ? -1 : d)));
}

/** Broadcasts x to `shape` (numpy rules). */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = convertToTensor(x, null, 'broadcastTo');
  const target = assertIntList(shape, 'broadcastTo', 'shape');
  if (t.shape.length === target.length && t.shape.every((d, i) => d === target[i])) return t;
  return run1('broadcastTo', [t], { shape: target });
}

/** Joins tensors along an existing axis (default 0), promoting dtypes. */
export function concatenate(xs: TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || !xs.length) throw new ValueError('concatenate: needs a non-empty array of tensors');
  const { tensors } = promote('concatenate', ...xs);
  const a = normalizeAxis(axis, tensors[0].rank, 'concatenate');
  return tensors.length === 1 ? tensors[0] : run1('concatenate', tensors, { axis: a });
}

/** Joins tensors along a new axis. */
export function stack(xs: TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || !xs.length) throw new ValueError('stack: needs a non-empty array of tensors');
  const { tensors } = promote('stack', ...xs);
  const rank = tensors[0].rank;
  tensors.forEach((t, i) => {
    if (t.rank !== rank || t.shape.some((d, k) => d !== tensors[0].shape[k])) {
      throw new ShapeError(`stack: input ${i} has shape ${fmtShape(t.shape)}, input 0 has ${fmtShape(tensors[0].shape)}; all must match`);
    }
  });
  const a = normalizeAxis(axis, rank + 1, 'stack');
  return concatenate(tensors.map((t) => expandDims(t, a)), a);
}

/** Keras `ops.slice(inputs, startIndices, shape)`: a contiguous block; -1 in shape means "to the end". */
export function slice(x: TensorLike, startIndices: readonly number[], shape: readonly number[]): Tensor {
  const t = convertToTensor(x, null, 'slice');
  // An array's entries checked one by one, so the error names the entry.
  const begin = Array.isArray(startIndices)
    ? startIndices.map((s, i) => assertInt(s, 'slice', `startIndices[${i}]`))
    : assertIntList(startIndices, 'slice', 'startIndices');
  return run1('slice', [t], { begin, size: assertIntList(shape, 'slice', 'shape') });
}

type PadMode = 'constant' | 'reflect' | 'symmetric';

/**
 * Pads x. `padWidth` is one [before, after] pair per axis (or one pair / one number for all).
 * Modes: constant (with `constantValue`), reflect (mirror without the edge), symmetric (with it).
 */
export function pad(x: TensorLike, padWidth: number | [number] | [number, number] | [number, number][], mode: PadMode = 'constant', constantValue: number | null = null): Tensor {
  const t = convertToTensor(x, null, 'pad');
  if (typeof padWidth !== 'number' && !Array.isArray(padWidth)) {
    throw new ShapeError(`pad: pad_width must be an integer or [before, after] pairs for ${fmtShape(t.shape)}, received ${describeValue(padWidth)}`);
  }
  // Keras shortcuts: n, [n], [before, after] and [[before, after]] apply to every axis.
  const pw = padWidth as unknown[];
  const pairs: [number, number][] =
    typeof padWidth === 'number'
      ? t.shape.map(() => [padWidth, padWidth])
      : pw.length === 1 && typeof pw[0] === 'number'
        ? t.shape.map(() => [pw[0] as number, pw[0] as number])
        : typeof pw[0] === 'number'
          ? t.shape.map(() => padWidth as [number, number])
          : pw.length === 1 && t.rank !== 1
            ? t.shape.map(() => pw[0] as [number, number])
            : (padWidth as [number, number][]);
  for (const p of pairs) {
    if (!Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new ShapeError(`pad: pad_width ${JSON.stringify(padWidth)} must hold non-negative integer [before, after] pairs for ${fmtShape(t.shape)}`);
    }
  }
  if (mode === 'constant') return run1('pad', [t], { paddings: pairs, constantValue: constantValue ?? 0 });
  if (mode !== 'reflect' && mode !== 'symmetric') throw new ValueError(`pad: unknown mode ${JSON.stringify(mode)}; expected constant, reflect or symmetric`);
  if (constantValue !== null && constantValue !== 0) throw new ValueError(`pad: constantValue only applies to mode 'constant', received mode ${mode}`);
  if (pairs.length !== t.rank) throw new ShapeError(`pad: pad_width ${JSON.stringify(padWidth)} must have one pair per axis of ${fmtShape(t.shape)}`);
  // Mirror modes are a gather with mirrored indices per axis, so they differentiate for free.
  let out = t;
  pairs.forEach(([before, after], axis) => {
    if (!before && !after) return;
    const n = t.shape[axis];
    if (n === null) throw new ShapeError(`pad: mode ${mode} needs a known size for axis ${axis}`);
    const limit = mode === 'reflect' ? n - 1 : n;
    if (before > limit || after > limit) throw new ShapeError(`pad: ${mode} padding of ${Math.max(before, after)} exceeds ${limit} for axis ${axis} of ${fmtShape(t.shape)}`);
    const idx: number[] = [];
    for (let i = before; i > 0; i--) idx.push(mode === 'reflect' ? i : i - 1);
    for (let i = 0; i < n; i++) idx.push(i);
    for (let i = 1; i <= after; i++) idx.push(mode === 'reflect' ? n - 1 - i : n - i);
    out = run1('gather', [out, convertToTensor(idx, 'int32')], { axis });
  });
  return out;
}
