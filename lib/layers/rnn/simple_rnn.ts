/**
 * SimpleRNN: `h_t = activation(x_t @ kernel + h_{t-1} @ recurrentKernel + bias)`; the
 * output is the state.
 */
import type { Tensor } from '../../tensor.js';
import * as ops from '../../ops/index.js';
import { registerLayerClass } from '../registry.js';
import { BaseRNN, type RNNArgs, type StepContext, type StepResult } from './base_rnn.js';

/**
 * Keras' fully-connected RNN. Weights (Keras order and layout): kernel [features, units],
 * recurrent_kernel [units, units], bias [units].
 *
 * ```ts
 * new layers.SimpleRNN(8, { returnSequences: true });
 * ```
 */
export class SimpleRNN extends BaseRNN {
  protected readonly gates = 1;
  readonly stateCount = 1;

  constructor(units: number | (RNNArgs & { units: number }), args: RNNArgs = {}) {
    const opts = BaseRNN.normalizeArgs(units, args);
    super(opts.units, opts);
  }

  protected override step(x: Tensor[], _states: Tensor[], h: Tensor, ctx: StepContext): StepResult {
    const out = this.activation(ops.add(x[0], ops.matmul(h, ctx.rk[0])));
    return { output: out, states: [out] };
  }
}

registerLayerClass('SimpleRNN', SimpleRNN);
