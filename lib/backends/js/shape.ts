/**
 * Data-movement kernels of the js backend: reshape (a view), transpose,
 * broadcastTo, concatenate, slice, pad, reverse, gather and its transpose scatterAdd, sort.
 */
import { allocate, type TypedArray } from '../../dtype.js';
import { sizeOf, stridesOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { JsStorage, valuesOf } from './storage.js';
import { ValueError } from '../../errors.js';
import { broadcastStrides } from './elementwise.js';

/** Copies `src` read through `srcStrides` (per output dim, from `srcOffset`) into a dense `out` of `outShape`. */
export function stridedCopy(src: TypedArray, srcOffset: number, srcStrides: readonly number[], out: TypedArray, outShape: readonly number[]): void {
  const rank = outShape.length;
  const n = out.length;
  if (n === 0) return;
  if (rank === 0) {
    out[0] = src[srcOffset];
    return;
  }
  const last = outShape[rank - 1];
  const lastStride = srcStrides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let off = srcOffset;
  for (let base = 0; base < n; base += last) {
    if (lastStride === 1) for (let j = 0; j < last; j++) out[base + j] = src[off + j];
    else for (let j = 0; j < last; j++) out[base + j] = src[off + j * lastStride];
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += srcStrides[d];
      if (idx[d] < outShape[d]) break;
      off -= srcStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

const transpose: Kernel = ([x], attrs, [out]) => {
  const perm = attrs.perm as number[];
  const strides = stridesOf(x.shape);
  const res = allocate(out.dtype, sizeOf(out.shape));
  stridedCopy(valuesOf(x), 0, perm.map((p) => strides[p]), res, out.shape);
  return [new JsStorage(res)];
};

const broadcastTo: Kernel = ([x], _attrs, [out]) => {
  const res = allocate(out.dtype, sizeOf(out.shape));
  stridedCopy(valuesOf(x), 0, broadcastStrides(x.shape, out.shape), res, out.shape);
  return [new JsStorage(res)];
};

const slice: Kernel = ([x], attrs, [out]) => {
  const begin = attrs.begin as number[];
  const strides = stridesOf(x.shape);
  const res = allocate(out.dtype, sizeOf(out.shape));
  const offset = begin.reduce((acc, b, i) => acc + b * strides[i], 0);
  stridedCopy(valuesOf(x), offset, strides, res, out.shape);
  return [new JsStorage(res)];
};

const reverse: Kernel = ([x], attrs, [out]) => {
  const axes = attrs.axes as number[];
  const strides = stridesOf(x.shape);
  let offset = 0;
  const srcStrides = strides.map((s, i) => {
    if (!axes.includes(i) || x.shape[i] === 0) return s;
    offset += (x.shape[i] - 1) * s;
    return -s;
  });
  const res = allocate(out.dtype, sizeOf(out.shape));
  stridedCopy(valuesOf(x), offset, srcStrides, res, out.shape);
  return [new JsStorage(res)];
};

/** Writes dense `src` of `srcShape` into `out` at `outOffset` with `outStrides`. */
function stridedWrite(src: TypedArray, srcShape: readonly number[], out: TypedArray, outOffset: number, outStrides: readonly number[]): void {
  const rank = srcShape.length;
  const n = src.length;
  if (n === 0) return;
  if (rank === 0) {
    out[outOffset] = src[0];
    return;
  }
  const last = srcShape[rank - 1];
  const lastStride = outStrides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let off = outOffset;
  for (let base = 0; base < n; base += last) {
    for (let j = 0; j < last; j++) out[off + j * lastStride] = src[base + j];
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += outStrides[d];
      if (idx[d] < srcShape[d]) break;
      off -= outStrides[d] * srcShape[d];
      idx[d] = 0;
    }
  }
}

const concatenate: Kernel = (inputs, attrs, [out]) => {
  const axis = attrs.axis as number;
  const res = allocate(out.dtype, sizeOf(out.shape));
  const outStrides = stridesOf(out.shape);
  let pos = 0;
  for (const t of inputs) {
    stridedWrite(valuesOf(t), t.shape, res, pos * outStrides[axis], outStrides);
    pos += t.shape[axis];
  }
  return [new JsStorage(res)];
};

const pad: Kernel = ([x], attrs, [out]) => {
  const paddings = attrs.paddings as [number, number][];
  const res = allocate(out.dtype, sizeOf(out.shape));
  const value = Number(attrs.constantValue ?? 0);
  if (value !== 0) res.fill(value);
  const outStrides = stridesOf(out.shape);
  const offset = paddings.reduce((acc, [before], i) => acc + before * outStrides[i], 0);
  stridedWrite(valuesOf(x), x.shape, res, offset, outStrides);
  return [new JsStorage(res)];
};

/** gather along `axis`: out[..., i..., ...] = x[..., idx[i...], ...]. Indices were bounds-checked and wrapped by the op. */
const gather: Kernel = ([x, indices], attrs, [out]) => {
  const axis = attrs.axis as number;
  const outer = sizeOf(x.shape.slice(0, axis));
  const dim = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const idx = valuesOf(indices);
  const src = valuesOf(x);
  const res = allocate(out.dtype, sizeOf(out.shape));
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      let j = idx[k];
      if (j < 0) j += dim;
      if (!(j >= 0 && j < dim)) throw new ValueError(`gather: index ${idx[k]} is out of bounds for axis ${axis} with size ${dim}`);
      const from = (o * dim + j) * inner;
      const to = (o * m + k) * inner;
      for (let i = 0; i < inner; i++) res[to + i] = src[from + i];
    }
  }
  return [new JsStorage(res)];
};

