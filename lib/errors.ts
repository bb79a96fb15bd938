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

/** Formats a shape the way Keras prints it: `(None, 28, 28)`. */
export function fmtShape(shape: readonly (number | null)[]): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}
