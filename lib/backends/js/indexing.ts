/**
 * Indexing kernels of the js backend. None are needed today: the indexing ops are
 * composites over the shape primitives (gather, scatterAdd, slice, ...), and the
 * kernel of the `sort` primitive lives beside them in shape.ts.
 */
import type { Kernel } from '../backend.js';

export const indexingKernels: Record<string, Kernel> = {};
