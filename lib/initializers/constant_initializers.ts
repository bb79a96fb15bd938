/**
 * Deterministic initializers: Zeros, Ones, Constant, Identity (Keras 3
 * keras/src/initializers/constant_initializers.py).
 */
import type { DType } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { tidy } from '../engine.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/common.js';
import { Tensor } from '../tensor.js';
import { Variable } from '../variable.js';
import { Initializer, checkInitDType, checkInitShape, type ShapeArg } from './initializer.js';
import type { Config } from './registry.js';
import { optionalArgs } from '../utils/args.js';

/** Initializer that generates tensors of zeros (`'zeros'`, `'zero'`). */
export class Zeros extends Initializer {
  /** Takes no arguments (an empty options object from a config is accepted). */
  constructor(options: Record<string, never> = {}) {
    super();
    optionalArgs('Zeros', {}, [options]);
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    return ops.zeros(checkInitShape(shape, 'Zeros'), checkInitDType(dtype, 'Zeros'));
  }
}

/** Initializer that generates tensors of ones (`'ones'`, `'one'`). */
export class Ones extends Initializer {
  /** Takes no arguments (an empty options object from a config is accepted). */
  constructor(options: Record<string, never> = {}) {
    super();
    optionalArgs('Ones', {}, [options]);
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    return ops.ones(checkInitShape(shape, 'Ones'), checkInitDType(dtype, 'Ones'));
  }
}

/**
 * Initializer that fills with `value` (default 0), cast to the requested dtype. A
 * tensor or nested-array value is broadcast to the shape (Keras: `cast(value) * ones(shape)`).
 */
export class Constant extends Initializer {
  readonly value: number | boolean | TensorLike;

  constructor(value?: number | boolean | TensorLike | { value?: number | boolean | TensorLike }) {
    super();
    const o = optionalArgs<{ value: number | boolean | TensorLike }>('Constant', { value: 0 }, [value]);
    if (o.value === null || o.value === undefined || typeof o.value === 'string') throw new ValueError(`Constant: value must be a number or a tensor, received ${JSON.stringify(o.value)}`);
    this.value = o.value;
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const dims = checkInitShape(shape, 'Constant');
    const d = checkInitDType(dtype, 'Constant');
    if (typeof this.value === 'number' || typeof this.value === 'boolean') return ops.full(dims, this.value, d);
    const value = this.value;
    return tidy(() => {
      const v = ops.cast(ops.convertToTensor(value, null, 'Constant'), d);
      try {
        return ops.broadcastTo(v, dims);
      } catch {
        throw new ShapeError(`Constant: value of shape ${fmtShape(v.shape)} cannot be broadcast to the requested shape ${fmtShape(dims)}`);
      }
    });
  }

  /** `{value}`: a number, or nested arrays for a tensor value. */
  override getConfig(): Config {
    const v = this.value;
    if (v instanceof Tensor || v instanceof Variable) return { value: (v instanceof Variable ? v.value : v).arraySync() };
    if (ArrayBuffer.isView(v)) return { value: Array.from(v as ArrayLike<number>) };
    return { value: v };
  }
}

/** Initializer that generates `gain` times the identity matrix (2-D shapes only; `eye(rows, cols)` when not square). */
export class IdentityInitializer extends Initializer {
  readonly gain: number;

  constructor(gain?: number | { gain?: number }) {
    super();
    const o = optionalArgs<{ gain: number }>('Identity', { gain: 1 }, [gain]);
    if (typeof o.gain !== 'number' || !Number.isFinite(o.gain)) throw new ValueError(`Identity: gain must be a finite number, received ${JSON.stringify(o.gain)}`);
    this.gain = o.gain;
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const dims = checkInitShape(shape, 'Identity');
    const d = checkInitDType(dtype, 'Identity');
    if (dims.length !== 2) {
      throw new ShapeError(`Identity: the identity matrix initializer can only be used for 2D matrices; received shape=${fmtShape(dims)} of rank ${dims.length}`);
    }
    // tidy: eye's intermediates (index ranges, the mask) are freed now rather than by the GC.
    return tidy(() => {
      const eye = ops.eye(dims[0], dims[1], 0, d);
      return this.gain === 1 ? eye : ops.cast(ops.multiply(eye, this.gain), d);
    });
  }

  override getConfig(): Config {
    return { gain: this.gain };
  }
}
