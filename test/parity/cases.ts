/**
 * Sample calls of every primitive op for the parity suite: input shapes (broadcasting,
 * size-0 and size-1 dims, scalars), dtypes, value domains and magnitudes, and attrs.
 * A new primitive without an entry here fails the suite (see ops.test.ts).
 */
import type { DType } from '../../lib/index.js';

/** Where input values come from. */
export type Domain =
  | 'any' // uniform in [-2, 2)
  | 'positive' // [0.1, 2.1)
  | 'unit' // (-0.9, 0.9): arcsin, arctanh, erfinv
  | 'gt1' // [1.1, 3.1): arccosh
  | 'nonzero' // |x| in [0.5, 2): divisors
  | 'int' // integers in [-5, 5]
  | 'bool'
  | 'distinct' // a shuffled ramp: no ties (sort, max/min gradients, argmax)
  | 'spd' // symmetric positive definite matrices (last two dims)
  | 'wellConditioned' // diagonally dominant matrices
  | 'special' // 0, -0, +-inf, NaN, +-1, huge and tiny values, cycled
  | { index: number } // int32 indices in [0, n)
  | { values: number[] }; // explicit values, cycled

export interface InputCase {
  shape: number[];
  dtype: DType;
  domain?: Domain;
  /** Multiplies 'any'/'positive'/'nonzero'/'distinct' values: large and tiny magnitudes. */
  scale?: number;
}

export interface OpCase {
  inputs: InputCase[];
  attrs?: Record<string, unknown>;
  /** Compare gradients too (default: when the op has a grad rule and a float output). */
  grad?: boolean;
  /** Gradient w.r.t. these inputs (default: every float input not in nonDifferentiableInputs). */
  wrt?: number[];
}

const f32 = 'float32';
const f64 = 'float64';
const i32 = 'int32';

const x = (shape: number[], dtype: DType = f32, domain: Domain = 'any', scale?: number): InputCase => ({ shape, dtype, domain, scale });

/** Unary float op: shapes, both float dtypes, size-0, scalars, extreme magnitudes and special values (no grads on those). */
function unaryFloat(domain: Domain, opts: { large?: boolean; tiny?: boolean } = {}): OpCase[] {
  const cases: OpCase[] = [
    { inputs: [x([3, 4], f32, domain)] },
    { inputs: [x([2, 1, 5], f64, domain)] },
    { inputs: [x([], f32, domain)] },
    { inputs: [x([2, 0, 3], f32, domain)] },
    { inputs: [x([67], f32, domain)] }, // not a multiple of any vector width: exercises tails
    { inputs: [x([33], f64, domain)] },
    { inputs: [x([16], f32, 'special')], grad: false },
    { inputs: [x([16], f64, 'special')], grad: false },
  ];
  if (opts.large !== false) cases.push({ inputs: [x([19], f32, domain, 1e15)], grad: false }, { inputs: [x([19], f64, domain, 1e150)], grad: false });
  if (opts.tiny !== false) cases.push({ inputs: [x([19], f32, domain, 1e-30)], grad: false }, { inputs: [x([19], f64, domain, 1e-300)], grad: false });
  return cases;
}

/** Unary op that also takes int32. */
function unarySame(domain: Domain = 'any'): OpCase[] {
  return [...unaryFloat(domain), { inputs: [x([3, 5], i32, 'int')] }, { inputs: [x([0], i32, 'int')] }];
}

/** Binary op: broadcasting in both directions, size-0/size-1 dims, scalars, both float dtypes, int32. */
function binary(a: Domain, b: Domain, opts: { int?: boolean; intB?: Domain; large?: boolean } = {}): OpCase[] {
  const cases: OpCase[] = [
    { inputs: [x([3, 4], f32, a), x([3, 4], f32, b)] },
    { inputs: [x([2, 3, 4], f64, a), x([4], f64, b)] },
    { inputs: [x([3, 1], f32, a), x([1, 5], f32, b)] },
    { inputs: [x([], f32, a), x([2, 3], f32, b)] },
    { inputs: [x([2, 0, 3], f32, a), x([1, 3], f32, b)] },
    { inputs: [x([4, 1, 3], f64, a), x([2, 1], f64, b)] },
    { inputs: [x([37], f32, a), x([37], f32, b)] },
    { inputs: [x([16], f32, 'special'), x([16], f32, { values: [1, -1, 0, 2, Infinity, NaN, -0.5, -Infinity, 3, 0.25, -2, 1e30, -0, 7, 1e-30, 0.5] })], grad: false },
  ];
  if (opts.large !== false) cases.push({ inputs: [x([9], f32, a, 1e15), x([9], f32, b, 1e15)], grad: false }, { inputs: [x([9], f32, a, 1e-20), x([9], f32, b, 1e-20)], grad: false });
  if (opts.int !== false) {
    cases.push({ inputs: [x([3, 4], i32, 'int'), x([4], i32, opts.intB ?? 'int')] }, { inputs: [x([], i32, 'int'), x([0, 2], i32, opts.intB ?? 'int')] });
  }
  return cases;
}

/**
 * An activation of x with its parameter as the second operand (leakyRelu, elu, celu): a scalar of x's dtype as
 * ops.nn passes it, a row of parameters, a scalar x, both float dtypes, tails, size 0, special and tiny values.
 */
function activation(parameter: Domain): OpCase[] {
  return [
    { inputs: [x([3, 4], f32, 'any', 3), x([], f32, parameter)] },
    { inputs: [x([2, 1, 5], f64, 'any', 3), x([], f64, parameter)] },
    { inputs: [x([67], f32, 'any', 3), x([], f32, parameter)] },
    { inputs: [x([33], f64, 'any', 3), x([33], f64, parameter)] },
    { inputs: [x([37], f32, 'any', 3), x([37], f32, parameter)] },
    { inputs: [x([], f32), x([5], f32, parameter)] },
    { inputs: [x([2, 0, 3], f32), x([], f32, parameter)] },
    { inputs: [x([16], f32, 'special'), x([], f32, parameter)], grad: false },
    { inputs: [x([16], f64, 'special'), x([], f64, parameter)], grad: false },
    { inputs: [x([19], f32, 'any', 1e-30), x([], f32, parameter)], grad: false },
    { inputs: [x([19], f64, 'any', 1e-300), x([], f64, parameter)], grad: false },
    { inputs: [x([47], f32, 'any', 30), x([], f32, parameter)], grad: false },
  ];
}

const compare = (): OpCase[] => [
  ...binary('int', 'int', { large: false }),
  { inputs: [x([2, 3], 'bool', 'bool'), x([3], 'bool', 'bool')] },
];

const logical = (): OpCase[] => [
  { inputs: [x([3, 4], 'bool', 'bool'), x([3, 4], 'bool', 'bool')] },
  { inputs: [x([2, 1, 3], 'bool', 'bool'), x([4, 1], 'bool', 'bool')] },
  { inputs: [x([], 'bool', 'bool'), x([0, 2], 'bool', 'bool')] },
  { inputs: [x([37], 'bool', 'bool'), x([37], 'bool', 'bool')] },
];

