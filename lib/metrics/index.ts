/**
 * keras.metrics: stateful metrics and `get`, which resolves compile-style identifiers.
 *
 * ```ts
 * const m = new keras.metrics.AUC();
 * m.updateState(labels, probabilities);
 * m.result();                                  // a scalar Tensor
 * keras.metrics.get('accuracy', { loss: 'sparse_categorical_crossentropy' }); // SparseCategoricalAccuracy
 * ```
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import { Loss, LossFunctionWrapper, configToOptions, toSnakeCase } from '../losses/loss.js';
import * as L from '../losses/losses.js';
import { isBinaryOrSparseCategorical } from '../losses/index.js';
import { Metric, requirePred } from './metric.js';
import { MeanMetricWrapper, Mean, Sum, type MetricFn } from './reduction.js';
import * as A from './accuracy.js';
import * as C from './confusion.js';
import * as F from './fscore.js';
import * as R from './regression.js';

export { Metric, zerosTensor, type MetricOptions } from './metric.js';
export { Mean, Sum, MeanMetricWrapper, reduceToSamplewiseValues, type MetricFn } from './reduction.js';
export * from './accuracy.js';
export * from './confusion.js';
export * from './fscore.js';
export * from './regression.js';
export { meanSquaredError, meanAbsoluteError, meanAbsolutePercentageError, meanSquaredLogarithmicError, logCosh, klDivergence, poisson, hinge, squaredHinge, categoricalHinge, binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy, binaryFocalCrossentropy, huber } from '../losses/losses.js';

type MetricClass = new (...args: never[]) => Metric;

/** Metric classes by Keras class name. */
const CLASSES: Record<string, MetricClass> = {
  Mean,
  Sum,
  Accuracy: A.Accuracy,
  BinaryAccuracy: A.BinaryAccuracy,
  CategoricalAccuracy: A.CategoricalAccuracy,
  SparseCategoricalAccuracy: A.SparseCategoricalAccuracy,
  TopKCategoricalAccuracy: A.TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy: A.SparseTopKCategoricalAccuracy,
  AUC: C.AUC,
  Precision: C.Precision,
  Recall: C.Recall,
  TruePositives: C.TruePositives,
  FalsePositives: C.FalsePositives,
  TrueNegatives: C.TrueNegatives,
  FalseNegatives: C.FalseNegatives,
  FBetaScore: F.FBetaScore,
  F1Score: F.F1Score,
  MeanSquaredError: R.MeanSquaredError,
  RootMeanSquaredError: R.RootMeanSquaredError,
  MeanAbsoluteError: R.MeanAbsoluteError,
  MeanAbsolutePercentageError: R.MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError: R.MeanSquaredLogarithmicError,
  LogCoshError: R.LogCoshError,
  CosineSimilarity: R.CosineSimilarity,
  BinaryCrossentropy: R.BinaryCrossentropy,
  CategoricalCrossentropy: R.CategoricalCrossentropy,
  SparseCategoricalCrossentropy: R.SparseCategoricalCrossentropy,
  KLDivergence: R.KLDivergence,
  Poisson: R.Poisson,
  Hinge: R.Hinge,
  SquaredHinge: R.SquaredHinge,
  CategoricalHinge: R.CategoricalHinge,
};

/** Function metrics by Keras name; `get` wraps them in MeanMetricWrapper. */
const FUNCTIONS: Record<string, MetricFn> = {
  binary_accuracy: A.binaryAccuracy as MetricFn,
  categorical_accuracy: A.categoricalAccuracy,
  sparse_categorical_accuracy: A.sparseCategoricalAccuracy,
  top_k_categorical_accuracy: A.topKCategoricalAccuracy as MetricFn,
  sparse_top_k_categorical_accuracy: A.sparseTopKCategoricalAccuracy as MetricFn,
  mean_squared_error: L.meanSquaredError,
  mean_absolute_error: L.meanAbsoluteError,
  mean_absolute_percentage_error: L.meanAbsolutePercentageError,
  mean_squared_logarithmic_error: L.meanSquaredLogarithmicError,
  binary_crossentropy: L.binaryCrossentropy as MetricFn,
  categorical_crossentropy: L.categoricalCrossentropy as MetricFn,
  sparse_categorical_crossentropy: L.sparseCategoricalCrossentropy as MetricFn,
  kl_divergence: L.klDivergence,
  poisson: L.poisson,
  hinge: L.hinge,
  squared_hinge: L.squaredHinge,
  categorical_hinge: L.categoricalHinge,
  log_cosh: L.logCosh,
  cosine_similarity: R.cosineSimilarity as MetricFn,
};

