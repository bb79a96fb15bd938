import type { Kernel } from '../backend.js';

export const indexingKernels: Record<string, Kernel> = {};
