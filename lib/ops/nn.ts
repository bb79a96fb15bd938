/**
 * Neural-network ops (keras.ops.nn): activations, convolutions and pooling,
 * cross-entropies, moments and normalization.
 *
 * Primitives: conv, convBackpropInput, convBackpropFilter, maxPool, maxPoolGrad, avgPool,
 * avgPoolGrad (channels_last, any number of spatial dims), the single-pass softmax,
 * logSoftmax and sparseSoftmaxCrossEntropy, the fused layerNorm / layerNormGrad over
 * trailing axes, and the fused batchNorm / batchNormGrad (batch statistics over every axis
 * but the channels). Everything else is composite. channels_first
 * is handled here by transposing around the primitives.
 */
import { FLOATX, isFloat } from '../dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { isRecording, run1, runOp } from '../engine.js';
import { normalizeAxes, normalizeAxis, type Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defineOp, type TensorSpec } from './registry.js';
import { asFloat, convertToTensor, promote, type TensorLike } from './common.js';
import {
  abs,
  add,
  cast,
  clip,
  divide,
  equal,
  exp,
  expm1,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  logicalAnd,
  maximum,
  minimum,
  multiply,
  negative,
  rsqrt,
  sigmoid,
  sqrt,
  square,
  stopGradient,
  subtract,
  tanh,
  where,
  zerosLike,
} from './elementwise.js';
import { max, mean, norm, sum } from './reduction.js';
import { expandDims, reshape, slice, squeeze, transpose } from './shape.js';
import { matmul } from './linalg.js';
import { optionalArgs } from '../utils/args.js';

// ---------------------------------------------------------------- primitives

type Pair = [number, number];

/** Attributes shared by the convolution primitives; one entry per spatial dim. */
type ConvAttrs = {
  strides: number[];
  /** Explicit [before, after] padding per spatial dim (negative crops). */
  padding: Pair[];
  dilation: number[];
  groups: number;
};

type PoolAttrs = {
  poolSize: number[];
  strides: number[];
  padding: Pair[];
};

/** Output length of a window sweep; null when the input length is unknown. */
function windowOut(op: string, n: Dim, k: number, s: number, d: number, [pb, pa]: Pair, what: () => string): Dim {
  if (n === null) return null;
  const eff = (k - 1) * d + 1;
  const span = n + pb + pa - eff;
  if (span < 0) throw new ShapeError(`${op}: the window (size ${k}, dilation ${d}) is larger than the padded input (${n} + ${pb} + ${pa}) for ${what()}`);
  return Math.floor(span / s) + 1;
}

function checkSpatialAttrs(op: string, nsp: number, attrs: Record<string, unknown>, names: string[]): void {
  for (const name of names) {
    const v = attrs[name] as unknown[];
    if (!Array.isArray(v) || v.length !== nsp) throw new ValueError(`${op}: attribute ${name} must have one entry per spatial dim (${nsp}), received ${JSON.stringify(v)}`);
  }
}

function checkRank(op: string, arg: string, t: TensorSpec): number {
  if (t.shape.length < 3 || t.shape.length > 5) {
    throw new ShapeError(`${op}: ${arg} must have rank 3, 4 or 5 (batch, spatial dims..., channels), received shape ${fmtShape(t.shape)}`);
  }
  return t.shape.length - 2;
}

function checkFloatPair(op: string, a: TensorSpec, b: TensorSpec, names: [string, string]): void {
  if (!isFloat(a.dtype) || a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: ${names[0]} and ${names[1]} must be float tensors of one dtype, received ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  }
}

/** Spatial output shape of a convolution of `inSpatial` with kernel `kSpatial`. */
function convSpatial(op: string, inSpatial: Dim[], kSpatial: number[], attrs: ConvAttrs, what: () => string): Dim[] {
  return inSpatial.map((n, i) => windowOut(op, n, kSpatial[i], attrs.strides[i], attrs.dilation[i], attrs.padding[i], what));
}

/** Checks that a given gradient's spatial dims are those the forward conv would produce. */
function checkDySpatial(op: string, dy: TensorSpec, expected: Dim[], what: string): void {
  const got = dy.shape.slice(1, -1);
  if (got.some((d, i) => d !== null && expected[i] !== null && d !== expected[i])) {
    throw new ShapeError(`${op}: dy of shape ${fmtShape(dy.shape)} does not match the convolution output spatial dims ${fmtShape(expected)} of ${what}`);
  }
}

defineOp<ConvAttrs>({
  name: 'conv',
  category: 'nn',
  attrs: ['strides', 'padding', 'dilation', 'groups'],
  arity: 2,
  infer([x, k], attrs) {
    const nsp = checkRank('conv', 'inputs', x);
    if (k.shape.length !== nsp + 2) throw new ShapeError(`conv: kernel of shape ${fmtShape(k.shape)} must have rank ${nsp + 2} to match inputs of shape ${fmtShape(x.shape)}`);
    checkFloatPair('conv', x, k, ['inputs', 'kernel']);
    checkSpatialAttrs('conv', nsp, attrs, ['strides', 'padding', 'dilation']);
    const { groups } = attrs;
    const cin = x.shape[nsp + 1];
    const kin = k.shape[nsp] as number;
    const cout = k.shape[nsp + 1] as number;
    if ((cin !== null && cin !== kin * groups) || cout % groups !== 0) {
      throw new ShapeError(
        `conv: inputs of shape ${fmtShape(x.shape)} have ${cin} channels but kernel of shape ${fmtShape(k.shape)} expects ${kin} input channels x ${groups} group(s)` +
          (cout % groups ? ` (and ${cout} output channels are not divisible by ${groups} groups)` : ''),
      );
    }
    const spatial = convSpatial('conv', x.shape.slice(1, -1), k.shape.slice(0, nsp) as number[], attrs, () => `inputs ${fmtShape(x.shape)} and kernel ${fmtShape(k.shape)}`);
    return [{ shape: [x.shape[0], ...spatial, cout], dtype: x.dtype }];
  },
  grad: ({ inputs: [x, k], attrs, needs }, [dy]) => [
    needs?.[0] === false ? null : convBackpropInputPrim(dy!, k, knownSpatial(x, 'conv'), attrs),
    needs?.[1] === false ? null : convBackpropFilterPrim(x, dy!, spatialOf(k), attrs),
  ],
});

defineOp<ConvAttrs & { inputSize: number[] }>({
  name: 'convBackpropInput',
  category: 'nn',
  attrs: ['inputSize', 'strides', 'padding', 'dilation', 'groups'],
  arity: 2,
  infer([dy, k], attrs) {
    const nsp = checkRank('convBackpropInput', 'dy', dy);
    if (k.shape.length !== nsp + 2) throw new ShapeError(`convBackpropInput: kernel of shape ${fmtShape(k.shape)} must have rank ${nsp + 2} to match dy of shape ${fmtShape(dy.shape)}`);
    checkFloatPair('convBackpropInput', dy, k, ['dy', 'kernel']);
    checkSpatialAttrs('convBackpropInput', nsp, attrs, ['inputSize', 'strides', 'padding', 'dilation']);
    const cout = dy.shape[nsp + 1];
    if (cout !== null && cout !== k.shape[nsp + 1]) {
      throw new ShapeError(`convBackpropInput: dy of shape ${fmtShape(dy.shape)} has ${cout} channels but kernel of shape ${fmtShape(k.shape)} has ${k.shape[nsp + 1]} output channels`);
    }
    const kSpatial = k.shape.slice(0, nsp) as number[];
    const what = () => `input size ${fmtShape(attrs.inputSize)} and kernel ${fmtShape(k.shape)}`;
    checkDySpatial('convBackpropInput', dy, convSpatial('convBackpropInput', attrs.inputSize, kSpatial, attrs, what), what());
    return [{ shape: [dy.shape[0], ...attrs.inputSize, (k.shape[nsp] as number) * attrs.groups], dtype: dy.dtype }];
  },
  // Linear in both inputs: d/d dy is the forward conv; d/d kernel is the filter gradient with the upstream gradient as the conv input.
  grad: ({ inputs: [dy, k], attrs }, [g]) => [convPrim(g!, k, attrs), convBackpropFilterPrim(g!, dy, spatialOf(k), attrs)],
});

defineOp<ConvAttrs & { kernelSize: number[] }>({
  name: 'convBackpropFilter',
  category: 'nn',
  attrs: ['kernelSize', 'strides', 'padding', 'dilation', 'groups'],
  arity: 2,
  infer([x, dy], attrs) {
    const nsp = checkRank('convBackpropFilter', 'inputs', x);
    if (dy.shape.length !== nsp + 2) throw new ShapeError(`convBackpropFilter: dy of shape ${fmtShape(dy.shape)} must have rank ${nsp + 2} to match inputs of shape ${fmtShape(x.shape)}`);
    checkFloatPair('convBackpropFilter', x, dy, ['inputs', 'dy']);
    checkSpatialAttrs('convBackpropFilter', nsp, attrs, ['kernelSize', 'strides', 'padding', 'dilation']);
    const cin = x.shape[nsp + 1];
    const cout = dy.shape[nsp + 1];
    const { groups } = attrs;
    if (cin === null || cout === null) throw new ShapeError(`convBackpropFilter: channels must be known, received inputs ${fmtShape(x.shape)} and dy ${fmtShape(dy.shape)}`);
    if (cin % groups || cout % groups) throw new ShapeError(`convBackpropFilter: channels of inputs ${fmtShape(x.shape)} and dy ${fmtShape(dy.shape)} must be divisible by ${groups} groups`);
    if (x.shape[0] !== null && dy.shape[0] !== null && x.shape[0] !== dy.shape[0]) {
      throw new ShapeError(`convBackpropFilter: inputs of shape ${fmtShape(x.shape)} and dy of shape ${fmtShape(dy.shape)} have different batch sizes`);
    }
    const what = () => `inputs ${fmtShape(x.shape)} and kernel size ${fmtShape(attrs.kernelSize)}`;
    checkDySpatial('convBackpropFilter', dy, convSpatial('convBackpropFilter', x.shape.slice(1, -1), attrs.kernelSize, attrs, what), what());
    return [{ shape: [...attrs.kernelSize, cin / groups, cout], dtype: x.dtype }];
  },
  // Bilinear in (inputs, dy): each gradient is one of the other two conv primitives.
  grad: ({ inputs: [x, dy], attrs }, [g]) => [convBackpropInputPrim(dy, g!, knownSpatial(x, 'convBackpropFilter'), attrs), convPrim(x, g!, attrs)],
});

