/**
 * The Keras 3 losses: function forms (`keras.losses.meanSquaredError(yTrue, yPred)`, per-sample
 * values) and classes (`new keras.losses.MeanSquaredError()`, reduced by `compute`).
 * Formulas, epsilons and defaults follow keras/src/losses/losses.py.
 */
import { FLOATX, isFloat, type DType } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import { LossFunctionWrapper, checkBroadcastable, checkSameShape, setKerasMask, squeezeOrExpandToSameRank, type LossOptions, type Reduction } from './loss.js';
import { optionalArgs } from '../utils/args.js';

/** Keras' `backend.epsilon()`. */
export const EPSILON = 1e-7;

/** yPred as a float tensor and yTrue cast to its dtype, with a trailing 1 squeezed or expanded. */
function prepare(who: string, yTrue: TensorLike, yPred: TensorLike, squeeze = true): [Tensor, Tensor] {
  let p = ops.convertToTensor(yPred, null, who);
  if (!isFloat(p.dtype)) p = ops.cast(p, FLOATX);
  let t = ops.cast(ops.convertToTensor(yTrue, null, who), p.dtype);
  if (squeeze) [t, p] = squeezeOrExpandToSameRank(t, p);
  checkBroadcastable(who, t, p);
  return [t, p];
}

// ================================================================== regression

/** Mean of squared errors over the last axis: `mean(square(yTrue - yPred), -1)`. */
export function meanSquaredError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('mean_squared_error', yTrue, yPred);
  return ops.mean(ops.square(ops.subtract(t, p)), -1);
}

/** Mean of absolute errors over the last axis. */
export function meanAbsoluteError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('mean_absolute_error', yTrue, yPred);
  return ops.mean(ops.abs(ops.subtract(t, p)), -1);
}

/** `100 * mean(abs((yTrue - yPred) / max(abs(yTrue), epsilon)), -1)`. */
export function meanAbsolutePercentageError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('mean_absolute_percentage_error', yTrue, yPred);
  const diff = ops.abs(ops.divide(ops.subtract(t, p), ops.maximum(ops.abs(t), EPSILON)));
  return ops.multiply(100, ops.mean(diff, -1));
}

/** `mean(square(log(max(yPred, eps) + 1) - log(max(yTrue, eps) + 1)), -1)`. */
export function meanSquaredLogarithmicError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('mean_squared_logarithmic_error', yTrue, yPred);
  const first = ops.log(ops.add(ops.maximum(p, EPSILON), 1));
  const second = ops.log(ops.add(ops.maximum(t, EPSILON), 1));
  return ops.mean(ops.square(ops.subtract(first, second)), -1);
}

/** L2 normalization as Keras' `normalize`: `x * min(rsqrt(sum(x^2)), 1/eps)`, with a finite gradient at 0. */
function l2Normalize(x: Tensor, axis: number): Tensor {
  const squareSum = ops.sum(ops.square(x), axis, true);
  // rsqrt(max(s, eps^2)) equals min(rsqrt(s), 1/eps) but has no infinite intermediate.
  return ops.multiply(x, ops.rsqrt(ops.maximum(squareSum, EPSILON * EPSILON)));
}

/** Negative cosine similarity along `axis`: `-sum(l2Normalize(yTrue) * l2Normalize(yPred), axis)`. */
export function cosineSimilarity(yTrue: TensorLike, yPred: TensorLike, axis?: number | { axis?: number }): Tensor {
  const o = optionalArgs('cosine_similarity', { axis: -1 }, [axis]);
  const [t, p] = prepare('cosine_similarity', yTrue, yPred);
  normalizeAxis(o.axis, t.rank, 'cosine_similarity');
  normalizeAxis(o.axis, p.rank, 'cosine_similarity');
  const prod = ops.multiply(l2Normalize(t, o.axis), l2Normalize(p, o.axis));
  return ops.negative(ops.sum(prod, o.axis));
}