function reduction(opts: { int?: boolean; bool?: boolean; domain?: Domain } = {}): OpCase[] {
  const d = opts.domain ?? 'any';
  if (opts.bool) {
    return [
      { inputs: [x([3, 4], 'bool', 'bool')], attrs: { axes: [1], keepdims: false } },
      { inputs: [x([2, 3, 4], 'bool', 'bool')], attrs: { axes: [0, 2], keepdims: true } },
      { inputs: [x([2, 0, 3], 'bool', 'bool')], attrs: { axes: [1], keepdims: false } },
      { inputs: [x([5], 'bool', 'bool')], attrs: { axes: [0], keepdims: false } },
      { inputs: [x([2, 3], 'bool', 'bool')], attrs: { axes: [], keepdims: false } },
    ];
  }
  const cases: OpCase[] = [
    { inputs: [x([3, 4], f32, d)], attrs: { axes: [1], keepdims: false } },
    { inputs: [x([3, 4], f32, d)], attrs: { axes: [0], keepdims: true } },
    { inputs: [x([2, 3, 4], f64, d)], attrs: { axes: [0, 2], keepdims: false } },
    { inputs: [x([2, 3, 4], f32, d)], attrs: { axes: [0, 1, 2], keepdims: false } },
    { inputs: [x([2, 3], f32, d)], attrs: { axes: [], keepdims: false } },
    { inputs: [x([5, 1, 3], f64, d)], attrs: { axes: [1], keepdims: true } },
    { inputs: [x([300, 7], f32, d)], attrs: { axes: [0], keepdims: false } },
    { inputs: [x([7, 300], f32, d)], attrs: { axes: [1], keepdims: false } },
    { inputs: [x([1000], f64, d)], attrs: { axes: [0], keepdims: false } },
    { inputs: [x([16], f32, 'special')], attrs: { axes: [0], keepdims: false }, grad: false },
    { inputs: [x([2, 9], f32, d, 1e30)], attrs: { axes: [1], keepdims: false }, grad: false },
    { inputs: [x([2, 9], f32, d, 1e-30)], attrs: { axes: [1], keepdims: false }, grad: false },
  ];
  if (opts.int !== false) cases.push({ inputs: [x([3, 4], i32, 'int')], attrs: { axes: [1], keepdims: false } }, { inputs: [x([2, 3, 2], i32, 'int')], attrs: { axes: [0, 2], keepdims: true } });
  return cases;
}

const emptyReduction: OpCase[] = [{ inputs: [x([2, 0, 3], f32)], attrs: { axes: [1], keepdims: false } }, { inputs: [x([0], f64)], attrs: { axes: [0], keepdims: true } }];

function argReduction(): OpCase[] {
  return [
    { inputs: [x([3, 4], f32, 'distinct')], attrs: { axis: 1 } },
    { inputs: [x([3, 4], f64, 'distinct')], attrs: { axis: 0 } },
    { inputs: [x([2, 3, 4], f32, 'distinct')], attrs: { axis: 1 } },
    { inputs: [x([5], i32, 'int')], attrs: { axis: 0 } },
    { inputs: [x([3, 1], f32)], attrs: { axis: 1 } },
    { inputs: [x([0, 3], f32)], attrs: { axis: 1 } },
    { inputs: [x([2, 8], f32, 'special')], attrs: { axis: 1 } },
  ];
}

function cumulative(domain: Domain): OpCase[] {
  return [
    { inputs: [x([3, 4], f32, domain)], attrs: { axis: 1 } },
    { inputs: [x([3, 4], f64, domain)], attrs: { axis: 0 } },
    { inputs: [x([2, 3, 4], f32, domain)], attrs: { axis: 1 } },
    { inputs: [x([2, 0], f32, domain)], attrs: { axis: 0 } },
    { inputs: [x([5], i32, 'int')], attrs: { axis: 0 } },
    { inputs: [x([100], f32, domain)], attrs: { axis: 0 } },
  ];
}

/** Conv attrs with explicit [before, after] padding pairs, as the primitive takes them. */
const convAttrs = (nsp: number, o: { strides?: number; pad?: [number, number]; dilation?: number; groups?: number } = {}) => ({
  strides: new Array(nsp).fill(o.strides ?? 1),
  padding: new Array(nsp).fill(o.pad ?? [0, 0]),
  dilation: new Array(nsp).fill(o.dilation ?? 1),
  groups: o.groups ?? 1,
});

const poolAttrs = (nsp: number, size: number, strides: number, pad: [number, number] = [0, 0]) => ({
  poolSize: new Array(nsp).fill(size),
  strides: new Array(nsp).fill(strides),
  padding: new Array(nsp).fill(pad),
});

