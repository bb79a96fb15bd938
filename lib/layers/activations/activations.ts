/**
 * Activation layers with arguments: ReLU, LeakyReLU, PReLU (learned slopes), ELU, Softmax (masked).
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

export interface ReLUArgs extends LayerArgs {
  /** Upper clip; null: none. */
  maxValue?: number | null;
  /** Slope below the threshold. */
  negativeSlope?: number;
  /** Values at or below it are "negative". */
  threshold?: number;
}

/**
 * Keras' ReLU: `maxValue` for x >= maxValue, x for threshold < x < maxValue,
 * `negativeSlope * (x - threshold)` otherwise.
 */
export class ReLU extends Layer {
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor(maxValue: number | null | ReLUArgs = null, negativeSlope?: number, threshold?: number, args: ReLUArgs = {}) {
    const opts: ReLUArgs = maxValue !== null && typeof maxValue === 'object' ? maxValue : { ...args, maxValue, negativeSlope, threshold };
    super(opts);
    this.maxValue = opts.maxValue ?? null;
    this.negativeSlope = opts.negativeSlope ?? 0;
    this.threshold = opts.threshold ?? 0;
    if (this.maxValue !== null && !(this.maxValue >= 0)) {
      throw new ValueError(`ReLU: maxValue of a ReLU layer cannot be a negative value. Received: maxValue=${this.maxValue}`);
    }
    if (!(this.negativeSlope >= 0)) throw new ValueError(`ReLU: negativeSlope of a ReLU layer cannot be a negative value. Received: negativeSlope=${this.negativeSlope}`);
    if (!(this.threshold >= 0)) throw new ValueError(`ReLU: threshold of a ReLU layer cannot be a negative value. Received: threshold=${this.threshold}`);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = inputs as Tensor;
    const { maxValue, negativeSlope: slope, threshold } = this;
    if (slope !== 0 && maxValue === null && threshold === 0) return ops.leakyRelu(x, slope);
    // Same composition as Keras' activations.relu, so gradients at the kinks agree.
    let y = threshold !== 0 ? ops.multiply(x, ops.cast(ops.greater(x, threshold), x.dtype)) : ops.relu(x);
    if (maxValue !== null) y = ops.clip(y, 0, maxValue);
    if (slope !== 0) {
      const negativePart = ops.relu(threshold !== 0 ? ops.add(ops.negative(x), threshold) : ops.negative(x));
      y = ops.subtract(y, ops.multiply(negativePart, slope));
    }
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }
}

export interface LeakyReLUArgs extends LayerArgs {
  negativeSlope?: number;
}

/** Keras 3's LeakyReLU: x for x >= 0, `negativeSlope * x` below (default 0.3). */
export class LeakyReLU extends Layer {
  readonly negativeSlope: number;

  constructor(negativeSlope: number | LeakyReLUArgs = 0.3, args: LeakyReLUArgs = {}) {
    const opts = typeof negativeSlope === 'number' ? { ...args, negativeSlope } : negativeSlope;
    super(opts);
    // An explicit null is an error (as Keras' None), not the default.
    this.negativeSlope = opts.negativeSlope === undefined ? 0.3 : (opts.negativeSlope as number);
    if (typeof this.negativeSlope !== 'number' || !(this.negativeSlope >= 0)) {
      throw new ValueError(`LeakyReLU: the negativeSlope value of a Leaky ReLU layer cannot be None or negative value. Expected a float. Received: negativeSlope=${this.negativeSlope}`);
    }
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return ops.leakyRelu(inputs as Tensor, this.negativeSlope);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), negativeSlope: this.negativeSlope };
  }
}

export interface PReLUArgs extends LayerArgs {
  alphaInitializer?: initializers.InitializerLike;
  alphaRegularizer?: regularizers.RegularizerLike | null;
  alphaConstraint?: constraints.ConstraintLike | null;
  /** 1-based non-batch axes along which one slope is shared (e.g. [1, 2] for images). */
  sharedAxes?: number | number[] | null;
}

/** Keras' PReLU: `relu(x) - alpha * relu(-x)` with a learned `alpha` per non-batch element (or shared along `sharedAxes`). */
export class PReLU extends Layer {
  readonly sharedAxes: number[] | null;
  alpha!: Variable;
  private readonly alphaInitializer: initializers.Initializer;
  private readonly alphaRegularizer: regularizers.Regularizer | null;
  private readonly alphaConstraint: constraints.Constraint | null;
  private paramShape: number[] = [];