/** Huber loss: quadratic for |error| <= delta, linear beyond; averaged over the last axis. */
export function huber(yTrue: TensorLike, yPred: TensorLike, delta?: number | { delta?: number }): Tensor {
  const o = optionalArgs('huber', { delta: 1.0 }, [delta]);
  const [t, p] = prepare('huber', yTrue, yPred);
  const error = ops.subtract(p, t);
  const absError = ops.abs(error);
  const quadratic = ops.multiply(0.5, ops.square(error));
  const linear = ops.subtract(ops.multiply(o.delta, absError), 0.5 * o.delta * o.delta);
  return ops.mean(ops.where(ops.lessEqual(absError, o.delta), quadratic, linear), -1);
}

/** `mean(log(cosh(yPred - yTrue)), -1)`, computed as `x + softplus(-2x) - log(2)` to stay finite. */
export function logCosh(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('log_cosh', yTrue, yPred);
  const x = ops.subtract(p, t);
  return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(x, -2))), Math.LN2), -1);
}

// ================================================================== hinge

/** Labels that are all 0/1 become -1/1 (Keras' `convert_binary_labels_to_hinge`), decided in ops. */
function binaryToHinge(t: Tensor): Tensor {
  const isBinary = ops.all(ops.logicalOr(ops.equal(t, 0), ops.equal(t, 1)));
  return ops.where(isBinary, ops.subtract(ops.multiply(2, t), 1), t);
}

/** `mean(maximum(1 - yTrue * yPred, 0), -1)`; 0/1 labels are converted to -1/1. */
export function hinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('hinge', yTrue, yPred);
  return ops.mean(ops.maximum(ops.subtract(1, ops.multiply(binaryToHinge(t), p)), 0), -1);
}

/** `mean(square(maximum(1 - yTrue * yPred, 0)), -1)`; 0/1 labels are converted to -1/1. */
export function squaredHinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('squared_hinge', yTrue, yPred);
  return ops.mean(ops.square(ops.maximum(ops.subtract(1, ops.multiply(binaryToHinge(t), p)), 0)), -1);
}

/** `maximum(max((1 - yTrue) * yPred, -1) - sum(yTrue * yPred, -1) + 1, 0)`. */
export function categoricalHinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('categorical_hinge', yTrue, yPred);
  const pos = ops.sum(ops.multiply(t, p), -1);
  const neg = ops.max(ops.multiply(ops.subtract(1, t), p), -1);
  return ops.maximum(ops.add(ops.subtract(neg, pos), 1), 0);
}

// ================================================================== probabilistic

/** Kullback-Leibler divergence `sum(yTrue * log(yTrue / yPred), -1)`, both clipped to [eps, 1]. */
export function klDivergence(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t0, p0] = prepare('kl_divergence', yTrue, yPred);
  const t = ops.clip(t0, EPSILON, 1);
  const p = ops.clip(p0, EPSILON, 1);
  return ops.sum(ops.multiply(t, ops.log(ops.divide(t, p))), -1);
}

/** Poisson loss `mean(yPred - yTrue * log(yPred + eps), -1)`. */
export function poisson(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = prepare('poisson', yTrue, yPred);
  return ops.mean(ops.subtract(p, ops.multiply(t, ops.log(ops.add(p, EPSILON)))), -1);
}

type BCEOptions = { fromLogits?: boolean; labelSmoothing?: number; axis?: number };

/**
 * Binary crossentropy averaged over `axis`. Labels are smoothed towards 0.5:
 * `yTrue * (1 - labelSmoothing) + 0.5 * labelSmoothing`.
 */
export function binaryCrossentropy(yTrue: TensorLike, yPred: TensorLike, fromLogits?: boolean | BCEOptions, labelSmoothing?: number, axis?: number): Tensor {
  const o = optionalArgs('binary_crossentropy', { fromLogits: false, labelSmoothing: 0, axis: -1 }, [fromLogits, labelSmoothing, axis]);
  let [t, p] = prepare('binary_crossentropy', yTrue, yPred);
  checkSameShape('binary_crossentropy', t, p);
  if (o.labelSmoothing) t = ops.add(ops.multiply(t, 1 - o.labelSmoothing), 0.5 * o.labelSmoothing);
  return ops.mean(ops.binaryCrossentropy(t, p, o.fromLogits), o.axis);
}

