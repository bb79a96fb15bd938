/** keras.optimizers.Nadam: Adam with Nesterov momentum (Dozat, 2015). */
import { FLOATX } from '../dtype.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface NadamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * With `u_t = beta1 (1 - 0.5 * 0.96^t)` and the running product of u: `m_hat = u_{t+1} m /
 * (1 - prod u_{..t+1}) + (1 - u_t) g / (1 - prod u_{..t})`, `v_hat = v / (1 - beta2^t)`,
 * `w -= lr * m_hat / (sqrt(v_hat) + epsilon)`.
 */
export class Nadam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private momentums: Variable[] = [];
  private velocities: Variable[] = [];
  private uProduct: Variable | null = null;

  constructor(learningRate?: LearningRate | NadamOptions, options?: NadamOptions) {
    const o = optimizerOptions<NadamOptions>('Nadam', learningRate, options, { learningRate: 0.001, name: 'nadam' });
    super(o, ['beta1', 'beta2', 'epsilon']);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.momentums, this.velocities] = this.addOptimizerVariables(variables, ['momentum', 'velocity']);
    this.uProduct = this.addVariable([], { initializer: 1.0, dtype: variables.length ? variables[0].dtype : FLOATX, name: 'u_product' });
  }

  protected override backendUpdateStep(grads: Tensor[], variables: Variable[], learningRate: Tensor): void {
    const uProduct = this.uProduct!;
    const nextStep = ops.cast(ops.add(this.optimizerStep(), 1), uProduct.dtype);
    this.assign(uProduct, ops.multiply(ops.multiply(uProduct.value, this.beta1), ops.subtract(1.0, ops.multiply(0.5, ops.power(ops.convertToTensor(0.96, uProduct.dtype), nextStep)))));
    super.backendUpdateStep(grads, variables, learningRate);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const dtype = variable.dtype;
    const lr = ops.cast(learningRate, dtype);
    const g = ops.cast(gradient, dtype);
    const localStep = ops.cast(ops.add(this.optimizerStep(), 1), dtype);
    const nextStep = ops.cast(ops.add(this.optimizerStep(), 2), dtype);
    const decay = ops.convertToTensor(0.96, dtype);
    const uT = ops.multiply(this.beta1, ops.subtract(1.0, ops.multiply(0.5, ops.power(decay, localStep))));
    const uT1 = ops.multiply(this.beta1, ops.subtract(1.0, ops.multiply(0.5, ops.power(decay, nextStep))));
    const uProductT = ops.cast(this.uProduct!.value, dtype);
    const uProductT1 = ops.multiply(uProductT, uT1);
    const beta2Power = ops.power(ops.convertToTensor(this.beta2, dtype), localStep);
    const i = this.getVariableIndex(variable);
    const m = this.momentums[i];
    const v = this.velocities[i];
    this.assignAdd(m, ops.multiply(ops.subtract(g, m.value), 1 - this.beta1));
    this.assignAdd(v, ops.multiply(ops.subtract(ops.square(g), v.value), 1 - this.beta2));
    const mHat = ops.add(ops.divide(ops.multiply(uT1, m.value), ops.subtract(1, uProductT1)), ops.divide(ops.multiply(ops.subtract(1, uT), g), ops.subtract(1, uProductT)));
    const vHat = ops.divide(v.value, ops.subtract(1, beta2Power));
    this.assignSub(variable, ops.divide(ops.multiply(mHat, lr), ops.add(ops.sqrt(vHat), this.epsilon)));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
