/**
 * Weightless core layers: Activation, Dropout, Flatten, Reshape, Permute,
 * RepeatVector, Identity, Lambda, Rescaling.
 */
import * as activations from '../../activations/index.js';
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import * as random from '../../random/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { Layer, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';

/** Applies an activation function. */
export class Activation extends Layer {
  readonly activation: activations.Activation;

  constructor(activation: activations.ActivationLike | (LayerArgs & { activation: activations.ActivationLike }), args: LayerArgs = {}) {
    const opts = activation !== null && typeof activation === 'object' ? activation : { ...args, activation };
    super(opts);
    this.activation = activations.get(opts.activation);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return this.activation(inputs as Tensor);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: activations.serialize(this.activation) };
  }
}

export interface DropoutArgs extends LayerArgs {
  noiseShape?: Dim[] | null;
  seed?: number | null;
}

/** Zeroes inputs with probability `rate` during training, scaling the rest by 1/(1-rate). */
export class Dropout extends Layer {
  readonly rate: number;
  readonly noiseShape: Dim[] | null;
  readonly seed: number | null;
  private readonly seedGenerator: random.SeedGenerator;

  constructor(rate: number | (DropoutArgs & { rate: number }), args: DropoutArgs = {}) {
    const opts = typeof rate === 'object' ? rate : { ...args, rate };
    super(opts);
    if (!(opts.rate >= 0 && opts.rate <= 1)) throw new ValueError(`Dropout: rate must be in [0, 1], received ${opts.rate}`);
    this.rate = opts.rate;
    this.noiseShape = opts.noiseShape ?? null;
    this.seed = opts.seed ?? null;
    this.seedGenerator = new random.SeedGenerator(this.seed ?? undefined);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], options: CallOptions = {}): Tensor {
    const x = inputs as Tensor;
    if (!options.training || this.rate === 0) return x;
    return random.dropout(x, this.rate, { noiseShape: this.noiseShape, seed: this.seedGenerator });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape, seed: this.seed };
  }
}

/** Flattens all but the batch dimension. */
export class Flatten extends Layer {
  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = inputs as Tensor;
    const rest = x.shape.slice(1);
    if (rest.some((d) => d === null)) throw new ShapeError(`Flatten "${this.name}": all non-batch dims must be known, received ${fmtShape(x.shape)}`);
    const n = (rest as number[]).reduce((a, b) => a * b, 1);
    return ops.reshape(x, [x.shape[0] === null ? -1 : x.shape[0], n]);
  }
}

/** Reshapes the non-batch dims to `targetShape` (one -1 allowed). */
export class Reshape extends Layer {
  readonly targetShape: number[];

  constructor(targetShape: number[] | (LayerArgs & { targetShape: number[] }), args: LayerArgs = {}) {
    const opts = Array.isArray(targetShape) ? { ...args, targetShape } : targetShape;
    super(opts);
    this.targetShape = [...opts.targetShape];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = inputs as Tensor;
    const batch = x.shape[0];
    if (batch === null && this.targetShape.includes(-1)) {
      const rest = x.shape.slice(1) as number[];
      const total = rest.reduce((a, b) => a * b, 1);
      const known = this.targetShape.reduce((a, b) => (b === -1 ? a : a * b), 1);
      if (total % known !== 0) throw new ShapeError(`Reshape "${this.name}": cannot reshape ${fmtShape(x.shape)} to (None, ${this.targetShape.join(', ')})`);
      return ops.reshape(x, [-1, ...this.targetShape.map((d) => (d === -1 ? total / known : d))]);
    }
    return ops.reshape(x, [batch === null ? -1 : batch, ...this.targetShape]);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }
}

/** Permutes the non-batch dims; `dims` are 1-based as in Keras. */
export class Permute extends Layer {
  readonly dims: number[];

  constructor(dims: number[] | (LayerArgs & { dims: number[] }), args: LayerArgs = {}) {
    const opts = Array.isArray(dims) ? { ...args, dims } : dims;
    super(opts);
    const sorted = [...opts.dims].sort((a, b) => a - b);
    if (sorted.some((d, i) => d !== i + 1)) throw new ValueError(`Permute: dims must be a permutation of 1..${opts.dims.length}, received ${JSON.stringify(opts.dims)}`);
    this.dims = [...opts.dims];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return ops.transpose(inputs as Tensor, [0, ...this.dims]);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dims: this.dims };
  }
}

/** Repeats a 2-D input `n` times along a new axis 1: (batch, f) -> (batch, n, f). */
export class RepeatVector extends Layer {
  readonly n: number;

  constructor(n: number | (LayerArgs & { n: number }), args: LayerArgs = {}) {
    const opts = typeof n === 'number' ? { ...args, n } : n;
    super(opts);
    this.n = opts.n;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = inputs as Tensor;
    if (x.rank !== 2) throw new ShapeError(`RepeatVector "${this.name}": expected a 2-D input (batch, features), received ${fmtShape(x.shape)}`);
    return ops.repeat(ops.expandDims(x, 1), this.n, 1);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), n: this.n };
  }
}

/** Returns its input unchanged. */
export class Identity extends Layer {
  constructor(args: LayerArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }
}

/** Wraps a function of tensors as a layer (not serializable to config, as in Keras without safe mode). */
export class Lambda extends Layer {
  constructor(
    readonly fn: (inputs: Tensor | Tensor[]) => Tensor | Tensor[],
    args: LayerArgs = {},
  ) {
    super(args);
    if (typeof fn !== 'function') throw new ValueError(`Lambda: expected a function, received ${typeof fn}`);
  }

  override call(inputs: Tensor | Tensor[]): Tensor | Tensor[] {
    return this.fn(inputs);
  }
}

export interface RescalingArgs extends LayerArgs {
  offset?: number;
}

/** `inputs * scale + offset` (e.g. scale 1/255 for pixel values). */
export class Rescaling extends Layer {
  readonly scale: number;
  readonly offset: number;

  constructor(scale: number | (RescalingArgs & { scale: number }), args: RescalingArgs = {}) {
    const opts = typeof scale === 'number' ? { ...args, scale } : scale;
    super(opts);
    this.scale = opts.scale;
    this.offset = opts.offset ?? 0;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = ops.cast(inputs as Tensor, this.dtype);
    return ops.add(ops.multiply(x, this.scale), this.offset);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

for (const cls of [Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Identity, Rescaling]) registerLayerClass(cls.name, cls as never);
