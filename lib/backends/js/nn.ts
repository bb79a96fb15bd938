import type { Kernel } from '../backend.js';

export const nnKernels: Record<string, Kernel> = {};
