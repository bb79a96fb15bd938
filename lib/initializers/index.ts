/**
 * keras.initializers: Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal,
 * RandomUniform, VarianceScaling, Glorot/He/Lecun (uniform and normal), Orthogonal;
 * `get`, `serialize`, `deserialize`.
 *
 * ```ts
 * const w = keras.initializers.get('glorot_uniform').apply([784, 64]);
 * const v = new keras.initializers.HeNormal({ seed: 1 }).call([3, 3, 16, 32], 'float64');
 * ```
 */
import { Constant, IdentityInitializer, Ones, Zeros } from './constant_initializers.js';
import { FunctionInitializer, Initializer, type InitializerFunction } from './initializer.js';
import {
  GlorotNormal,
  GlorotUniform,
  HeNormal,
  HeUniform,
  LecunNormal,
  LecunUniform,
  OrthogonalInitializer,
  RandomNormal,
  RandomUniform,
  TruncatedNormal,
  VarianceScaling,
  type InitializerSeed,
} from './random_initializers.js';
import { ObjectRegistry, type Config, type ConfigurableClass, type SerializedObject } from './registry.js';

export { Initializer, type InitializerFunction, type ShapeArg } from './initializer.js';
export { Constant, IdentityInitializer, Ones, Zeros } from './constant_initializers.js';
export {
  GlorotNormal,
  GlorotUniform,
  HeNormal,
  HeUniform,
  LecunNormal,
  LecunUniform,
  OrthogonalInitializer,
  RandomInitializer,
  RandomNormal,
  RandomUniform,
  TruncatedNormal,
  VarianceScaling,
  computeFans,
  type FanMode,
  type InitializerSeed,
  type ScalingDistribution,
} from './random_initializers.js';
export type { SerializedObject } from './registry.js';

/** Keras' alias of OrthogonalInitializer. */
export const Orthogonal = OrthogonalInitializer;
export type Orthogonal = OrthogonalInitializer;
/** Keras' alias of IdentityInitializer. */
export const Identity = IdentityInitializer;
export type Identity = IdentityInitializer;

/** Anything `get` accepts besides null: a name, a `{className, config}` object, an instance, a class, or a function. */
export type InitializerLike = string | Initializer | InitializerFunction | { className?: string; class_name?: string; config?: Config } | (new () => Initializer);

const CLASSES: ConfigurableClass<Initializer>[] = [
  Constant,
  IdentityInitializer,
  Ones,
  Zeros,
  GlorotNormal,
  GlorotUniform,
  HeNormal,
  HeUniform,
  LecunNormal,
  LecunUniform,
  RandomNormal,
  TruncatedNormal,
  RandomUniform,
  VarianceScaling,
  OrthogonalInitializer,
];

const registry = new ObjectRegistry<Initializer>(
  'initializer',
  'keras.initializers',
  Initializer,
  CLASSES,
  {
    uniform: RandomUniform,
    normal: RandomNormal,
    orthogonal: OrthogonalInitializer,
    Orthogonal: OrthogonalInitializer,
    identity: IdentityInitializer,
    Identity: IdentityInitializer,
    one: Ones,
    zero: Zeros,
  },
  (fn) => new FunctionInitializer(fn as InitializerFunction),
);

/**
 * Keras' `keras.initializers.get`: `'glorot_uniform'`, `'GlorotUniform'`, `'glorotUniform'`,
 * aliases (`'uniform'`, `'normal'`, `'orthogonal'`, `'identity'`, `'one'`, `'zero'`), a
 * `{className, config}` object, an instance (returned as is), a class, or a function
 * `(shape, dtype) => Tensor` (wrapped). null/undefined give null; unknown names raise.
 */
export function get(identifier: null | undefined): null;
export function get(identifier: InitializerLike): Initializer;
export function get(identifier: InitializerLike | null | undefined): Initializer | null;
export function get(identifier: unknown): Initializer | null {
  return registry.get(identifier);
}

/** `{module, className, config, registeredName}` of an initializer. */
export function serialize(initializer: Initializer): SerializedObject {
  return registry.serialize(initializer);
}

/** An initializer from `serialize()` output or a Keras `{class_name, config}` dict; custom classes by name in `customObjects`. */
export function deserialize(config: SerializedObject | Record<string, unknown>, customObjects?: Record<string, ConfigurableClass<Initializer>>): Initializer {
  return registry.deserialize(config, customObjects);
}

/** Every string `get` accepts. */
export function names(): string[] {
  return registry.names();
}

// Keras also exports each class under its snake_case name (`keras.initializers.he_normal(seed=1)`);
// these camelCase factories play that role.

/** `new Zeros()`. */
export const zeros = (): Zeros => new Zeros();
/** `new Ones()`. */
export const ones = (): Ones => new Ones();
/** `new Constant(value)`. */
export const constant = (value?: ConstructorParameters<typeof Constant>[0]): Constant => new Constant(value);
/** `new Identity(gain)`. */
export const identity = (gain?: number | { gain?: number }): IdentityInitializer => new IdentityInitializer(gain);
/** `new RandomNormal(mean, stddev, seed)`. */
export const randomNormal = (...args: ConstructorParameters<typeof RandomNormal>): RandomNormal => new RandomNormal(...args);
/** `new TruncatedNormal(mean, stddev, seed)`. */
export const truncatedNormal = (...args: ConstructorParameters<typeof TruncatedNormal>): TruncatedNormal => new TruncatedNormal(...args);
/** `new RandomUniform(minval, maxval, seed)`. */
export const randomUniform = (...args: ConstructorParameters<typeof RandomUniform>): RandomUniform => new RandomUniform(...args);
/** `new VarianceScaling(scale, mode, distribution, seed)`. */
export const varianceScaling = (...args: ConstructorParameters<typeof VarianceScaling>): VarianceScaling => new VarianceScaling(...args);
/** `new GlorotUniform(seed)`. */
export const glorotUniform = (seed?: InitializerSeed | { seed?: InitializerSeed }): GlorotUniform => new GlorotUniform(seed);
/** `new GlorotNormal(seed)`. */
export const glorotNormal = (seed?: InitializerSeed | { seed?: InitializerSeed }): GlorotNormal => new GlorotNormal(seed);
/** `new HeUniform(seed)`. */
export const heUniform = (seed?: InitializerSeed | { seed?: InitializerSeed }): HeUniform => new HeUniform(seed);
/** `new HeNormal(seed)`. */
export const heNormal = (seed?: InitializerSeed | { seed?: InitializerSeed }): HeNormal => new HeNormal(seed);
/** `new LecunUniform(seed)`. */
export const lecunUniform = (seed?: InitializerSeed | { seed?: InitializerSeed }): LecunUniform => new LecunUniform(seed);
/** `new LecunNormal(seed)`. */
export const lecunNormal = (seed?: InitializerSeed | { seed?: InitializerSeed }): LecunNormal => new LecunNormal(seed);
/** `new Orthogonal(gain, seed)`. */
export const orthogonal = (...args: ConstructorParameters<typeof OrthogonalInitializer>): OrthogonalInitializer => new OrthogonalInitializer(...args);
