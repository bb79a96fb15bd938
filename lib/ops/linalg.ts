/**
 * Linear algebra: the primitives matmul (with transposeA/transposeB), inv, det,
 * solve and cholesky, and the composites built on them: dot, tensordot, einsum,
 * outer, inner, vdot.
 */
import { FLOATX, isFloat, type DType } from '../dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { run1 } from '../engine.js';
import { broadcastShapes, normalizeAxis, type Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defineOp, type TensorSpec } from './registry.js';
import { convertToTensor, promote, unbroadcast, type TensorLike } from './common.js';
import { cast, multiply, negative, notEqual, add } from './elementwise.js';
import { sum } from './reduction.js';
import { broadcastTo, reshape, transpose } from './shape.js';

// ---------------------------------------------------------------- helpers

/** Reshape target for dims that may be unknown: null becomes -1 (at most one may be). */
function target(dims: readonly Dim[], op: string): number[] {
  const unknown = dims.filter((d) => d === null).length;
  if (unknown > 1) throw new ShapeError(`${op}: cannot reshape with more than one unknown dim ${fmtShape(dims)}`);
  return dims.map((d) => (d === null ? -1 : d));
}

/** Product of dims; null when any is unknown. */
function prodDims(dims: readonly Dim[]): Dim {
  let n = 1;
  for (const d of dims) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

/** Swaps the last two axes. */
function matrixTranspose(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = x.rank;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose(x, perm);
}

/** Broadcast shape of two batch shapes, with an error naming the op and both full shapes. */
function broadcastBatch(a: readonly Dim[], b: readonly Dim[], op: string, shapeA: readonly Dim[], shapeB: readonly Dim[]): Dim[] {
  try {
    return broadcastShapes(a, b, op);
  } catch {
    throw new ShapeError(`${op}: cannot broadcast the batch dimensions of shapes ${fmtShape(shapeA)} and ${fmtShape(shapeB)}`);
  }
}

/**
 * Promotes operands as Keras' result_type. Bools are computed as int32 (the engine's
 * matmul takes no bools); `finish` turns the result back into bool (any of the products).
 */
function promoteForProducts(op: string, ...xs: TensorLike[]): { tensors: Tensor[]; finish: (t: Tensor) => Tensor } {
  const { dtype, tensors } = promote(op, ...xs);
  if (dtype !== 'bool') return { tensors, finish: (t) => t };
  return { tensors: tensors.map((t) => cast(t, 'int32')), finish: (t) => notEqual(t, 0) };
}

// ---------------------------------------------------------------- matmul primitive

type MatmulAttrs = { transposeA: boolean; transposeB: boolean };

function describeMatmul(a: readonly Dim[], b: readonly Dim[], tA: boolean, tB: boolean): string {
  const t = tA || tB ? ` (transposeA=${tA}, transposeB=${tB})` : '';
  return `shapes ${fmtShape(a)} and ${fmtShape(b)}${t}`;
}

defineOp<MatmulAttrs>({
  name: 'matmul',
  category: 'linalg',
  attrs: ['transposeA', 'transposeB'],
  arity: 2,
  infer([a, b], { transposeA = false, transposeB = false }) {
    if (a.dtype !== b.dtype) throw new DTypeError(`matmul: both inputs must have the same dtype, received ${a.dtype} and ${b.dtype} for ${describeMatmul(a.shape, b.shape, transposeA, transposeB)}`);
    if (a.dtype === 'bool') throw new DTypeError(`matmul: bool inputs are not supported, received ${describeMatmul(a.shape, b.shape, transposeA, transposeB)}`);
    if (a.shape.length < 2 || b.shape.length < 2) throw new ShapeError(`matmul: the primitive needs inputs of rank >= 2, received ${describeMatmul(a.shape, b.shape, transposeA, transposeB)}`);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const ka = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (ka !== null && kb !== null && ka !== kb) {
      throw new ShapeError(`matmul: incompatible ${describeMatmul(a.shape, b.shape, transposeA, transposeB)}: the contracted dimensions differ (${ka} vs ${kb})`);
    }
    const batch = broadcastBatch(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul', a.shape, b.shape);
    return [{ shape: [...batch, m, n], dtype: a.dtype }];
  },
  grad({ inputs: [a, b], attrs: { transposeA: tA = false, transposeB: tB = false }, needs }, [dy]) {
    // op(X) is X or its transpose; Y = op(A) op(B). Transposes are absorbed into the attrs.
    const g = dy!;
    const da = needs?.[0] === false ? null : tA ? matmulRaw(b, g, tB, true) : matmulRaw(g, b, false, !tB);
    const db = needs?.[1] === false ? null : tB ? matmulRaw(g, a, true, tA) : matmulRaw(a, g, !tA, false);
    return [da && unbroadcast(da, a.shape), db && unbroadcast(db, b.shape)];
  },
  // The weight gradient of a plain 2-D product, op(A)^T dY, sums over uses by concatenating the
  // rows of op(A) and dY: an RNN's recurrent kernel (one use per timestep) gets one matmul
  // contracting batch x timesteps rows instead of one per timestep added pairwise.
  mergeableGrad({ inputs: [a, b], attrs: { transposeA: tA = false, transposeB: tB = false } }, [dy]) {
    if (tB || a.rank !== 2 || b.rank !== 2) return [null, null];
    return [null, { key: `matmul dB ${tA}`, parts: [a, dy!], axes: [tA ? 1 : 0, 0], make: ([a2, g]) => matmulRaw(a2!, g!, !tA, false) }];
  },
});

/** The matmul primitive on rank >= 2 operands of one dtype. */
function matmulRaw(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  return run1('matmul', [a, b], { transposeA, transposeB });
}

// ---------------------------------------------------------------- factorization primitives

/** Checks a stack of square matrices [..., n, n]; returns n. */
function checkSquare(x: TensorSpec, op: string, arg = 'x'): Dim {
  const r = x.shape.length;
  if (r < 2) throw new ShapeError(`${op}: ${arg} must be a matrix or a stack of matrices (rank >= 2), received shape ${fmtShape(x.shape)}`);
  const [p, q] = [x.shape[r - 2], x.shape[r - 1]];
  if (p !== null && q !== null && p !== q) throw new ShapeError(`${op}: ${arg} must be square in its last two dimensions, received shape ${fmtShape(x.shape)}`);
  return p ?? q;
}

function checkFloat(x: TensorSpec, op: string, arg = 'x'): void {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: ${arg} must be a float tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
}

/** `x` reshaped to [..., 1, 1] so it broadcasts against a stack of matrices. */
function asMatrixScalar(x: Tensor): Tensor {
  return reshape(x, target([...x.shape, 1, 1], 'det'));
}

defineOp({
  name: 'inv',
  category: 'linalg',
  attrs: [],
  arity: 1,
  infer([x]) {
    checkFloat(x, 'inv');
    checkSquare(x, 'inv');
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  // d(A^-1) = -A^-1 dA A^-1, so dA = -A^-T dY A^-T.
  grad: ({ outputs: [y] }, [dy]) => [negative(matmulRaw(matmulRaw(y, dy!, true, false), y, false, true))],
});

defineOp({
  name: 'det',
  category: 'linalg',
  attrs: [],
  arity: 1,
  infer([x]) {
    checkFloat(x, 'det');
    checkSquare(x, 'det');
    return [{ shape: x.shape.slice(0, -2), dtype: x.dtype }];
  },
  // d det(A) / dA = det(A) A^-T (Jacobi's formula; A must be invertible).
  grad: ({ inputs: [x], outputs: [y] }, [dy]) => [multiply(asMatrixScalar(multiply(dy!, y)), matrixTranspose(run1('inv', [x])))],
});

defineOp({
  name: 'solve',
  category: 'linalg',
  attrs: [],
  arity: 2,
  infer([a, b]) {
    checkFloat(a, 'solve', 'a');
    if (a.dtype !== b.dtype) throw new DTypeError(`solve: a and b must have the same dtype, received ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
    const n = checkSquare(a, 'solve', 'a');
    const rb = b.shape.length;
    const batchMismatch = rb !== a.shape.length || a.shape.slice(0, -2).some((d, i) => d !== null && b.shape[i] !== null && d !== b.shape[i]);
    if (batchMismatch || (n !== null && b.shape[rb - 2] !== null && b.shape[rb - 2] !== n)) {
      throw new ShapeError(`solve: b must have shape [..., ${n ?? 'None'}, k] with the batch dims of a, received a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)}`);
    }
    return [{ shape: b.shape.map((d, i) => d ?? a.shape[i] ?? null), dtype: b.dtype }];
  },
  // X = A^-1 B: dB = A^-T dY, dA = -dB X^T.
  grad({ inputs: [a], outputs: [x] }, [dy]) {
    const db = run1('solve', [matrixTranspose(a), dy!]);
    return [negative(matmulRaw(db, x, false, true)), db];
  },
});

/** Constant mask that keeps the strict lower triangle and halves the diagonal (Murray's Phi). */
function phiMask(n: number, dtype: DType): Tensor {
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) values[i * n + j] = 1;
    values[i * n + i] = 0.5;
  }
  return cast(reshape(convertToTensor(values, null, 'cholesky'), [n, n]), dtype);
}

defineOp({
  name: 'cholesky',
  category: 'linalg',
  attrs: [],
  arity: 1,
  infer([x]) {
    checkFloat(x, 'cholesky');
    checkSquare(x, 'cholesky');
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  // Murray (2016): with Phi = lower triangle with halved diagonal,
  // S = L^-T Phi(L^T dL) L^-1 and dA = (S + S^T) / 2 (the input is read as symmetric).
  grad({ inputs: [x], outputs: [l] }, [dy]) {
    const n = x.shape[x.rank - 1];
    if (n === null) throw new ShapeError(`cholesky: the gradient needs a known matrix size, received ${fmtShape(x.shape)}`);
    const lInv = run1('inv', [l]);
    const middle = multiply(matmulRaw(l, dy!, true, false), phiMask(n, x.dtype));
    const s = matmulRaw(matmulRaw(lInv, middle, true, false), lInv);
    return [multiply(add(s, matrixTranspose(s)), 0.5)];
  },
});

// ---------------------------------------------------------------- public API: products

/**
 * Matrix product with numpy semantics: 1-D operands are promoted to matrices and the
 * added dim removed afterwards; batch dims broadcast. Dtypes promote as Keras' result_type.
 */
export function matmul(x1: TensorLike, x2: TensorLike): Tensor {
  const { tensors, finish } = promoteForProducts('matmul', x1, x2);
  let [a, b] = tensors;
  if (a.rank === 0 || b.rank === 0) throw new ShapeError(`matmul: inputs must have rank >= 1, received shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const ka = a.shape[a.rank - 1];
  const kb = b.rank === 1 ? b.shape[0] : b.shape[b.rank - 2];
  if (ka !== null && kb !== null && ka !== kb) {
    throw new ShapeError(`matmul: incompatible shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}: the contracted dimensions differ (${ka} vs ${kb})`);
  }
  const aVec = a.rank === 1;
  const bVec = b.rank === 1;
  if (aVec) a = reshape(a, target([1, a.shape[0]], 'matmul'));
  if (bVec) b = reshape(b, target([b.shape[0], 1], 'matmul'));
  let out: Tensor;
  const lead = a.shape.slice(0, -1);
  const unknowns = (dims: Dim[]) => dims.filter((d) => d === null).length;
  const foldable = unknowns([...lead, b.shape[1]]) <= 1 && unknowns([prodDims(lead), a.shape[a.rank - 1]]) <= 1;
  if (b.rank === 2 && a.rank > 2 && foldable) {
    // A stack times one matrix is one big matrix product: cheaper, and its gradient needs no batch sum.
    const flat = matmulRaw(reshape(a, target([prodDims(lead), a.shape[a.rank - 1]], 'matmul')), b);
    out = reshape(flat, target([...lead, b.shape[1]], 'matmul'));
  } else {
    out = matmulRaw(a, b);
  }
  if (aVec || bVec) {
    const keep = out.shape.filter((_, i) => !((aVec && i === out.rank - 2) || (bVec && i === out.rank - 1)));
    out = reshape(out, target(keep, 'matmul'));
  }
  return finish(out);
}

/** tensordot axes: a count N, or a pair [axesA, axesB]. */
type Axes = number | [number | number[], number | number[]];

/**
 * Sum of products over the given axes: `axes = N` contracts the last N axes of a with the
 * first N of b; `axes = [axesA, axesB]` pairs them explicitly.
 */
export function tensordot(x1: TensorLike, x2: TensorLike, axes: Axes | { axes?: Axes } = 2): Tensor {
  const ax: Axes = typeof axes === 'object' && !Array.isArray(axes) ? (axes.axes ?? 2) : axes;
  const { tensors, finish } = promoteForProducts('tensordot', x1, x2);
  const [a, b] = tensors;
  let axesA: number[];
  let axesB: number[];
  if (typeof ax === 'number') {
    if (!Number.isInteger(ax) || ax < 0 || ax > a.rank || ax > b.rank) {
      throw new ValueError(`tensordot: axes=${ax} must be an integer in [0, min(rank)] for shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    }
    axesA = Array.from({ length: ax }, (_, i) => a.rank - ax + i);
    axesB = Array.from({ length: ax }, (_, i) => i);
  } else {
    if (!Array.isArray(ax) || ax.length !== 2) throw new ValueError(`tensordot: axes must be an integer or a pair [axesA, axesB], received ${JSON.stringify(ax)}`);
    const list = (v: number | number[]) => (typeof v === 'number' ? [v] : [...v]);
    axesA = list(ax[0]).map((x) => normalizeAxis(x, a.rank, 'tensordot', 'axes'));
    axesB = list(ax[1]).map((x) => normalizeAxis(x, b.rank, 'tensordot', 'axes'));
    if (axesA.length !== axesB.length) throw new ValueError(`tensordot: axes ${JSON.stringify(ax)} name ${axesA.length} axes of a and ${axesB.length} of b; they must pair up`);
    if (new Set(axesA).size !== axesA.length || new Set(axesB).size !== axesB.length) throw new ValueError(`tensordot: repeated axis in ${JSON.stringify(ax)}`);
  }
  axesA.forEach((p, i) => {
    const [da, db] = [a.shape[p], b.shape[axesB[i]]];
    if (da !== null && db !== null && da !== db) {
      throw new ShapeError(`tensordot: contracted axis ${p} of a and axis ${axesB[i]} of b differ (${da} vs ${db}) for shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    }
  });
  const freeA = a.shape.map((_, i) => i).filter((i) => !axesA.includes(i));
  const freeB = b.shape.map((_, i) => i).filter((i) => !axesB.includes(i));
  const dimsA = freeA.map((i) => a.shape[i]);
  const dimsB = freeB.map((i) => b.shape[i]);
  const k = prodDims(axesA.map((i) => a.shape[i])) ?? prodDims(axesB.map((i) => b.shape[i]));
  const a2 = reshape(transpose(a, [...freeA, ...axesA]), target([prodDims(dimsA), k], 'tensordot'));
  const b2 = reshape(transpose(b, [...axesB, ...freeB]), target([k, prodDims(dimsB)], 'tensordot'));
  return finish(reshape(matmulRaw(a2, b2), target([...dimsA, ...dimsB], 'tensordot')));
}

/**
 * numpy dot: scalars multiply, 1-D x 1-D is the inner product, otherwise a sum over the
 * last axis of x1 and the second-to-last of x2 (the last when x2 is 1-D).
 */
export function dot(x1: TensorLike, x2: TensorLike): Tensor {
  const { tensors, finish } = promoteForProducts('dot', x1, x2);
  const [a, b] = tensors;
  if (a.rank === 0 || b.rank === 0) return finish(multiply(a, b));
  if (a.rank <= 2 && b.rank <= 2) return finish(matmul(a, b));
  return finish(tensordot(a, b, [[a.rank - 1], [b.rank === 1 ? 0 : b.rank - 2]]));
}

/** Outer product of the flattened inputs: shape [x1.size, x2.size]. */
export function outer(x1: TensorLike, x2: TensorLike): Tensor {
  const { tensors, finish } = promoteForProducts('outer', x1, x2);
  const [a, b] = tensors;
  return finish(multiply(reshape(a, [-1, 1]), reshape(b, [1, -1])));
}

/** numpy inner: sum of products over the last axes of x1 and x2 (scalars multiply). */
export function inner(x1: TensorLike, x2: TensorLike): Tensor {
  const { tensors, finish } = promoteForProducts('inner', x1, x2);
  const [a, b] = tensors;
  if (a.rank === 0 || b.rank === 0) return finish(multiply(a, b));
  return finish(tensordot(a, b, [[a.rank - 1], [b.rank - 1]]));
}

/** Dot product of the flattened inputs (real tensors, so no conjugation). */
export function vdot(x1: TensorLike, x2: TensorLike): Tensor {
  const { tensors, finish } = promoteForProducts('vdot', x1, x2);
  const [a, b] = tensors;
  if (a.size !== b.size && !Number.isNaN(a.size) && !Number.isNaN(b.size)) {
    throw new ShapeError(`vdot: inputs must have the same number of elements, received shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return finish(matmul(reshape(a, [-1]), reshape(b, [-1])));
}

// ---------------------------------------------------------------- einsum

/** An operand during einsum: its tensor and one label per axis. */
interface Labeled {
  t: Tensor;
  labels: string[];
}

function parseTerm(term: string, rank: number, maxEllipsis: { n: number }, subscripts: string, shape: readonly Dim[]): string[] {
  const parts = term.split('...');
  if (parts.length > 2) throw new ValueError(`einsum: more than one ellipsis in term ${JSON.stringify(term)} of ${JSON.stringify(subscripts)}`);
  for (const p of parts) {
    for (const c of p) if (!/[a-zA-Z]/.test(c)) throw new ValueError(`einsum: invalid character ${JSON.stringify(c)} in subscripts ${JSON.stringify(subscripts)}`);
  }
  const letters = parts.join('').length;
  if (parts.length === 1) {
    if (letters !== rank) throw new ShapeError(`einsum: term ${JSON.stringify(term)} names ${letters} axes but the operand has shape ${fmtShape(shape)} in ${JSON.stringify(subscripts)}`);
    return [...term];
  }
  const nEll = rank - letters;
  if (nEll < 0) throw new ShapeError(`einsum: term ${JSON.stringify(term)} names ${letters} axes but the operand has shape ${fmtShape(shape)} in ${JSON.stringify(subscripts)}`);
  maxEllipsis.n = Math.max(maxEllipsis.n, nEll);
  // Ellipsis dims are aligned from the right across operands, as broadcasting does.
  return [...parts[0], ...Array.from({ length: nEll }, (_, i) => `@${nEll - i}`), ...parts[1]];
}

/**
 * Einstein summation over `subscripts` (numpy syntax: implicit or explicit `->` output,
 * `...` for broadcast dims). Repeated labels within one operand (diagonals) are refused.
 */
export function einsum(subscripts: string, ...operands: TensorLike[]): Tensor {
  if (typeof subscripts !== 'string') throw new ValueError(`einsum: subscripts must be a string, received ${typeof subscripts}`);
  if (!operands.length) throw new ValueError(`einsum: needs at least one operand for ${JSON.stringify(subscripts)}`);
  const spec = subscripts.replace(/\s+/g, '');
  const arrow = spec.split('->');
  if (arrow.length > 2) throw new ValueError(`einsum: more than one '->' in ${JSON.stringify(subscripts)}`);
  const terms = arrow[0].split(',');
  if (terms.length !== operands.length) {
    throw new ValueError(`einsum: subscripts ${JSON.stringify(subscripts)} name ${terms.length} operands, received ${operands.length}`);
  }
  const { tensors, finish } = promoteForProducts('einsum', ...operands);
  const maxEll = { n: 0 };
  const ops: Labeled[] = tensors.map((t, i) => {
    const labels = parseTerm(terms[i], t.rank, maxEll, subscripts, t.shape);
    const seen = new Set<string>();
    for (const l of labels) {
      if (seen.has(l)) throw new ValueError(`einsum: repeated index ${JSON.stringify(l)} in term ${JSON.stringify(terms[i])} (diagonals) is not supported, in ${JSON.stringify(subscripts)} with shape ${fmtShape(t.shape)}`);
      seen.add(l);
    }
    return { t, labels };
  });
  const ellLabels = Array.from({ length: maxEll.n }, (_, i) => `@${maxEll.n - i}`);
  let outLabels: string[];
  if (arrow.length === 2) {
    const hasEll = arrow[1].includes('...');
    const [before, after] = hasEll ? arrow[1].split('...') : [arrow[1], ''];
    outLabels = hasEll ? [...before, ...ellLabels, ...after] : [...arrow[1]];
    for (const c of outLabels) if (!c.startsWith('@') && !/[a-zA-Z]/.test(c)) throw new ValueError(`einsum: invalid character ${JSON.stringify(c)} in output of ${JSON.stringify(subscripts)}`);
    if (new Set(outLabels).size !== outLabels.length) throw new ValueError(`einsum: repeated index in the output of ${JSON.stringify(subscripts)}`);
    const all = new Set(ops.flatMap((o) => o.labels));
    for (const l of outLabels) {
      if (!l.startsWith('@') && !all.has(l)) throw new ValueError(`einsum: output index ${JSON.stringify(l)} appears in no input of ${JSON.stringify(subscripts)}`);
    }
  } else {
    const counts = new Map<string, number>();
    for (const o of ops) for (const l of o.labels) if (!l.startsWith('@')) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts.entries()].filter(([, c]) => c === 1).map(([l]) => l).sort();
    outLabels = [...ellLabels, ...once];
  }
  // Sizes per label, checked across operands (size 1 broadcasts).
  const sizes = new Map<string, Dim>();
  for (const o of ops) {
    o.labels.forEach((l, i) => {
      const d = o.t.shape[i];
      const prev = sizes.get(l);
      if (prev === undefined || prev === 1 || prev === null) sizes.set(l, prev === null && d === 1 ? null : d);
      else if (d !== null && d !== 1 && d !== prev) {
        const name = l.startsWith('@') ? 'an ellipsis dim' : `index ${JSON.stringify(l)}`;
        throw new ShapeError(`einsum: ${name} has size ${prev} and ${d} in ${JSON.stringify(subscripts)} with shapes ${ops.map((x) => fmtShape(x.t.shape)).join(', ')}`);
      }
    });
  }
  // Sum out labels no other operand or the output needs, then contract pairwise left to right.
  const neededAfter = (i: number) => new Set([...outLabels, ...ops.slice(i + 1).flatMap((o) => o.labels)]);
  let acc = sumOut(ops[0], new Set([...neededAfter(0)]));
  for (let i = 1; i < ops.length; i++) {
    const needed = neededAfter(i);
    const right = sumOut(ops[i], new Set([...needed, ...acc.labels]));
    acc = sumOut(acc, new Set([...needed, ...right.labels]));
    // The last product in the order that gives the output's axes as they are, if swapping its
    // operands does ('aecd,abcd->acbe': attention's scores, key first): no transpose after it.
    const inOrder = (first: Labeled, second: Labeled) => pairLabels(first, second, needed).join() === outLabels.join();
    const swap = i === ops.length - 1 && !inOrder(acc, right) && inOrder(right, acc);
    acc = swap ? contractPair(right, acc, needed) : contractPair(acc, right, needed);
  }
  acc = sumOut(acc, new Set(outLabels));
  return finish(transpose(acc.t, outLabels.map((l) => acc.labels.indexOf(l))));
}

/** Sums the axes whose labels are not in `keep`. */
function sumOut(o: Labeled, keep: Set<string>): Labeled {
  const axes = o.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (!axes.length) return o;
  return { t: sum(o.t, axes), labels: o.labels.filter((l) => keep.has(l)) };
}

/** The labels of contractPair(x, y, needed): batch, then x's free labels, then y's. */
function pairLabels(x: Labeled, y: Labeled, needed: Set<string>): string[] {
  const inY = new Set(y.labels);
  const batch = x.labels.filter((l) => inY.has(l) && needed.has(l));
  return [...batch, ...x.labels.filter((l) => !inY.has(l)), ...y.labels.filter((l) => !x.labels.includes(l))];
}

/** Contracts two labeled operands with one batched matmul (or a broadcast multiply when nothing is contracted). */
function contractPair(x: Labeled, y: Labeled, needed: Set<string>): Labeled {
  let a = x;
  let b = y;
  const inB = new Set(b.labels);
  const shared = a.labels.filter((l) => inB.has(l));
  const contracted = shared.filter((l) => !needed.has(l));
  // A contracted label broadcast (size 1) on one side: sum the other side first, then it is a batch of 1.
  for (const l of contracted) {
    const da = a.t.shape[a.labels.indexOf(l)];
    const db = b.t.shape[b.labels.indexOf(l)];
    if (da === 1 && db !== 1) b = { t: sum(b.t, b.labels.indexOf(l), true), labels: b.labels };
    else if (db === 1 && da !== 1) a = { t: sum(a.t, a.labels.indexOf(l), true), labels: a.labels };
  }
  const batch = shared.filter((l) => needed.has(l));
  const freeA = a.labels.filter((l) => !inB.has(l));
  const freeB = b.labels.filter((l) => !a.labels.includes(l));
  const dimOf = (o: Labeled, l: string) => o.t.shape[o.labels.indexOf(l)];
  const perm = (o: Labeled, order: string[]) => transpose(o.t, order.map((l) => o.labels.indexOf(l)));
  if (!contracted.length) {
    // Align both to [batch, freeA, freeB] and multiply with broadcasting.
    const ta = reshape(perm(a, [...batch, ...freeA]), target([...batch.map((l) => dimOf(a, l)), ...freeA.map((l) => dimOf(a, l)), ...freeB.map(() => 1)], 'einsum'));
    const tb = reshape(perm(b, [...batch, ...freeB]), target([...batch.map((l) => dimOf(b, l)), ...freeA.map(() => 1), ...freeB.map((l) => dimOf(b, l))], 'einsum'));
    return { t: multiply(ta, tb), labels: [...batch, ...freeA, ...freeB] };
  }
  const kDims = contracted.map((l) => dimOf(a, l) ?? dimOf(b, l));
  const aDims = freeA.map((l) => dimOf(a, l));
  const bDims = freeB.map((l) => dimOf(b, l));
  const ta = reshape(perm(a, [...batch, ...freeA, ...contracted]), target([...batch.map((l) => dimOf(a, l)), prodDims(aDims), prodDims(kDims)], 'einsum'));
  const tb = reshape(perm(b, [...batch, ...contracted, ...freeB]), target([...batch.map((l) => dimOf(b, l)), prodDims(kDims), prodDims(bDims)], 'einsum'));
  const y2 = matmulRaw(ta, tb);
  const batchDims = y2.shape.slice(0, batch.length);
  return { t: reshape(y2, target([...batchDims, ...aDims, ...bDims], 'einsum')), labels: [...batch, ...freeA, ...freeB] };
}

// ---------------------------------------------------------------- public API: factorizations

/** Linear-algebra ops compute in floats: ints and bools become floatx, as Keras. */
function floatOperand(x: TensorLike, op: string): Tensor {
  const t = convertToTensor(x, null, op);
  return isFloat(t.dtype) ? t : cast(t, FLOATX);
}

/** Inverse of a square matrix, batched over leading dims. Raises on a singular matrix. */
export function inv(x: TensorLike): Tensor {
  return run1('inv', [floatOperand(x, 'inv')]);
}

/** Determinant of a square matrix, batched over leading dims. */
export function det(x: TensorLike): Tensor {
  return run1('det', [floatOperand(x, 'det')]);
}

/**
 * Solves a x = b. `a` is [..., n, n]; `b` is [..., n, k], or [..., n] (one right-hand side
 * per matrix) when b has one dim fewer than a, as numpy < 2 and JAX read it. Batch dims broadcast.
 */
export function solve(a: TensorLike, b: TensorLike): Tensor {
  const { dtype, tensors } = promote('solve', a, b);
  let [ta, tb] = isFloat(dtype) ? tensors : tensors.map((t) => cast(t, FLOATX));
  checkSquare(ta, 'solve', 'a');
  const vec = tb.rank === ta.rank - 1;
  if (tb.rank < 1 || (!vec && tb.rank < 2)) {
    throw new ShapeError(`solve: b must be [..., n, k], or [..., n] with one dim fewer than a, for a of shape ${fmtShape(ta.shape)}; received b ${fmtShape(tb.shape)}`);
  }
  const n = ta.shape[ta.rank - 1];
  const bn = vec ? tb.shape[tb.rank - 1] : tb.shape[tb.rank - 2];
  if (n !== null && bn !== null && n !== bn) throw new ShapeError(`solve: a ${fmtShape(ta.shape)} and b ${fmtShape(tb.shape)} disagree on n (${n} vs ${bn})`);
  if (vec) tb = reshape(tb, target([...tb.shape, 1], 'solve'));
  const batch = broadcastBatch(ta.shape.slice(0, -2), tb.shape.slice(0, -2), 'solve', ta.shape, tb.shape);
  if (batch.every((d) => d !== null)) {
    ta = broadcastTo(ta, [...(batch as number[]), ...(ta.shape.slice(-2) as number[])]);
    tb = broadcastTo(tb, [...(batch as number[]), ...(tb.shape.slice(-2) as number[])]);
  }
  const x = run1('solve', [ta, tb]);
  return vec ? reshape(x, target(x.shape.slice(0, -1), 'solve')) : x;
}

/**
 * Cholesky factor of a symmetric positive-definite matrix (lower, or upper with `upper`),
 * batched. Only the lower triangle of x is read. Raises when x is not positive definite.
 */
export function cholesky(x: TensorLike, upper: boolean | { upper?: boolean } = false): Tensor {
  const up = typeof upper === 'object' ? (upper.upper ?? false) : upper;
  const l = run1('cholesky', [floatOperand(x, 'cholesky')]);
  return up ? matrixTranspose(l) : l;
}
