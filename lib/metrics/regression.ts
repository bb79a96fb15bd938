/**
 * Regression, probabilistic and hinge metrics: means of the loss functions over samples
 * (keras/src/metrics/{regression,probabilistic,hinge}_metrics.py), and RootMeanSquaredError.
 */
import { FLOATX, isFloat, type DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import * as L from '../losses/losses.js';
import { checkBroadcastable, divideNoNan, squeezeOrExpandToSameRank } from '../losses/loss.js';
import type { MetricOptions } from './metric.js';
import { Mean, MeanMetricWrapper, type MetricFn } from './reduction.js';
import { optionalArgs } from '../utils/args.js';

type D = DType | undefined;

/** Mean of `square(yTrue - yPred)`. Arguments: name, dtype. */
export class MeanSquaredError extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'mean_squared_error', dtype?: DType) {
    super(L.meanSquaredError, optionalArgs('MeanSquaredError', { name: 'mean_squared_error', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean of `abs(yTrue - yPred)`. */
export class MeanAbsoluteError extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'mean_absolute_error', dtype?: DType) {
    super(L.meanAbsoluteError, optionalArgs('MeanAbsoluteError', { name: 'mean_absolute_error', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean absolute percentage error. */
export class MeanAbsolutePercentageError extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'mean_absolute_percentage_error', dtype?: DType) {
    super(L.meanAbsolutePercentageError, optionalArgs('MeanAbsolutePercentageError', { name: 'mean_absolute_percentage_error', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean squared logarithmic error. */
export class MeanSquaredLogarithmicError extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'mean_squared_logarithmic_error', dtype?: DType) {
    super(L.meanSquaredLogarithmicError, optionalArgs('MeanSquaredLogarithmicError', { name: 'mean_squared_logarithmic_error', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean of `log(cosh(yPred - yTrue))`. */
export class LogCoshError extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'logcosh', dtype?: DType) {
    super(L.logCosh, optionalArgs('LogCoshError', { name: 'logcosh', dtype: undefined as D }, [name, dtype]));
  }
}

/** Cosine similarity (positive, unlike the loss) along `axis`. */
export function cosineSimilarity(yTrue: TensorLike, yPred: TensorLike, axis: number | { axis?: number } = -1): Tensor {
  return ops.negative(L.cosineSimilarity(yTrue, yPred, axis));
}

/** Mean cosine similarity between labels and predictions. Arguments: name, dtype, axis. */
export class CosineSimilarity extends MeanMetricWrapper {
  constructor(name: string | (MetricOptions & { axis?: number }) = 'cosine_similarity', dtype?: DType, axis?: number) {
    super(cosineSimilarity as MetricFn, optionalArgs('CosineSimilarity', { name: 'cosine_similarity', dtype: undefined as D, axis: -1 }, [name, dtype, axis]));
  }
}

/**
 * `sqrt(mean(square(yTrue - yPred)))` over everything seen so far. The squared errors are
 * accumulated with Mean, so sample weights weight samples as in Keras.
 */
export class RootMeanSquaredError extends Mean {
  constructor(name: string | MetricOptions = 'root_mean_squared_error', dtype?: DType) {
    super(optionalArgs('RootMeanSquaredError', { name: 'root_mean_squared_error', dtype: undefined as D }, [name, dtype]));
  }

  override updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    let p = ops.convertToTensor(yPred!, this.dtype, this.name);
    if (!isFloat(p.dtype)) p = ops.cast(p, FLOATX);
    let t = ops.convertToTensor(yTrue, this.dtype, this.name);
    [t, p] = squeezeOrExpandToSameRank(t, p);
    checkBroadcastable(this.name, t, p);
    super.updateState(ops.square(ops.subtract(p, t)), sampleWeight);
  }

  override result(): Tensor {
    return ops.sqrt(divideNoNan(this.total.value, this.count.value));
  }
}

/** Mean binary crossentropy. Arguments: name, dtype, fromLogits, labelSmoothing. */
export class BinaryCrossentropy extends MeanMetricWrapper {
  constructor(name: string | (MetricOptions & { fromLogits?: boolean; labelSmoothing?: number }) = 'binary_crossentropy', dtype?: DType, fromLogits?: boolean, labelSmoothing?: number) {
    super(L.binaryCrossentropy as MetricFn, optionalArgs('BinaryCrossentropy', { name: 'binary_crossentropy', dtype: undefined as D, fromLogits: false, labelSmoothing: 0 }, [name, dtype, fromLogits, labelSmoothing]));
  }
}

/** Mean categorical crossentropy. Arguments: name, dtype, fromLogits, labelSmoothing, axis. */
export class CategoricalCrossentropy extends MeanMetricWrapper {
  constructor(name: string | (MetricOptions & { fromLogits?: boolean; labelSmoothing?: number; axis?: number }) = 'categorical_crossentropy', dtype?: DType, fromLogits?: boolean, labelSmoothing?: number, axis?: number) {
    super(L.categoricalCrossentropy as MetricFn, optionalArgs('CategoricalCrossentropy', { name: 'categorical_crossentropy', dtype: undefined as D, fromLogits: false, labelSmoothing: 0, axis: -1 }, [name, dtype, fromLogits, labelSmoothing, axis]));
  }
}

/** Mean sparse categorical crossentropy. Arguments: name, dtype, fromLogits, axis. */
export class SparseCategoricalCrossentropy extends MeanMetricWrapper {
  constructor(name: string | (MetricOptions & { fromLogits?: boolean; axis?: number }) = 'sparse_categorical_crossentropy', dtype?: DType, fromLogits?: boolean, axis?: number) {
    super(L.sparseCategoricalCrossentropy as MetricFn, optionalArgs('SparseCategoricalCrossentropy', { name: 'sparse_categorical_crossentropy', dtype: undefined as D, fromLogits: false, axis: -1 }, [name, dtype, fromLogits, axis]));
  }
}

/** Mean KL divergence. */
export class KLDivergence extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'kl_divergence', dtype?: DType) {
    super(L.klDivergence, optionalArgs('KLDivergence', { name: 'kl_divergence', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean Poisson loss. */
export class Poisson extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'poisson', dtype?: DType) {
    super(L.poisson, optionalArgs('Poisson', { name: 'poisson', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean hinge loss. */
export class Hinge extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'hinge', dtype?: DType) {
    super(L.hinge, optionalArgs('Hinge', { name: 'hinge', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean squared hinge loss. */
export class SquaredHinge extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'squared_hinge', dtype?: DType) {
    super(L.squaredHinge, optionalArgs('SquaredHinge', { name: 'squared_hinge', dtype: undefined as D }, [name, dtype]));
  }
}

/** Mean categorical hinge loss. */
export class CategoricalHinge extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'categorical_hinge', dtype?: DType) {
    super(L.categoricalHinge, optionalArgs('CategoricalHinge', { name: 'categorical_hinge', dtype: undefined as D }, [name, dtype]));
  }
}
