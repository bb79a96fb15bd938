/**
 * keras.losses: loss classes, function forms, and `get` for string identifiers.
 *
 * ```ts
 * const loss = new keras.losses.SparseCategoricalCrossentropy({ fromLogits: true });
 * const value = loss.compute(labels, logits);          // Keras: loss(labels, logits)
 * keras.losses.get('sparse_categorical_crossentropy');  // a Loss
 * ```
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Loss, LossFunctionWrapper, configToOptions } from './loss.js';
import * as L from './losses.js';

export { Loss, LossFunctionWrapper, squeezeOrExpandToSameRank, standardizeReduction, reduceValues, reduceWeightedValues, getKerasMask, setKerasMask, combineMasks } from './loss.js';
export type { Reduction, LossOptions, LossFn } from './loss.js';
export * from './losses.js';

type LossClass = new (...args: never[]) => Loss;
type LossFunction = (yTrue: Tensor, yPred: Tensor, options?: Record<string, unknown>) => Tensor;

/** Loss classes by Keras class name. */
const CLASSES: Record<string, LossClass> = {
  MeanSquaredError: L.MeanSquaredError,
  MeanAbsoluteError: L.MeanAbsoluteError,
  MeanAbsolutePercentageError: L.MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError: L.MeanSquaredLogarithmicError,
  CosineSimilarity: L.CosineSimilarity,
  Huber: L.Huber,
  LogCosh: L.LogCosh,
  Hinge: L.Hinge,
  SquaredHinge: L.SquaredHinge,
  CategoricalHinge: L.CategoricalHinge,
  KLDivergence: L.KLDivergence,
  Poisson: L.Poisson,
  BinaryCrossentropy: L.BinaryCrossentropy,
  BinaryFocalCrossentropy: L.BinaryFocalCrossentropy,
  CategoricalCrossentropy: L.CategoricalCrossentropy,
  CategoricalFocalCrossentropy: L.CategoricalFocalCrossentropy,
  SparseCategoricalCrossentropy: L.SparseCategoricalCrossentropy,
};

/** Loss functions by Keras function name (snake_case) and the short aliases Keras accepts. */
const FUNCTIONS: Record<string, LossFunction> = {
  mean_squared_error: L.meanSquaredError,
  mean_absolute_error: L.meanAbsoluteError,
  mean_absolute_percentage_error: L.meanAbsolutePercentageError,
  mean_squared_logarithmic_error: L.meanSquaredLogarithmicError,
  cosine_similarity: L.cosineSimilarity as LossFunction,
  huber: L.huber as LossFunction,
  log_cosh: L.logCosh,
  hinge: L.hinge,
  squared_hinge: L.squaredHinge,
  categorical_hinge: L.categoricalHinge,
  kl_divergence: L.klDivergence,
  poisson: L.poisson,
  binary_crossentropy: L.binaryCrossentropy as LossFunction,
  binary_focal_crossentropy: L.binaryFocalCrossentropy as LossFunction,
  categorical_crossentropy: L.categoricalCrossentropy as LossFunction,
  categorical_focal_crossentropy: L.categoricalFocalCrossentropy as LossFunction,
  sparse_categorical_crossentropy: L.sparseCategoricalCrossentropy as LossFunction,
};

const ALIASES: Record<string, string> = {
  mse: 'mean_squared_error',
  MSE: 'mean_squared_error',
  mae: 'mean_absolute_error',
  MAE: 'mean_absolute_error',
  mape: 'mean_absolute_percentage_error',
  MAPE: 'mean_absolute_percentage_error',
  msle: 'mean_squared_logarithmic_error',
  MSLE: 'mean_squared_logarithmic_error',
  kld: 'kl_divergence',
  KLD: 'kl_divergence',
  kullback_leibler_divergence: 'kl_divergence',
  bce: 'binary_crossentropy',
  BCE: 'binary_crossentropy',
  logcosh: 'log_cosh',
  huber_loss: 'huber',
};

