/**
 * keras.optimizers.schedules: learning rates as functions of the optimizer step.
 * A schedule maps a step tensor to a float32 scalar tensor using ops only, so it
 * runs eagerly and inside a traced train step alike (no reads back to JS).
 */
import { isFloat } from '../../dtype.js';
import { KerasError, ValueError } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { TensorLike } from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';
import { camelizeKeys, checkKnownKeys } from '../config.js';
import { isPlainObject } from '../../utils/args.js';

/**
 * Base class of learning rate schedules. Subclasses implement `call(step)` (step: a
 * scalar int32 tensor, the optimizer's iteration count) and, to be serializable, `getConfig()`.
 *
 * ```ts
 * class InverseStep extends keras.optimizers.schedules.LearningRateSchedule {
 *   constructor(readonly initial: number) { super(); }
 *   call(step) { return ops.divide(this.initial, ops.add(ops.cast(step, 'float32'), 1)); }
 *   getConfig() { return { initial: this.initial }; }
 *   static fromConfig(c) { return new InverseStep(c.initial); }
 * }
 * ```
 */
export abstract class LearningRateSchedule {
  /** The learning rate at `step`, a float32 scalar tensor. */
  abstract call(step: TensorLike): Tensor;

  /** The constructor arguments, as a JSON-serializable object. */
  getConfig(): Record<string, unknown> {
    throw new KerasError(`Learning rate schedule '${this.constructor.name}' must override getConfig() in order to be serializable.`);
  }

  /** Re-creates a schedule from `getConfig()` output (snake_case keys from Keras files are accepted). */
  static fromConfig(config: Record<string, unknown>): LearningRateSchedule {
    // Built-in schedules take their whole config as one object; subclasses with other constructors override this.
    const cls = this as unknown as new (config: Record<string, unknown>) => LearningRateSchedule;
    return new cls(camelizeKeys(config));
  }
}

type Args = unknown[];

/**
 * Keras' calling convention for constructors: required arguments positional, optional ones
 * positional or as one trailing options object; a single object holding everything (a config) also works.
 */
function scheduleArgs(owner: string, params: readonly string[], required: number, defaults: Record<string, unknown>, args: Args): Record<string, unknown> {
  let positional = args;
  let options: Record<string, unknown> = {};
  if (args.length === 1 && isPlainObject(args[0])) {
    positional = [];
    options = camelizeKeys(args[0]);
  } else if (args.length > required && isPlainObject(args[args.length - 1])) {
    positional = args.slice(0, -1);
    options = args[args.length - 1] as Record<string, unknown>;
  }
  if (positional.length > params.length) throw new ValueError(`${owner}: expected at most ${params.length} arguments (${params.join(', ')}), received ${positional.length}`);
  checkKnownKeys(owner, options, params);
  const out: Record<string, unknown> = { ...defaults };
  positional.forEach((v, i) => {
    if (v !== undefined) out[params[i]] = v;
  });
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  for (const p of params.slice(0, required)) {
    if (out[p] === undefined) throw new ValueError(`${owner}: missing required argument ${p}`);
  }
  return out;
}

