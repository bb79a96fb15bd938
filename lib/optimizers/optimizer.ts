/**
 * keras.optimizers.Optimizer: the base every optimizer extends.
 *
 * All state (the iteration counter, the learning rate, per-variable slots, EMA
 * averages, gradient accumulators) lives in keras.Variable objects, and every update is
 * written with ops and `assign`: nothing is read back to JS. The same `apply` therefore
 * runs eagerly and inside `keras.trace`, where reads become graph inputs and assigns
 * graph updates, so a whole train step compiles to one graph. Conditions that depend
 * on values (gradient accumulation boundaries, EMA overwrite) use `ops.where`, not `if`.
 *
 * Order of one `apply`, as Keras: unscale (lossScaleFactor) -> [accumulate] -> clip ->
 * weight decay (`w -= w * wd * lr`) -> `updateStep` per variable -> EMA -> iterations += 1.
 * Variable constraints are applied by the caller (the layer owns them; Model.trainStep applies them).
 */
import { FLOATX, isFloat, type DType } from '../dtype.js';
import { eagerly, tidy } from '../engine.js';
import { DTypeError, KerasError, ShapeError, ValueError, fmtShape } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { Variable } from '../variable.js';
import { camelizeKeys, checkKnownKeys, shortestFloat32 } from './config.js';
import { LearningRateSchedule, deserialize as deserializeSchedule, serialize as serializeSchedule } from './schedules/learning_rate_schedule.js';
import { isPlainObject } from '../utils/args.js';

/** A constant rate, a schedule of the iteration count, or a function of nothing (called every step). */
export type LearningRate = number | LearningRateSchedule | (() => Tensor | number);

/** Arguments every optimizer accepts (Keras' base optimizer keyword arguments). */
export interface OptimizerOptions {
  learningRate?: LearningRate;
  /** If set, `w -= w * weightDecay * lr` before each update. */
  weightDecay?: number | null;
  /** Clips each gradient to this L2 norm. */
  clipnorm?: number | null;
  /** Clips each gradient element to [-clipvalue, clipvalue]. */
  clipvalue?: number | null;
  /** Scales all gradients together so that their global L2 norm is at most this. */
  globalClipnorm?: number | null;
  /** Keep an exponential moving average of the trained variables. */
  useEma?: boolean;
  emaMomentum?: number;
  /** Overwrite the variables with their averages every this many (accumulated) steps. */
  emaOverwriteFrequency?: number | null;
  /** Gradients are divided by this before use (the loss is multiplied by it in `scaleLoss`). */
  lossScaleFactor?: number | null;
  /** Apply the average gradient once every this many calls (>= 2). */
  gradientAccumulationSteps?: number | null;
  name?: string;
}

const BASE_KEYS = [
  'learningRate',
  'weightDecay',
  'clipnorm',
  'clipvalue',
  'globalClipnorm',
  'useEma',
  'emaMomentum',
  'emaOverwriteFrequency',
  'lossScaleFactor',
  'gradientAccumulationSteps',
  'name',
] as const;

/**
 * Keras' calling convention for optimizer constructors: `new Adam()`, `new Adam(0.01)`,
 * `new Adam(0.01, {beta1: 0.8})` or `new Adam({learningRate: 0.01, beta1: 0.8})`.
 * Undefined options fall back to `defaults`.
 */
export function optimizerOptions<O extends OptimizerOptions>(
  owner: string,
  first: LearningRate | O | undefined,
  rest: O | undefined,
  defaults: Partial<O>,
): O {
  let options: Record<string, unknown>;
  if (first === undefined || first === null) options = { ...(rest ?? {}) };
  else if (isPlainObject(first)) {
    if (rest !== undefined) throw new ValueError(`${owner}: pass either an options object or (learningRate, options), not two objects`);
    options = { ...(first as Record<string, unknown>) };
  } else options = { ...(rest ?? {}), learningRate: first };
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as O;
}

function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Runs `fn` eagerly (even inside a trace) and frees every tensor it made except the variable's own. */
function makeVariable(fn: () => Tensor, name: string, dtype?: DType): Variable {
  return eagerly(() => tidy(() => new Variable(fn(), { name, trainable: false, dtype })));
}

