/**
 * keras.losses.Loss: the base class of losses, the reduction machinery shared with
 * metrics (sample weights, masks, squeezing a trailing 1), and LossFunctionWrapper.
 *
 * Keras' `loss(y_true, y_pred, sample_weight)` (`__call__`) is `loss.compute(yTrue, yPred, sampleWeight)`
 * here; subclasses implement `call(yTrue, yPred)` returning per-sample losses, as in Keras.
 * Everything is written in ops (no values are read back to JS), so losses trace into graphs.
 */
import { FLOATX, parseDType, type DType } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';

/** How a Loss aggregates per-sample losses. `null` means 'none'. */
export type Reduction = 'sum_over_batch_size' | 'sum' | 'mean' | 'mean_with_sample_weight' | 'none' | null;

const REDUCTIONS: readonly Reduction[] = ['sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none', null];

/** Validates a reduction name, as Keras' `standardize_reduction`. */
export function standardizeReduction(reduction: unknown): Reduction {
  if (!REDUCTIONS.includes(reduction as Reduction)) {
    throw new ValueError(`Invalid value for argument \`reduction\`. Expected one of ${REDUCTIONS.map((r) => JSON.stringify(r)).join(', ')}. Received: reduction=${JSON.stringify(reduction)}`);
  }
  return reduction as Reduction;
}

// ------------------------------------------------------------------ masks

/**
 * Keras attaches `_keras_mask` to tensors; we keep masks beside them. A loss function that
 * masks entries (sparse crossentropy with `ignoreClass`) registers its mask here, and
 * `Loss.compute` averages over the unmasked entries only, as Keras does.
 */
export { setKerasMask, getKerasMask } from '../mask.js';
import { getKerasMask } from '../mask.js';
import { optionalArgs } from '../utils/args.js';

/** The logical and of two optional masks. */
export function combineMasks(a: Tensor | undefined, b: Tensor | undefined): Tensor | undefined {
  if (a && b) return ops.logicalAnd(a, b);
  return a ?? b;
}

// ------------------------------------------------------------------ shape helpers

/**
 * Squeezes or expands the last dim of one operand when the ranks differ by exactly one
 * and that dim is 1, as Keras' `squeeze_or_expand_to_same_rank`.
 */
export function squeezeOrExpandToSameRank(x1: Tensor, x2: Tensor, expandRank1 = true): [Tensor, Tensor] {
  const r1 = x1.rank;
  const r2 = x2.rank;
  if (r1 === r2) return [x1, x2];
  if (r1 === r2 + 1 && x1.shape[r1 - 1] === 1) {
    if (r2 === 1 && expandRank1) x2 = ops.expandDims(x2, -1);
    else x1 = ops.squeeze(x1, -1);
  }
  if (r2 === r1 + 1 && x2.shape[r2 - 1] === 1) {
    if (r1 === 1 && expandRank1) x1 = ops.expandDims(x1, -1);
    else x2 = ops.squeeze(x2, -1);
  }
  return [x1, x2];
}

/** Throws a ShapeError naming `who` unless yTrue and yPred broadcast together. */
export function checkBroadcastable(who: string, yTrue: Tensor, yPred: Tensor): void {
  try {
    broadcastShapes(yTrue.shape, yPred.shape, who);
  } catch {
    throw new ShapeError(`${who}: y_true and y_pred have incompatible shapes: y_true.shape=${fmtShape(yTrue.shape)}, y_pred.shape=${fmtShape(yPred.shape)}`);
  }
}

/** Throws a ShapeError naming `who` unless the shapes are equal (unknown dims match anything). */
export function checkSameShape(who: string, yTrue: Tensor, yPred: Tensor): void {
  const ok = yTrue.rank === yPred.rank && yTrue.shape.every((d, i) => d === null || yPred.shape[i] === null || d === yPred.shape[i]);
  if (!ok) throw new ShapeError(`${who}: y_true and y_pred must have the same shape, received y_true.shape=${fmtShape(yTrue.shape)}, y_pred.shape=${fmtShape(yPred.shape)}`);
}

