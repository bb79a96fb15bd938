/**
 * keras.Input and InputLayer: the symbolic entry points of functional models.
 */
import { FLOATX, parseDType, type DType } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { Layer, uniqueLayerName, type LayerArgs, type LayerNode, recordNode } from '../layers/layer.js';
import type { Dim } from '../shape.js';
import { Tensor } from '../tensor.js';

export interface InputArgs {
  /** Shape of one sample (without the batch dimension); null for unknown dims. */
  shape?: Dim[];
  batchSize?: number | null;
  /** Full shape including the batch dimension (instead of shape/batchSize). */
  batchShape?: Dim[];
  dtype?: DType;
  name?: string;
}

/** The layer behind a keras.Input; it has no weights and passes its tensor through. */
export class InputLayer extends Layer {
  readonly output: Tensor;

  constructor(args: InputArgs & LayerArgs = {}) {
    const name = args.name ?? uniqueLayerName('input_layer');
    super({ name, dtype: args.dtype });
    const batchShape = args.batchShape ?? (args.shape ? [args.batchSize ?? null, ...args.shape] : undefined);
    if (!batchShape) throw new ShapeError(`InputLayer "${name}": pass shape (one sample's shape) or batchShape`);
    for (const d of batchShape) {
      if (d !== null && (!Number.isInteger(d) || d < 0)) throw new ShapeError(`InputLayer "${name}": invalid shape ${JSON.stringify(batchShape)}; dims must be non-negative integers or null`);
    }
    this.batchInputShape = batchShape;
    this.built = true;
    this.output = new Tensor({ shape: batchShape as number[], dtype: args.dtype ? parseDType(args.dtype, name) : FLOATX, symbolicSource: name });
    const node: LayerNode = { layer: this, inputs: [], single: true, outputs: [this.output], options: {} };
    recordNode(node);
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, batchShape: this.batchInputShape, dtype: this.output.dtype };
  }
}

/** `keras.Input({ shape: [28, 28, 1] })`: a symbolic tensor to build functional models from. */
export function Input(args: InputArgs): Tensor {
  return new InputLayer(args).output;
}
