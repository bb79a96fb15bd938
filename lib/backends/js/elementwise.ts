/**
 * Elementwise kernels of the js backend. Each op is one expression; the loops
 * (same shape, scalar operand, general broadcast) are generated once per op with
 * `new Function`, so every loop is monomorphic and V8 compiles it tight.
 */
import { allocate, type TypedArray } from '../../dtype.js';
import { sizeOf, stridesOf } from '../../shape.js';
import type { Kernel, OutputSpec } from '../backend.js';
import type { Tensor } from '../../tensor.js';
import { JsStorage, valuesOf } from './storage.js';
import { erf, erfc, erfinv, floorMod, roundHalfEven } from './special.js';

/** gelu, exact form: x Phi(x) = x erfc(-x/sqrt 2) / 2 (erfc: no cancellation in the negative tail). */
function gelu(x: number): number {
  return 0.5 * x * erfc(-x * Math.SQRT1_2);
}

/** gelu, tanh form: x (1 + tanh(u)) / 2 = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
function geluTanh(x: number): number {
  const w = 1.5957691216057308 * (x + 0.044715 * x * x * x);
  return w >= 0 ? x / (1 + Math.exp(-w)) : (x * Math.exp(w)) / (1 + Math.exp(w));
}

/** silu: x sigmoid(x), sigmoid in its stable forms (never e^x of a large positive x); -inf gives -inf * 0 = NaN. */
function silu(x: number): number {
  if (x >= 0) return x / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return (x * e) / (1 + e);
}

/** softplus: log(1 + e^x) = max(x, 0) + log1p(e^-|x|), which neither overflows nor loses the tail. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** relu6: min(max(x, 0), 6), NaN kept (as relu). */
function relu6(x: number): number {
  return x > 6 ? 6 : x > 0 || x !== x ? x : 0;
}

/** min(x, 0) as ops.minimum: NaN kept, and -0 gives +0 (so elu(-0) = +0, as the composite). */
function belowZero(x: number): number {
  return x < 0 || x !== x ? x : 0;
}

const helpers = { erf, erfinv, floorMod, roundHalfEven, gelu, geluTanh, silu, softplus, relu6, belowZero };
type Helpers = typeof helpers;

/**
 * Scalar expressions over `a` (and `b`); `h` holds the helpers above. R(v) rounds an
 * intermediate to the output's type (Math.fround for float32, nothing for float64): the
 * activations that were compositions keep the composites' roundings, step by step.
 */
const UNARY: Record<string, string> = {
  negative: '-a',
  abs: 'Math.abs(a)',
  sign: 'a > 0 ? 1 : a < 0 ? -1 : a === 0 ? 0 : NaN',
  exp: 'Math.exp(a)',
  expm1: 'Math.expm1(a)',
  log: 'Math.log(a)',
  log1p: 'Math.log1p(a)',
  sqrt: 'Math.sqrt(a)',
  rsqrt: '1 / Math.sqrt(a)',
  reciprocal: '1 / a',
  square: 'a * a',
  sin: 'Math.sin(a)',
  cos: 'Math.cos(a)',
  tan: 'Math.tan(a)',
  arcsin: 'Math.asin(a)',
  arccos: 'Math.acos(a)',
  arctan: 'Math.atan(a)',
  sinh: 'Math.sinh(a)',
  cosh: 'Math.cosh(a)',
  tanh: 'Math.tanh(a)',
  arcsinh: 'Math.asinh(a)',
  arccosh: 'Math.acosh(a)',
  arctanh: 'Math.atanh(a)',
  floor: 'Math.floor(a)',
  ceil: 'Math.ceil(a)',
  round: 'h.roundHalfEven(a)',
  erf: 'h.erf(a)',
  erfinv: 'h.erfinv(a)',
  sigmoid: 'a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a))',
  gelu: 'h.gelu(a)',
  geluTanh: 'h.geluTanh(a)',
  // the composite gelu gradient's roundings (lib/ops/elementwise.ts)
  geluDerivative: 'R(R(R(R(h.erf(R(a * R(Math.SQRT1_2)))) + 1) * 0.5) + R(a * R(R(Math.exp(R(R(a * a) * -0.5))) * R(0.3989422804014327))))',
  silu: 'h.silu(a)',
  softplus: 'h.softplus(a)',
  relu: 'a > 0 || a !== a ? a : 0',
  relu6: 'h.relu6(a)',
  hardSigmoid: 'h.relu6(R(a + 3)) / 6',
  hardSilu: 'a * R(h.relu6(R(a + 3)) / 6)',
  softsign: 'a / R(Math.abs(a) + 1)',
  hardTanh: 'a > 1 ? 1 : a < -1 ? -1 : a',
  logSigmoid: '-h.softplus(-a)',
  // scale elu(x, alpha), the constants of lib/ops/elementwise.ts (and the native kernel).
  selu: '(a > 0 ? a : R(R(Math.expm1(h.belowZero(a))) * R(1.6732632423543772))) * R(1.0507009873554805)',
  isnan: 'a !== a ? 1 : 0',
  isinf: 'a === Infinity || a === -Infinity ? 1 : 0',
  isfinite: 'Number.isFinite(a) ? 1 : 0',
  logicalNot: 'a ? 0 : 1',
};

