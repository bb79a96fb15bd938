/**
 * Shape arithmetic shared by shape inference (symbolic dims may be `null`) and kernels.
 */
import { ShapeError, ValueError, describeValue, fmtShape } from './errors.js';

/** A dimension: a size, or `null` when unknown until run time (the batch dimension). */
export type Dim = number | null;
export type Shape = readonly Dim[];

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function isConcrete(shape: Shape): shape is number[] {
  return shape.every((d) => d !== null);
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy broadcasting of two shapes; `null` broadcasts with 1 to `null` and with n to n. */
export function broadcastShapes(a: Shape, b: Shape, op: string): Dim[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<Dim>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (db === 1) out[i] = da;
    else if (da === null) out[i] = db;
    else if (db === null) out[i] = da;
    else throw new ShapeError(`${op}: cannot broadcast shapes ${fmtShape(a)} and ${fmtShape(b)} (dim ${da} vs ${db})`);
  }
  return out;
}

/** Resolves a possibly negative axis against `rank`, with an error naming the op. */
export function normalizeAxis(axis: number, rank: number, op: string, arg = 'axis'): number {
  if (!Number.isInteger(axis)) throw new ValueError(`${op}: ${arg} must be an integer, received ${typeof axis === 'number' ? axis : describeValue(axis)}`);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ValueError(`${op}: ${arg}=${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

/** Normalizes `axis` (number, array, or null/undefined meaning all) to sorted unique axes. */
export function normalizeAxes(axis: number | readonly number[] | null | undefined, rank: number, op: string): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new ValueError(`${op}: axis must be an integer, an array of integers or null, received ${describeValue(axis)}`);
  }
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(a, rank, op));
  if (new Set(out).size !== out.length) throw new ValueError(`${op}: repeated axis in ${JSON.stringify(axis)}`);
  return out.sort((x, y) => x - y);
}

/**
 * Checks a primitive's axes, which the public ops have already normalized: each an integer
 * in [0, rank), none repeated. Throws a ValueError naming the op and the shape.
 */
export function checkAxes(op: string, shape: Shape, axes: readonly number[]): void {
  if (!Array.isArray(axes)) throw new ValueError(`${op}: axes must be a list of dims, received ${JSON.stringify(axes)}`);
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= shape.length) throw new ValueError(`${op}: axis ${a} is out of bounds for input of shape ${fmtShape(shape)}`);
  }
  if (new Set(axes).size !== axes.length) throw new ValueError(`${op}: repeated axis in ${JSON.stringify(axes)}`);
}

/** Shape after reducing `axes` of `shape`. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keepdims) out.push(1);
    } else out.push(d);
  });
  return out;
}

/** Multi-index iteration helper: for each flat index of `outShape`, the flat index into a broadcast input. */
export function broadcastIndexer(inShape: readonly number[], outShape: readonly number[]): (flat: number) => number {
  const offset = outShape.length - inShape.length;
  const inStrides = stridesOf(inShape);
  const outStrides = stridesOf(outShape);
  const eff = outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || inShape[j] === 1 ? 0 : inStrides[j];
  });
  return (flat: number) => {
    let idx = 0;
    for (let i = 0; i < outShape.length; i++) {
      const c = Math.floor(flat / outStrides[i]) % outShape[i];
      idx += c * eff[i];
    }
    return idx;
  };
}

/** Resolves a reshape target (one -1 allowed) against the input shape; unknown dims stay null. */
export function resolveReshape(from: readonly Dim[], to: readonly number[], op = 'reshape'): Dim[] {
  const unknownIdx = to.indexOf(-1);
  if (to.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== unknownIdx))) {
    throw new ValueError(`${op}: invalid target shape ${JSON.stringify(to)}; dims must be non-negative integers with at most one -1`);
  }
  const known = to.reduce((n, d) => (d === -1 ? n : n * d), 1);
  if (from.some((d) => d === null)) {
    if (unknownIdx < 0) return [...to];
    return to.map((d) => (d === -1 ? null : d));
  }
  const total = (from as number[]).reduce((n, d) => n * d, 1);
  if (unknownIdx >= 0) {
    if (known === 0 || total % known !== 0) throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${total} elements) into ${JSON.stringify(to)}`);
    return to.map((d) => (d === -1 ? total / known : d));
  }
  if (known !== total) throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${total} elements) into ${fmtShape(to)} (${known} elements)`);
  return [...to];
}
