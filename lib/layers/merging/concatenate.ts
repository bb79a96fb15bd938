/**
 * Concatenate: joins a list of inputs along `axis` (default -1).
 */
import { ShapeError, ValueError } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';
import { Merge, fmtShapes, maskList, type MergeMask } from './base_merge.js';

export interface ConcatenateArgs extends LayerArgs {
  axis?: number;
}

/** Keras' Concatenate: inputs must match on every axis but `axis`. */
export class Concatenate extends Merge {
  readonly axis: number;

  constructor(axis: number | ConcatenateArgs = -1, args: ConcatenateArgs = {}) {
    const opts = typeof axis === 'number' ? { ...args, axis } : axis;
    super(opts);
    this.axis = opts.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new ValueError(`Concatenate: axis must be an integer, received ${JSON.stringify(opts.axis)}`);
  }

  protected override checkShapes(shapes: Dim[][]): void {
    const fail = (): never => {
      throw new ShapeError(`Concatenate "${this.name}": a Concatenate layer requires inputs with matching shapes except for the concatenation axis (axis=${this.axis}). Received: input_shape=${fmtShapes(shapes)}`);
    };
    const rank = shapes[0].length;
    if (shapes.some((s) => s.length !== rank)) fail();
    if (this.axis >= rank || this.axis < -rank) {
      throw new ValueError(`Concatenate "${this.name}": axis ${this.axis} is out of bounds for inputs of rank ${rank}. Received: input_shape=${fmtShapes(shapes)}`);
    }
    const a = (this.axis + rank) % rank;
    for (let d = 0; d < rank; d++) {
      if (d === a) continue;
      const known = new Set(shapes.map((s) => s[d]).filter((v) => v !== null));
      if (known.size > 1) fail();
    }
  }

  override call(inputs: Tensor | Tensor[], _options: CallOptions = {}): Tensor {
    if (!Array.isArray(inputs)) return super.call(inputs);
    this.checkShapes(this.checkList(inputs.map((t) => t.shape as Dim[])));
    return ops.concatenate(inputs, this.axis);
  }

  protected mergeFunction(inputs: Tensor[]): Tensor {
    return ops.concatenate(inputs, this.axis);
  }

  /**
   * Keras: unmasked inputs count as all-true, lower-rank masks get a trailing axis;
   * the masks are concatenated along `axis` and reduced with `any` over the last axis.
   */
  override computeMask(inputs: Tensor | Tensor[], mask: MergeMask): Tensor | null {
    if (mask === null || mask === undefined || !Array.isArray(inputs)) return null;
    const masks = maskList(mask, inputs.length);
    if (masks.length !== inputs.length) {
      throw new ValueError(`Concatenate "${this.name}": the lists inputs and mask should have the same length. Received ${inputs.length} inputs and ${masks.length} masks`);
    }
    if (masks.every((m) => m === null)) return null;
    const full = inputs.map((x, i) => {
      const m = masks[i];
      const falses = ops.zerosLike(x, 'bool');
      if (m === null) return ops.logicalNot(falses);
      // OR with all-false broadcasts the mask to the input's shape, known dims or not.
      return ops.logicalOr(m.rank < x.rank ? ops.expandDims(m, -1) : m, falses);
    });
    return ops.any(ops.concatenate(full, this.axis), -1);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

registerLayerClass('Concatenate', Concatenate);

/** `keras.layers.concatenate(inputs, axis)`. */
export function concatenate(inputs: Tensor[], axis: number | ConcatenateArgs = -1, args: ConcatenateArgs = {}): Tensor {
  return new Concatenate(axis, args).apply(inputs) as Tensor;
}
