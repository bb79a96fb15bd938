/**
 * The base of the elementwise merge layers (Add, Subtract, Multiply, Average,
 * Maximum, Minimum): a list of inputs, Keras' broadcasting check, rank alignment
 * and mask merging.
 */
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { Layer, type CallOptions, type LayerArgs } from '../layer.js';

export type MergeMask = Tensor | null | (Tensor | null)[] | undefined;

/** Formats a list of shapes as Keras prints them: [(2, 3), (2, 4)]. */
export function fmtShapes(shapes: readonly (readonly Dim[])[]): string {
  return `[${shapes.map((s) => fmtShape(s)).join(', ')}]`;
}

/** The masks of a merge call as a list aligned with the inputs. */
export function maskList(mask: MergeMask, n: number): (Tensor | null)[] {
  if (mask === null || mask === undefined) return new Array<Tensor | null>(n).fill(null);
  return Array.isArray(mask) ? mask : [mask];
}

/** A mask made to broadcast against `x`: a mask with one dim fewer gets a trailing axis (Keras). */
export function alignMask(mask: Tensor, x: Tensor): Tensor {
  return mask.rank < x.rank ? ops.expandDims(mask, -1) : mask;
}

/** Base class of Keras' elementwise merge layers. */
export abstract class Merge extends Layer {
  constructor(args: LayerArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  /** Combines inputs already brought to one rank; `masks` are aligned with `inputs`. */
  protected abstract mergeFunction(inputs: Tensor[], masks: (Tensor | null)[]): Tensor;

  /** Throws unless `shapes` is a list of at least `min` shapes. */
  protected checkList(shapes: unknown, min = 1): Dim[][] {
    if (!Array.isArray(shapes) || (shapes.length > 0 && !Array.isArray(shapes[0]))) {
      throw new ValueError(`${this.className} "${this.name}": a merge layer should be called on a list of inputs. Received: input_shape=${Array.isArray(shapes) ? fmtShape(shapes as Dim[]) : String(shapes)} (not a list of shapes)`);
    }
    if (shapes.length < min) {
      throw new ValueError(`${this.className} "${this.name}": a merge layer should be called on a list of at least ${min} input${min === 1 ? '' : 's'}. Received ${shapes.length} inputs`);
    }
    return shapes as Dim[][];
  }

  /** Keras' check: one batch size, and the non-batch shapes broadcast (aligned from the right). */
  protected checkShapes(shapes: Dim[][]): void {
    const batches = new Set(shapes.filter((s) => s.length > 0 && s[0] !== null).map((s) => s[0]));
    if (batches.size > 1) {
      throw new ShapeError(`${this.className} "${this.name}": cannot merge tensors with different batch sizes. Received tensors with shapes ${fmtShapes(shapes)}`);
    }
    let out: Dim[] = shapes[0].slice(1);
    for (const s of shapes.slice(1)) {
      const [long, short] = out.length >= s.length - 1 ? [out, s.slice(1)] : [s.slice(1), out];
      const lead = long.slice(0, long.length - short.length);
      const tail = short.map((j, k) => {
        const i = long[long.length - short.length + k];
        if (i === null || j === null) return null;
        if (i === 1) return j;
        if (j === 1 || i === j) return i;
        throw new ShapeError(`${this.className} "${this.name}": inputs have incompatible shapes. Received shapes ${fmtShapes(shapes)}`);
      });
      out = [...lead, ...tail];
    }
  }

  override build(inputShape: Dim[] | Dim[][]): void {
    this.checkShapes(this.checkList(inputShape));
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], options: CallOptions = {}): Tensor {
    if (!Array.isArray(inputs)) {
      throw new ValueError(`${this.className} "${this.name}": a merge layer should be called on a list of inputs. Received: inputs with shape ${fmtShape(inputs.shape)} (not a list of tensors)`);
    }
    this.checkShapes(this.checkList(inputs.map((t) => t.shape as Dim[])));
    const masks = maskList(options.mask, inputs.length);
    // Inputs of lower rank get size-1 axes after the batch axis until all ranks agree (Keras).
    const maxRank = Math.max(...inputs.map((t) => t.rank));
    const aligned = inputs.map((t) => {
      let x = t;
      while (x.rank < maxRank) x = ops.expandDims(x, 1);
      return x;
    });
    return this.mergeFunction(aligned, masks);
  }

  /** OR of the input masks when every input has one, else no mask (Keras' Merge.compute_mask). */
  override computeMask(inputs: Tensor | Tensor[], mask: MergeMask): Tensor | null {
    if (mask === null || mask === undefined) return null;
    if (!Array.isArray(mask) || !Array.isArray(inputs)) {
      throw new ValueError(`${this.className} "${this.name}": masks and inputs should both be lists`);
    }
    if (mask.length !== inputs.length) {
      throw new ValueError(`${this.className} "${this.name}": the lists inputs and mask should have the same length. Received ${inputs.length} inputs and ${mask.length} masks`);
    }
    if (mask.some((m) => m === null)) return null;
    return (mask as Tensor[]).reduce((a, b) => ops.logicalOr(a, b));
  }

  /**
   * Keras' `_apply_merge_op_and_or_mask`, for ops without an identity element
   * (Maximum, Minimum): where one input is masked out the other's value is used.
   */
  protected mergeWithMasks(op: (a: Tensor, b: Tensor) => Tensor, inputs: Tensor[], masks: (Tensor | null)[]): Tensor {
    let output = inputs[0];
    let outMask = masks[0] ? alignMask(masks[0], inputs[0]) : null;
    for (let i = 1; i < inputs.length; i++) {
      let x = inputs[i];
      const m = masks[i] ? alignMask(masks[i]!, x) : null;
      if (m) x = ops.where(m, x, output);
      if (outMask) output = ops.where(outMask, output, x);
      outMask = m && outMask ? ops.logicalOr(outMask, m) : null;
      output = op(output, x);
    }
    return output;
  }
}
