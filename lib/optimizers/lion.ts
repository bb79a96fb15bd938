/** keras.optimizers.Lion: sign of an interpolated momentum (Chen et al., 2023). */
import { ValueError } from '../errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface LionOptions extends OptimizerOptions {
  /** Interpolation between momentum and gradient for the update direction (0.9), in (0, 1]. */
  beta1?: number;
  /** Decay rate of the momentum (0.99). */
  beta2?: number;
}

/** `w -= lr * sign(beta1 m + (1 - beta1) g); m = beta2 m + (1 - beta2) g`. */
export class Lion extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  private momentums: Variable[] = [];

  constructor(learningRate?: LearningRate | LionOptions, options?: LionOptions) {
    const o = optimizerOptions<LionOptions>('Lion', learningRate, options, { learningRate: 0.001, name: 'lion' });
    super(o, ['beta1', 'beta2']);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.99;
    if (!(this.beta1 > 0 && this.beta1 <= 1)) {
      throw new ValueError(`Lion: argument beta1 must be in the (0, 1] range. Otherwise, the optimizer degenerates to SignSGD. Received: beta1=${this.beta1}.`);
    }
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.momentums] = this.addOptimizerVariables(variables, ['momentum']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const lr = ops.cast(learningRate, variable.dtype);
    const g = ops.cast(gradient, variable.dtype);
    const m = this.momentums[this.getVariableIndex(variable)];
    const beta1 = ops.convertToTensor(this.beta1, variable.dtype);
    const beta2 = ops.convertToTensor(this.beta2, variable.dtype);
    this.assignSub(variable, ops.multiply(lr, ops.sign(ops.add(ops.multiply(m.value, beta1), ops.multiply(g, ops.subtract(1.0, beta1))))));
    this.assign(m, ops.add(ops.multiply(m.value, beta2), ops.multiply(g, ops.subtract(1.0, beta2))));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2 };
  }
}
