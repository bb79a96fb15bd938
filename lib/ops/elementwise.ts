/**
 * Elementwise ops: unary math, broadcasting binary arithmetic and comparisons,
 * where, cast, clip. Each primitive is defined once here (inference + gradient);
 * kernels live in the backends under the same name.
 */
import { FLOATX, isFloat, parseDType, type DType } from '../dtype.js';
import { DTypeError, ValueError, describeValue, fmtShape } from '../errors.js';
import { run1 } from '../engine.js';
import { defineOp, type GradFn, type TensorSpec } from './registry.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { asDType, asFloat, convertToTensor, promote, rowSum, unbroadcast, type TensorLike } from './common.js';

// ---------------------------------------------------------------- primitives

type UnaryGrad = (x: Tensor, y: Tensor, dy: Tensor) => Tensor;

interface UnarySpec {
  /**
   * 'float': needs a float input (public fn casts ints); 'bool': returns bool; 'logical': bool
   * in, bool out (the public fn casts); 'same': any numeric.
   */
  kind: 'float' | 'same' | 'bool' | 'logical';
  grad?: UnaryGrad;
}

const zeroGrad: UnaryGrad = (x) => zerosLike(x);

/**
 * Whether dy is max pooling's gradient for pooling y that routed only from windows with a
 * positive max (lib/ops/nn.ts, maxPool's rule for a ReLU's output): it is then zero wherever y is
 * not positive, and ReLU's gradient is dy itself.
 */
function routedToPositive(dy: Tensor, y: Tensor): boolean {
  const node = dy.node;
  return node !== null && node.op.name === 'maxPoolGrad' && node.inputs[0] === y && node.attrs.positiveMax === true;
}

