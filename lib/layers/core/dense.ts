/**
 * Dense: `activation(inputs @ kernel + bias)` over the last axis.
 */
import * as activations from '../../activations/index.js';
import * as initializers from '../../initializers/index.js';
import * as regularizers from '../../regularizers/index.js';
import * as constraints from '../../constraints/index.js';
import { ValueError } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Variable } from '../../variable.js';
import { Layer, incompatibleInput, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';

export interface DenseArgs extends LayerArgs {
  activation?: activations.ActivationLike;
  useBias?: boolean;
  kernelInitializer?: initializers.InitializerLike;
  biasInitializer?: initializers.InitializerLike;
  kernelRegularizer?: regularizers.RegularizerLike | null;
  biasRegularizer?: regularizers.RegularizerLike | null;
  activityRegularizer?: regularizers.RegularizerLike | null;
  kernelConstraint?: constraints.ConstraintLike | null;
  biasConstraint?: constraints.ConstraintLike | null;
}

export class Dense extends Layer {
  readonly units: number;
  readonly activation: activations.Activation;
  readonly useBias: boolean;
  kernel!: Variable;
  bias: Variable | null = null;
  private readonly args: DenseArgs;

  constructor(units: number | (DenseArgs & { units: number }), args: DenseArgs = {}) {
    const opts = typeof units === 'object' ? units : { ...args, units };
    super(opts);
    if (!Number.isInteger(opts.units) || opts.units <= 0) throw new ValueError(`Dense: units must be a positive integer, received ${opts.units}`);
    this.units = opts.units;
    this.activation = activations.get(opts.activation);
    this.useBias = opts.useBias ?? true;
    this.args = opts;
  }

  override build(inputShape: Dim[]): void {
    const inDim = inputShape[inputShape.length - 1];
    if (inputShape.length < 1 || inDim === null) incompatibleInput(this, 'expected a known last dimension', inputShape);
    this.kernel = this.addWeight({
      name: 'kernel',
      shape: [inDim, this.units],
      initializer: this.args.kernelInitializer ?? 'glorot_uniform',
      regularizer: this.args.kernelRegularizer,
      constraint: this.args.kernelConstraint,
    });
    if (this.useBias) {
      this.bias = this.addWeight({
        name: 'bias',
        shape: [this.units],
        initializer: this.args.biasInitializer ?? 'zeros',
        regularizer: this.args.biasRegularizer,
        constraint: this.args.biasConstraint,
      });
    }
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _options: CallOptions = {}): Tensor {
    const x = inputs as Tensor;
    const inDim = this.kernel.shape[0];
    if (x.shape[x.rank - 1] !== inDim && x.shape[x.rank - 1] !== null) {
      incompatibleInput(this, `expected axis -1 of input shape to have value ${inDim}`, x.shape);
    }
    let y = ops.matmul(x, this.kernel.value);
    if (this.bias) y = ops.add(y, this.bias.value);
    return this.activation(y);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activations.serialize(this.activation),
      useBias: this.useBias,
      kernelInitializer: initializers.serialize(initializers.get(this.args.kernelInitializer ?? 'glorot_uniform')),
      biasInitializer: initializers.serialize(initializers.get(this.args.biasInitializer ?? 'zeros')),
      ...serializeExtras(this.args as Record<string, unknown>),
    };
  }
}

/** Regularizers and constraints of a layer's args, serialized for getConfig (absent ones are null). */
export function serializeExtras(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === null || value === undefined) continue;
    if (key.endsWith('Regularizer') && key !== 'activityRegularizer') out[key] = regularizers.serialize(regularizers.get(value as regularizers.RegularizerLike)!);
    else if (key.endsWith('Constraint')) out[key] = constraints.serialize(constraints.get(value as constraints.ConstraintLike)!);
  }
  return out;
}

registerLayerClass('Dense', Dense);
