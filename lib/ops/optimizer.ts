/**
 * The fused Adam update: a variable and its two moments updated in one pass over memory
 * instead of a dozen elementwise ops (PyTorch's fused Adam, for the same reason). Internal:
 * keras.optimizers.Adam (and AdamW) use it; it is not part of the keras.ops surface.
 */
import { isFloat } from '../dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { runOp } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { defineOp } from './registry.js';

export interface AdamUpdateAttrs {
  [key: string]: unknown;
  beta1: number;
  beta2: number;
  epsilon: number;
}

// adamUpdate [variable, gradient, m, v, alpha] -> [variable', m', v'], every op rounded to the
// dtype as the composite Adam.updateStep builds (so values are the same bits):
//   m' = m + (g - m) * (1 - beta1); v' = v + (g^2 - v) * (1 - beta2);
//   variable' = variable - (m' * alpha) / (sqrt(v') + epsilon),
// the scalars 1 - beta1, 1 - beta2 and epsilon computed in float64, then rounded to the dtype.
// alpha is a scalar of the dtype (the step's learning rate with both bias corrections).
defineOp<AdamUpdateAttrs>({
  name: 'adamUpdate',
  category: 'nn',
  attrs: ['beta1', 'beta2', 'epsilon'],
  arity: 5,
  infer([variable, gradient, m, v, alpha], attrs) {
    for (const key of ['beta1', 'beta2', 'epsilon'] as const) {
      if (typeof attrs[key] !== 'number' || !Number.isFinite(attrs[key])) {
        throw new ValueError(`adamUpdate: attribute ${key} must be a finite number, received ${String(attrs[key])}`);
      }
    }
    if (!isFloat(variable!.dtype)) throw new DTypeError(`adamUpdate: variable must be float32 or float64, received ${variable!.dtype} ${fmtShape(variable!.shape)}`);
    const named: [string, typeof variable][] = [['gradient', gradient], ['m', m], ['v', v]];
    for (const [name, t] of named) {
      const fits = t!.dtype === variable!.dtype && t!.shape.length === variable!.shape.length && t!.shape.every((d, i) => d === variable!.shape[i]);
      if (!fits) throw new ShapeError(`adamUpdate: ${name} must be ${variable!.dtype} ${fmtShape(variable!.shape)} like the variable, received ${t!.dtype} ${fmtShape(t!.shape)}`);
    }
    if (alpha!.dtype !== variable!.dtype || alpha!.shape.length !== 0) {
      throw new ShapeError(`adamUpdate: alpha must be a ${variable!.dtype} scalar, received ${alpha!.dtype} ${fmtShape(alpha!.shape)}`);
    }
    const spec = { shape: variable!.shape, dtype: variable!.dtype };
    return [spec, spec, spec];
  },
  gradientUnsupported: "an optimizer's update is not differentiated (Adam's composite form has the same values)",
});

/**
 * One Adam step of `variable` with its moments `m` and `v`: returns [variable', m', v'] (see
 * the definition above); `gradient` and `alpha` have the variable's dtype.
 */
export function adamUpdate(variable: Tensor, gradient: Tensor, m: Tensor, v: Tensor, alpha: Tensor, attrs: AdamUpdateAttrs): [Tensor, Tensor, Tensor] {
  const [next, mNext, vNext] = runOp('adamUpdate', [variable, gradient, m, v, alpha], attrs);
  return [next!, mNext!, vNext!];
}
