/**
 * MultiHeadAttention (Vaswani et al. 2017) as Keras 3 builds it: EinsumDense
 * projections of query, key and value into [.., numHeads, keyDim|valueDim], scaled
 * dot-product attention over `attentionAxes` with a masked softmax, and an EinsumDense
 * output projection from [.., numHeads, valueDim] back to the query's feature size.
 *
 * Calling convention: Keras' `layer(query, value, key)` takes several tensors, while
 * `Layer.apply` takes one inputs argument, so the layer is called as
 * `apply([query, value])` or `apply([query, value, key])` with Keras' keyword arguments
 * in the options object; `callAttention(query, value, key?, options)` is the same call
 * with Keras' positional order.
 */
import * as initializers from '../../initializers/index.js';
import * as regularizers from '../../regularizers/index.js';
import * as constraints from '../../constraints/index.js';
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import * as random from '../../random/index.js';
import type { TensorLike } from '../../ops/common.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { EinsumDense } from '../core/einsum_dense.js';
import { Layer, incompatibleInput, type CallOptions, type LayerArgs, type LayerInputs, type LayerOutputs } from '../layer.js';
import { registerLayerClass } from '../registry.js';

export interface MultiHeadAttentionArgs extends LayerArgs {
  /** Size of each attention head for value; default keyDim. */
  valueDim?: number | null;
  /** Dropout rate on the attention probabilities. */
  dropout?: number;
  useBias?: boolean;
  /** Output feature shape (without batch and attention dims); default the query's last dim. */
  outputShape?: number | number[] | null;
  /** Axes attention runs over (of the query/key tensors); default all but batch, heads and features. */
  attentionAxes?: number | number[] | null;
  kernelInitializer?: initializers.InitializerLike;
  biasInitializer?: initializers.InitializerLike;
  kernelRegularizer?: regularizers.RegularizerLike | null;
  biasRegularizer?: regularizers.RegularizerLike | null;
  activityRegularizer?: regularizers.RegularizerLike | null;
  kernelConstraint?: constraints.ConstraintLike | null;
  biasConstraint?: constraints.ConstraintLike | null;
  seed?: number | null;
}

/** Keras' keyword arguments of `MultiHeadAttention.call`. */
export interface AttentionCallOptions extends CallOptions {
  /** Boolean [batch, T, S] (or broadcastable): true where query position t may attend to key position s. */
  attentionMask?: TensorLike | null;
  /** Also return the attention probabilities [batch, numHeads, T, S]. */
  returnAttentionScores?: boolean;
  /** Each query position attends only to key positions at or before it. */
  useCausalMask?: boolean;
  /** Masks of the query [batch, T] and value/key [batch, S]; by default taken from the inputs (Embedding maskZero). */
  queryMask?: Tensor | null;
  valueMask?: Tensor | null;
  keyMask?: Tensor | null;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Keras' `_build_proj_equation`: einsum, bias axes and output rank of a projection. */
function projEquation(freeDims: number, boundDims: number, outputDims: number): { equation: string; biasAxes: string; outputRank: number } {
  let input = '';
  let kernel = '';
  let output = '';
  let biasAxes = '';
  let offset = 0;
  for (let i = 0; i < freeDims; i++) {
    input += LETTERS[i + offset];
    output += LETTERS[i + offset];
  }
  offset += freeDims;
  for (let i = 0; i < boundDims; i++) {
    input += LETTERS[i + offset];
    kernel += LETTERS[i + offset];
  }
  offset += boundDims;
  for (let i = 0; i < outputDims; i++) {
    kernel += LETTERS[i + offset];
    output += LETTERS[i + offset];
    biasAxes += LETTERS[i + offset];
  }
  return { equation: `${input},${kernel}->${output}`, biasAxes, outputRank: output.length };
}

/** Keras' `_get_output_shape`: unknown leading dims, then the known last dims. */
function outputShapeOf(rank: number, known: number[]): Dim[] {
  return [...Array.from({ length: rank - known.length }, () => null), ...known];
}

/**
 * Keras' `_build_attention_equation` for projected tensors of `rank` ([batch, ..., heads, dim]):
 * the query·key einsum, the probabilities·value einsum, and the scores' rank.
 */
function attentionEquations(rank: number, attnAxes: number[]): { dot: string; combine: string; scoresRank: number } {
  const target = LETTERS.slice(0, rank);
  const batchDims = [...Array(rank).keys()].filter((i) => !attnAxes.includes(i) && i !== rank - 1);
  let offset = rank;
  let source = '';
  for (let i = 0; i < rank; i++) {
    if (batchDims.includes(i) || i === rank - 1) source += target[i];
    else source += LETTERS[offset++];
  }
  const product = [...batchDims.map((i) => target[i]), ...attnAxes.map((i) => target[i]), ...attnAxes.map((i) => source[i])].join('');
  return { dot: `${source},${target}->${product}`, combine: `${product},${source}->${target}`, scoresRank: product.length };
}

/**
 * Keras' MultiHeadAttention. Weights (Keras order): query kernel [dim, numHeads, keyDim]
 * and bias [numHeads, keyDim], key kernel/bias, value kernel [dim, numHeads, valueDim] and
 * bias, output kernel [numHeads, valueDim, outputDim] and bias [outputDim].
 *
 * ```ts
 * const mha = new layers.MultiHeadAttention(2, 16);
 * const y = mha.apply([query, value], { useCausalMask: true });
 * const [out, scores] = mha.callAttention(query, value, undefined, { returnAttentionScores: true }) as Tensor[];
 * ```
 */
export class MultiHeadAttention extends Layer {
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly outputShape: number[] | null;
  readonly attentionAxes: number[] | null;
  readonly seed: number | null;
  // Declared in Keras' weight order: query, key, value, output.
  queryDense: EinsumDense | null = null;
  keyDense: EinsumDense | null = null;
  valueDense: EinsumDense | null = null;
  outputDense: EinsumDense | null = null;
  private attnAxes: number[] = [];
  private dotEquation = '';
  private combineEquation = '';
  private scoresRank = 0;
  /** Whether the current call returns [output, scores] (read by computeMask, which runs right after call). */
  private returningScores = false;
  private readonly kernelInitializer: initializers.Initializer;
  private readonly biasInitializer: initializers.Initializer;
  private readonly kernelRegularizer: regularizers.Regularizer | null;
  private readonly biasRegularizer: regularizers.Regularizer | null;
  private readonly kernelConstraint: constraints.Constraint | null;
  private readonly biasConstraint: constraints.Constraint | null;
  private readonly seedGenerator: random.SeedGenerator | null;

