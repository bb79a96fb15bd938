/**
 * The native randomUniform kernel reproduces the js backend's Philox4x32-10 stream
 * bit for bit (docs/random.md): float32 and float64 draws for several keys and
 * shapes, the documented seed [42, 0] table, the `like` shape source, on every
 * ISA path this machine has, and the errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import '../../lib/index.js';
import { getOp } from '../../lib/ops/registry.js';
import { JsBackend } from '../../lib/backends/js/index.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import { Tensor } from '../../lib/tensor.js';
import type { NativeTensor } from '../../lib/backends/cpu/native.js';
import type { OutputSpec } from '../../lib/backends/backend.js';
import { addon } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));
const js = new JsBackend();

type Float = 'float32' | 'float64';

function jsDraw(seed: [number, number], shape: number[], dtype: Float): Float32Array | Float64Array {
  const s = new Tensor({ shape: [2], dtype: 'int32', storage: new JsStorage(Int32Array.from(seed)) });
  const attrs = { shape, dtype };
  const specs = getOp('randomUniform').infer([s], attrs) as OutputSpec[];
  return (js.kernel('randomUniform')!([s], attrs, specs) as JsStorage[])[0]!.data as Float32Array | Float64Array;
}

function nativeDraw(seed: [number, number], shape: number[], dtype: Float, like?: NativeTensor): { shape: number[]; dtype: string; values: Float32Array | Float64Array } {
  const s = native.createTensor(Int32Array.from(seed), [2], 'int32');
  const [out] = native.runKernel('randomUniform', like ? [s, like] : [s], { shape, dtype });
  const result = { shape: out!.shape, dtype: out!.dtype, values: out!.read() as Float32Array | Float64Array };
  s.dispose();
  out!.dispose();
  return result;
}

/** Bitwise equality of two float arrays (their bytes). */
function expectBitwise(label: string, got: Float32Array | Float64Array, want: Float32Array | Float64Array): void {
  expect(got.constructor, label).toBe(want.constructor);
  expect(got.length, label).toBe(want.length);
  const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const b = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const e = Math.floor(i / got.BYTES_PER_ELEMENT);
      throw new Error(`${label}: element ${e} is ${got[e]}, the js stream has ${want[e]}`);
    }
  }
}

// docs/random.md section 4, seed [42, 0].
const TABLE_F32 = [0.6129598617553711, 0.4685865044593811, 0.07323169708251953, 0.3408614993095398, 0.9877186417579651, 0.32706332206726074, 0.5139061212539673, 0.45431554317474365];
const TABLE_F64 = [0.6129598801477738, 0.07323173687503892, 0.9877186516453577, 0.513906146990624, 0.825866830783453, 0.6027439592300704, 0.7295992647904146, 0.5864003477925513];

describe.each(isas)('native randomUniform on %s', (isa) => {
  it('matches the documented seed [42, 0] table exactly', () => {
    native.setIsa(isa);
    const f32 = nativeDraw([42, 0], [8], 'float32');
    expect(f32.dtype).toBe('float32');
    expect(Array.from(f32.values)).toEqual(TABLE_F32);
    const f64 = nativeDraw([42, 0], [8], 'float64');
    expect(f64.dtype).toBe('float64');
    expect(Array.from(f64.values)).toEqual(TABLE_F64);
    // Element 5 of the float32 draw is word 0x53ba6cfd: (0x53ba6cfd >>> 8) * 2^-24.
    expect(f32.values[5]).toBe((0x53ba6cfd >>> 8) / 2 ** 24);
  });

  it('is bit-identical to the js stream for several keys, shapes and both float dtypes', () => {
    native.setIsa(isa);
    const seeds: [number, number][] = [[42, 0], [42, 1], [0, 0], [-1, -1], [-(2 ** 31), 2 ** 31 - 1], [123456789, 987654321], [7, -3]];
    const shapes = [[], [1], [3], [5], [2, 3], [4, 0, 2], [7, 11, 13], [1000, 131], [3, 70001]];
    for (const seed of seeds) {
      for (const shape of shapes) {
        for (const dtype of ['float32', 'float64'] as Float[]) {
          const got = nativeDraw(seed, shape, dtype);
          expect(got.shape).toEqual(shape);
          expect(got.dtype).toBe(dtype);
          expectBitwise(`seed ${seed} shape ${JSON.stringify(shape)} ${dtype}`, got.values, jsDraw(seed, shape, dtype));
        }
      }
    }
  });

  it('a shorter draw is a prefix of a longer one with the same key', () => {
    native.setIsa(isa);
    const long = nativeDraw([9, 9], [100003], 'float64').values;
    const short = nativeDraw([9, 9], [37], 'float64').values;
    expectBitwise('prefix', short, long.subarray(0, 37));
  });

  it('a -1 dim takes the size of the same dim of `like` (a TS null dim)', () => {
    native.setIsa(isa);
    const like = native.createTensor(new Float32Array(15), [5, 3], 'float32');
    const got = nativeDraw([1, 2], [-1, 4], 'float32', like);
    expect(got.shape).toEqual([5, 4]);
    expectBitwise('like', got.values, jsDraw([1, 2], [5, 4], 'float32'));
    like.dispose();
  });

  it('errors name the op and the shapes', () => {
    native.setIsa(isa);
    const run = (inputs: NativeTensor[], attrs: Record<string, unknown>): Error => {
      try {
        native.runKernel('randomUniform', inputs, attrs as never);
      } catch (e) {
        return e as Error;
      } finally {
        for (const t of inputs) t.dispose();
      }
      throw new Error('expected an error');
    };
    const seed = () => native.createTensor(Int32Array.from([1, 2]), [2], 'int32');
    let e = run([native.createTensor(new Float32Array(2), [2], 'float32')], { shape: [2], dtype: 'float32' });
    expect(e.name).toBe('DTypeError');
    expect(e.message).toMatch(/randomUniform: seed must be int32 of shape \(2,\), received float32 \(2,\)/);
    e = run([native.createTensor(Int32Array.from([1, 2, 3]), [3], 'int32')], { shape: [2], dtype: 'float32' });
    expect(e.name).toBe('ShapeError');
    expect(e.message).toMatch(/randomUniform: seed must have shape \(2,\), received \(3,\)/);
    e = run([seed()], { shape: [2], dtype: 'int32' });
    expect(e.message).toMatch(/randomUniform: dtype must be float32 or float64, received int32/);
    e = run([seed()], { shape: [-1, 2], dtype: 'float32' });
    expect(e.message).toMatch(/randomUniform: shape has an unknown dim 0; it needs a shape source of the same rank, received none/);
    e = run([seed(), native.createTensor(new Float32Array(3), [3], 'float32')], { shape: [-1, 2], dtype: 'float32' });
    expect(e.message).toMatch(/received \(3,\)/);
    e = run([], { shape: [2], dtype: 'float32' });
    expect(e.message).toMatch(/randomUniform: expected a seed and an optional shape source, received 0 inputs/);
  });
});
