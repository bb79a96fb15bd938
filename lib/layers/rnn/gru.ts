/**
 * GRU (Cho et al. 2014) with Keras' weight layout: gates z, r, h side by side in
 * kernel [features, 3 * units] and recurrent_kernel [units, 3 * units]; with
 * resetAfter (the default, cuDNN-compatible) the bias is [2, 3 * units]: row 0 for
 * the input projection, row 1 for the recurrent one.
 */
import * as activations from '../../activations/index.js';
import type { DType } from '../../dtype.js';
import * as ops from '../../ops/index.js';
import { gruCell, gruSequence } from '../../ops/rnn.js';
import type { Tensor } from '../../tensor.js';
import { registerLayerClass } from '../registry.js';
import { BaseRNN, type RNNArgs, type StepContext, type StepResult } from './base_rnn.js';

export interface GRUArgs extends RNNArgs {
  /** Activation of the z and r gates (default sigmoid). */
  recurrentActivation?: activations.ActivationLike;
  /** Apply the reset gate after the recurrent matmul (Keras 3 default true). */
  resetAfter?: boolean;
}

/**
 * Keras' GRU layer:
 * `z = σ(x W_z + h U_z + b_z)`, `r = σ(x W_r + h U_r + b_r)`,
 * resetAfter: `hh = tanh(x W_h + b_h + r ⊙ (h U_h + rb_h))`, else `hh = tanh(x W_h + (r ⊙ h) U_h + b_h)`,
 * `h' = z ⊙ h + (1 - z) ⊙ hh`.
 *
 * ```ts
 * new layers.GRU(8, { resetAfter: false });
 * ```
 */
export class GRU extends BaseRNN {
  protected readonly gates = 3;
  readonly stateCount = 1;
  readonly recurrentActivation: activations.Activation;
  readonly resetAfter: boolean;

  constructor(units: number | (GRUArgs & { units: number }), args: GRUArgs = {}) {
    const opts = BaseRNN.normalizeArgs(units, args);
    super(opts.units, opts);
    this.recurrentActivation = activations.get(opts.recurrentActivation === undefined ? 'sigmoid' : opts.recurrentActivation);
    this.resetAfter = opts.resetAfter ?? true;
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }

  protected override inputBias(): Tensor | null {
    if (!this.bias) return null;
    return this.resetAfter ? ops.take(this.bias.value, 0, 0) : this.bias.value;
  }

  protected override recurrentBias(): Tensor[] | null {
    if (!this.bias || !this.resetAfter) return null;
    const row = ops.take(this.bias.value, 1, 0);
    return this.joinedGates() ? [row] : [0, 1, 2].map((g) => this.gateOf(row, g));
  }

  /**
   * resetAfter with sigmoid gates and tanh (Keras' defaults): a step is one matmul for the three
   * gates and the fused cell (one kernel, and one for its gradient) instead of a dozen small ops.
   */
  protected override joinedGates(): boolean {
    return this.resetAfter && this.recurrentActivation === activations.sigmoid && this.activation === activations.tanh;
  }

  protected override sequence(xs: Tensor, states: Tensor[], ctx: StepContext, differentiable: boolean): { hs: Tensor; carries: Tensor[] } {
    return { hs: gruSequence(xs, ctx.rk[0]!, states[0]!, this.cellBias(ctx, xs.dtype), differentiable), carries: [] };
  }

  /** The recurrent bias the fused cell adds (zeros without a bias: rec + 0 is rec). */
  private cellBias(ctx: StepContext, dtype: DType): Tensor {
    return ctx.rb ? ctx.rb[0]! : ops.zeros([3 * this.units], dtype);
  }

  protected override step(x: Tensor[], states: Tensor[], h: Tensor, ctx: StepContext): StepResult {
    if (this.joinedGates()) {
      const rb = this.cellBias(ctx, h.dtype);
      const hNew = gruCell(x[0], ops.matmul(h, ctx.rk[0]), rb, states[0]);
      return { output: hNew, states: [hNew] };
    }
    const [rz, rr, rh] = ctx.rk;
    const inner = (k: Tensor, g: number) => (ctx.rb ? ops.add(ops.matmul(h, k), ctx.rb[g]) : ops.matmul(h, k));
    const z = this.recurrentActivation(ops.add(x[0], inner(rz, 0)));
    const r = this.recurrentActivation(ops.add(x[1], inner(rr, 1)));
    // resetAfter: r scales the recurrent projection; else it scales h before the matmul.
    const hh = this.resetAfter
      ? this.activation(ops.add(x[2], ops.multiply(r, inner(rh, 2))))
      : this.activation(ops.add(x[2], ops.matmul(ops.multiply(r, h), rh)));
    // The state update uses the previous state itself; recurrent dropout only touches the matmuls.
    const hNew = ops.add(ops.multiply(z, states[0]), ops.multiply(ops.subtract(1, z), hh));
    return { output: hNew, states: [hNew] };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), recurrentActivation: activations.serialize(this.recurrentActivation), resetAfter: this.resetAfter };
  }
}

registerLayerClass('GRU', GRU);
