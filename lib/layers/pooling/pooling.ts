/**
 * Pooling layers (Max/Average 1D/2D/3D, Global Max/Average 1D/2D/3D) and the
 * spatial helpers ZeroPadding1D/2D/3D and UpSampling1D/2D.
 */
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';
import { Layer, incompatibleInput, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';
import type { DataFormat, Padding } from '../convolutional/conv.js';

export interface PoolArgs extends LayerArgs {
  poolSize?: number | number[];
  strides?: number | number[] | null;
  padding?: Padding;
  dataFormat?: DataFormat | null;
}

abstract class BasePool extends Layer {
  readonly poolSize: number | number[];
  readonly strides: number | number[] | null;
  readonly padding: Padding;
  readonly dataFormat: DataFormat;

  constructor(
    protected readonly rank: number,
    protected readonly mode: 'max' | 'average',
    poolSize: number | number[] | PoolArgs | undefined,
    args: PoolArgs = {},
  ) {
    const opts: PoolArgs = typeof poolSize === 'object' && !Array.isArray(poolSize) ? poolSize : { ...args, poolSize: poolSize ?? args.poolSize };
    super(opts);
    this.poolSize = opts.poolSize ?? 2;
    this.strides = opts.strides ?? null;
    this.padding = opts.padding ?? 'valid';
    this.dataFormat = opts.dataFormat ?? 'channels_last';
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = inputs as Tensor;
    if (x.rank !== this.rank + 2) incompatibleInput(this, `expected ndim=${this.rank + 2}`, x.shape);
    const o = { strides: this.strides, padding: this.padding, dataFormat: this.dataFormat };
    return this.mode === 'max' ? ops.maxPool(x, this.poolSize, o) : ops.averagePool(x, this.poolSize, o);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding, dataFormat: this.dataFormat };
  }
}

export class MaxPooling1D extends BasePool {
  constructor(poolSize?: number | number[] | PoolArgs, args?: PoolArgs) {
    super(1, 'max', poolSize, args);
  }
}
export class MaxPooling2D extends BasePool {
  constructor(poolSize?: number | number[] | PoolArgs, args?: PoolArgs) {
    super(2, 'max', poolSize, args);
  }
}
export class MaxPooling3D extends BasePool {
  constructor(poolSize?: number | number[] | PoolArgs, args?: PoolArgs) {
    super(3, 'max', poolSize, args);
  }
}
export class AveragePooling1D extends BasePool {
  constructor(poolSize?: number | number[] | PoolArgs, args?: PoolArgs) {
    super(1, 'average', poolSize, args);
  }
}
export class AveragePooling2D extends BasePool {
  constructor(poolSize?: number | number[] | PoolArgs, args?: PoolArgs) {
    super(2, 'average', poolSize, args);
  }
}
export class AveragePooling3D extends BasePool {
  constructor(poolSize?: number | number[] | PoolArgs, args?: PoolArgs) {
    super(3, 'average', poolSize, args);
  }
}

export interface GlobalPoolArgs extends LayerArgs {
  dataFormat?: DataFormat | null;
  keepdims?: boolean;
}

abstract class BaseGlobalPool extends Layer {
  readonly dataFormat: DataFormat;
  readonly keepdims: boolean;

  constructor(
    protected readonly rank: number,
    protected readonly mode: 'max' | 'average',
    args: GlobalPoolArgs = {},
  ) {
    super(args);
    this.dataFormat = args.dataFormat ?? 'channels_last';
    this.keepdims = args.keepdims ?? false;
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], options: CallOptions = {}): Tensor {
    const x = inputs as Tensor;
    if (x.rank !== this.rank + 2) incompatibleInput(this, `expected ndim=${this.rank + 2}`, x.shape);
    const axes = this.dataFormat === 'channels_last' ? Array.from({ length: this.rank }, (_, i) => i + 1) : Array.from({ length: this.rank }, (_, i) => i + 2);
    const mask = options.mask as Tensor | null | undefined;
    if (mask && this.mode === 'average' && this.rank === 1) {
      // Keras averages only the unmasked steps.
      const m = ops.expandDims(ops.cast(mask, x.dtype), this.dataFormat === 'channels_last' ? 2 : 1);
      return ops.divide(ops.sum(ops.multiply(x, m), axes, this.keepdims), ops.sum(m, axes, this.keepdims));
    }
    return this.mode === 'max' ? ops.max(x, axes, this.keepdims) : ops.mean(x, axes, this.keepdims);
  }

  /** The mask is consumed: pooled outputs have no time axis left to mask. */
  override computeMask(): null {
    return null;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dataFormat: this.dataFormat, keepdims: this.keepdims };
  }
}

export class GlobalMaxPooling1D extends BaseGlobalPool {
  constructor(args?: GlobalPoolArgs) {
    super(1, 'max', args);
  }
}
export class GlobalMaxPooling2D extends BaseGlobalPool {
  constructor(args?: GlobalPoolArgs) {
    super(2, 'max', args);
  }
}
export class GlobalMaxPooling3D extends BaseGlobalPool {
  constructor(args?: GlobalPoolArgs) {
    super(3, 'max', args);
  }
}
export class GlobalAveragePooling1D extends BaseGlobalPool {
  constructor(args?: GlobalPoolArgs) {
    super(1, 'average', args);
  }
}
export class GlobalAveragePooling2D extends BaseGlobalPool {
  constructor(args?: GlobalPoolArgs) {
    super(2, 'average', args);
  }
}
export class GlobalAveragePooling3D extends BaseGlobalPool {
  constructor(args?: GlobalPoolArgs) {
    super(3, 'average', args);
  }
}

