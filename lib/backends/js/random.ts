/**
 * Random kernels of the js backend: the reference Philox4x32-10 stream (lib/random/philox.ts).
 */
import { sizeOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { fillUniform } from '../../random/philox.js';
import { JsStorage, valuesOf } from './storage.js';

export const randomKernels: Record<string, Kernel> = {
  randomUniform: ([seed], _attrs, [out]) => {
    const key = valuesOf(seed);
    const n = sizeOf(out.shape);
    const values = out.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    fillUniform(values, key[0] >>> 0, key[1] >>> 0);
    return [new JsStorage(values)];
  },
};
