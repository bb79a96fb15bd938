/**
 * Native cast, fullLike and fill against the js backend's kernels, element by element with
 * Object.is (bit-identical but for NaN payloads; -0 and 0 differ), on every instruction-set
 * path: every dtype pair over special values (NaN, +-inf, +-0, around +-2^31 and 2^32, past
 * 2^63, huge, subnormal), lengths that are not a multiple of the 64-element conversion block,
 * blocks with one value out of int32 range among in-range ones, transposed inputs, and tensors
 * large enough for the thread pool; fill values for every dtype.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import { creationKernels } from '../../lib/backends/js/creation.js';
import { elementwiseKernels } from '../../lib/backends/js/elementwise.js';
import { shapeKernels } from '../../lib/backends/js/shape.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import type { Tensor } from '../../lib/tensor.js';
import { addon, randomArray } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));

const DTYPES = ['float32', 'float64', 'int32', 'bool'] as const;
type Dtype = (typeof DTYPES)[number];
const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array } as const;
type Values = InstanceType<(typeof ARRAY)[Dtype]>;
const size = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);

const SPECIAL = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 1.9999, -1.9999, 2, 255, 256, 257, -129,
  2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 31 - 0.5, 2 ** 31 - 128, -(2 ** 31), -(2 ** 31) + 1, -(2 ** 31) - 1,
  -(2 ** 31) - 0.5, -(2 ** 31) - 256, 2 ** 32, 2 ** 32 - 1, 2 ** 32 + 5, -(2 ** 32) - 5, 4294967295.5,
  2 ** 53 + 2, 2 ** 62 + 2 ** 40 + 3 * 2 ** 31, 2 ** 63, -(2 ** 63), 2 ** 63 + 2 ** 11, 2 ** 64 + 2 ** 12, -(2 ** 70) - 2 ** 40,
  1e20, -1e20, 3.4e38, -3.4e38, 3.5e38, 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE,
  5e-324, -5e-324, 2.2250738585072014e-308, 1e-40, -1e-40, 1.401298464324817e-45, 1e-30,
  16777217, 123456789.123, -987654321.987, 2147483647.9, -2147483648.9,
];

/**
 * n values: the special ones first, then random values of magnitude up to `scale` with a special
 * value every 97th (so most 64-element blocks are all within int32 range and some hold one outlier).
 */
function makeValues(n: number, seed: number, scale = 3e9): number[] {
  const random = randomArray(n, seed);
  return Array.from({ length: n }, (_, i) =>
    i < SPECIAL.length ? SPECIAL[i]! : i % 97 === 13 ? SPECIAL[(i / 97 | 0) % SPECIAL.length]! : random[i]! * scale);
}

function fake(values: Values, shape: number[], dtype: Dtype): Tensor {
  return { shape, dtype, storage: new JsStorage(values) } as unknown as Tensor;
}

function jsCast(values: Values, shape: number[], from: Dtype, to: Dtype): Values {
  const [out] = elementwiseKernels.cast!([fake(values, shape, from)], { dtype: to }, [{ shape, dtype: to }]) as JsStorage[];
  return out!.data as Values;
}

