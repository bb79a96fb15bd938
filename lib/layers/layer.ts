/**
 * The Layer base: built on first call from input shapes, owns weights
 * (keras.Variable), tracks sublayers, propagates the training flag and masks,
 * and records call nodes on symbolic inputs for functional models.
 */
import { FLOATX, parseDType, type DType } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { eagerly, run1 } from '../engine.js';
import { convertToTensor, type TensorLike } from '../ops/common.js';
import type { Dim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { getKerasMask, setKerasMask } from '../mask.js';
import { Variable } from '../variable.js';
import * as initializers from '../initializers/index.js';
import * as regularizers from '../regularizers/index.js';
import * as constraints from '../constraints/index.js';

/** Options every `call` receives. `training` is set by the framework (fit: true; evaluate/predict: false). */
export interface CallOptions {
  training?: boolean;
  mask?: Tensor | null | (Tensor | null)[];
  [key: string]: unknown;
}

/** Arguments every layer accepts (Keras' base Layer kwargs). */
export interface LayerArgs {
  name?: string;
  trainable?: boolean;
  dtype?: DType;
  /** Shape of one sample, for the first layer of a Sequential model. */
  inputShape?: Dim[];
  batchSize?: number | null;
  /** Full input shape including the batch dimension. */
  batchInputShape?: Dim[];
  /** A penalty on the layer's outputs, added to the loss on every call. */
  activityRegularizer?: regularizers.RegularizerLike | null;
}

export type LayerInputs = Tensor | Tensor[];
export type LayerOutputs = Tensor | Tensor[];

/** Where a symbolic tensor came from in a functional graph. */
export interface LayerNode {
  layer: Layer;
  inputs: Tensor[];
  /** The inputs' structure: a single tensor or a list. */
  single: boolean;
  outputs: Tensor[];
  options: Omit<CallOptions, 'training' | 'mask'>;
}

const history = new WeakMap<Tensor, { node: LayerNode; index: number }>();

/** The layer call that produced a symbolic tensor, if any. */
export function kerasHistory(t: Tensor): { node: LayerNode; index: number } | undefined {
  return history.get(t);
}

/** Registers a layer call on symbolic tensors as the origin of its outputs. */
export function recordNode(node: LayerNode): void {
  node.layer.inboundNodes.push(node);
  node.outputs.forEach((t, index) => history.set(t, { node, index }));
}

/** The mask attached to a tensor (by Embedding(maskZero) or a masking layer). */
export function maskOf(t: Tensor): Tensor | undefined {
  return getKerasMask(t);
}

export function setMask(t: Tensor, mask: Tensor | null | undefined): void {
  setKerasMask(t, mask);
}

const usedNames = new Map<string, number>();

/** Keras-style unique names: dense, dense_1, dense_2... */
export function uniqueLayerName(base: string): string {
  const n = usedNames.get(base) ?? 0;
  usedNames.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** The training flag of the enclosing layer call, inherited by nested layers. */
const trainingStack: boolean[] = [];

export interface AddWeightOptions {
  shape: number[];
  initializer?: initializers.InitializerLike;
  dtype?: DType;
  trainable?: boolean;
  regularizer?: regularizers.RegularizerLike | null;
  constraint?: constraints.ConstraintLike | null;
  name?: string;
}

export class Layer {
  name: string;
  readonly dtype: DType;
  built = false;
  /** True if `call` understands a mask and passes it on. */
  supportsMasking = false;
  /** Declared input shape (with batch dim), from inputShape/batchInputShape. */
  batchInputShape?: Dim[];
  private trainableFlag: boolean;
  protected readonly activityRegularizer: regularizers.Regularizer | null;
  private readonly ownWeights: Variable[] = [];
  private readonly weightRegularizers = new Map<Variable, regularizers.Regularizer>();
  private readonly weightConstraints = new Map<Variable, constraints.Constraint>();
  private callLosses: Tensor[] = [];
  /** Nodes created by calling this layer on symbolic tensors. */
  readonly inboundNodes: LayerNode[] = [];

  constructor(args: LayerArgs = {}) {
    this.name = args.name ?? uniqueLayerName(snakeCase(new.target.name));
    this.trainableFlag = args.trainable ?? true;
    this.dtype = args.dtype ? parseDType(args.dtype, `${this.name}`) : FLOATX;
    this.activityRegularizer = args.activityRegularizer ? regularizers.get(args.activityRegularizer) : null;
    if (args.batchInputShape) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
  }

  /** Class name used in configs and summaries. */
  get className(): string {
    return this.constructor.name;
  }

  /** Creates the layer's weights from the input shape. Subclasses call `super.build` or set `built`. */
  build(_inputShape: Dim[] | Dim[][]): void {
    this.built = true;
  }

  /** The layer's computation. */
  call(inputs: LayerInputs, _options: CallOptions = {}): LayerOutputs {
    return inputs;
  }

  /** Output mask; by default the input mask passes through layers that support masking. */
  computeMask(_inputs: LayerInputs, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    if (!this.supportsMasking) return null;
    return mask ?? null;
  }

  /** Output shape for an input shape, by running `call` symbolically (Keras' compute_output_spec). */
  computeOutputShape(inputShape: Dim[] | Dim[][]): Dim[] | Dim[][] {
    const isList = Array.isArray(inputShape[0]) || inputShape.length === 0 ? Array.isArray(inputShape[0]) : false;
    const shapes = (isList ? inputShape : [inputShape]) as Dim[][];
    const symbolic = shapes.map((s) => new Tensor({ shape: s as number[], dtype: this.dtype, symbolicSource: 'shape' }));
    const out = this.apply(isList ? symbolic : symbolic[0]);
    return Array.isArray(out) ? out.map((t) => t.shape as Dim[]) : (out.shape as Dim[]);
  }

  /**
   * Calls the layer (Keras' `layer(inputs)`): builds it on first use, resolves the
   * training flag (explicit, else the enclosing call's, else false), passes masks,
   * and records a node when called on symbolic tensors.
   */
  apply(inputs: TensorLike | TensorLike[], options: CallOptions = {}): LayerOutputs {
    const single = !Array.isArray(inputs) || (inputs.length > 0 && typeof inputs[0] === 'number');
    const list = single ? [convertToTensor(inputs as TensorLike, null, this.name)] : (inputs as TensorLike[]).map((x) => convertToTensor(x, null, this.name));
    const structured: LayerInputs = single ? list[0] : list;
    if (!this.built) {
      const shapes = list.map((t) => t.shape as Dim[]);
      this.checkDeclaredShape(shapes);
      eagerly(() => this.build(single ? shapes[0] : shapes));
      this.built = true;
    }
    const training = options.training ?? (trainingStack.length ? trainingStack[trainingStack.length - 1] : false);
    let mask = options.mask;
    if (mask === undefined) {
      const found = list.map((t) => getKerasMask(t) ?? null);
      if (found.some((m) => m !== null)) mask = single ? found[0] : found;
    }
    trainingStack.push(training);
    let outputs: LayerOutputs;
    try {
      outputs = this.call(structured, { ...options, training, mask });
    } finally {
      trainingStack.pop();
    }
    let outList = Array.isArray(outputs) ? outputs : [outputs];
    if (list.some((t) => t.isSymbolic) && outList.some((t) => list.includes(t))) {
      // A layer that passes its input through (Identity, Dropout at inference) still needs a
      // distinct output tensor, or the functional graph would see a cycle.
      outList = outList.map((t) => (list.includes(t) ? run1('identity', [t]) : t));
      outputs = Array.isArray(outputs) ? outList : outList[0];
    }
    if (this.activityRegularizer) for (const t of outList) this.addLoss(this.activityRegularizer.call(t));
    const outMask = this.computeMask(structured, mask ?? null);
    outList.forEach((t, i) => setMask(t, Array.isArray(outMask) ? outMask[i] : outMask));
    if (list.some((t) => t.isSymbolic) && outList.every((t) => t.isSymbolic)) {
      const { training: _t, mask: _m, ...rest } = options;
      recordNode({ layer: this, inputs: list, single, outputs: outList, options: rest });
    }
    return outputs;
  }

  private checkDeclaredShape(shapes: Dim[][]): void {
    const declared = this.batchInputShape;
    if (!declared || shapes.length !== 1) return;
    const got = shapes[0];
    const ok = got.length === declared.length && declared.every((d, i) => i === 0 || d === null || got[i] === null || d === got[i]);
    if (!ok) {
      throw new ShapeError(`Input 0 of layer "${this.name}" is incompatible with the layer: expected shape=${fmtShape(declared)}, found shape=${fmtShape(got)}`);
    }
  }

  /** Creates a weight variable with an initializer, and registers its regularizer and constraint. */
  addWeight(options: AddWeightOptions): Variable {
    const dtype = options.dtype ?? this.dtype;
    const init = initializers.get(options.initializer ?? (dtype.startsWith('float') ? 'glorot_uniform' : 'zeros'));
    for (const d of options.shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new ShapeError(`layer "${this.name}": cannot create weight ${options.name ?? ''} with shape ${fmtShape(options.shape)}; all dims must be known non-negative integers`);
      }
    }
    const variable = new Variable(() => init.call(options.shape, dtype), {
      name: `${this.name}/${options.name ?? 'weight'}`,
      trainable: options.trainable ?? true,
      dtype,
    });
    this.ownWeights.push(variable);
    if (options.regularizer) this.weightRegularizers.set(variable, regularizers.get(options.regularizer)!);
    if (options.constraint) this.weightConstraints.set(variable, constraints.get(options.constraint)!);
    return variable;
  }

  /** Adds an activity loss during `call` (collected by `losses`). */
  addLoss(loss: Tensor): void {
    this.callLosses.push(loss);
  }

  /** Sublayers found in this layer's own properties (directly, in arrays, or in plain objects). */
  get layers(): Layer[] {
    const found: Layer[] = [];
    const seen = new Set<unknown>([this]);
    const visit = (v: unknown, depth: number) => {
      if (!v || typeof v !== 'object' || seen.has(v) || depth > 3) return;
      seen.add(v);
      if (v instanceof Layer) found.push(v);
      else if (Array.isArray(v)) v.forEach((x) => visit(x, depth + 1));
      else if (Object.getPrototypeOf(v) === Object.prototype || v instanceof Map) {
        (v instanceof Map ? [...v.values()] : Object.values(v)).forEach((x) => visit(x, depth + 1));
      }
    };
    for (const [key, value] of Object.entries(this)) {
      if (key === 'inboundNodes' || key === 'ownWeights') continue;
      visit(value, 0);
    }
    return found;
  }

  /** Whether weights are updated by training; setting it recurses into sublayers. */
  get trainable(): boolean {
    return this.trainableFlag;
  }

  set trainable(value: boolean) {
    this.trainableFlag = value;
    for (const l of this.layers) l.trainable = value;
  }

  private collectWeights(filter: (v: Variable, owner: Layer) => boolean): Variable[] {
    const out: Variable[] = [];
    const seen = new Set<Variable>();
    const walk = (layer: Layer) => {
      for (const v of layer.ownWeights) if (!seen.has(v) && filter(v, layer)) (seen.add(v), out.push(v));
      for (const l of layer.layers) walk(l);
    };
    walk(this);
    return out;
  }

  /** All weights, own first, then sublayers'. */
  get weights(): Variable[] {
    return this.collectWeights(() => true);
  }

  /** Weights updated by the optimizer: trainable variables of trainable layers. */
  get trainableWeights(): Variable[] {
    if (!this.trainable) return [];
    const out: Variable[] = [];
    const seen = new Set<Variable>();
    const walk = (layer: Layer) => {
      if (!layer.trainable) return;
      for (const v of layer.ownWeights) if (v.trainable && !seen.has(v)) (seen.add(v), out.push(v));
      for (const l of layer.layers) walk(l);
    };
    walk(this);
    return out;
  }

  get nonTrainableWeights(): Variable[] {
    const trainable = new Set(this.trainableWeights);
    return this.weights.filter((v) => !trainable.has(v));
  }

  get trainableVariables(): Variable[] {
    return this.trainableWeights;
  }

  get nonTrainableVariables(): Variable[] {
    return this.nonTrainableWeights;
  }

  get variables(): Variable[] {
    return this.weights;
  }

  /** Regularization penalties of all weights plus activity losses of the last call (ops: traceable). */
  get losses(): Tensor[] {
    const out: Tensor[] = [];
    const walk = (layer: Layer) => {
      for (const [v, r] of layer.weightRegularizers) if (layer.trainable) out.push(r.call(v.value));
      out.push(...layer.callLosses);
      for (const l of layer.layers) walk(l);
    };
    walk(this);
    return out;
  }

  /** @internal Clears activity losses before a new forward pass. */
  resetCallLosses(): void {
    this.callLosses = [];
    for (const l of this.layers) l.resetCallLosses();
  }

  /** @internal Applies weight constraints after an optimizer step. */
  constraintUpdates(): [Variable, constraints.Constraint][] {
    const out: [Variable, constraints.Constraint][] = [];
    const walk = (layer: Layer) => {
      out.push(...layer.weightConstraints);
      for (const l of layer.layers) walk(l);
    };
    walk(this);
    return out;
  }

  /** Total number of weight elements. */
  countParams(): number {
    if (!this.built) throw new ValueError(`layer "${this.name}" is not built yet; call it on data or build it first to count its parameters`);
    return this.weights.reduce((n, v) => n + v.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Weight values as TypedArrays, in `weights` order. */
  getWeights(): Tensor[] {
    return this.weights.map((v) => v.value);
  }

  /** Sets weight values, in `weights` order, checking shapes. */
  setWeights(values: TensorLike[]): void {
    const vars = this.weights;
    if (values.length !== vars.length) {
      throw new ValueError(`layer "${this.name}": setWeights expected ${vars.length} arrays, received ${values.length}`);
    }
    vars.forEach((v, i) => {
      const t = convertToTensor(values[i], v.dtype, this.name);
      if (t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k])) {
        throw new ShapeError(`layer "${this.name}": weight ${v.name} expects shape ${fmtShape(v.shape)}, received ${fmtShape(t.shape)}`);
      }
      v.assign(t);
    });
  }

  /** Serializable constructor arguments (Keras get_config). */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: this.dtype };
    if (this.activityRegularizer) config.activityRegularizer = regularizers.serialize(this.activityRegularizer);
    if (this.batchInputShape) config.batchInputShape = this.batchInputShape;
    return config;
  }

  /** Recreates a layer from `getConfig()` output. */
  static fromConfig<T extends Layer>(this: new (...args: any[]) => T, config: Record<string, unknown>): T {
    return new this(config);
  }

  toString(): string {
    return `<${this.className} name=${this.name}, built=${this.built}>`;
  }
}

/** Throws a Keras-style incompatibility error for a layer input. */
export function incompatibleInput(layer: Layer, expected: string, received: readonly Dim[], index = 0): never {
  throw new ShapeError(`Input ${index} of layer "${layer.name}" is incompatible with the layer: ${expected}, received shape ${fmtShape(received)}`);
}