export const CASES: Record<string, OpCase[]> = {
  // ------------------------------------------------------------ unary
  negative: unarySame(),
  abs: unarySame(),
  sign: unarySame(),
  square: unarySame(),
  round: unaryFloat({ values: [0.5, 1.5, 2.5, -0.5, -1.5, 0.49999997, 2.4, -2.6, 3.5, -3.5, 1e7 + 0.5] }),
  exp: unaryFloat('any'),
  expm1: unaryFloat('any'),
  log: unaryFloat('positive'),
  log1p: unaryFloat('positive'),
  sqrt: unaryFloat('positive'),
  rsqrt: unaryFloat('positive'),
  reciprocal: unaryFloat('nonzero'),
  sin: unaryFloat('any'),
  cos: unaryFloat('any'),
  tan: unaryFloat('unit'),
  arcsin: unaryFloat('unit', { large: false }),
  arccos: unaryFloat('unit', { large: false }),
  arctan: unaryFloat('any'),
  sinh: unaryFloat('any'),
  cosh: unaryFloat('any'),
  tanh: unaryFloat('any'),
  arcsinh: unaryFloat('any'),
  arccosh: unaryFloat('gt1', { tiny: false }),
  arctanh: unaryFloat('unit', { large: false }),
  floor: unaryFloat('any'),
  ceil: unaryFloat('any'),
  erf: unaryFloat('any'),
  erfinv: unaryFloat('unit', { large: false }),
  sigmoid: unaryFloat('any'),
  gelu: unaryFloat('any'),
  geluTanh: unaryFloat('any'),
  geluDerivative: unaryFloat('any'),
  // float32 in [-120, 120), float64 in [-800, 800): both tails, subnormal results and the -0 past the underflow.
  silu: [...unaryFloat('any'), { inputs: [x([47], f32, 'any', 60)], grad: false }, { inputs: [x([47], f64, 'any', 400)], grad: false }],
  softplus: [...unaryFloat('any'), { inputs: [x([47], f32, 'any', 60)], grad: false }, { inputs: [x([47], f64, 'any', 400)], grad: false }],
  relu: [...unarySame(), { inputs: [x([16], f32, 'special')] }, { inputs: [x([16], f64, 'special')] }],
  // The composite activations made primitives; x in [-8, 8) or [-6, 6) crosses their kinks (0 and 6; -3 and 3).
  relu6: [...unarySame(), { inputs: [x([37], f32, 'any', 4)] }, { inputs: [x([21], f64, 'any', 4)] }, { inputs: [x([3, 5], i32, { values: [-7, 0, 3, 6, 9, 2] })] }],
  hardSigmoid: [...unaryFloat('any'), { inputs: [x([37], f32, 'any', 3)] }, { inputs: [x([21], f64, 'any', 3)] }],
  hardSilu: [...unaryFloat('any'), { inputs: [x([37], f32, 'any', 3)] }, { inputs: [x([21], f64, 'any', 3)] }],
  softsign: unaryFloat('any'),
  hardTanh: [...unaryFloat('any'), { inputs: [x([37], f32, 'any', 0.75)] }, { inputs: [x([21], f64, 'any', 0.75)] }],
  logSigmoid: [...unaryFloat('any'), { inputs: [x([47], f32, 'any', 60)], grad: false }, { inputs: [x([47], f64, 'any', 400)], grad: false }],
  selu: [...unaryFloat('any'), { inputs: [x([47], f32, 'any', 30)], grad: false }, { inputs: [x([47], f64, 'any', 30)], grad: false }],
  isnan: [{ inputs: [x([16], f32, 'special')] }, { inputs: [x([16], f64, 'special')] }, { inputs: [x([2, 0], f32)] }],
  isinf: [{ inputs: [x([16], f32, 'special')] }, { inputs: [x([16], f64, 'special')] }, { inputs: [x([2, 0], f32)] }],
  isfinite: [{ inputs: [x([16], f32, 'special')] }, { inputs: [x([16], f64, 'special')] }, { inputs: [x([2, 0], f32)] }],
  logicalNot: [{ inputs: [x([3, 5], 'bool', 'bool')] }, { inputs: [x([], 'bool', 'bool')] }, { inputs: [x([0, 2], 'bool', 'bool')] }],

  // ------------------------------------------------------------ binary
  add: binary('any', 'any'),
  subtract: binary('any', 'any'),
  multiply: binary('any', 'any'),
  divide: binary('any', 'nonzero', { int: false }),
  floorDivide: binary('any', 'nonzero', { intB: { values: [1, -2, 3, -4, 5, 7] } }),
  mod: binary('any', 'nonzero', { intB: { values: [1, -2, 3, -4, 5, 7] } }),
  power: [...binary('positive', 'any', { int: false }), { inputs: [x([3, 4], i32, { values: [0, 1, 2, 3, -1, -2] }), x([4], i32, { values: [0, 1, 2, 3] })] }],
  maximum: binary('distinct', 'distinct'),
  minimum: binary('distinct', 'distinct'),
  arctan2: binary('any', 'any', { int: false }),
  leakyRelu: activation({ values: [0.2, 0.01, 1.5] }),
  elu: activation('positive'),
  celu: activation('positive'),
  equal: compare(),
  notEqual: compare(),
  less: compare(),
  lessEqual: compare(),
  greater: compare(),
  greaterEqual: compare(),
  logicalAnd: logical(),
  logicalOr: logical(),
  logicalXor: logical(),
  where: [
    { inputs: [x([3, 4], 'bool', 'bool'), x([3, 4], f32), x([3, 4], f32)] },
    { inputs: [x([3, 1], 'bool', 'bool'), x([4], f64), x([2, 1, 1], f64)] },
    { inputs: [x([], 'bool', 'bool'), x([2, 3], f32), x([], f32)] },
    { inputs: [x([0, 3], 'bool', 'bool'), x([3], f32), x([1, 3], f32)] },
    { inputs: [x([5], 'bool', 'bool'), x([5], i32, 'int'), x([5], i32, 'int')] },
    { inputs: [x([2, 2], 'bool', 'bool'), x([2, 2], 'bool', 'bool'), x([2, 2], 'bool', 'bool')] },
  ],

  // ------------------------------------------------------------ casts, creation
  cast: [
    { inputs: [x([3, 4], f32)], attrs: { dtype: f64 } },
    { inputs: [x([3, 4], f64)], attrs: { dtype: f32 } },
    { inputs: [x([3, 4], f32, 'any', 10)], attrs: { dtype: i32 } },
    { inputs: [x([16], f32, { values: [0.5, -0.5, 1.9, -1.9, 2.5, -2.5, 0, -0, 3e9, -3e9, 1e-30, 7.99999] })], attrs: { dtype: i32 } },
    { inputs: [x([3, 4], i32, 'int')], attrs: { dtype: f32 } },
    { inputs: [x([3, 4], i32, 'int')], attrs: { dtype: 'bool' } },
    { inputs: [x([16], f32, 'special')], attrs: { dtype: 'bool' } },
    { inputs: [x([3, 4], 'bool', 'bool')], attrs: { dtype: f32 } },
    { inputs: [x([3, 4], 'bool', 'bool')], attrs: { dtype: i32 } },
    { inputs: [x([0, 4], f32)], attrs: { dtype: f64 } },
    { inputs: [x([16], f64, 'special')], attrs: { dtype: f32 } },
  ],
  fullLike: [
    { inputs: [x([3, 4], f32)], attrs: { value: 2.5, dtype: f32 } },
    { inputs: [x([3, 4], f32)], attrs: { value: -3, dtype: i32 } },
    { inputs: [x([2, 0], f64)], attrs: { value: 1, dtype: f64 } },
    { inputs: [x([2], i32, 'int')], attrs: { value: 1, dtype: 'bool' } },
    { inputs: [x([], f32)], attrs: { value: Number.NaN, dtype: f32 } },
  ],
  fill: [
    { inputs: [], attrs: { shape: [2, 3], value: 1.5, dtype: f32 } },
    { inputs: [], attrs: { shape: [4], value: -2, dtype: i32 } },
    { inputs: [], attrs: { shape: [], value: 0.1, dtype: f64 } },
    { inputs: [], attrs: { shape: [2, 0], value: 3, dtype: f32 } },
    { inputs: [], attrs: { shape: [3], value: 1, dtype: 'bool' } },
  ],
  arange: [
    { inputs: [], attrs: { start: 0, step: 1, size: 5, dtype: i32 } },
    { inputs: [], attrs: { start: -1.5, step: 0.25, size: 7, dtype: f32 } },
    { inputs: [], attrs: { start: 3, step: -0.1, size: 11, dtype: f64 } },
    { inputs: [], attrs: { start: 0, step: 1, size: 0, dtype: f32 } },
  ],
  stopGradient: [{ inputs: [x([3, 4], f32)] }, { inputs: [x([0], i32, 'int')] }],
  identity: [{ inputs: [x([3, 4], f32)] }, { inputs: [x([2, 1], f64)] }, { inputs: [x([3], 'bool', 'bool')] }],

  // ------------------------------------------------------------ shape
  reshape: [
    { inputs: [x([3, 4], f32)], attrs: { shape: [2, 6] } },
    { inputs: [x([2, 3, 4], f64)], attrs: { shape: [-1, 4] } },
    { inputs: [x([6], i32, 'int')], attrs: { shape: [1, 6, 1] } },
    { inputs: [x([0, 3], f32)], attrs: { shape: [3, 0] } },
    { inputs: [x([1], f32)], attrs: { shape: [] } },
  ],
  transpose: [
    { inputs: [x([3, 4], f32)], attrs: { perm: [1, 0] } },
    { inputs: [x([2, 3, 4], f64)], attrs: { perm: [2, 0, 1] } },
    { inputs: [x([2, 1, 3, 2], f32)], attrs: { perm: [3, 1, 0, 2] } },
    { inputs: [x([0, 3], i32, 'int')], attrs: { perm: [1, 0] } },
    { inputs: [x([17, 33], f32)], attrs: { perm: [1, 0] } },
    { inputs: [x([2, 3], 'bool', 'bool')], attrs: { perm: [1, 0] } },
  ],
  broadcastTo: [
    { inputs: [x([3], f32)], attrs: { shape: [2, 3] } },
    { inputs: [x([3, 1], f64)], attrs: { shape: [2, 3, 4] } },
    { inputs: [x([], i32, 'int')], attrs: { shape: [2, 2] } },
    { inputs: [x([1, 3], f32)], attrs: { shape: [0, 3] } },
    { inputs: [x([2, 1], 'bool', 'bool')], attrs: { shape: [2, 5] } },
  ],
  slice: [
    { inputs: [x([4, 5], f32)], attrs: { begin: [1, 2], size: [2, 3] } },
    { inputs: [x([2, 3, 4], f64)], attrs: { begin: [0, 1, 1], size: [-1, 2, -1] } },
    { inputs: [x([5], i32, 'int')], attrs: { begin: [2], size: [0] } },
    { inputs: [x([3, 3], 'bool', 'bool')], attrs: { begin: [1, 0], size: [1, 3] } },
  ],
  reverse: [
    { inputs: [x([3, 4], f32)], attrs: { axes: [1] } },
    { inputs: [x([2, 3, 4], f64)], attrs: { axes: [0, 2] } },
    { inputs: [x([5], i32, 'int')], attrs: { axes: [0] } },
    { inputs: [x([0, 2], f32)], attrs: { axes: [1] } },
    { inputs: [x([2, 2], f32)], attrs: { axes: [] } },
  ],
  concatenate: [
    { inputs: [x([2, 3], f32), x([2, 1], f32)], attrs: { axis: 1 } },
    { inputs: [x([1, 3], f64), x([2, 3], f64), x([0, 3], f64)], attrs: { axis: 0 } },
    { inputs: [x([2, 2, 2], i32, 'int'), x([2, 1, 2], i32, 'int')], attrs: { axis: 1 } },
    { inputs: [x([3], 'bool', 'bool'), x([2], 'bool', 'bool')], attrs: { axis: 0 } },
    { inputs: [x([2, 3], f32)], attrs: { axis: 0 } },
  ],
  pad: [
    { inputs: [x([2, 3], f32)], attrs: { paddings: [[1, 0], [2, 1]], constantValue: 0 } },
    { inputs: [x([2, 1, 3], f64)], attrs: { paddings: [[0, 0], [1, 1], [0, 2]], constantValue: -1.5 } },
    { inputs: [x([3], i32, 'int')], attrs: { paddings: [[2, 2]], constantValue: 7 } },
    { inputs: [x([0, 2], f32)], attrs: { paddings: [[1, 1], [0, 0]], constantValue: 3 } },
  ],
  gather: [
    { inputs: [x([5, 3], f32), x([4], i32, { index: 5 })], attrs: { axis: 0 } },
    { inputs: [x([2, 5, 3], f64), x([2, 2], i32, { index: 5 })], attrs: { axis: 1 } },
    { inputs: [x([4], i32, 'int'), x([], i32, { index: 4 })], attrs: { axis: 0 } },
    { inputs: [x([3, 4], f32), x([0], i32, { index: 4 })], attrs: { axis: 1 } },
    { inputs: [x([3, 2], 'bool', 'bool'), x([5], i32, { index: 3 })], attrs: { axis: 0 } },
  ],
  scatterAdd: [
    { inputs: [x([6], i32, { index: 4 }), x([6, 3], f32)], attrs: { axis: 0, dimSize: 4 } },
    { inputs: [x([5], i32, { index: 3 }), x([2, 5, 2], f64)], attrs: { axis: 1, dimSize: 3 } },
    { inputs: [x([4], i32, { index: 2 }), x([4], i32, 'int')], attrs: { axis: 0, dimSize: 2 } },
    { inputs: [x([0], i32, { index: 3 }), x([0, 2], f32)], attrs: { axis: 0, dimSize: 3 } },
  ],

  // ------------------------------------------------------------ reductions
  sum: [...reduction(), ...emptyReduction],
  mean: [...reduction({ int: false }), ...emptyReduction],
  prod: [...reduction({ domain: 'nonzero' }), ...emptyReduction],
  max: reduction({ domain: 'distinct' }),
  min: reduction({ domain: 'distinct' }),
  any: reduction({ bool: true }),
  all: reduction({ bool: true }),
  argmax: argReduction(),
  argmin: argReduction(),
  cumsum: cumulative('any'),
  cumprod: cumulative('nonzero'),

  // ------------------------------------------------------------ indexing
  sort: [
    { inputs: [x([3, 5], f32, 'distinct')], attrs: { descending: false } },
    { inputs: [x([2, 2, 6], f64, 'distinct')], attrs: { descending: true } },
    { inputs: [x([7], i32, { values: [3, -1, 4, 1, 5, 9, 2] })], attrs: { descending: false } },
    { inputs: [x([2, 0], f32)], attrs: { descending: false } },
    { inputs: [x([1], f32)], attrs: { descending: true } },
    { inputs: [x([9], f32, { values: [3, Infinity, -1, -Infinity, 0, 2, -5, 1e30, -1e-30] })], attrs: { descending: false }, grad: false },
  ],

  topK: [
    { inputs: [x([3, 5], f32, 'distinct')], attrs: { k: 2 } },
    { inputs: [x([2, 2, 6], f64, 'distinct')], attrs: { k: 6 } },
    { inputs: [x([7], i32, { values: [3, -1, 4, 1, 5, 9, 2] })], attrs: { k: 3 } },
    { inputs: [x([2, 0], f32)], attrs: { k: 0 } },
    { inputs: [x([4, 3], f32)], attrs: { k: 0 } },
    { inputs: [x([1], f32)], attrs: { k: 1 } },
    { inputs: [x([16], f32, 'special')], attrs: { k: 15 }, grad: false },
  ],

  // ------------------------------------------------------------ linalg
  matmul: [
    { inputs: [x([3, 4], f32), x([4, 5], f32)] },
    { inputs: [x([2, 3, 4], f64), x([4, 2], f64)] },
    { inputs: [x([4, 3], f32), x([5, 4], f32)], attrs: { transposeA: true, transposeB: true } },
    { inputs: [x([2, 1, 3, 4], f32), x([3, 4, 2], f32)] },
    { inputs: [x([3, 0], f32), x([0, 2], f32)] },
    { inputs: [x([0, 3], f64), x([3, 2], f64)] },
    { inputs: [x([1, 1], f32), x([1, 1], f32)] },
    { inputs: [x([33, 65], f32), x([65, 31], f32)] },
    { inputs: [x([17, 40], f64), x([19, 40], f64)], attrs: { transposeB: true } },
    { inputs: [x([3, 4], i32, 'int'), x([4, 2], i32, 'int')] },
    { inputs: [x([4, 6], f32, 'any', 1e15), x([6, 3], f32, 'any', 1e15)], grad: false },
  ],
  inv: [{ inputs: [x([3, 3], f64, 'wellConditioned')] }, { inputs: [x([2, 4, 4], f32, 'wellConditioned')] }, { inputs: [x([1, 1], f32, 'wellConditioned')] }, { inputs: [x([0, 2, 2], f32, 'wellConditioned')] }],
  det: [{ inputs: [x([3, 3], f64, 'wellConditioned')] }, { inputs: [x([2, 4, 4], f32, 'wellConditioned')] }, { inputs: [x([1, 1], f64, 'wellConditioned')] }, { inputs: [x([0, 2, 2], f32, 'wellConditioned')] }],
  solve: [
    { inputs: [x([3, 3], f64, 'wellConditioned'), x([3, 2], f64)] },
    { inputs: [x([2, 4, 4], f32, 'wellConditioned'), x([2, 4, 3], f32)] },
    { inputs: [x([2, 2], f32, 'wellConditioned'), x([2, 0], f32)] },
  ],
  cholesky: [{ inputs: [x([3, 3], f64, 'spd')] }, { inputs: [x([2, 4, 4], f32, 'spd')] }, { inputs: [x([1, 1], f64, 'spd')] }],

  // ------------------------------------------------------------ nn (channels_last, explicit padding pairs)
  conv: [
    { inputs: [x([2, 7, 3], f32), x([3, 3, 4], f32)], attrs: convAttrs(1) },
    { inputs: [x([1, 6, 5, 2], f64), x([3, 2, 2, 3], f64)], attrs: convAttrs(2, { strides: 2, pad: [1, 1] }) },
    { inputs: [x([2, 5, 5, 4], f32), x([2, 2, 2, 6], f32)], attrs: convAttrs(2, { dilation: 2, groups: 2 }) },
    { inputs: [x([1, 4, 4, 3, 2], f32), x([2, 2, 2, 2, 2], f32)], attrs: convAttrs(3, { pad: [0, 1] }) },
    { inputs: [x([0, 5, 5, 1], f32), x([3, 3, 1, 2], f32)], attrs: convAttrs(2, { pad: [1, 1] }) },
    { inputs: [x([1, 9, 9, 8], f32), x([3, 3, 8, 16], f32)], attrs: convAttrs(2, { pad: [1, 1] }) },
  ],
  convBackpropInput: [
    { inputs: [x([2, 5, 4], f32), x([3, 3, 4], f32)], attrs: { ...convAttrs(1), inputSize: [7] } },
    { inputs: [x([1, 3, 3, 3], f64), x([3, 2, 2, 3], f64)], attrs: { ...convAttrs(2, { strides: 2, pad: [1, 1] }), inputSize: [6, 5] } },
    { inputs: [x([2, 3, 3, 6], f32), x([2, 2, 2, 6], f32)], attrs: { ...convAttrs(2, { dilation: 2, groups: 2 }), inputSize: [5, 5] } },
  ],
  convBackpropFilter: [
    { inputs: [x([2, 7, 3], f32), x([2, 5, 4], f32)], attrs: { ...convAttrs(1), kernelSize: [3] } },
    { inputs: [x([1, 6, 5, 2], f64), x([1, 3, 3, 3], f64)], attrs: { ...convAttrs(2, { strides: 2, pad: [1, 1] }), kernelSize: [3, 2] } },
    { inputs: [x([2, 5, 5, 4], f32), x([2, 3, 3, 6], f32)], attrs: { ...convAttrs(2, { dilation: 2, groups: 2 }), kernelSize: [2, 2] } },
  ],
  maxPool: [
    { inputs: [x([2, 6, 3], f32, 'distinct')], attrs: poolAttrs(1, 2, 2) },
    { inputs: [x([1, 5, 5, 2], f64, 'distinct')], attrs: poolAttrs(2, 3, 2, [1, 1]) },
    { inputs: [x([1, 4, 4, 4, 1], f32, 'distinct')], attrs: poolAttrs(3, 2, 1) },
    { inputs: [x([0, 4, 4, 2], f32)], attrs: poolAttrs(2, 2, 2) },
    { inputs: [x([1, 4, 4, 3], i32, 'int')], attrs: poolAttrs(2, 2, 2) },
  ],
  maxPoolGrad: [
    { inputs: [x([2, 6, 3], f32, 'distinct'), x([2, 3, 3], f32)], attrs: poolAttrs(1, 2, 2) },
    { inputs: [x([1, 5, 5, 2], f64, 'distinct'), x([1, 3, 3, 2], f64)], attrs: poolAttrs(2, 3, 2, [1, 1]) },
    // positiveMax (a ReLU's output pooled): windows whose max is <= 0 or NaN route nothing; 37
    // channels run whole vectors and a scalar tail; disjoint and overlapping windows.
    { inputs: [x([2, 6, 6, 37], f32, 'distinct'), x([2, 3, 3, 37], f32)], attrs: { ...poolAttrs(2, 2, 2), positiveMax: true } },
    { inputs: [x([1, 5, 5, 19], f64, 'distinct'), x([1, 3, 3, 19], f64)], attrs: { ...poolAttrs(2, 3, 2, [1, 1]), positiveMax: true } },
    { inputs: [x([1, 4, 4, 16], f32, 'special'), x([1, 2, 2, 16], f32)], attrs: { ...poolAttrs(2, 2, 2), positiveMax: true } },
  ],
  avgPool: [
    { inputs: [x([2, 6, 3], f32)], attrs: poolAttrs(1, 2, 2) },
    { inputs: [x([1, 5, 5, 2], f64)], attrs: poolAttrs(2, 3, 2, [1, 1]) },
    { inputs: [x([1, 4, 4, 4, 1], f32)], attrs: poolAttrs(3, 2, 1) },
    { inputs: [x([0, 4, 4, 2], f32)], attrs: poolAttrs(2, 2, 2) },
  ],
  avgPoolGrad: [
    { inputs: [x([2, 3, 3], f32)], attrs: { ...poolAttrs(1, 2, 2), inputSize: [6] } },
    { inputs: [x([1, 3, 3, 2], f64)], attrs: { ...poolAttrs(2, 3, 2, [1, 1]), inputSize: [5, 5] } },
  ],

  // ------------------------------------------------------------ random (bit-exact Philox stream, docs/random.md)
  randomUniform: [
    { inputs: [x([2], i32, { values: [42, 0] })], attrs: { shape: [3, 5], dtype: f32 } },
    { inputs: [x([2], i32, { values: [7, 3] })], attrs: { shape: [9], dtype: f64 } },
    { inputs: [x([2], i32, { values: [-1, 2147483647] })], attrs: { shape: [0, 4], dtype: f32 } },
    { inputs: [x([2], i32, { values: [1, 1] })], attrs: { shape: [1001], dtype: f32 } },
    { inputs: [x([2], i32, { values: [5, 6] })], attrs: { shape: [7, 9], dtype: f32, scale: 5, shift: -2 } },
    { inputs: [x([2], i32, { values: [5, 6] })], attrs: { shape: [1003], dtype: f64, scale: 0.1 } },
  ],
  randomNormal: [
    { inputs: [x([2], i32, { values: [42, 0] })], attrs: { shape: [3, 5], dtype: f32 } },
    { inputs: [x([2], i32, { values: [7, 3] })], attrs: { shape: [1001], dtype: f32, scale: 2, shift: 0.5 } },
    { inputs: [x([2], i32, { values: [7, 3] })], attrs: { shape: [9], dtype: f64 } },
    { inputs: [x([2], i32, { values: [1, 1] })], attrs: { shape: [0, 4], dtype: f32 } },
  ],
  dropout: [
    { inputs: [x([5, 7], f32), x([2], i32, { values: [42, 0] })], attrs: { rate: 0.5 } },
    { inputs: [x([3, 1001], f64), x([2], i32, { values: [7, 3] })], attrs: { rate: 0.1 } },
    { inputs: [x([0, 4], f32), x([2], i32, { values: [1, 1] })], attrs: { rate: 0.3 } },
  ],

  // ------------------------------------------------------------ softmax family (single-axis rows)
  softmax: [
    { inputs: [x([3, 5], f32)], attrs: { axis: 1 } },
    { inputs: [x([2, 4, 3], f64)], attrs: { axis: 1 } },
    { inputs: [x([4, 1, 3], f32)], attrs: { axis: 0 } },
    { inputs: [x([2, 0, 3], f32)], attrs: { axis: 2 } },
    { inputs: [x([3, 67], f32)], attrs: { axis: 1 } },
    { inputs: [x([5, 33], f64, 'any', 50)], attrs: { axis: 1 } },
    { inputs: [x([2, 8], f32, { values: [-Infinity, 1, 2, -Infinity, 1e30, -1e30, 3, 0] })], attrs: { axis: 1 }, grad: false },
  ],
  logSoftmax: [
    { inputs: [x([3, 5], f32)], attrs: { axis: 1 } },
    { inputs: [x([2, 4, 3], f64)], attrs: { axis: 1 } },
    { inputs: [x([4, 1, 3], f32)], attrs: { axis: 0 } },
    { inputs: [x([2, 0, 3], f32)], attrs: { axis: 2 } },
    { inputs: [x([3, 67], f32)], attrs: { axis: 1 } },
    { inputs: [x([5, 33], f64, 'any', 50)], attrs: { axis: 1 } },
    { inputs: [x([2, 8], f32, { values: [-Infinity, 1, 2, -Infinity, 1e30, -1e30, 3, 0] })], attrs: { axis: 1 }, grad: false },
  ],
  softmaxGrad: [
    { inputs: [x([3, 5], f32, 'positive'), x([3, 5], f32)], attrs: { axis: 1 } },
    { inputs: [x([2, 4, 3], f64, 'positive'), x([2, 4, 3], f64)], attrs: { axis: 1 } }, // strided rows
    { inputs: [x([4, 1, 3], f32, 'positive'), x([4, 1, 3], f32)], attrs: { axis: 0 } },
    { inputs: [x([2, 0, 3], f32), x([2, 0, 3], f32)], attrs: { axis: 2 } },
    { inputs: [x([3, 67], f32, 'positive'), x([3, 67], f32, 'any', 30)], attrs: { axis: 1 } }, // whole vectors and a tail
    { inputs: [x([300, 64], f32, 'positive'), x([300, 64], f32)], attrs: { axis: 1 } }, // attention's rows, over threads
  ],
  logSoftmaxGrad: [
    { inputs: [x([3, 5], f32), x([3, 5], f32)], attrs: { axis: 1 } },
    { inputs: [x([2, 4, 3], f64), x([2, 4, 3], f64)], attrs: { axis: 1 } }, // strided rows
    { inputs: [x([4, 1, 3], f32), x([4, 1, 3], f32)], attrs: { axis: 0 } },
    { inputs: [x([2, 0, 3], f32), x([2, 0, 3], f32)], attrs: { axis: 2 } },
    { inputs: [x([3, 67], f32), x([3, 67], f32, 'any', 30)], attrs: { axis: 1 } }, // packs, vectors and a tail
    { inputs: [x([300, 10], f32), x([300, 10], f32)], attrs: { axis: 1 } }, // a classifier's rows, over threads
    { inputs: [x([2, 8], f32, { values: [-Infinity, -1, -2, -Infinity, -90, -1e30, -3, 0] }), x([2, 8], f32)], attrs: { axis: 1 }, grad: false },
  ],
  sparseSoftmaxCrossEntropy: [
    { inputs: [x([4], i32, { index: 5 }), x([4, 5], f32)] },
    { inputs: [x([2, 3], i32, { index: 7 }), x([2, 3, 7], f64)] },
    { inputs: [x([6], i32, { values: [0, -1, 2, 3, 9, 1] }), x([6, 3], f32)] },
    { inputs: [x([0], i32, { index: 3 }), x([0, 3], f32)] },
    { inputs: [x([3], i32, { index: 67 }), x([3, 67], f32, 'any', 30)] },
  ],
  sparseSoftmaxCrossEntropyGrad: [
    { inputs: [x([4], i32, { index: 5 }), x([4, 5], f32), x([4], f32)] },
    { inputs: [x([2, 3], i32, { index: 7 }), x([2, 3, 7], f64), x([2, 3], f64)] },
    { inputs: [x([6], i32, { values: [0, -1, 2, 3, 9, 1] }), x([6, 3], f32), x([6], f32)] }, // out-of-range labels
    { inputs: [x([0], i32, { index: 3 }), x([0, 3], f32), x([0], f32)] },
    { inputs: [x([3], i32, { index: 67 }), x([3, 67], f32, 'any', 30), x([3], f32)] },
    { inputs: [x([200], i32, { index: 1000 }), x([200, 1000], f32), x([200], f32)] }, // rows over threads and blocks
  ],

  // ------------------------------------------------------------ fused layer normalization (trailing axes)
  layerNorm: [
    { inputs: [x([3, 5], f32), x([5], f32), x([5], f32)], attrs: { axis: 1, epsilon: 1e-3, rms: false } },
    { inputs: [x([2, 4, 3], f64), x([4, 3], f64), x([4, 3], f64)], attrs: { axis: 1, epsilon: 1e-5, rms: false } },
    { inputs: [x([4, 67], f32), x([67], f32), x([67], f32)], attrs: { axis: 1, epsilon: 1e-6, rms: true } },
    { inputs: [x([5, 33], f64, 'any', 50), x([33], f64), x([33], f64)], attrs: { axis: 1, epsilon: 1e-7, rms: false } },
    { inputs: [x([6, 19], f32, 'positive', 1e3), x([19], f32), x([19], f32)], attrs: { axis: 1, epsilon: 1e-3, rms: false } }, // mean far from 0
    { inputs: [x([512, 64], f32), x([64], f32), x([64], f32)], attrs: { axis: 1, epsilon: 1e-3, rms: false } }, // several row blocks
    { inputs: [x([7], f32), x([7], f32), x([7], f32)], attrs: { axis: 0, epsilon: 1e-3, rms: false } },
    { inputs: [x([2, 0, 3], f32), x([0, 3], f32), x([0, 3], f32)], attrs: { axis: 1, epsilon: 1e-3, rms: false } },
    { inputs: [x([0, 4], f32), x([4], f32), x([4], f32)], attrs: { axis: 1, epsilon: 1e-3, rms: true } },
    { inputs: [x([2, 16], f32, 'special'), x([16], f32), x([16], f32)], attrs: { axis: 1, epsilon: 1e-3, rms: false }, grad: false },
  ],
  layerNormGrad: [
    { inputs: [x([3, 5], f32), x([3, 5], f32), x([5], f32), x([3], f32), x([3], f32, 'positive')], attrs: { axis: 1, rms: false } },
    { inputs: [x([2, 4, 3], f64), x([2, 4, 3], f64), x([4, 3], f64), x([2], f64), x([2], f64, 'positive')], attrs: { axis: 1, rms: true } },
    { inputs: [x([512, 64], f32), x([512, 64], f32), x([64], f32), x([512], f32), x([512], f32, 'positive')], attrs: { axis: 1, rms: false } },
    { inputs: [x([3, 67], f64), x([3, 67], f64), x([67], f64), x([3], f64), x([3], f64, 'positive')], attrs: { axis: 1, rms: false } },
    { inputs: [x([2, 0, 3], f32), x([2, 0, 3], f32), x([0, 3], f32), x([2], f32), x([2], f32, 'positive')], attrs: { axis: 1, rms: false } },
    { inputs: [x([0, 4], f32), x([0, 4], f32), x([4], f32), x([0], f32), x([0], f32, 'positive')], attrs: { axis: 1, rms: false } },
  ],

  // ------------------------------------------------------------ fused LSTM and GRU cells (gates [batch, k * units], states [batch, units])
  lstmCell: [
    { inputs: [x([3, 8], f32), x([3, 8], f32), x([3, 2], f32)] },
    { inputs: [x([2, 12], f64), x([2, 12], f64), x([2, 3], f64)] },
    { inputs: [x([5, 268], f32, 'any', 4), x([5, 268], f32), x([5, 67], f32)] }, // units off the vector widths, saturated gates
    { inputs: [x([4, 132], f64), x([4, 132], f64), x([4, 33], f64)] },
    { inputs: [x([40, 512], f32), x([40, 512], f32), x([40, 128], f32)] }, // rows over threads
    { inputs: [x([0, 8], f32), x([0, 8], f32), x([0, 2], f32)] },
    { inputs: [x([1, 0], f32), x([1, 0], f32), x([1, 0], f32)] },
    { inputs: [x([2, 16], f32, 'special'), x([2, 16], f32), x([2, 4], f32)], grad: false },
  ],
  lstmCellGrad: [
    { inputs: [x([3, 10], f32, 'unit'), x([3, 2], f32), x([3, 2], f32), x([3, 2], f32)] },
    { inputs: [x([2, 15], f64, 'unit'), x([2, 3], f64), x([2, 3], f64), x([2, 3], f64)] },
    { inputs: [x([5, 335], f32, 'unit'), x([5, 67], f32), x([5, 67], f32), x([5, 67], f32)] },
    { inputs: [x([40, 640], f32, 'unit'), x([40, 128], f32), x([40, 128], f32), x([40, 128], f32)] },
    { inputs: [x([0, 10], f32), x([0, 2], f32), x([0, 2], f32), x([0, 2], f32)] },
  ],

  gruCell: [
    { inputs: [x([3, 6], f32), x([3, 6], f32), x([3, 2], f32), x([6], f32)] },
    { inputs: [x([2, 9], f64), x([2, 9], f64), x([2, 3], f64), x([9], f64)] },
    { inputs: [x([5, 201], f32, 'any', 4), x([5, 201], f32), x([5, 67], f32), x([201], f32)] }, // units off the vector widths, saturated gates
    { inputs: [x([40, 384], f32), x([40, 384], f32), x([40, 128], f32), x([384], f32)] }, // rows over threads
    { inputs: [x([0, 6], f32), x([0, 6], f32), x([0, 2], f32), x([6], f32)] },
    { inputs: [x([2, 12], f32, 'special'), x([2, 12], f32), x([2, 4], f32), x([12], f32)], grad: false },
  ],
  gruCellGrad: [
    { inputs: [x([3, 6], f32, 'unit'), x([3, 6], f32), x([3, 2], f32), x([3, 2], f32), x([6], f32)] },
    { inputs: [x([2, 9], f64, 'unit'), x([2, 9], f64), x([2, 3], f64), x([2, 3], f64), x([9], f64)] },
    { inputs: [x([5, 201], f32, 'unit'), x([5, 201], f32), x([5, 67], f32), x([5, 67], f32), x([201], f32)] },
    { inputs: [x([40, 384], f32, 'unit'), x([40, 384], f32), x([40, 128], f32), x([40, 128], f32), x([384], f32)] },
    { inputs: [x([0, 6], f32), x([0, 6], f32), x([0, 2], f32), x([0, 2], f32), x([6], f32)] },
  ],

  // ------------------------------------------------------------ fused recurrent sequences (xs [steps, batch, k * units], rk [units, k * units])
  lstmSequence: [
    { inputs: [x([4, 3, 8]), x([2, 8], f32, 'any', 0.5), x([3, 2]), x([3, 2])], grad: false }, // inference: no gradient
    { inputs: [x([4, 3, 8]), x([2, 8], f32, 'any', 0.5), x([3, 2]), x([3, 2])], attrs: { saveActivations: true } },
    { inputs: [x([3, 2, 12], f64), x([3, 12], f64, 'any', 0.5), x([2, 3], f64), x([2, 3], f64)], attrs: { saveActivations: true } },
    { inputs: [x([5, 5, 268], f32, 'any', 4), x([67, 268], f32, 'any', 0.2), x([5, 67]), x([5, 67])], grad: false }, // units off the vector widths, saturated gates
    { inputs: [x([5, 5, 268], f32, 'any', 4), x([67, 268], f32, 'any', 0.2), x([5, 67]), x([5, 67])], attrs: { saveActivations: true } },
    { inputs: [x([3, 40, 512]), x([128, 512], f32, 'any', 0.1), x([40, 128]), x([40, 128])], attrs: { saveActivations: true } }, // products and rows over threads
    { inputs: [x([4, 9, 8]), x([2, 8], f32, 'any', 0.5), x([9, 2]), x([9, 2])], grad: false }, // row blocks of 4 and 5
    { inputs: [x([6, 1, 512]), x([128, 512], f32, 'any', 0.1), x([1, 128]), x([1, 128])], grad: false }, // batch 1: one-row products
    { inputs: [x([0, 3, 8]), x([2, 8]), x([3, 2]), x([3, 2])], attrs: { saveActivations: true } }, // no steps: cT is c0, rk's gradient 0
    { inputs: [x([1, 3, 8]), x([2, 8]), x([3, 2]), x([3, 2])], attrs: { saveActivations: true } }, // one step: h0 the only h_{t-1}
    { inputs: [x([2, 0, 8]), x([2, 8]), x([0, 2]), x([0, 2])], attrs: { saveActivations: true } },
  ],
  lstmSequenceGrad: [
    { inputs: [x([4, 3, 10], f32, 'unit'), x([4, 3, 2]), x([3, 2]), x([2, 8], f32, 'any', 0.5), x([4, 3, 2]), x([3, 2])] },
    { inputs: [x([3, 2, 15], f64, 'unit'), x([3, 2, 3], f64), x([2, 3], f64), x([3, 12], f64, 'any', 0.5), x([3, 2, 3], f64), x([2, 3], f64)] },
    { inputs: [x([3, 40, 640], f32, 'unit'), x([3, 40, 128]), x([40, 128]), x([128, 512], f32, 'any', 0.1), x([3, 40, 128]), x([40, 128])] }, // rows over threads
    { inputs: [x([5, 9, 335], f32, 'unit'), x([5, 9, 67]), x([9, 67]), x([67, 268], f32, 'any', 0.2), x([5, 9, 67]), x([9, 67])] }, // row blocks of 4 and 5, units off the widths
    { inputs: [x([0, 3, 10], f32, 'unit'), x([0, 3, 2]), x([3, 2]), x([2, 8]), x([0, 3, 2]), x([3, 2])] }, // no steps: dh0 0, dc0 dcT
  ],
  gruSequence: [
    { inputs: [x([4, 3, 6]), x([2, 6], f32, 'any', 0.5), x([3, 2]), x([6])], grad: false }, // inference: no gradient
    { inputs: [x([4, 3, 6]), x([2, 6], f32, 'any', 0.5), x([3, 2]), x([6])], attrs: { saveActivations: true } },
    { inputs: [x([3, 2, 9], f64), x([3, 9], f64, 'any', 0.5), x([2, 3], f64), x([9], f64)], attrs: { saveActivations: true } },
    { inputs: [x([5, 5, 201], f32, 'any', 4), x([67, 201], f32, 'any', 0.2), x([5, 67]), x([201])], grad: false },
    { inputs: [x([5, 5, 201], f32, 'any', 4), x([67, 201], f32, 'any', 0.2), x([5, 67]), x([201])], attrs: { saveActivations: true } },
    { inputs: [x([3, 40, 384]), x([128, 384], f32, 'any', 0.1), x([40, 128]), x([384])], grad: false }, // rows over threads
    { inputs: [x([3, 40, 384], f64), x([128, 384], f64, 'any', 0.1), x([40, 128], f64), x([384], f64)], attrs: { saveActivations: true } }, // and their gradient (float64: rk's sums 120 rows deep)
    { inputs: [x([4, 9, 6], f64), x([2, 6], f64, 'any', 0.5), x([9, 2], f64), x([6], f64)], grad: false }, // row blocks of 4 and 5
    { inputs: [x([6, 1, 384]), x([128, 384], f32, 'any', 0.1), x([1, 128]), x([384])], grad: false },
    { inputs: [x([1, 3, 6]), x([2, 6]), x([3, 2]), x([6])], attrs: { saveActivations: true } }, // one step: h0 the only h_{t-1}
    { inputs: [x([0, 3, 6]), x([2, 6]), x([3, 2]), x([6])], attrs: { saveActivations: true } }, // no steps
  ],
  // Random activations make the GRU's backward recursion (dh z plus drec rk^T each step) grow
  // where a trained cell's would not: short sequences and small kernels keep its float32
  // rounding within the accumulating tolerance.
  gruSequenceGrad: [
    { inputs: [x([4, 3, 6], f32, 'unit'), x([4, 3, 6]), x([4, 3, 2]), x([3, 2]), x([2, 6], f32, 'any', 0.5), x([6]), x([4, 3, 2])] },
    { inputs: [x([3, 2, 9], f64, 'unit'), x([3, 2, 9], f64), x([3, 2, 3], f64), x([2, 3], f64), x([3, 9], f64, 'any', 0.5), x([9], f64), x([3, 2, 3], f64)] },
    { inputs: [x([3, 40, 384], f32, 'unit'), x([3, 40, 384]), x([3, 40, 128]), x([40, 128]), x([128, 384], f32, 'unit', 0.05), x([384]), x([3, 40, 128], f32, 'positive')] }, // rows over threads
    { inputs: [x([3, 9, 201], f32, 'unit'), x([3, 9, 201]), x([3, 9, 67]), x([9, 67]), x([67, 201], f32, 'unit', 0.1), x([201]), x([3, 9, 67], f32, 'positive')] }, // row blocks of 4 and 5, units off the widths
    { inputs: [x([0, 3, 6], f32, 'unit'), x([0, 3, 6]), x([0, 3, 2]), x([3, 2]), x([2, 6]), x([6]), x([0, 3, 2])] }, // no steps: dh0 0
  ],

  // ------------------------------------------------------------ fused optimizer update [variable, gradient, m, v (>= 0), alpha scalar]
  adamUpdate: [
    { inputs: [x([3, 5], f32), x([3, 5], f32), x([3, 5], f32), x([3, 5], f32, 'positive'), x([], f32, 'positive')], attrs: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } },
    { inputs: [x([7], f64), x([7], f64), x([7], f64), x([7], f64, 'positive'), x([], f64, 'positive')], attrs: { beta1: 0.8, beta2: 0.99, epsilon: 1e-3 } },
    { inputs: [x([37], f32, 'any', 1e-4), x([37], f32, 'any', 1e-4), x([37], f32, 'any', 1e-4), x([37], f32, 'positive', 1e-8), x([], f32, 'positive', 1e-3)], attrs: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } }, // a partial vector, tiny moments
    { inputs: [x([40000], f32), x([40000], f32), x([40000], f32), x([40000], f32, 'positive'), x([], f32, 'positive')], attrs: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } }, // elements over threads
    { inputs: [x([0, 3], f32), x([0, 3], f32), x([0, 3], f32), x([0, 3], f32), x([], f32)], attrs: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } },
    { inputs: [x([2, 8], f32, 'special'), x([2, 8], f32, 'special'), x([2, 8], f32), x([2, 8], f32, 'positive'), x([], f32, 'positive')], attrs: { beta1: 0.9, beta2: 0.999, epsilon: 0 } },
  ],

  // ------------------------------------------------------------ fused batch normalization (batch statistics over all but `axis`)
  batchNorm: [
    { inputs: [x([6, 4], f32), x([4], f32), x([4], f32)], attrs: { axis: 1, epsilon: 1e-3 } },
    { inputs: [x([2, 3, 4, 5], f64), x([3], f64), x([3], f64)], attrs: { axis: 1, epsilon: 1e-3 } }, // channels first: runs
    { inputs: [x([2, 3, 3, 8], f32), x([8], f32), x([8], f32)], attrs: { axis: 3, epsilon: 1e-5 } }, // NHWC
    { inputs: [x([37, 19], f32, 'positive', 1e3), x([19], f32), x([19], f32)], attrs: { axis: 1, epsilon: 1e-3 } }, // mean far from 0, C off the vector widths
    { inputs: [x([3, 67], f64), x([3], f64), x([3], f64)], attrs: { axis: 0, epsilon: 1e-3 } },
    { inputs: [x([5, 1], f32), x([5], f32), x([5], f32)], attrs: { axis: 0, epsilon: 1e-3 } }, // one value per channel
    { inputs: [x([0, 3], f32), x([3], f32), x([3], f32)], attrs: { axis: 1, epsilon: 1e-3 } },
    { inputs: [x([4, 0], f32), x([0], f32), x([0], f32)], attrs: { axis: 1, epsilon: 1e-3 } },
    { inputs: [x([16, 2], f32, 'special'), x([2], f32), x([2], f32)], attrs: { axis: 1, epsilon: 1e-3 }, grad: false },
  ],
  batchNormGrad: [
    { inputs: [x([6, 4], f32), x([6, 4], f32), x([4], f32), x([4], f32), x([4], f32, 'positive')], attrs: { axis: 1, epsilon: 1e-3 } },
    { inputs: [x([2, 3, 4, 5], f64), x([2, 3, 4, 5], f64), x([3], f64), x([3], f64), x([3], f64, 'positive')], attrs: { axis: 1, epsilon: 1e-3 } },
    { inputs: [x([2, 3, 3, 19], f32), x([2, 3, 3, 19], f32), x([19], f32), x([19], f32), x([19], f32, 'positive')], attrs: { axis: 3, epsilon: 1e-5 } },
    { inputs: [x([0, 3], f32), x([0, 3], f32), x([3], f32), x([3], f32), x([3], f32, 'positive')], attrs: { axis: 1, epsilon: 1e-3 } },
  ],

  // ------------------------------------------------------------ single-pass statistics (var, std, moments; logsumexp)
  moments: [
    { inputs: [x([3, 67], f32)], attrs: { axes: [1], keepdims: false } }, // rows
    { inputs: [x([2, 4, 3], f64)], attrs: { axes: [0, 1], keepdims: true } }, // leading axes: columns
    { inputs: [x([37, 19], f32, 'positive', 1e3)], attrs: { axes: [0], keepdims: false } }, // mean far from 0, columns off the vector widths
    { inputs: [x([3, 5, 4], f32)], attrs: { axes: [1], keepdims: true } }, // middle axis: [outer, n, inner] columns
    { inputs: [x([2, 3, 4], f64)], attrs: { axes: [0, 2], keepdims: false } }, // interleaved: gathered
    { inputs: [x([6, 5], f32)], attrs: { axes: [0, 1], keepdims: false } }, // all axes
    { inputs: [x([5], f32)], attrs: { axes: [], keepdims: false } },
    { inputs: [x([2, 0, 3], f32)], attrs: { axes: [1], keepdims: false } }, // empty axis: NaN
    { inputs: [x([16, 2], f32, 'special')], attrs: { axes: [0], keepdims: false }, grad: false },
  ],
  logsumexp: [
    { inputs: [x([3, 67], f32)], attrs: { axis: 1 } },
    { inputs: [x([2, 4, 3], f64)], attrs: { axis: 1 } },
    { inputs: [x([4, 1, 3], f32)], attrs: { axis: 0 } },
    { inputs: [x([5, 33], f32, 'any', 50)], attrs: { axis: 1 } },
    { inputs: [x([2, 0, 3], f32)], attrs: { axis: 1 } }, // empty axis: -inf
    { inputs: [x([3, 4], f32, { values: [-Infinity, -Infinity, -Infinity, -Infinity, 1, Infinity, 2, 3, NaN, 1, Infinity, 0] })], attrs: { axis: 1 }, grad: false },
    { inputs: [x([16, 2], f64, 'special')], attrs: { axis: 0 }, grad: false },
  ],
};

