/**
 * Random initializers (Keras 3 keras/src/initializers/random_initializers.py):
 * RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling and its presets
 * (Glorot, He, Lecun), Orthogonal.
 *
 * Seeds, as Keras: an integer seed gives the same values on every call (and on every
 * instance with that seed); a SeedGenerator gives new values on each call; no seed draws
 * a seed once, at construction, from keras.random's global generator (so the instance
 * repeats its values, and `keras.utils.setRandomSeed` makes it reproducible).
 */
import { isFloat, type DType } from '../dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { eagerly, fromValues, tidy } from '../engine.js';
import * as ops from '../ops/index.js';
import * as random from '../random/index.js';
import type { Tensor } from '../tensor.js';
import { Initializer, checkInitDType, checkInitShape, type ShapeArg } from './initializer.js';
import type { Config } from './registry.js';
import { isPlainObject, optionalArgs } from '../utils/args.js';

/** What an initializer's `seed` may be: an integer, a SeedGenerator, or null for a seed drawn at construction. */
export type InitializerSeed = number | random.SeedGenerator | null;

/** Keras' `compute_fans`: [fanIn, fanOut]; conv kernels (rank > 2) multiply the channels by the receptive field size. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length < 1) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  let receptiveFieldSize = 1;
  for (const d of shape.slice(0, -2)) receptiveFieldSize *= d;
  return [shape[shape.length - 2] * receptiveFieldSize, shape[shape.length - 1] * receptiveFieldSize];
}

function parseSeed(seed: unknown, owner: string): InitializerSeed {
  if (seed === null || seed === undefined) return null;
  if (seed instanceof random.SeedGenerator) return seed;
  // A serialized SeedGenerator, as found in a Keras config.
  if (isPlainObject(seed) && (seed.className ?? seed.class_name) === 'SeedGenerator') {
    const inner = isPlainObject(seed.config) ? seed.config : {};
    return new random.SeedGenerator(inner.seed as number | null | undefined);
  }
  if (typeof seed === 'number' && Number.isInteger(seed) && seed >= -2147483648 && seed <= 4294967295) return seed;
  throw new ValueError(`${owner}: the seed argument should be an integer or an instance of keras.random.SeedGenerator; received seed=${JSON.stringify(seed) ?? String(seed)}`);
}

function checkNumber(value: unknown, owner: string, arg: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValueError(`${owner}: ${arg} must be a finite number, received ${JSON.stringify(value)}`);
  return value;
}

/** Base of the seeded initializers; handles `seed` and its config. */
export abstract class RandomInitializer extends Initializer {
  /** The seed as given (null when none was). */
  readonly seed: InitializerSeed;
  /** Philox key drawn at construction when no seed was given. */
  private readonly defaultKey: [number, number] | null = null;

  constructor(seed: unknown) {
    super();
    const owner = new.target.name;
    this.seed = parseSeed(seed, owner);
    if (this.seed === null) {
      const key = eagerly(() => random.globalSeedGenerator().next());
      const v = key.dataSync();
      key.dispose();
      this.defaultKey = [v[0], v[1]];
    }
  }

  /**
   * Runs `draw` with the seed to pass to keras.random. Without a seed, the key drawn at
   * construction is made into a tensor here and freed after the draw.
   */
  protected withSeed(draw: (seed: random.SeedLike) => Tensor): Tensor {
    const key = this.defaultKey;
    if (!key) return draw(this.seed);
    return tidy(() => draw(fromValues(Int32Array.of(key[0], key[1]), [2], 'int32')));
  }

  protected checkFloat(dtype: DType): void {
    if (!isFloat(dtype)) throw new DTypeError(`${this.constructor.name}: random initializers need a float dtype (float32 or float64), received dtype=${dtype}`);
  }

  /** `{seed}`: null, an integer, or a serialized SeedGenerator. */
  override getConfig(): Config {
    const s = this.seed;
    if (s instanceof random.SeedGenerator) return { seed: { module: 'keras.random', className: 'SeedGenerator', config: s.getConfig(), registeredName: null } };
    return { seed: s };
  }
}

type DistributionOptions = { mean?: number; stddev?: number; seed?: InitializerSeed };