export abstract class Optimizer {
  readonly name: string;
  readonly weightDecay: number | null;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly useEma: boolean;
  readonly emaMomentum: number;
  readonly emaOverwriteFrequency: number | null;
  readonly lossScaleFactor: number | null;
  readonly gradientAccumulationSteps: number | null;
  /** True once slots exist for a list of variables (`build`, or the first `apply`). */
  built = false;

  private readonly trackedVariables: Variable[] = [];
  private trainable: Variable[] = [];
  private readonly indices = new Map<Variable, number>();
  private readonly iterationsVariable: Variable;
  private lr: Variable | LearningRateSchedule | (() => Tensor | number);
  private averages: Variable[] = [];
  private accumulatedGradients: Variable[] = [];
  /** While set, `assign` keeps old values where it is false (gradient accumulation steps). */
  private updateMask: Tensor | null = null;
  private excludedFromWeightDecay = new Set<Variable>();
  private excludedNamePattern: RegExp | null = null;

  /**
   * @param options the base arguments plus the subclass' own (named in `ownKeys`, so unknown
   *   names raise as Keras' "Argument(s) not recognized").
   */
  constructor(options: OptimizerOptions = {}, ownKeys: readonly string[] = []) {
    const owner = new.target.name;
    const opts = { ...options } as Record<string, unknown>;
    if ('decay' in opts) {
      if (opts.decay !== undefined && opts.decay !== null) process.emitWarning(`${owner}: argument \`decay\` is no longer supported and will be ignored.`);
      delete opts.decay;
    }
    checkKnownKeys(owner, opts, [...BASE_KEYS, ...ownKeys]);
    const optNum = (key: string): number | null => {
      const v = opts[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`${owner}: ${key} must be a number or null, received ${JSON.stringify(v)}`);
      return v;
    };
    this.name = typeof opts.name === 'string' ? opts.name : snakeCase(owner);
    this.weightDecay = optNum('weightDecay');
    this.clipnorm = optNum('clipnorm');
    this.clipvalue = optNum('clipvalue');
    this.globalClipnorm = optNum('globalClipnorm');
    this.useEma = Boolean(opts.useEma ?? false);
    this.emaMomentum = optNum('emaMomentum') ?? 0.99;
    this.emaOverwriteFrequency = optNum('emaOverwriteFrequency');
    this.lossScaleFactor = optNum('lossScaleFactor');
    this.gradientAccumulationSteps = optNum('gradientAccumulationSteps');

    const steps = this.gradientAccumulationSteps;
    if (steps !== null && (!Number.isInteger(steps) || steps < 2)) {
      throw new ValueError(`${owner}: gradientAccumulationSteps must be an integer >= 2. Received: gradientAccumulationSteps=${steps}`);
    }
    if (this.useEma) {
      if (this.emaMomentum > 1 || this.emaMomentum < 0) throw new ValueError(`${owner}: emaMomentum must be in the range [0, 1]. Received: emaMomentum=${this.emaMomentum}`);
      const f = this.emaOverwriteFrequency;
      if (f !== null && (!Number.isInteger(f) || f < 1)) {
        throw new ValueError(`${owner}: emaOverwriteFrequency must be an integer >= 1 or null. Received: emaOverwriteFrequency=${f}`);
      }
    }
    const clipArgs = [this.clipnorm, this.clipvalue, this.globalClipnorm].filter((a) => a !== null).length;
    if (clipArgs > 1) {
      throw new ValueError(
        `${owner}: only one of clipnorm, clipvalue and globalClipnorm can be set. Received: clipnorm=${this.clipnorm}, clipvalue=${this.clipvalue}, globalClipnorm=${this.globalClipnorm}`,
      );
    }

    this.iterationsVariable = makeVariable(() => ops.convertToTensor(0, 'int32'), 'iteration');
    this.trackedVariables.push(this.iterationsVariable);
    const lr = opts.learningRate ?? 0.001;
    if (lr instanceof LearningRateSchedule || typeof lr === 'function') this.lr = lr as LearningRateSchedule | (() => Tensor | number);
    else {
      if (typeof lr !== 'number' || !Number.isFinite(lr)) {
        throw new ValueError(
          `${owner}: argument learningRate should be a number, a LearningRateSchedule, or a function returning the learning rate. Received instead: learningRate=${JSON.stringify(lr)}`,
        );
      }
      this.lr = makeVariable(() => ops.convertToTensor(lr, FLOATX), 'learning_rate');
      this.trackedVariables.push(this.lr);
    }
  }

