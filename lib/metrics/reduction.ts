/**
 * Reduction metrics: Sum, Mean, and MeanMetricWrapper (the mean of a per-sample function),
 * following keras/src/metrics/reduction_metrics.py.
 */
import type { DType } from '../dtype.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import { applyMask, combineMasks, divideNoNan, getKerasMask, squeezeOrExpandToSameRank, toSnakeCase } from '../losses/loss.js';
import { Metric, assignAdd, requirePred, type MetricOptions } from './metric.js';
import { optionalArgs } from '../utils/args.js';

type ReduceFn = (x: Tensor, axis: number[]) => Tensor;

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/**
 * Keras' `reduce_to_samplewise_values`: weights the values, then reduces them (and the
 * weights) to one value per sample (axis 0).
 */
export function reduceToSamplewiseValues(values: TensorLike, sampleWeight: TensorLike | null | undefined, reduceFn: ReduceFn, dtype: DType): [Tensor, Tensor | null] {
  const raw = ops.convertToTensor(values);
  const mask = getKerasMask(raw);
  let v = ops.cast(raw, dtype);
  let sw: Tensor | null = null;
  if (sampleWeight !== null && sampleWeight !== undefined) {
    sw = ops.convertToTensor(sampleWeight, dtype);
    if (mask) sw = applyMask(sw, mask, dtype, 'sum')!;
    [v, sw] = squeezeOrExpandToSameRank(v, sw);
    const wRank = sw.rank;
    if (v.rank > wRank) v = reduceFn(v, range(wRank, v.rank));
    // Broadcasting the weights changes their sum (the count) as Keras does, not the product.
    sw = ops.add(sw, ops.zerosLike(v));
    v = ops.multiply(v, sw);
    if (wRank > 1) sw = reduceFn(sw, range(1, wRank));
  }
  if (v.rank > 1) v = reduceFn(v, range(1, v.rank));
  return [v, sw];
}

/** The (weighted) sum of the given values. */
export class Sum extends Metric {
  readonly total: Variable;

  constructor(name: string | MetricOptions = 'sum', dtype?: DType) {
    super(optionalArgs('Sum', { name: 'sum', dtype: undefined as DType | undefined }, [name, dtype]));
    this.total = this.addVariable([], 'total');
  }

  /** Adds `sum(values * sampleWeight)`. */
  updateState(values: TensorLike, sampleWeight?: TensorLike | null): void {
    const [v] = reduceToSamplewiseValues(values, sampleWeight, (x, axis) => ops.sum(x, axis), this.dtype);
    assignAdd(this.total, ops.sum(v));
  }

  result(): Tensor {
    return ops.cast(this.total.value, this.dtype);
  }
}

/** The (weighted) mean of the given values: `total / count`. */
export class Mean extends Metric {
  readonly total: Variable;
  readonly count: Variable;

  constructor(name: string | MetricOptions = 'mean', dtype?: DType) {
    super(optionalArgs('Mean', { name: 'mean', dtype: undefined as DType | undefined }, [name, dtype]));
    this.total = this.addVariable([], 'total');
    this.count = this.addVariable([], 'count');
  }

  /** Adds the weighted values to `total` and the weights (or the number of samples) to `count`. */
  updateState(values: TensorLike, sampleWeight?: TensorLike | null): void {
    const [v, sw] = reduceToSamplewiseValues(values, sampleWeight, (x, axis) => ops.mean(x, axis), this.dtype);
    assignAdd(this.total, ops.sum(v));
    let numSamples: TensorLike;
    if (sw) numSamples = ops.sum(sw);
    else if (v.rank >= 1) numSamples = v.shape[0] ?? ops.sum(ops.onesLike(v, this.dtype));
    else numSamples = 1;
    assignAdd(this.count, numSamples);
  }

  result(): Tensor {
    return divideNoNan(this.total.value, ops.cast(this.count.value, this.dtype));
  }
}

/** A metric function `fn(yTrue, yPred, options?)` returning per-sample values. */
export type MetricFn = (yTrue: TensorLike, yPred: TensorLike, options?: Record<string, unknown>) => Tensor;

/**
 * Wraps a stateless function `fn(yTrue, yPred)` (per-sample values) as a Mean metric.
 * Extra options are passed to `fn` as its trailing options object.
 */
export class MeanMetricWrapper extends Mean {
  readonly fn: MetricFn;
  protected readonly fnOptions: Record<string, unknown>;

  constructor(fn: MetricFn, options: string | (MetricOptions & Record<string, unknown>) = {}, dtype?: DType) {
    if (typeof fn !== 'function') throw new ValueError(`MeanMetricWrapper: fn must be a function, received ${typeof fn}`);
    const opts: MetricOptions & Record<string, unknown> = typeof options === 'string' ? { name: options, dtype } : { ...options };
    const { name, dtype: d, ...fnOptions } = opts;
    super({ name: name ?? (fn.name ? toSnakeCase(fn.name) : 'mean_metric_wrapper'), dtype: d ?? dtype });
    this.fn = fn;
    this.fnOptions = fnOptions;
  }

  /** Adds the mean of `fn(yTrue, yPred)` over samples, weighted by sampleWeight. */
  override updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    const p = requirePred(this.name, yPred);
    const values = Object.keys(this.fnOptions).length ? this.fn(yTrue, p, this.fnOptions) : this.fn(yTrue, p);
    const sw = sampleWeight === null || sampleWeight === undefined ? null : ops.convertToTensor(sampleWeight, this.dtype);
    super.updateState(values, applyMask(sw, combineMasks(getKerasMask(yPred), getKerasMask(values)), this.dtype, 'sum'));
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { ...super.getConfig() };
    for (const [k, v] of Object.entries(this.fnOptions)) config[toSnakeCase(k)] = v;
    return config;
  }
}
