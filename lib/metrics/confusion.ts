/**
 * Confusion-matrix metrics (keras/src/metrics/confusion_metrics.py): TruePositives & co.,
 * Precision, Recall and AUC, all accumulating per-threshold counts in variables.
 */
import type { DType } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import { EPSILON } from '../losses/losses.js';
import { divideNoNan, squeezeOrExpandToSameRank } from '../losses/loss.js';
import { Metric, type MetricOptions } from './metric.js';
import { optionalArgs } from '../utils/args.js';

/** Keras' NEG_INF: the threshold used with `topK`, below any kept prediction. */
export const NEG_INF = -1e10;

/** Which confusion-matrix counts to accumulate. */
export interface ConfusionVariables {
  tp?: Variable;
  fp?: Variable;
  tn?: Variable;
  fn?: Variable;
}

function checkThresholds(who: string, thresholds: number[]): void {
  const bad = thresholds.filter((t) => typeof t !== 'number' || !(t >= 0 && t <= 1));
  if (bad.length) throw new ValueError(`${who}: threshold values must be in [0, 1]. Received: ${JSON.stringify(bad)}`);
}

/** Keras' `parse_init_thresholds`: a list of thresholds, `defaultThreshold` when none given. */
export function parseThresholds(who: string, thresholds: number | number[] | null | undefined, defaultThreshold = 0.5): number[] {
  if (thresholds === null || thresholds === undefined) return [defaultThreshold];
  const list = Array.isArray(thresholds) ? [...thresholds] : [thresholds];
  checkThresholds(who, list);
  return list;
}

/** Keras' `is_evenly_distributed_thresholds`: i/(n-1) for n >= 3 thresholds, within epsilon. */
export function isEvenlyDistributed(thresholds: readonly number[]): boolean {
  const n = thresholds.length;
  if (n < 3) return false;
  return thresholds.every((t, i) => Math.abs(t - i / (n - 1)) <= EPSILON + 1e-5 * Math.abs(i / (n - 1)));
}

/** Keeps the top `k` values of the last axis and sets the others to NEG_INF (Keras' `_filter_top_k`). */
function filterTopK(x: Tensor, k: number): Tensor {
  const [, idx] = ops.topK(x, k);
  const classes = x.shape[x.rank - 1];
  if (classes === null) throw new ShapeError(`topK: the class axis of y_pred ${fmtShape(x.shape)} must be known`);
  const mask = ops.sum(ops.oneHot(idx, classes, -1, x.dtype), -2);
  return ops.add(ops.multiply(x, mask), ops.multiply(NEG_INF, ops.subtract(1, mask)));
}

/** `x[..., classId, None]` written as a masked sum so unknown leading dims are fine. */
function pickClass(x: Tensor, classId: number): Tensor {
  const classes = x.shape[x.rank - 1];
  if (classes === null) throw new ShapeError(`classId: the class axis of y_pred ${fmtShape(x.shape)} must be known`);
  if (classId < 0 || classId >= classes) throw new ValueError(`classId ${classId} is out of range for predictions with ${classes} classes`);
  const oneHot = ops.oneHot(ops.convertToTensor(classId, 'int32'), classes, -1, x.dtype);
  return ops.sum(ops.multiply(x, oneHot), -1, true);
}

/**
 * Keras' `update_confusion_matrix_variables`: for each threshold t, a prediction is positive
 * when `yPred > t`; adds the (weighted) counts of true/false positives/negatives to `vars`.
 * With `multiLabel` the counts keep a label axis: shape (thresholds, labels).
 */