/** `x / y`, with 0 where y is 0 (Keras `divide_no_nan`); its gradient is finite too. */
export function divideNoNan(x: TensorLike, y: TensorLike): Tensor {
  const d = ops.convertToTensor(y);
  const zero = ops.equal(d, 0);
  return ops.where(zero, 0, ops.divide(x, ops.where(zero, 1, d)));
}

/** Number of elements of `t`: a JS number when its shape is known, else a scalar tensor of `dtype`. */
export function numElements(t: Tensor, dtype: DType): number | Tensor {
  if (t.shape.every((d) => d !== null)) return t.shape.reduce((a, b) => a * b, 1);
  return ops.sum(ops.onesLike(t, dtype));
}

/** Keras' `reduce_values`: sums, then divides by the element count for the mean reductions. */
export function reduceValues(values: Tensor, sampleWeight: Tensor | null = null, reduction: Reduction = 'sum_over_batch_size'): Tensor {
  if (reduction === null || reduction === 'none' || values.rank === 0 || (values.rank === 1 && values.shape[0] === 0)) return values;
  const loss = ops.sum(values);
  if (reduction === 'sum') return loss;
  if (reduction === 'mean_with_sample_weight' && sampleWeight) return divideNoNan(loss, ops.cast(ops.sum(sampleWeight), loss.dtype));
  const n = numElements(values, loss.dtype);
  if (typeof n === 'number') return n > 0 ? ops.divide(loss, n) : loss;
  return divideNoNan(loss, n);
}

/** Merges a mask into sample weights (Keras' `apply_mask`): masked entries get weight 0. */
export function applyMask(sampleWeight: Tensor | null, mask: Tensor | undefined, dtype: DType, reduction: Reduction): Tensor | null {
  if (!mask) return sampleWeight;
  let m = ops.cast(mask, dtype);
  if (reduction === 'mean' || reduction === 'sum_over_batch_size') {
    // Valid entries get weight total/valid, so the mean over all entries is the mean over valid ones.
    const total = numElements(m, dtype);
    m = ops.multiply(m, divideNoNan(total, ops.sum(m)));
  }
  if (sampleWeight) {
    const [mm, sw] = squeezeOrExpandToSameRank(m, ops.cast(sampleWeight, dtype));
    return ops.multiply(sw, mm);
  }
  return m;
}

/** Keras' `reduce_weighted_values`: applies mask and sample weights, then the reduction. */
export function reduceWeightedValues(values: Tensor, sampleWeight: TensorLike | null | undefined, mask: Tensor | undefined, reduction: Reduction, dtype: DType, who = 'loss'): Tensor {
  let v = ops.cast(values, dtype);
  let sw = sampleWeight === null || sampleWeight === undefined ? null : ops.convertToTensor(sampleWeight, dtype);
  sw = applyMask(sw, mask, v.dtype, reduction);
  if (sw) {
    [v, sw] = squeezeOrExpandToSameRank(v, ops.cast(sw, v.dtype));
    try {
      broadcastShapes(v.shape, sw.shape, who);
    } catch {
      throw new ShapeError(`${who}: sample_weight of shape ${fmtShape(sw.shape)} does not broadcast to the per-sample losses of shape ${fmtShape(v.shape)}`);
    }
    v = ops.multiply(v, sw);
  }
  return reduceValues(v, sw, reduction);
}

// ------------------------------------------------------------------ names

/** `fooBar` -> `foo_bar`, `MeanSquaredError` -> `mean_squared_error`. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** `foo_bar` -> `fooBar`. */
export function toCamelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const nameCounts = new Map<string, number>();

/** Keras' `auto_name`: a snake_case name made unique with a `_1`, `_2`... suffix. */
export function autoName(base: string): string {
  const snake = toSnakeCase(base);
  const n = nameCounts.get(snake) ?? 0;
  nameCounts.set(snake, n + 1);
  return n === 0 ? snake : `${snake}_${n}`;
}