  /** The number of `apply` calls so far (an int32 variable named 'iteration'). */
  get iterations(): Variable {
    return this.iterationsVariable;
  }

  /** Every variable the optimizer owns: iteration, learning_rate (when constant), then slots, in Keras' order. */
  get variables(): Variable[] {
    return [...this.trackedVariables];
  }

  /** The variables `build` was called with. */
  get trainableVariables(): Variable[] {
    return [...this.trainable];
  }

  /** The current learning rate as a number (evaluates a schedule at the current iteration). */
  get learningRate(): number {
    return eagerly(() => tidy(() => shortestFloat32(this.currentLearningRate().dataSync()[0])));
  }

  /** A number assigns the learning rate variable; a schedule or function replaces it. */
  set learningRate(value: LearningRate) {
    const previous = this.lr instanceof Variable ? this.lr : null;
    if (value instanceof LearningRateSchedule || typeof value === 'function') {
      this.lr = value;
    } else {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValueError(`${this.name}: learningRate must be a finite number or a LearningRateSchedule, received ${JSON.stringify(value)}`);
      if (!(this.lr instanceof Variable)) {
        throw new KerasError(
          `${this.name}: this optimizer was created with a ${this.lr instanceof LearningRateSchedule ? 'LearningRateSchedule' : 'function'} as its learningRate, hence its learning rate is not settable. If you need the learning rate to be settable, create the optimizer with a number learningRate.`,
        );
      }
      const target = this.lr;
      tidy(() => {
        target.assign(ops.convertToTensor(value, target.dtype));
      });
    }
    if (previous && !(this.lr instanceof Variable)) {
      this.trackedVariables.splice(this.trackedVariables.indexOf(previous), 1);
      previous.dispose();
    }
  }

  /** The learning rate schedule, if the optimizer has one. */
  get learningRateSchedule(): LearningRateSchedule | null {
    return this.lr instanceof LearningRateSchedule ? this.lr : null;
  }

  /** The learning rate at the current iteration as a float32 scalar tensor (symbolic inside a trace). */
  currentLearningRate(): Tensor {
    if (this.lr instanceof Variable) return this.lr.value;
    if (this.lr instanceof LearningRateSchedule) return ops.cast(this.lr.call(this.iterationsVariable.value), FLOATX);
    const v = this.lr();
    return ops.cast(ops.convertToTensor(v), FLOATX);
  }

  /**
   * The step count update formulas use (bias corrections etc.): the iteration count, or with
   * gradient accumulation the number of applied updates (`iterations // gradientAccumulationSteps`).
   * Learning rate schedules see the raw iteration count, as in Keras.
   */
  protected optimizerStep(): Tensor {
    const it = this.iterationsVariable.value;
    return this.gradientAccumulationSteps ? ops.floorDivide(it, this.gradientAccumulationSteps) : it;
  }

  /**
   * Creates per-variable state. Subclasses override it, return early when `built`, call
   * `super.build(variables)` first, then add their slots with `addVariableFromReference`.
   */
  build(variables: readonly Variable[]): void {
    if (this.built) return;
    variables.forEach((v, i) => {
      if (!(v instanceof Variable)) throw new ValueError(`${this.name}.build: element ${i} is not a keras.Variable (received ${String(v)})`);
      if (!isFloat(v.dtype)) throw new DTypeError(`${this.name}.build: variable ${v.name} ${fmtShape(v.shape)} has dtype ${v.dtype}; only float variables can be optimized`);
      if (this.indices.has(v)) throw new ValueError(`${this.name}.build: variable ${v.name} appears twice in the variable list`);
      this.indices.set(v, i);
      // Interleaved per variable, as Keras orders them (this order is the saved-weights order).
      if (this.useEma) this.averages.push(this.addVariableFromReference(v, 'average'));
      if (this.gradientAccumulationSteps) this.accumulatedGradients.push(this.addVariableFromReference(v, 'gradient_accumulator'));
    });
    this.trainable = [...variables];
    this.built = true;
  }

  /** Adds a non-trainable optimizer variable of `shape` filled with `initializer` (a number). */
  addVariable(shape: readonly number[], options: { initializer?: number; dtype?: DType; name?: string } = {}): Variable {
    const dtype = options.dtype ?? FLOATX;
    const value = options.initializer ?? 0;
    const v = makeVariable(() => ops.broadcastTo(ops.convertToTensor(value, dtype), [...shape]), options.name ?? 'var', dtype);
    this.trackedVariables.push(v);
    return v;
  }