export function updateConfusionMatrixVariables(
  who: string,
  vars: ConfusionVariables,
  yTrue: TensorLike,
  yPred: TensorLike,
  thresholds: readonly number[],
  options: { topK?: number | null; classId?: number | null; sampleWeight?: TensorLike | null; multiLabel?: boolean; labelWeights?: Tensor | null; evenlyDistributed?: boolean } = {},
): void {
  const some = vars.tp ?? vars.fp ?? vars.tn ?? vars.fn;
  if (!some) throw new ValueError(`${who}: no confusion matrix variable to update`);
  const dtype = some.dtype;
  let t = ops.cast(yTrue, dtype);
  let p = ops.cast(yPred, dtype);
  [p, t] = squeezeOrExpandToSameRank(p, t);
  if (t.rank !== p.rank || t.shape.some((d, i) => d !== null && p.shape[i] !== null && d !== p.shape[i])) {
    throw new ShapeError(`${who}: y_true and y_pred must have the same shape, received y_true.shape=${fmtShape(t.shape)}, y_pred.shape=${fmtShape(p.shape)}`);
  }
  let sw: Tensor | null = null;
  if (options.sampleWeight !== null && options.sampleWeight !== undefined) {
    sw = ops.expandDims(ops.cast(options.sampleWeight, dtype), -1);
    [, sw] = squeezeOrExpandToSameRank(t, sw, false);
  }
  if (options.topK) p = filterTopK(p, options.topK);
  if (options.classId !== null && options.classId !== undefined) {
    if (p.rank === 1) throw new ValueError(`${who}: when classId is provided, y_pred must be a 2D array with shape (num_samples, num_classes), found shape: ${fmtShape(p.shape)}`);
    t = pickClass(t, options.classId);
    p = pickClass(p, options.classId);
  }
  // Keras' evenly-spaced fast path clips predictions to [0, 1]; clipping keeps its results.
  if (options.evenlyDistributed) p = ops.clip(p, 0, 1);
  const multi = options.multiLabel ?? false;
  const T = thresholds.length;
  let weights: Tensor | null = sw ? ops.add(sw, ops.zerosLike(p)) : null;
  if (options.labelWeights && !multi) {
    const lw = ops.add(options.labelWeights, ops.zerosLike(p));
    weights = weights ? ops.multiply(weights, lw) : lw;
  }
  const thr = ops.convertToTensor(dtype === 'float64' ? Float64Array.from(thresholds) : Float32Array.from(thresholds));
  let preds: Tensor;
  let labels: Tensor;
  let w: Tensor | null;
  let thrShaped: Tensor;
  if (multi) {
    // (1, N, L) against (T, 1, 1): counts keep the label axis.
    preds = ops.expandDims(p, 0);
    labels = ops.expandDims(ops.cast(t, 'bool'), 0);
    w = weights ? ops.expandDims(weights, 0) : null;
    thrShaped = ops.reshape(thr, [T, 1, 1]);
  } else {
    preds = ops.reshape(p, [1, -1]);
    labels = ops.reshape(ops.cast(t, 'bool'), [1, -1]);
    w = weights ? ops.reshape(weights, [1, -1]) : null;
    thrShaped = ops.reshape(thr, [T, 1]);
  }
  const predIsPos = ops.greater(preds, thrShaped);
  const predIsNeg = ops.logicalNot(predIsPos);
  const labelIsNeg = ops.logicalNot(labels);
  const add = (v: Variable | undefined, label: Tensor, pred: Tensor) => {
    if (!v) return;
    let hits = ops.cast(ops.logicalAnd(label, pred), dtype);
    if (w) hits = ops.multiply(hits, w);
    v.assign(ops.add(v.value, ops.sum(hits, 1)));
  };
  add(vars.tp, labels, predIsPos);
  add(vars.fn, labels, predIsNeg);
  add(vars.fp, labelIsNeg, predIsPos);
  add(vars.tn, labelIsNeg, predIsNeg);
}

/** The first element of a shape-(1,) tensor, as a scalar. */
const first = (x: Tensor): Tensor => ops.reshape(x, []);

type CountOptions = MetricOptions & { thresholds?: number | number[] | null };

abstract class ConfusionCount extends Metric {
  readonly thresholds: number[];
  readonly initThresholds: number | number[] | null;
  readonly accumulator: Variable;
  private readonly evenly: boolean;
  protected abstract readonly which: keyof ConfusionVariables;

  constructor(who: string, args: readonly unknown[]) {
    const o = optionalArgs(who, { thresholds: null as number | number[] | null, name: undefined as string | undefined, dtype: undefined as DType | undefined }, args);
    super({ name: o.name, dtype: o.dtype });
    this.initThresholds = o.thresholds;
    this.thresholds = parseThresholds(who, o.thresholds, 0.5);
    this.evenly = isEvenlyDistributed(this.thresholds);
    this.accumulator = this.addVariable([this.thresholds.length], 'accumulator');
  }

  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    updateConfusionMatrixVariables(this.name, { [this.which]: this.accumulator }, yTrue, yPred!, this.thresholds, { sampleWeight, evenlyDistributed: this.evenly });
  }

  /** The count (one per threshold, a scalar for a single threshold). */
  result(): Tensor {
    const v = this.accumulator.value;
    return this.thresholds.length === 1 ? first(v) : ops.convertToTensor(v);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), thresholds: this.initThresholds };
  }
}

/** Weighted count of true positives per threshold. Arguments: thresholds (0.5), name, dtype. */
export class TruePositives extends ConfusionCount {
  protected readonly which = 'tp' as const;
  constructor(thresholds?: number | number[] | null | CountOptions, name?: string, dtype?: DType) {
    super('TruePositives', [thresholds, name, dtype]);
  }
}