function inferPool(op: string, x: TensorSpec, attrs: PoolAttrs): Dim[] {
  const nsp = checkRank(op, 'inputs', x);
  checkSpatialAttrs(op, nsp, attrs, ['poolSize', 'strides', 'padding']);
  const spatial = x.shape
    .slice(1, -1)
    .map((n, i) => windowOut(op, n, attrs.poolSize[i], attrs.strides[i], 1, attrs.padding[i], () => `inputs ${fmtShape(x.shape)} and pool size ${fmtShape(attrs.poolSize)}`));
  return [x.shape[0], ...spatial, x.shape[nsp + 1]];
}

defineOp<PoolAttrs>({
  name: 'maxPool',
  category: 'nn',
  attrs: ['poolSize', 'strides', 'padding'],
  arity: 1,
  infer([x], attrs) {
    if (x.dtype === 'bool') throw new DTypeError(`maxPool: bool inputs are not supported ${fmtShape(x.shape)}`);
    return [{ shape: inferPool('maxPool', x, attrs), dtype: x.dtype }];
  },
  // Pooling a ReLU's output (a traced graph knows x's producer): windows whose max is not
  // positive route nothing, which is what ReLU's gradient would leave of them, and ReLU's rule
  // then passes this gradient through (elementwise.ts) instead of a compare-and-select pass over
  // the activations.
  grad: ({ inputs: [x], attrs }, [dy]) => [run1('maxPoolGrad', [x, dy!], x.node?.op.name === 'relu' ? { ...attrs, positiveMax: true } : attrs)],
});

/** Why a backward-pass primitive has no derivative of its own (OpDef.gradientUnsupported). */
function secondOrderUnsupported(what: string): string {
  return `second derivatives through ${what} are not supported; compute them with the composite ops (for example ops.moments and arithmetic) instead`;
}