  /** An optimizer variable with the shape and dtype of `reference`, filled with `initializer` (0). */
  addVariableFromReference(reference: Variable, name = 'var', initializer = 0): Variable {
    return this.addVariable(reference.shape, { initializer, dtype: reference.dtype, name: `${reference.name.replace(/[/:]/g, '_')}_${name}` });
  }

  /**
   * One slot list per name, created for every variable with names interleaved per variable
   * (Keras' order): `const [m, v] = this.addOptimizerVariables(vars, ['momentum', 'velocity'])`.
   */
  addOptimizerVariables(variables: readonly Variable[], names: readonly string[], initializer: number | readonly number[] = 0): Variable[][] {
    const inits = typeof initializer === 'number' ? names.map(() => initializer) : [...initializer];
    if (inits.length !== names.length) {
      throw new ValueError(`${this.name}: the number of names must match the number of initializers. Received names=${JSON.stringify(names)}, initializer=${JSON.stringify(initializer)}`);
    }
    const out: Variable[][] = names.map(() => []);
    for (const v of variables) names.forEach((n, i) => out[i].push(this.addVariableFromReference(v, n, inits[i])));
    return out;
  }

  /** The position of `variable` in the list the optimizer was built with. */
  protected getVariableIndex(variable: Variable): number {
    const i = this.indices.get(variable);
    if (i === undefined) throw new ValueError(`${this.name}: unknown variable ${variable}`);
    return i;
  }

  /** `variable = value`; use this (not variable.assign) in `updateStep` so gradient accumulation can hold updates back. */
  assign(variable: Variable, value: Tensor): void {
    const v = value.dtype === variable.dtype ? value : ops.cast(value, variable.dtype);
    variable.assign(this.updateMask ? ops.where(this.updateMask, v, variable.value) : v);
  }

  /** `variable += value` (see `assign`). */
  assignAdd(variable: Variable, value: Tensor): void {
    this.assign(variable, ops.add(variable.value, ops.cast(value, variable.dtype)));
  }

  /** `variable -= value` (see `assign`). */
  assignSub(variable: Variable, value: Tensor): void {
    this.assign(variable, ops.subtract(variable.value, ops.cast(value, variable.dtype)));
  }

  /** Updates `variable` (and this optimizer's slots for it) from `gradient`, with ops and `this.assign*` only. */
  abstract updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void;

  /** Runs `updateStep` for every pair; Nadam overrides it to update shared state first. */
  protected backendUpdateStep(grads: Tensor[], variables: Variable[], learningRate: Tensor): void {
    grads.forEach((g, i) => this.updateStep(g, variables[i], learningRate));
  }

  /** `apply` with `[[gradient, variable], ...]` pairs. Returns the iteration counter. */
  applyGradients(gradsAndVars: readonly (readonly [Tensor | null | undefined, Variable])[]): Variable {
    if (!Array.isArray(gradsAndVars)) throw new ValueError(`${this.name}.applyGradients: expected an array of [gradient, variable] pairs`);
    gradsAndVars.forEach((p, i) => {
      if (!Array.isArray(p) || p.length !== 2) throw new ValueError(`${this.name}.applyGradients: element ${i} is not a [gradient, variable] pair`);
    });
    this.apply(
      gradsAndVars.map((p) => p[0]),
      gradsAndVars.map((p) => p[1]),
    );
    return this.iterationsVariable;
  }