function num(owner: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${owner}: ${name} must be a finite number, received ${JSON.stringify(v)}`);
  return v;
}

function positiveSteps(owner: string, name: string, v: unknown): number {
  const n = num(owner, name, v);
  if (n <= 0) throw new ValueError(`${owner}: argument ${name} must be > 0, received ${name}=${n}`);
  return n;
}

/** The step as float32, the dtype every built-in schedule computes in. */
function stepFloat(step: TensorLike): Tensor {
  return ops.cast(ops.convertToTensor(step, null, 'LearningRateSchedule'), 'float32');
}

function f32(x: number): Tensor {
  return ops.convertToTensor(x, 'float32');
}

export interface ExponentialDecayOptions {
  staircase?: boolean;
  name?: string;
}

/** `initialLearningRate * decayRate ** (step / decaySteps)` (the exponent floored when `staircase`). */
export class ExponentialDecay extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string;

  constructor(initialLearningRate: number, decaySteps: number, decayRate: number, staircase?: boolean | ExponentialDecayOptions, name?: string);
  constructor(config: { initialLearningRate: number; decaySteps: number; decayRate: number } & ExponentialDecayOptions);
  constructor(...args: Args) {
    super();
    const c = scheduleArgs('ExponentialDecay', ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase', 'name'], 3, { staircase: false, name: 'ExponentialDecay' }, args);
    this.initialLearningRate = num('ExponentialDecay', 'initialLearningRate', c.initialLearningRate);
    this.decaySteps = positiveSteps('ExponentialDecay', 'decaySteps', c.decaySteps);
    this.decayRate = num('ExponentialDecay', 'decayRate', c.decayRate);
    this.staircase = Boolean(c.staircase);
    this.name = String(c.name);
  }

  call(step: TensorLike): Tensor {
    let p = ops.divide(stepFloat(step), this.decaySteps);
    if (this.staircase) p = ops.floor(p);
    return ops.multiply(this.initialLearningRate, ops.power(f32(this.decayRate), p));
  }

  override getConfig(): Record<string, unknown> {
    return { initialLearningRate: this.initialLearningRate, decaySteps: this.decaySteps, decayRate: this.decayRate, staircase: this.staircase, name: this.name };
  }
}

/**
 * `values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <= boundaries[i]`,
 * `values[last]` after the last boundary.
 */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  readonly boundaries: number[];
  readonly values: number[];
  readonly name: string;

  constructor(boundaries: number[], values: number[], name?: string | { name?: string });
  constructor(config: { boundaries: number[]; values: number[]; name?: string });
  constructor(...args: Args) {
    super();
    const c = scheduleArgs('PiecewiseConstantDecay', ['boundaries', 'values', 'name'], 2, { name: 'PiecewiseConstant' }, args);
    if (!Array.isArray(c.boundaries) || !Array.isArray(c.values)) {
      throw new ValueError(`PiecewiseConstantDecay: boundaries and values must be arrays of numbers, received ${JSON.stringify(c.boundaries)} and ${JSON.stringify(c.values)}`);
    }
    const boundaries = c.boundaries as unknown[];
    const values = c.values as unknown[];
    if (boundaries.length !== values.length - 1) {
      throw new ValueError(
        `PiecewiseConstantDecay: the length of boundaries should be 1 less than the length of values. Received: boundaries=${JSON.stringify(boundaries)} of length ${boundaries.length}, and values=${JSON.stringify(values)} of length ${values.length}.`,
      );
    }
    this.boundaries = boundaries.map((b, i) => num('PiecewiseConstantDecay', `boundaries[${i}]`, b));
    this.values = values.map((v, i) => num('PiecewiseConstantDecay', `values[${i}]`, v));
    for (let i = 1; i < this.boundaries.length; i++) {
      if (!(this.boundaries[i] > this.boundaries[i - 1])) throw new ValueError(`PiecewiseConstantDecay: boundaries must be strictly increasing, received ${JSON.stringify(this.boundaries)}`);
    }
    this.name = String(c.name);
  }

  call(step: TensorLike): Tensor {
    const s = ops.convertToTensor(step, null, 'PiecewiseConstantDecay');
    // Boundaries take the step's dtype, as Keras casts them (truncating for integer steps).
    const bs = isFloat(s.dtype) ? this.boundaries : this.boundaries.map(Math.trunc);
    const vs = this.values;
    if (!bs.length) return ops.fullLike(stepFloat(s), vs[0], 'float32');
    const indicator = (cond: Tensor, value: number) => ops.multiply(ops.cast(cond, 'float32'), value);
    let result = indicator(ops.lessEqual(s, bs[0]), vs[0]);
    result = ops.add(result, indicator(ops.greater(s, bs[bs.length - 1]), vs[vs.length - 1]));
    for (let i = 0; i + 1 < bs.length; i++) {
      result = ops.add(result, indicator(ops.logicalAnd(ops.greater(s, bs[i]), ops.lessEqual(s, bs[i + 1])), vs[i + 1]));
    }
    return result;
  }

  override getConfig(): Record<string, unknown> {
    return { boundaries: [...this.boundaries], values: [...this.values], name: this.name };
  }
}

export interface PolynomialDecayOptions {
  endLearningRate?: number;
  power?: number;
  cycle?: boolean;
  name?: string;
}

/**
 * `(initial - end) * (1 - min(step, decaySteps) / decaySteps) ** power + end`; with `cycle`,
 * decaySteps grows to the first multiple of itself not below step.
 */
export class PolynomialDecay extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly endLearningRate: number;
  readonly power: number;
  readonly cycle: boolean;
  readonly name: string;

  constructor(initialLearningRate: number, decaySteps: number, endLearningRate?: number | PolynomialDecayOptions, power?: number, cycle?: boolean, name?: string);
  constructor(config: { initialLearningRate: number; decaySteps: number } & PolynomialDecayOptions);
  constructor(...args: Args) {
    super();
    const c = scheduleArgs('PolynomialDecay', ['initialLearningRate', 'decaySteps', 'endLearningRate', 'power', 'cycle', 'name'], 2, { endLearningRate: 0.0001, power: 1.0, cycle: false, name: 'PolynomialDecay' }, args);
    this.initialLearningRate = num('PolynomialDecay', 'initialLearningRate', c.initialLearningRate);
    this.decaySteps = positiveSteps('PolynomialDecay', 'decaySteps', c.decaySteps);
    this.endLearningRate = num('PolynomialDecay', 'endLearningRate', c.endLearningRate);
    this.power = num('PolynomialDecay', 'power', c.power);
    this.cycle = Boolean(c.cycle);
    this.name = String(c.name);
  }

  call(step: TensorLike): Tensor {
    let s = stepFloat(step);
    let decaySteps: Tensor = f32(this.decaySteps);
    if (this.cycle) {
      // The first multiple of decaySteps that is >= step (1 at step 0).
      const multiplier = ops.where(ops.equal(s, 0), 1.0, ops.ceil(ops.divide(s, this.decaySteps)));
      decaySteps = ops.multiply(decaySteps, multiplier);
    } else {
      s = ops.minimum(s, decaySteps);
    }
    const p = ops.divide(s, decaySteps);
    return ops.add(ops.multiply(this.initialLearningRate - this.endLearningRate, ops.power(ops.subtract(1, p), this.power)), this.endLearningRate);
  }

  override getConfig(): Record<string, unknown> {
    return { initialLearningRate: this.initialLearningRate, decaySteps: this.decaySteps, endLearningRate: this.endLearningRate, power: this.power, cycle: this.cycle, name: this.name };
  }
}

export interface InverseTimeDecayOptions {
  staircase?: boolean;
  name?: string;
}

/** `initialLearningRate / (1 + decayRate * step / decaySteps)` (the ratio floored when `staircase`). */
export class InverseTimeDecay extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string;

  constructor(initialLearningRate: number, decaySteps: number, decayRate: number, staircase?: boolean | InverseTimeDecayOptions, name?: string);
  constructor(config: { initialLearningRate: number; decaySteps: number; decayRate: number } & InverseTimeDecayOptions);
  constructor(...args: Args) {
    super();
    const c = scheduleArgs('InverseTimeDecay', ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase', 'name'], 3, { staircase: false, name: 'InverseTimeDecay' }, args);
    this.initialLearningRate = num('InverseTimeDecay', 'initialLearningRate', c.initialLearningRate);
    this.decaySteps = positiveSteps('InverseTimeDecay', 'decaySteps', c.decaySteps);
    this.decayRate = num('InverseTimeDecay', 'decayRate', c.decayRate);
    this.staircase = Boolean(c.staircase);
    this.name = String(c.name);
  }

  call(step: TensorLike): Tensor {
    let p = ops.divide(stepFloat(step), this.decaySteps);
    if (this.staircase) p = ops.floor(p);
    return ops.divide(this.initialLearningRate, ops.add(1, ops.multiply(this.decayRate, p)));
  }

  override getConfig(): Record<string, unknown> {
    return { initialLearningRate: this.initialLearningRate, decaySteps: this.decaySteps, decayRate: this.decayRate, staircase: this.staircase, name: this.name };
  }
}

export interface CosineDecayOptions {
  alpha?: number;
  name?: string;
  warmupTarget?: number | null;
  warmupSteps?: number;
}

/**
 * Optional linear warmup from `initialLearningRate` to `warmupTarget` over `warmupSteps`, then
 * cosine decay from the warmup target (or the initial rate) to `alpha` times it over `decaySteps`.
 */
export class CosineDecay extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  readonly name: string;
  readonly warmupTarget: number | null;
  readonly warmupSteps: number;

  constructor(initialLearningRate: number, decaySteps: number, alpha?: number | CosineDecayOptions, name?: string, warmupTarget?: number | null, warmupSteps?: number);
  constructor(config: { initialLearningRate: number; decaySteps: number } & CosineDecayOptions);
  constructor(...args: Args) {
    super();
    const c = scheduleArgs('CosineDecay', ['initialLearningRate', 'decaySteps', 'alpha', 'name', 'warmupTarget', 'warmupSteps'], 2, { alpha: 0.0, name: 'CosineDecay', warmupTarget: null, warmupSteps: 0 }, args);
    this.initialLearningRate = num('CosineDecay', 'initialLearningRate', c.initialLearningRate);
    this.decaySteps = positiveSteps('CosineDecay', 'decaySteps', c.decaySteps);
    this.alpha = num('CosineDecay', 'alpha', c.alpha);
    this.name = String(c.name);
    this.warmupTarget = c.warmupTarget === null ? null : num('CosineDecay', 'warmupTarget', c.warmupTarget);
    this.warmupSteps = num('CosineDecay', 'warmupSteps', c.warmupSteps);
    if (this.warmupSteps < 0) throw new ValueError(`CosineDecay: warmupSteps must be >= 0, received ${this.warmupSteps}`);
  }

  private decay(step: Tensor, decayFrom: number): Tensor {
    const completed = ops.divide(step, this.decaySteps);
    const cosineDecayed = ops.multiply(0.5, ops.add(1.0, ops.cos(ops.multiply(Math.PI, completed))));
    const decayed = ops.add(ops.multiply(1 - this.alpha, cosineDecayed), this.alpha);
    return ops.multiply(decayFrom, decayed);
  }

  call(step: TensorLike): Tensor {
    let s = stepFloat(step);
    if (this.warmupTarget === null) {
      s = ops.minimum(s, this.decaySteps);
      return this.decay(s, this.initialLearningRate);
    }
    s = ops.minimum(s, this.decaySteps + this.warmupSteps);
    // Both branches are computed and one is selected, so the schedule stays one graph.
    const warm = ops.add(ops.multiply(this.warmupTarget - this.initialLearningRate, ops.divide(s, this.warmupSteps)), this.initialLearningRate);
    const decayed = this.decay(ops.subtract(s, this.warmupSteps), this.warmupTarget);
    return ops.where(ops.less(s, this.warmupSteps), warm, decayed);
  }

  override getConfig(): Record<string, unknown> {
    return { initialLearningRate: this.initialLearningRate, decaySteps: this.decaySteps, alpha: this.alpha, name: this.name, warmupTarget: this.warmupTarget, warmupSteps: this.warmupSteps };
  }
}

export interface CosineDecayRestartsOptions {
  tMul?: number;
  mMul?: number;
  alpha?: number;
  name?: string;
}

/**
 * Cosine decay with warm restarts (SGDR): the first period lasts `firstDecaySteps`, each next
 * one `tMul` times longer and starting from `mMul` times the previous peak.
 */
export class CosineDecayRestarts extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly firstDecaySteps: number;
  readonly tMul: number;
  readonly mMul: number;
  readonly alpha: number;
  readonly name: string;

  constructor(initialLearningRate: number, firstDecaySteps: number, tMul?: number | CosineDecayRestartsOptions, mMul?: number, alpha?: number, name?: string);
  constructor(config: { initialLearningRate: number; firstDecaySteps: number } & CosineDecayRestartsOptions);
  constructor(...args: Args) {
    super();
    const c = scheduleArgs('CosineDecayRestarts', ['initialLearningRate', 'firstDecaySteps', 'tMul', 'mMul', 'alpha', 'name'], 2, { tMul: 2.0, mMul: 1.0, alpha: 0.0, name: 'SGDRDecay' }, args);
    this.initialLearningRate = num('CosineDecayRestarts', 'initialLearningRate', c.initialLearningRate);
    this.firstDecaySteps = positiveSteps('CosineDecayRestarts', 'firstDecaySteps', c.firstDecaySteps);
    this.tMul = num('CosineDecayRestarts', 'tMul', c.tMul);
    this.mMul = num('CosineDecayRestarts', 'mMul', c.mMul);
    this.alpha = num('CosineDecayRestarts', 'alpha', c.alpha);
    this.name = String(c.name);
  }

  call(step: TensorLike): Tensor {
    let completed = ops.divide(stepFloat(step), this.firstDecaySteps);
    let iRestart: Tensor;
    if (this.tMul === 1.0) {
      iRestart = ops.floor(completed);
      completed = ops.subtract(completed, iRestart);
    } else {
      const tMul = f32(this.tMul);
      // Periods grow geometrically: restart i starts at (1 - tMul^i) / (1 - tMul) periods.
      iRestart = ops.floor(ops.divide(ops.log(ops.subtract(1.0, ops.multiply(completed, 1.0 - this.tMul))), Math.log(this.tMul)));
      const sumR = ops.divide(ops.subtract(1.0, ops.power(tMul, iRestart)), 1.0 - this.tMul);
      completed = ops.divide(ops.subtract(completed, sumR), ops.power(tMul, iRestart));
    }
    const mFac = ops.power(f32(this.mMul), iRestart);
    const cosineDecayed = ops.multiply(ops.multiply(0.5, mFac), ops.add(1.0, ops.cos(ops.multiply(Math.PI, completed))));
    const decayed = ops.add(ops.multiply(1 - this.alpha, cosineDecayed), this.alpha);
    return ops.multiply(this.initialLearningRate, decayed);
  }

  override getConfig(): Record<string, unknown> {
    return { initialLearningRate: this.initialLearningRate, firstDecaySteps: this.firstDecaySteps, tMul: this.tMul, mMul: this.mMul, alpha: this.alpha, name: this.name };
  }
}

type ScheduleClass = { name: string; fromConfig(config: Record<string, unknown>): LearningRateSchedule };

const BUILTIN: ScheduleClass[] = [ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay, CosineDecayRestarts];

/** A serialized schedule, as Keras writes it (`class_name` is accepted on input too). */
export interface SerializedSchedule {
  module: string;
  className: string;
  config: Record<string, unknown>;
  registeredName: string | null;
}

/** `{module, className, config, registeredName}` for a schedule. */
export function serialize(schedule: LearningRateSchedule): SerializedSchedule {
  if (!(schedule instanceof LearningRateSchedule)) throw new ValueError(`schedules.serialize: expected a LearningRateSchedule, received ${String(schedule)}`);
  const className = schedule.constructor.name;
  const builtin = BUILTIN.some((c) => c.name === className);
  return { module: builtin ? 'keras.optimizers.schedules' : 'custom', className, config: schedule.getConfig(), registeredName: builtin ? null : className };
}

/** Re-creates a schedule from `serialize()` output or a Keras `{class_name, config}` dict. */
export function deserialize(config: Record<string, unknown>, customObjects: Record<string, ScheduleClass> = {}): LearningRateSchedule {
  const className = (config.className ?? config.class_name) as unknown;
  if (typeof className !== 'string') throw new ValueError(`schedules.deserialize: expected {className, config}, received ${JSON.stringify(config)}`);
  const cls = customObjects[className] ?? BUILTIN.find((c) => c.name === className);
  if (!cls) {
    throw new ValueError(`schedules.deserialize: unknown learning rate schedule '${className}'. Known: ${BUILTIN.map((c) => c.name).join(', ')}; pass custom ones in customObjects`);
  }
  const inner = config.config;
  if (!isPlainObject(inner)) throw new ValueError(`schedules.deserialize: ${className} config must be an object, received ${JSON.stringify(inner)}`);
  return cls.fromConfig(inner);
}