const BINARY: Record<string, string> = {
  add: 'a + b',
  subtract: 'a - b',
  multiply: 'a * b',
  divide: 'a / b',
  floorDivide: 'Math.floor(a / b)',
  mod: 'h.floorMod(a, b)',
  power: 'Math.pow(a, b)',
  maximum: 'a > b || a !== a ? a : b',
  minimum: 'a < b || a !== a ? a : b',
  arctan2: 'Math.atan2(a, b)',
  leakyRelu: 'a >= 0 ? a : a * b',
  elu: 'a > 0 ? a : R(Math.expm1(h.belowZero(a))) * b',
  celu: 'a > 0 ? a : R(Math.expm1(R(h.belowZero(a) / b))) * b',
  equal: 'a === b ? 1 : 0',
  notEqual: 'a !== b ? 1 : 0',
  less: 'a < b ? 1 : 0',
  lessEqual: 'a <= b ? 1 : 0',
  greater: 'a > b ? 1 : 0',
  greaterEqual: 'a >= b ? 1 : 0',
  logicalAnd: 'a && b ? 1 : 0',
  logicalOr: 'a || b ? 1 : 0',
  logicalXor: '(a ? 1 : 0) !== (b ? 1 : 0) ? 1 : 0',
};

type UnaryLoop = (x: TypedArray, out: TypedArray, h: Helpers) => void;
type NaryLoop = (ins: TypedArray[], out: TypedArray, outShape: number[], inStrides: number[][], h: Helpers) => void;

function unaryLoop(expr: string): UnaryLoop {
  return new Function('x', 'out', 'h', `for (let i = 0, n = out.length; i < n; i++) { const a = x[i]; out[i] = ${expr}; }`) as UnaryLoop;
}

/**
 * A broadcasting loop over `arity` inputs: odometer over the outer dims, a strided
 * inner loop over the last dim. Operands are named a, b, c.
 */
function naryLoop(expr: string, arity: number): NaryLoop {
  const names = ['a', 'b', 'c'].slice(0, arity);
  const body = `
    const rank = outShape.length;
    const n = out.length;
    if (n === 0) return;
    ${names.map((v, k) => `const d${k} = ins[${k}]; const s${k} = inStrides[${k}];`).join('\n')}
    if (rank === 0) { ${names.map((v, k) => `const ${v} = d${k}[0];`).join(' ')} out[0] = ${expr}; return; }
    const last = outShape[rank - 1];
    ${names.map((v, k) => `const t${k} = s${k}[rank - 1];`).join('\n')}
    const idx = new Array(rank).fill(0);
    ${names.map((v, k) => `let o${k} = 0;`).join(' ')}
    for (let base = 0; base < n; base += last) {
      for (let j = 0; j < last; j++) {
        ${names.map((v, k) => `const ${v} = d${k}[o${k} + j * t${k}];`).join(' ')}
        out[base + j] = ${expr};
      }
      for (let dim = rank - 2; dim >= 0; dim--) {
        idx[dim]++;
        ${names.map((v, k) => `o${k} += s${k}[dim];`).join(' ')}
        if (idx[dim] < outShape[dim]) break;
        ${names.map((v, k) => `o${k} -= s${k}[dim] * outShape[dim];`).join(' ')}
        idx[dim] = 0;
      }
    }`;
  return new Function('ins', 'out', 'outShape', 'inStrides', 'h', body) as NaryLoop;
}