  /**
   * Updates `trainableVariables` from `grads` (one per variable; null/undefined entries are
   * skipped). Builds the optimizer on the first call; without `trainableVariables` the
   * gradients must match the list it was built with.
   */
  apply(grads: readonly (Tensor | null | undefined)[], trainableVariables?: readonly Variable[]): void {
    if (!Array.isArray(grads)) throw new ValueError(`${this.name}.apply: grads must be an array of tensors, received ${String(grads)}`);
    if (grads.length === 0) return;
    let variables: Variable[];
    if (trainableVariables === undefined) {
      if (!this.built) {
        throw new ValueError(`${this.name}.apply: when passing grads without variables, the optimizer must already be built on a list of variables. Call optimizer.build(trainableVariables) first.`);
      }
      if (grads.length !== this.trainable.length) {
        throw new ValueError(`${this.name}.apply: received ${grads.length} gradients, but the optimizer is tracking ${this.trainable.length} trainable variables; they must match one to one`);
      }
      variables = this.trainable;
    } else {
      variables = [...trainableVariables];
      if (variables.length !== grads.length) throw new ValueError(`${this.name}.apply: received ${grads.length} gradients for ${variables.length} variables`);
      if (!this.built) this.build(variables);
      for (const v of variables) {
        if (!this.indices.has(v)) {
          throw new ValueError(
            `${this.name}: unknown variable ${v}. This optimizer can only be called for the variables it was originally built with. When working with a new set of variables, you should recreate a new optimizer instance.`,
          );
        }
      }
    }
    tidy(() => {
      const gs: Tensor[] = [];
      const vs: Variable[] = [];
      const missing: string[] = [];
      grads.forEach((g, i) => {
        if (g === null || g === undefined) missing.push(variables[i].name);
        else {
          gs.push(this.checkGradient(g, variables[i]));
          vs.push(variables[i]);
        }
      });
      if (!gs.length) throw new ValueError(`${this.name}.apply: no gradients provided for any variable (${variables.map((v) => v.name).join(', ')})`);
      if (missing.length) process.emitWarning(`Gradients do not exist for variables [${missing.join(', ')}] when minimizing the loss.`);
      const scale = this.lossScaleFactor;
      const unscaled = scale === null ? gs : gs.map((g) => ops.divide(g, scale));
      this.backendApplyGradients(unscaled, vs);
    });
  }

  private checkGradient(g: Tensor, v: Variable): Tensor {
    if (!(g instanceof Tensor)) throw new ValueError(`${this.name}.apply: the gradient for variable ${v.name} is not a tensor (received ${typeof g})`);
    const ok = g.shape.length === v.shape.length && g.shape.every((d, i) => d === v.shape[i] || (g.isSymbolic && d === null));
    if (!ok) throw new ShapeError(`${this.name}.apply: gradient of shape ${fmtShape(g.shape)} does not match variable ${v.name} of shape ${fmtShape(v.shape)}`);
    return g.dtype === v.dtype ? g : ops.cast(g, v.dtype);
  }

  private backendApplyGradients(grads: Tensor[], variables: Variable[]): void {
    const lr = this.currentLearningRate();
    const steps = this.gradientAccumulationSteps;
    if (steps) {
      const isUpdateStep = ops.equal(ops.mod(ops.add(this.iterationsVariable.value, 1), steps), 0);
      const acc = variables.map((v) => this.accumulatedGradients[this.getVariableIndex(v)]);
      const averaged = grads.map((g, i) => ops.divide(ops.add(g, acc[i].value), steps));
      // The update runs every call but only lands on update steps: every assign keeps the old value otherwise.
      this.updateMask = isUpdateStep;
      try {
        const clipped = this.clipGradients(averaged);
        this.applyWeightDecay(variables, lr);
        this.backendUpdateStep(clipped, variables, lr);
      } finally {
        this.updateMask = null;
      }
      acc.forEach((a, i) => a.assign(ops.where(isUpdateStep, 0, ops.add(grads[i], a.value))));
    } else {
      const clipped = this.clipGradients(grads);
      this.applyWeightDecay(variables, lr);
      this.backendUpdateStep(clipped, variables, lr);
    }
    if (this.useEma) {
      this.updateModelVariablesMovingAverage();
      if (this.emaOverwriteFrequency) {
        const overwrite = ops.equal(ops.mod(ops.add(this.optimizerStep(), 1), this.emaOverwriteFrequency), 0);
        this.trainable.forEach((v, i) => v.assign(ops.where(overwrite, this.averages[i].value, v.value)));
      }
    }
    this.iterationsVariable.assign(ops.add(this.iterationsVariable.value, 1));
  }

  private updateModelVariablesMovingAverage(): void {
    const notFirstStep = ops.notEqual(this.optimizerStep(), 0);
    this.trainable.forEach((v, i) => {
      const average = this.averages[i];
      // momentum is 0 on the first step, so the average starts at the variable's value.
      const momentum = ops.multiply(ops.cast(notFirstStep, v.dtype), this.emaMomentum);
      average.assign(ops.add(ops.multiply(momentum, average.value), ops.multiply(ops.subtract(1, momentum), v.value)));
    });
  }

