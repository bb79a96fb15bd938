/**
 * Creation kernels of the js backend: `fill` and `arange` (ops with no inputs).
 */
import { allocate } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { JsStorage } from './storage.js';

const fill: Kernel = (_inputs, attrs, [out]) => {
  const res = allocate(out.dtype, sizeOf(out.shape));
  const value = Number(attrs.value);
  // bool storage holds 0/1, whatever the number was.
  res.fill(out.dtype === 'bool' ? Number(value !== 0) : value);
  return [new JsStorage(res)];
};

/** start + i * step, computed in double precision and then stored in the output dtype. */
const arange: Kernel = (_inputs, attrs, [out]) => {
  const start = Number(attrs.start);
  const step = Number(attrs.step);
  const res = allocate(out.dtype, out.shape[0]);
  const bool = out.dtype === 'bool';
  for (let i = 0; i < res.length; i++) {
    const v = start + i * step;
    res[i] = bool ? Number(v !== 0) : v;
  }
  return [new JsStorage(res)];
};

export const creationKernels: Record<string, Kernel> = { fill, arange };
