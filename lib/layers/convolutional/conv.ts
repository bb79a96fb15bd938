/**
 * Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D,
 * SeparableConv1D/2D. One base class holds the shared argument handling.
 */
import * as activations from '../../activations/index.js';
import type * as initializers from '../../initializers/index.js';
import type * as regularizers from '../../regularizers/index.js';
import type * as constraints from '../../constraints/index.js';
import { ValueError } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Variable } from '../../variable.js';
import { Layer, incompatibleInput, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';
import { serializeExtras } from '../core/dense.js';

export type Padding = 'valid' | 'same';
export type DataFormat = 'channels_last' | 'channels_first';

export interface ConvArgs extends LayerArgs {
  strides?: number | number[];
  padding?: Padding;
  dataFormat?: DataFormat | null;
  dilationRate?: number | number[];
  groups?: number;
  activation?: activations.ActivationLike;
  useBias?: boolean;
  kernelInitializer?: initializers.InitializerLike;
  biasInitializer?: initializers.InitializerLike;
  kernelRegularizer?: regularizers.RegularizerLike | null;
  biasRegularizer?: regularizers.RegularizerLike | null;
  kernelConstraint?: constraints.ConstraintLike | null;
  biasConstraint?: constraints.ConstraintLike | null;
  /** Conv*Transpose only. */
  outputPadding?: number | number[] | null;
  /** Depthwise and separable only. */
  depthMultiplier?: number;
  depthwiseInitializer?: initializers.InitializerLike;
  pointwiseInitializer?: initializers.InitializerLike;
}

function tuple(v: number | number[], n: number, layer: string, arg: string): number[] {
  const out = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (out.length !== n || out.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ValueError(`${layer}: ${arg} must be a positive integer or ${n} of them, received ${JSON.stringify(v)}`);
  }
  return out;
}

type Kind = 'conv' | 'transpose' | 'depthwise' | 'separable';

/** Shared base of all convolution layers of rank `rank` (spatial dims). */
abstract class BaseConv extends Layer {
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dataFormat: DataFormat;
  readonly dilationRate: number[];
  readonly groups: number;
  readonly activation: activations.Activation;
  readonly useBias: boolean;
  readonly depthMultiplier: number;
  kernel!: Variable;
  pointwiseKernel: Variable | null = null;
  bias: Variable | null = null;
  private builtChannels = 0;
  protected readonly args: ConvArgs;

  constructor(
    protected readonly rank: number,
    protected readonly kind: Kind,
    filters: number,
    kernelSize: number | number[],
    args: ConvArgs,
  ) {
    super(args);
    const name = new.target.name;
    if (kind !== 'depthwise' && (!Number.isInteger(filters) || filters <= 0)) throw new ValueError(`${name}: filters must be a positive integer, received ${filters}`);
    this.filters = filters;
    this.kernelSize = tuple(kernelSize, rank, name, 'kernelSize');
    this.strides = tuple(args.strides ?? 1, rank, name, 'strides');
    this.dilationRate = tuple(args.dilationRate ?? 1, rank, name, 'dilationRate');
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new ValueError(`${name}: padding must be 'valid' or 'same', received ${JSON.stringify(args.padding)}`);
    this.dataFormat = args.dataFormat ?? 'channels_last';
    this.groups = args.groups ?? 1;
    this.activation = activations.get(args.activation);
    this.useBias = args.useBias ?? true;
    this.depthMultiplier = args.depthMultiplier ?? 1;
    this.args = args;
  }

  private channelAxis(rank: number): number {
    return this.dataFormat === 'channels_last' ? rank - 1 : 1;
  }

  override build(inputShape: Dim[]): void {
    if (inputShape.length !== this.rank + 2) incompatibleInput(this, `expected ndim=${this.rank + 2}`, inputShape);
    const cin = inputShape[this.channelAxis(inputShape.length)];
    if (cin === null) incompatibleInput(this, 'the channel dimension of the inputs must be known', inputShape);
    this.builtChannels = cin;
    const a = this.args;
    let kernelShape: number[];
    let outChannels = this.filters;
    if (this.kind === 'conv') {
      if (cin % this.groups !== 0 || this.filters % this.groups !== 0) {
        throw new ValueError(`${this.className} "${this.name}": groups=${this.groups} must divide both the input channels (${cin}) and filters (${this.filters})`);
      }
      kernelShape = [...this.kernelSize, cin / this.groups, this.filters];
    } else if (this.kind === 'transpose') kernelShape = [...this.kernelSize, this.filters, cin];
    else {
      kernelShape = [...this.kernelSize, cin, this.depthMultiplier];
      if (this.kind === 'depthwise') outChannels = cin * this.depthMultiplier;
    }
    this.kernel = this.addWeight({
      name: this.kind === 'depthwise' || this.kind === 'separable' ? 'depthwise_kernel' : 'kernel',
      shape: kernelShape,
      initializer: (this.kind === 'depthwise' || this.kind === 'separable' ? a.depthwiseInitializer : a.kernelInitializer) ?? 'glorot_uniform',
      regularizer: a.kernelRegularizer,
      constraint: a.kernelConstraint,
    });
    if (this.kind === 'separable') {
      this.pointwiseKernel = this.addWeight({
        name: 'pointwise_kernel',
        shape: [...new Array<number>(this.rank).fill(1), cin * this.depthMultiplier, this.filters],
        initializer: a.pointwiseInitializer ?? 'glorot_uniform',
      });
    }
    if (this.useBias) {
      this.bias = this.addWeight({ name: 'bias', shape: [outChannels], initializer: a.biasInitializer ?? 'zeros', regularizer: a.biasRegularizer, constraint: a.biasConstraint });
    }
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _options: CallOptions = {}): Tensor {
    const x = inputs as Tensor;
    const axis = this.channelAxis(x.rank);
    if (x.rank !== this.rank + 2) incompatibleInput(this, `expected ndim=${this.rank + 2}`, x.shape);
    if (x.shape[axis] !== null && x.shape[axis] !== this.builtChannels) {
      incompatibleInput(this, `expected axis ${axis === 1 ? 1 : -1} of input shape to have value ${this.builtChannels}`, x.shape);
    }
    const opts = { strides: this.strides, padding: this.padding, dataFormat: this.dataFormat, dilationRate: this.dilationRate };
    let y: Tensor;
    if (this.kind === 'conv') y = ops.conv(x, this.kernel.value, opts);
    else if (this.kind === 'transpose') y = ops.convTranspose(x, this.kernel.value, { ...opts, outputPadding: this.args.outputPadding ?? null });
    else if (this.kind === 'depthwise') y = ops.depthwiseConv(x, this.kernel.value, opts);
    else y = ops.separableConv(x, this.kernel.value, this.pointwiseKernel!.value, opts);
    if (this.bias) {
      const b = this.dataFormat === 'channels_last' ? this.bias.value : ops.reshape(this.bias.value, [-1, ...new Array<number>(this.rank).fill(1)]);
      y = ops.add(y, b);
    }
    return this.activation(y);
  }

  override getConfig(): Record<string, unknown> {
    const base: Record<string, unknown> = {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
      activation: activations.serialize(this.activation),
      useBias: this.useBias,
      ...serializeExtras(this.args as Record<string, unknown>),
    };
    if (this.kind !== 'depthwise') base.filters = this.filters;
    if (this.kind === 'conv') base.groups = this.groups;
    if (this.kind === 'depthwise' || this.kind === 'separable') base.depthMultiplier = this.depthMultiplier;
    if (this.kind === 'transpose') base.outputPadding = this.args.outputPadding ?? null;
    return base;
  }
}

type FiltersCtor = (filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) => [number, number | number[], ConvArgs];

const filtersArgs: FiltersCtor = (filters, kernelSize, args = {}) =>
  typeof filters === 'object' ? [filters.filters, filters.kernelSize, filters] : [filters, kernelSize!, args];

/** Keras' Conv1D: (batch, steps, channels) inputs. */
export class Conv1D extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(1, 'conv', f, k, a);
  }
}