function jsTranspose(values: Values, shape: number[], dtype: Dtype): Values {
  const outShape = [shape[1]!, shape[0]!];
  const [out] = shapeKernels.transpose!([fake(values, shape, dtype)], { perm: [1, 0] }, [{ shape: outShape, dtype }]) as JsStorage[];
  return out!.data as Values;
}

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: element ${i} expected ${want[i]} got ${got[i]}`);
  }
}

function checkCast(values: number[], shape: number[], from: Dtype, to: Dtype, transpose = false): void {
  const input = ARRAY[from].from(values) as Values;
  const label = `${from} -> ${to} [${shape}]${transpose ? ' transposed' : ''}`;
  const x = native.createTensor(input as NativeTypedArray, shape, from as NativeDType);
  const xt = transpose ? native.runKernel('transpose', [x], { perm: [1, 0] })[0]! : x;
  const [out] = native.runKernel('cast', [xt], { dtype: to });
  try {
    const source = transpose ? jsTranspose(input, shape, from) : input;
    expect(out!.dtype, label).toBe(to);
    expectSame(out!.read(), jsCast(source, transpose ? [shape[1]!, shape[0]!] : shape, from, to), label);
  } finally {
    out!.dispose();
    if (xt !== x) xt.dispose();
    x.dispose();
  }
}

const LENGTHS = [0, 1, 7, 63, 64, 65, 127, 129, 1000, 4099];
const FILL_VALUES: (number | boolean)[] = [
  0, -0, 1, -1, 2.7, -2.7, 255, 256, 257, -129, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 31 + 1, -(2 ** 31) - 1,
  2 ** 32 + 5, 2 ** 53 + 2, 1e300, 3.5e38, 3.4e38, 5e-324, 1e-40, true, false,
];

describe.each(isas)('cast and fills on the %s path', (isa) => {
  it('cast matches the js backend for every dtype pair over special values and ragged lengths', () => {
    native.setIsa(isa);
    for (const from of DTYPES) {
      for (const to of DTYPES) {
        LENGTHS.forEach((n, k) => checkCast(makeValues(n, 3 + k), [n], from, to));
        checkCast(makeValues(300, 40, 100), [3, 100], from, to); // every block in int32 range
        checkCast(makeValues(0, 41), [3, 0], from, to);
      }
    }
  });

  it('cast of transposed inputs, and of tensors split over the thread pool', () => {
    native.setIsa(isa);
    for (const from of DTYPES) {
      for (const to of DTYPES) {
        checkCast(makeValues(37 * 131, 50), [37, 131], from, to, true);
        checkCast(makeValues(100003, 51), [100003], from, to);
        checkCast(makeValues(517 * 389, 52, 1e5), [517, 389], from, to, true);
      }
    }
  });

  it('float32 -> bool of an output larger than the last-level cache (streaming stores, ragged runs)', () => {
    native.setIsa(isa);
    // More bool bytes than the last-level cache, and a length whose per-thread runs start off the
    // 16-byte boundary (runs of 16385 elements here), so the plain head and tail are taken too.
    const n = native.backendInfo().cpu.l3Bytes + 37;
    const input = new Float32Array(n);
    const random = randomArray(n, 60);
    // Zeros (+0 and -0) every 5th element, a special value every 97th, so each 16-byte store mixes 0 and 1.
    for (let i = 0; i < n; i++) input[i] = i % 97 === 13 ? SPECIAL[(i / 97 | 0) % SPECIAL.length]! : i % 5 === 0 ? (i % 2 ? -0 : 0) : random[i]!;
    const x = native.createTensor(input, [n], 'float32');
    const [out] = native.runKernel('cast', [x], { dtype: 'bool' });
    try {
      expectSame(out!.read(), jsCast(input, [n], 'float32', 'bool'), `float32 -> bool [${n}]`);
    } finally {
      out!.dispose();
      x.dispose();
    }
  });

  it('fullLike and fill store every value as the js backend does, for every dtype', () => {
    native.setIsa(isa);
    for (const dtype of DTYPES) {
      for (const shape of [[5], [3, 67], [70001]]) {
        const x = native.createTensor(new Float32Array(size(shape)), shape, 'float32');
        try {
          for (const value of FILL_VALUES) {
            const label = `${dtype} ${value} [${shape}]`;
            const [like] = native.runKernel('fullLike', [x], { value, dtype });
            const [wantLike] = elementwiseKernels.fullLike!([], { value, dtype }, [{ shape, dtype }]) as JsStorage[];
            expectSame(like!.read(), wantLike!.data, `fullLike ${label}`);
            like!.dispose();
            if (typeof value === 'boolean') continue; // fill takes numbers
            const [filled] = native.runKernel('fill', [], { shape, value, dtype });
            const [wantFill] = creationKernels.fill!([], { shape, value, dtype }, [{ shape, dtype }]) as JsStorage[];
            expectSame(filled!.read(), wantFill!.data, `fill ${label}`);
            filled!.dispose();
          }
        } finally {
          x.dispose();
        }
      }
    }
  });
});
