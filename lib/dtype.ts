/**
 * Dtypes and Keras 3 type promotion (`keras.backend.result_type`).
 */
import { DTypeError } from './errors.js';

/** Supported element types. float16/bfloat16 are reserved names, not yet computable. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool' | 'float16' | 'bfloat16';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const FLOATX: DType = 'float32';

const STORAGE: Partial<Record<DType, { new (n: number): TypedArray; BYTES_PER_ELEMENT: number }>> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

/** The TypedArray constructor that stores `dtype`. */
export function storageOf(dtype: DType): { new (n: number): TypedArray; BYTES_PER_ELEMENT: number } {
  const ctor = STORAGE[dtype];
  if (!ctor) throw new DTypeError(`dtype ${dtype} is not supported yet; use float32, float64, int32 or bool`);
  return ctor;
}

export function allocate(dtype: DType, size: number): TypedArray {
  return new (storageOf(dtype))(size);
}

export function bytesPerElement(dtype: DType): number {
  return storageOf(dtype).BYTES_PER_ELEMENT;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

export function isInt(dtype: DType): boolean {
  return dtype === 'int32';
}

const KNOWN: ReadonlySet<string> = new Set(['float32', 'float64', 'int32', 'bool', 'float16', 'bfloat16']);

/** Validates a user-given dtype name (Keras also accepts 'int64', which we store as int32 today). */
export function parseDType(name: unknown, where: string): DType {
  if (typeof name === 'string' && KNOWN.has(name)) {
    storageOf(name as DType);
    return name as DType;
  }
  throw new DTypeError(`${where}: unknown dtype ${JSON.stringify(name)}; expected one of float32, float64, int32, bool`);
}

// Promotion lattice, as in Keras 3: bool < int32 < float16/bfloat16 < float32 < float64.
const RANK: Record<DType, number> = { bool: 0, int32: 1, float16: 2, bfloat16: 2, float32: 3, float64: 4 };

/** A dtype operand, or a JS number, which is "weakly typed" as Python scalars are in Keras. */
export type DTypeOperand = DType | 'weak-int' | 'weak-float' | 'weak-bool';

/**
 * Keras 3 `result_type`: the dtype two or more operands promote to. JS numbers are weak:
 * they take the tensor's dtype unless a float number meets an integer tensor (then floatx).
 */
export function resultType(...operands: DTypeOperand[]): DType {
  let strong: DType | null = null;
  let weak: 'weak-int' | 'weak-float' | 'weak-bool' | null = null;
  for (const d of operands) {
    if (d === 'weak-int' || d === 'weak-float' || d === 'weak-bool') {
      if (weak === null || d === 'weak-float' || (d === 'weak-int' && weak === 'weak-bool')) weak = d;
      continue;
    }
    if (strong === null) strong = d;
    else if (strong !== d) {
      if ((strong === 'float16' && d === 'bfloat16') || (strong === 'bfloat16' && d === 'float16')) strong = 'float32';
      else strong = RANK[d] > RANK[strong] ? d : strong;
    }
  }
  if (strong === null) return weak === 'weak-float' ? FLOATX : weak === 'weak-bool' ? 'bool' : 'int32';
  if (weak === 'weak-float' && !isFloat(strong)) return FLOATX;
  if (weak === 'weak-int' && strong === 'bool') return 'int32';
  return strong;
}
