/**
 * Dot: the batchwise dot product of two inputs along one axis each (Keras' batch_dot).
 */
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayerClass } from '../registry.js';
import { Merge, fmtShapes } from './base_merge.js';

export interface DotArgs extends LayerArgs {
  /** Normalize each input to unit L2 norm along its dot axis first (cosine similarity). */
  normalize?: boolean;
}

const LETTERS = 'bcdefghijklmnopqrstuvwxyz';

/**
 * Keras' Dot: `axes` is one axis for both inputs or [axisOfX, axisOfY] (never 0, the batch).
 * Output: x's dims without its axis, then y's without the batch and its axis; a
 * rank-1 result becomes (batch, 1).
 */
export class Dot extends Merge {
  readonly axes: number | [number, number];
  readonly normalize: boolean;

  constructor(axes: number | [number, number] | (DotArgs & { axes: number | [number, number] }), normalize: boolean | DotArgs = false, args: DotArgs = {}) {
    const opts: DotArgs & { axes: number | [number, number] } =
      typeof axes === 'object' && !Array.isArray(axes)
        ? axes
        : typeof normalize === 'object'
          ? { ...normalize, axes }
          : { ...args, axes, normalize };
    super(opts);
    const a = opts.axes;
    if (typeof a !== 'number') {
      if (!Array.isArray(a)) throw new ValueError(`Dot: invalid type for argument axes: it should be a list or an int. Received: axes=${JSON.stringify(a)}`);
      if (a.length !== 2) throw new ValueError(`Dot: invalid format for argument axes: it should contain two elements. Received: axes=${JSON.stringify(a)}`);
      if (!a.every((v) => Number.isInteger(v))) throw new ValueError(`Dot: invalid format for argument axes: list elements should be integers. Received: axes=${JSON.stringify(a)}`);
    } else if (!Number.isInteger(a)) throw new ValueError(`Dot: axes must be an integer or two integers. Received: axes=${JSON.stringify(a)}`);
    this.axes = typeof a === 'number' ? a : [a[0], a[1]];
    this.normalize = opts.normalize ?? false;
  }

  private resolveAxes(shapes: Dim[][]): [number, number] {
    const [r1, r2] = shapes.map((s) => s.length);
    const pair = typeof this.axes === 'number' ? [this.axes, this.axes] : this.axes;
    const out = pair.map((a, i) => {
      const r = i === 0 ? r1 : r2;
      if (a >= r || a < -r) throw new ValueError(`Dot "${this.name}": axis ${a} is out of bounds for input ${i} of shape ${fmtShape(shapes[i])}`);
      return a < 0 ? a + r : a;
    });
    return [out[0], out[1]];
  }

  protected override checkShapes(shapes: Dim[][]): void {
    if (shapes.length !== 2) {
      throw new ValueError(`Dot "${this.name}": a Dot layer should be called on a list of 2 inputs. Received: input_shape=${fmtShapes(shapes)}`);
    }
    const [s1, s2] = shapes;
    if (s1.length < 2 || s2.length < 2) {
      throw new ShapeError(`Dot "${this.name}": cannot do batch_dot on inputs with rank < 2. Received inputs with shapes ${fmtShape(s1)} and ${fmtShape(s2)}`);
    }
    if (s1[0] !== null && s2[0] !== null && s1[0] !== s2[0]) {
      throw new ShapeError(`Dot "${this.name}": cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes ${fmtShape(s1)} and ${fmtShape(s2)}`);
    }
    const [a1, a2] = this.resolveAxes(shapes);
    if (a1 === 0 || a2 === 0) {
      throw new ValueError(`Dot "${this.name}": cannot perform batch_dot over axis 0 (the batch axis). Received axes=${JSON.stringify(this.axes)} for shapes ${fmtShape(s1)} and ${fmtShape(s2)}`);
    }
    if (s1[a1] !== null && s2[a2] !== null && s1[a1] !== s2[a2]) {
      throw new ShapeError(`Dot "${this.name}": incompatible input shapes: axis values ${s1[a1]} (at axis ${a1}) != ${s2[a2]} (at axis ${a2}). Full input shapes: ${fmtShape(s1)}, ${fmtShape(s2)}`);
    }
  }

  override call(inputs: Tensor | Tensor[], _options: CallOptions = {}): Tensor {
    if (!Array.isArray(inputs)) return super.call(inputs);
    const shapes = this.checkList(inputs.map((t) => t.shape as Dim[]));
    this.checkShapes(shapes);
    return this.mergeFunction(inputs);
  }

  protected mergeFunction(inputs: Tensor[]): Tensor {
    let [x, y] = inputs;
    const [a1, a2] = this.resolveAxes([x.shape, y.shape]);
    if (this.normalize) {
      x = ops.normalize(x, { axis: a1 });
      y = ops.normalize(y, { axis: a2 });
    }
    if (x.rank + y.rank - 3 > LETTERS.length) throw new ShapeError(`Dot "${this.name}": inputs of shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)} have too many axes`);
    // batch_dot as an einsum: 'a' is the batch, 'z' the contracted axis, other letters free dims.
    let next = 0;
    const xs = x.shape.map((_, i) => (i === 0 ? 'a' : i === a1 ? 'z' : LETTERS[next++]));
    const ys = y.shape.map((_, i) => (i === 0 ? 'a' : i === a2 ? 'z' : LETTERS[next++]));
    const out = ['a', ...xs.slice(1).filter((c) => c !== 'z'), ...ys.slice(1).filter((c) => c !== 'z')];
    const r = ops.einsum(`${xs.join('')},${ys.join('')}->${out.join('')}`, x, y);
    return r.rank === 1 ? ops.expandDims(r, 1) : r;
  }

  /** Dot produces no mask (Keras). */
  override computeMask(): null {
    return null;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axes: this.axes, normalize: this.normalize };
  }
}

registerLayerClass('Dot', Dot);

/** `keras.layers.dot(inputs, axes, {normalize})`. */
export function dot(inputs: Tensor[], axes: number | [number, number] = -1, args: DotArgs = {}): Tensor {
  return new Dot(axes, args).apply(inputs) as Tensor;
}
