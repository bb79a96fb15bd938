/**
 * Storage of the js backend: a TypedArray with a reference count, so views
 * (reshape, identity) share memory.
 */
import type { TypedArray } from '../../dtype.js';

export class JsStorage {
  refs = 0;
  constructor(readonly data: TypedArray) {}
}

/** The values of a js-backend tensor (kernels only read them). */
export function valuesOf(t: { storage: unknown }): TypedArray {
  return (t.storage as JsStorage).data;
}
