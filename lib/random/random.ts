/**
 * keras.random: one primitive, `randomUniform` (Philox4x32-10 keyed by an int32 [2]
 * seed tensor), and every distribution as a composite of it and public ops, so they
 * trace into graphs and run on every backend. docs/random.md is the bit-exact spec.
 */
import { FLOATX, isFloat, parseDType, type DType } from '../dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { run1, tidy } from '../engine.js';
import { defineOp, type Attrs, type TensorSpec } from '../ops/registry.js';
import { convertToTensor, asFloat, type TensorLike } from '../ops/common.js';
import { add, cast, clip, divide, erfinv, floor, less, lessEqual, minimum, multiply, subtract, where, exp, zerosLike } from '../ops/elementwise.js';
import { cumsum, max, sum } from '../ops/reduction.js';
import { slice, expandDims } from '../ops/shape.js';
import { argsort } from '../ops/indexing.js';
import { normalizeAxis, type Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { drawSeed, SeedGenerator, type SeedLike } from './seed_generator.js';
import { optionalArgs } from '../utils/args.js';

// ---------------------------------------------------------------- primitive

/** Attributes of the draws (randomUniform, randomNormal). */
interface DrawAttrs extends Attrs {
  shape: Dim[];
  dtype: DType;
  scale?: number;
  shift?: number;
}

/** Output of a draw: `shape` with null dims from `like` (inputs[1]). */
function inferDraw(op: string, inputs: TensorSpec[], { shape, dtype, scale, shift }: DrawAttrs): TensorSpec[] {
  const [seed, like] = inputs;
  if (seed.dtype !== 'int32') throw new DTypeError(`${op}: seed must be int32 of shape (2,), received ${seed.dtype} ${fmtShape(seed.shape)}`);
  if (seed.shape.length !== 1 || (seed.shape[0] !== null && seed.shape[0] !== 2)) {
    throw new ShapeError(`${op}: seed must have shape (2,), received ${fmtShape(seed.shape)}`);
  }
  for (const [name, v] of [['scale', scale], ['shift', shift]] as const) {
    if (v !== undefined && typeof v !== 'number') throw new ValueError(`${op}: ${name} must be a number, received ${String(v)}`);
  }
  const d = parseDType(dtype, op);
  if (d !== 'float32' && d !== 'float64') throw new DTypeError(`${op}: dtype must be float32 or float64, received ${d}`);
  if (!Array.isArray(shape)) throw new ValueError(`${op}: shape must be an array of dims, received ${JSON.stringify(shape)}`);
  const out = shape.map((s, i) => {
    if (s === null) {
      if (!like || like.shape.length !== shape.length) {
        throw new ShapeError(`${op}: shape ${fmtShape(shape)} has an unknown dim ${i}; it needs a shape source of the same rank, received ${like ? fmtShape(like.shape) : 'none'}`);
      }
      return like.shape[i];
    }
    if (!Number.isInteger(s) || s < 0) throw new ValueError(`${op}: shape ${JSON.stringify(shape)} must hold non-negative integers`);
    return s;
  });
  return [{ shape: out, dtype: d }];
}

/** A draw primitive: inputs (seed[, like]), attrs DrawAttrs, no gradient. */
function defineDraw(name: string): void {
  defineOp<DrawAttrs>({
    name,
    category: 'random',
    arity: { min: 1, max: 2 },
    attrs: ['shape', 'dtype', 'scale', 'shift'],
    random: true,
    nonDifferentiableInputs: [0, 1],
    infer: (inputs, attrs) => inferDraw(name, inputs, attrs),
  });
}

/**
 * randomUniform(seed[, like]) -> uniforms in [0, 1) of `shape` and float `dtype`.
 * `seed` is int32 [2], used as the Philox key (seed[0], seed[1]) as uint32. A `null` dim
 * in `shape` takes the size of the same dim of `like` (for unknown batch sizes).
 * Optional `scale` and `shift` (numbers, rounded to `dtype`) give u * scale, then + shift,
 * each rounded to `dtype`: `uniform`'s bounds in the same pass, as its composite rounds them.
 */
defineDraw('randomUniform');

/**
 * randomNormal(seed) -> standard normals of `shape` and float `dtype` by Box-Muller over
 * pairs of the seed's uniforms (docs/random.md: the pair's first uniform gives the radius,
 * the second the angle, taken to a quadrant exactly), then the optional `scale` and `shift`
 * as randomUniform's. Exact up to the kernels' rounding (the ulps docs/random.md states).
 */
defineDraw('randomNormal');

function uniformBits(shape: Dim[], dtype: DType, seed: Tensor, like?: Tensor): Tensor {
  return run1('randomUniform', like ? [seed, like] : [seed], { shape, dtype });
}

/**
 * dropout(x, seed) -> where(u < fl32(1 - rate), x / fl_d(1 - rate), 0), u the float32
 * uniforms of seed over x's shape: `dropout` below with the full noise shape, in one pass.
 * Its gradient is the same op on dy (same key, same mask), which is what the composite's
 * where-then-divide gradient computes, bit for bit.
 */
defineOp<{ rate: number }>({
  name: 'dropout',
  category: 'random',
  attrs: ['rate'],
  arity: 2,
  random: true,
  nonDifferentiableInputs: [1],
  infer([x, seed], { rate }) {
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new DTypeError(`dropout: inputs must be float32 or float64, received ${x.dtype}`);
    if (seed.dtype !== 'int32' || seed.shape.length !== 1 || (seed.shape[0] !== null && seed.shape[0] !== 2)) {
      throw new ShapeError(`dropout: seed must be int32 of shape (2,), received ${seed.dtype} ${fmtShape(seed.shape)}`);
    }
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new ValueError(`dropout: rate must be a number in [0, 1), received ${String(rate)}`);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  grad: ({ inputs: [, seed], attrs }, [dy]) => [run1('dropout', [dy!, seed], attrs), null],
});

// ---------------------------------------------------------------- argument helpers

type ShapeArg = number | readonly number[];

function checkShape(shape: ShapeArg, op: string): number[] {
  const dims = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ValueError(`${op}: shape must be a non-negative integer or an array of them, received ${JSON.stringify(shape)}`);
  }
  return [...dims];
}

function floatDType(dtype: DType | null | undefined, op: string): DType {
  const d = dtype === null || dtype === undefined ? FLOATX : parseDType(dtype, op);
  if (!isFloat(d)) throw new DTypeError(`${op}: dtype must be a float dtype, received ${d}`);
  return d;
}

/** A draw's attrs with `* scale` and `+ shift` where they are not the identity (as `affine`). */
function drawAttrs(shape: number[], dtype: DType, scale: number, shift: number): DrawAttrs {
  const attrs: DrawAttrs = { shape, dtype };
  if (scale !== 1) attrs.scale = scale;
  if (shift !== 0) attrs.shift = shift;
  return attrs;
}

/** y = x * scale + shift, skipped where it is the identity (bit-identical either way). */
function affine(x: Tensor, scale: TensorLike, shift: TensorLike): Tensor {
  const scaled = scale === 1 ? x : multiply(x, scale);
  return shift === 0 ? scaled : add(scaled, shift);
}

// ---------------------------------------------------------------- distributions

export interface UniformOptions {
  minval?: TensorLike;
  maxval?: TensorLike;
  dtype?: DType | null;
  seed?: SeedLike;
}

/**
 * Uniform values in [minval, maxval): `u * (maxval - minval) + minval` with u from
 * randomUniform (float32 may round the top value up to maxval, as in other frameworks).
 */
export function uniform(shape: ShapeArg, minval?: TensorLike | UniformOptions, maxval?: TensorLike, dtype?: DType | null, seed?: SeedLike): Tensor {
  const o = optionalArgs<Required<UniformOptions>>('uniform', { minval: 0, maxval: 1, dtype: null, seed: null }, [minval, maxval, dtype, seed]);
  const dims = checkShape(shape, 'uniform');
  const d = floatDType(o.dtype, 'uniform');
  const lo = o.minval ?? 0;
  const hi = o.maxval ?? 1;
  return tidy(() => {
    const key = drawSeed(o.seed, 'uniform');
    if (typeof lo === 'number' && typeof hi === 'number') {
      // Number bounds: the affine inside the primitive, rounded as the composite rounds it.
      return run1('randomUniform', [key], drawAttrs(dims, d, hi - lo, lo));
    }
    return affine(uniformBits(dims, d, key), subtract(hi, lo), lo);
  });
}

export interface NormalOptions {
  mean?: TensorLike;
  stddev?: TensorLike;
  dtype?: DType | null;
  seed?: SeedLike;
}

function normalArgs(op: string, mean: TensorLike | NormalOptions | undefined, stddev: TensorLike | undefined, dtype: DType | null | undefined, seed: SeedLike): Required<NormalOptions> {
  return optionalArgs<Required<NormalOptions>>(op, { mean: 0, stddev: 1, dtype: null, seed: null }, [mean, stddev, dtype, seed]);
}

/**
 * Normal values with `mean` and `stddev` (Box-Muller, specified in docs/random.md): the
 * randomNormal primitive, with number `mean` and `stddev` applied in it.
 */
export function normal(shape: ShapeArg, mean?: TensorLike | NormalOptions, stddev?: TensorLike, dtype?: DType | null, seed?: SeedLike): Tensor {
  const o = normalArgs('normal', mean, stddev, dtype, seed);
  const dims = checkShape(shape, 'normal');
  const d = floatDType(o.dtype, 'normal');
  const scale = o.stddev ?? 1;
  const shift = o.mean ?? 0;
  return tidy(() => {
    const key = drawSeed(o.seed, 'normal');
    if (typeof scale === 'number' && typeof shift === 'number') return run1('randomNormal', [key], drawAttrs(dims, d, scale, shift));
    return affine(run1('randomNormal', [key], { shape: dims, dtype: d }), scale, shift);
  });
}

/** erf(sqrt(2)) = Phi(2) - Phi(-2): the mass of a standard normal within 2 stddev. */
const ERF_SQRT2 = 0.9544997361036416;

/**
 * Normal values truncated to within 2 stddev of the mean, by the inverse CDF:
 * x = sqrt(2) * erfinv(erf(sqrt(2)) * (2u - 1)), clipped to [-2, 2] against rounding.
 */
export function truncatedNormal(shape: ShapeArg, mean?: TensorLike | NormalOptions, stddev?: TensorLike, dtype?: DType | null, seed?: SeedLike): Tensor {
  const o = normalArgs('truncatedNormal', mean, stddev, dtype, seed);
  const dims = checkShape(shape, 'truncatedNormal');
  const d = floatDType(o.dtype, 'truncatedNormal');
  return tidy(() => {
    const u = uniformBits(dims, d, drawSeed(o.seed, 'truncatedNormal'));
    const x = multiply(erfinv(multiply(subtract(multiply(u, 2), 1), ERF_SQRT2)), Math.SQRT2);
    return affine(clip(x, -2, 2), o.stddev ?? 1, o.mean ?? 0);
  });
}

export interface RandintOptions {
  dtype?: DType | 'int64';
  seed?: SeedLike;
}

/** Integers uniform in [minval, maxval) (maxval exclusive, as Keras): minval + floor(u * (maxval - minval)), u float64. */
export function randint(shape: ShapeArg, minval: number, maxval: number, dtype?: DType | 'int64' | RandintOptions, seed?: SeedLike): Tensor {
  const o = optionalArgs<Required<RandintOptions>>('randint', { dtype: 'int32', seed: null }, [dtype, seed]);
  const dims = checkShape(shape, 'randint');
  for (const [name, v] of [['minval', minval], ['maxval', maxval]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483648) {
      throw new ValueError(`randint: ${name} must be an integer in the int32 range, received ${String(v)}`);
    }
  }
  if (maxval <= minval) throw new ValueError(`randint: maxval (${maxval}) must be greater than minval (${minval})`);
  // Keras' int64 is stored as int32 here.
  const d = o.dtype === undefined || o.dtype === 'int64' ? 'int32' : parseDType(o.dtype, 'randint');
  if (d !== 'int32') throw new DTypeError(`randint: dtype must be an integer dtype (int32), received ${d}`);
  return tidy(() => {
    const u = uniformBits(dims, 'float64', drawSeed(o.seed, 'randint'));
    // u <= 1 - 2^-53 keeps floor(u * range) <= range - 1 after rounding (docs/random.md).
    return cast(add(floor(multiply(u, maxval - minval)), minval), 'int32');
  });
}

export interface DropoutOptions {
  noiseShape?: (number | null)[] | null;
  seed?: SeedLike;
}

/**
 * Keras dropout: zeroes each value with probability `rate` and scales the kept ones by
 * 1 / (1 - rate). `noiseShape` (null entries: the input's dim) shares the mask along size-1 dims.
 */
export function dropout(inputs: TensorLike, rate: number, noiseShape?: (number | null)[] | null | DropoutOptions, seed?: SeedLike): Tensor {
  const o = optionalArgs<Required<DropoutOptions>>('dropout', { noiseShape: null, seed: null }, [noiseShape, seed]);
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new ValueError(`dropout: rate must be a number in [0, 1], received ${String(rate)}`);
  // One scope for the whole call, so a cast of int inputs is freed too.
  return tidy(() => dropoutImpl(asFloat(inputs, 'dropout'), rate, o));
}

function dropoutImpl(x: Tensor, rate: number, o: DropoutOptions): Tensor {
  let noise: Dim[] = x.shape;
  if (o.noiseShape !== null && o.noiseShape !== undefined) {
    const ns = o.noiseShape;
    if (!Array.isArray(ns) || ns.length !== x.rank) {
      throw new ShapeError(`dropout: noiseShape ${JSON.stringify(ns)} must have one entry per axis of inputs ${fmtShape(x.shape)}`);
    }
    noise = ns.map((s, i) => {
      if (s === null) return x.shape[i];
      if (!Number.isInteger(s) || s < 0 || (s !== 1 && x.shape[i] !== null && s !== x.shape[i])) {
        throw new ShapeError(`dropout: noiseShape ${JSON.stringify(ns)} is not broadcastable to inputs ${fmtShape(x.shape)}`);
      }
      return s;
    });
  }
  const key = drawSeed(o.seed, 'dropout');
  const keep = 1 - rate;
  // rate 1 drops everything; x / 0 would put NaN into the gradient.
  if (keep === 0) return zerosLike(x);
  // A mask of x's own shape: the fused primitive, one pass.
  if (noise.every((s, i) => s === x.shape[i])) return run1('dropout', [x, key], { rate });
  const u = uniformBits(noise, 'float32', key, noise.includes(null) ? x : undefined);
  return where(less(u, keep), divide(x, keep), 0);
}

export interface ShuffleOptions {
  axis?: number;
  seed?: SeedLike;
}

/**
 * Shuffles x along `axis` (default 0): the permutation is the stable ascending argsort
 * of float64 uniforms, then x is gathered along the axis.
 */
export function shuffle(x: TensorLike, axis?: number | ShuffleOptions, seed?: SeedLike): Tensor {
  const o = optionalArgs<Required<ShuffleOptions>>('shuffle', { axis: 0, seed: null }, [axis, seed]);
  return tidy(() => shuffleImpl(convertToTensor(x, null, 'shuffle'), o));
}

function shuffleImpl(t: Tensor, o: ShuffleOptions): Tensor {
  if (t.rank === 0) throw new ShapeError(`shuffle: x must have at least one axis, received shape ${fmtShape(t.shape)}`);
  const a = normalizeAxis(o.axis ?? 0, t.rank, 'shuffle');
  const n = t.shape[a];
  if (n === null) throw new ShapeError(`shuffle: the size of axis ${a} must be known, received ${fmtShape(t.shape)}`);
  const u = uniformBits([n], 'float64', drawSeed(o.seed, 'shuffle'));
  return run1('gather', [t, argsort(u, 0)], { axis: a });
}

export interface CategoricalOptions {
  dtype?: DType | 'int64';
  seed?: SeedLike;
}

/**
 * Draws `numSamples` class indices per row of `logits` [batch, classes] (unnormalized log
 * probabilities) by inverting the CDF: class k where cdf[k-1] <= u * cdf[C-1] < cdf[k].
 */
export function categorical(logits: TensorLike, numSamples: number, dtype?: DType | 'int64' | CategoricalOptions, seed?: SeedLike): Tensor {
  const o = optionalArgs<Required<CategoricalOptions>>('categorical', { dtype: 'int32', seed: null }, [dtype, seed]);
  return tidy(() => categoricalImpl(asFloat(logits, 'categorical'), numSamples, o));
}

function categoricalImpl(l: Tensor, numSamples: number, o: CategoricalOptions): Tensor {
  if (l.rank !== 2) throw new ShapeError(`categorical: logits must have shape (batch_size, num_classes), received ${fmtShape(l.shape)}`);
  if (!Number.isInteger(numSamples) || numSamples < 0) throw new ValueError(`categorical: numSamples must be a non-negative integer, received ${String(numSamples)}`);
  const classes = l.shape[1];
  if (classes === null || classes === 0) throw new ShapeError(`categorical: logits need a known, non-zero number of classes, received ${fmtShape(l.shape)}`);
  const d = o.dtype === undefined || o.dtype === 'int64' ? 'int32' : parseDType(o.dtype, 'categorical');
  if (d !== 'int32') throw new DTypeError(`categorical: dtype must be an integer dtype (int32), received ${d}`);
  const key = drawSeed(o.seed, 'categorical');
  const u = uniformBits([l.shape[0], numSamples], l.dtype, key, l.shape[0] === null ? l : undefined);
  const p = exp(subtract(l, max(l, -1, true)));
  const cdf = cumsum(p, 1);
  const total = slice(cdf, [0, classes - 1], [-1, 1]);
  const target = multiply(u, total);
  const below = cast(lessEqual(expandDims(cdf, 1), expandDims(target, 2)), 'int32');
  // Rounding can put u * total at or past the last cdf value; that is the last class.
  return minimum(sum(below, 2), classes - 1);
}

export { SeedGenerator };
