/**
 * The shared machinery of Keras' recurrent layers (SimpleRNN, LSTM, GRU): argument
 * handling, weights, input dropout, masks, initial states, goBackwards and the
 * time loop. The time dimension must be static, so the loop unrolls into plain ops
 * (and into straight-line graphs when traced).
 */
import * as activations from '../../activations/index.js';
import * as initializers from '../../initializers/index.js';
import * as regularizers from '../../regularizers/index.js';
import * as constraints from '../../constraints/index.js';
import { currentTrace, isRecording } from '../../engine.js';
import { ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import * as random from '../../random/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Variable } from '../../variable.js';
import { Layer, incompatibleInput, type CallOptions, type LayerArgs, type LayerInputs, type LayerOutputs } from '../layer.js';

/** Arguments shared by SimpleRNN, LSTM and GRU (Keras names, camelCase). */
export interface RNNArgs extends LayerArgs {
  activation?: activations.ActivationLike;
  useBias?: boolean;
  kernelInitializer?: initializers.InitializerLike;
  recurrentInitializer?: initializers.InitializerLike;
  biasInitializer?: initializers.InitializerLike;
  kernelRegularizer?: regularizers.RegularizerLike | null;
  recurrentRegularizer?: regularizers.RegularizerLike | null;
  biasRegularizer?: regularizers.RegularizerLike | null;
  activityRegularizer?: regularizers.RegularizerLike | null;
  kernelConstraint?: constraints.ConstraintLike | null;
  recurrentConstraint?: constraints.ConstraintLike | null;
  biasConstraint?: constraints.ConstraintLike | null;
  /** Fraction of the input units dropped in training (one mask for all timesteps). */
  dropout?: number;
  /** Fraction of the recurrent state units dropped in training (one mask for all timesteps). */
  recurrentDropout?: number;
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  /** Not supported: raises a ValueError when true. */
  stateful?: boolean;
  /** Accepted for Keras compatibility: the loop is always unrolled (the time dim is static). */
  unroll?: boolean;
  seed?: number | null;
  /**
   * Masked timesteps output zeros instead of the previous output (states are still
   * carried). Default false; Bidirectional sets it to returnSequences, as Keras.
   */
  zeroOutputForMask?: boolean;
}

/** Options of an RNN call: Keras' `initial_state`, `mask` and `training`. */
export interface RNNCallOptions extends CallOptions {
  /** Initial states: one [batch, units] tensor per state (LSTM: [h, c]). */
  initialState?: Tensor | Tensor[] | null;
}

/** The recurrent kernel (and GRU's recurrent bias) split per gate, once per call. */
export interface StepContext {
  rk: Tensor[];
  rb: Tensor[] | null;
}

/**
 * Row `t` of a time-major [time, batch, units] tensor: a slice (the batch may be unknown), which
 * the graph executor runs as a view of the projection, and whose gradients, the timesteps' static
 * runs of rows, join into one concatenation (autodiff/tape.ts).
 */
function timestep(xT: Tensor, t: number): Tensor {
  return ops.squeeze(ops.slice(xT, [t, 0, 0], [1, -1, -1]), 0);
}

/** One recurrent step: the projected input of this timestep and the previous states. */
export interface StepResult {
  output: Tensor;
  states: Tensor[];
}

/**
 * Base of the recurrent layers. Subclasses declare the gate count and write `step`;
 * the input projection `x @ kernel (+ bias)` is computed for all timesteps before the
 * loop (one matmul over [batch * time, features] per gate).
 */
export abstract class BaseRNN extends Layer {
  readonly units: number;
  readonly activation: activations.Activation;
  readonly useBias: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly stateful: boolean;
  readonly unroll: boolean;
  readonly seed: number | null;
  /** See RNNArgs.zeroOutputForMask; mutable because Bidirectional sets it on its sublayers (Keras). */
  zeroOutputForMask: boolean;
  kernel!: Variable;
  recurrentKernel!: Variable;
  bias: Variable | null = null;
  protected readonly kernelInitializer: initializers.Initializer;
  protected readonly recurrentInitializer: initializers.Initializer;
  protected readonly biasInitializer: initializers.Initializer;
  protected readonly kernelRegularizer: regularizers.Regularizer | null;
  protected readonly recurrentRegularizer: regularizers.Regularizer | null;
  protected readonly biasRegularizer: regularizers.Regularizer | null;
  protected readonly kernelConstraint: constraints.Constraint | null;
  protected readonly recurrentConstraint: constraints.Constraint | null;
  protected readonly biasConstraint: constraints.Constraint | null;
  private readonly seedGenerator: random.SeedGenerator | null;

  /** Number of gates sharing the kernel: 1 (SimpleRNN), 4 (LSTM), 3 (GRU). */
  protected abstract readonly gates: number;
  /** Number of state tensors: 1, or 2 for LSTM ([h, c]). */
  abstract readonly stateCount: number;

  constructor(units: number, args: RNNArgs) {
    super(args);
    const kind = new.target.name;
    if (!Number.isInteger(units) || units <= 0) throw new ValueError(`${kind}: units must be a positive integer, received ${units}`);
    for (const key of ['dropout', 'recurrentDropout'] as const) {
      const v = args[key] ?? 0;
      if (!(v >= 0 && v <= 1)) throw new ValueError(`${kind}: ${key} must be in [0, 1], received ${v}`);
    }
    if (args.stateful) {
      throw new ValueError(`${kind} "${this.name}": stateful=true is not supported in keras-node; pass the previous final states as initialState instead`);
    }
    this.units = units;
    this.activation = activations.get(args.activation === undefined ? 'tanh' : args.activation);
    this.useBias = args.useBias ?? true;
    this.dropout = Math.min(1, Math.max(0, args.dropout ?? 0));
    this.recurrentDropout = Math.min(1, Math.max(0, args.recurrentDropout ?? 0));
    this.returnSequences = args.returnSequences ?? false;
    this.returnState = args.returnState ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.stateful = false;
    this.unroll = args.unroll ?? false;
    this.seed = args.seed ?? null;
    this.zeroOutputForMask = args.zeroOutputForMask ?? false;
    this.kernelInitializer = initializers.get(args.kernelInitializer ?? 'glorot_uniform');
    this.recurrentInitializer = initializers.get(args.recurrentInitializer ?? 'orthogonal');
    this.biasInitializer = initializers.get(args.biasInitializer ?? 'zeros');
    this.kernelRegularizer = regularizers.get(args.kernelRegularizer);
    this.recurrentRegularizer = regularizers.get(args.recurrentRegularizer);
    this.biasRegularizer = regularizers.get(args.biasRegularizer);
    this.kernelConstraint = constraints.get(args.kernelConstraint);
    this.recurrentConstraint = constraints.get(args.recurrentConstraint);
    this.biasConstraint = constraints.get(args.biasConstraint);
    this.seedGenerator = this.dropout > 0 || this.recurrentDropout > 0 ? new random.SeedGenerator(this.seed ?? undefined) : null;
    this.supportsMasking = true;
  }

  /** @internal Normalizes `(units, args)` / `({units, ...args})` constructor arguments. */
  static normalizeArgs<A extends RNNArgs>(units: number | (A & { units: number }), args: A): A & { units: number } {
    return typeof units === 'object' ? units : { ...args, units };
  }

  /** Shape of the bias weight (GRU with resetAfter: [2, 3 * units]). */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  /** The bias initializer actually used (LSTM's unitForgetBias overrides it). */
  protected biasInit(): initializers.InitializerLike {
    return this.biasInitializer;
  }

  override build(inputShape: Dim[] | Dim[][]): void {
    // A list input is [x, ...initialStates]: the weights depend on x only.
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Dim[];
    const features = shape[shape.length - 1];
    if (shape.length !== 3 || features === null) {
      incompatibleInput(this, 'expected ndim=3 ([batch, timesteps, features]) with a known features dim', shape);
    }
    const n = this.gates * this.units;
    this.kernel = this.addWeight({ name: 'kernel', shape: [features, n], initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
    this.recurrentKernel = this.addWeight({
      name: 'recurrent_kernel',
      shape: [this.units, n],
      initializer: this.recurrentInitializer,
      regularizer: this.recurrentRegularizer,
      constraint: this.recurrentConstraint,
    });
    if (this.useBias) {
      this.bias = this.addWeight({ name: 'bias', shape: this.biasShape(), initializer: this.biasInit(), regularizer: this.biasRegularizer, constraint: this.biasConstraint });
    }
    this.built = true;
  }

  /** The bias added to the input projection (all of it, except GRU resetAfter's input row). */
  protected inputBias(): Tensor | null {
    return this.bias ? this.bias.value : null;
  }

  /** Per-gate biases added to the recurrent projection (GRU resetAfter's second row); null elsewhere. */
  protected recurrentBias(): Tensor[] | null {
    return null;
  }

  /**
   * Whether `step` takes all gates together: the input projection and the recurrent kernel
   * unsplit ([.., gates * units], one entry each in `x` and `ctx.rk`), for a step that runs a
   * fused cell (LSTM and GRU with their default activations). Default: split per gate.
   */
  protected joinedGates(): boolean {
    return false;
  }

  /**
   * Every timestep in one fused kernel call, where the layer has one (LSTM and GRU with their
   * default activations: joinedGates): `xs` the time-major input projection of all gates,
   * `states` the initial states, `ctx` the recurrent kernel unsplit; `differentiable`: a
   * gradient may be taken (a GradientTape records, or a graph is built that is not for
   * inference only). Returns every step's h [steps, batch, units] and the last states after h
   * (the LSTM's carry), or null where the layer has no fused sequence. Called without a mask
   * or recurrent dropout.
   */
  protected sequence(_xs: Tensor, _states: Tensor[], _ctx: StepContext, _differentiable: boolean): { hs: Tensor; carries: Tensor[] } | null {
    return null;
  }

  /** Columns of gate `g` of a [rows, gates * units] weight (or of a [gates * units] bias). */
  protected gateOf(w: Tensor, g: number): Tensor {
    const u = this.units;
    return w.rank === 1 ? ops.slice(w, [g * u], [u]) : ops.slice(w, [0, g * u], [w.shape[0], u]);
  }

  /**
   * One timestep. `x` holds this step's input projection per gate ([batch, units] each,
   * input bias included), `states` the previous states, `h` the previous hidden state with
   * recurrent dropout applied (for the recurrent matmuls), and `ctx` the recurrent kernel
   * (and bias) split per gate.
   */
  protected abstract step(x: Tensor[], states: Tensor[], h: Tensor, ctx: StepContext): StepResult;

  override call(inputs: LayerInputs, options: RNNCallOptions = {}): LayerOutputs {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    let x = list[0];
    let initial: Tensor[] | null = null;
    if (options.initialState !== undefined && options.initialState !== null) {
      initial = Array.isArray(options.initialState) ? options.initialState : [options.initialState];
    } else if (list.length > 1) {
      initial = list.slice(1);
    }
    const features = this.kernel.shape[0];
    if (x.rank !== 3) incompatibleInput(this, 'expected ndim=3 ([batch, timesteps, features])', x.shape);
    if (x.shape[2] !== null && x.shape[2] !== features) incompatibleInput(this, `expected axis -1 of input shape to have value ${features}`, x.shape);
    const steps = x.shape[1];
    if (steps === null) {
      throw new ValueError(`${this.className} "${this.name}": the number of timesteps must be known (the loop is unrolled), received input shape ${fmtShape(x.shape)}`);
    }
    if (steps === 0) throw new ValueError(`${this.className} "${this.name}": cannot run over 0 timesteps, received input shape ${fmtShape(x.shape)}`);
    if (x.dtype !== this.kernel.dtype) x = ops.cast(x, this.kernel.dtype);
    let mask = Array.isArray(options.mask) ? (options.mask[0] ?? null) : (options.mask ?? null);
    if (mask) {
      if (mask.rank !== 2 || (mask.shape[1] !== null && mask.shape[1] !== steps)) {
        throw new ValueError(`${this.className} "${this.name}": mask must have shape [batch, ${steps}], received ${fmtShape(mask.shape)} for input ${fmtShape(x.shape)}`);
      }
      if (mask.dtype !== 'bool') mask = ops.cast(mask, 'bool');
    }
    if (this.goBackwards) {
      x = ops.flip(x, 1);
      if (mask) mask = ops.flip(mask, 1);
    }
    if (options.training && this.dropout > 0) {
      // Keras draws one input dropout mask per sequence and reuses it at every timestep.
      x = random.dropout(x, this.dropout, { noiseShape: [null, 1, null], seed: this.seedGenerator });
    }
    // The input projection of every timestep at once, one matmul per gate (or one for all of
    // them: joinedGates), kept as separate tensors so each step reads its gates without slicing;
    // time-major, so a timestep is a leading-axis selection. The input is transposed (once), not
    // each gate's projection: in an LSTM(128) over 64 features that is one transpose of half the
    // bytes instead of four.
    const kernel = this.kernel.value;
    const bias = this.inputBias();
    const joined = this.joinedGates();
    const gateOf = (w: Tensor, g: number) => (joined ? w : this.gateOf(w, g));
    const xT = ops.transpose(x, [1, 0, 2]);
    const projT: Tensor[] = [];
    for (let g = 0; g < (joined ? 1 : this.gates); g++) {
      const p = ops.matmul(xT, gateOf(kernel, g));
      projT.push(bias ? ops.add(p, gateOf(bias, g)) : p);
    }
    const maskT = mask ? ops.transpose(mask, [1, 0]) : null;
    const first = timestep(projT[0], 0);
    const zeroState = ops.add(ops.zerosLike(ops.sum(first, -1, true)), ops.zeros([this.units], first.dtype));
    const rk = this.recurrentKernel.value;
    const ctx: StepContext = { rk: joined ? [rk] : Array.from({ length: this.gates }, (_, g) => this.gateOf(rk, g)), rb: this.recurrentBias() };
    let states: Tensor[];
    if (initial) {
      if (initial.length !== this.stateCount) {
        throw new ValueError(`${this.className} "${this.name}": expected ${this.stateCount} initial state tensor(s), received ${initial.length}`);
      }
      states = initial.map((s, i) => {
        if (s.rank !== 2 || (s.shape[1] !== null && s.shape[1] !== this.units)) {
          throw new ValueError(`${this.className} "${this.name}": initial state ${i} must have shape [batch, ${this.units}], received ${fmtShape(s.shape)}`);
        }
        return s.dtype === first.dtype ? s : ops.cast(s, first.dtype);
      });
    } else {
      states = Array.from({ length: this.stateCount }, () => zeroState);
    }
    const recMask = options.training && this.recurrentDropout > 0 ? random.dropout(ops.onesLike(zeroState), this.recurrentDropout, { seed: this.seedGenerator }) : null;
    // The whole sequence as one kernel (an LSTM(128) over 50 steps: 200 ops and their JavaScript
    // in one call, its rows in blocks over threads). A gradient may be taken under a
    // GradientTape, and in a graph not traced for inference only (a train step; a functional
    // model's symbolic call).
    const trace = currentTrace();
    const differentiable = isRecording() || (trace ? !trace.inference : x.isSymbolic);
    const fused = joined && !maskT && !recMask ? this.sequence(projT[0]!, states, ctx, differentiable) : null;
    if (fused) {
      const last = [timestep(fused.hs, steps - 1), ...fused.carries];
      const out = this.returnSequences ? ops.transpose(fused.hs, [1, 0, 2]) : last[0]!;
      return this.returnState ? [out, ...last] : out;
    }
    let prevOutput = zeroState;
    const outputs: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const xt = projT.map((p) => timestep(p, t));
      const h = recMask ? ops.multiply(states[0], recMask) : states[0];
      let { output, states: next } = this.step(xt, states, h, ctx);
      if (maskT) {
        // Masked timesteps carry the previous states (and output, unless zeroOutputForMask) forward (Keras).
        const m = ops.expandDims(ops.take(maskT, t, 0), -1);
        next = next.map((s, i) => ops.where(m, s, states[i]));
        output = ops.where(m, output, this.zeroOutputForMask ? 0 : prevOutput);
      }
      states = next;
      prevOutput = output;
      if (this.returnSequences) outputs.push(output);
    }
    const out = this.returnSequences ? ops.stack(outputs, 1) : prevOutput;
    return this.returnState ? [out, ...states] : out;
  }

  /** The sequence mask passes on with returnSequences; states carry none (Keras). */
  override computeMask(_inputs: LayerInputs, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const outMask = this.returnSequences ? m : null;
    return this.returnState ? [outMask, ...Array.from({ length: this.stateCount }, () => null)] : outMask;
  }

  override getConfig(): Record<string, unknown> {
    const ser = <T>(v: T | null, f: (x: T) => unknown) => (v ? f(v) : null);
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activations.serialize(this.activation),
      useBias: this.useBias,
      kernelInitializer: initializers.serialize(this.kernelInitializer),
      recurrentInitializer: initializers.serialize(this.recurrentInitializer),
      biasInitializer: initializers.serialize(this.biasInitializer),
      kernelRegularizer: ser(this.kernelRegularizer, regularizers.serialize),
      recurrentRegularizer: ser(this.recurrentRegularizer, regularizers.serialize),
      biasRegularizer: ser(this.biasRegularizer, regularizers.serialize),
      kernelConstraint: ser(this.kernelConstraint, constraints.serialize),
      recurrentConstraint: ser(this.recurrentConstraint, constraints.serialize),
      biasConstraint: ser(this.biasConstraint, constraints.serialize),
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
      stateful: this.stateful,
      unroll: this.unroll,
      seed: this.seed,
      zeroOutputForMask: this.zeroOutputForMask,
    };
  }
}