/** Keras' Conv2D: (batch, height, width, channels) inputs by default. */
export class Conv2D extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(2, 'conv', f, k, a);
  }
}

/** Keras' Conv3D. */
export class Conv3D extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(3, 'conv', f, k, a);
  }
}

/** Keras' Conv1DTranspose. */
export class Conv1DTranspose extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(1, 'transpose', f, k, a);
  }
}

/** Keras' Conv2DTranspose. */
export class Conv2DTranspose extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(2, 'transpose', f, k, a);
  }
}

/** Keras' Conv3DTranspose. */
export class Conv3DTranspose extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(3, 'transpose', f, k, a);
  }
}

/** Keras' SeparableConv1D. */
export class SeparableConv1D extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(1, 'separable', f, k, a);
  }
}

/** Keras' SeparableConv2D. */
export class SeparableConv2D extends BaseConv {
  constructor(filters: number | (ConvArgs & { filters: number; kernelSize: number | number[] }), kernelSize?: number | number[], args?: ConvArgs) {
    const [f, k, a] = filtersArgs(filters, kernelSize, args);
    super(2, 'separable', f, k, a);
  }
}

type KernelOnly = (kernelSize: number | number[] | (ConvArgs & { kernelSize: number | number[] }), args?: ConvArgs) => [number | number[], ConvArgs];
const kernelArgs: KernelOnly = (kernelSize, args = {}) =>
  typeof kernelSize === 'object' && !Array.isArray(kernelSize) ? [kernelSize.kernelSize, kernelSize] : [kernelSize, args];

/** Keras' DepthwiseConv1D. */
export class DepthwiseConv1D extends BaseConv {
  constructor(kernelSize: number | number[] | (ConvArgs & { kernelSize: number | number[] }), args?: ConvArgs) {
    const [k, a] = kernelArgs(kernelSize, args);
    super(1, 'depthwise', 0, k, a);
  }
}

/** Keras' DepthwiseConv2D. */
export class DepthwiseConv2D extends BaseConv {
  constructor(kernelSize: number | number[] | (ConvArgs & { kernelSize: number | number[] }), args?: ConvArgs) {
    const [k, a] = kernelArgs(kernelSize, args);
    super(2, 'depthwise', 0, k, a);
  }
}

for (const cls of [Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose, Conv3DTranspose, SeparableConv1D, SeparableConv2D, DepthwiseConv1D, DepthwiseConv2D]) {
  registerLayerClass(cls.name, cls as never);
}