  constructor(
    numHeads: number | (MultiHeadAttentionArgs & { numHeads: number; keyDim: number }),
    keyDim?: number,
    args: MultiHeadAttentionArgs = {},
  ) {
    const opts = typeof numHeads === 'object' ? numHeads : { ...args, numHeads, keyDim: keyDim as number };
    super(opts);
    for (const key of ['numHeads', 'keyDim'] as const) {
      if (!Number.isInteger(opts[key]) || opts[key] <= 0) throw new ValueError(`MultiHeadAttention: ${key} must be a positive integer, received ${opts[key]}`);
    }
    const valueDim = opts.valueDim ?? opts.keyDim;
    if (!Number.isInteger(valueDim) || valueDim <= 0) throw new ValueError(`MultiHeadAttention: valueDim must be a positive integer, received ${valueDim}`);
    const rate = opts.dropout ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new ValueError(`MultiHeadAttention: dropout must be in [0, 1], received ${rate}`);
    this.numHeads = opts.numHeads;
    this.keyDim = opts.keyDim;
    this.valueDim = valueDim;
    this.dropout = rate;
    this.useBias = opts.useBias ?? true;
    const os = opts.outputShape ?? null;
    this.outputShape = os === null ? null : Array.isArray(os) ? [...os] : [os];
    const axes = opts.attentionAxes ?? null;
    this.attentionAxes = axes === null ? null : Array.isArray(axes) ? [...axes] : [axes];
    this.seed = opts.seed ?? null;
    this.kernelInitializer = initializers.get(opts.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = initializers.get(opts.biasInitializer ?? 'zeros');
    this.kernelRegularizer = regularizers.get(opts.kernelRegularizer);
    this.biasRegularizer = regularizers.get(opts.biasRegularizer);
    this.kernelConstraint = constraints.get(opts.kernelConstraint);
    this.biasConstraint = constraints.get(opts.biasConstraint);
    this.seedGenerator = this.dropout > 0 ? new random.SeedGenerator(this.seed ?? undefined) : null;
    this.supportsMasking = true;
  }

  private dense(name: string, equation: string, outputShape: Dim[], biasAxes: string): EinsumDense {
    return new EinsumDense(equation, outputShape, {
      name,
      dtype: this.dtype,
      biasAxes: this.useBias ? biasAxes : null,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
      kernelConstraint: this.kernelConstraint,
      biasConstraint: this.biasConstraint,
    });
  }

  /** Builds from `[queryShape, valueShape, keyShape?]` (Keras' build(query_shape, value_shape, key_shape)). */
  override build(inputShape: Dim[] | Dim[][]): void {
    if (!Array.isArray(inputShape[0])) {
      throw new ValueError(`MultiHeadAttention "${this.name}": call it on [query, value] or [query, value, key], received a single tensor of shape ${fmtShape(inputShape as Dim[])}`);
    }
    const [queryShape, valueShape, keyShape = valueShape] = inputShape as Dim[][];
    this.checkShapes(queryShape, valueShape, keyShape);
    const qRank = queryShape.length;
    const q = projEquation(qRank - 1, 1, 2);
    this.queryDense = this.dense('query', q.equation, outputShapeOf(q.outputRank - 1, [this.numHeads, this.keyDim]), q.biasAxes);
    this.queryDense.build(queryShape);
    const k = projEquation(keyShape.length - 1, 1, 2);
    this.keyDense = this.dense('key', k.equation, outputShapeOf(k.outputRank - 1, [this.numHeads, this.keyDim]), k.biasAxes);
    this.keyDense.build(keyShape);
    const v = projEquation(valueShape.length - 1, 1, 2);
    this.valueDense = this.dense('value', v.equation, outputShapeOf(v.outputRank - 1, [this.numHeads, this.valueDim]), v.biasAxes);
    this.valueDense.build(valueShape);
    // Attention over the projected rank (query rank + 1: the heads axis).
    const rank = q.outputRank;
    const axes = this.attentionAxes ?? [...Array(rank - 3).keys()].map((i) => i + 1);
    this.attnAxes = axes.map((a) => (a < 0 ? a + rank - 1 : a));
    for (const a of this.attnAxes) {
      if (!Number.isInteger(a) || a < 1 || a >= rank - 2) {
        throw new ValueError(`MultiHeadAttention "${this.name}": attentionAxes ${JSON.stringify(this.attentionAxes)} must name axes of the query ${fmtShape(queryShape)} other than batch and features`);
      }
    }
    const eqs = attentionEquations(rank, this.attnAxes);
    this.dotEquation = eqs.dot;
    this.combineEquation = eqs.combine;
    this.scoresRank = eqs.scoresRank;
    const out = this.outputShape ?? [queryShape[qRank - 1] as number];
    const o = projEquation(qRank - 1, 2, out.length);
    this.outputDense = this.dense('attention_output', o.equation, outputShapeOf(o.outputRank - 1, out), o.biasAxes);
    this.outputDense.build([...queryShape.slice(0, -1), this.numHeads, this.valueDim]);
    this.built = true;
  }

  private checkShapes(query: Dim[], value: Dim[], key: Dim[]): void {
    if (query.length < 3) incompatibleInput(this, 'expected query of rank >= 3 ([batch, ..., features])', query, 0);
    if (value.length !== query.length) incompatibleInput(this, `expected value of the query's rank ${query.length}`, value, 1);
    if (key.length !== value.length || key.slice(1, -1).some((d, i) => d !== null && value[i + 1] !== null && d !== value[i + 1])) {
      throw new ShapeError(`MultiHeadAttention "${this.name}": all dimensions of value and key, except the last one, must be equal; received value ${fmtShape(value)} and key ${fmtShape(key)}`);
    }
  }

  /** Keras' `_compute_attention_mask`: query/value/key masks, the causal mask and attentionMask, and-ed. */
  private attentionMask(query: Tensor, value: Tensor, o: AttentionCallOptions, masks: (Tensor | null)[]): Tensor | null {
    const queryMask = o.queryMask ?? masks[0] ?? null;
    const valueMask = o.valueMask ?? masks[1] ?? null;
    const keyMask = o.keyMask ?? masks[2] ?? null;
    let auto: Tensor | null = null;
    const and = (m: Tensor) => (auto = auto === null ? m : ops.logicalAnd(auto, m));
    if (queryMask) and(ops.expandDims(ops.cast(queryMask, 'bool'), -1));
    if (valueMask) and(ops.expandDims(ops.cast(valueMask, 'bool'), -2));
    if (keyMask) and(ops.expandDims(ops.cast(keyMask, 'bool'), -2));
    if (o.useCausalMask) {
      const tq = query.shape[1];
      const tv = value.shape[1];
      if (tq === null || tv === null) {
        throw new ValueError(`MultiHeadAttention "${this.name}": useCausalMask needs known sequence lengths, received query ${fmtShape(query.shape)} and value ${fmtShape(value.shape)}`);
      }
      // Keras: row index >= column index, over [1, T, S].
      and(ops.expandDims(ops.tri(tq, tv, 0, 'bool'), 0));
    }
    let mask = o.attentionMask === undefined || o.attentionMask === null ? null : ops.cast(o.attentionMask, 'bool');
    if (auto) mask = mask === null ? auto : ops.logicalAnd(mask, auto);
    return mask;
  }

  /** Softmax over the key axes with masked positions excluded (Keras' Softmax layer with a mask). */
  private maskedSoftmax(scores: Tensor, mask: Tensor | null): Tensor {
    const normAxes = this.attnAxes.map((_, i) => this.scoresRank - this.attnAxes.length + i);
    if (mask === null) return ops.softmax(scores, normAxes);
    let m = mask;
    // Insert the heads (and other batch-like) axes in front of the attention axes, as Keras.
    const expansionAxis = -this.attnAxes.length * 2 - 1;
    while (m.rank < scores.rank) m = ops.expandDims(m, expansionAxis);
    const mf = ops.cast(m, scores.dtype);
    const adder = ops.multiply(ops.subtract(1, mf), -1e9);
    const probs = ops.softmax(ops.add(scores, adder), normAxes);
    // Rows with every position masked come out as zeros rather than uniform.
    return ops.multiply(probs, mf);
  }

  override call(inputs: LayerInputs, options: AttentionCallOptions = {}): LayerOutputs {
    if (!Array.isArray(inputs) || inputs.length < 2 || inputs.length > 3) {
      throw new ValueError(`MultiHeadAttention "${this.name}": call it on [query, value] or [query, value, key]${Array.isArray(inputs) ? `, received ${inputs.length} tensors` : `, received one tensor of shape ${fmtShape((inputs as Tensor).shape)}`}`);
    }
    const [query, value, key = value] = inputs;
    this.returningScores = !!options.returnAttentionScores;
    const qd = this.queryDense!;
    const kd = this.keyDense!;
    const vd = this.valueDense!;
    const check = (t: Tensor, d: EinsumDense, i: number) => {
      const want = d.kernel.shape[0];
      if (t.rank !== (d.fullOutputShape?.length ?? 0) - 1 || (t.shape[t.rank - 1] !== null && t.shape[t.rank - 1] !== want)) {
        incompatibleInput(this, `expected input ${i} of rank ${(d.fullOutputShape?.length ?? 0) - 1} with axis -1 of value ${want}`, t.shape, i);
      }
    };
    check(query, qd, 0);
    check(value, vd, 1);
    check(key, kd, 2);
    this.checkShapes(query.shape, value.shape, key.shape);
    const masks = Array.isArray(options.mask) ? options.mask : [options.mask ?? null];
    const mask = this.attentionMask(query, value, options, masks);
    // [B, T, N, H]; the query is scaled before the dot product, as Keras.
    let q = qd.apply(query) as Tensor;
    const k = kd.apply(key) as Tensor;
    const v = vd.apply(value) as Tensor;
    q = ops.multiply(q, 1 / Math.sqrt(this.keyDim));
    const scores = ops.einsum(this.dotEquation, k, q);
    const probs = this.maskedSoftmax(scores, mask);
    const dropped = options.training && this.dropout > 0 ? random.dropout(probs, this.dropout, { seed: this.seedGenerator }) : probs;
    const context = ops.einsum(this.combineEquation, dropped, v);
    const out = this.outputDense!.apply(context) as Tensor;
    return options.returnAttentionScores ? [out, probs] : out;
  }

  /**
   * Keras' `mha(query, value, key, ...)` with positional tensors: the same as
   * `apply(key ? [query, value, key] : [query, value], options)`.
   */
  callAttention(query: TensorLike, value: TensorLike, key?: TensorLike | null, options: AttentionCallOptions = {}): LayerOutputs {
    return this.apply(key === undefined || key === null ? [query, value] : [query, value, key], options);
  }

  /** The output carries the query's mask; the attention scores carry none. */
  override computeMask(_inputs: LayerInputs, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    const queryMask = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    return this.returningScores ? [queryMask, null] : queryMask;
  }

  override getConfig(): Record<string, unknown> {
    const ser = <T>(v: T | null, f: (x: T) => unknown) => (v ? f(v) : null);
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputShape: this.outputShape,
      attentionAxes: this.attentionAxes,
      kernelInitializer: initializers.serialize(this.kernelInitializer),
      biasInitializer: initializers.serialize(this.biasInitializer),
      kernelRegularizer: ser(this.kernelRegularizer, regularizers.serialize),
      biasRegularizer: ser(this.biasRegularizer, regularizers.serialize),
      kernelConstraint: ser(this.kernelConstraint, constraints.serialize),
      biasConstraint: ser(this.biasConstraint, constraints.serialize),
      seed: this.seed,
    };
  }
}

registerLayerClass('MultiHeadAttention', MultiHeadAttention);
