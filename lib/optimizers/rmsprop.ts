/** keras.optimizers.RMSprop: divide the gradient by a running RMS of recent gradients (Hinton, 2012). */
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface RMSpropOptions extends OptimizerOptions {
  /** Discounting factor for the old gradients (0.9). */
  rho?: number;
  /** Plain (not Nesterov) momentum on the increments (0). */
  momentum?: number;
  epsilon?: number;
  /** Normalize by the estimated variance rather than the uncentered second moment. */
  centered?: boolean;
}

/**
 * `v = rho v + (1 - rho) g^2`; centered: `a = rho a + (1 - rho) g`, denominator `v - a^2 + eps`,
 * else `v + eps`; `inc = lr g / sqrt(denominator)`; momentum: `mo = momentum mo + inc; w -= mo`, else `w -= inc`.
 */
export class RMSprop extends Optimizer {
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  private velocities: Variable[] = [];
  private momentums: Variable[] = [];
  private averageGradients: Variable[] = [];

  constructor(learningRate?: LearningRate | RMSpropOptions, options?: RMSpropOptions) {
    const o = optimizerOptions<RMSpropOptions>('RMSprop', learningRate, options, { learningRate: 0.001, name: 'rmsprop' });
    super(o, ['rho', 'momentum', 'epsilon', 'centered']);
    this.rho = o.rho ?? 0.9;
    this.momentum = o.momentum ?? 0.0;
    this.epsilon = o.epsilon ?? 1e-7;
    this.centered = Boolean(o.centered ?? false);
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.velocities] = this.addOptimizerVariables(variables, ['velocity']);
    if (this.momentum > 0) [this.momentums] = this.addOptimizerVariables(variables, ['momentum']);
    if (this.centered) [this.averageGradients] = this.addOptimizerVariables(variables, ['average_gradient']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const lr = ops.cast(learningRate, variable.dtype);
    const g = ops.cast(gradient, variable.dtype);
    const i = this.getVariableIndex(variable);
    const velocity = this.velocities[i];
    const rho = this.rho;
    this.assign(velocity, ops.add(ops.multiply(rho, velocity.value), ops.multiply(1 - rho, ops.square(g))));
    let denominator: Tensor;
    if (this.centered) {
      const averageGrad = this.averageGradients[i];
      this.assign(averageGrad, ops.add(ops.multiply(rho, averageGrad.value), ops.multiply(1 - rho, g)));
      denominator = ops.add(ops.subtract(velocity.value, ops.square(averageGrad.value)), this.epsilon);
    } else {
      denominator = ops.add(velocity.value, this.epsilon);
    }
    const increment = ops.divide(ops.multiply(lr, g), ops.sqrt(denominator));
    if (this.momentum > 0) {
      const momentum = this.momentums[i];
      this.assign(momentum, ops.add(ops.multiply(this.momentum, momentum.value), increment));
      this.assignSub(variable, momentum.value);
    } else {
      this.assignSub(variable, increment);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