/** Strides of `shape` broadcast to `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => (i < offset || shape[i - offset] === 1 ? 0 : strides[i - offset]));
}

/** `expr` for results of `dtype`: R( rounds to float32 there and is a plain parenthesis otherwise. */
function forDType(expr: string, dtype: string): string {
  return expr.replaceAll('R(', dtype === 'float32' ? 'Math.fround(' : '(');
}

function unaryKernel(expr: string): Kernel {
  const loop = unaryLoop(forDType(expr, 'float64'));
  const loop32 = expr.includes('R(') ? unaryLoop(forDType(expr, 'float32')) : loop;
  return (inputs: Tensor[], _attrs, [out]: OutputSpec[]) => {
    const res = allocate(out.dtype, sizeOf(out.shape));
    (out.dtype === 'float32' ? loop32 : loop)(valuesOf(inputs[0]), res, helpers);
    return [new JsStorage(res)];
  };
}

type SameLoop = (ins: TypedArray[], out: TypedArray, h: Helpers) => void;

function sameLoop(expr: string, arity: number): SameLoop {
  return new Function('ins', 'out', 'h', `
    ${['a', 'b', 'c'].slice(0, arity).map((v, k) => `const d${k} = ins[${k}];`).join(' ')}
    for (let i = 0, n = out.length; i < n; i++) { ${['a', 'b', 'c'].slice(0, arity).map((v, k) => `const ${v} = d${k}[i];`).join(' ')} out[i] = ${expr}; }
  `) as SameLoop;
}

function naryKernel(expr: string, arity: number): Kernel {
  const loops = (dtype: string) => ({ general: naryLoop(forDType(expr, dtype), arity), same: sameLoop(forDType(expr, dtype), arity) });
  const wide = loops('float64');
  const narrow = expr.includes('R(') ? loops('float32') : wide;
  return (inputs: Tensor[], _attrs, [out]: OutputSpec[]) => {
    const res = allocate(out.dtype, sizeOf(out.shape));
    const data = inputs.map(valuesOf);
    const { general, same } = out.dtype === 'float32' ? narrow : wide;
    if (data.every((d) => d.length === res.length) && inputs.every((t) => t.shape.length === out.shape.length)) same(data, res, helpers);
    else general(data, res, out.shape, inputs.map((t) => broadcastStrides(t.shape, out.shape)), helpers);
    return [new JsStorage(res)];
  };
}

function mapValues<T, U>(obj: Record<string, T>, fn: (v: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v)]));
}

const castKernel: Kernel = (inputs, _attrs, [out]) => {
  const src = valuesOf(inputs[0]);
  const res = allocate(out.dtype, src.length);
  if (out.dtype === 'bool') for (let i = 0; i < src.length; i++) res[i] = src[i] !== 0 ? 1 : 0;
  else if (out.dtype === 'int32') for (let i = 0; i < src.length; i++) res[i] = Math.trunc(src[i]);
  else res.set(src);
  return [new JsStorage(res)];
};

const fullLikeKernel: Kernel = (_inputs, attrs, [out]) => {
  const res = allocate(out.dtype, sizeOf(out.shape));
  res.fill(Number(attrs.value));
  return [new JsStorage(res)];
};

/** Identity ops share their input's storage. */
const viewKernel: Kernel = (inputs) => [inputs[0].storage];

export const elementwiseKernels: Record<string, Kernel> = {
  ...mapValues(UNARY, unaryKernel),
  ...mapValues(BINARY, (e) => naryKernel(e, 2)),
  where: naryKernel('a ? b : c', 3),
  cast: castKernel,
  fullLike: fullLikeKernel,
  stopGradient: viewKernel,
  identity: viewKernel,
};
