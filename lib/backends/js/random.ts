/**
 * Random kernels of the js backend: the reference Philox4x32-10 stream (lib/random/philox.ts).
 */
import { sizeOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { fillUniform } from '../../random/philox.js';
import { JsStorage, valuesOf } from './storage.js';

/**
 * Box-Muller of one pair of uniforms in float64 (docs/random.md, section 5): the radius
 * sqrt(-2 log(1 - u1)) and the angle 2 pi u2 taken exactly to its quadrant: 4 u2 = q + f,
 * f folded into [-1/2, 1/2], so cos and sin run on |x| = |f| pi/2 <= pi/4 and the quadrant
 * picks +-cos x or +-sin x. Stored to float32, each value is rounded once.
 */
export function boxMuller(u1: number, u2: number): [number, number] {
  const r = Math.sqrt(Math.log(1 - u1) * -2);
  const v = u2 * 4;
  let q = Math.floor(v);
  let f = v - q;
  if (f > 0.5) {
    f -= 1;
    q += 1;
  }
  const x = f * (Math.PI / 2);
  const c = Math.cos(x);
  const s = Math.sin(x);
  switch (q & 3) {
    case 0: return [r * c, r * s];
    case 1: return [r * -s, r * c];
    case 2: return [r * -c, r * -s];
    default: return [r * s, r * -c];
  }
}

/** `* scale` then `+ shift` where the attrs hold them: two ops, each rounded to the dtype (the numbers rounded first). */
function applyAffine(values: Float32Array | Float64Array, attrs: Record<string, unknown>): JsStorage {
  const round = values instanceof Float32Array ? Math.fround : (v: number) => v;
  const n = values.length;
  if (attrs.scale !== undefined) {
    const scale = round(attrs.scale as number);
    for (let i = 0; i < n; i++) values[i] *= scale;
  }
  if (attrs.shift !== undefined) {
    const shift = round(attrs.shift as number);
    for (let i = 0; i < n; i++) values[i] += shift;
  }
  return new JsStorage(values);
}

export const randomKernels: Record<string, Kernel> = {
  randomUniform: ([seed], attrs, [out]) => {
    const key = valuesOf(seed);
    const n = sizeOf(out.shape);
    const values = out.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    fillUniform(values, key[0] >>> 0, key[1] >>> 0);
    return [applyAffine(values, attrs)];
  },
  randomNormal: ([seed], attrs, [out]) => {
    const key = valuesOf(seed);
    const n = sizeOf(out.shape);
    const values = out.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    // Pairs of uniforms, the last pair's sine dropped when n is odd.
    const u = out.dtype === 'float32' ? new Float32Array(n + (n % 2)) : new Float64Array(n + (n % 2));
    fillUniform(u, key[0] >>> 0, key[1] >>> 0);
    for (let k = 0; 2 * k < n; k++) {
      const [c, s] = boxMuller(u[2 * k], u[2 * k + 1]);
      values[2 * k] = c;
      if (2 * k + 1 < n) values[2 * k + 1] = s;
    }
    return [applyAffine(values, attrs)];
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
