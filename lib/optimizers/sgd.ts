/** keras.optimizers.SGD: gradient descent with optional (Nesterov) momentum. */
import { ValueError } from '../errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  /** In [0, 1]; 0 is plain gradient descent. */
  momentum?: number;
  nesterov?: boolean;
}

/**
 * `w -= lr * g`; with momentum `m = momentum * m - lr * g; w += m`, and with Nesterov
 * `w += momentum * m - lr * g`. Defaults: learningRate 0.01, momentum 0.
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  private momentums: Variable[] = [];

  constructor(learningRate?: LearningRate | SGDOptions, options?: SGDOptions) {
    const o = optimizerOptions<SGDOptions>('SGD', learningRate, options, { learningRate: 0.01, name: 'SGD' });
    super(o, ['momentum', 'nesterov']);
    const momentum = o.momentum ?? 0.0;
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new ValueError(`SGD: momentum must be a number in [0, 1], received ${JSON.stringify(momentum)}`);
    this.momentum = momentum;
    this.nesterov = Boolean(o.nesterov ?? false);
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    if (this.momentum !== 0) [this.momentums] = this.addOptimizerVariables(variables, ['momentum']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const lr = ops.cast(learningRate, variable.dtype);
    const g = ops.cast(gradient, variable.dtype);
    if (this.momentum === 0) {
      this.assignSub(variable, ops.multiply(g, lr));
      return;
    }
    const m = this.momentums[this.getVariableIndex(variable)];
    this.assign(m, ops.subtract(ops.multiply(m.value, this.momentum), ops.multiply(g, lr)));
    if (this.nesterov) this.assignAdd(variable, ops.subtract(ops.multiply(m.value, this.momentum), ops.multiply(g, lr)));
    else this.assignAdd(variable, m.value);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov };
  }
}
