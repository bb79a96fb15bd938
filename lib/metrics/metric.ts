/**
 * keras.metrics.Metric: stateful metrics whose state lives in non-trainable keras.Variables.
 * `updateState` and `resetState` change the state only through ops and `Variable.assign`,
 * so they record as graph updates inside a traced train step; `result()` is a Tensor.
 */
import { FLOATX, allocate, parseDType, type DType } from '../dtype.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Variable } from '../variable.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/index.js';
import { autoName } from '../losses/loss.js';

/** Options every Metric accepts. */
export interface MetricOptions {
  name?: string;
  dtype?: DType;
}

/** A concrete zero tensor (created eagerly, also while tracing). */
export function zerosTensor(shape: readonly number[], dtype: DType): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return ops.reshape(ops.convertToTensor(allocate(dtype, n), dtype), [...shape]);
}

/**
 * Base class of metrics. Subclasses create state with `addVariable` in their constructor
 * (or on the first update when it depends on input shapes), and implement `updateState`
 * and `result`. `resetState` zeroes every variable.
 */
export abstract class Metric {
  name: string;
  readonly dtype: DType;
  private readonly ownVariables: Variable[] = [];
  /** Metrics whose variables this one includes (as Keras tracks sub-metrics). */
  protected readonly subMetrics: Metric[] = [];

  constructor(options: MetricOptions = {}) {
    this.name = options.name ?? autoName(new.target.name);
    this.dtype = options.dtype ? parseDType(options.dtype, `${this.name}: dtype`) : FLOATX;
  }

  /** Creates a zero-initialized, non-trainable state variable named `<metric>/<name>`. */
  protected addVariable(shape: readonly number[], name: string, dtype: DType = this.dtype): Variable {
    const v = new Variable(() => zerosTensor(shape, dtype), { name: `${this.name}/${name}`, trainable: false, dtype });
    this.ownVariables.push(v);
    return v;
  }

  /** All state variables, sub-metrics' included. */
  get variables(): Variable[] {
    return [...this.ownVariables, ...this.subMetrics.flatMap((m) => m.variables)];
  }

  /** Accumulates statistics from one batch. */
  abstract updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void;

  /** The metric value from the accumulated state. */
  abstract result(): Tensor;

  /** Zeroes every state variable. */
  resetState(): void {
    for (const v of this.variables) v.assign(ops.zerosLike(v.value));
  }

  /** `updateState` then `result` (Keras' `metric(y_true, y_pred)`). */
  compute(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): Tensor {
    this.updateState(yTrue, yPred, sampleWeight);
    return this.result();
  }

  /** Serializable configuration (snake_case keys, as Keras' `get_config`). */
  getConfig(): Record<string, unknown> {
    return { name: this.name, dtype: this.dtype };
  }

  toString(): string {
    return `<${this.constructor.name} name=${this.name}>`;
  }
}

/** `v = v + delta`, with delta cast to the variable's dtype (ops only). */
export function assignAdd(v: Variable, delta: TensorLike): void {
  v.assign(ops.add(v.value, ops.cast(delta, v.dtype)));
}

/** Throws unless yPred was given (metrics taking (yTrue, yPred)). */
export function requirePred(who: string, yPred: TensorLike | null | undefined): TensorLike {
  if (yPred === null || yPred === undefined) throw new ValueError(`${who}.updateState: expected (yTrue, yPred, sampleWeight?), y_pred is missing`);
  return yPred;
}
