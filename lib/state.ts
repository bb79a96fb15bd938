/**
 * Process-wide mutable state of the engine, in one place with no imports so every
 * module can reach it without import cycles.
 */
import type { Tensor } from './tensor.js';

export const state = {
  /** tidy() scopes: tensors created inside each open scope. */
  scopes: [] as Tensor[][],
  /** Live concrete tensors per backend name (a counter object each Tensor holds on to). */
  live: new Map<string, { n: number }>(),
};