/** Samples from a normal distribution with `mean` (default 0) and `stddev` (default 0.05). */
export class RandomNormal extends RandomInitializer {
  readonly mean: number;
  readonly stddev: number;

  constructor(mean?: number | DistributionOptions, stddev?: number, seed?: InitializerSeed) {
    const o = optionalArgs<{ mean: number; stddev: number; seed: InitializerSeed }>('RandomNormal', { mean: 0, stddev: 0.05, seed: null }, [mean, stddev, seed]);
    super(o.seed);
    this.mean = checkNumber(o.mean, 'RandomNormal', 'mean');
    this.stddev = checkNumber(o.stddev, 'RandomNormal', 'stddev');
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const dims = checkInitShape(shape, 'RandomNormal');
    const d = checkInitDType(dtype, 'RandomNormal');
    this.checkFloat(d);
    return this.withSeed((seed) => random.normal(dims, { mean: this.mean, stddev: this.stddev, dtype: d, seed }));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
}

/**
 * Samples from a normal distribution with `mean` (default 0) and `stddev` (default 0.05),
 * truncated to within two standard deviations of the mean.
 */
export class TruncatedNormal extends RandomInitializer {
  readonly mean: number;
  readonly stddev: number;

  constructor(mean?: number | DistributionOptions, stddev?: number, seed?: InitializerSeed) {
    const o = optionalArgs<{ mean: number; stddev: number; seed: InitializerSeed }>('TruncatedNormal', { mean: 0, stddev: 0.05, seed: null }, [mean, stddev, seed]);
    super(o.seed);
    this.mean = checkNumber(o.mean, 'TruncatedNormal', 'mean');
    this.stddev = checkNumber(o.stddev, 'TruncatedNormal', 'stddev');
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const dims = checkInitShape(shape, 'TruncatedNormal');
    const d = checkInitDType(dtype, 'TruncatedNormal');
    this.checkFloat(d);
    return this.withSeed((seed) => random.truncatedNormal(dims, { mean: this.mean, stddev: this.stddev, dtype: d, seed }));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
}

/** Samples uniformly from [minval, maxval) (defaults -0.05, 0.05). */
export class RandomUniform extends RandomInitializer {
  readonly minval: number;
  readonly maxval: number;

  constructor(minval?: number | { minval?: number; maxval?: number; seed?: InitializerSeed }, maxval?: number, seed?: InitializerSeed) {
    const o = optionalArgs<{ minval: number; maxval: number; seed: InitializerSeed }>('RandomUniform', { minval: -0.05, maxval: 0.05, seed: null }, [minval, maxval, seed]);
    super(o.seed);
    this.minval = checkNumber(o.minval, 'RandomUniform', 'minval');
    this.maxval = checkNumber(o.maxval, 'RandomUniform', 'maxval');
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const dims = checkInitShape(shape, 'RandomUniform');
    const d = checkInitDType(dtype, 'RandomUniform');
    this.checkFloat(d);
    return this.withSeed((seed) => random.uniform(dims, { minval: this.minval, maxval: this.maxval, dtype: d, seed }));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), minval: this.minval, maxval: this.maxval };
  }
}

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type ScalingDistribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

/** Keras' correction: the stddev of a standard normal truncated to [-2, 2]. */
const TRUNCATED_STDDEV = 0.87962566103423978;

/**
 * Scales to the weight shape: with n = fan_in, fan_out or their mean (Keras' compute_fans),
 * normal distributions get stddev sqrt(scale / n) (after truncation for `truncated_normal`),
 * `uniform` gets limits +-sqrt(3 scale / n).
 */
export class VarianceScaling extends RandomInitializer {
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: ScalingDistribution;

