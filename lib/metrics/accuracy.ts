/**
 * Accuracy metrics (keras/src/metrics/accuracy_metrics.py): function forms returning
 * per-sample matches and MeanMetricWrapper classes averaging them.
 */
import { FLOATX, isFloat, type DType } from '../dtype.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import { squeezeOrExpandToSameRank } from '../losses/loss.js';
import type { MetricOptions } from './metric.js';
import { MeanMetricWrapper, type MetricFn } from './reduction.js';
import { optionalArgs } from '../utils/args.js';

const toDims = (shape: readonly (number | null)[]): number[] => shape.map((d) => (d === null ? -1 : d));

/** 1.0 where yTrue equals yPred, averaged over the last axis. */
export function accuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const p = ops.convertToTensor(yPred, null, 'accuracy');
  let t = ops.convertToTensor(yTrue, p.dtype, 'accuracy');
  let q = p;
  [t, q] = squeezeOrExpandToSameRank(t, q);
  return ops.mean(ops.cast(ops.equal(t, q), FLOATX), -1);
}

/** 1.0 where `yPred > threshold` equals the binary label, averaged over the last axis. */
export function binaryAccuracy(yTrue: TensorLike, yPred: TensorLike, threshold: number | { threshold?: number } = 0.5): Tensor {
  const o = optionalArgs('binary_accuracy', { threshold: 0.5 }, [threshold]);
  let t = ops.convertToTensor(yTrue, null, 'binary_accuracy');
  let p = ops.convertToTensor(yPred, null, 'binary_accuracy');
  [t, p] = squeezeOrExpandToSameRank(t, p);
  const predicted = ops.cast(ops.greater(p, o.threshold), t.dtype);
  return ops.mean(ops.cast(ops.equal(t, predicted), FLOATX), -1);
}

/** 1.0 where argmax(yPred) equals argmax(yTrue) (one-hot labels), per sample. */
export function categoricalAccuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const t = ops.argmax(yTrue, -1);
  const p = ops.argmax(yPred, -1);
  return ops.cast(ops.equal(t, p), FLOATX);
}

/** 1.0 where argmax(yPred) equals the integer label; a trailing 1 in yTrue is dropped. */
export function sparseCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const p = ops.convertToTensor(yPred, null, 'sparse_categorical_accuracy');
  let t = ops.convertToTensor(yTrue, null, 'sparse_categorical_accuracy');
  if (t.rank === p.rank && t.shape[t.rank - 1] === 1) t = ops.squeeze(t, -1);
  let predicted = ops.argmax(p, -1);
  if (predicted.dtype !== t.dtype) predicted = ops.cast(predicted, t.dtype);
  return ops.cast(ops.equal(t, predicted), FLOATX);
}

/**
 * Keras' `ops.in_top_k`: true where the prediction at `targets` ranks among the `k` largest
 * of its row (ties count in its favour; NaN predictions never do). Out-of-range targets give false.
 */
export function inTopK(targets: TensorLike, predictions: TensorLike, k: number): Tensor {
  const p = ops.convertToTensor(predictions, null, 'in_top_k');
  const t = ops.cast(targets, 'int32');
  const classes = p.shape[p.rank - 1];
  if (classes === null) throw new ValueError(`in_top_k: the class axis of predictions ${JSON.stringify(p.shape)} must be known`);
  const ids = ops.convertToTensor(Int32Array.from({ length: classes }, (_, i) => i));
  const isTarget = ops.equal(ops.expandDims(t, -1), ids);
  let atLabel = ops.max(ops.where(isTarget, p, -Infinity), -1, true);
  atLabel = ops.where(ops.isnan(atLabel), -Infinity, atLabel);
  const outranked = ops.sum(ops.cast(ops.greater(p, atLabel), 'int32'), -1);
  return ops.logicalAnd(ops.less(outranked, k), ops.any(isTarget, -1));
}

function topKMatches(who: string, labels: Tensor, yPred: TensorLike, k: number): Tensor {
  let p = ops.convertToTensor(yPred, null, who);
  if (!isFloat(p.dtype)) p = ops.cast(p, FLOATX);
  const shape = labels.shape;
  if (p.rank > 2) p = ops.reshape(p, [-1, p.shape[p.rank - 1]]);
  const flat = labels.rank > 1 ? ops.reshape(labels, [-1]) : labels;
  const matches = ops.cast(inTopK(flat, p, k), FLOATX);
  return labels.rank > 1 ? ops.reshape(matches, toDims(shape)) : matches;
}

