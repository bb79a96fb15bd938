/** The fused optimizer updates (lib/ops/optimizer.ts) over TypedArrays. */
import { allocate } from '../../dtype.js';
import type { Kernel } from '../backend.js';
import { JsStorage, valuesOf } from './storage.js';

/**
 * adamUpdate [variable, gradient, m, v, alpha] -> [variable', m', v']: each op in float64, its
 * result rounded to the dtype (Math.fround for float32), as the composite's elementwise kernels
 * round theirs, so both give the same bits.
 */
const adamUpdate: Kernel = ([variable, gradient, m, v, alpha], attrs, [pOut, mOut, vOut]) => {
  const round = pOut.dtype === 'float32' ? Math.fround : (x: number) => x;
  const pv = valuesOf(variable), gv = valuesOf(gradient), mv = valuesOf(m), vv = valuesOf(v);
  const a = valuesOf(alpha)[0]!;
  const momentumRate = round(1 - (attrs.beta1 as number)), velocityRate = round(1 - (attrs.beta2 as number));
  const epsilon = round(attrs.epsilon as number);
  const n = pv.length;
  const p = allocate(pOut.dtype, n), mNext = allocate(mOut.dtype, n), vNext = allocate(vOut.dtype, n);
  for (let i = 0; i < n; i++) {
    const g = gv[i]!;
    const mi = round(mv[i]! + round(round(g - mv[i]!) * momentumRate));
    const vi = round(vv[i]! + round(round(round(g * g) - vv[i]!) * velocityRate));
    mNext[i] = mi;
    vNext[i] = vi;
    p[i] = round(pv[i]! - round(round(mi * a) / round(round(Math.sqrt(vi)) + epsilon)));
  }
  return [new JsStorage(p), new JsStorage(mNext), new JsStorage(vNext)];
};

export const optimizerKernels: Record<string, Kernel> = { adamUpdate };
