/**
 * Random kernels of the js backend: the reference Philox4x32-10 stream (lib/random/philox.ts).
 */
import { sizeOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { fillUniform } from '../../random/philox.js';
import { JsStorage, valuesOf } from './storage.js';

export const randomKernels: Record<string, Kernel> = {
  randomUniform: ([seed], attrs, [out]) => {
    const key = valuesOf(seed);
    const n = sizeOf(out.shape);
    const f32 = out.dtype === 'float32';
    const values = f32 ? new Float32Array(n) : new Float64Array(n);
    fillUniform(values, key[0] >>> 0, key[1] >>> 0);
    // u * scale, then + shift: two ops, each rounded to the dtype (the bounds rounded first).
    const round = f32 ? Math.fround : (v: number) => v;
    if (attrs.scale !== undefined) {
      const scale = round(attrs.scale as number);
      for (let i = 0; i < n; i++) values[i] *= scale;
    }
    if (attrs.shift !== undefined) {
      const shift = round(attrs.shift as number);
      for (let i = 0; i < n; i++) values[i] += shift;
    }
    return [new JsStorage(values)];
  },
  // where(u < fl32(q), x / fl_d(q), 0) with q = 1 - rate: the composite's ops, each rounded once.
  dropout: ([x, seed], attrs, [out]) => {
    const key = valuesOf(seed);
    const xs = valuesOf(x);
    const n = sizeOf(out.shape);
    const u = new Float32Array(n);
    fillUniform(u, key[0] >>> 0, key[1] >>> 0);
    const q = 1 - (attrs.rate as number);
    const q32 = Math.fround(q);
    const divisor = out.dtype === 'float32' ? q32 : q;
    const values = out.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = u[i] < q32 ? xs[i] / divisor : 0;
    return [new JsStorage(values)];
  },
};
