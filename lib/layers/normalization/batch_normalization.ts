/**
 * BatchNormalization: normalizes with batch statistics while training and with
 * moving averages of them at inference (Keras 3 semantics).
 */
import * as initializers from '../../initializers/index.js';
import * as regularizers from '../../regularizers/index.js';
import * as constraints from '../../constraints/index.js';
import { currentTrace } from '../../engine.js';
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Variable } from '../../variable.js';
import { Layer, incompatibleInput, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';

/** Keras' backend.epsilon(), used to guard masked-moment divisions. */
const FUZZ = 1e-7;

export interface BatchNormalizationArgs extends LayerArgs {
  /** The features axis (normalized per entry of this axis). */
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: initializers.InitializerLike;
  gammaInitializer?: initializers.InitializerLike;
  movingMeanInitializer?: initializers.InitializerLike;
  movingVarianceInitializer?: initializers.InitializerLike;
  betaRegularizer?: regularizers.RegularizerLike | null;
  gammaRegularizer?: regularizers.RegularizerLike | null;
  betaConstraint?: constraints.ConstraintLike | null;
  gammaConstraint?: constraints.ConstraintLike | null;
  /** Cross-replica statistics; only false is supported (one device), as Keras off TensorFlow. */
  synchronized?: boolean;
}

/**
 * Keras 3 BatchNormalization. With `training` true and a trainable layer:
 * normalizes with the batch mean and (biased) variance over every axis but `axis`,
 * and updates `moving = moving * momentum + batch * (1 - momentum)`. Otherwise
 * (inference, or `trainable = false`) it uses the moving statistics.
 * A mask (one dim fewer than the inputs) leaves masked steps out of the batch moments.
 */
export class BatchNormalization extends Layer {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly synchronized: boolean;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean!: Variable;
  movingVariance!: Variable;
  private readonly inits: Record<'beta' | 'gamma' | 'movingMean' | 'movingVariance', initializers.Initializer>;
  private readonly betaRegularizer: regularizers.Regularizer | null;
  private readonly gammaRegularizer: regularizers.Regularizer | null;
  private readonly betaConstraint: constraints.Constraint | null;
  private readonly gammaConstraint: constraints.Constraint | null;
  private inputRank = 0;
  private features = 0;

  constructor(axis: number | BatchNormalizationArgs = -1, args: BatchNormalizationArgs = {}) {
    const opts = typeof axis === 'number' ? { ...args, axis } : axis;
    super(opts);
    this.axis = opts.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new ValueError(`BatchNormalization: axis must be an integer, received ${JSON.stringify(opts.axis)}`);
    this.momentum = opts.momentum ?? 0.99;
    this.epsilon = opts.epsilon ?? 1e-3;
    this.center = opts.center ?? true;
    this.scale = opts.scale ?? true;
    this.synchronized = opts.synchronized ?? false;
    if (this.synchronized) throw new ValueError('BatchNormalization: synchronized=true is only supported with the TensorFlow backend in Keras; keras-node runs one device');
    this.inits = {
      beta: initializers.get(opts.betaInitializer ?? 'zeros'),
      gamma: initializers.get(opts.gammaInitializer ?? 'ones'),
      movingMean: initializers.get(opts.movingMeanInitializer ?? 'zeros'),
      movingVariance: initializers.get(opts.movingVarianceInitializer ?? 'ones'),
    };
    this.betaRegularizer = regularizers.get(opts.betaRegularizer);
    this.gammaRegularizer = regularizers.get(opts.gammaRegularizer);
    this.betaConstraint = constraints.get(opts.betaConstraint);
    this.gammaConstraint = constraints.get(opts.gammaConstraint);
    this.supportsMasking = true;
  }

  override build(inputShape: Dim[]): void {
    const rank = inputShape.length;
    if (this.axis >= rank || this.axis < -rank) incompatibleInput(this, `axis ${this.axis} is out of bounds for ndim=${rank}`, inputShape);
    const n = inputShape[(this.axis + rank) % rank];
    if (n === null) incompatibleInput(this, `axis ${this.axis} of the input must have a defined dimension`, inputShape);
    this.inputRank = rank;
    this.features = n;
    const shape = [n];
    if (this.scale) {
      this.gamma = this.addWeight({ name: 'gamma', shape, initializer: this.inits.gamma, regularizer: this.gammaRegularizer, constraint: this.gammaConstraint });
    }
    if (this.center) {
      this.beta = this.addWeight({ name: 'beta', shape, initializer: this.inits.beta, regularizer: this.betaRegularizer, constraint: this.betaConstraint });
    }
    this.movingMean = this.addWeight({ name: 'moving_mean', shape, initializer: this.inits.movingMean, trainable: false });
    this.movingVariance = this.addWeight({ name: 'moving_variance', shape, initializer: this.inits.movingVariance, trainable: false });
    this.built = true;
  }

  private reductionAxes(rank: number): number[] {
    const a = (this.axis + rank) % rank;
    return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== a);
  }

  /** Batch mean and biased variance over every axis but `axis`, weighted by the mask (Keras' _moments). */
  private moments(x: Tensor, mask: Tensor): [Tensor, Tensor] {
    const axes = this.reductionAxes(x.rank);
    const w = ops.expandDims(ops.cast(mask, x.dtype), -1);
    const weighted = ops.multiply(w, x);
    const count = ops.add(ops.sum(ops.multiply(w, ops.onesLike(x)), axes, true), FUZZ);
    const mean = ops.divide(ops.sum(weighted, axes, true), count);
    const variance = ops.divide(ops.sum(ops.multiply(w, ops.square(ops.subtract(weighted, mean))), axes, true), count);
    return [ops.squeeze(mean, axes), ops.squeeze(variance, axes)];
  }

  override call(inputs: Tensor | Tensor[], options: CallOptions = {}): Tensor {
    const raw = inputs as Tensor;
    const a = (this.axis + raw.rank) % raw.rank;
    if (raw.rank !== this.inputRank || (raw.shape[a] !== null && raw.shape[a] !== this.features)) {
      incompatibleInput(this, `expected ndim=${this.inputRank} with axis ${this.axis} of value ${this.features}`, raw.shape);
    }
    const mask = (options.mask ?? null) as Tensor | null;
    if (mask && mask.rank !== raw.rank - 1) {
      throw new ShapeError(`BatchNormalization "${this.name}": the mask provided should be one dimension less than the inputs. Received: mask.shape=${fmtShape(mask.shape)}, inputs.shape=${fmtShape(raw.shape)}`);
    }
    const x = raw.dtype === this.dtype ? raw : ops.cast(raw, this.dtype);
    let mean: Tensor;
    let variance: Tensor;
    let y: Tensor | null = null;
    if (options.training && this.trainable) {
      // Unmasked: batch statistics and normalization in one fused op; masked: weighted moments.
      if (mask) [mean, variance] = this.moments(x, mask);
      else [y, mean, variance] = ops.fusedBatchNormalization(x, this.axis, { scale: this.gamma?.value ?? null, offset: this.beta?.value ?? null, epsilon: this.epsilon });
      const m = this.momentum;
      const update = (v: Variable, batch: Tensor) => v.assign(ops.stopGradient(ops.add(ops.multiply(v.value, m), ops.multiply(batch, 1 - m))));
      // Building a functional graph on symbolic inputs (no trace) computes shapes only, as Keras' symbolic call.
      if (!mean.isSymbolic || currentTrace()) {
        update(this.movingMean, mean);
        update(this.movingVariance, variance);
      }
    } else {
      mean = this.movingMean.value;
      variance = this.movingVariance.value;
    }
    return y ?? ops.batchNormalization(x, mean, variance, this.axis, { offset: this.beta?.value ?? null, scale: this.gamma?.value ?? null, epsilon: this.epsilon });
  }

  override getConfig(): Record<string, unknown> {
    const ser = <T>(v: T | null, f: (x: T) => unknown) => (v ? f(v) : null);
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: initializers.serialize(this.inits.beta),
      gammaInitializer: initializers.serialize(this.inits.gamma),
      movingMeanInitializer: initializers.serialize(this.inits.movingMean),
      movingVarianceInitializer: initializers.serialize(this.inits.movingVariance),
      betaRegularizer: ser(this.betaRegularizer, regularizers.serialize),
      gammaRegularizer: ser(this.gammaRegularizer, regularizers.serialize),
      betaConstraint: ser(this.betaConstraint, constraints.serialize),
      gammaConstraint: ser(this.gammaConstraint, constraints.serialize),
      synchronized: this.synchronized,
    };
  }
}

registerLayerClass('BatchNormalization', BatchNormalization);