/** Weighted count of false positives per threshold. */
export class FalsePositives extends ConfusionCount {
  protected readonly which = 'fp' as const;
  constructor(thresholds?: number | number[] | null | CountOptions, name?: string, dtype?: DType) {
    super('FalsePositives', [thresholds, name, dtype]);
  }
}

/** Weighted count of true negatives per threshold. */
export class TrueNegatives extends ConfusionCount {
  protected readonly which = 'tn' as const;
  constructor(thresholds?: number | number[] | null | CountOptions, name?: string, dtype?: DType) {
    super('TrueNegatives', [thresholds, name, dtype]);
  }
}

/** Weighted count of false negatives per threshold. */
export class FalseNegatives extends ConfusionCount {
  protected readonly which = 'fn' as const;
  constructor(thresholds?: number | number[] | null | CountOptions, name?: string, dtype?: DType) {
    super('FalseNegatives', [thresholds, name, dtype]);
  }
}

type PROptions = MetricOptions & { thresholds?: number | number[] | null; topK?: number | null; classId?: number | null };

abstract class PrecisionRecall extends Metric {
  readonly thresholds: number[];
  readonly initThresholds: number | number[] | null;
  readonly topK: number | null;
  readonly classId: number | null;
  readonly truePositives: Variable;
  protected readonly other: Variable;
  private readonly evenly: boolean;

  constructor(who: string, otherName: string, args: readonly unknown[]) {
    const o = optionalArgs(who, { thresholds: null as number | number[] | null, topK: null as number | null, classId: null as number | null, name: undefined as string | undefined, dtype: undefined as DType | undefined }, args);
    super({ name: o.name, dtype: o.dtype });
    this.initThresholds = o.thresholds;
    this.topK = o.topK;
    this.classId = o.classId;
    this.thresholds = parseThresholds(who, o.thresholds, o.topK === null || o.topK === undefined ? 0.5 : NEG_INF);
    this.evenly = isEvenlyDistributed(this.thresholds);
    this.truePositives = this.addVariable([this.thresholds.length], 'true_positives');
    this.other = this.addVariable([this.thresholds.length], otherName);
  }

  protected abstract otherKey: 'fp' | 'fn';

  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    updateConfusionMatrixVariables(this.name, { tp: this.truePositives, [this.otherKey]: this.other }, yTrue, yPred!, this.thresholds, {
      topK: this.topK,
      classId: this.classId,
      sampleWeight,
      evenlyDistributed: this.evenly,
    });
  }

  /** `tp / (tp + other)` (0 when empty), one per threshold or a scalar for one threshold. */
  result(): Tensor {
    const tp = this.truePositives.value;
    const r = divideNoNan(tp, ops.add(tp, this.other.value));
    return this.thresholds.length === 1 ? first(r) : r;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), thresholds: this.initThresholds, top_k: this.topK, class_id: this.classId };
  }
}

/** `tp / (tp + fp)`. Arguments: thresholds (0.5), topK, classId, name, dtype. */
export class Precision extends PrecisionRecall {
  protected otherKey = 'fp' as const;
  constructor(thresholds?: number | number[] | null | PROptions, topK?: number | null, classId?: number | null, name?: string, dtype?: DType) {
    super('Precision', 'false_positives', [thresholds, topK, classId, name, dtype]);
  }
  /** The false-positive counts. */
  get falsePositives(): Variable {
    return this.other;
  }
}

/** `tp / (tp + fn)`. Arguments: thresholds (0.5), topK, classId, name, dtype. */
export class Recall extends PrecisionRecall {
  protected otherKey = 'fn' as const;
  constructor(thresholds?: number | number[] | null | PROptions, topK?: number | null, classId?: number | null, name?: string, dtype?: DType) {
    super('Recall', 'false_negatives', [thresholds, topK, classId, name, dtype]);
  }
  /** The false-negative counts. */
  get falseNegatives(): Variable {
    return this.other;
  }
}

type AUCOptions = MetricOptions & {
  numThresholds?: number;
  curve?: 'ROC' | 'PR' | 'roc' | 'pr';
  summationMethod?: 'interpolation' | 'minoring' | 'majoring';
  thresholds?: number[] | null;
  multiLabel?: boolean;
  numLabels?: number | null;
  labelWeights?: number[] | null;
  fromLogits?: boolean;
};

