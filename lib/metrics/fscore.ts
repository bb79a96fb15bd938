/**
 * F-scores (keras/src/metrics/f_score_metrics.py): FBetaScore and F1Score over
 * (batch, classes) inputs, with None / 'micro' / 'macro' / 'weighted' averaging.
 */
import type { DType } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import { EPSILON } from '../losses/losses.js';
import { Metric, type MetricOptions } from './metric.js';
import { optionalArgs } from '../utils/args.js';

/** How per-class scores are combined. */
export type FScoreAverage = null | 'micro' | 'macro' | 'weighted';

type FBetaOptions = MetricOptions & { average?: FScoreAverage; beta?: number; threshold?: number | null };

/**
 * `(1 + b^2) * precision * recall / (b^2 * precision + recall)`. With `threshold` null the
 * row's argmax counts as the positive prediction. Arguments: average, beta, threshold, name, dtype.
 * State is created on the first update, from the number of classes.
 */
export class FBetaScore extends Metric {
  readonly average: FScoreAverage;
  readonly beta: number;
  readonly threshold: number | null;
  truePositives!: Variable;
  falsePositives!: Variable;
  falseNegatives!: Variable;
  intermediateWeights!: Variable;
  private built = false;
  private readonly axis: number | null;

  constructor(average?: FScoreAverage | FBetaOptions, beta?: number, threshold?: number | null, name?: string, dtype?: DType) {
    const o = optionalArgs('FBetaScore', { average: null as FScoreAverage, beta: 1.0, threshold: null as number | null, name: 'fbeta_score', dtype: undefined as DType | undefined }, [average, beta, threshold, name, dtype]);
    super({ name: o.name, dtype: o.dtype });
    if (![null, 'micro', 'macro', 'weighted'].includes(o.average)) {
      throw new ValueError(`${this.name}: invalid \`average\` argument value. Expected one of: null, 'micro', 'macro', 'weighted'. Received: average=${JSON.stringify(o.average)}`);
    }
    if (typeof o.beta !== 'number' || !(o.beta > 0)) throw new ValueError(`${this.name}: invalid \`beta\` argument value. It should be > 0. Received: beta=${o.beta}`);
    if (o.threshold !== null && (typeof o.threshold !== 'number' || !(o.threshold > 0 && o.threshold <= 1))) {
      throw new ValueError(`${this.name}: invalid \`threshold\` argument value. It should verify 0 < threshold <= 1. Received: threshold=${o.threshold}`);
    }
    this.average = o.average;
    this.beta = o.beta;
    this.threshold = o.threshold;
    this.axis = this.average === 'micro' ? null : 0;
  }

  private build(tShape: readonly (number | null)[], pShape: readonly (number | null)[]): void {
    if (pShape.length !== 2 || tShape.length !== 2) {
      throw new ShapeError(`${this.name}: expects 2D inputs with shape (batch_size, output_dim). Received input shapes: y_pred.shape=${fmtShape(pShape)} and y_true.shape=${fmtShape(tShape)}`);
    }
    const classes = pShape[1];
    if (classes === null || tShape[1] === null) throw new ShapeError(`${this.name}: output_dim must be known; received y_pred.shape=${fmtShape(pShape)} and y_true.shape=${fmtShape(tShape)}`);
    if (tShape[1] !== classes) throw new ShapeError(`${this.name}: y_true.shape=${fmtShape(tShape)} and y_pred.shape=${fmtShape(pShape)} must have the same number of classes`);
    const shape = this.average === 'micro' ? [] : [classes];
    this.truePositives = this.addVariable(shape, 'true_positives');
    this.falsePositives = this.addVariable(shape, 'false_positives');
    this.falseNegatives = this.addVariable(shape, 'false_negatives');
    this.intermediateWeights = this.addVariable(shape, 'intermediate_weights');
    this.built = true;
  }

  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    let t = ops.convertToTensor(yTrue, this.dtype, this.name);
    let p = ops.convertToTensor(yPred!, this.dtype, this.name);
    if (!this.built) this.build(t.shape, p.shape);
    let predicted: Tensor;
    if (this.threshold === null) {
      const rowMax = ops.max(p, -1, true);
      // |x| > eps instead of x != 0 so an all-zero row predicts nothing.
      predicted = ops.logicalAnd(ops.greaterEqual(p, rowMax), ops.greater(ops.abs(p), 1e-9));
    } else predicted = ops.greater(p, this.threshold);
    p = ops.cast(predicted, this.dtype);
    t = ops.cast(t, this.dtype);
    const sw = sampleWeight === null || sampleWeight === undefined ? null : ops.convertToTensor(sampleWeight, this.dtype);
    const weightedSum = (v: Tensor) => ops.sum(sw ? ops.multiply(v, ops.expandDims(sw, 1)) : v, this.axis);
    const add = (variable: Variable, delta: Tensor) => variable.assign(ops.add(variable.value, delta));
    add(this.truePositives, weightedSum(ops.multiply(p, t)));
    add(this.falsePositives, weightedSum(ops.multiply(p, ops.subtract(1, t))));
    add(this.falseNegatives, weightedSum(ops.multiply(ops.subtract(1, p), t)));
    add(this.intermediateWeights, weightedSum(t));
  }

  /** Per-class scores (average null), or their micro / macro / support-weighted average. */
  result(): Tensor {
    if (!this.built) return ops.convertToTensor(0, this.dtype);
    const tp = this.truePositives.value;
    const precision = ops.divide(tp, ops.add(ops.add(tp, this.falsePositives.value), EPSILON));
    const recall = ops.divide(tp, ops.add(ops.add(tp, this.falseNegatives.value), EPSILON));
    const b2 = this.beta * this.beta;
    const mean = ops.divide(ops.multiply(precision, recall), ops.add(ops.add(ops.multiply(b2, precision), recall), EPSILON));
    let f = ops.multiply(mean, 1 + b2);
    if (this.average === 'weighted') {
      const iw = this.intermediateWeights.value;
      f = ops.sum(ops.multiply(f, ops.divide(iw, ops.add(ops.sum(iw), EPSILON))));
    } else if (this.average !== null) f = ops.mean(f);
    return f;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), average: this.average, beta: this.beta, threshold: this.threshold };
  }
}

/** F-1 score: FBetaScore with beta 1. Arguments: average, threshold, name, dtype. */
export class F1Score extends FBetaScore {
  constructor(average?: FScoreAverage | (MetricOptions & { average?: FScoreAverage; threshold?: number | null }), threshold?: number | null, name?: string, dtype?: DType) {
    const o = optionalArgs('F1Score', { average: null as FScoreAverage, threshold: null as number | null, name: 'f1_score', dtype: undefined as DType | undefined }, [average, threshold, name, dtype]);
    super({ ...o, beta: 1.0 });
  }

  override getConfig(): Record<string, unknown> {
    const { beta, ...config } = super.getConfig();
    void beta;
    return config;
  }
}
