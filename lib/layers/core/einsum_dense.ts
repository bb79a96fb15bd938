/**
 * EinsumDense: a dense layer whose contraction is an einsum equation
 * `input,kernel->output`, with the kernel and bias shapes derived from it (Keras).
 */
import * as activations from '../../activations/index.js';
import * as initializers from '../../initializers/index.js';
import * as regularizers from '../../regularizers/index.js';
import * as constraints from '../../constraints/index.js';
import { ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Variable } from '../../variable.js';
import { Layer, incompatibleInput, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';

export interface EinsumDenseArgs extends LayerArgs {
  activation?: activations.ActivationLike;
  /** Output labels that get a bias, e.g. 'de'; null: no bias. */
  biasAxes?: string | null;
  kernelInitializer?: initializers.InitializerLike;
  biasInitializer?: initializers.InitializerLike;
  kernelRegularizer?: regularizers.RegularizerLike | null;
  biasRegularizer?: regularizers.RegularizerLike | null;
  kernelConstraint?: constraints.ConstraintLike | null;
  biasConstraint?: constraints.ConstraintLike | null;
}

interface EinsumShapes {
  kernelShape: Dim[];
  biasShape: Dim[] | null;
  fullOutputShape: Dim[];
}

/**
 * Keras' `_analyze_einsum_string`: the kernel shape, bias shape and full output shape of
 * `equation` for an input shape and the partial output shape (without the batch dim).
 */
function analyzeEinsum(layer: string, equation: string, biasAxes: string | null, inputShape: Dim[], partialOutput: Dim[]): EinsumShapes {
  const replaced = equation.replace(/\.\.\./g, '0');
  let m = /^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$/.exec(replaced);
  let leftElided = false;
  if (!m) {
    m = /^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$/.exec(replaced);
    leftElided = !!m;
  }
  if (!m) m = /^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$/.exec(replaced);
  if (!m) {
    throw new ValueError(`${layer}: invalid einsum equation '${equation}'. Equations must be in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....`);
  }
  const [, inputSpec, weightSpec, outputSpec] = m;
  const elided = inputShape.length - inputSpec.length;
  if (elided < 0 || (elided > 0 && !equation.includes('...'))) {
    throw new ValueError(`${layer}: equation '${equation}' names ${inputSpec.length} input axes but the input has shape ${fmtShape(inputShape)}`);
  }
  const outputShape: Dim[] = [inputShape[0], ...partialOutput];
  if (elided > 0 && leftElided) {
    // The batch dim is already in place; the other elided leading dims follow it, in order.
    outputShape.splice(1, 0, ...inputShape.slice(1, elided));
  } else if (elided > 0) {
    for (let i = inputShape.length - elided; i < inputShape.length; i++) outputShape.push(inputShape[i]);
  }
  const inputDim = new Map<string, number>();
  const outputDim = new Map<string, number>();
  [...inputSpec].forEach((c, i) => inputDim.set(c, leftElided ? i + elided : i));
  [...outputSpec].forEach((c, i) => outputDim.set(c, leftElided ? i + elided : i));
  if (outputShape.length !== outputSpec.length + elided) {
    throw new ValueError(`${layer}: outputShape ${fmtShape(partialOutput)} does not fit the output spec '${outputSpec}' of '${equation}' (full output shape would be ${fmtShape(outputShape)})`);
  }
  for (const c of inputSpec) {
    const o = outputDim.get(c);
    if (o === undefined) continue;
    const want = outputShape[o];
    const have = inputShape[inputDim.get(c)!];
    if (want !== null && want !== have) {
      throw new ValueError(`${layer}: input shape and output shape do not match at shared dimension '${c}'. Input shape is ${have} (input ${fmtShape(inputShape)}), and output shape is ${want}`);
    }
  }
  for (const c of outputSpec) {
    if (!inputSpec.includes(c) && !weightSpec.includes(c)) {
      throw new ValueError(`${layer}: dimension '${c}' was specified in the output '${outputSpec}' but has no corresponding dim in the input spec '${inputSpec}' or weight spec '${weightSpec}'`);
    }
  }
  const kernelShape: Dim[] = [...weightSpec].map((c) => {
    if (inputDim.has(c)) return inputShape[inputDim.get(c)!];
    if (outputDim.has(c)) return outputShape[outputDim.get(c)!];
    throw new ValueError(`${layer}: weight dimension '${c}' did not have a match in either the input spec '${inputSpec}' or the output spec '${outputSpec}'. For this layer, the weight must be fully specified.`);
  });
  let biasShape: Dim[] | null = null;
  if (biasAxes !== null) {
    for (const c of biasAxes) {
      if (!outputSpec.includes(c)) throw new ValueError(`${layer}: bias dimension '${c}' was requested, but is not part of the output spec '${outputSpec}'`);
    }
    const first = Math.min(...[...biasAxes].map((c) => outputSpec.indexOf(c)));
    biasShape = [...outputSpec.slice(first)].map((c) => (biasAxes.includes(c) ? outputShape[outputDim.get(c)!] : 1));
    // Right-elided dims follow the output spec, so the bias broadcasts over them.
    if (!leftElided) for (let i = 0; i < elided; i++) biasShape.push(1);
  }
  return { kernelShape, biasShape, fullOutputShape: outputShape };
}

/**
 * Keras' EinsumDense: `activation(einsum(equation, inputs, kernel) + bias)`.
 * `outputShape` is the output without the batch dim (null for dims taken from the input).
 *
 * ```ts
 * new layers.EinsumDense('abc,cde->abde', [null, 8, 16], { biasAxes: 'de' });
 * ```
 */
export class EinsumDense extends Layer {
  readonly equation: string;
  readonly partialOutputShape: Dim[];
  readonly activation: activations.Activation;
  readonly biasAxes: string | null;
  kernel!: Variable;
  bias: Variable | null = null;
  /** The output shape including the batch dim, known after build. */
  fullOutputShape: Dim[] | null = null;
  private readonly kernelInitializer: initializers.Initializer;
  private readonly biasInitializer: initializers.Initializer;
  private readonly kernelRegularizer: regularizers.Regularizer | null;
  private readonly biasRegularizer: regularizers.Regularizer | null;
  private readonly kernelConstraint: constraints.Constraint | null;
  private readonly biasConstraint: constraints.Constraint | null;

  constructor(
    equation: string | (EinsumDenseArgs & { equation: string; outputShape: Dim | Dim[] }),
    outputShape?: Dim | Dim[],
    args: EinsumDenseArgs = {},
  ) {
    const opts = typeof equation === 'object' ? equation : { ...args, equation, outputShape: outputShape as Dim | Dim[] };
    super(opts);
    if (typeof opts.equation !== 'string') throw new ValueError(`EinsumDense: equation must be a string, received ${JSON.stringify(opts.equation)}`);
    if (opts.outputShape === undefined) throw new ValueError(`EinsumDense: outputShape is required (the output shape without the batch dim)`);
    this.equation = opts.equation;
    this.partialOutputShape = Array.isArray(opts.outputShape) ? [...opts.outputShape] : [opts.outputShape];
    this.activation = activations.get(opts.activation);
    this.biasAxes = opts.biasAxes ?? null;
    this.kernelInitializer = initializers.get(opts.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = initializers.get(opts.biasInitializer ?? 'zeros');
    this.kernelRegularizer = regularizers.get(opts.kernelRegularizer);
    this.biasRegularizer = regularizers.get(opts.biasRegularizer);
    this.kernelConstraint = constraints.get(opts.kernelConstraint);
    this.biasConstraint = constraints.get(opts.biasConstraint);
  }

  override build(inputShape: Dim[]): void {
    const { kernelShape, biasShape, fullOutputShape } = analyzeEinsum(`EinsumDense "${this.name}"`, this.equation, this.biasAxes, inputShape, this.partialOutputShape);
    const unknown = (s: Dim[]) => s.some((d) => d === null);
    if (unknown(kernelShape) || (biasShape && unknown(biasShape))) {
      incompatibleInput(this, `the kernel shape ${fmtShape(kernelShape)} derived from '${this.equation}' must be fully known`, inputShape);
    }
    this.fullOutputShape = fullOutputShape;
    this.kernel = this.addWeight({
      name: 'kernel',
      shape: kernelShape as number[],
      initializer: this.kernelInitializer,
      regularizer: this.kernelRegularizer,
      constraint: this.kernelConstraint,
    });
    if (biasShape) {
      this.bias = this.addWeight({
        name: 'bias',
        shape: biasShape as number[],
        initializer: this.biasInitializer,
        regularizer: this.biasRegularizer,
        constraint: this.biasConstraint,
      });
    }
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _options: CallOptions = {}): Tensor {
    let y = ops.einsum(this.equation, inputs as Tensor, this.kernel.value);
    if (this.bias) y = ops.add(y, this.bias.value);
    return this.activation(y);
  }

  override getConfig(): Record<string, unknown> {
    const ser = <T>(v: T | null, f: (x: T) => unknown) => (v ? f(v) : null);
    return {
      ...super.getConfig(),
      equation: this.equation,
      outputShape: this.partialOutputShape,
      activation: activations.serialize(this.activation),
      biasAxes: this.biasAxes,
      kernelInitializer: initializers.serialize(this.kernelInitializer),
      biasInitializer: initializers.serialize(this.biasInitializer),
      kernelRegularizer: ser(this.kernelRegularizer, regularizers.serialize),
      biasRegularizer: ser(this.biasRegularizer, regularizers.serialize),
      kernelConstraint: ser(this.kernelConstraint, constraints.serialize),
      biasConstraint: ser(this.biasConstraint, constraints.serialize),
    };
  }
}

registerLayerClass('EinsumDense', EinsumDense);
