/** keras.optimizers.Adamax: Adam with the infinity norm in place of the second moment. */
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface AdamaxOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** `m += (g - m)(1 - beta1); u = max(beta2 * u, |g|); w -= lr * m / ((1 - beta1^t)(u + epsilon))`. */
export class Adamax extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private m: Variable[] = [];
  private u: Variable[] = [];

  constructor(learningRate?: LearningRate | AdamaxOptions, options?: AdamaxOptions) {
    const o = optimizerOptions<AdamaxOptions>('Adamax', learningRate, options, { learningRate: 0.001, name: 'adamax' });
    super(o, ['beta1', 'beta2', 'epsilon']);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.m, this.u] = this.addOptimizerVariables(variables, ['momentum', 'norm']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const dtype = variable.dtype;
    const lr = ops.cast(learningRate, dtype);
    const g = ops.cast(gradient, dtype);
    const localStep = ops.cast(ops.add(this.optimizerStep(), 1), dtype);
    const beta1Power = ops.power(ops.convertToTensor(this.beta1, dtype), localStep);
    const i = this.getVariableIndex(variable);
    const m = this.m[i];
    const u = this.u[i];
    this.assignAdd(m, ops.multiply(ops.subtract(g, m.value), 1 - this.beta1));
    this.assign(u, ops.maximum(ops.multiply(this.beta2, u.value), ops.abs(g)));
    this.assignSub(variable, ops.divide(ops.multiply(lr, m.value), ops.multiply(ops.subtract(1, beta1Power), ops.add(u.value, this.epsilon))));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
