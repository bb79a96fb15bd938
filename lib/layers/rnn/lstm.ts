/**
 * LSTM (Hochreiter & Schmidhuber 1997) with Keras' weight layout: the four gates
 * i, f, c, o side by side in kernel [features, 4 * units], recurrent_kernel
 * [units, 4 * units] and bias [4 * units].
 */
import * as activations from '../../activations/index.js';
import * as initializers from '../../initializers/index.js';
import type { DType } from '../../dtype.js';
import * as ops from '../../ops/index.js';
import { lstmCell, lstmSequence } from '../../ops/rnn.js';
import type { Tensor } from '../../tensor.js';
import { registerLayerClass } from '../registry.js';
import { BaseRNN, type RNNArgs, type StepContext, type StepResult } from './base_rnn.js';

export interface LSTMArgs extends RNNArgs {
  /** Activation of the i, f, o gates (default sigmoid). */
  recurrentActivation?: activations.ActivationLike;
  /** Adds 1 to the forget gate bias at initialization (Jozefowicz et al.); default true. */
  unitForgetBias?: boolean;
}

/**
 * Keras' LSTM layer:
 * `i = σ(x W_i + h U_i + b_i)`, `f = σ(...)`, `c = f c + i tanh(x W_c + h U_c + b_c)`,
 * `o = σ(...)`, `h = o tanh(c)`. States are [h, c].
 *
 * ```ts
 * new layers.LSTM(16, { returnSequences: true });
 * ```
 */
export class LSTM extends BaseRNN {
  protected readonly gates = 4;
  readonly stateCount = 2;
  readonly recurrentActivation: activations.Activation;
  readonly unitForgetBias: boolean;

  constructor(units: number | (LSTMArgs & { units: number }), args: LSTMArgs = {}) {
    const opts = BaseRNN.normalizeArgs(units, args);
    super(opts.units, opts);
    this.recurrentActivation = activations.get(opts.recurrentActivation === undefined ? 'sigmoid' : opts.recurrentActivation);
    this.unitForgetBias = opts.unitForgetBias ?? true;
  }

  /** With unitForgetBias: [init(units), ones(units), init(2 * units)] (Keras). */
  protected override biasInit(): initializers.InitializerLike {
    if (!this.unitForgetBias) return this.biasInitializer;
    const init = this.biasInitializer;
    const u = this.units;
    return (_shape: readonly number[], dtype?: DType | null) => ops.concatenate([init.call([u], dtype), ops.ones([u], dtype ?? undefined), init.call([2 * u], dtype)], 0);
  }

  /**
   * Sigmoid gates and tanh (Keras' defaults): a step is one matmul for all four gates and the
   * fused cell (one kernel, and one for its gradient) instead of a dozen small ops.
   */
  protected override joinedGates(): boolean {
    return this.recurrentActivation === activations.sigmoid && this.activation === activations.tanh;
  }

  protected override sequence(xs: Tensor, states: Tensor[], ctx: StepContext, differentiable: boolean): { hs: Tensor; carries: Tensor[] } {
    const [hs, c] = lstmSequence(xs, ctx.rk[0]!, states[0]!, states[1]!, differentiable);
    return { hs, carries: [c] };
  }

  protected override step(x: Tensor[], states: Tensor[], h: Tensor, ctx: StepContext): StepResult {
    if (this.joinedGates()) {
      const [hNew, c] = lstmCell(x[0], ops.matmul(h, ctx.rk[0]), states[1]);
      return { output: hNew, states: [hNew, c] };
    }
    const z = (g: number) => ops.add(x[g], ops.matmul(h, ctx.rk[g]));
    const i = this.recurrentActivation(z(0));
    const f = this.recurrentActivation(z(1));
    const c = ops.add(ops.multiply(f, states[1]), ops.multiply(i, this.activation(z(2))));
    const o = this.recurrentActivation(z(3));
    const hNew = ops.multiply(o, this.activation(c));
    return { output: hNew, states: [hNew, c] };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), recurrentActivation: activations.serialize(this.recurrentActivation), unitForgetBias: this.unitForgetBias };
  }
}

registerLayerClass('LSTM', LSTM);