type BFCEOptions = { applyClassBalancing?: boolean; alpha?: number; gamma?: number; fromLogits?: boolean; labelSmoothing?: number; axis?: number };

/**
 * Binary focal crossentropy (Lin et al. 2018): `(1 - p_t)^gamma * bce`, optionally weighted by
 * `alpha` for positives and `1 - alpha` for negatives; averaged over `axis`.
 */
export function binaryFocalCrossentropy(
  yTrue: TensorLike,
  yPred: TensorLike,
  applyClassBalancing?: boolean | BFCEOptions,
  alpha?: number,
  gamma?: number,
  fromLogits?: boolean,
  labelSmoothing?: number,
  axis?: number,
): Tensor {
  const o = optionalArgs('binary_focal_crossentropy', { applyClassBalancing: false, alpha: 0.25, gamma: 2.0, fromLogits: false, labelSmoothing: 0, axis: -1 }, [applyClassBalancing, alpha, gamma, fromLogits, labelSmoothing, axis]);
  let [t, p] = prepare('binary_focal_crossentropy', yTrue, yPred);
  checkSameShape('binary_focal_crossentropy', t, p);
  if (o.labelSmoothing) t = ops.add(ops.multiply(t, 1 - o.labelSmoothing), 0.5 * o.labelSmoothing);
  if (o.fromLogits) p = ops.sigmoid(p);
  const bce = ops.binaryCrossentropy(t, p, false);
  const pT = ops.add(ops.multiply(t, p), ops.multiply(ops.subtract(1, t), ops.subtract(1, p)));
  let focal = ops.multiply(ops.power(ops.subtract(1, pT), o.gamma), bce);
  if (o.applyClassBalancing) {
    const weight = ops.add(ops.multiply(t, o.alpha), ops.multiply(ops.subtract(1, t), 1 - o.alpha));
    focal = ops.multiply(weight, focal);
  }
  return ops.mean(focal, o.axis);
}

type CCEOptions = { fromLogits?: boolean; labelSmoothing?: number; axis?: number };

/**
 * Categorical crossentropy of one-hot (or soft) labels along `axis`. Label smoothing mixes
 * the labels with the uniform distribution: `yTrue * (1 - ls) + ls / numClasses`.
 */
export function categoricalCrossentropy(yTrue: TensorLike, yPred: TensorLike, fromLogits?: boolean | CCEOptions, labelSmoothing?: number, axis?: number): Tensor {
  const o = optionalArgs('categorical_crossentropy', { fromLogits: false, labelSmoothing: 0, axis: -1 }, [fromLogits, labelSmoothing, axis]);
  if (typeof o.axis !== 'number') throw new ValueError(`categorical_crossentropy: axis must be an integer, received ${JSON.stringify(o.axis)}`);
  let [t, p] = prepare('categorical_crossentropy', yTrue, yPred, false);
  checkSameShape('categorical_crossentropy', t, p);
  if (o.labelSmoothing) {
    const a = normalizeAxis(o.axis, t.rank, 'categorical_crossentropy');
    const n = t.shape[a];
    const numClasses = n === null ? ops.sum(ops.onesLike(t), a, true) : n;
    t = ops.add(ops.multiply(t, 1 - o.labelSmoothing), ops.divide(o.labelSmoothing, numClasses));
  }
  return ops.categoricalCrossentropy(t, p, o.fromLogits, o.axis);
}

type CFCEOptions = { alpha?: number; gamma?: number; fromLogits?: boolean; labelSmoothing?: number; axis?: number };

/**
 * Categorical focal crossentropy: `sum(alpha * (1 - p)^gamma * -yTrue * log(p), axis)` with
 * p the renormalized, clipped probabilities (softmax of logits with fromLogits).
 */
