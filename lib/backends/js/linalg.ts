import type { Kernel } from '../backend.js';

export const linalgKernels: Record<string, Kernel> = {};