/**
 * Area under the ROC or PR curve, approximated by a Riemann sum over `numThresholds`
 * thresholds (default 200) with Keras' summation methods ('interpolation' default:
 * trapezoids for ROC, Davis & Goadrich interpolation for PR; 'minoring'; 'majoring').
 * Arguments (Keras order): numThresholds, curve, summationMethod, name, dtype, thresholds,
 * multiLabel, numLabels, labelWeights, fromLogits.
 */
export class AUC extends Metric {
  readonly numThresholds: number;
  readonly curve: 'ROC' | 'PR';
  readonly summationMethod: 'interpolation' | 'minoring' | 'majoring';
  readonly multiLabel: boolean;
  readonly numLabels: number | null;
  readonly fromLogits: boolean;
  readonly labelWeights: Tensor | null;
  private readonly labelWeightsInit: number[] | null;
  private readonly initFromThresholds: boolean;
  private readonly evenly: boolean;
  private readonly thresholdList: number[];
  truePositives!: Variable;
  falsePositives!: Variable;
  trueNegatives!: Variable;
  falseNegatives!: Variable;
  private built = false;

  constructor(
    numThresholds?: number | AUCOptions,
    curve?: AUCOptions['curve'],
    summationMethod?: AUCOptions['summationMethod'],
    name?: string,
    dtype?: DType,
    thresholds?: number[] | null,
    multiLabel?: boolean,
    numLabels?: number | null,
    labelWeights?: number[] | null,
    fromLogits?: boolean,
  ) {
    const o = optionalArgs(
      'AUC',
      {
        numThresholds: 200,
        curve: 'ROC' as string,
        summationMethod: 'interpolation' as string,
        name: undefined as string | undefined,
        dtype: undefined as DType | undefined,
        thresholds: null as number[] | null,
        multiLabel: false,
        numLabels: null as number | null,
        labelWeights: null as number[] | null,
        fromLogits: false,
      },
      [numThresholds, curve, summationMethod, name, dtype, thresholds, multiLabel, numLabels, labelWeights, fromLogits],
    );
    super({ name: o.name, dtype: o.dtype });
    const c = String(o.curve).toUpperCase();
    if (c !== 'ROC' && c !== 'PR') throw new ValueError(`AUC: invalid curve value ${JSON.stringify(o.curve)}. Expected values are ["PR", "ROC"]`);
    const s = String(o.summationMethod).toLowerCase();
    if (s !== 'interpolation' && s !== 'minoring' && s !== 'majoring') {
      throw new ValueError(`AUC: invalid summation method value ${JSON.stringify(o.summationMethod)}. Expected values are ["interpolation", "majoring", "minoring"]`);
    }
    this.curve = c;
    this.summationMethod = s;
    let inner: number[];
    this.initFromThresholds = o.thresholds !== null && o.thresholds !== undefined;
    if (this.initFromThresholds) {
      inner = [...o.thresholds!].sort((a, b) => a - b);
      checkThresholds('AUC', inner);
      this.numThresholds = inner.length + 2;
      this.evenly = isEvenlyDistributed([0, ...inner, 1]);
    } else {
      if (!Number.isInteger(o.numThresholds) || o.numThresholds <= 1) throw new ValueError(`AUC: argument \`numThresholds\` must be an integer > 1. Received: numThresholds=${o.numThresholds}`);
      this.numThresholds = o.numThresholds;
      inner = Array.from({ length: o.numThresholds - 2 }, (_, i) => (i + 1) / (o.numThresholds - 1));
      this.evenly = true;
    }
    // End points just outside [0, 1] absorb floating point imprecision, as Keras.
    this.thresholdList = [0 - EPSILON, ...inner, 1 + EPSILON];
    this.multiLabel = o.multiLabel;
    this.numLabels = o.numLabels;
    this.fromLogits = o.fromLogits;
    this.labelWeightsInit = o.labelWeights;
    this.labelWeights = o.labelWeights ? ops.convertToTensor(o.labelWeights, this.dtype) : null;
    if (this.multiLabel) {
      if (o.numLabels) this.build([null, o.numLabels]);
    } else {
      if (o.numLabels) throw new ValueError('AUC: `numLabels` is needed only when `multiLabel` is true');
      this.build(null);
    }
  }

  /** The thresholds, end points included. */
  get thresholds(): number[] {
    return [...this.thresholdList];
  }

