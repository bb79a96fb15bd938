/**
 * Indexing kernels of the js backend: topK. The other indexing ops are composites
 * over the shape primitives (gather, scatterAdd, slice, ...), and the kernel of the
 * `sort` primitive lives beside them in shape.ts.
 */
import { allocate } from '../../dtype.js';
import type { Kernel } from '../backend.js';
import { JsStorage, valuesOf } from './storage.js';

/**
 * The first k of the stable descending sort (shape.ts): numbers largest first, ties
 * (-0 and 0 among them) in index order, then the NaNs in index order.
 */
const topK: Kernel = ([x], attrs, [vals, inds]) => {
  const n = x.shape[x.shape.length - 1] ?? 1;
  const k = Number(attrs.k);
  const src = valuesOf(x);
  const rows = n === 0 ? 0 : src.length / n;
  const resV = allocate(vals.dtype, rows * k);
  const resI = allocate('int32', rows * k);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const numbers: number[] = [];
    const nans: number[] = [];
    for (let i = 0; i < n; i++) (src[base + i] !== src[base + i] ? nans : numbers).push(i);
    numbers.sort((a, b) => {
      const va = src[base + a];
      const vb = src[base + b];
      return va > vb ? -1 : va < vb ? 1 : a - b;
    });
    const order = numbers.length >= k ? numbers : numbers.concat(nans);
    for (let j = 0; j < k; j++) {
      resV[r * k + j] = src[base + order[j]];
      resI[r * k + j] = order[j];
    }
  }
  return [new JsStorage(resV), new JsStorage(resI)];
};

export const indexingKernels: Record<string, Kernel> = { topK };