type PadSpec = number | number[] | [number, number][];

export interface ZeroPaddingArgs extends LayerArgs {
  padding?: PadSpec;
  dataFormat?: DataFormat | null;
}

/** Pads spatial dims with zeros: an int, one int per dim, or [before, after] per dim. */
abstract class BaseZeroPadding extends Layer {
  readonly padding: [number, number][];
  readonly dataFormat: DataFormat;

  constructor(
    protected readonly rank: number,
    padding: PadSpec | ZeroPaddingArgs | undefined,
    args: ZeroPaddingArgs = {},
  ) {
    const opts: ZeroPaddingArgs = padding !== undefined && typeof padding === 'object' && !Array.isArray(padding) ? padding : { ...args, padding: padding ?? args.padding };
    super(opts);
    const p = opts.padding ?? 1;
    const name = new.target.name;
    const pairs: [number, number][] =
      typeof p === 'number' ? new Array(rank).fill([p, p]) : (p as unknown[]).map((e) => (typeof e === 'number' ? [e, e] : (e as [number, number])));
    if (pairs.length !== rank || pairs.some((q) => q.length !== 2 || q.some((v) => !Number.isInteger(v) || v < 0))) {
      throw new ValueError(`${name}: padding must be an int, ${rank} ints or ${rank} [before, after] pairs, received ${JSON.stringify(p)}`);
    }
    this.padding = pairs;
    this.dataFormat = opts.dataFormat ?? 'channels_last';
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = inputs as Tensor;
    if (x.rank !== this.rank + 2) incompatibleInput(this, `expected ndim=${this.rank + 2}`, x.shape);
    const spatial = this.dataFormat === 'channels_last' ? [[0, 0], ...this.padding, [0, 0]] : [[0, 0], [0, 0], ...this.padding];
    return ops.pad(x, spatial as [number, number][]);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding, dataFormat: this.dataFormat };
  }
}

export class ZeroPadding1D extends BaseZeroPadding {
  constructor(padding?: PadSpec | ZeroPaddingArgs, args?: ZeroPaddingArgs) {
    super(1, padding, args);
  }
}
export class ZeroPadding2D extends BaseZeroPadding {
  constructor(padding?: PadSpec | ZeroPaddingArgs, args?: ZeroPaddingArgs) {
    super(2, padding, args);
  }
}
export class ZeroPadding3D extends BaseZeroPadding {
  constructor(padding?: PadSpec | ZeroPaddingArgs, args?: ZeroPaddingArgs) {
    super(3, padding, args);
  }
}

export interface UpSamplingArgs extends LayerArgs {
  size?: number | number[];
  dataFormat?: DataFormat | null;
  interpolation?: 'nearest';
}

/** Repeats rows and columns (nearest-neighbour upsampling). */
abstract class BaseUpSampling extends Layer {
  readonly size: number[];
  readonly dataFormat: DataFormat;

  constructor(
    protected readonly rank: number,
    size: number | number[] | UpSamplingArgs | undefined,
    args: UpSamplingArgs = {},
  ) {
    const opts: UpSamplingArgs = size !== undefined && typeof size === 'object' && !Array.isArray(size) ? size : { ...args, size: size ?? args.size };
    super(opts);
    const s = opts.size ?? 2;
    this.size = typeof s === 'number' ? new Array(rank).fill(s) : [...s];
    if (this.size.length !== rank) throw new ValueError(`${new.target.name}: size must be an int or ${rank} ints, received ${JSON.stringify(s)}`);
    if (opts.interpolation && opts.interpolation !== 'nearest') {
      throw new ValueError(`${new.target.name}: interpolation ${JSON.stringify(opts.interpolation)} is not supported; only 'nearest'`);
    }
    this.dataFormat = opts.dataFormat ?? 'channels_last';
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    let x = inputs as Tensor;
    if (x.rank !== this.rank + 2) throw new ShapeError(`${this.className} "${this.name}": expected ndim=${this.rank + 2}, received ${fmtShape(x.shape)}`);
    const first = this.dataFormat === 'channels_last' ? 1 : 2;
    this.size.forEach((s, i) => {
      if (s !== 1) x = ops.repeat(x, s, first + i);
    });
    return x;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size, dataFormat: this.dataFormat, interpolation: 'nearest' };
  }
}

export class UpSampling1D extends BaseUpSampling {
  constructor(size?: number | UpSamplingArgs, args?: UpSamplingArgs) {
    super(1, size, args);
  }
}
export class UpSampling2D extends BaseUpSampling {
  constructor(size?: number | number[] | UpSamplingArgs, args?: UpSamplingArgs) {
    super(2, size, args);
  }
}

for (const cls of [
  MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling1D, AveragePooling2D, AveragePooling3D,
  GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
  ZeroPadding1D, ZeroPadding2D, ZeroPadding3D, UpSampling1D, UpSampling2D,
]) registerLayerClass(cls.name, cls as never);
