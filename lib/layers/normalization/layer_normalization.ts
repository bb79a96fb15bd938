/**
 * LayerNormalization: normalizes each sample over `axis` (default the last).
 */
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

export interface LayerNormalizationArgs extends LayerArgs {
  axis?: number | number[];
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  /**
   * Keras' deprecated flag: scale by gamma / sqrt(variance + epsilon) without centering
   * or beta. As in Keras it uses the variance, not the mean square.
   */
  rmsScaling?: boolean;
  betaInitializer?: initializers.InitializerLike;
  gammaInitializer?: initializers.InitializerLike;
  betaRegularizer?: regularizers.RegularizerLike | null;
  gammaRegularizer?: regularizers.RegularizerLike | null;
  betaConstraint?: constraints.ConstraintLike | null;
  gammaConstraint?: constraints.ConstraintLike | null;
}

/**
 * Keras' LayerNormalization: `(x - mean) / sqrt(var + epsilon) * gamma + beta`, with
 * moments over `axis` of each sample and gamma/beta shaped like those axes.
 */
export class LayerNormalization extends Layer {
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly rmsScaling: boolean;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  private readonly inits: Record<'beta' | 'gamma', initializers.Initializer>;
  private readonly betaRegularizer: regularizers.Regularizer | null;
  private readonly gammaRegularizer: regularizers.Regularizer | null;
  private readonly betaConstraint: constraints.Constraint | null;
  private readonly gammaConstraint: constraints.Constraint | null;
  private paramDims: number[] = [];

  constructor(axis: number | number[] | LayerNormalizationArgs = -1, args: LayerNormalizationArgs = {}) {
    const opts = typeof axis === 'number' || Array.isArray(axis) ? { ...args, axis } : axis;
    super(opts);
    const a = opts.axis ?? -1;
    if (!(Number.isInteger(a) || (Array.isArray(a) && a.every((v) => Number.isInteger(v))))) {
      throw new ValueError(`LayerNormalization: expected an int or a list of ints for the argument axis, but received: ${JSON.stringify(a)}`);
    }
    this.axis = Array.isArray(a) ? [...a] : a;
    this.epsilon = opts.epsilon ?? 1e-3;
    this.center = opts.center ?? true;
    this.scale = opts.scale ?? true;
    this.rmsScaling = opts.rmsScaling ?? false;
    this.inits = { beta: initializers.get(opts.betaInitializer ?? 'zeros'), gamma: initializers.get(opts.gammaInitializer ?? 'ones') };
    this.betaRegularizer = regularizers.get(opts.betaRegularizer);
    this.gammaRegularizer = regularizers.get(opts.gammaRegularizer);
    this.betaConstraint = constraints.get(opts.betaConstraint);
    this.gammaConstraint = constraints.get(opts.gammaConstraint);
    this.supportsMasking = true;
  }

  private axes(rank: number, shape: readonly Dim[]): number[] {
    const list = Array.isArray(this.axis) ? this.axis : [this.axis];
    return list.map((a) => {
      if (a >= rank || a < -rank) incompatibleInput(this, `axis ${a} is out of bounds for ndim=${rank}`, shape);
      return (a + rank) % rank;
    });
  }

  override build(inputShape: Dim[]): void {
    const axes = this.axes(inputShape.length, inputShape);
    const dims = axes.map((a) => inputShape[a]);
    if (dims.some((d) => d === null)) incompatibleInput(this, `the normalized axes ${JSON.stringify(this.axis)} must have known dims`, inputShape);
    this.paramDims = dims as number[];
    if (this.scale || this.rmsScaling) {
      this.gamma = this.addWeight({ name: 'gamma', shape: this.paramDims, initializer: this.inits.gamma, regularizer: this.gammaRegularizer, constraint: this.gammaConstraint });
    }
    if (this.center && !this.rmsScaling) {
      this.beta = this.addWeight({ name: 'beta', shape: this.paramDims, initializer: this.inits.beta, regularizer: this.betaRegularizer, constraint: this.betaConstraint });
    }
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _options: CallOptions = {}): Tensor {
    const raw = inputs as Tensor;
    const axes = this.axes(raw.rank, raw.shape);
    if (axes.some((a, i) => raw.shape[a] !== null && raw.shape[a] !== this.paramDims[i])) {
      incompatibleInput(this, `expected the axes ${JSON.stringify(this.axis)} to have sizes ${JSON.stringify(this.paramDims)}`, raw.shape);
    }
    const x = raw.dtype === this.dtype ? raw : ops.cast(raw, this.dtype);
    // gamma/beta are laid out in the order of `axis`; broadcast them to x's rank.
    const order = axes.map((a, i) => [a, i]).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
    const bshape = x.shape.map((_, i) => (axes.includes(i) ? this.paramDims[axes.indexOf(i)] : 1));
    const param = (v: Variable | null) => (v ? ops.reshape(order.some((o, i) => o !== i) ? ops.transpose(v.value, order) : v.value, bshape) : null);
    const gamma = param(this.gamma);
    const beta = param(this.beta);
    if (this.rmsScaling) {
      const variance = ops.variance(x, axes, true);
      return ops.multiply(ops.multiply(x, ops.rsqrt(ops.add(variance, this.epsilon))), gamma!);
    }
    // Trailing axes (the default -1) run the fused layerNorm primitive.
    return ops.layerNormalization(x, { gamma, beta, axis: axes, epsilon: this.epsilon });
  }

  override getConfig(): Record<string, unknown> {
    const ser = <T>(v: T | null, f: (x: T) => unknown) => (v ? f(v) : null);
    return {
      ...super.getConfig(),
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      rmsScaling: this.rmsScaling,
      betaInitializer: initializers.serialize(this.inits.beta),
      gammaInitializer: initializers.serialize(this.inits.gamma),
      betaRegularizer: ser(this.betaRegularizer, regularizers.serialize),
      gammaRegularizer: ser(this.gammaRegularizer, regularizers.serialize),
      betaConstraint: ser(this.betaConstraint, constraints.serialize),
      gammaConstraint: ser(this.gammaConstraint, constraints.serialize),
    };
  }
}

registerLayerClass('LayerNormalization', LayerNormalization);
