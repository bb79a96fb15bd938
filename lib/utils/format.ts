/**
 * Numpy-like printing and nested-array conversion.
 */
import type { DType, TypedArray } from '../dtype.js';

export type NestedArray = number | boolean | NestedArray[];

export function toNested(values: TypedArray, shape: readonly number[], dtype: DType): NestedArray {
  const conv = (v: number): number | boolean => (dtype === 'bool' ? v !== 0 : v);
  if (shape.length === 0) return conv(values[0]);
  const build = (dim: number, offset: number, stride: number): NestedArray[] => {
    const n = shape[dim];
    const inner = stride / (n || 1);
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? conv(values[offset + i]) : build(dim + 1, offset + i * inner, inner));
    }
    return out;
  };
  let total = 1;
  for (const d of shape) total *= d;
  return build(0, 0, total);
}

function fmtNumber(v: number, dtype: DType, precision: number): string {
  if (dtype === 'bool') return v ? 'True' : 'False';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) return v.toExponential(precision);
  return String(Number(v.toFixed(precision)));
}

/** Prints like numpy: `[[1. 2.]\n [3. 4.]]`, with summarization of long axes. */
export function formatTensor(values: TypedArray, shape: readonly number[], dtype: DType): string {
  const precision = dtype === 'float64' ? 8 : 4;
  const strs: string[] = Array.from(values, (v) => fmtNumber(v, dtype, precision));
  const width = strs.reduce((w, s) => Math.max(w, s.length), 0);
  const pad = (s: string) => s.padStart(width);
  const edge = 3;
  const rec = (dim: number, offset: number, stride: number, indent: string): string => {
    if (shape.length === 0) return strs[0];
    const n = shape[dim];
    const inner = stride / (n || 1);
    const idx: (number | null)[] = n > 2 * edge + 1 && values.length > 1000
      ? [...Array.from({ length: edge }, (_, i) => i), null, ...Array.from({ length: edge }, (_, i) => n - edge + i)]
      : Array.from({ length: n }, (_, i) => i);
    if (dim === shape.length - 1) {
      return `[${idx.map((i) => (i === null ? '...' : pad(strs[offset + i]))).join(' ')}]`;
    }
    const sep = '\n'.repeat(shape.length - dim - 1) + indent + ' ';
    return `[${idx.map((i) => (i === null ? '...' : rec(dim + 1, offset + i * inner, inner, indent + ' '))).join(sep)}]`;
  };
  let total = 1;
  for (const d of shape) total *= d;
  return `${rec(0, 0, total, '')}`;
}