/** The transpose of gather: adds `updates` into zeros of the output shape at `indices` along `axis`. */
const scatterAdd: Kernel = ([indices, updates], attrs, [out]) => {
  const axis = attrs.axis as number;
  const dim = attrs.dimSize as number;
  const outer = sizeOf(out.shape.slice(0, axis));
  const inner = sizeOf(out.shape.slice(axis + 1));
  const idx = valuesOf(indices);
  const upd = valuesOf(updates);
  const res = allocate(out.dtype, sizeOf(out.shape));
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      let j = idx[k];
      if (j < 0) j += dim;
      if (!(j >= 0 && j < dim)) throw new ValueError(`scatterAdd: index ${idx[k]} is out of bounds for axis ${axis} with size ${dim}`);
      const to = (o * dim + j) * inner;
      const from = (o * m + k) * inner;
      for (let i = 0; i < inner; i++) res[to + i] += upd[from + i];
    }
  }
  return [new JsStorage(res)];
};

/** Stable sort along the last axis; NaN sorts last, as numpy. Returns values and int32 indices. */
const sort: Kernel = ([x], attrs, [vals, inds]) => {
  const n = x.shape[x.shape.length - 1] ?? 1;
  const src = valuesOf(x);
  const descending = Boolean(attrs.descending);
  const resV = allocate(vals.dtype, src.length);
  const resI = allocate('int32', src.length);
  const order = new Array<number>(n);
  for (let base = 0; base < src.length; base += n) {
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => {
      const va = src[base + a];
      const vb = src[base + b];
      if (va !== va) return vb !== vb ? a - b : 1;
      if (vb !== vb) return -1;
      const c = descending ? vb - va : va - vb;
      return c !== 0 ? c : a - b;
    });
    for (let i = 0; i < n; i++) {
      resV[base + i] = src[base + order[i]];
      resI[base + i] = order[i];
    }
  }
  return [new JsStorage(resV), new JsStorage(resI)];
};

export const shapeKernels: Record<string, Kernel> = {
  reshape: (inputs) => [inputs[0].storage],
  transpose,
  broadcastTo,
  slice,
  reverse,
  concatenate,
  pad,
  gather,
  scatterAdd,
  sort,
};