/** Short names (Keras' aliases, plus 'rmse'), to a class or function name. */
const ALIASES: Record<string, string> = {
  mse: 'mean_squared_error',
  MSE: 'mean_squared_error',
  mae: 'mean_absolute_error',
  MAE: 'mean_absolute_error',
  mape: 'mean_absolute_percentage_error',
  MAPE: 'mean_absolute_percentage_error',
  msle: 'mean_squared_logarithmic_error',
  MSLE: 'mean_squared_logarithmic_error',
  bce: 'binary_crossentropy',
  BCE: 'binary_crossentropy',
  kld: 'kl_divergence',
  KLD: 'kl_divergence',
  rmse: 'RootMeanSquaredError',
  RMSE: 'RootMeanSquaredError',
  logcosh: 'log_cosh',
};

// Class names in snake_case ('auc', 'precision', 'f1_score', 'root_mean_squared_error') as Keras registers them.
const SNAKE_CLASSES: Record<string, MetricClass> = {};
for (const [k, cls] of Object.entries(CLASSES)) SNAKE_CLASSES[k === 'AUC' ? 'auc' : toSnakeCase(k)] = cls;

/** Every string `get` accepts. */
export function knownMetricNames(): string[] {
  return ['accuracy', 'acc', ...new Set([...Object.keys(FUNCTIONS), ...Object.keys(ALIASES), ...Object.keys(SNAKE_CLASSES), ...Object.keys(CLASSES)])];
}

/** The accuracy matching a loss, as Keras compile does: binary / sparse categorical / categorical; null if the loss says nothing. */
function accuracyForLoss(loss: unknown): 'binary' | 'sparse' | 'categorical' | null {
  const byFn = (fn: unknown) =>
    fn === L.binaryCrossentropy || fn === L.binaryFocalCrossentropy ? 'binary' : fn === L.sparseCategoricalCrossentropy ? 'sparse' : fn === L.categoricalCrossentropy ? 'categorical' : null;
  if (loss instanceof LossFunctionWrapper) return byFn(loss.fn);
  if (typeof loss === 'function') return byFn(loss);
  if (typeof loss === 'string') {
    const k = toSnakeCase(loss);
    if (k === 'binary_crossentropy' || k === 'bce' || k === 'binary_focal_crossentropy') return 'binary';
    if (k === 'sparse_categorical_crossentropy') return 'sparse';
    if (k === 'categorical_crossentropy') return 'categorical';
  }
  return null;
}

/**
 * 'accuracy' when neither the loss nor the shapes are known yet: binary, sparse categorical or
 * categorical accuracy, chosen from the static shapes of the first update (Keras compile_utils).
 */
export class AutoAccuracy extends Mean {
  private resolved: MetricFn | null = null;

  constructor(name = 'accuracy') {
    super({ name });
  }

  override updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    const p = ops.convertToTensor(requirePred(this.name, yPred));
    const t = ops.convertToTensor(yTrue);
    if (!this.resolved) {
      const { isBinary, isSparseCategorical } = isBinaryOrSparseCategorical(t, p);
      this.resolved = isBinary ? (A.binaryAccuracy as MetricFn) : isSparseCategorical ? A.sparseCategoricalAccuracy : A.categoricalAccuracy;
    }
    super.updateState(this.resolved(t, p), sampleWeight);
  }

  /** Which accuracy the shapes chose ('binary_accuracy', 'sparse_categorical_accuracy', 'categorical_accuracy'), null before the first update. */
  get resolvedAs(): string | null {
    return this.resolved ? toSnakeCase(this.resolved.name) : null;
  }
}

