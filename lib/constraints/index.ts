/**
 * keras.constraints: MaxNorm, MinMaxNorm, NonNeg, UnitNorm; `get`, `serialize`, `deserialize`.
 *
 * ```ts
 * new layers.Dense(64, { kernelConstraint: keras.constraints.maxNorm(3) });
 * keras.constraints.get('non_neg').call(w); // maximum(w, 0)
 * ```
 */
import { ObjectRegistry, type Config, type ConfigurableClass, type SerializedObject } from '../initializers/registry.js';
import { Constraint, FunctionConstraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm, type ConstraintFunction } from './constraints.js';

export { Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm, type ConstraintFunction, type NormAxis } from './constraints.js';
export type { SerializedObject } from '../initializers/registry.js';

/** Anything `get` accepts besides null: a name, a `{className, config}` object, an instance, a class, or a function. */
export type ConstraintLike = string | Constraint | ConstraintFunction | { className?: string; class_name?: string; config?: Config } | (new () => Constraint);

const registry = new ObjectRegistry<Constraint>(
  'constraint',
  'keras.constraints',
  Constraint,
  [MaxNorm, MinMaxNorm, NonNeg, UnitNorm],
  {},
  (fn) => new FunctionConstraint(fn as ConstraintFunction),
);

/**
 * Keras' `keras.constraints.get`: `'max_norm'`, `'min_max_norm'`, `'non_neg'`, `'unit_norm'`
 * (or class / camelCase names), a `{className, config}` object, an instance, a class, or a
 * function `(w) => Tensor` (wrapped). null/undefined give null; unknown names raise.
 */
export function get(identifier: null | undefined): null;
export function get(identifier: ConstraintLike): Constraint;
export function get(identifier: ConstraintLike | null | undefined): Constraint | null;
export function get(identifier: unknown): Constraint | null {
  return registry.get(identifier);
}

/** `{module, className, config, registeredName}` of a constraint. */
export function serialize(constraint: Constraint): SerializedObject {
  return registry.serialize(constraint);
}

/** A constraint from `serialize()` output or a Keras `{class_name, config}` dict; custom classes by name in `customObjects`. */
export function deserialize(config: SerializedObject | Record<string, unknown>, customObjects?: Record<string, ConfigurableClass<Constraint>>): Constraint {
  return registry.deserialize(config, customObjects);
}

/** Every string `get` accepts. */
export function names(): string[] {
  return registry.names();
}

// Keras exports the classes under snake_case names too (`constraints.max_norm(3)`); these factories play that role.

/** `new MaxNorm(maxValue, axis)`. */
export const maxNorm = (...args: ConstructorParameters<typeof MaxNorm>): MaxNorm => new MaxNorm(...args);
/** `new MinMaxNorm(minValue, maxValue, rate, axis)`. */
export const minMaxNorm = (...args: ConstructorParameters<typeof MinMaxNorm>): MinMaxNorm => new MinMaxNorm(...args);
/** `new NonNeg()`. */
export const nonNeg = (): NonNeg => new NonNeg();
/** `new UnitNorm(axis)`. */
export const unitNorm = (...args: ConstructorParameters<typeof UnitNorm>): UnitNorm => new UnitNorm(...args);