export function categoricalFocalCrossentropy(
  yTrue: TensorLike,
  yPred: TensorLike,
  alpha?: number | CFCEOptions,
  gamma?: number,
  fromLogits?: boolean,
  labelSmoothing?: number,
  axis?: number,
): Tensor {
  const o = optionalArgs('categorical_focal_crossentropy', { alpha: 0.25, gamma: 2.0, fromLogits: false, labelSmoothing: 0, axis: -1 }, [alpha, gamma, fromLogits, labelSmoothing, axis]);
  let [t, p] = prepare('categorical_focal_crossentropy', yTrue, yPred, false);
  checkSameShape('categorical_focal_crossentropy', t, p);
  const a = normalizeAxis(o.axis, p.rank, 'categorical_focal_crossentropy');
  if (o.labelSmoothing) {
    const n = t.shape[a];
    t = ops.add(ops.multiply(t, 1 - o.labelSmoothing), ops.divide(o.labelSmoothing, n === null ? ops.sum(ops.onesLike(t), a, true) : n));
  }
  if (o.fromLogits) p = ops.softmax(p, a);
  const output = ops.clip(ops.divide(p, ops.sum(p, a, true)), EPSILON, 1 - EPSILON);
  const cce = ops.multiply(ops.negative(t), ops.log(output));
  const weighting = ops.multiply(ops.power(ops.subtract(1, output), o.gamma), o.alpha);
  return ops.sum(ops.multiply(weighting, cce), a);
}

type SCCEOptions = { fromLogits?: boolean; ignoreClass?: number | null; axis?: number };

/**
 * Crossentropy of integer labels against class scores along `axis`. Labels equal to
 * `ignoreClass` contribute 0 and are masked out of the average (as Keras' `_keras_mask`).
 */
export function sparseCategoricalCrossentropy(yTrue: TensorLike, yPred: TensorLike, fromLogits?: boolean | SCCEOptions, ignoreClass?: number | null, axis?: number): Tensor {
  const o = optionalArgs('sparse_categorical_crossentropy', { fromLogits: false, ignoreClass: null as number | null, axis: -1 }, [fromLogits, ignoreClass, axis]);
  let p = ops.convertToTensor(yPred, null, 'sparse_categorical_crossentropy');
  if (!isFloat(p.dtype)) p = ops.cast(p, FLOATX);
  let t = ops.convertToTensor(yTrue, null, 'sparse_categorical_crossentropy');
  if (t.rank === p.rank && t.shape[t.rank - 1] === 1) t = ops.squeeze(t, -1);
  const a = normalizeAxis(o.axis, p.rank, 'sparse_categorical_crossentropy');
  const expected = p.shape.filter((_, i) => i !== a);
  const ok = t.rank === expected.length && t.shape.every((d, i) => d === null || expected[i] === null || d === expected[i]);
  if (!ok) {
    throw new ShapeError(`sparse_categorical_crossentropy: y_true must have the shape of y_pred without its class axis ${o.axis}, i.e. ${fmtShape(expected)} (or with a trailing 1); received y_true.shape=${fmtShape(t.shape)}, y_pred.shape=${fmtShape(p.shape)}`);
  }
  t = ops.cast(t, 'int32');
  if (o.ignoreClass === null || o.ignoreClass === undefined) return ops.sparseCategoricalCrossentropy(t, p, o.fromLogits, o.axis);
  const valid = ops.notEqual(t, o.ignoreClass);
  // Ignored entries use class 0 (any valid index) and are zeroed and masked afterwards.
  const safe = ops.where(valid, t, 0);
  const res = ops.where(valid, ops.sparseCategoricalCrossentropy(safe, p, o.fromLogits, o.axis), 0);
  return setKerasMask(res, valid);
}

// ================================================================== classes

/** Options for losses without arguments of their own. */
type Base = LossOptions;

function lossArgs<T extends Record<string, unknown>>(who: string, own: T, name: string, args: readonly unknown[]): T & { reduction: Reduction; name: string; dtype: DType | undefined } {
  return optionalArgs(who, { ...own, reduction: 'sum_over_batch_size' as Reduction, name, dtype: undefined as DType | undefined }, args);
}