// dy routed to each window's max (the first tap equal to it, or the first NaN); with positiveMax,
// only from windows whose max is > 0.
defineOp<PoolAttrs & { positiveMax?: boolean }>({
  name: 'maxPoolGrad',
  category: 'nn',
  attrs: ['poolSize', 'strides', 'padding', 'positiveMax'],
  arity: 2,
  infer([x, dy], attrs) {
    checkFloatPair('maxPoolGrad', x, dy, ['inputs', 'dy']);
    const expected = inferPool('maxPoolGrad', x, attrs);
    if (dy.shape.length !== expected.length || dy.shape.some((d, i) => d !== null && expected[i] !== null && d !== expected[i])) {
      throw new ShapeError(`maxPoolGrad: dy of shape ${fmtShape(dy.shape)} does not match the pooled shape ${fmtShape(expected)} of inputs ${fmtShape(x.shape)}`);
    }
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  gradientUnsupported: secondOrderUnsupported('max pooling'),
});

defineOp<PoolAttrs>({
  name: 'avgPool',
  category: 'nn',
  attrs: ['poolSize', 'strides', 'padding'],
  arity: 1,
  infer([x], attrs) {
    if (!isFloat(x.dtype)) throw new DTypeError(`avgPool: expected a float tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
    return [{ shape: inferPool('avgPool', x, attrs), dtype: x.dtype }];
  },
  grad: ({ inputs: [x], attrs }, [dy]) => [run1('avgPoolGrad', [dy!], { ...attrs, inputSize: knownSpatial(x, 'avgPool') })],
});

defineOp<PoolAttrs & { inputSize: number[] }>({
  name: 'avgPoolGrad',
  category: 'nn',
  attrs: ['poolSize', 'strides', 'padding', 'inputSize'],
  arity: 1,
  infer([dy], attrs) {
    const nsp = checkRank('avgPoolGrad', 'dy', dy);
    if (!isFloat(dy.dtype)) throw new DTypeError(`avgPoolGrad: expected a float tensor, received ${dy.dtype} ${fmtShape(dy.shape)}`);
    checkSpatialAttrs('avgPoolGrad', nsp, attrs, ['inputSize']);
    const x = { shape: [dy.shape[0], ...attrs.inputSize, dy.shape[nsp + 1]], dtype: dy.dtype };
    const expected = inferPool('avgPoolGrad', x, attrs);
    if (dy.shape.some((d, i) => d !== null && expected[i] !== null && d !== expected[i])) {
      throw new ShapeError(`avgPoolGrad: dy of shape ${fmtShape(dy.shape)} does not match the pooled shape ${fmtShape(expected)} of inputs ${fmtShape(x.shape)}`);
    }
    return [x];
  },
  // Linear: its gradient is the average pool itself.
  grad: ({ attrs: { inputSize: _inputSize, ...pool } }, [g]) => [run1('avgPool', [g!], pool)],
});

function spatialOf(t: Tensor): number[] {
  return t.shape.slice(0, t.rank - 2);
}

/** Spatial dims of a channels_last tensor, which gradients need to be known. */
function knownSpatial(x: Tensor, op: string): number[] {
  const s = x.shape.slice(1, -1);
  if (s.some((d) => d === null)) throw new ShapeError(`${op}: the gradient needs known spatial dims, received inputs of shape ${fmtShape(x.shape)}`);
  return s;
}

function convPrim(x: Tensor, k: Tensor, a: ConvAttrs): Tensor {
  return run1('conv', [x, k], { strides: a.strides, padding: a.padding, dilation: a.dilation, groups: a.groups });
}

function convBackpropInputPrim(dy: Tensor, k: Tensor, inputSize: number[], a: ConvAttrs): Tensor {
  return run1('convBackpropInput', [dy, k], { inputSize, strides: a.strides, padding: a.padding, dilation: a.dilation, groups: a.groups });
}

function convBackpropFilterPrim(x: Tensor, dy: Tensor, kernelSize: number[], a: ConvAttrs): Tensor {
  return run1('convBackpropFilter', [x, dy], { kernelSize, strides: a.strides, padding: a.padding, dilation: a.dilation, groups: a.groups });
}

// ---------------------------------------------------------------- argument helpers

type Padding = 'valid' | 'same';
type DataFormat = 'channels_last' | 'channels_first';
/** Keras keyword arguments of the convolution ops. */
export interface ConvOptions {
  strides?: number | number[];
  padding?: Padding;
  dataFormat?: DataFormat | null;
  dilationRate?: number | number[];
}

/** Keras keyword arguments of the pooling ops. */
export interface PoolOptions {
  strides?: number | number[] | null;
  padding?: Padding;
  dataFormat?: DataFormat | null;
}

function tuple(v: number | readonly number[], n: number, op: string, arg: string): number[] {
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (list.length !== n || list.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(`${op}: ${arg} must be a positive integer or ${n} positive integers, received ${JSON.stringify(v)}`);
  }
  return list;
}

function parsePadding(padding: unknown, op: string): Padding {
  const p = typeof padding === 'string' ? padding.toLowerCase() : padding;
  if (p !== 'valid' && p !== 'same') throw new ValueError(`${op}: padding must be 'valid' or 'same', received ${JSON.stringify(padding)}`);
  return p;
}

function parseDataFormat(df: unknown, op: string): DataFormat {
  if (df === null || df === undefined) return 'channels_last';
  if (df !== 'channels_last' && df !== 'channels_first') throw new ValueError(`${op}: dataFormat must be 'channels_last' or 'channels_first', received ${JSON.stringify(df)}`);
  return df;
}

/** TF/Keras 'same' padding: output ceil(n / s), the odd pixel of padding goes after. */
function samePad(n: Dim, k: number, s: number, d: number, op: string, shape: readonly Dim[]): Pair {
  const eff = (k - 1) * d + 1;
  if (n === null) {
    if (s === 1) return [Math.floor((eff - 1) / 2), eff - 1 - Math.floor((eff - 1) / 2)];
    throw new ShapeError(`${op}: padding 'same' with strides ${s} needs known spatial dims, received shape ${fmtShape(shape)}`);
  }
  const total = Math.max((Math.ceil(n / s) - 1) * s + eff - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function explicitPadding(padding: Padding, x: Tensor, k: number[], s: number[], d: number[], op: string): Pair[] {
  const spatial = x.shape.slice(1, -1);
  return spatial.map((n, i) => (padding === 'valid' ? [0, 0] : samePad(n, k[i], s[i], d[i], op, x.shape)));
}

function checkInputRank(t: Tensor, op: string): number {
  if (t.rank < 3 || t.rank > 5) throw new ShapeError(`${op}: inputs must have rank 3, 4 or 5 (batch, spatial dims..., channels), received shape ${fmtShape(t.shape)}`);
  return t.rank - 2;
}

/** [N, C, ...S] -> [N, ...S, C] when channels_first. */
function toChannelsLast(x: Tensor, df: DataFormat): Tensor {
  if (df === 'channels_last') return x;
  return transpose(x, [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1]);
}

function fromChannelsLast(y: Tensor, df: DataFormat): Tensor {
  if (df === 'channels_last') return y;
  return transpose(y, [0, y.rank - 1, ...Array.from({ length: y.rank - 2 }, (_, i) => i + 1)]);
}

/** Inputs and kernel promoted to one float dtype. */
function floatOperands(op: string, inputs: TensorLike, kernel: TensorLike): [Tensor, Tensor] {
  const { dtype, tensors } = promote(op, inputs, kernel);
  const [x, k] = isFloat(dtype) ? tensors : tensors.map((t) => cast(t, FLOATX));
  return [x, k];
}

// ---------------------------------------------------------------- convolutions

const CONV_DEFAULTS: Required<ConvOptions> = { strides: 1, padding: 'valid', dataFormat: null, dilationRate: 1 };

interface ConvCall {
  /** The inputs as given (for error messages) and as channels_last. */
  inShape: number[];
  x: Tensor;
  k: Tensor;
  nsp: number;
  strides: number[];
  dilation: number[];
  padding: Padding;
  df: DataFormat;
}

function convCall(op: string, inputs: TensorLike, kernel: TensorLike, o: Required<ConvOptions>): ConvCall {
  const [x0, k] = floatOperands(op, inputs, kernel);
  const nsp = checkInputRank(x0, op);
  if (k.rank !== nsp + 2) throw new ShapeError(`${op}: kernel of shape ${fmtShape(k.shape)} must have rank ${nsp + 2} to match inputs of shape ${fmtShape(x0.shape)}`);
  const df = parseDataFormat(o.dataFormat, op);
  return {
    inShape: x0.shape,
    x: toChannelsLast(x0, df),
    k,
    nsp,
    strides: tuple(o.strides, nsp, op, 'strides'),
    dilation: tuple(o.dilationRate, nsp, op, 'dilationRate'),
    padding: parsePadding(o.padding, op),
    df,
  };
}

/**
 * General N-D convolution (1D, 2D or 3D), `keras.ops.conv`. Kernel is
 * [...kernelSize, inChannels / groups, outChannels]; when the inputs have a
 * multiple of the kernel's input channels the convolution is grouped, as Keras.
 */
export function conv(
  inputs: TensorLike,
  kernel: TensorLike,
  strides?: number | number[] | ConvOptions,
  padding?: Padding,
  dataFormat?: DataFormat | null,
  dilationRate?: number | number[],
): Tensor {
  const o = optionalArgs('conv', CONV_DEFAULTS, [strides, padding, dataFormat, dilationRate]);
  const c = convCall('conv', inputs, kernel, o);
  const cin = c.x.shape[c.nsp + 1];
  const kin = c.k.shape[c.nsp];
  const cout = c.k.shape[c.nsp + 1];
  const original = c.inShape;
  if (cin !== null && (kin === 0 || cin % kin !== 0)) {
    throw new ShapeError(`conv: inputs of shape ${fmtShape(original)} have ${cin} channels, which is not a multiple of the kernel's ${kin} input channels (kernel shape ${fmtShape(c.k.shape)})`);
  }
  const groups = cin === null ? 1 : cin / kin;
  if (cout % groups !== 0) {
    throw new ShapeError(`conv: kernel of shape ${fmtShape(c.k.shape)} has ${cout} output channels, not divisible by the ${groups} groups that inputs of shape ${fmtShape(original)} imply`);
  }
  const kSpatial = spatialOf(c.k);
  const pads = explicitPadding(c.padding, c.x, kSpatial, c.strides, c.dilation, 'conv');
  const y = convPrim(c.x, c.k, { strides: c.strides, padding: pads, dilation: c.dilation, groups });
  return fromChannelsLast(y, c.df);
}

/**
 * Depthwise convolution, `keras.ops.depthwise_conv`: kernel [...kernelSize,
 * inChannels, depthMultiplier]; output channel c * depthMultiplier + m.
 */
export function depthwiseConv(
  inputs: TensorLike,
  kernel: TensorLike,
  strides?: number | number[] | ConvOptions,
  padding?: Padding,
  dataFormat?: DataFormat | null,
  dilationRate?: number | number[],
): Tensor {
  const o = optionalArgs('depthwiseConv', CONV_DEFAULTS, [strides, padding, dataFormat, dilationRate]);
  const c = convCall('depthwiseConv', inputs, kernel, o);
  const cin = c.x.shape[c.nsp + 1];
  const kin = c.k.shape[c.nsp];
  if (cin !== kin) {
    throw new ShapeError(`depthwiseConv: inputs of shape ${fmtShape(c.inShape)} have ${cin} channels but kernel of shape ${fmtShape(c.k.shape)} expects ${kin}`);
  }
  const kSpatial = spatialOf(c.k);
  // Grouped conv with one group per input channel: [...k, C, M] -> [...k, 1, C*M] keeps channel c*M+m in group c.
  const k = reshape(c.k, [...kSpatial, 1, kin * c.k.shape[c.nsp + 1]]);
  const pads = explicitPadding(c.padding, c.x, kSpatial, c.strides, c.dilation, 'depthwiseConv');
  const y = convPrim(c.x, k, { strides: c.strides, padding: pads, dilation: c.dilation, groups: kin });
  return fromChannelsLast(y, c.df);
}

/**
 * Separable convolution, `keras.ops.separable_conv`: a depthwise convolution
 * followed by a 1x1 pointwise convolution (kernel [1.., inChannels * depthMultiplier, outChannels]).
 */
export function separableConv(
  inputs: TensorLike,
  depthwiseKernel: TensorLike,
  pointwiseKernel: TensorLike,
  strides?: number | number[] | ConvOptions,
  padding?: Padding,
  dataFormat?: DataFormat | null,
  dilationRate?: number | number[],
): Tensor {
  const o = optionalArgs('separableConv', CONV_DEFAULTS, [strides, padding, dataFormat, dilationRate]);
  const depthwise = depthwiseConv(inputs, depthwiseKernel, o);
  const pw = convertToTensor(pointwiseKernel, null, 'separableConv');
  if (pw.shape.slice(0, -2).some((d) => d !== 1)) throw new ShapeError(`separableConv: pointwise kernel must be 1x1, received shape ${fmtShape(pw.shape)}`);
  return conv(depthwise, pw, { strides: 1, padding: 'valid', dataFormat: o.dataFormat, dilationRate: 1 });
}

/** Keras conv-transpose padding (as its JAX backend): the [before, after] padding of the equivalent forward conv and the output length. */
function transposePadding(n: Dim, k: number, s: number, d: number, padding: Padding, outputPadding: number | null): { pad: Pair; out: Dim } {
  const eff = (k - 1) * d + 1;
  let left: number;
  let right: number;
  if (padding === 'valid') {
    const op = outputPadding ?? Math.max(eff, s) - eff;
    left = eff - 1;
    right = eff - 1 + op;
  } else {
    const padLen = outputPadding === null ? s + eff - 2 : eff + (eff % 2) - 2 + outputPadding;
    left = Math.min(Math.floor(padLen / 2) + (padLen % 2), eff - 1);
    right = padLen - left;
  }
  // The transposed conv pads its stride-dilated input by (left, right); the forward conv it is the gradient of pads by eff-1 minus those.
  return { pad: [eff - 1 - left, eff - 1 - right], out: n === null ? null : (n - 1) * s + left + right - eff + 2 };
}

/**
 * Transposed convolution, `keras.ops.conv_transpose` (the gradient of conv with
 * respect to its input). Kernel is [...kernelSize, outChannels, inChannels].
 */
export function convTranspose(
  inputs: TensorLike,
  kernel: TensorLike,
  strides?: number | number[] | (ConvOptions & { outputPadding?: number | number[] | null }),
  padding?: Padding,
  outputPadding?: number | number[] | null,
  dataFormat?: DataFormat | null,
  dilationRate?: number | number[],
): Tensor {
  const defaults: Required<ConvOptions> & { outputPadding: number | number[] | null } = { strides: 1, padding: 'valid', outputPadding: null, dataFormat: null, dilationRate: 1 };
  const o = optionalArgs('convTranspose', defaults, [strides, padding, outputPadding, dataFormat, dilationRate]);
  const c = convCall('convTranspose', inputs, kernel, o);
  const cin = c.x.shape[c.nsp + 1];
  if (cin !== null && cin !== c.k.shape[c.nsp + 1]) {
    throw new ShapeError(`convTranspose: inputs of shape ${fmtShape(c.inShape)} have ${cin} channels but kernel of shape ${fmtShape(c.k.shape)} expects ${c.k.shape[c.nsp + 1]} (kernel is [...kernelSize, outChannels, inChannels])`);
  }
  const kSpatial = spatialOf(c.k);
  const outPad = o.outputPadding === null || o.outputPadding === undefined ? null : o.outputPadding;
  const ops = outPad === null ? null : typeof outPad === 'number' ? new Array<number>(c.nsp).fill(outPad) : [...outPad];
  if (ops && (ops.length !== c.nsp || ops.some((p, i) => !Number.isInteger(p) || p < 0 || p >= Math.max(c.strides[i], c.dilation[i])))) {
    throw new ValueError(`convTranspose: outputPadding must be ${c.nsp} non-negative integers smaller than the strides ${JSON.stringify(c.strides)} (or the dilation rate where larger), received ${JSON.stringify(outPad)}`);
  }
  const spatial = c.x.shape.slice(1, -1);
  const plan = spatial.map((n, i) => transposePadding(n, kSpatial[i], c.strides[i], c.dilation[i], c.padding, ops ? ops[i] : null));
  const inputSize = plan.map((p) => p.out);
  if (inputSize.some((n) => n === null)) throw new ShapeError(`convTranspose: needs known spatial dims, received inputs of shape ${fmtShape(c.inShape)}`);
  if (inputSize.some((n) => n! < 1)) throw new ShapeError(`convTranspose: output spatial dims ${fmtShape(inputSize)} are empty for inputs ${fmtShape(c.inShape)} and kernel ${fmtShape(c.k.shape)}`);
  const y = convBackpropInputPrim(c.x, c.k, inputSize as number[], { strides: c.strides, padding: plan.map((p) => p.pad), dilation: c.dilation, groups: 1 });
  return fromChannelsLast(y, c.df);
}

// ---------------------------------------------------------------- pooling

const POOL_DEFAULTS: Required<PoolOptions> = { strides: null, padding: 'valid', dataFormat: null };

function pool(op: 'maxPool' | 'averagePool', inputs: TensorLike, poolSize: number | number[], o: PoolOptions): Tensor {
  const t = op === 'maxPool' ? convertToTensor(inputs, null, op) : asFloat(inputs, op);
  if (t.dtype === 'bool') throw new DTypeError(`${op}: bool inputs are not supported ${fmtShape(t.shape)}`);
  const nsp = checkInputRank(t, op);
  const df = parseDataFormat(o.dataFormat, op);
  const x = toChannelsLast(t, df);
  const size = tuple(poolSize, nsp, op, 'poolSize');
  const strides = o.strides === null || o.strides === undefined ? size : tuple(o.strides, nsp, op, 'strides');
  const padding = explicitPadding(parsePadding(o.padding ?? 'valid', op), x, size, strides, new Array<number>(nsp).fill(1), op);
  const y = run1(op === 'maxPool' ? 'maxPool' : 'avgPool', [x], { poolSize: size, strides, padding });
  return fromChannelsLast(y, df);
}

/** Max pooling, `keras.ops.max_pool`; strides default to poolSize. */
export function maxPool(
  inputs: TensorLike,
  poolSize: number | number[],
  strides?: number | number[] | null | PoolOptions,
  padding?: Padding,
  dataFormat?: DataFormat | null,
): Tensor {
  return pool('maxPool', inputs, poolSize, optionalArgs('maxPool', POOL_DEFAULTS, [strides, padding, dataFormat]));
}

/** Average pooling, `keras.ops.average_pool`; with 'same' padding, padded positions are left out of each average (as Keras/TF). */
export function averagePool(
  inputs: TensorLike,
  poolSize: number | number[],
  strides?: number | number[] | null | PoolOptions,
  padding?: Padding,
  dataFormat?: DataFormat | null,
): Tensor {
  return pool('averagePool', inputs, poolSize, optionalArgs('averagePool', POOL_DEFAULTS, [strides, padding, dataFormat]));
}

// ---------------------------------------------------------------- activations

/** max(x, 0): one primitive (NaN stays NaN, as in torch and jax; gradient 0 at 0). */
export function relu(x: TensorLike): Tensor {
  return run1('relu', [convertToTensor(x, null, 'relu')]);
}

/**
 * min(max(x, 0), 6): one primitive (one pass). NaN stays NaN, as relu (and torch, jax); the
 * where-based composite it replaced gave 0. Ints keep their dtype; bool is read as int32.
 */
export function relu6(x: TensorLike): Tensor {
  const t = convertToTensor(x, null, 'relu6');
  return run1('relu6', [t.dtype === 'bool' ? cast(t, 'int32') : t]);
}

/** log(1 + e^x), computed stably as max(x, 0) + log1p(e^-|x|): one primitive (one pass; gradient sigmoid(x)). */
export function softplus(x: TensorLike): Tensor {
  return run1('softplus', [asFloat(x, 'softplus')]);
}

/** x / (1 + |x|): one primitive (one pass, the composite's two roundings). */
export function softsign(x: TensorLike): Tensor {
  return run1('softsign', [asFloat(x, 'softsign')]);
}

/** x * sigmoid(x): one primitive (one pass, rounded once). */
export function silu(x: TensorLike): Tensor {
  return run1('silu', [asFloat(x, 'silu')]);
}

/** Alias of silu. */
export const swish = silu;

/** log(sigmoid(x)) = -softplus(-x), stable for large |x|: one primitive (one pass, softplus's bits negated). */
export function logSigmoid(x: TensorLike): Tensor {
  return run1('logSigmoid', [asFloat(x, 'logSigmoid')]);
}

/** x and an activation's parameter as a scalar of x's dtype, the operands of the binary activation primitives. */
function withParameter(op: string, name: string, x: TensorLike, parameter: number): [Tensor, Tensor] {
  const t = asFloat(x, op);
  if (typeof parameter !== 'number') throw new ValueError(`${op}: ${name} must be a number, received ${JSON.stringify(parameter)}`);
  return [t, convertToTensor(parameter, t.dtype, op)];
}

/** Gaussian error linear unit; `approximate` (default true, as Keras) uses the tanh form, false the exact erf form. */
export function gelu(x: TensorLike, approximate?: boolean | { approximate?: boolean }): Tensor {
  const approx = optionalArgs('gelu', { approximate: true as boolean }, [approximate]).approximate;
  // One primitive each (one pass; the negative tail without 1 + erf / 1 + tanh cancellation).
  return run1(approx ? 'geluTanh' : 'gelu', [asFloat(x, 'gelu')]);
}

/**
 * x for x > 0, alpha * (e^x - 1) otherwise: one primitive, alpha its scalar second operand
 * (one pass, the bits of alpha * expm1(min(x, 0)); min keeps the unused branch from overflowing).
 */
export function elu(x: TensorLike, alpha?: number | { alpha?: number }): Tensor {
  const a = optionalArgs('elu', { alpha: 1 as number }, [alpha]).alpha;
  return run1('elu', withParameter('elu', 'alpha', x, a));
}

/** Scaled ELU with the self-normalizing constants: one primitive (one pass, the bits of scale * elu(x, alpha)). */
export function selu(x: TensorLike): Tensor {
  return run1('selu', [asFloat(x, 'selu')]);
}

/** x for x >= 0, negativeSlope * x otherwise (Keras default slope 0.2): one primitive, the slope its scalar second operand. */
export function leakyRelu(x: TensorLike, negativeSlope?: number | { negativeSlope?: number }): Tensor {
  const s = optionalArgs('leakyRelu', { negativeSlope: 0.2 as number }, [negativeSlope]).negativeSlope;
  return run1('leakyRelu', withParameter('leakyRelu', 'negativeSlope', x, s));
}

/** relu6(x + 3) / 6: one primitive (one pass, the composite's roundings; NaN stays NaN, as relu6). */
export function hardSigmoid(x: TensorLike): Tensor {
  return run1('hardSigmoid', [asFloat(x, 'hardSigmoid')]);
}

/** x * hardSigmoid(x): one primitive (one pass, the composite's roundings). */
export function hardSilu(x: TensorLike): Tensor {
  return run1('hardSilu', [asFloat(x, 'hardSilu')]);
}

/** Alias of hardSilu. */
export const hardSwish = hardSilu;

/** x for x > 0, alpha * (e^(x / alpha) - 1) otherwise: one primitive, alpha its scalar second operand. */
export function celu(x: TensorLike, alpha?: number | { alpha?: number }): Tensor {
  const a = optionalArgs('celu', { alpha: 1 as number }, [alpha]).alpha;
  return run1('celu', withParameter('celu', 'alpha', x, a));
}

/** Gated linear unit: splits `axis` (default -1) in halves a, b and returns a * sigmoid(b). */
export function glu(x: TensorLike, axis?: number | { axis?: number }): Tensor {
  const t = asFloat(x, 'glu');
  const a = normalizeAxis(optionalArgs('glu', { axis: -1 }, [axis]).axis, t.rank, 'glu');
  const n = t.shape[a];
  if (n === null || n % 2) throw new ShapeError(`glu: axis ${a} of x ${fmtShape(t.shape)} must have an even size`);
  const half = t.shape.map((d, i) => (i === a ? n / 2 : d === null ? -1 : d));
  const first = slice(t, t.shape.map(() => 0), half);
  const second = slice(t, t.shape.map((_, i) => (i === a ? n / 2 : 0)), half);
  return multiply(first, sigmoid(second));
}

/** clip(x, -1, 1): one primitive (one pass; NaN and -0 kept, slope 1 on [-1, 1]). */
export function hardTanh(x: TensorLike): Tensor {
  return run1('hardTanh', [asFloat(x, 'hardTanh')]);
}

/** x where |x| > threshold (default 0.5), else 0. */
export function hardShrink(x: TensorLike, threshold?: number | { threshold?: number }): Tensor {
  const th = optionalArgs('hardShrink', { threshold: 0.5 as number }, [threshold]).threshold;
  const t = asFloat(x, 'hardShrink');
  return where(greater(abs(t), th), t, 0);
}

/** x - threshold above threshold, x + threshold below -threshold, else 0 (default 0.5). */
export function softShrink(x: TensorLike, threshold?: number | { threshold?: number }): Tensor {
  const th = optionalArgs('softShrink', { threshold: 0.5 as number }, [threshold]).threshold;
  const t = asFloat(x, 'softShrink');
  return where(greater(t, th), subtract(t, th), where(less(t, -th), add(t, th), 0));
}

/** x - tanh(x). */
export function tanhShrink(x: TensorLike): Tensor {
  const t = asFloat(x, 'tanhShrink');
  return subtract(t, tanh(t));
}

/** (x + sqrt(x^2 + b)) / 2, a smooth relu (default b = 4). */
export function squareplus(x: TensorLike, b?: number | { b?: number }): Tensor {
  const bb = optionalArgs('squareplus', { b: 4 as number }, [b]).b;
  const t = asFloat(x, 'squareplus');
  return multiply(add(t, sqrt(add(square(t), bb))), 0.5);
}

/** 0 for x <= -1, x for x >= 1, (x + 1)^2 / 4 between. */
export function sparsePlus(x: TensorLike): Tensor {
  const t = asFloat(x, 'sparsePlus');
  return where(lessEqual(t, -1), 0, where(greaterEqual(t, 1), t, multiply(square(add(t, 1)), 0.25)));
}

/** 0 for x <= -1, 1 for x >= 1, (x + 1) / 2 between. */
export function sparseSigmoid(x: TensorLike): Tensor {
  const t = asFloat(x, 'sparseSigmoid');
  return where(lessEqual(t, -1), 0, where(greaterEqual(t, 1), 1, multiply(add(t, 1), 0.5)));
}

/** x where x > threshold, else defaultValue. */
export function threshold(x: TensorLike, threshold_: number, defaultValue: number): Tensor {
  const t = convertToTensor(x, null, 'threshold');
  return where(greater(t, threshold_), t, defaultValue);
}

/** An axis, several axes, or null for all axes. */
type AxisArg = number | number[] | null;

function softmaxArgs(op: string, x: TensorLike, axis: AxisArg | { axis?: AxisArg }): { t: Tensor; axes: number[] } {
  const t = asFloat(x, op);
  return { t, axes: normalizeAxes(optionalArgs(op, { axis: -1 as AxisArg }, [axis]).axis, t.rank, op) };
}

/** Checks the single non-negative `axis` attr of softmax/logSoftmax against the input rank. */
function inferRowOp(op: string, x: TensorSpec, axis: number): TensorSpec[] {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ValueError(`${op}: axis ${axis} is out of range for input of shape ${fmtShape(x.shape)} (a non-negative axis is expected)`);
  }
  return [{ shape: x.shape, dtype: x.dtype }];
}

/** A row op's gradient [y, dy] (softmaxGrad, logSoftmaxGrad): dy like y, the result too. */
function inferRowGrad(op: string, y: TensorSpec, dy: TensorSpec, axis: number): TensorSpec[] {
  const [spec] = inferRowOp(op, y, axis);
  const same = dy.dtype === y.dtype && dy.shape.length === y.shape.length && dy.shape.every((d, i) => d === y.shape[i]);
  if (!same) throw new ShapeError(`${op}: dy must be ${y.dtype} ${fmtShape(y.shape)} like y, received ${dy.dtype} ${fmtShape(dy.shape)}`);
  return [spec!];
}

// Single-pass primitives over one (normalized, non-negative) axis; the public functions
// keep the composite formula for several axes (or null) and reach these for one axis.
defineOp<{ axis: number }>({
  name: 'softmax',
  category: 'nn',
  attrs: ['axis'],
  arity: 1,
  infer: ([x], { axis }) => inferRowOp('softmax', x, axis),
  grad: ({ outputs: [y], attrs: { axis } }, [dy]) => [run1('softmaxGrad', [y, dy!], { axis })],
});

// softmax's gradient [y, dy] -> dx = y * (dy - sum(dy * y)) over the axis, in one pass over
// each row (four ops and their passes over memory as a composite; attention's scores are
// one such row per query). Internal: softmax's gradient reaches it, keras.ops does not.
// Its own gradient (softmax differentiated twice) in ops: for upstream g,
//   d/d(dy) = softmaxGrad(y, g),  d/dy = g * (dy - sum(dy * y)) - dy * sum(g * y).
defineOp<{ axis: number }>({
  name: 'softmaxGrad',
  category: 'nn',
  attrs: ['axis'],
  arity: 2,
  infer: ([y, dy], { axis }) => inferRowGrad('softmaxGrad', y!, dy!, axis),
  grad: ({ inputs: [y, dy], attrs: { axis } }, [g]) => [
    subtract(multiply(g!, subtract(dy!, sum(multiply(dy!, y!), axis, true))), multiply(dy!, sum(multiply(g!, y!), axis, true))),
    run1('softmaxGrad', [y!, g!], { axis }),
  ],
});

defineOp<{ axis: number }>({
  name: 'logSoftmax',
  category: 'nn',
  attrs: ['axis'],
  arity: 1,
  infer: ([x], { axis }) => inferRowOp('logSoftmax', x, axis),
  grad: ({ outputs: [y], attrs: { axis } }, [dy]) => [run1('logSoftmaxGrad', [y, dy!], { axis })],
});

// logSoftmax's gradient [y, dy] -> dx = dy - exp(y) * sum(dy) over the axis (softmax(x) =
// exp(y)), one pass over each row instead of four ops (a categorical cross-entropy from
// logits). Internal, as softmaxGrad. Its own gradient in ops: for upstream g,
//   d/d(dy) = g - sum(g * exp(y)),  d/dy = -g * exp(y) * sum(dy).
defineOp<{ axis: number }>({
  name: 'logSoftmaxGrad',
  category: 'nn',
  attrs: ['axis'],
  arity: 2,
  infer: ([y, dy], { axis }) => inferRowGrad('logSoftmaxGrad', y!, dy!, axis),
  grad: ({ inputs: [y, dy], attrs: { axis } }, [g]) => {
    const p = exp(y!);
    return [negative(multiply(multiply(g!, p), sum(dy!, axis, true))), subtract(g!, sum(multiply(g!, p), axis, true))];
  },
});

/** The loss's spec from labels and logits; errors name `op` (the loss or its gradient). */
function sparseCrossEntropyLoss(op: string, labels: TensorSpec, logits: TensorSpec): TensorSpec {
  if (labels.dtype !== 'int32') throw new DTypeError(`${op}: labels must be int32, received ${labels.dtype} ${fmtShape(labels.shape)}`);
  if (!isFloat(logits.dtype)) throw new DTypeError(`${op}: logits must be a float tensor, received ${logits.dtype} ${fmtShape(logits.shape)}`);
  const lead = logits.shape.slice(0, -1);
  if (logits.shape.length < 1 || labels.shape.length !== lead.length || labels.shape.some((d, i) => d !== null && lead[i] !== null && d !== lead[i])) {
    throw new ShapeError(`${op}: labels must have the shape of logits without the last axis, received labels.shape=${fmtShape(labels.shape)}, logits.shape=${fmtShape(logits.shape)}`);
  }
  return { shape: lead.map((d, i) => d ?? labels.shape[i] ?? null), dtype: logits.dtype };
}

defineOp({
  name: 'sparseSoftmaxCrossEntropy',
  category: 'nn',
  attrs: [],
  arity: 2,
  infer: ([labels, logits]) => [sparseCrossEntropyLoss('sparseSoftmaxCrossEntropy', labels!, logits!)],
  nonDifferentiableInputs: [0],
  // (softmax(logits) - oneHot(labels)) * dy; rows with an out-of-range label have loss 0 and gradient 0.
  grad: ({ inputs: [labels, logits] }, [dy]) => [null, run1('sparseSoftmaxCrossEntropyGrad', [labels, logits, dy!])],
});

/** The one-hot rows of `labels` over the last axis of `logits` (zeros for out-of-range labels), and their row sums (1 or 0). */
function oneHotOf(labels: Tensor, logits: Tensor): { hot: Tensor; valid: Tensor } {
  const n = logits.shape[logits.rank - 1] as number;
  const hot = cast(equal(expandDims(labels, -1), convertToTensor(Int32Array.from({ length: n }, (_, i) => i))), logits.dtype);
  return { hot, valid: sum(hot, -1, true) };
}

// The cross-entropy's gradient [labels, logits, dy] -> (softmax(logits) * valid - oneHot(labels))
// * dy per row (valid: 1 for a label in range, else 0), rounded op by op as that composite (so
// the same bits), in one pass over each row: the composite built a one-hot tensor of the
// logits' size and passed over it and the probabilities five times (a language model's
// [tokens, vocabulary]). Internal: the cross-entropy's gradient reaches it.
// Its own gradient (for upstream g): d/dlogits = softmaxGrad(p, g) * dy * valid,
// d/ddy = sum(g * (p * valid - oneHot)) per row.
defineOp({
  name: 'sparseSoftmaxCrossEntropyGrad',
  category: 'nn',
  attrs: [],
  arity: 3,
  infer([labels, logits, dy]) {
    const op = 'sparseSoftmaxCrossEntropyGrad';
    const loss = sparseCrossEntropyLoss(op, labels!, logits!);
    const fits = dy!.dtype === loss.dtype && dy!.shape.length === loss.shape.length && dy!.shape.every((d, i) => d === loss.shape[i]);
    if (!fits) throw new ShapeError(`${op}: dy must be ${loss.dtype} ${fmtShape(loss.shape)} like the loss, received ${dy!.dtype} ${fmtShape(dy!.shape)}`);
    return [{ shape: logits!.shape, dtype: logits!.dtype }];
  },
  nonDifferentiableInputs: [0],
  grad: ({ inputs: [labels, logits, dy] }, [g]) => {
    const { hot, valid } = oneHotOf(labels!, logits!);
    const p = run1('softmax', [logits!], { axis: logits!.rank - 1 });
    const dLogits = multiply(run1('softmaxGrad', [p, g!], { axis: logits!.rank - 1 }), multiply(expandDims(dy!, -1), valid));
    return [null, dLogits, sum(multiply(g!, subtract(multiply(p, valid), hot)), -1)];
  },
});

/**
 * exp(x) / sum(exp(x)) along `axis` (default -1; null: all axes), max-subtracted.
 * One axis runs the single-pass `softmax` primitive; several axes use the composite formula.
 */
export function softmax(x: TensorLike, axis: AxisArg | { axis?: AxisArg } = -1): Tensor {
  const { t, axes } = softmaxArgs('softmax', x, axis);
  if (axes.length === 1) return run1('softmax', [t], { axis: axes[0] });
  const e = exp(subtract(t, stopGradient(max(t, axes, true))));
  return divide(e, sum(e, axes, true));
}

/**
 * x - logsumexp(x) along `axis` (default -1; null: all axes), max-subtracted.
 * One axis runs the single-pass `logSoftmax` primitive; several axes use the composite formula.
 */
export function logSoftmax(x: TensorLike, axis: AxisArg | { axis?: AxisArg } = -1): Tensor {
  const { t, axes } = softmaxArgs('logSoftmax', x, axis);
  if (axes.length === 1) return run1('logSoftmax', [t], { axis: axes[0] });
  const shifted = subtract(t, stopGradient(max(t, axes, true)));
  return subtract(shifted, log(sum(exp(shifted), axes, true)));
}

// ---------------------------------------------------------------- losses

/** Keras' default fuzz factor (keras.config.epsilon()). */
const EPSILON = 1e-7;

function sameShape(op: string, target: Tensor, output: Tensor): void {
  if (target.rank !== output.rank || target.shape.some((d, i) => d !== null && output.shape[i] !== null && d !== output.shape[i])) {
    throw new ShapeError(`${op}: target and output must have the same shape, received target.shape=${fmtShape(target.shape)}, output.shape=${fmtShape(output.shape)}`);
  }
}

function lossOperands(op: string, target: TensorLike, output: TensorLike): [Tensor, Tensor] {
  const { dtype, tensors } = promote(op, target, output);
  const [t, o] = isFloat(dtype) ? tensors : tensors.map((v) => cast(v, FLOATX));
  return [t, o];
}

/**
 * Elementwise binary cross-entropy, `keras.ops.binary_crossentropy`. Probabilities
 * are clipped to [1e-7, 1 - 1e-7]; with fromLogits, softplus(x) - x * target.
 */
export function binaryCrossentropy(target: TensorLike, output: TensorLike, fromLogits?: boolean | { fromLogits?: boolean }): Tensor {
  const logits = optionalArgs('binaryCrossentropy', { fromLogits: false }, [fromLogits]).fromLogits;
  const [t, o] = lossOperands('binaryCrossentropy', target, output);
  sameShape('binaryCrossentropy', t, o);
  if (logits) return subtract(softplus(o), multiply(o, t));
  const p = clip(o, EPSILON, 1 - EPSILON);
  return negative(add(multiply(t, log(p)), multiply(subtract(1, t), log(subtract(1, p)))));
}

type CceOptions = { fromLogits?: boolean; axis?: number };
const CCE_DEFAULTS: Required<CceOptions> = { fromLogits: false, axis: -1 };

function logProbs(op: string, output: Tensor, fromLogits: boolean, axis: number): Tensor {
  if (fromLogits) return logSoftmax(output, axis);
  // Keras renormalizes probabilities to sum to one before clipping.
  const p = divide(output, sum(output, axis, true));
  return log(clip(p, EPSILON, 1 - EPSILON));
}

/**
 * Categorical cross-entropy over `axis` (default -1), `keras.ops.categorical_crossentropy`:
 * -sum(target * log(p)); probabilities are renormalized and clipped, logits go through logSoftmax.
 */
export function categoricalCrossentropy(target: TensorLike, output: TensorLike, fromLogits?: boolean | CceOptions, axis?: number): Tensor {
  const o = optionalArgs('categoricalCrossentropy', CCE_DEFAULTS, [fromLogits, axis]);
  const [t, out] = lossOperands('categoricalCrossentropy', target, output);
  if (t.rank < 1) throw new ShapeError(`categoricalCrossentropy: target and output must be at least rank 1, received target.shape=${fmtShape(t.shape)}, output.shape=${fmtShape(out.shape)}`);
  sameShape('categoricalCrossentropy', t, out);
  const a = normalizeAxis(o.axis, out.rank, 'categoricalCrossentropy');
  return negative(sum(multiply(t, logProbs('categoricalCrossentropy', out, o.fromLogits, a)), a));
}

/**
 * Categorical cross-entropy with integer class targets, `keras.ops.sparse_categorical_crossentropy`.
 * A trailing size-1 target dim is squeezed; out-of-range labels contribute 0.
 */
export function sparseCategoricalCrossentropy(target: TensorLike, output: TensorLike, fromLogits?: boolean | CceOptions, axis?: number): Tensor {
  const o = optionalArgs('sparseCategoricalCrossentropy', CCE_DEFAULTS, [fromLogits, axis]);
  const op = 'sparseCategoricalCrossentropy';
  const out = asFloat(output, op);
  let t = convertToTensor(target, null, op);
  if (t.dtype !== 'int32') t = cast(t, 'int32');
  if (out.rank < 1) throw new ShapeError(`${op}: output must be at least rank 1, received output.shape=${fmtShape(out.shape)}`);
  if (t.rank === out.rank && t.shape[t.rank - 1] === 1) t = squeeze(t, -1);
  const a = normalizeAxis(o.axis, out.rank, op);
  const expected = out.shape.filter((_, i) => i !== a);
  if (t.rank !== expected.length || t.shape.some((d, i) => d !== null && expected[i] !== null && d !== expected[i])) {
    throw new ShapeError(`${op}: target must have the shape of output without axis ${o.axis}, received target.shape=${fmtShape(t.shape)}, output.shape=${fmtShape(out.shape)}`);
  }
  const classes = out.shape[a];
  if (classes === null) throw new ShapeError(`${op}: the class axis ${o.axis} of output ${fmtShape(out.shape)} must be known`);
  // Logits over the last axis: one fused pass (log-sum-exp minus the label's logit; 0 for out-of-range labels).
  if (o.fromLogits && a === out.rank - 1) return run1('sparseSoftmaxCrossEntropy', [t, out]);
  const lp = logProbs(op, out, o.fromLogits, a);
  const ids = reshape(convertToTensor(Int32Array.from({ length: classes }, (_, i) => i)), out.shape.map((_, i) => (i === a ? classes : 1)));
  const oneHot = cast(equal(expandDims(t, a), ids), lp.dtype);
  return negative(sum(multiply(oneHot, lp), a));
}

// ---------------------------------------------------------------- attention

type AttentionOptions = {
  bias?: TensorLike | null;
  mask?: TensorLike | null;
  scale?: number | null;
  isCausal?: boolean;
  flashAttention?: boolean | null;
};

/**
 * Scaled dot-product attention, `keras.ops.dot_product_attention`: query [B, T, N, H],
 * key and value [B, S, K, H] (N a multiple of K: grouped-query attention), bias and
 * bool mask broadcastable to [B, N, T, S]; scale defaults to 1 / sqrt(H). Masked
 * logits become -0.7 * the dtype's max, as Keras' JAX backend, so fully masked rows
 * average the values instead of producing NaN. Returns [B, T, N, H].
 */
export function dotProductAttention(query: TensorLike, key: TensorLike, value: TensorLike, bias?: TensorLike | null | AttentionOptions, mask?: TensorLike | null, scale?: number | null, isCausal?: boolean, flashAttention?: boolean | null): Tensor {
  const defaults: Required<AttentionOptions> = { bias: null, mask: null, scale: null, isCausal: false, flashAttention: null };
  const o = optionalArgs('dotProductAttention', defaults, [bias, mask, scale, isCausal, flashAttention]);
  const op = 'dotProductAttention';
  if (o.flashAttention) throw new ValueError(`${op}: flashAttention is not available on this backend; pass null or false`);
  const { dtype, tensors } = promote(op, query, key, value);
  const [q, k0, v0] = isFloat(dtype) ? tensors : tensors.map((t) => cast(t, FLOATX));
  if (q.rank !== 4 || k0.rank !== 4 || v0.rank !== 4) {
    throw new ShapeError(`${op}: only 4D inputs (batch, seq, heads, depth) are supported, received query.shape=${fmtShape(q.shape)}, key.shape=${fmtShape(k0.shape)}, value.shape=${fmtShape(v0.shape)}`);
  }
  const [, T, N, H] = q.shape;
  const [, S, K] = k0.shape;
  const mismatch = k0.shape[3] !== H || v0.shape[1] !== S || v0.shape[2] !== K || N === null || K === null || N % K !== 0;
  if (mismatch) {
    throw new ShapeError(`${op}: expected key and value of shape (B, S, K, ${H}) with ${N} query heads a multiple of K, received query.shape=${fmtShape(q.shape)}, key.shape=${fmtShape(k0.shape)}, value.shape=${fmtShape(v0.shape)}`);
  }
  // Grouped-query attention: kv head k serves query heads k * G .. k * G + G - 1 (jnp.repeat order).
  const repeatHeads = (t: Tensor): Tensor => {
    if (N === K) return t;
    const dims = t.shape.map((d) => d ?? -1);
    const g = N / K;
    // [B, S, K, 1, H] + zeros [g, 1] broadcasts to [B, S, K, g, H].
    const expanded = add(expandDims(t, 3), reshape(cast(convertToTensor(new Float32Array(g)), t.dtype), [g, 1]));
    return reshape(expanded, [dims[0], dims[1], N, dims[3]]);
  };
  const k = repeatHeads(k0);
  const v = repeatHeads(v0);
  const sc = o.scale ?? 1 / Math.sqrt(H);
  let logits = multiply(matmul(transpose(q, [0, 2, 1, 3]), transpose(k, [0, 2, 3, 1])), sc);
  if (o.bias !== null && o.bias !== undefined) logits = add(logits, cast(convertToTensor(o.bias, null, op), logits.dtype));
  let m: Tensor | null = o.mask !== null && o.mask !== undefined ? cast(convertToTensor(o.mask, null, op), 'bool') : null;
  if (o.isCausal) {
    if (T === null || S === null) throw new ShapeError(`${op}: isCausal needs known sequence lengths, received query.shape=${fmtShape(q.shape)}, key.shape=${fmtShape(k0.shape)}`);
    const causal = convertToTensor(Array.from({ length: T }, (_, t) => Array.from({ length: S }, (_, j) => j <= t)));
    m = m ? logicalAnd(m, causal) : causal;
  }
  if (m) logits = where(m, logits, -0.7 * (logits.dtype === 'float64' ? Number.MAX_VALUE : 3.4028234663852886e38));
  const probs = softmax(logits, -1);
  return transpose(matmul(probs, transpose(v, [0, 2, 1, 3])), [0, 2, 1, 3]);
}

// ---------------------------------------------------------------- statistics and normalization

/** Mean and (population) variance over `axes`, `keras.ops.moments`: one pass over x (the `moments` primitive). */
export function moments(x: TensorLike, axes: number | number[], keepdims?: boolean | { keepdims?: boolean }): [Tensor, Tensor] {
  const keep = optionalArgs('moments', { keepdims: false }, [keepdims]).keepdims;
  const t = asFloat(x, 'moments');
  const [m, v] = runOp('moments', [t], { axes: normalizeAxes(axes, t.rank, 'moments'), keepdims: keep });
  return [m, v];
}

type BnOptions = { offset?: TensorLike | null; scale?: TensorLike | null; epsilon?: number };

/**
 * (x - mean) / sqrt(variance + epsilon) * scale + offset with 1-D statistics
 * along `axis`, `keras.ops.batch_normalization` (epsilon default 1e-3).
 */
export function batchNormalization(
  x: TensorLike,
  mean_: TensorLike,
  variance: TensorLike,
  axis: number,
  offset?: TensorLike | null | BnOptions,
  scale?: TensorLike | null,
  epsilon?: number,
): Tensor {
  const o = optionalArgs<Required<BnOptions>>('batchNormalization', { offset: null, scale: null, epsilon: 1e-3 }, [offset, scale, epsilon]);
  const op = 'batchNormalization';
  const t = asFloat(x, op);
  const a = normalizeAxis(axis, t.rank, op);
  const bshape = t.shape.map((_, i) => (i === a ? -1 : 1));
  const stat = (v: TensorLike, name: string): Tensor => {
    const s = convertToTensor(v, null, op);
    const n = t.shape[a];
    if (s.rank !== 1 || (n !== null && s.shape[0] !== null && s.shape[0] !== n)) {
      throw new ShapeError(`${op}: ${name} must be 1-D with ${n} entries (axis ${axis} of x ${fmtShape(t.shape)}), received shape ${fmtShape(s.shape)}`);
    }
    return reshape(s, bshape);
  };
  let inv = rsqrt(add(stat(variance, 'variance'), o.epsilon ?? 1e-3));
  if (o.scale !== null && o.scale !== undefined) inv = multiply(inv, stat(o.scale, 'scale'));
  let res = multiply(negative(stat(mean_, 'mean')), inv);
  if (o.offset !== null && o.offset !== undefined) res = add(res, stat(o.offset, 'offset'));
  return add(multiply(t, inv), res);
}

type LayerNormAttrs = { axis: number; epsilon: number; rms: boolean };

/** Checks a normalized-dims operand (gamma, beta) or a per-row statistic against x. */
function expectSpec(op: string, name: string, t: TensorSpec, dtype: string, shape: Dim[], what: string): void {
  if (t.dtype !== dtype) throw new DTypeError(`${op}: ${name} must be ${dtype} like x, received ${t.dtype} ${fmtShape(t.shape)}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== null && shape[i] !== null && d !== shape[i])) {
    throw new ShapeError(`${op}: ${name} must have the shape ${fmtShape(shape)} of ${what}, received ${fmtShape(t.shape)}`);
  }
}

/** x float with at least one dim, `axis` the first of the normalized (trailing) dims. */
function inferNormRows(op: string, x: TensorSpec, axis: number): { rows: Dim[]; dims: Dim[] } {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float tensor x, received ${x.dtype} ${fmtShape(x.shape)}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ValueError(`${op}: axis ${axis} is out of range for x of shape ${fmtShape(x.shape)} (the first normalized axis, non-negative, is expected)`);
  }
  return { rows: x.shape.slice(0, axis), dims: x.shape.slice(axis) };
}

// Layer (or RMS) normalization of each row x[r, :] over the trailing dims axis..rank-1, in one
// pass over memory: y = (x - mean) * rstd * gamma + beta with rstd = 1 / sqrt(var + epsilon);
// rms: mean is 0 and var is mean(x^2). Also returns each row's mean and rstd (shape x.shape[:axis]),
// which layerNormGrad reuses; they are not differentiable.
defineOp<LayerNormAttrs>({
  name: 'layerNorm',
  category: 'nn',
  attrs: ['axis', 'epsilon', 'rms'],
  arity: 3,
  infer([x, gamma, beta], { axis, epsilon }) {
    const { rows, dims } = inferNormRows('layerNorm', x, axis);
    if (typeof epsilon !== 'number') throw new ValueError(`layerNorm: attribute epsilon must be a number, received ${JSON.stringify(epsilon)}`);
    expectSpec('layerNorm', 'gamma', gamma, x.dtype, dims, `the normalized dims of x ${fmtShape(x.shape)}`);
    expectSpec('layerNorm', 'beta', beta, x.dtype, dims, `the normalized dims of x ${fmtShape(x.shape)}`);
    return [{ shape: x.shape, dtype: x.dtype }, { shape: rows, dtype: x.dtype }, { shape: rows, dtype: x.dtype }];
  },
  grad: ({ inputs: [x, gamma], outputs: [, m, rstd], attrs: { axis, rms } }, [dy]) => {
    if (!dy) return [null, null, null];
    const [dx, dgamma, dbeta] = runOp('layerNormGrad', [dy, x, gamma, m, rstd], { axis, rms });
    return [dx, dgamma, dbeta];
  },
});

// The gradient of layerNorm in one pass per row: with xhat = (x - mean) * rstd and g = dy * gamma,
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (rms: without mean(g)); dgamma = sum over rows
// of dy * xhat, dbeta = sum over rows of dy.
defineOp<{ axis: number; rms: boolean }>({
  name: 'layerNormGrad',
  category: 'nn',
  attrs: ['axis', 'rms'],
  arity: 5,
  infer([dy, x, gamma, m, rstd], { axis }) {
    const op = 'layerNormGrad';
    const { rows, dims } = inferNormRows(op, x, axis);
    expectSpec(op, 'dy', dy, x.dtype, x.shape, 'x');
    expectSpec(op, 'gamma', gamma, x.dtype, dims, `the normalized dims of x ${fmtShape(x.shape)}`);
    expectSpec(op, 'mean', m, x.dtype, rows, `the rows of x ${fmtShape(x.shape)}`);
    expectSpec(op, 'rstd', rstd, x.dtype, rows, `the rows of x ${fmtShape(x.shape)}`);
    return [{ shape: x.shape, dtype: x.dtype }, { shape: gamma.shape, dtype: x.dtype }, { shape: gamma.shape, dtype: x.dtype }];
  },
  gradientUnsupported: secondOrderUnsupported('fused layer normalization'),
});

/**
 * The fused layerNorm primitive when it computes what the composite would: `axes` are the
 * trailing dims of x, and gamma/beta (when given) have x's dtype and the normalized dims'
 * shape (leading 1s allowed). Returns null otherwise, so the caller keeps the composite.
 */
/** Frees a parameter an op made for itself (a fill of ones or zeros) once used, unless a tape may still need it. */
function disposeUnlessRecorded(t: Tensor): void {
  if (!isRecording() && !t.isSymbolic) t.dispose();
}

function fusedLayerNorm(op: string, t: Tensor, axes: number[], gamma: TensorLike | null | undefined, beta: TensorLike | null | undefined, epsilon: number, rms: boolean): Tensor | null {
  const first = axes[0]!;
  if (t.rank === 0 || axes.some((a, i) => a !== first + i) || axes[axes.length - 1] !== t.rank - 1) return null;
  const dims = t.shape.slice(first);
  if (dims.some((d) => d === null)) return null;
  const param = (v: TensorLike | null | undefined, fill: number): Tensor | null => {
    if (v === null || v === undefined) return run1('fill', [], { shape: dims, value: fill, dtype: t.dtype });
    const p = convertToTensor(v, null, op);
    const lead = p.rank - dims.length;
    if (p.dtype !== t.dtype || lead < 0 || p.shape.some((d, i) => (i < lead ? d !== 1 : d !== dims[i - lead]))) return null;
    return lead === 0 ? p : reshape(p, dims as number[]);
  };
  const g = param(gamma, 1);
  const b = g && param(beta, 0);
  if (!g || !b) {
    if (g && (gamma === null || gamma === undefined)) disposeUnlessRecorded(g);
    return null;
  }
  const y = run1('layerNorm', [t, g, b], { axis: first, epsilon, rms });
  if (gamma === null || gamma === undefined) disposeUnlessRecorded(g);
  if (beta === null || beta === undefined) disposeUnlessRecorded(b);
  return y;
}

type BatchNormAttrs = { axis: number; epsilon: number };

/** x float, `axis` its channel axis (non-negative); returns the channel count as a shape. */
function inferChannels(op: string, x: TensorSpec, axis: number): Dim[] {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float tensor x, received ${x.dtype} ${fmtShape(x.shape)}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ValueError(`${op}: axis ${axis} is out of range for x of shape ${fmtShape(x.shape)} (the channel axis, non-negative, is expected)`);
  }
  return [x.shape[axis]];
}

function checkEpsilon(op: string, epsilon: unknown): void {
  if (typeof epsilon !== 'number' || !(epsilon >= 0)) throw new ValueError(`${op}: attribute epsilon must be a non-negative number, received ${JSON.stringify(epsilon)}`);
}

// Batch normalization with the batch's own statistics over every axis but `axis` (the
// channels), in one pass of sums and one write pass: y = (x - mean) / sqrt(var + epsilon)
// * gamma + beta. Returns the per-channel mean and biased variance too (the layer updates
// its moving averages with them); gradients flowing into them are honoured.
defineOp<BatchNormAttrs>({
  name: 'batchNorm',
  category: 'nn',
  attrs: ['axis', 'epsilon'],
  arity: 3,
  infer([x, gamma, beta], { axis, epsilon }) {
    const op = 'batchNorm';
    const c = inferChannels(op, x, axis);
    checkEpsilon(op, epsilon);
    const what = `the channels (axis ${axis}) of x ${fmtShape(x.shape)}`;
    expectSpec(op, 'gamma', gamma, x.dtype, c, what);
    expectSpec(op, 'beta', beta, x.dtype, c, what);
    return [{ shape: x.shape, dtype: x.dtype }, { shape: c, dtype: x.dtype }, { shape: c, dtype: x.dtype }];
  },
  grad: ({ inputs: [x, gamma], outputs: [, m, v], attrs }, [dy, dm, dv]) => {
    const [dx, dgamma, dbeta] = dy ? runOp('batchNormGrad', [dy, x, gamma, m, v], attrs) : [null, null, null];
    return [addGrads(dx, momentsGrad(x, attrs.axis, m, dm, dv)), dgamma, dbeta];
  },
});

// The gradient of batchNorm in one pass of per-channel sums and one write pass: with
// xhat = (x - mean) / sqrt(var + epsilon) and count values per channel,
// dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma / sqrt(var + epsilon) * (dy - dbeta / count - xhat * dgamma / count).
defineOp<BatchNormAttrs>({
  name: 'batchNormGrad',
  category: 'nn',
  attrs: ['axis', 'epsilon'],
  arity: 5,
  infer([dy, x, gamma, m, v], { axis, epsilon }) {
    const op = 'batchNormGrad';
    const c = inferChannels(op, x, axis);
    checkEpsilon(op, epsilon);
    const what = `the channels (axis ${axis}) of x ${fmtShape(x.shape)}`;
    expectSpec(op, 'dy', dy, x.dtype, x.shape, 'x');
    expectSpec(op, 'gamma', gamma, x.dtype, c, what);
    expectSpec(op, 'mean', m, x.dtype, c, what);
    expectSpec(op, 'variance', v, x.dtype, c, what);
    return [{ shape: x.shape, dtype: x.dtype }, { shape: c, dtype: x.dtype }, { shape: c, dtype: x.dtype }];
  },
  gradientUnsupported: secondOrderUnsupported('fused batch normalization'),
});

function addGrads(a: Tensor | null, b: Tensor | null): Tensor | null {
  return a && b ? add(a, b) : (a ?? b);
}

/**
 * The part of dx flowing through per-channel batch moments (mean m, biased variance) used
 * downstream: d mean / dx = 1 / count, d var / dx = 2 (x - m) / count.
 */
function momentsGrad(x: Tensor, axis: number, m: Tensor, dm: Tensor | null, dv: Tensor | null): Tensor | null {
  if (!dm && !dv) return null;
  const count = x.shape.reduce((p, d) => p * d, 1) / x.shape[axis];
  const perChannel = (s: Tensor) => reshape(s, x.shape.map((d, i) => (i === axis ? d : 1)));
  let g = dv ? multiply(perChannel(dv), multiply(subtract(x, perChannel(m)), 2 / count)) : null;
  if (dm) g = add(g ?? zerosLike(x), divide(perChannel(dm), count));
  return g;
}

type FusedBnOptions = { scale?: TensorLike | null; offset?: TensorLike | null; epsilon?: number };

/**
 * Batch normalization with the batch's own statistics, in one fused primitive (not a Keras
 * op; TensorFlow's `fused_batch_norm` in training mode): normalizes over every axis but
 * `axis` and returns `[y, mean, variance]` (the biased variance), the statistics of a
 * moving-average update. scale/offset: 1-D over `axis`, of x's float dtype; epsilon default 1e-3.
 */
export function fusedBatchNormalization(x: TensorLike, axis = -1, options: FusedBnOptions = {}): [Tensor, Tensor, Tensor] {
  const op = 'fusedBatchNormalization';
  const t = asFloat(x, op);
  const a = normalizeAxis(axis, t.rank, op);
  const c = t.shape[a];
  if (c === null) throw new ShapeError(`${op}: axis ${axis} of x ${fmtShape(t.shape)} must have a known size`);
  const param = (v: TensorLike | null | undefined, fill: number, name: string): Tensor => {
    if (v === null || v === undefined) return run1('fill', [], { shape: [c], value: fill, dtype: t.dtype });
    const p = convertToTensor(v, null, op);
    if (p.dtype !== t.dtype || p.rank !== 1 || p.shape[0] !== c) {
      throw new ShapeError(`${op}: ${name} must be 1-D with ${c} entries of dtype ${t.dtype} (axis ${axis} of x ${fmtShape(t.shape)}), received ${p.dtype} ${fmtShape(p.shape)}`);
    }
    return p;
  };
  const scale = param(options.scale, 1, 'scale');
  const offset = param(options.offset, 0, 'offset');
  const [y, m, v] = runOp('batchNorm', [t, scale, offset], { axis: a, epsilon: options.epsilon ?? 1e-3 });
  if (options.scale === null || options.scale === undefined) disposeUnlessRecorded(scale);
  if (options.offset === null || options.offset === undefined) disposeUnlessRecorded(offset);
  return [y!, m!, v!];
}

/** x divided by its `order`-norm along `axis` (default L2 over -1), `keras.ops.normalize`. */
export function normalize(x: TensorLike, axis?: number | { axis?: number; order?: number; epsilon?: number | null }, order?: number, epsilon?: number | null): Tensor {
  const o = optionalArgs<{ axis: number; order: number; epsilon: number | null }>('normalize', { axis: -1, order: 2, epsilon: null }, [axis, order, epsilon]);
  if (!Number.isInteger(o.order) || o.order < 1) throw new ValueError(`normalize: order must be an integer >= 1, received ${JSON.stringify(o.order)}`);
  let t = asFloat(x, 'normalize');
  if (t.rank === 0) t = expandDims(t, 0);
  const eps = o.epsilon ?? EPSILON;
  if (o.order === 2) {
    const inv = minimum(rsqrt(sum(square(t), o.axis, true)), 1 / eps);
    return multiply(t, inv);
  }
  return divide(t, maximum(norm(t, o.order, o.axis, true), eps));
}

/** Reshapes a per-feature parameter (shaped like the normalized dims) to broadcast against x. */
function alongAxes(v: TensorLike, x: Tensor, axes: number[], op: string, name: string): Tensor {
  const t = convertToTensor(v, null, op);
  const dims = axes.map((a) => x.shape[a]);
  if (t.rank !== axes.length || t.rank === x.rank) return t;
  if (t.shape.some((d, i) => d !== null && dims[i] !== null && d !== dims[i])) {
    throw new ShapeError(`${op}: ${name} of shape ${fmtShape(t.shape)} does not match the normalized dims ${fmtShape(dims)} of x ${fmtShape(x.shape)}`);
  }
  return reshape(t, x.shape.map((d, i) => (axes.includes(i) ? (d ?? -1) : 1)));
}

type LayerNormOptions = { gamma?: TensorLike | null; beta?: TensorLike | null; axis?: number | number[]; epsilon?: number | null };

/**
 * Layer normalization over `axis` (default -1), `keras.ops.layer_normalization`:
 * (x - mean) / sqrt(var + epsilon) * gamma + beta, epsilon default 1e-7. Trailing axes
 * (the usual case) run the fused layerNorm primitive, forward and gradient.
 */
export function layerNormalization(
  x: TensorLike,
  gamma?: TensorLike | null | LayerNormOptions,
  beta?: TensorLike | null,
  axis?: number | number[],
  epsilon?: number | null,
): Tensor {
  const o = optionalArgs<Required<LayerNormOptions>>('layerNormalization', { gamma: null, beta: null, axis: -1, epsilon: null }, [gamma, beta, axis, epsilon]);
  const op = 'layerNormalization';
  const t = asFloat(x, op);
  const axes = normalizeAxes(o.axis ?? -1, t.rank, op);
  const fused = fusedLayerNorm(op, t, axes, o.gamma, o.beta, o.epsilon ?? EPSILON, false);
  if (fused) return fused;
  const [m, v] = moments(t, axes, true);
  let inv = rsqrt(add(v, o.epsilon ?? EPSILON));
  if (o.gamma !== null && o.gamma !== undefined) inv = multiply(inv, alongAxes(o.gamma, t, axes, op, 'gamma'));
  let res = multiply(negative(m), inv);
  if (o.beta !== null && o.beta !== undefined) res = add(res, alongAxes(o.beta, t, axes, op, 'beta'));
  return add(multiply(t, inv), res);
}

/**
 * x / sqrt(mean(x^2) + epsilon) * scale over `axis` (default -1), `keras.ops.rms_normalization`.
 * Trailing axes run the fused layerNorm primitive (rms).
 */
export function rmsNormalization(
  x: TensorLike,
  scale?: TensorLike | null | { scale?: TensorLike | null; axis?: number | number[]; epsilon?: number | null },
  axis?: number | number[],
  epsilon?: number | null,
): Tensor {
  const o = optionalArgs<{ scale: TensorLike | null; axis: number | number[]; epsilon: number | null }>('rmsNormalization', { scale: null, axis: -1, epsilon: null }, [scale, axis, epsilon]);
  const op = 'rmsNormalization';
  let t = asFloat(x, op);
  if (t.rank === 0) t = expandDims(t, 0);
  const axes = normalizeAxes(o.axis ?? -1, t.rank, op);
  const fused = fusedLayerNorm(op, t, axes, o.scale, null, o.epsilon ?? EPSILON, true);
  if (fused) return fused;
  const out = multiply(t, rsqrt(add(mean(square(t), axes, true), o.epsilon ?? EPSILON)));
  return o.scale !== null && o.scale !== undefined ? multiply(out, alongAxes(o.scale, t, axes, op, 'scale')) : out;
}

/** Peak signal-to-noise ratio in dB: 20 log10(maxVal) - 10 log10(mean((x1 - x2)^2)). */
export function psnr(x1: TensorLike, x2: TensorLike, maxVal: number): Tensor {
  const { dtype, tensors } = promote('psnr', x1, x2);
  const [a, b] = isFloat(dtype) ? tensors : tensors.map((t) => cast(t, FLOATX));
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) throw new ShapeError(`psnr: x1 and x2 must have the same shape, received ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const mse = mean(square(subtract(a, b)));
  return subtract(20 * Math.log10(maxVal), multiply(log(mse), 10 / Math.LN10));
}