  constructor(args: PReLUArgs = {}) {
    super(args);
    this.alphaInitializer = initializers.get(args.alphaInitializer ?? 'zeros');
    this.alphaRegularizer = regularizers.get(args.alphaRegularizer);
    this.alphaConstraint = constraints.get(args.alphaConstraint);
    const s = args.sharedAxes ?? null;
    this.sharedAxes = s === null ? null : typeof s === 'number' ? [s] : [...s];
    if (this.sharedAxes && this.sharedAxes.some((a) => !Number.isInteger(a) || a < 1)) {
      throw new ValueError(`PReLU: sharedAxes must be positive (1-based, non-batch) axes, received ${JSON.stringify(s)}`);
    }
    this.supportsMasking = true;
  }

  override build(inputShape: Dim[]): void {
    const shape = inputShape.slice(1);
    if (this.sharedAxes) {
      for (const a of this.sharedAxes) {
        if (a > shape.length) incompatibleInput(this, `sharedAxes ${JSON.stringify(this.sharedAxes)} needs at least ndim=${a + 1}`, inputShape);
        shape[a - 1] = 1;
      }
    }
    if (shape.some((d) => d === null)) incompatibleInput(this, 'PReLU needs every non-batch dim not in sharedAxes to be known', inputShape);
    this.paramShape = shape as number[];
    this.alpha = this.addWeight({ name: 'alpha', shape: this.paramShape, initializer: this.alphaInitializer, regularizer: this.alphaRegularizer, constraint: this.alphaConstraint });
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = inputs as Tensor;
    const want = this.paramShape;
    const got = x.shape.slice(1);
    if (got.length !== want.length || got.some((d, i) => want[i] !== 1 && d !== null && d !== want[i])) {
      incompatibleInput(this, `expected ndim=${want.length + 1} with non-batch dims matching ${JSON.stringify(want)} (1 = shared)`, x.shape);
    }
    return ops.subtract(ops.relu(x), ops.multiply(this.alpha.value, ops.relu(ops.negative(x))));
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      alphaInitializer: initializers.serialize(this.alphaInitializer),
      alphaRegularizer: this.alphaRegularizer ? regularizers.serialize(this.alphaRegularizer) : null,
      alphaConstraint: this.alphaConstraint ? constraints.serialize(this.alphaConstraint) : null,
      sharedAxes: this.sharedAxes,
    };
  }
}

export interface ELUArgs extends LayerArgs {
  alpha?: number;
}

/** Keras' ELU: x for x > 0, `alpha * (exp(x) - 1)` otherwise. */
export class ELU extends Layer {
  readonly alpha: number;

  constructor(alpha: number | ELUArgs = 1, args: ELUArgs = {}) {
    const opts = typeof alpha === 'number' ? { ...args, alpha } : alpha;
    super(opts);
    this.alpha = opts.alpha ?? 1;
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return ops.elu(inputs as Tensor, this.alpha);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

export interface SoftmaxArgs extends LayerArgs {
  axis?: number | number[];
}

/** Keras' large negative logit for masked positions (float16 would use -3e4; not a dtype here). */
const LARGE_NEGATIVE = -1e9;

/**
 * Keras' Softmax over `axis` (one axis or several). With a mask (true = keep),
 * masked logits get -1e9 added and masked outputs are zeroed, so a fully masked row is 0.
 */
export class Softmax extends Layer {
  readonly axis: number | number[];

  constructor(axis: number | number[] | SoftmaxArgs = -1, args: SoftmaxArgs = {}) {
    const opts = typeof axis === 'number' || Array.isArray(axis) ? { ...args, axis } : axis;
    super(opts);
    this.axis = opts.axis ?? -1;
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], options: CallOptions = {}): Tensor {
    let x = inputs as Tensor;
    const mask = options.mask as Tensor | null | undefined;
    if (mask) x = ops.add(x, ops.multiply(ops.subtract(1, ops.cast(mask, x.dtype)), LARGE_NEGATIVE));
    let y: Tensor;
    if (Array.isArray(this.axis) && this.axis.length > 1) y = ops.exp(ops.subtract(x, ops.logsumexp(x, this.axis, true)));
    else y = ops.softmax(x, Array.isArray(this.axis) ? this.axis[0] : this.axis);
    if (mask) y = ops.multiply(y, ops.cast(mask, y.dtype));
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

for (const cls of [ReLU, LeakyReLU, PReLU, ELU, Softmax]) registerLayerClass(cls.name, cls as never);
