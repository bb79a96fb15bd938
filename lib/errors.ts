/**
 * Errors raised by keras-node. Every message names the op or layer, the argument,
 * and the shapes or dtypes involved, as Keras does.
 */

/** Base class of every error keras-node raises on bad input. */
export class KerasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Incompatible shapes: impossible broadcasts, wrong ranks, mismatched dims. */
export class ShapeError extends KerasError {}

/** A dtype an op cannot take, or an unsupported dtype. */
export class DTypeError extends KerasError {}

/** A bad argument value: unknown attribute, axis out of range, unknown name. */
export class ValueError extends KerasError {}

/** Asking for something that has no meaning, e.g. the gradient of an integer output. */
export class GradientError extends KerasError {}

/**
 * Memory for an op's outputs or working buffers could not be had: the message names the op
 * and the outputs it asked for. Nothing is allocated or changed by the failed call.
 */
export class ResourceExhaustedError extends KerasError {}

const BY_NAME: Record<string, new (message: string) => KerasError> = {
  ShapeError,
  DTypeError,
  ValueError,
  GradientError,
  ResourceExhaustedError,
};

/**
 * The native addon throws plain Errors whose `name` says the kind (it knows no JS classes);
 * this makes such an error the class of that name, so `instanceof` holds on every backend.
 * Anything else is returned as it is.
 */
export function asKerasError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof KerasError) return error;
  const Kind = Object.hasOwn(BY_NAME, error.name) ? BY_NAME[error.name] : undefined;
  if (!Kind) return error;
  return new Kind(error.message);
}

/**
 * Any argument as an error message shows what was received: JSON where it has one (numbers,
 * strings, arrays, plain objects), else its kind. Never throws (a template literal of a Symbol does).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'symbol' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object' && 'shape' in value && 'dtype' in value) {
    const t = value as { shape: readonly (number | null)[]; dtype: unknown };
    return `a ${String(t.dtype)} tensor of shape ${fmtShape(t.shape)}`;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Formats a shape the way Keras prints it: `(None, 28, 28)`. */
export function fmtShape(shape: readonly (number | null)[]): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}
