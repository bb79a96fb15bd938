import type { Kernel } from '../backend.js';

export const creationKernels: Record<string, Kernel> = {};