function accuracyMetric(name: string, loss: unknown): Metric {
  const kind = accuracyForLoss(loss);
  if (kind === 'binary') return new A.BinaryAccuracy({ name });
  if (kind === 'sparse') return new A.SparseCategoricalAccuracy({ name });
  if (kind === 'categorical') return new A.CategoricalAccuracy({ name });
  return new AutoAccuracy(name);
}

function fromString(name: string, loss: unknown): Metric | null {
  if (name.toLowerCase() === 'accuracy' || name.toLowerCase() === 'acc') return accuracyMetric(name, loss);
  const key = ALIASES[name] ?? name;
  const cls = CLASSES[key] ?? SNAKE_CLASSES[key];
  let metric: Metric | null = null;
  if (cls) metric = new (cls as unknown as new () => Metric)();
  else if (key in FUNCTIONS) metric = new MeanMetricWrapper(FUNCTIONS[key], { name });
  else {
    const snake = toSnakeCase(key);
    if (snake in FUNCTIONS && key[0] === key[0].toLowerCase()) metric = new MeanMetricWrapper(FUNCTIONS[snake], { name });
  }
  // Keras compile names a metric given as a string by that string.
  if (metric) metric.name = name;
  return metric;
}

/**
 * Resolves a metric identifier as Keras compile does: a Metric (returned as is), a name
 * ('accuracy'/'acc', 'mse', 'mae', 'rmse', 'auc', 'precision', 'f1_score', class names...),
 * a Metric subclass (instantiated), or a function `(yTrue, yPred) => per-sample values`
 * (wrapped in MeanMetricWrapper). 'accuracy' follows `options.loss` (binary / sparse categorical /
 * categorical crossentropy) and otherwise the shapes of the first update. A string names the metric.
 */
export function get(identifier: string | Metric | MetricClass | MetricFn | null | undefined, options: { loss?: string | Loss | ((yTrue: Tensor, yPred: Tensor) => Tensor) | null } = {}): Metric | null {
  if (identifier === null || identifier === undefined) return null;
  if (identifier instanceof Metric) return identifier;
  if (typeof identifier === 'string') {
    const metric = fromString(identifier, options.loss);
    if (!metric) throw new ValueError(`Could not interpret metric identifier: ${JSON.stringify(identifier)}. Known names: ${knownMetricNames().join(', ')}`);
    return metric;
  }
  if (typeof identifier === 'function') {
    if (identifier.prototype instanceof Metric) return new (identifier as unknown as new () => Metric)();
    return new MeanMetricWrapper(identifier as MetricFn);
  }
  throw new ValueError(`Could not interpret metric identifier: ${String(identifier)}; pass a name, a Metric, or a function (yTrue, yPred) => Tensor`);
}

/** `{ class_name, config }` for a built-in metric. */
export function serialize(metric: Metric): { class_name: string; config: Record<string, unknown> } {
  return { class_name: metric.constructor.name, config: metric.getConfig() };
}


/** A built-in metric from `{ class_name, config }` (as written by `serialize`). */
export function deserialize(config: { class_name?: string; className?: string; config?: Record<string, unknown> }): Metric {
  const className = config.class_name ?? config.className;
  if (typeof className !== 'string' || !(className in CLASSES) || className === 'MeanMetricWrapper') {
    throw new ValueError(`metrics.deserialize: unknown metric class ${JSON.stringify(className)}; known: ${Object.keys(CLASSES).join(', ')}`);
  }
  const ctor = CLASSES[className] as unknown as new (options: Record<string, unknown>) => Metric;
  return new ctor(configToOptions(config.config ?? {}));
}