  /** Applies clipnorm / globalClipnorm / clipvalue, whichever is set. */
  protected clipGradients(grads: Tensor[]): Tensor[] {
    if (this.clipnorm !== null && this.clipnorm > 0) {
      const c = this.clipnorm;
      return grads.map((g) => clipByNorm(g, c));
    }
    if (this.globalClipnorm !== null && this.globalClipnorm > 0) return clipByGlobalNorm(grads, this.globalClipnorm);
    if (this.clipvalue !== null && this.clipvalue > 0) {
      const c = this.clipvalue;
      return grads.map((g) => ops.clip(g, -c, c));
    }
    return grads;
  }

  /**
   * Excludes variables from weight decay, by identity or by a substring/regex of their name.
   * Must be called before the optimizer is built.
   */
  excludeFromWeightDecay(options: { varList?: readonly Variable[]; varNames?: readonly string[] } = {}): void {
    if (this.built) throw new ValueError(`${this.name}.excludeFromWeightDecay can only be configured before the optimizer is built.`);
    this.excludedFromWeightDecay = new Set(options.varList ?? []);
    this.excludedNamePattern = options.varNames && options.varNames.length ? new RegExp([...new Set(options.varNames)].join('|')) : null;
  }

  private useWeightDecay(v: Variable): boolean {
    if (this.excludedFromWeightDecay.has(v)) return false;
    return !(this.excludedNamePattern && this.excludedNamePattern.test(v.name));
  }

  /** `w -= w * weightDecay * lr` for every variable not excluded. */
  protected applyWeightDecay(variables: Variable[], learningRate: Tensor): void {
    if (this.weightDecay === null) return;
    const wd = this.weightDecay;
    for (const v of variables) {
      if (!this.useWeightDecay(v)) continue;
      const lr = ops.cast(learningRate, v.dtype);
      this.assign(v, ops.subtract(v.value, ops.multiply(ops.multiply(v.value, wd), lr)));
    }
  }

  /** Multiplies the loss by `lossScaleFactor` (gradients are divided by it in `apply`). */
  scaleLoss(loss: Tensor): Tensor {
    return this.lossScaleFactor === null ? loss : ops.multiply(loss, this.lossScaleFactor);
  }

  /** With `useEma`, overwrites `variables` (the built list, in order) with their moving averages. */
  finalizeVariableValues(variables: readonly Variable[] = this.trainable): void {
    if (!this.useEma) return;
    if (variables.length !== this.averages.length) {
      throw new ValueError(
        `${this.name}.finalizeVariableValues: the number of model variables (${variables.length}) to override does not match the number of averages stored in the optimizer (${this.averages.length}). Check that the optimizer was applied to your model.`,
      );
    }
    tidy(() => variables.forEach((v, i) => v.assign(this.averages[i].value)));
  }

  /** Assigns every optimizer variable (in `variables` order) from `weights`; the optimizer must be built. */
  setWeights(weights: readonly Tensor[]): void {
    if (!this.built) {
      throw new ValueError(`${this.name}.setWeights: the optimizer has not been built yet. Call optimizer.build(trainableVariables) to create the optimizer weights first.`);
    }
    if (weights.length !== this.trackedVariables.length) {
      throw new ValueError(`${this.name}.setWeights: expected ${this.trackedVariables.length} weights (one per optimizer variable), received ${weights.length}`);
    }
    this.trackedVariables.forEach((v, i) => {
      const w = weights[i];
      if (w.shape.length !== v.shape.length || w.shape.some((d, k) => d !== v.shape[k])) {
        throw new ShapeError(`${this.name}.setWeights: optimizer variable ${v.name} has shape ${fmtShape(v.shape)}, not compatible with provided weight shape ${fmtShape(w.shape)}`);
      }
    });
    tidy(() => this.trackedVariables.forEach((v, i) => v.assign(ops.cast(weights[i], v.dtype))));
  }

  /**
   * Writes copies of the variables into `store` under '0', '1', ... (the layout of Keras'
   * `.keras` weights file); the copies belong to the caller.
   */
  saveOwnVariables(store: Record<string, Tensor>): void {
    this.trackedVariables.forEach((v, i) => {
      store[String(i)] = eagerly(() => ops.multiply(v.value, 1));
    });
  }