  constructor(
    scale?: number | { scale?: number; mode?: FanMode; distribution?: ScalingDistribution | 'normal'; seed?: InitializerSeed },
    mode?: FanMode,
    distribution?: ScalingDistribution | 'normal',
    seed?: InitializerSeed,
  ) {
    const owner = new.target.name;
    const o = optionalArgs<{ scale: number; mode: FanMode; distribution: string; seed: InitializerSeed }>(owner, { scale: 1, mode: 'fan_in', distribution: 'truncated_normal', seed: null }, [scale, mode, distribution, seed]);
    super(o.seed);
    if (typeof o.scale !== 'number' || !(o.scale > 0) || !Number.isFinite(o.scale)) throw new ValueError(`${owner}: argument scale must be a positive float, received scale=${JSON.stringify(o.scale)}`);
    if (!['fan_in', 'fan_out', 'fan_avg'].includes(o.mode)) throw new ValueError(`${owner}: invalid mode ${JSON.stringify(o.mode)}; use one of fan_in, fan_out, fan_avg`);
    let dist = typeof o.distribution === 'string' ? o.distribution.toLowerCase() : o.distribution;
    if (dist === 'normal') dist = 'truncated_normal';
    if (!['uniform', 'truncated_normal', 'untruncated_normal'].includes(dist)) {
      throw new ValueError(`${owner}: invalid distribution ${JSON.stringify(o.distribution)}; use one of uniform, truncated_normal, untruncated_normal`);
    }
    this.scale = o.scale;
    this.mode = o.mode;
    this.distribution = dist as ScalingDistribution;
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const owner = this.constructor.name;
    const dims = checkInitShape(shape, owner);
    const d = checkInitDType(dtype, owner);
    this.checkFloat(d);
    const [fanIn, fanOut] = computeFans(dims);
    const n = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const scale = this.scale / Math.max(1, n);
    if (this.distribution === 'truncated_normal') {
      const stddev = Math.sqrt(scale) / TRUNCATED_STDDEV;
      return this.withSeed((seed) => random.truncatedNormal(dims, { mean: 0, stddev, dtype: d, seed }));
    }
    if (this.distribution === 'untruncated_normal') {
      const stddev = Math.sqrt(scale);
      return this.withSeed((seed) => random.normal(dims, { mean: 0, stddev, dtype: d, seed }));
    }
    const limit = Math.sqrt(3 * scale);
    return this.withSeed((seed) => random.uniform(dims, { minval: -limit, maxval: limit, dtype: d, seed }));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), scale: this.scale, mode: this.mode, distribution: this.distribution };
  }
}

type SeedOnly = InitializerSeed | { seed?: InitializerSeed };

function seedArg(owner: string, seed: SeedOnly | undefined): InitializerSeed {
  return optionalArgs<{ seed: InitializerSeed }>(owner, { seed: null }, [seed]).seed;
}

/** A VarianceScaling preset: takes only a seed, and its config is only `{seed}` (as Keras). */
abstract class VarianceScalingPreset extends VarianceScaling {
  override getConfig(): Config {
    return { seed: super.getConfig().seed };
  }
}

/** Glorot (Xavier) uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). */
export class GlorotUniform extends VarianceScalingPreset {
  constructor(seed?: SeedOnly) {
    super(1, 'fan_avg', 'uniform', seedArg('GlorotUniform', seed));
  }
}

/** Glorot (Xavier) normal: truncated normal with stddev sqrt(2 / (fan_in + fan_out)). */
export class GlorotNormal extends VarianceScalingPreset {
  constructor(seed?: SeedOnly) {
    super(1, 'fan_avg', 'truncated_normal', seedArg('GlorotNormal', seed));
  }
}

/** He uniform: U(-limit, limit), limit = sqrt(6 / fan_in). */
export class HeUniform extends VarianceScalingPreset {
  constructor(seed?: SeedOnly) {
    super(2, 'fan_in', 'uniform', seedArg('HeUniform', seed));
  }
}

/** He normal: truncated normal with stddev sqrt(2 / fan_in). */
export class HeNormal extends VarianceScalingPreset {
  constructor(seed?: SeedOnly) {
    super(2, 'fan_in', 'truncated_normal', seedArg('HeNormal', seed));
  }
}

/** Lecun uniform: U(-limit, limit), limit = sqrt(3 / fan_in). */
export class LecunUniform extends VarianceScalingPreset {
  constructor(seed?: SeedOnly) {
    super(1, 'fan_in', 'uniform', seedArg('LecunUniform', seed));
  }
}

/** Lecun normal: truncated normal with stddev sqrt(1 / fan_in). */
export class LecunNormal extends VarianceScalingPreset {
  constructor(seed?: SeedOnly) {
    super(1, 'fan_in', 'truncated_normal', seedArg('LecunNormal', seed));
  }
}

