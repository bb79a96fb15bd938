/**
 * Elementwise merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum,
 * and their functional forms (`layers.add([a, b])`).
 */
import { ValueError } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';
import { Merge, alignMask, fmtShapes } from './base_merge.js';

/** Sum of the inputs (broadcast as Keras). */
export class Add extends Merge {
  protected mergeFunction(inputs: Tensor[]): Tensor {
    return inputs.reduce((a, b) => ops.add(a, b));
  }
}

/** inputs[0] - inputs[1]; exactly two inputs. */
export class Subtract extends Merge {
  override build(inputShape: Dim[] | Dim[][]): void {
    const shapes = this.checkList(inputShape);
    if (shapes.length !== 2) {
      throw new ValueError(`Subtract "${this.name}": a Subtract layer should be called on exactly 2 inputs. Received: input_shape=${fmtShapes(shapes)}`);
    }
    super.build(shapes);
  }

  protected mergeFunction(inputs: Tensor[]): Tensor {
    if (inputs.length !== 2) {
      throw new ValueError(`Subtract "${this.name}": a Subtract layer should be called on exactly 2 inputs. Received ${inputs.length} inputs with shapes ${fmtShapes(inputs.map((t) => t.shape))}`);
    }
    return ops.subtract(inputs[0], inputs[1]);
  }
}

/** Product of the inputs; masked-out entries count as 1, and are 0 in the output when every input is masked (Keras). */
export class Multiply extends Merge {
  protected mergeFunction(inputs: Tensor[], masks: (Tensor | null)[]): Tensor {
    const allMasked = masks.every((m) => m !== null);
    let output = inputs[0];
    let outMask: Tensor | null = null;
    for (let i = 0; i < inputs.length; i++) {
      let x = inputs[i];
      const m = masks[i] ? alignMask(masks[i]!, x) : null;
      if (m) {
        x = ops.where(m, x, 1);
        if (allMasked) outMask = outMask ? ops.logicalOr(outMask, m) : m;
      }
      output = i === 0 ? x : ops.multiply(output, x);
    }
    return outMask ? ops.where(outMask, output, 0) : output;
  }
}

/** Mean of the inputs. */
export class Average extends Merge {
  protected mergeFunction(inputs: Tensor[]): Tensor {
    return ops.divide(inputs.reduce((a, b) => ops.add(a, b)), inputs.length);
  }
}

/** Elementwise maximum; masked-out entries take the other inputs' values. */
export class Maximum extends Merge {
  protected mergeFunction(inputs: Tensor[], masks: (Tensor | null)[]): Tensor {
    return this.mergeWithMasks(ops.maximum, inputs, masks);
  }
}

/** Elementwise minimum; masked-out entries take the other inputs' values. */
export class Minimum extends Merge {
  protected mergeFunction(inputs: Tensor[], masks: (Tensor | null)[]): Tensor {
    return this.mergeWithMasks(ops.minimum, inputs, masks);
  }
}

for (const cls of [Add, Subtract, Multiply, Average, Maximum, Minimum]) registerLayerClass(cls.name, cls as never);

/** `keras.layers.add(inputs)`: `new Add(args).apply(inputs)`. */
export function add(inputs: Tensor[], args: LayerArgs = {}): Tensor {
  return new Add(args).apply(inputs) as Tensor;
}

/** `keras.layers.subtract([a, b])`. */
export function subtract(inputs: Tensor[], args: LayerArgs = {}): Tensor {
  return new Subtract(args).apply(inputs) as Tensor;
}

/** `keras.layers.multiply(inputs)`. */
export function multiply(inputs: Tensor[], args: LayerArgs = {}): Tensor {
  return new Multiply(args).apply(inputs) as Tensor;
}

/** `keras.layers.average(inputs)`. */
export function average(inputs: Tensor[], args: LayerArgs = {}): Tensor {
  return new Average(args).apply(inputs) as Tensor;
}

/** `keras.layers.maximum(inputs)`. */
export function maximum(inputs: Tensor[], args: LayerArgs = {}): Tensor {
  return new Maximum(args).apply(inputs) as Tensor;
}

/** `keras.layers.minimum(inputs)`. */
export function minimum(inputs: Tensor[], args: LayerArgs = {}): Tensor {
  return new Minimum(args).apply(inputs) as Tensor;
}
