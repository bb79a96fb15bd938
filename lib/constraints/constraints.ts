/**
 * Weight constraints (Keras 3 keras/src/constraints/constraints.py): projections applied
 * to a weight after each optimizer step. Written with public ops only.
 */
import { ValueError } from '../errors.js';
import { asFloat, type TensorLike } from '../ops/common.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { camelizeConfig, type Config } from '../initializers/registry.js';
import { optionalArgs } from '../utils/args.js';

/** Keras' `backend.epsilon()`. */
const EPSILON = 1e-7;

/** An axis or axes along which weight norms are taken. */
export type NormAxis = number | number[];

/**
 * Base class of constraints: `call(w)` returns the projected weight (the base class
 * returns `w` unchanged, as Keras).
 *
 * ```ts
 * class NonNegative extends keras.constraints.Constraint {
 *   call(w) { return keras.ops.multiply(w, keras.ops.cast(keras.ops.greaterEqual(w, 0), w.dtype)); }
 * }
 * ```
 */
export class Constraint {
  /** The projected weight. */
  call(w: Tensor): Tensor {
    return w;
  }

  /** Keras' `constraint(w)`: converts `w` (tensor, variable, array) and calls `call`. */
  apply(w: TensorLike): Tensor {
    return this.call(ops.convertToTensor(w, null, this.constructor.name));
  }

  /** The constructor arguments with snake_case keys. */
  getConfig(): Config {
    return {};
  }

  /** Re-creates a constraint from `getConfig()` output (snake_case or camelCase keys). */
  static fromConfig<T extends Constraint>(this: new (...args: any[]) => T, config: Config): T {
    return new this(camelizeConfig(config));
  }

  toString(): string {
    return `<${this.constructor.name} ${JSON.stringify(this.getConfig())}>`;
  }
}

function checkAxis(axis: unknown, owner: string): NormAxis {
  if (Number.isInteger(axis) || (Array.isArray(axis) && axis.length > 0 && axis.every((a) => Number.isInteger(a)))) return Array.isArray(axis) ? [...axis] : (axis as number);
  throw new ValueError(`${owner}: axis must be an integer or a non-empty array of integers, received ${JSON.stringify(axis)}`);
}

function checkNumber(value: unknown, owner: string, arg: string): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new ValueError(`${owner}: ${arg} must be a number, received ${JSON.stringify(value)}`);
  return value;
}

/** sqrt(sum(w^2)) over `axis`, keeping dims so it broadcasts against w. */
function norms(w: Tensor, axis: NormAxis): Tensor {
  return ops.sqrt(ops.sum(ops.square(w), axis, true));
}

/** Rescales the weights along `axis` (default 0) so each norm is at most `maxValue` (default 2). */
export class MaxNorm extends Constraint {
  readonly maxValue: number;
  readonly axis: NormAxis;

  constructor(maxValue?: number | { maxValue?: number; axis?: NormAxis }, axis?: NormAxis) {
    super();
    const o = optionalArgs<{ maxValue: number; axis: NormAxis }>('MaxNorm', { maxValue: 2, axis: 0 }, [maxValue, axis]);
    this.maxValue = checkNumber(o.maxValue, 'MaxNorm', 'maxValue');
    this.axis = checkAxis(o.axis, 'MaxNorm');
  }

  override call(w: Tensor): Tensor {
    const t = asFloat(w, 'MaxNorm');
    const n = norms(t, this.axis);
    const desired = ops.clip(n, 0, this.maxValue);
    return ops.multiply(t, ops.divide(desired, ops.add(n, EPSILON)));
  }

  override getConfig(): Config {
    return { max_value: this.maxValue, axis: this.axis };
  }
}

/** Clamps the weights to be non-negative: `maximum(w, 0)`. */
export class NonNeg extends Constraint {
  /** Takes no arguments (an empty options object from a config is accepted). */
  constructor(options: Record<string, never> = {}) {
    super();
    optionalArgs('NonNeg', {}, [options]);
  }

  override call(w: Tensor): Tensor {
    return ops.maximum(w, 0);
  }
}

/** Divides the weights along `axis` (default 0) by their norm: `w / (epsilon + norm)`. */
export class UnitNorm extends Constraint {
  readonly axis: NormAxis;

  constructor(axis?: NormAxis | { axis?: NormAxis }) {
    super();
    const o = optionalArgs<{ axis: NormAxis }>('UnitNorm', { axis: 0 }, [axis]);
    this.axis = checkAxis(o.axis, 'UnitNorm');
  }

  override call(w: Tensor): Tensor {
    const t = asFloat(w, 'UnitNorm');
    return ops.divide(t, ops.add(norms(t, this.axis), EPSILON));
  }

  override getConfig(): Config {
    return { axis: this.axis };
  }
}

/**
 * Rescales the weights along `axis` so each norm moves to
 * `rate * clip(norm, minValue, maxValue) + (1 - rate) * norm` (defaults: 0, 1, rate 1, axis 0).
 */
export class MinMaxNorm extends Constraint {
  readonly minValue: number;
  readonly maxValue: number;
  readonly rate: number;
  readonly axis: NormAxis;

  constructor(minValue?: number | { minValue?: number; maxValue?: number; rate?: number; axis?: NormAxis }, maxValue?: number, rate?: number, axis?: NormAxis) {
    super();
    const o = optionalArgs<{ minValue: number; maxValue: number; rate: number; axis: NormAxis }>('MinMaxNorm', { minValue: 0, maxValue: 1, rate: 1, axis: 0 }, [minValue, maxValue, rate, axis]);
    this.minValue = checkNumber(o.minValue, 'MinMaxNorm', 'minValue');
    this.maxValue = checkNumber(o.maxValue, 'MinMaxNorm', 'maxValue');
    this.rate = checkNumber(o.rate, 'MinMaxNorm', 'rate');
    this.axis = checkAxis(o.axis, 'MinMaxNorm');
  }

  override call(w: Tensor): Tensor {
    const t = asFloat(w, 'MinMaxNorm');
    const n = norms(t, this.axis);
    const desired = ops.add(ops.multiply(ops.clip(n, this.minValue, this.maxValue), this.rate), ops.multiply(n, 1 - this.rate));
    return ops.multiply(t, ops.divide(desired, ops.add(n, EPSILON)));
  }

  override getConfig(): Config {
    return { min_value: this.minValue, max_value: this.maxValue, rate: this.rate, axis: this.axis };
  }
}

/** A plain function `(w) => Tensor` used as a constraint (what `get(fn)` returns). */
export type ConstraintFunction = (w: Tensor) => Tensor;

/** @internal Wraps a plain function given to `constraints.get`. */
export class FunctionConstraint extends Constraint {
  constructor(readonly fn: ConstraintFunction) {
    super();
  }

  override call(w: Tensor): Tensor {
    return this.fn(w);
  }
}