/** 2 sqrt(2/pi): gelu's tanh form is x sigmoid(this * (x + 0.044715 x^3)). */
const GELU_2_SQRT_2_OVER_PI = 2 * Math.sqrt(2 / Math.PI);
/** selu's self-normalizing constants (the native and js kernels hold the same two). */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Where x + 3 lies strictly inside (0, 6): where relu6(x + 3) has slope 1 (the composite's kinks, x + 3 rounded as it was). */
function hardSigmoidSlope(x: Tensor): Tensor {
  const shifted = add(x, 3);
  return logicalAnd(greater(shifted, 0), less(shifted, 6));
}

const UNARY: Record<string, UnarySpec> = {
  negative: { kind: 'same', grad: (x, y, dy) => negative(dy) },
  abs: { kind: 'same', grad: (x, y, dy) => multiply(dy, sign(x)) },
  sign: { kind: 'same', grad: zeroGrad },
  square: { kind: 'same', grad: (x, y, dy) => multiply(dy, multiply(x, 2)) },
  exp: { kind: 'float', grad: (x, y, dy) => multiply(dy, y) },
  expm1: { kind: 'float', grad: (x, y, dy) => multiply(dy, add(y, 1)) },
  log: { kind: 'float', grad: (x, y, dy) => divide(dy, x) },
  log1p: { kind: 'float', grad: (x, y, dy) => divide(dy, add(x, 1)) },
  sqrt: { kind: 'float', grad: (x, y, dy) => divide(multiply(dy, 0.5), y) },
  rsqrt: { kind: 'float', grad: (x, y, dy) => multiply(dy, multiply(power(y, 3), -0.5)) },
  reciprocal: { kind: 'float', grad: (x, y, dy) => negative(multiply(dy, square(y))) },
  sin: { kind: 'float', grad: (x, y, dy) => multiply(dy, cos(x)) },
  cos: { kind: 'float', grad: (x, y, dy) => negative(multiply(dy, sin(x))) },
  tan: { kind: 'float', grad: (x, y, dy) => multiply(dy, add(square(y), 1)) },
  arcsin: { kind: 'float', grad: (x, y, dy) => multiply(dy, rsqrt(subtract(1, square(x)))) },
  arccos: { kind: 'float', grad: (x, y, dy) => negative(multiply(dy, rsqrt(subtract(1, square(x))))) },
  arctan: { kind: 'float', grad: (x, y, dy) => divide(dy, add(square(x), 1)) },
  sinh: { kind: 'float', grad: (x, y, dy) => multiply(dy, cosh(x)) },
  cosh: { kind: 'float', grad: (x, y, dy) => multiply(dy, sinh(x)) },
  tanh: { kind: 'float', grad: (x, y, dy) => multiply(dy, subtract(1, square(y))) },
  arcsinh: { kind: 'float', grad: (x, y, dy) => multiply(dy, rsqrt(add(square(x), 1))) },
  arccosh: { kind: 'float', grad: (x, y, dy) => multiply(dy, rsqrt(subtract(square(x), 1))) },
  arctanh: { kind: 'float', grad: (x, y, dy) => divide(dy, subtract(1, square(x))) },
  floor: { kind: 'float', grad: zeroGrad },
  ceil: { kind: 'float', grad: zeroGrad },
  round: { kind: 'same', grad: zeroGrad },
  erf: { kind: 'float', grad: (x, y, dy) => multiply(dy, multiply(exp(negative(square(x))), 2 / Math.sqrt(Math.PI))) },
  erfinv: { kind: 'float', grad: (x, y, dy) => multiply(dy, multiply(exp(square(y)), Math.sqrt(Math.PI) / 2)) },
  sigmoid: { kind: 'float', grad: (x, y, dy) => multiply(dy, multiply(y, subtract(1, y))) },
  // x Phi(x) (ops.gelu's exact form): Phi(x) + x phi(x).
  gelu: { kind: 'float', grad: (x, y, dy) => multiply(dy, run1('geluDerivative', [x])) },
  // gelu's derivative Phi(x) + x phi(x), rounded step by step as the composite gradient
  // (erf(x sqrt(1/2)) + 1) / 2 + x e^(-x^2/2) / sqrt(2 pi) was (its bits, in one pass instead of
  // a chain of 11 ops); internal. Its own derivative: phi(x) (2 - x^2).
  geluDerivative: {
    kind: 'float',
    grad: (x, y, dy) => multiply(dy, multiply(multiply(exp(multiply(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI)), subtract(2, square(x)))),
  },
  // x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) (ops.gelu's tanh form): s + x s (1 - s) 2u'.
  geluTanh: {
    kind: 'float',
    grad: (x, y, dy) => {
      const x2 = square(x);
      const s = sigmoid(multiply(multiply(x, add(multiply(x2, 0.044715), 1)), GELU_2_SQRT_2_OVER_PI));
      const dw = multiply(add(multiply(x2, 3 * 0.044715), 1), GELU_2_SQRT_2_OVER_PI);
      return multiply(dy, add(s, multiply(multiply(x, multiply(s, subtract(1, s))), dw)));
    },
  },
  // x sigmoid(x) (ops.silu): s + x s (1 - s) = s + y (1 - s), s = sigmoid(x).
  silu: {
    kind: 'float',
    grad: (x, y, dy) => {
      const s = sigmoid(x);
      return multiply(dy, add(s, multiply(y, subtract(1, s))));
    },
  },
  // log(1 + e^x) (ops.softplus): sigmoid(x), 0.5 exactly at 0.
  softplus: { kind: 'float', grad: (x, y, dy) => multiply(dy, sigmoid(x)) },
  // max(x, 0), NaN kept (as torch.relu and jax.nn.relu); gradient 0 at 0, as Keras. Read
  // from y (y > 0 exactly where x > 0; NaN either way false): the backward then needs only the
  // output, so x (a bias add, say) need not be kept and fuses with the relu in a compiled step.
  relu: { kind: 'same', grad: (x, y, dy) => (routedToPositive(dy, y) ? dy : where(greater(y, 0), dy, 0)) },
  // min(max(x, 0), 6) (ops.relu6), NaN kept as relu; gradient 0 at both kinks. From y, as relu:
  // 0 < y < 6 exactly where 0 < x < 6.
  relu6: { kind: 'same', grad: (x, y, dy) => where(logicalAnd(greater(y, 0), less(y, 6)), dy, 0) },
  // relu6(x + 3) / 6 (ops.hardSigmoid): 1/6 inside, 0 at the kinks and beyond.
  hardSigmoid: { kind: 'float', grad: (x, y, dy) => where(hardSigmoidSlope(x), divide(dy, 6), 0) },
  // x hardSigmoid(x) (ops.hardSilu): hardSigmoid(x) + x / 6 inside.
  hardSilu: {
    kind: 'float',
    grad: (x, y, dy) => add(multiply(dy, run1('hardSigmoid', [x])), where(hardSigmoidSlope(x), divide(multiply(dy, x), 6), 0)),
  },
  // x / (1 + |x|) (ops.softsign): 1 / (1 + |x|)^2.
  softsign: { kind: 'float', grad: (x, y, dy) => divide(dy, square(add(abs(x), 1))) },
  // min(max(x, -1), 1) (ops.hardTanh), NaN and -0 kept: slope 1 on [-1, 1] (the kinks included) and at NaN, as the where-based composite.
  hardTanh: { kind: 'float', grad: (x, y, dy) => where(logicalOr(greater(x, 1), less(x, -1)), 0, dy) },
  // -softplus(-x) (ops.logSigmoid): sigmoid(-x).
  logSigmoid: { kind: 'float', grad: (x, y, dy) => multiply(dy, sigmoid(negative(x))) },
  // scale elu(x, alpha) (ops.selu): scale above 0, scale alpha e^x = y + scale alpha at and below.
  selu: { kind: 'float', grad: (x, y, dy) => multiply(dy, where(greater(x, 0), SELU_SCALE, add(y, SELU_SCALE * SELU_ALPHA))) },
  isnan: { kind: 'bool' },
  isinf: { kind: 'bool' },
  isfinite: { kind: 'bool' },
  logicalNot: { kind: 'logical' },
};

for (const [name, spec] of Object.entries(UNARY)) {
  const grad = spec.grad;
  defineOp({
    name,
    category: 'unary',
    attrs: [],
    arity: 1,
    infer([x]) {
      if (spec.kind === 'float' && !isFloat(x.dtype)) throw new DTypeError(`${name}: expected a float tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
      if (spec.kind === 'same' && x.dtype === 'bool') throw new DTypeError(`${name}: bool input is not supported ${fmtShape(x.shape)}`);
      if (spec.kind === 'logical' && x.dtype !== 'bool') throw new DTypeError(`${name}: expected a bool tensor, received ${x.dtype} ${fmtShape(x.shape)}`);
      return [{ shape: x.shape, dtype: spec.kind === 'bool' || spec.kind === 'logical' ? 'bool' : x.dtype }];
    },
    grad: grad ? ({ inputs: [x], outputs: [y] }, [dy]) => [grad(x, y, dy!)] : undefined,
  });
}

/** `needsB`: whether b needs a gradient (false for the constant parameter of an activation). */
type BinaryGrad = (a: Tensor, b: Tensor, y: Tensor, dy: Tensor, needsB: boolean) => [Tensor | null, Tensor | null];

interface BinarySpec {
  /** 'float': x and a parameter of its float dtype (the activations of ops.nn), the result x's dtype. */
  kind: 'arith' | 'float' | 'compare' | 'logical';
  grad?: BinaryGrad;
}

const BINARY: Record<string, BinarySpec> = {
  add: { kind: 'arith', grad: (a, b, y, dy) => [dy, dy] },
  // Negated after summing to b's shape (exact either way): a broadcast b is not negated element by element.
  subtract: { kind: 'arith', grad: (a, b, y, dy) => [dy, negative(unbroadcast(dy, b.shape))] },
  multiply: { kind: 'arith', grad: (a, b, y, dy) => [multiply(dy, b), multiply(dy, a)] },
  divide: { kind: 'arith', grad: (a, b, y, dy) => [divide(dy, b), negative(unbroadcast(divide(multiply(dy, y), b), b.shape))] },
  floorDivide: { kind: 'arith', grad: (a, b) => [zerosLike(a), zerosLike(b)] },
  mod: { kind: 'arith', grad: (a, b, y, dy) => [dy, negative(multiply(dy, floorDivide(a, b)))] },
  power: {
    kind: 'arith',
    grad: (a, b, y, dy) => {
      const da = multiply(dy, multiply(b, power(a, subtract(b, 1))));
      // d/db a^b = a^b log a, taken as 0 where a <= 0 (as TF and JAX do at a = 0).
      const safeLog = where(greater(a, 0), log(where(greater(a, 0), a, 1)), 0);
      return [da, multiply(dy, multiply(y, safeLog))];
    },
  },
  maximum: {
    kind: 'arith',
    grad: (a, b, y, dy) => {
      const mask = greaterEqual(a, b);
      return [where(mask, dy, 0), where(mask, 0, dy)];
    },
  },
  minimum: {
    kind: 'arith',
    grad: (a, b, y, dy) => {
      const mask = lessEqual(a, b);
      return [where(mask, dy, 0), where(mask, 0, dy)];
    },
  },
  arctan2: {
    kind: 'arith',
    grad: (a, b, y, dy) => {
      const denom = add(square(a), square(b));
      return [divide(multiply(dy, b), denom), negative(divide(multiply(dy, a), denom))];
    },
  },
  // x >= 0 ? x : slope x (ops.leakyRelu, b the slope): gradient 1 at 0.
  leakyRelu: {
    kind: 'float',
    grad: (x, s, y, dy, needsB) => {
      const above = greaterEqual(x, 0);
      return [where(above, dy, multiply(dy, s)), needsB ? where(above, 0, multiply(dy, x)) : null];
    },
  },
  // x > 0 ? x : alpha expm1(min(x, 0)) (ops.elu, b alpha): alpha e^x = y + alpha at and below 0.
  elu: {
    kind: 'float',
    grad: (x, alpha, y, dy, needsB) => {
      const above = greater(x, 0);
      return [where(above, dy, multiply(dy, add(y, alpha))), needsB ? where(above, 0, multiply(dy, expm1(minimum(x, 0)))) : null];
    },
  },
  // x > 0 ? x : alpha expm1(min(x, 0) / alpha) (ops.celu, b alpha): e^(x / alpha) = y / alpha + 1 at and below 0.
  celu: {
    kind: 'float',
    grad: (x, alpha, y, dy, needsB) => {
      const above = greater(x, 0);
      const u = divide(minimum(x, 0), alpha);
      const e = exp(u);
      // d/d alpha of alpha expm1(x / alpha) = expm1(u) - u e^u.
      return [where(above, dy, multiply(dy, e)), needsB ? where(above, 0, multiply(dy, subtract(expm1(u), multiply(u, e)))) : null];
    },
  },
  equal: { kind: 'compare' },
  notEqual: { kind: 'compare' },
  less: { kind: 'compare' },
  lessEqual: { kind: 'compare' },
  greater: { kind: 'compare' },
  greaterEqual: { kind: 'compare' },
  logicalAnd: { kind: 'logical' },
  logicalOr: { kind: 'logical' },
  logicalXor: { kind: 'logical' },
};

function inferBinary(name: string, kind: BinarySpec['kind'], a: TensorSpec, b: TensorSpec): TensorSpec[] {
  if (a.dtype !== b.dtype) throw new DTypeError(`${name}: operands must have one dtype, received ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  if (kind === 'arith' && a.dtype === 'bool') throw new DTypeError(`${name}: bool operands are not supported; cast them first`);
  if (kind === 'float' && !isFloat(a.dtype)) throw new DTypeError(`${name}: expected float operands, received ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  if (kind === 'logical' && a.dtype !== 'bool') throw new DTypeError(`${name}: expected bool operands, received ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  return [{ shape: broadcastShapes(a.shape, b.shape, name), dtype: kind === 'arith' || kind === 'float' ? a.dtype : 'bool' }];
}

for (const [name, spec] of Object.entries(BINARY)) {
  const grad = spec.grad;
  defineOp({
    name,
    category: 'binary',
    attrs: [],
    arity: 2,
    infer: ([a, b]) => inferBinary(name, spec.kind, a, b),
    grad: grad
      ? (({ inputs: [a, b], outputs: [y], needs }, [dy]) => {
          const [da, db] = grad(a, b, y, dy!, needs?.[1] !== false);
          return [da && unbroadcast(da, a.shape), db && unbroadcast(db, b.shape)];
        }) as GradFn
      : undefined,
    mergeableGrad:
      name === 'add' ? ({ inputs: [a, b], needs }, [dy]) => [needs?.[0] === false ? null : rowSum(a, dy!), needs?.[1] === false ? null : rowSum(b, dy!)] : undefined,
  });
}

defineOp({
  name: 'where',
  category: 'binary',
  attrs: [],
  arity: 3,
  infer([c, a, b]) {
    if (c.dtype !== 'bool') throw new DTypeError(`where: condition must be bool, received ${c.dtype} ${fmtShape(c.shape)}`);
    if (a.dtype !== b.dtype) throw new DTypeError(`where: x1 and x2 must have one dtype, received ${a.dtype} and ${b.dtype}`);
    return [{ shape: broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where'), dtype: a.dtype }];
  },
  nonDifferentiableInputs: [0],
  grad: ({ inputs: [c, a, b] }, [dy]) => [null, unbroadcast(where(c, dy!, 0), a.shape), unbroadcast(where(c, 0, dy!), b.shape)],
});

defineOp<{ dtype: DType }>({
  name: 'cast',
  category: 'unary',
  attrs: ['dtype'],
  arity: 1,
  infer: ([x], { dtype }) => [{ shape: x.shape, dtype: parseDType(dtype, 'cast') }],
  grad: ({ inputs: [x] }, [dy]) => [isFloat(x.dtype) && isFloat(dy!.dtype) ? cast(dy!, x.dtype) : null],
});

defineOp<{ value: number; dtype?: DType }>({
  name: 'fullLike',
  category: 'creation',
  attrs: ['value', 'dtype'],
  arity: 1,
  infer: ([x], { value, dtype }) => {
    if (typeof value !== 'number' && typeof value !== 'boolean') throw new DTypeError(`fullLike: fill value must be a number, received ${typeof value}`);
    return [{ shape: x.shape, dtype: dtype ? parseDType(dtype, 'fullLike') : x.dtype }];
  },
});

defineOp({
  name: 'stopGradient',
  category: 'unary',
  attrs: [],
  arity: 1,
  infer: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
});

defineOp({
  name: 'identity',
  category: 'unary',
  attrs: [],
  arity: 1,
  infer: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
  grad: (_ctx, [dy]) => [dy],
});

// ---------------------------------------------------------------- public API

function unaryFloat(name: string) {
  return (x: TensorLike): Tensor => run1(name, [asFloat(x, name)]);
}

function unarySame(name: string) {
  return (x: TensorLike): Tensor => {
    const t = convertToTensor(x, null, name);
    return run1(name, [t.dtype === 'bool' ? cast(t, 'int32') : t]);
  };
}

function predicate(name: string) {
  return (x: TensorLike): Tensor => {
    const t = convertToTensor(x, null, name);
    if (!isFloat(t.dtype)) return fullLike(t, name === 'isfinite', 'bool');
    return run1(name, [t]);
  };
}

function arithmetic(name: string) {
  return (x1: TensorLike, x2: TensorLike): Tensor => {
    // Two tensors of one dtype: nothing to promote (the common eager case, kept cheap).
    if (x1 instanceof Tensor && x2 instanceof Tensor && x1.dtype === x2.dtype) return run1(name, [x1, x2]);
    const { tensors } = promote(name, x1, x2);
    return run1(name, tensors);
  };
}

function comparison(name: string) {
  return (x1: TensorLike, x2: TensorLike): Tensor => {
    const { tensors } = promote(name, x1, x2);
    return run1(name, tensors);
  };
}

function logical(name: string) {
  return (x1: TensorLike, x2: TensorLike): Tensor => run1(name, [asDType(x1, 'bool', name), asDType(x2, 'bool', name)]);
}

/** Elementwise -x. */
export const negative = unarySame('negative');
/** Elementwise |x|. */
export const abs = unarySame('abs');
/** Alias of abs. */
export const absolute = abs;
/** -1, 0 or 1 by the sign of x (NaN stays NaN). */
export const sign = unarySame('sign');
/** x * x. */
export const square = unarySame('square');
/** Round half to even, as numpy. */
export const round = unarySame('round');
/** e^x (ints become floatx). */
export const exp = unaryFloat('exp');
/** e^x - 1, accurate near 0. */
export const expm1 = unaryFloat('expm1');
/** Natural logarithm. */
export const log = unaryFloat('log');
/** log(1 + x), accurate near 0. */
export const log1p = unaryFloat('log1p');
/** Square root. */
export const sqrt = unaryFloat('sqrt');
/** 1 / sqrt(x). */
export const rsqrt = unaryFloat('rsqrt');
/** 1 / x. */
export const reciprocal = unaryFloat('reciprocal');
export const sin = unaryFloat('sin');
export const cos = unaryFloat('cos');
export const tan = unaryFloat('tan');
export const arcsin = unaryFloat('arcsin');
export const arccos = unaryFloat('arccos');
export const arctan = unaryFloat('arctan');
export const sinh = unaryFloat('sinh');
export const cosh = unaryFloat('cosh');
export const tanh = unaryFloat('tanh');
export const arcsinh = unaryFloat('arcsinh');
export const arccosh = unaryFloat('arccosh');
export const arctanh = unaryFloat('arctanh');
/** Largest integer <= x (as a float, as Keras). */
export const floor = unaryFloat('floor');
/** Smallest integer >= x (as a float, as Keras). */
export const ceil = unaryFloat('ceil');
/** Gauss error function. */
export const erf = unaryFloat('erf');
/** Inverse of erf on (-1, 1). */
export const erfinv = unaryFloat('erfinv');
/** 1 / (1 + e^-x). */
export const sigmoid = unaryFloat('sigmoid');
/** True where x is NaN. */
export const isnan = predicate('isnan');
/** True where x is +-inf. */
export const isinf = predicate('isinf');
/** True where x is neither NaN nor infinite. */
export const isfinite = predicate('isfinite');

/** Base-2 logarithm. */
export function log2(x: TensorLike): Tensor {
  return multiply(log(x), 1 / Math.LN2);
}

/** Base-10 logarithm. */
export function log10(x: TensorLike): Tensor {
  return multiply(log(x), 1 / Math.LN10);
}

/** Logical not (any input is read as bool). */
export function logicalNot(x: TensorLike): Tensor {
  return run1('logicalNot', [asDType(x, 'bool', 'logicalNot')]);
}

/** x1 + x2 with broadcasting and Keras dtype promotion. */
export const add = arithmetic('add');
/** x1 - x2. */
export const subtract = arithmetic('subtract');
/** x1 * x2. */
export const multiply = arithmetic('multiply');
/** Largest of x1, x2 elementwise (NaN propagates). */
export const maximum = arithmetic('maximum');
/** Smallest of x1, x2 elementwise (NaN propagates). */
export const minimum = arithmetic('minimum');
/** floor(x1 / x2); ints stay ints. */
export const floorDivide = arithmetic('floorDivide');
/** x1 mod x2 with the sign of x2 (numpy semantics). */
export const mod = arithmetic('mod');
/** x1 ** x2. */
export const power = arithmetic('power');
/** Element-wise x1 == x2. */
export const equal = comparison('equal');
export const notEqual = comparison('notEqual');
export const less = comparison('less');
export const lessEqual = comparison('lessEqual');
export const greater = comparison('greater');
export const greaterEqual = comparison('greaterEqual');
export const logicalAnd = logical('logicalAnd');
export const logicalOr = logical('logicalOr');
export const logicalXor = logical('logicalXor');

/** True division: integer operands give floatx, as Keras. */
export function divide(x1: TensorLike, x2: TensorLike): Tensor {
  const { dtype, tensors } = promote('divide', x1, x2);
  return run1('divide', isFloat(dtype) ? tensors : tensors.map((t) => cast(t, FLOATX)));
}

/** Alias of divide. */
export const trueDivide = divide;

/** Angle of (x2, x1) in radians, quadrant-aware. */
export function arctan2(x1: TensorLike, x2: TensorLike): Tensor {
  const { dtype, tensors } = promote('arctan2', x1, x2);
  return run1('arctan2', isFloat(dtype) ? tensors : tensors.map((t) => cast(t, FLOATX)));
}

/** Picks x1 where condition is true, else x2, with broadcasting. */
export function where(condition: TensorLike, x1: TensorLike, x2: TensorLike): Tensor {
  const c = asDType(condition, 'bool', 'where');
  const { tensors } = promote('where', x1, x2);
  return run1('where', [c, ...tensors]);
}

/** Converts to `dtype` (floats truncate toward zero when cast to int). */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = convertToTensor(x, null, 'cast');
  const d = parseDType(dtype, 'cast');
  return t.dtype === d ? t : run1('cast', [t], { dtype: d });
}

/** A tensor shaped like x filled with `value`. */
export function fullLike(x: TensorLike, fillValue: number | boolean, dtype?: DType): Tensor {
  const t = convertToTensor(x, null, 'fullLike');
  if (typeof fillValue !== 'number' && typeof fillValue !== 'boolean') throw new ValueError(`fullLike: fillValue must be a number or a boolean, received ${describeValue(fillValue)}`);
  const d = dtype ? parseDType(dtype, 'fullLike') : t.dtype;
  return run1('fullLike', [t], { value: Number(fillValue), dtype: d });
}

export function zerosLike(x: TensorLike, dtype?: DType): Tensor {
  return fullLike(x, 0, dtype);
}

export function onesLike(x: TensorLike, dtype?: DType): Tensor {
  return fullLike(x, 1, dtype);
}

/** x, with no gradient flowing back through it. */
export function stopGradient(x: TensorLike): Tensor {
  return run1('stopGradient', [convertToTensor(x, null, 'stopGradient')]);
}

/** Limits values to [xMin, xMax]. */
export function clip(x: TensorLike, xMin: TensorLike, xMax: TensorLike): Tensor {
  const t = convertToTensor(x, null, 'clip');
  if (typeof xMin === 'number' && typeof xMax === 'number' && xMin > xMax) {
    throw new ValueError(`clip: xMin (${xMin}) is greater than xMax (${xMax})`);
  }
  return minimum(maximum(t, xMin), xMax);
}

/** Replaces NaN with `nan` and infinities with `posinf`/`neginf` (default: the dtype's largest finite values). */
export function nanToNum(x: TensorLike, options: { nan?: number; posinf?: number; neginf?: number } = {}): Tensor {
  const t = convertToTensor(x, null, 'nanToNum');
  if (!isFloat(t.dtype)) return t;
  const big = t.dtype === 'float64' ? Number.MAX_VALUE : 3.4028234663852886e38;
  const noNan = where(isnan(t), options.nan ?? 0, t);
  const noPos = where(equal(noNan, Infinity), options.posinf ?? big, noNan);
  return where(equal(noPos, -Infinity), options.neginf ?? -big, noPos);
}
