/** keras.optimizers.Adadelta: rates from running averages of squared gradients and updates (Zeiler, 2012). */
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface AdadeltaOptions extends OptimizerOptions {
  /** Decay rate (0.95). */
  rho?: number;
  epsilon?: number;
}

/**
 * `Eg = rho Eg + (1 - rho) g^2; d = -sqrt(Ed + eps) g / sqrt(Eg + eps);
 *  Ed = rho Ed + (1 - rho) d^2; w += lr d`.
 */
export class Adadelta extends Optimizer {
  readonly rho: number;
  readonly epsilon: number;
  private accumulatedGrads: Variable[] = [];
  private accumulatedDeltaVars: Variable[] = [];

  constructor(learningRate?: LearningRate | AdadeltaOptions, options?: AdadeltaOptions) {
    const o = optimizerOptions<AdadeltaOptions>('Adadelta', learningRate, options, { learningRate: 0.001, name: 'adadelta' });
    super(o, ['rho', 'epsilon']);
    this.rho = o.rho ?? 0.95;
    this.epsilon = o.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.accumulatedGrads, this.accumulatedDeltaVars] = this.addOptimizerVariables(variables, ['accumulated_grad', 'accumulated_delta_var']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const lr = ops.cast(learningRate, variable.dtype);
    const g = ops.cast(gradient, variable.dtype);
    const rho = this.rho;
    const i = this.getVariableIndex(variable);
    const accumulatedGrad = this.accumulatedGrads[i];
    const accumulatedDeltaVar = this.accumulatedDeltaVars[i];
    const rms = (x: Tensor) => ops.sqrt(ops.add(x, this.epsilon));
    this.assign(accumulatedGrad, ops.add(ops.multiply(rho, accumulatedGrad.value), ops.multiply(1 - rho, ops.square(g))));
    const deltaVar = ops.negative(ops.divide(ops.multiply(rms(accumulatedDeltaVar.value), g), rms(accumulatedGrad.value)));
    this.assign(accumulatedDeltaVar, ops.add(ops.multiply(rho, accumulatedDeltaVar.value), ops.multiply(1 - rho, ops.square(deltaVar))));
    this.assignAdd(variable, ops.multiply(lr, deltaVar));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rho: this.rho, epsilon: this.epsilon };
  }
}