  /**
   * Reads the variables back from `store`. As Keras, a store with a different number of
   * entries (e.g. an optimizer that was never built) is skipped with a warning.
   */
  loadOwnVariables(store: Record<string, Tensor>): void {
    const n = Object.keys(store).length;
    if (n !== this.trackedVariables.length) {
      let msg = `Skipping variable loading for optimizer '${this.name}', because it has ${this.trackedVariables.length} variables whereas the saved optimizer has ${n} variables.`;
      if (!this.built) msg += ' This is likely because the optimizer has not been called/built yet.';
      process.emitWarning(msg);
      return;
    }
    tidy(() =>
      this.trackedVariables.forEach((v, i) => {
        const w = store[String(i)];
        if (!w) throw new ValueError(`${this.name}.loadOwnVariables: the store has no entry '${i}'`);
        if (w.shape.length !== v.shape.length || w.shape.some((d, k) => d !== v.shape[k])) {
          throw new ShapeError(`${this.name}.loadOwnVariables: variable ${v.name} has shape ${fmtShape(v.shape)}, the saved value has shape ${fmtShape(w.shape)}`);
        }
        v.assign(ops.cast(w, v.dtype));
      }),
    );
  }

  /** Hyperparameters as a JSON-serializable object (camelCase keys; a schedule is serialized). */
  getConfig(): Record<string, unknown> {
    // A function learning rate is saved as its current value (functions are not serializable).
    const learningRate = this.lr instanceof LearningRateSchedule ? serializeSchedule(this.lr) : this.learningRate;
    return {
      name: this.name,
      learningRate,
      weightDecay: this.weightDecay,
      clipnorm: this.clipnorm,
      globalClipnorm: this.globalClipnorm,
      clipvalue: this.clipvalue,
      useEma: this.useEma,
      emaMomentum: this.emaMomentum,
      emaOverwriteFrequency: this.emaOverwriteFrequency,
      lossScaleFactor: this.lossScaleFactor,
      gradientAccumulationSteps: this.gradientAccumulationSteps,
    };
  }

  /** A new optimizer (without state) from `getConfig()` output; Keras' snake_case keys are accepted. */
  static fromConfig(config: Record<string, unknown>): Optimizer {
    const c = camelizeKeys(config);
    if (isPlainObject(c.learningRate)) c.learningRate = deserializeSchedule(c.learningRate);
    const cls = this as unknown as new (options: Record<string, unknown>) => Optimizer;
    return new cls(c);
  }

  toString(): string {
    return `<${this.constructor.name} name=${this.name}>`;
  }
}

/** Scales `g` so its L2 norm is at most `clipnorm` (NaN-safe for all-zero gradients, as Keras). */
export function clipByNorm(g: Tensor, clipnorm: number): Tensor {
  const l2sum = ops.sum(ops.square(g), null, true);
  const pred = ops.greater(l2sum, 0);
  const l2sumSafe = ops.where(pred, l2sum, ops.onesLike(l2sum));
  const l2norm = ops.where(pred, ops.sqrt(l2sumSafe), l2sum);
  return ops.divide(ops.multiply(g, clipnorm), ops.maximum(l2norm, clipnorm));
}

/** The L2 norm of all tensors together. */
export function globalNorm(values: readonly Tensor[]): Tensor {
  const squared = values.map((v) => ops.cast(ops.sum(ops.square(v)), 'float64' === v.dtype ? 'float64' : FLOATX));
  const dtype: DType = squared.some((s) => s.dtype === 'float64') ? 'float64' : FLOATX;
  return ops.sqrt(ops.sum(ops.stack(squared.map((s) => ops.cast(s, dtype)))));
}

/** Scales all tensors by `clipNorm / max(globalNorm, clipNorm)`; a non-finite norm gives NaN, as Keras. */
export function clipByGlobalNorm(values: readonly Tensor[], clipNorm: number): Tensor[] {
  const useNorm = globalNorm(values);
  const scaleForFinite = ops.multiply(clipNorm, ops.minimum(ops.divide(1.0, useNorm), 1.0 / clipNorm));
  // A no-op for finite norms; makes the scale NaN for inf/NaN norms.
  const scale = ops.add(scaleForFinite, ops.subtract(useNorm, useNorm));
  return values.map((v) => ops.multiply(v, ops.cast(scale, v.dtype)));
}
