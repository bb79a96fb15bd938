/**
 * keras.optimizers: SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta, Lion,
 * the Optimizer base class, `get`/`serialize`/`deserialize`, and `schedules`.
 */
import { ValueError } from '../errors.js';
import { Adadelta } from './adadelta.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { Adamax } from './adamax.js';
import { AdamW } from './adamw.js';
import { Lion } from './lion.js';
import { Nadam } from './nadam.js';
import { Optimizer } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';
import * as schedules from './schedules/index.js';

export { Optimizer, clipByNorm, clipByGlobalNorm, globalNorm, type OptimizerOptions, type LearningRate } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, type AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export { Adamax, type AdamaxOptions } from './adamax.js';
export { Nadam, type NadamOptions } from './nadam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { Adadelta, type AdadeltaOptions } from './adadelta.js';
export { Lion, type LionOptions } from './lion.js';
export { schedules };

type OptimizerClass = { name: string; fromConfig(config: Record<string, unknown>): Optimizer };

const ALL: OptimizerClass[] = [Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop, SGD];

/** Keras' lookup table: lower-cased class names, so 'adam', 'Adam', 'ADAM' and 'rmsprop' all resolve. */
const BY_NAME = new Map<string, OptimizerClass>(ALL.map((c) => [c.name.toLowerCase(), c]));

/** A serialized optimizer, as Keras writes it (`class_name` is accepted on input too). */
export interface SerializedOptimizer {
  module: string;
  className: string;
  config: Record<string, unknown>;
  registeredName: string | null;
}

/** `{module, className, config, registeredName}` for an optimizer. */
export function serialize(optimizer: Optimizer): SerializedOptimizer {
  if (!(optimizer instanceof Optimizer)) throw new ValueError(`optimizers.serialize: expected an Optimizer, received ${String(optimizer)}`);
  const className = optimizer.constructor.name;
  const builtin = (BY_NAME.get(className.toLowerCase()) as unknown) === optimizer.constructor;
  return { module: builtin ? 'keras.optimizers' : 'custom', className, config: optimizer.getConfig(), registeredName: builtin ? null : className };
}

function knownNames(): string {
  return ALL.map((c) => `'${c.name.toLowerCase()}'`).join(', ');
}

/** An optimizer from `{className, config}` (or Keras' `{class_name, config}`); class names are case-insensitive. */
export function deserialize(config: Record<string, unknown>, customObjects: Record<string, OptimizerClass> = {}): Optimizer {
  const className = config.className ?? config.class_name;
  if (typeof className !== 'string') throw new ValueError(`optimizers.deserialize: expected {className, config}, received ${JSON.stringify(config)}`);
  const cls = customObjects[className] ?? BY_NAME.get(className.toLowerCase());
  if (!cls) throw new ValueError(`Could not interpret optimizer identifier: '${className}'. Known optimizers: ${knownNames()} (or pass an Optimizer instance or a {className, config} object)`);
  const inner = config.config ?? {};
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    throw new ValueError(`optimizers.deserialize: the config of ${className} must be an object, received ${JSON.stringify(inner)}`);
  }
  return cls.fromConfig(inner as Record<string, unknown>);
}

/**
 * `keras.optimizers.get`: a name ('adam', 'Adam', 'rmsprop', ...: a new instance with default
 * arguments), a `{className, config}` object, or an Optimizer instance (returned as is).
 */
export function get(identifier: string | Optimizer | Record<string, unknown>): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  if (typeof identifier === 'string') return deserialize({ className: identifier, config: {} });
  if (identifier && typeof identifier === 'object' && !Array.isArray(identifier)) return deserialize(identifier as Record<string, unknown>);
  throw new ValueError(`Could not interpret optimizer identifier: ${identifier === null ? 'null' : typeof identifier === 'object' ? JSON.stringify(identifier) : String(identifier)}. Known optimizers: ${knownNames()}`);
}
