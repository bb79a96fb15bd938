/** keras.optimizers.Adam: adaptive moment estimation (Kingma & Ba), with optional AMSGrad. */
import * as ops from '../ops/index.js';
import { adamUpdate } from '../ops/optimizer.js';
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  /** Decay rate of the first moment (0.9). */
  beta1?: number;
  /** Decay rate of the second moment (0.999). */
  beta2?: number;
  /** Added to sqrt(v) ("epsilon hat"), 1e-7. */
  epsilon?: number;
  /** Use the running maximum of v (AMSGrad). */
  amsgrad?: boolean;
}

export const ADAM_KEYS = ['beta1', 'beta2', 'epsilon', 'amsgrad'] as const;

/**
 * `m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2);
 *  w -= m * lr * sqrt(1 - beta2^t) / (1 - beta1^t) / (sqrt(v) + epsilon)`.
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;
  private momentums: Variable[] = [];
  private velocities: Variable[] = [];
  private velocityHats: Variable[] = [];

  constructor(learningRate?: LearningRate | AdamOptions, options?: AdamOptions) {
    const o = optimizerOptions<AdamOptions>('Adam', learningRate, options, { learningRate: 0.001, name: 'adam' });
    super(o, ADAM_KEYS);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-7;
    this.amsgrad = Boolean(o.amsgrad ?? false);
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.momentums, this.velocities] = this.addOptimizerVariables(variables, ['momentum', 'velocity']);
    if (this.amsgrad) [this.velocityHats] = this.addOptimizerVariables(variables, ['velocity_hat']);
  }

  /** The step size of this iteration in `dtype`: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
  private stepSize(learningRate: Tensor, dtype: DType): Tensor {
    const localStep = ops.cast(ops.add(this.optimizerStep(), 1), dtype);
    const beta1Power = ops.power(ops.convertToTensor(this.beta1, dtype), localStep);
    const beta2Power = ops.power(ops.convertToTensor(this.beta2, dtype), localStep);
    return ops.divide(ops.multiply(ops.cast(learningRate, dtype), ops.sqrt(ops.subtract(1, beta2Power))), ops.subtract(1, beta1Power));
  }

  // The step size once per dtype, not per variable: nine scalar ops a variable were most of an
  // eager update's op calls (an MLP's six variables: 54 of 60).
  protected override backendUpdateStep(grads: Tensor[], variables: Variable[], learningRate: Tensor): void {
    const sizes = new Map<DType, Tensor>();
    grads.forEach((g, i) => {
      const dtype = variables[i].dtype;
      if (!sizes.has(dtype)) sizes.set(dtype, this.stepSize(learningRate, dtype));
      this.update(g, variables[i], sizes.get(dtype)!);
    });
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    this.update(gradient, variable, this.stepSize(learningRate, variable.dtype));
  }

  private update(gradient: Tensor, variable: Variable, alpha: Tensor): void {
    const g = ops.cast(gradient, variable.dtype);
    const i = this.getVariableIndex(variable);
    const m = this.momentums[i];
    const v = this.velocities[i];
    if (!this.amsgrad) {
      // One pass over the variable and its moments; the same values as the ops below.
      const [next, mNext, vNext] = adamUpdate(variable.value, g, m.value, v.value, alpha, { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon });
      this.assign(m, mNext);
      this.assign(v, vNext);
      this.assign(variable, next);
      return;
    }
    this.assignAdd(m, ops.multiply(ops.subtract(g, m.value), 1 - this.beta1));
    this.assignAdd(v, ops.multiply(ops.subtract(ops.square(g), v.value), 1 - this.beta2));
    const vHat = this.velocityHats[i];
    this.assign(vHat, ops.maximum(vHat.value, v.value));
    this.assignSub(variable, ops.divide(ops.multiply(m.value, alpha), ops.add(ops.sqrt(vHat.value), this.epsilon)));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}
