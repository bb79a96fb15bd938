/**
 * Weight regularizers (Keras 3 keras/src/regularizers/regularizers.py): L1, L2, L1L2,
 * OrthogonalRegularizer. Penalties are written with public ops only, so they
 * differentiate and trace into graphs like any model code.
 */
import { KerasError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { asFloat, type TensorLike } from '../ops/common.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { camelizeConfig, type Config } from '../initializers/registry.js';
import { optionalArgs } from '../utils/args.js';

/** Keras' `backend.epsilon()`. */
const EPSILON = 1e-7;

/**
 * Base class of regularizers: `call(x)` returns a scalar penalty tensor (added to the
 * loss by layers), `getConfig()` its arguments.
 *
 * ```ts
 * class L2Half extends keras.regularizers.Regularizer {
 *   call(x) { return keras.ops.multiply(keras.ops.sum(keras.ops.square(x)), 0.5); }
 *   getConfig() { return {}; }
 * }
 * ```
 */
export abstract class Regularizer {
  /** The penalty for weight tensor `x`, as a scalar tensor. */
  abstract call(x: Tensor): Tensor;

  /** Keras' `regularizer(x)`: converts `x` (tensor, variable, array) and calls `call`. */
  apply(x: TensorLike): Tensor {
    return this.call(ops.convertToTensor(x, null, this.constructor.name));
  }

  /** The constructor arguments with snake_case keys (Keras raises when a subclass has none). */
  getConfig(): Config {
    throw new KerasError(`${this.constructor.name} does not implement getConfig()`);
  }

  /** Re-creates a regularizer from `getConfig()` output (snake_case or camelCase keys). */
  static fromConfig<T extends Regularizer>(this: new (...args: any[]) => T, config: Config): T {
    return new this(camelizeConfig(config));
  }

  toString(): string {
    let config = '';
    try {
      config = ` ${JSON.stringify(this.getConfig())}`;
    } catch {
      // A custom regularizer without getConfig still prints.
    }
    return `<${this.constructor.name}${config}>`;
  }
}

/** Keras' `validate_float_arg`: a finite, non-negative number. */
function factorArg(value: unknown, owner: string, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValueError(`${owner}: invalid value for argument ${name}: expected a non-negative float, received ${name}=${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** l * sum(|x|), computed in x's float dtype. */
function l1Penalty(x: Tensor, l1: number): Tensor {
  return ops.multiply(ops.sum(ops.abs(x)), l1);
}

/** l * sum(x^2), computed in x's float dtype. */
function l2Penalty(x: Tensor, l2: number): Tensor {
  return ops.multiply(ops.sum(ops.square(x)), l2);
}

/** L1 and L2 penalties together: `l1 * sum(|x|) + l2 * sum(x^2)` (both default 0, as Keras' class). */
export class L1L2 extends Regularizer {
  readonly l1: number;
  readonly l2: number;

  constructor(l1?: number | null | { l1?: number | null; l2?: number | null }, l2?: number | null) {
    super();
    const o = optionalArgs<{ l1: number | null; l2: number | null }>('L1L2', { l1: 0, l2: 0 }, [l1, l2]);
    this.l1 = factorArg(o.l1 ?? 0, 'L1L2', 'l1');
    this.l2 = factorArg(o.l2 ?? 0, 'L1L2', 'l2');
  }

  call(x: Tensor): Tensor {
    const t = asFloat(x, 'L1L2');
    let out: Tensor = ops.zeros([], t.dtype);
    if (this.l1) out = ops.add(out, l1Penalty(t, this.l1));
    if (this.l2) out = ops.add(out, l2Penalty(t, this.l2));
    return out;
  }

  override getConfig(): Config {
    return { l1: this.l1, l2: this.l2 };
  }
}

/** L1 penalty `l1 * sum(|x|)` (l1 defaults to 0.01). */
export class L1 extends Regularizer {
  readonly l1: number;

  constructor(l1?: number | null | { l1?: number | null }) {
    super();
    const o = optionalArgs<{ l1: number | null }>('L1', { l1: 0.01 }, [l1]);
    this.l1 = factorArg(o.l1 ?? 0.01, 'L1', 'l1');
  }

  call(x: Tensor): Tensor {
    return l1Penalty(asFloat(x, 'L1'), this.l1);
  }

  override getConfig(): Config {
    return { l1: this.l1 };
  }
}

/** L2 penalty `l2 * sum(x^2)` (l2 defaults to 0.01). */
export class L2 extends Regularizer {
  readonly l2: number;

  constructor(l2?: number | null | { l2?: number | null }) {
    super();
    const o = optionalArgs<{ l2: number | null }>('L2', { l2: 0.01 }, [l2]);
    this.l2 = factorArg(o.l2 ?? 0.01, 'L2', 'l2');
  }

  call(x: Tensor): Tensor {
    return l2Penalty(asFloat(x, 'L2'), this.l2);
  }

  override getConfig(): Config {
    return { l2: this.l2 };
  }
}

/**
 * Encourages the rows (`mode: 'rows'`, default) or columns of a 2-D weight to be
 * orthogonal: `factor * 0.5 * sum(|offdiag(N N^T)|) / (size (size - 1) / 2)` where N has
 * L2-normalized rows (or N^T N with normalized columns). factor defaults to 0.01.
 */
export class OrthogonalRegularizer extends Regularizer {
  readonly factor: number;
  readonly mode: 'rows' | 'columns';

  constructor(factor?: number | { factor?: number; mode?: 'rows' | 'columns' }, mode?: 'rows' | 'columns') {
    super();
    const o = optionalArgs<{ factor: number; mode: 'rows' | 'columns' }>('OrthogonalRegularizer', { factor: 0.01, mode: 'rows' }, [factor, mode]);
    this.factor = factorArg(o.factor, 'OrthogonalRegularizer', 'factor');
    if (o.mode !== 'rows' && o.mode !== 'columns') throw new ValueError(`OrthogonalRegularizer: invalid value for argument mode; expected one of "rows", "columns", received mode=${JSON.stringify(o.mode)}`);
    this.mode = o.mode;
  }

  call(x: Tensor): Tensor {
    const t = asFloat(x, 'OrthogonalRegularizer');
    if (t.rank !== 2) throw new ShapeError(`OrthogonalRegularizer: inputs must have rank 2, received shape ${fmtShape(t.shape)}`);
    const axis = this.mode === 'rows' ? 1 : 0;
    // Keras' normalize(x, axis) for order 2: x * min(rsqrt(sum(x^2)), 1 / epsilon).
    const n = ops.multiply(t, ops.minimum(ops.rsqrt(ops.sum(ops.square(t), axis, true)), 1 / EPSILON));
    const product = this.mode === 'rows' ? ops.matmul(n, ops.transpose(n)) : ops.matmul(ops.transpose(n), n);
    const size = this.mode === 'rows' ? t.shape[0] : t.shape[1];
    if (size === null) throw new ShapeError(`OrthogonalRegularizer: the ${this.mode} dimension must be known, received shape ${fmtShape(t.shape)}`);
    const offDiagonal = ops.multiply(product, ops.subtract(1, ops.eye(size, size, 0, t.dtype)));
    const numPairs = (size * (size - 1)) / 2;
    return ops.divide(ops.multiply(ops.sum(ops.abs(offDiagonal)), this.factor * 0.5), numPairs);
  }

  override getConfig(): Config {
    return { factor: this.factor, mode: this.mode };
  }
}

/** A plain function `(x) => scalar Tensor` used as a regularizer (what `get(fn)` returns). */
export type RegularizerFunction = (x: Tensor) => Tensor;

/** @internal Wraps a plain function given to `regularizers.get`. */
export class FunctionRegularizer extends Regularizer {
  constructor(readonly fn: RegularizerFunction) {
    super();
  }

  call(x: Tensor): Tensor {
    return this.fn(x);
  }

  override getConfig(): Config {
    throw new KerasError(`cannot serialize the function regularizer ${this.fn.name || '(anonymous)'}; subclass keras.regularizers.Regularizer and implement getConfig()`);
  }
}