/**
 * Householder QR of the row-major m x n matrix `a` (m >= n, float64): returns the
 * reduced Q (m x n, row-major) with each column multiplied by the sign of R's diagonal,
 * which makes Q unique (as Keras' `q * sign(diag(r))`).
 */
export function orthonormalColumns(a: Float64Array, m: number, n: number): Float64Array {
  const A = Float64Array.from(a);
  const vs: Float64Array[] = [];
  const rDiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const len = m - k;
    const v = new Float64Array(len);
    let norm2 = 0;
    for (let i = 0; i < len; i++) {
      v[i] = A[(k + i) * n + k];
      norm2 += v[i] * v[i];
    }
    const alpha = (v[0] >= 0 ? -1 : 1) * Math.sqrt(norm2);
    v[0] -= alpha;
    let vNorm2 = 0;
    for (let i = 0; i < len; i++) vNorm2 += v[i] * v[i];
    if (vNorm2 > 0) {
      const inv = 1 / Math.sqrt(vNorm2);
      for (let i = 0; i < len; i++) v[i] *= inv;
      // A[k:, k:] -= 2 v (v^T A[k:, k:])
      for (let j = k; j < n; j++) {
        let dot = 0;
        for (let i = 0; i < len; i++) dot += v[i] * A[(k + i) * n + j];
        dot *= 2;
        for (let i = 0; i < len; i++) A[(k + i) * n + j] -= dot * v[i];
      }
    }
    rDiag[k] = A[k * n + k];
    vs.push(v);
  }
  // Q = H_0 ... H_{n-1} I[:, :n], applied right to left.
  const Q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) Q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    const len = m - k;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = 0; i < len; i++) dot += v[i] * Q[(k + i) * n + j];
      if (dot === 0) continue;
      dot *= 2;
      for (let i = 0; i < len; i++) Q[(k + i) * n + j] -= dot * v[i];
    }
  }
  // A zero diagonal entry (probability 0) keeps its column as is instead of zeroing it.
  for (let j = 0; j < n; j++) {
    if (rDiag[j] < 0) for (let i = 0; i < m; i++) Q[i * n + j] = -Q[i * n + j];
  }
  return Q;
}

/**
 * Orthogonal matrices (Saxe et al. 2014): the Q of the QR decomposition of a normal
 * matrix, times `gain` (default 1). Shapes of rank > 2 are flattened to
 * (prod(shape[:-1]), shape[-1]); with fewer rows than columns the rows are orthonormal,
 * otherwise the columns. Runs eagerly (it reads the random values).
 */
export class OrthogonalInitializer extends RandomInitializer {
  readonly gain: number;

  constructor(gain?: number | { gain?: number; seed?: InitializerSeed }, seed?: InitializerSeed) {
    const o = optionalArgs<{ gain: number; seed: InitializerSeed }>('Orthogonal', { gain: 1, seed: null }, [gain, seed]);
    super(o.seed);
    this.gain = checkNumber(o.gain, 'Orthogonal', 'gain');
  }

  call(shape: ShapeArg, dtype?: DType | null): Tensor {
    const dims = checkInitShape(shape, 'Orthogonal');
    const d = checkInitDType(dtype, 'Orthogonal');
    this.checkFloat(d);
    if (dims.length < 2) throw new ShapeError(`Orthogonal: the tensor to initialize must be at least two-dimensional; received shape=${fmtShape(dims)} of rank ${dims.length}`);
    const rows = dims.slice(0, -1).reduce((a, b) => a * b, 1);
    const cols = dims[dims.length - 1];
    const m = Math.max(rows, cols);
    const n = Math.min(rows, cols);
    return eagerly(() => {
      if (n === 0) return ops.zeros(dims, d);
      const a = this.withSeed((seed) => random.normal([m, n], { dtype: d, seed }));
      const q = orthonormalColumns(Float64Array.from(a.dataSync()), m, n);
      a.dispose();
      // q is m x n; with fewer rows than columns the result is its transpose (n x m = rows x cols).
      const out = new Float64Array(rows * cols);
      if (rows >= cols) for (let i = 0; i < q.length; i++) out[i] = this.gain * q[i];
      else for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = this.gain * q[i * n + j];
      const values = d === 'float64' ? out : Float32Array.from(out);
      return fromValues(values, dims, d);
    });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), gain: this.gain };
  }
}