  private build(shape: readonly (number | null)[] | null): void {
    let varShape = [this.numThresholds];
    if (this.multiLabel) {
      if (!shape || shape.length !== 2) throw new ShapeError(`AUC: y_pred must have rank 2 when multiLabel is true; received shape ${shape ? fmtShape(shape) : 'None'}`);
      if (shape[1] === null) throw new ShapeError(`AUC: the label axis of y_pred ${fmtShape(shape)} must be known when multiLabel is true`);
      varShape = [this.numThresholds, shape[1]];
    }
    this.truePositives = this.addVariable(varShape, 'true_positives');
    this.falsePositives = this.addVariable(varShape, 'false_positives');
    this.trueNegatives = this.addVariable(varShape, 'true_negatives');
    this.falseNegatives = this.addVariable(varShape, 'false_negatives');
    this.built = true;
  }

  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    let p = ops.convertToTensor(yPred!, null, this.name);
    if (!this.built) this.build(p.shape);
    if (this.fromLogits) p = ops.sigmoid(p);
    updateConfusionMatrixVariables(this.name, { tp: this.truePositives, fp: this.falsePositives, tn: this.trueNegatives, fn: this.falseNegatives }, yTrue, p, this.thresholdList, {
      sampleWeight,
      multiLabel: this.multiLabel,
      labelWeights: this.multiLabel ? null : this.labelWeights,
      evenlyDistributed: this.evenly,
    });
  }

  /** `x[:n-1]` and `x[1:]` along the threshold axis. */
  private pairs(x: Tensor): [Tensor, Tensor] {
    const n = this.numThresholds - 1;
    const rest = x.shape.slice(1);
    return [ops.slice(x, x.shape.map(() => 0), [n, ...rest]), ops.slice(x, [1, ...rest.map(() => 0)], [n, ...rest])];
  }

  /** Averages per-label AUCs (multiLabel) or sums the terms. */
  private total(terms: Tensor): Tensor {
    if (!this.multiLabel) return ops.sum(terms);
    const byLabel = ops.sum(terms, 0);
    if (!this.labelWeights) return ops.mean(byLabel);
    return divideNoNan(ops.sum(ops.multiply(byLabel, this.labelWeights)), ops.sum(this.labelWeights));
  }

  /** Davis & Goadrich interpolation of the PR curve (Keras' `interpolate_pr_auc`). */
  private interpolatePrAuc(): Tensor {
    const tp = this.truePositives.value;
    const fp = this.falsePositives.value;
    const fn = this.falseNegatives.value;
    const [tpA, tpB] = this.pairs(tp);
    const dtp = ops.subtract(tpA, tpB);
    const p = ops.add(tp, fp);
    const [pA, pB] = this.pairs(p);
    const dp = ops.subtract(pA, pB);
    const precSlope = divideNoNan(dtp, ops.maximum(dp, 0));
    const intercept = ops.subtract(tpB, ops.multiply(precSlope, pB));
    const safePRatio = ops.where(ops.logicalAnd(ops.greater(pA, 0), ops.greater(pB, 0)), divideNoNan(pA, ops.maximum(pB, 0)), ops.onesLike(pB));
    const [, fnB] = this.pairs(fn);
    const increment = divideNoNan(ops.multiply(precSlope, ops.add(dtp, ops.multiply(intercept, ops.log(safePRatio)))), ops.maximum(ops.add(tpB, fnB), 0));
    return this.total(increment);
  }

  /** The area under the curve. */
  result(): Tensor {
    if (!this.built) return ops.convertToTensor(0, this.dtype);
    if (this.curve === 'PR' && this.summationMethod === 'interpolation') return this.interpolatePrAuc();
    const tp = this.truePositives.value;
    const fp = this.falsePositives.value;
    const tn = this.trueNegatives.value;
    const fn = this.falseNegatives.value;
    const recall = divideNoNan(tp, ops.add(tp, fn));
    let x: Tensor;
    let y: Tensor;
    if (this.curve === 'ROC') {
      x = divideNoNan(fp, ops.add(fp, tn));
      y = recall;
    } else {
      x = recall;
      y = divideNoNan(tp, ops.add(tp, fp));
    }
    const [yA, yB] = this.pairs(y);
    const heights = this.summationMethod === 'interpolation' ? ops.divide(ops.add(yA, yB), 2) : this.summationMethod === 'minoring' ? ops.minimum(yA, yB) : ops.maximum(yA, yB);
    const [xA, xB] = this.pairs(x);
    return this.total(ops.multiply(ops.subtract(xA, xB), heights));
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = {
      ...super.getConfig(),
      num_thresholds: this.numThresholds,
      curve: this.curve,
      summation_method: this.summationMethod,
      multi_label: this.multiLabel,
      num_labels: this.numLabels,
      label_weights: this.labelWeightsInit,
      from_logits: this.fromLogits,
    };
    if (this.initFromThresholds) config.thresholds = this.thresholdList.slice(1, -1);
    return config;
  }
}
