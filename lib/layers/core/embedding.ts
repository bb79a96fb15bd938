/**
 * Embedding: maps integer ids to rows of a trainable [inputDim, outputDim] table.
 */
import * as initializers from '../../initializers/index.js';
import * as regularizers from '../../regularizers/index.js';
import * as constraints from '../../constraints/index.js';
import { ValueError } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Variable } from '../../variable.js';
import { Layer, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';

export interface EmbeddingArgs extends LayerArgs {
  /** Keras' default 'uniform' is RandomUniform(-0.05, 0.05). */
  embeddingsInitializer?: initializers.InitializerLike;
  embeddingsRegularizer?: regularizers.RegularizerLike | null;
  activityRegularizer?: regularizers.RegularizerLike | null;
  embeddingsConstraint?: constraints.ConstraintLike | null;
  /** When true, id 0 is padding: the output mask is `inputs != 0` and ids must be < inputDim. */
  maskZero?: boolean;
  /** Accepted for Keras 2 compatibility and ignored, as Keras 3 does. */
  inputLength?: number | null;
}

/**
 * Keras' Embedding: `take(embeddings, inputs, axis=0)`; inputs of any shape, cast to int32.
 * With `maskZero` the layer emits a mask so downstream layers skip padding.
 */
export class Embedding extends Layer {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  embeddings!: Variable;
  private readonly embeddingsInitializer: initializers.Initializer;
  private readonly embeddingsRegularizer: regularizers.Regularizer | null;
  private readonly embeddingsConstraint: constraints.Constraint | null;

  constructor(
    inputDim: number | (EmbeddingArgs & { inputDim: number; outputDim: number }),
    outputDim?: number,
    args: EmbeddingArgs = {},
  ) {
    const opts = typeof inputDim === 'object' ? inputDim : { ...args, inputDim, outputDim: outputDim as number };
    super(opts);
    for (const key of ['inputDim', 'outputDim'] as const) {
      if (!Number.isInteger(opts[key]) || opts[key] <= 0) throw new ValueError(`Embedding: ${key} must be a positive integer, received ${opts[key]}`);
    }
    this.inputDim = opts.inputDim;
    this.outputDim = opts.outputDim;
    this.maskZero = opts.maskZero ?? false;
    this.supportsMasking = this.maskZero;
    this.embeddingsInitializer = initializers.get(opts.embeddingsInitializer ?? 'uniform');
    this.embeddingsRegularizer = regularizers.get(opts.embeddingsRegularizer);
    this.embeddingsConstraint = constraints.get(opts.embeddingsConstraint);
  }

  override build(_inputShape: Dim[]): void {
    this.embeddings = this.addWeight({
      name: 'embeddings',
      shape: [this.inputDim, this.outputDim],
      initializer: this.embeddingsInitializer,
      regularizer: this.embeddingsRegularizer,
      constraint: this.embeddingsConstraint,
    });
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _options: CallOptions = {}): Tensor {
    let ids = inputs as Tensor;
    if (ids.dtype !== 'int32') ids = ops.cast(ids, 'int32');
    const out = ops.take(this.embeddings.value, ids, 0);
    return out;
  }

  /** `inputs != 0` when maskZero, else no mask (Keras). */
  override computeMask(inputs: Tensor | Tensor[], _mask?: unknown): Tensor | null {
    if (!this.maskZero) return null;
    return ops.notEqual(inputs as Tensor, 0);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: initializers.serialize(this.embeddingsInitializer),
      embeddingsRegularizer: this.embeddingsRegularizer ? regularizers.serialize(this.embeddingsRegularizer) : null,
      embeddingsConstraint: this.embeddingsConstraint ? constraints.serialize(this.embeddingsConstraint) : null,
      maskZero: this.maskZero,
    };
  }
}

registerLayerClass('Embedding', Embedding);
