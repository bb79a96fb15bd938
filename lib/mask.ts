/**
 * Masks travel beside tensors (Keras attaches `_keras_mask`): Embedding(maskZero) and
 * masking layers set them, later layers, losses and metrics read them. One registry for all.
 */
import type { Tensor } from './tensor.js';

const masks = new WeakMap<Tensor, Tensor>();

/** Attaches a boolean mask to `t` (returns `t`); null/undefined leaves `t` unmasked. */
export function setKerasMask(t: Tensor, mask: Tensor | null | undefined): Tensor {
  if (mask) masks.set(t, mask);
  return t;
}

/** The mask attached to `t`, if any. */
export function getKerasMask(t: unknown): Tensor | undefined {
  return t !== null && typeof t === 'object' ? masks.get(t as Tensor) : undefined;
}
