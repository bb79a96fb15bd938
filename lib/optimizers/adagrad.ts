/** keras.optimizers.Adagrad: per-parameter rates from the sum of squared gradients (Duchi et al.). */
import { ValueError } from '../errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { Variable } from '../variable.js';
import { Optimizer, optimizerOptions, type LearningRate, type OptimizerOptions } from './optimizer.js';

export interface AdagradOptions extends OptimizerOptions {
  /** Starting value of the accumulators (0.1); must be non-negative. */
  initialAccumulatorValue?: number;
  epsilon?: number;
}

/** `acc += g^2; w -= lr * g / sqrt(acc + epsilon)`. */
export class Adagrad extends Optimizer {
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  private accumulators: Variable[] = [];

  constructor(learningRate?: LearningRate | AdagradOptions, options?: AdagradOptions) {
    const o = optimizerOptions<AdagradOptions>('Adagrad', learningRate, options, { learningRate: 0.001, name: 'adagrad' });
    super(o, ['initialAccumulatorValue', 'epsilon']);
    this.initialAccumulatorValue = o.initialAccumulatorValue ?? 0.1;
    if (!(this.initialAccumulatorValue >= 0)) throw new ValueError(`Adagrad: initialAccumulatorValue must be non-negative, received ${this.initialAccumulatorValue}`);
    this.epsilon = o.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.accumulators] = this.addOptimizerVariables(variables, ['accumulator'], this.initialAccumulatorValue);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const lr = ops.cast(learningRate, variable.dtype);
    const g = ops.cast(gradient, variable.dtype);
    const accumulator = this.accumulators[this.getVariableIndex(variable)];
    this.assignAdd(accumulator, ops.square(g));
    this.assignSub(variable, ops.divide(ops.multiply(lr, g), ops.sqrt(ops.add(accumulator.value, this.epsilon))));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}