/** 1.0 where the one-hot label's class is among the top `k` predictions (default 5). */
export function topKCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike, k: number | { k?: number } = 5): Tensor {
  const o = optionalArgs('top_k_categorical_accuracy', { k: 5 }, [k]);
  return topKMatches('top_k_categorical_accuracy', ops.argmax(yTrue, -1), yPred, o.k);
}

/** 1.0 where the integer label is among the top `k` predictions (default 5). */
export function sparseTopKCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike, k: number | { k?: number } = 5): Tensor {
  const o = optionalArgs('sparse_top_k_categorical_accuracy', { k: 5 }, [k]);
  return topKMatches('sparse_top_k_categorical_accuracy', ops.convertToTensor(yTrue, null, 'sparse_top_k_categorical_accuracy'), yPred, o.k);
}

/** How often predictions equal labels. */
export class Accuracy extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'accuracy', dtype?: DType) {
    const o = optionalArgs('Accuracy', { name: 'accuracy', dtype: undefined as DType | undefined }, [name, dtype]);
    super(accuracy, o);
  }
}

/** How often `yPred > threshold` matches binary labels. Arguments: name, dtype, threshold (Keras order). */
export class BinaryAccuracy extends MeanMetricWrapper {
  readonly threshold: number;

  constructor(name: string | (MetricOptions & { threshold?: number }) = 'binary_accuracy', dtype?: DType, threshold?: number) {
    const o = optionalArgs('BinaryAccuracy', { name: 'binary_accuracy', dtype: undefined as DType | undefined, threshold: 0.5 }, [name, dtype, threshold]);
    if (!(o.threshold > 0 && o.threshold < 1)) throw new ValueError(`BinaryAccuracy: invalid value for argument \`threshold\`. Expected a value in interval (0, 1). Received: threshold=${o.threshold}`);
    super(binaryAccuracy as MetricFn, o);
    this.threshold = o.threshold;
  }
}

/** How often argmax(yPred) matches one-hot labels. */
export class CategoricalAccuracy extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'categorical_accuracy', dtype?: DType) {
    super(categoricalAccuracy, optionalArgs('CategoricalAccuracy', { name: 'categorical_accuracy', dtype: undefined as DType | undefined }, [name, dtype]));
  }
}

/** How often argmax(yPred) matches integer labels. */
export class SparseCategoricalAccuracy extends MeanMetricWrapper {
  constructor(name: string | MetricOptions = 'sparse_categorical_accuracy', dtype?: DType) {
    super(sparseCategoricalAccuracy, optionalArgs('SparseCategoricalAccuracy', { name: 'sparse_categorical_accuracy', dtype: undefined as DType | undefined }, [name, dtype]));
  }
}

/** How often the one-hot target is in the top `k` predictions. Arguments: k (5), name, dtype. */
export class TopKCategoricalAccuracy extends MeanMetricWrapper {
  readonly k: number;

  constructor(k: number | (MetricOptions & { k?: number }) = 5, name?: string, dtype?: DType) {
    const o = optionalArgs('TopKCategoricalAccuracy', { k: 5, name: 'top_k_categorical_accuracy', dtype: undefined as DType | undefined }, [k, name, dtype]);
    super(topKCategoricalAccuracy as MetricFn, o);
    this.k = o.k;
  }
}

/** How often the integer target is in the top `k` predictions. Arguments: k (5), name, dtype. */
export class SparseTopKCategoricalAccuracy extends MeanMetricWrapper {
  readonly k: number;

  constructor(k: number | (MetricOptions & { k?: number }) = 5, name?: string, dtype?: DType) {
    const o = optionalArgs('SparseTopKCategoricalAccuracy', { k: 5, name: 'sparse_top_k_categorical_accuracy', dtype: undefined as DType | undefined }, [k, name, dtype]);
    super(sparseTopKCategoricalAccuracy as MetricFn, o);
    this.k = o.k;
  }
}