/** A loss class over one of the function forms; `ownKeys` are the function's options. */
function split<T extends Record<string, unknown>>(all: T & { reduction: Reduction; name: string; dtype: DType | undefined }, ownKeys: string[]) {
  const fnOptions: Record<string, unknown> = {};
  for (const k of ownKeys) fnOptions[k] = all[k];
  return { fnOptions, reduction: all.reduction, name: all.name, dtype: all.dtype };
}

/** `mean(square(yTrue - yPred))`. Arguments: reduction, name, dtype. */
export class MeanSquaredError extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(meanSquaredError, split(lossArgs('MeanSquaredError', {}, 'mean_squared_error', [reduction, name, dtype]), []));
  }
}

/** `mean(abs(yTrue - yPred))`. */
export class MeanAbsoluteError extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(meanAbsoluteError, split(lossArgs('MeanAbsoluteError', {}, 'mean_absolute_error', [reduction, name, dtype]), []));
  }
}

/** `100 * mean(abs((yTrue - yPred) / yTrue))`. */
export class MeanAbsolutePercentageError extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(meanAbsolutePercentageError, split(lossArgs('MeanAbsolutePercentageError', {}, 'mean_absolute_percentage_error', [reduction, name, dtype]), []));
  }
}

/** `mean(square(log(yTrue + 1) - log(yPred + 1)))`. */
export class MeanSquaredLogarithmicError extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(meanSquaredLogarithmicError, split(lossArgs('MeanSquaredLogarithmicError', {}, 'mean_squared_logarithmic_error', [reduction, name, dtype]), []));
  }
}

/** Negative cosine similarity along `axis` (default -1). */
export class CosineSimilarity extends LossFunctionWrapper {
  constructor(axis?: number | (Base & { axis?: number }), reduction?: Reduction, name?: string, dtype?: DType) {
    super(cosineSimilarity, split(lossArgs('CosineSimilarity', { axis: -1 }, 'cosine_similarity', [axis, reduction, name, dtype]), ['axis']));
  }
}

/** Huber loss with threshold `delta` (default 1). */
export class Huber extends LossFunctionWrapper {
  constructor(delta?: number | (Base & { delta?: number }), reduction?: Reduction, name?: string, dtype?: DType) {
    super(huber, split(lossArgs('Huber', { delta: 1.0 }, 'huber_loss', [delta, reduction, name, dtype]), ['delta']));
  }
}

/** `mean(log(cosh(yPred - yTrue)))`. */
export class LogCosh extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(logCosh, split(lossArgs('LogCosh', {}, 'log_cosh', [reduction, name, dtype]), []));
  }
}

/** `maximum(1 - yTrue * yPred, 0)`, labels -1/1 (0/1 converted). */
export class Hinge extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(hinge, split(lossArgs('Hinge', {}, 'hinge', [reduction, name, dtype]), []));
  }
}

/** `square(maximum(1 - yTrue * yPred, 0))`. */
export class SquaredHinge extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(squaredHinge, split(lossArgs('SquaredHinge', {}, 'squared_hinge', [reduction, name, dtype]), []));
  }
}

/** `maximum(neg - pos + 1, 0)` over one-hot labels. */
export class CategoricalHinge extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(categoricalHinge, split(lossArgs('CategoricalHinge', {}, 'categorical_hinge', [reduction, name, dtype]), []));
  }
}

/** `yTrue * log(yTrue / yPred)`. */
export class KLDivergence extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(klDivergence, split(lossArgs('KLDivergence', {}, 'kl_divergence', [reduction, name, dtype]), []));
  }
}

/** `yPred - yTrue * log(yPred)`. */
export class Poisson extends LossFunctionWrapper {
  constructor(reduction?: Reduction | Base, name?: string, dtype?: DType) {
    super(poisson, split(lossArgs('Poisson', {}, 'poisson', [reduction, name, dtype]), []));
  }
}

