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

/**
 * The innermost open tidy() scope, if any. Guarded on the length: `scopes[-1]` on an
 * empty array is a named-property lookup up the prototype chain (~45 ns, paid by every
 * Tensor made outside tidy), not an element load.
 */
export function innermostScope(): Tensor[] | undefined {
  const n = state.scopes.length;
  return n ? state.scopes[n - 1] : undefined;
}
