/** Shared helpers for the native addon tests: loading, data, a float64 reference matmul. */
import { loadNativeAddon, type NativeAddon, type NativeTypedArray } from '../../lib/backends/cpu/native.js';

export function addon(): NativeAddon {
  return loadNativeAddon();
}

/** Deterministic values in [-1, 1) (a small LCG, so failures reproduce). */
export function randomArray(size: number, seed: number): Float64Array {
  const out = new Float64Array(size);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export interface Reference {
  shape: number[];
  values: Float64Array;
  /** Sum of |a*b| per output element: the scale of its rounding error. */
  magnitude: Float64Array;
}

/** numpy.matmul in float64 with transposes of the last two axes, by plain loops. */
export function referenceMatmul(
  a: ArrayLike<number>, aShape: number[], b: ArrayLike<number>, bShape: number[],
  transposeA = false, transposeB = false,
): Reference {
  const aIsVector = aShape.length === 1;
  const bIsVector = bShape.length === 1;
  const aMat = aIsVector ? [1, aShape[0]!] : aShape;
  const bMat = bIsVector ? [bShape[0]!, 1] : bShape;
  const aStrides = contiguousStrides(aMat);
  const bStrides = contiguousStrides(bMat);
  const ra = aMat.length, rb = bMat.length;
  const [aRowAxis, aColAxis] = transposeA && !aIsVector ? [ra - 1, ra - 2] : [ra - 2, ra - 1];
  const [bRowAxis, bColAxis] = transposeB && !bIsVector ? [rb - 1, rb - 2] : [rb - 2, rb - 1];
  const m = aMat[aRowAxis]!, k = aMat[aColAxis]!, n = bMat[bColAxis]!;
  if (bMat[bRowAxis] !== k) throw new Error('reference: contracted dims differ');
  const aBatch = aMat.slice(0, -2), bBatch = bMat.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[i - (rank - aBatch.length)] ?? 1;
    const db = bBatch[i - (rank - bBatch.length)] ?? 1;
    batch.push(da === 1 ? db : da);
  }
  const batchCount = batch.reduce((x, y) => x * y, 1);
  const values = new Float64Array(batchCount * m * n);
  const magnitude = new Float64Array(batchCount * m * n);
  const index = new Array<number>(rank).fill(0);
  for (let bi = 0; bi < batchCount; bi++) {
    let aOff = 0, bOff = 0;
    for (let d = 0; d < rank; d++) {
      const ad = d - (rank - aBatch.length), bd = d - (rank - bBatch.length);
      if (ad >= 0 && aBatch[ad] !== 1) aOff += index[d]! * aStrides[ad]!;
      if (bd >= 0 && bBatch[bd] !== 1) bOff += index[d]! * bStrides[bd]!;
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0, mag = 0;
        for (let p = 0; p < k; p++) {
          const x = a[aOff + i * aStrides[aRowAxis]! + p * aStrides[aColAxis]!]!;
          const y = b[bOff + p * bStrides[bRowAxis]! + j * bStrides[bColAxis]!]!;
          sum += x * y;
          mag += Math.abs(x * y);
        }
        values[(bi * m + i) * n + j] = sum;
        magnitude[(bi * m + i) * n + j] = mag;
      }
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < batch[d]!) break;
      index[d] = 0;
    }
  }
  const shape = [...batch, ...(aIsVector ? [] : [m]), ...(bIsVector ? [] : [n])];
  return { shape, values, magnitude };
}

/**
 * Throws naming the first element outside tolerance: |got - want| <= relTol * magnitude + absTol.
 */
export function assertClose(
  label: string, got: NativeTypedArray, gotShape: number[], want: Reference, relTol: number, absTol = 0,
): void {
  if (JSON.stringify(gotShape) !== JSON.stringify(want.shape)) {
    throw new Error(`${label}: shape ${JSON.stringify(gotShape)}, expected ${JSON.stringify(want.shape)}`);
  }
  if (got.length !== want.values.length) {
    throw new Error(`${label}: ${got.length} elements, expected ${want.values.length}`);
  }
  for (let i = 0; i < got.length; i++) {
    const tol = relTol * want.magnitude[i]! + absTol;
    const diff = Math.abs(got[i]! - want.values[i]!);
    if (!(diff <= tol)) {
      const at: number[] = [];
      let rest = i;
      for (let d = gotShape.length - 1; d >= 0; d--) {
        at.unshift(rest % gotShape[d]!);
        rest = Math.floor(rest / gotShape[d]!);
      }
      throw new Error(
        `${label}: element [${at.join(', ')}] expected ${want.values[i]} got ${got[i]} ` +
          `(|diff| ${diff.toExponential(3)} > tol ${tol.toExponential(3)})`,
      );
    }
  }
}
