import type { Kernel } from '../backend.js';

export const randomKernels: Record<string, Kernel> = {};