/** Config keys from `getConfig` are snake_case (as in a Keras config.json); constructors take camelCase. */
export function configToOptions(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[toCamelCase(k)] = v;
  return out;
}

// ------------------------------------------------------------------ Loss

/** Options every Loss accepts. */
export interface LossOptions {
  reduction?: Reduction;
  name?: string;
  dtype?: DType;
}

/** A loss function `(yTrue, yPred) => per-sample losses`. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * Base class of losses. Subclasses implement `call(yTrue, yPred)` returning per-sample losses;
 * `compute(yTrue, yPred, sampleWeight?)` (Keras' `__call__`) casts inputs to the loss dtype,
 * applies sample weights and masks, then the reduction.
 */
export abstract class Loss {
  name: string;
  readonly reduction: Reduction;
  readonly dtype: DType;

  /** Arguments in Keras order (name, reduction, dtype), or one options object. */
  constructor(name?: string | LossOptions, reduction?: Reduction, dtype?: DType) {
    const o = optionalArgs('Loss', { name: undefined as string | undefined, reduction: 'sum_over_batch_size' as Reduction, dtype: undefined as DType | undefined }, [name, reduction, dtype]);
    this.name = o.name ?? autoName(new.target.name);
    this.reduction = standardizeReduction(o.reduction);
    this.dtype = o.dtype ? parseDType(o.dtype, `${this.name}: dtype`) : FLOATX;
  }

  /** Per-sample losses. */
  abstract call(yTrue: Tensor, yPred: Tensor): Tensor;

  /** The reduced loss (Keras' `loss(y_true, y_pred, sample_weight)`). */
  compute(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): Tensor {
    const p = ops.convertToTensor(yPred, this.dtype);
    const t = ops.convertToTensor(yTrue, this.dtype);
    const losses = this.call(t, p);
    // As Keras: the predictions' mask and the mask of the losses both exclude entries.
    const mask = combineMasks(getKerasMask(yPred), getKerasMask(losses));
    return reduceWeightedValues(losses, sampleWeight, mask, this.reduction, this.dtype, this.name);
  }

  /** Serializable configuration (snake_case keys, as Keras' `get_config`). */
  getConfig(): Record<string, unknown> {
    return { name: this.name, reduction: this.reduction };
  }

  toString(): string {
    return `<${this.constructor.name} name=${this.name}>`;
  }
}

/**
 * Wraps a loss function `fn(yTrue, yPred, ...)` as a Loss; the trailing 1 of labels or
 * predictions is squeezed or expanded first, as Keras' LossFunctionWrapper does.
 */
export class LossFunctionWrapper extends Loss {
  readonly fn: (yTrue: Tensor, yPred: Tensor, options?: Record<string, unknown>) => Tensor;
  protected readonly fnOptions: Record<string, unknown>;

  constructor(fn: (yTrue: Tensor, yPred: Tensor, options?: Record<string, unknown>) => Tensor, options: LossOptions & { fnOptions?: Record<string, unknown> } = {}) {
    const { fnOptions, ...rest } = options;
    super({ ...rest, name: rest.name ?? (fn.name ? toSnakeCase(fn.name) : undefined) });
    if (typeof fn !== 'function') throw new ValueError(`LossFunctionWrapper: fn must be a function, received ${typeof fn}`);
    this.fn = fn;
    this.fnOptions = fnOptions ?? {};
  }

  call(yTrue: Tensor, yPred: Tensor): Tensor {
    const [t, p] = squeezeOrExpandToSameRank(yTrue, yPred);
    return Object.keys(this.fnOptions).length ? this.fn(t, p, this.fnOptions) : this.fn(t, p);
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { ...super.getConfig() };
    for (const [k, v] of Object.entries(this.fnOptions)) config[toSnakeCase(k)] = v;
    return config;
  }
}
