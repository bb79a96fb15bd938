/**
 * keras.initializers.Initializer: the base class of weight initializers.
 *
 * Keras calls an initializer as a function, `init(shape, dtype)`. Here subclasses
 * implement `call(shape, dtype)`, and `apply(shape, dtype | {dtype})` is the public
 * entry point that also accepts a trailing options object. Both default dtype to floatx.
 */
import { FLOATX, parseDType, type DType } from '../dtype.js';
import { KerasError, ShapeError, ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { camelizeConfig, type Config } from './registry.js';
import { isPlainObject } from '../utils/args.js';

/** A weight shape: dims (or one dim as a number). */
export type ShapeArg = number | readonly number[];

/** Validates a shape argument and returns it as a fresh array of dims. */
export function checkInitShape(shape: unknown, owner: string): number[] {
  const dims = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${owner}: shape must be an array of non-negative integers, received ${JSON.stringify(shape)}`);
  }
  return [...(dims as number[])];
}

/** Validates a dtype argument; null/undefined mean floatx. */
export function checkInitDType(dtype: unknown, owner: string): DType {
  return dtype === null || dtype === undefined ? FLOATX : parseDType(dtype, owner);
}

/**
 * Base class of initializers. Subclasses implement `call(shape, dtype)` returning a
 * concrete tensor of that shape and dtype, and `getConfig()` when they take arguments.
 *
 * ```ts
 * class Halves extends keras.initializers.Initializer {
 *   call(shape, dtype) { return keras.ops.full(shape, 0.5, dtype); }
 * }
 * ```
 */
export abstract class Initializer {
  /** A tensor of `shape` and `dtype` (floatx when omitted). */
  abstract call(shape: ShapeArg, dtype?: DType | null): Tensor;

  /** Keras' `initializer(shape, dtype)`: `init.apply([3, 4])`, `init.apply([3, 4], 'float64')` or `init.apply([3, 4], {dtype})`. */
  apply(shape: ShapeArg, dtype?: DType | null | { dtype?: DType | null }): Tensor {
    const owner = this.constructor.name;
    let d: unknown = dtype;
    if (isPlainObject(dtype)) {
      for (const k of Object.keys(dtype)) if (k !== 'dtype') throw new ValueError(`${owner}: unknown option ${JSON.stringify(k)}; accepted: dtype`);
      d = (dtype as { dtype?: DType | null }).dtype;
    }
    return this.call(checkInitShape(shape, owner), checkInitDType(d, owner));
  }

  /** The constructor arguments, as a JSON-serializable dict with snake_case keys. */
  getConfig(): Config {
    return {};
  }

  /** Re-creates an initializer from `getConfig()` output (snake_case or camelCase keys). */
  static fromConfig<T extends Initializer>(this: new (...args: any[]) => T, config: Config): T {
    return new this(camelizeConfig(config));
  }

  /** A new initializer with the same config. */
  clone(): this {
    const ctor = this.constructor as unknown as { fromConfig(c: Config): Initializer };
    return ctor.fromConfig(this.getConfig()) as this;
  }

  toString(): string {
    return `<${this.constructor.name} ${JSON.stringify(this.getConfig())}>`;
  }
}

/** A plain function `(shape, dtype) => Tensor` used as an initializer (what `get(fn)` returns). */
export type InitializerFunction = (shape: number[], dtype: DType) => Tensor;

/** @internal Wraps a plain function given to `initializers.get` so it has `call`/`apply`. */
export class FunctionInitializer extends Initializer {
  constructor(readonly fn: InitializerFunction) {
    super();
    if (typeof fn !== 'function') throw new ValueError(`FunctionInitializer: expected a function (shape, dtype) => Tensor, received ${typeof fn}`);
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const name = this.fn.name || 'function initializer';
    const dims = checkInitShape(shape, name);
    const out = this.fn(dims, checkInitDType(dtype, name));
    if (!(out instanceof Tensor)) throw new ValueError(`${name}: an initializer function must return a Tensor, received ${typeof out}`);
    return out;
  }

  /** Plain functions carry no config: subclass Initializer to make one serializable. */
  override getConfig(): Config {
    throw new KerasError(`cannot serialize the function initializer ${this.fn.name || '(anonymous)'}; subclass keras.initializers.Initializer and implement getConfig()`);
  }
}
