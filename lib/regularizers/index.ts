/**
 * keras.regularizers: L1, L2, L1L2, OrthogonalRegularizer; `get`, `serialize`, `deserialize`.
 *
 * ```ts
 * new layers.Dense(64, { kernelRegularizer: keras.regularizers.l2(1e-4) });
 * keras.regularizers.get('l1').call(w); // 0.01 * sum(|w|)
 * ```
 *
 * String names build the class with its defaults, as Keras: `'l1'` and `'l2'` use 0.01,
 * `'l1_l2'` uses l1 = l2 = 0 (Keras 3's L1L2 defaults).
 */
import { ObjectRegistry, type Config, type ConfigurableClass, type SerializedObject } from '../initializers/registry.js';
import { FunctionRegularizer, L1, L1L2, L2, OrthogonalRegularizer, Regularizer, type RegularizerFunction } from './regularizers.js';

export { L1, L1L2, L2, OrthogonalRegularizer, Regularizer, type RegularizerFunction } from './regularizers.js';
export type { SerializedObject } from '../initializers/registry.js';

/** Anything `get` accepts besides null: a name, a `{className, config}` object, an instance, a class, or a function. */
export type RegularizerLike = string | Regularizer | RegularizerFunction | { className?: string; class_name?: string; config?: Config } | (new () => Regularizer);

const registry = new ObjectRegistry<Regularizer>(
  'regularizer',
  'keras.regularizers',
  Regularizer,
  [L1, L2, L1L2, OrthogonalRegularizer],
  {},
  (fn) => new FunctionRegularizer(fn as RegularizerFunction),
);

/**
 * Keras' `keras.regularizers.get`: `'l1'`, `'l2'`, `'l1_l2'`, `'orthogonal_regularizer'`
 * (or class / camelCase names), a `{className, config}` object, an instance, a class, or a
 * function `(x) => Tensor` (wrapped). null/undefined give null; unknown names raise.
 */
export function get(identifier: null | undefined): null;
export function get(identifier: RegularizerLike): Regularizer;
export function get(identifier: RegularizerLike | null | undefined): Regularizer | null;
export function get(identifier: unknown): Regularizer | null {
  return registry.get(identifier);
}

/** `{module, className, config, registeredName}` of a regularizer. */
export function serialize(regularizer: Regularizer): SerializedObject {
  return registry.serialize(regularizer);
}

/** A regularizer from `serialize()` output or a Keras `{class_name, config}` dict; custom classes by name in `customObjects`. */
export function deserialize(config: SerializedObject | Record<string, unknown>, customObjects?: Record<string, ConfigurableClass<Regularizer>>): Regularizer {
  return registry.deserialize(config, customObjects);
}

/** Every string `get` accepts. */
export function names(): string[] {
  return registry.names();
}

// Keras exports the classes under snake_case names too (`regularizers.l2(1e-4)`); these factories play that role.

/** `new L1(l1)` (l1 = 0.01 by default). */
export const l1 = (value?: ConstructorParameters<typeof L1>[0]): L1 => new L1(value);
/** `new L2(l2)` (l2 = 0.01 by default). */
export const l2 = (value?: ConstructorParameters<typeof L2>[0]): L2 => new L2(value);
/** `new L1L2(l1, l2)` (both 0 by default, as Keras 3). */
export const l1L2 = (...args: ConstructorParameters<typeof L1L2>): L1L2 => new L1L2(...args);
/** `new OrthogonalRegularizer(factor, mode)`. */
export const orthogonalRegularizer = (...args: ConstructorParameters<typeof OrthogonalRegularizer>): OrthogonalRegularizer => new OrthogonalRegularizer(...args);