const SPECIAL = [0, -0, Infinity, -Infinity, Number.NaN, 1, -1, 0.5, -2.5, 1e30, -1e30, 1e-30, -1e-38, 3e38, 89, -104];

/** Deterministic values for one input (xorshift32 seeded from `seed`). */
export function makeValues(input: InputCase, seed: number): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const n = input.shape.reduce((a, b) => a * b, 1);
  const scale = input.scale ?? 1;
  const d = input.domain ?? 'any';
  const out = new Array<number>(n);
  if (d === 'spd' || d === 'wellConditioned') {
    const m = input.shape[input.shape.length - 1];
    for (let b = 0; b < n / (m * m || 1); b++) {
      const a = Array.from({ length: m * m }, () => rand() * 2 - 1);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          let v: number;
          if (d === 'spd') {
            v = 0;
            for (let k = 0; k < m; k++) v += a[i * m + k] * a[j * m + k];
            if (i === j) v += m;
          } else v = a[i * m + j] + (i === j ? m + 1 : 0);
          out[b * m * m + i * m + j] = v;
        }
      }
    }
    return out;
  }
  if (d === 'distinct') {
    for (let i = 0; i < n; i++) out[i] = (i - n / 2 + 0.37) * scale / Math.max(1, n / 4);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (typeof d === 'object') out[i] = 'index' in d ? Math.floor(r * d.index) : d.values[i % d.values.length];
    else if (d === 'any') out[i] = (r * 4 - 2) * scale;
    else if (d === 'positive') out[i] = (r * 2 + 0.1) * scale;
    else if (d === 'unit') out[i] = (r * 1.8 - 0.9) * scale;
    else if (d === 'gt1') out[i] = (r * 2 + 1.1) * scale;
    else if (d === 'nonzero') out[i] = (r < 0.5 ? -1 : 1) * (0.5 + (r * 2 % 1) * 1.5) * scale;
    else if (d === 'int') out[i] = Math.floor(r * 11) - 5;
    else if (d === 'bool') out[i] = r < 0.5 ? 1 : 0;
    else out[i] = SPECIAL[i % SPECIAL.length];
  }
  return out;
}