/** Keras' `is_binary_or_sparse_categorical` (compile_utils): decides from static shapes. */
export function isBinaryOrSparseCategorical(yTrue: Tensor, yPred: Tensor): { isBinary: boolean; isSparseCategorical: boolean } {
  const tLast = yTrue.shape[yTrue.rank - 1];
  const pLast = yPred.shape[yPred.rank - 1];
  const isBinary = pLast === 1;
  const isSparseCategorical = yTrue.rank < yPred.rank || (tLast === 1 && pLast !== null && pLast > 1);
  return { isBinary, isSparseCategorical };
}

/**
 * Keras compile's 'crossentropy' / 'ce': binary, sparse categorical or categorical
 * crossentropy, chosen from the shapes of the first call.
 */
function crossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  const { isBinary, isSparseCategorical } = isBinaryOrSparseCategorical(yTrue, yPred);
  if (isBinary) return L.binaryCrossentropy(yTrue, yPred);
  if (isSparseCategorical) return L.sparseCategoricalCrossentropy(yTrue, yPred);
  return L.categoricalCrossentropy(yTrue, yPred);
}

/** Every name `get` accepts. */
export function knownLossNames(): string[] {
  return [...Object.keys(FUNCTIONS), ...Object.keys(ALIASES), 'crossentropy', 'ce', ...Object.keys(CLASSES)];
}

function fromString(name: string): Loss | null {
  if (name in CLASSES) return new (CLASSES[name] as unknown as new () => Loss)();
  const key = ALIASES[name] ?? name;
  if (key in FUNCTIONS) return new LossFunctionWrapper(FUNCTIONS[key], { name });
  // camelCase function names (meanSquaredError) are accepted too.
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  if (name[0] === name[0].toLowerCase() && snake in FUNCTIONS) return new LossFunctionWrapper(FUNCTIONS[snake], { name });
  if (name === 'crossentropy' || name === 'ce') return new LossFunctionWrapper(crossentropy, { name });
  return null;
}

/** A loss from a config `{ class_name, config }` (as written by `serialize`). */
export function deserialize(config: { class_name?: string; className?: string; config?: Record<string, unknown> }): Loss {
  const className = config.class_name ?? config.className;
  if (typeof className !== 'string' || !(className in CLASSES)) {
    throw new ValueError(`losses.deserialize: unknown loss class ${JSON.stringify(className)}; known: ${Object.keys(CLASSES).join(', ')}`);
  }
  const ctor = CLASSES[className] as unknown as new (options: Record<string, unknown>) => Loss;
  return new ctor(configToOptions(config.config ?? {}));
}

/** `{ class_name, config }` for a built-in loss. */
export function serialize(loss: Loss): { class_name: string; config: Record<string, unknown> } {
  return { class_name: loss.constructor.name, config: loss.getConfig() };
}

/**
 * Resolves a loss identifier to a Loss: a Loss instance (returned as is), a Keras name
 * ('mse', 'mean_squared_error', 'sparse_categorical_crossentropy', 'MeanSquaredError', ...),
 * a Loss subclass (instantiated), a plain function `(yTrue, yPred) => Tensor` (wrapped
 * in a LossFunctionWrapper), or a `{ class_name, config }` object. `null` gives `null`.
 * Unlike Keras, function names give a wrapped Loss rather than the bare function.
 */
export function get(identifier: string | Loss | LossClass | LossFunction | { class_name?: string; className?: string; config?: Record<string, unknown> } | null | undefined): Loss | null {
  if (identifier === null || identifier === undefined) return null;
  if (identifier instanceof Loss) return identifier;
  if (typeof identifier === 'string') {
    const loss = fromString(identifier);
    if (!loss) throw new ValueError(`Could not interpret loss identifier: ${JSON.stringify(identifier)}. Known names: ${knownLossNames().join(', ')}`);
    return loss;
  }
  if (typeof identifier === 'function') {
    if (identifier.prototype instanceof Loss) return new (identifier as unknown as new () => Loss)();
    return new LossFunctionWrapper(identifier as LossFunction);
  }
  if (typeof identifier === 'object' && ('class_name' in identifier || 'className' in identifier)) return deserialize(identifier);
  throw new ValueError(`Could not interpret loss identifier: ${String(identifier)}; pass a name, a Loss, or a function (yTrue, yPred) => Tensor`);
}