/** Binary crossentropy. Arguments: fromLogits, labelSmoothing, axis, reduction, name, dtype. */
export class BinaryCrossentropy extends LossFunctionWrapper {
  constructor(fromLogits?: boolean | (Base & BCEOptions), labelSmoothing?: number, axis?: number, reduction?: Reduction, name?: string, dtype?: DType) {
    super(binaryCrossentropy, split(lossArgs('BinaryCrossentropy', { fromLogits: false, labelSmoothing: 0, axis: -1 }, 'binary_crossentropy', [fromLogits, labelSmoothing, axis, reduction, name, dtype]), ['fromLogits', 'labelSmoothing', 'axis']));
  }
}

/** Binary focal crossentropy. Arguments: applyClassBalancing, alpha, gamma, fromLogits, labelSmoothing, axis, reduction, name, dtype. */
export class BinaryFocalCrossentropy extends LossFunctionWrapper {
  constructor(applyClassBalancing?: boolean | (Base & BFCEOptions), alpha?: number, gamma?: number, fromLogits?: boolean, labelSmoothing?: number, axis?: number, reduction?: Reduction, name?: string, dtype?: DType) {
    const all = lossArgs('BinaryFocalCrossentropy', { applyClassBalancing: false, alpha: 0.25, gamma: 2.0, fromLogits: false, labelSmoothing: 0, axis: -1 }, 'binary_focal_crossentropy', [applyClassBalancing, alpha, gamma, fromLogits, labelSmoothing, axis, reduction, name, dtype]);
    super(binaryFocalCrossentropy, split(all, ['applyClassBalancing', 'alpha', 'gamma', 'fromLogits', 'labelSmoothing', 'axis']));
  }
}

/** Categorical crossentropy. Arguments: fromLogits, labelSmoothing, axis, reduction, name, dtype. */
export class CategoricalCrossentropy extends LossFunctionWrapper {
  constructor(fromLogits?: boolean | (Base & CCEOptions), labelSmoothing?: number, axis?: number, reduction?: Reduction, name?: string, dtype?: DType) {
    super(categoricalCrossentropy, split(lossArgs('CategoricalCrossentropy', { fromLogits: false, labelSmoothing: 0, axis: -1 }, 'categorical_crossentropy', [fromLogits, labelSmoothing, axis, reduction, name, dtype]), ['fromLogits', 'labelSmoothing', 'axis']));
  }
}

/** Categorical focal crossentropy. Arguments: alpha, gamma, fromLogits, labelSmoothing, axis, reduction, name, dtype. */
export class CategoricalFocalCrossentropy extends LossFunctionWrapper {
  constructor(alpha?: number | (Base & CFCEOptions), gamma?: number, fromLogits?: boolean, labelSmoothing?: number, axis?: number, reduction?: Reduction, name?: string, dtype?: DType) {
    const all = lossArgs('CategoricalFocalCrossentropy', { alpha: 0.25, gamma: 2.0, fromLogits: false, labelSmoothing: 0, axis: -1 }, 'categorical_focal_crossentropy', [alpha, gamma, fromLogits, labelSmoothing, axis, reduction, name, dtype]);
    super(categoricalFocalCrossentropy, split(all, ['alpha', 'gamma', 'fromLogits', 'labelSmoothing', 'axis']));
  }
}

/** Sparse categorical crossentropy. Arguments: fromLogits, ignoreClass, reduction, axis, name, dtype (Keras order). */
export class SparseCategoricalCrossentropy extends LossFunctionWrapper {
  constructor(fromLogits?: boolean | (Base & SCCEOptions), ignoreClass?: number | null, reduction?: Reduction, axis?: number, name?: string, dtype?: DType) {
    const all = optionalArgs('SparseCategoricalCrossentropy', { fromLogits: false, ignoreClass: null as number | null, reduction: 'sum_over_batch_size' as Reduction, axis: -1, name: 'sparse_categorical_crossentropy', dtype: undefined as DType | undefined }, [fromLogits, ignoreClass, reduction, axis, name, dtype]);
    super(sparseCategoricalCrossentropy, split(all, ['fromLogits', 'ignoreClass', 'axis']));
  }
}
