import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../lib/utils/npy.js';

/** Builds an .npy file by hand, as numpy.save lays it out (version 1.0 or 2.0). */
function npy(header: string, data: Uint8Array, version = 1): Uint8Array {
  const lenBytes = version === 1 ? 2 : 4;
  const pre = 8 + lenBytes;
  const padded = header + ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + padded.length + data.length);
  out.set([0x93, ...Buffer.from('NUMPY'), version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, padded.length, true);
  else dv.setUint32(8, padded.length, true);
  out.set(Buffer.from(padded, 'latin1'), pre);
  out.set(data, pre + padded.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('parseNpy', () => {
  it('reads a uint8 array with its shape', () => {
    const file = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", Uint8Array.of(1, 2, 3, 250, 251, 255));
    const a = parseNpy(file);
    expect(a.dtype).toBe('uint8');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Uint8Array)).toEqual([1, 2, 3, 250, 251, 255]);
  });

  it("accepts '<u1' as uint8 too", () => {
    const a = parseNpy(npy("{'descr': '<u1', 'fortran_order': False, 'shape': (1,), }", Uint8Array.of(7)));
    expect(a).toMatchObject({ dtype: 'uint8', shape: [1] });
  });

  it('reads float32 little-endian values exactly', () => {
    const values = Float32Array.of(1.5, -2.25, 3e-8, Infinity);
    const a = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", bytesOf(values)));
    expect(a.dtype).toBe('float32');
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(values));
  });

  it('reads int64 as BigInt64Array, from a version 2.0 header', () => {
    const values = BigInt64Array.of(-1n, 2n ** 40n, 0n);
    const a = parseNpy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", bytesOf(values), 2));
    expect(a.dtype).toBe('int64');
    expect(Array.from(a.data as BigInt64Array)).toEqual([-1n, 2n ** 40n, 0n]);
  });

  it('reads int32, float64 and bool', () => {
    const i = parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", bytesOf(Int32Array.of(-5, 9))));
    expect(Array.from(i.data as Int32Array)).toEqual([-5, 9]);
    const f = parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", bytesOf(Float64Array.of(Math.PI))));
    expect(f).toMatchObject({ dtype: 'float64', shape: [1, 1] });
    expect((f.data as Float64Array)[0]).toBe(Math.PI);
    const b = parseNpy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.of(1, 0, 1)));
    expect(b.dtype).toBe('bool');
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1]);
  });

  it('reads a scalar (shape ()) as one element', () => {
    const a = parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", bytesOf(Int32Array.of(42))));
    expect(a.shape).toEqual([]);
    expect(Array.from(a.data as Int32Array)).toEqual([42]);
  });

  it('returns an aligned copy even when the file sits at an odd offset', () => {
    const file = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", bytesOf(Float32Array.of(1, 2)));
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    expect(Array.from(parseNpy(shifted.subarray(1)).data as Float32Array)).toEqual([1, 2]);
  });

  it('copies out of a Buffer (whose slice() would share a pooled ArrayBuffer)', () => {
    const file = Buffer.from(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", bytesOf(Int32Array.of(7, -7))));
    const a = parseNpy(file);
    expect(a.data.buffer.byteLength).toBe(8);
    expect(Array.from(a.data as Int32Array)).toEqual([7, -7]);
  });

  it('rejects a bad magic string, naming the file and the problem', () => {
    const file = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", Uint8Array.of(0));
    file[1] = 0x4f; // "\x93OUMPY"
    expect(() => parseNpy(file, 'weights.npy')).toThrow(/weights\.npy.*bad magic/);
  });

  it('rejects data shorter than the shape needs', () => {
    const file = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(8));
    expect(() => parseNpy(file, 'x.npy')).toThrow(/x\.npy.*needs 12 data bytes, found 8/);
  });

  it('rejects big-endian, unknown dtypes and Fortran order', () => {
    const be = npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    expect(() => parseNpy(be)).toThrow(/unsupported dtype descr '>f4'/);
    const obj = npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
    expect(() => parseNpy(obj)).toThrow(/unsupported dtype descr '\|O'/);
    const fortran = npy("{'descr': '|u1', 'fortran_order': True, 'shape': (1, 1), }", new Uint8Array(1));
    expect(() => parseNpy(fortran)).toThrow(/fortran_order=True/);
  });

  it('rejects a header without shape', () => {
    const file = npy("{'descr': '|u1', 'fortran_order': False, }", new Uint8Array(1));
    expect(() => parseNpy(file)).toThrow(/missing 'descr', 'fortran_order' or 'shape'/);
  });
});

describe('encodeNpy', () => {
  it('writes what numpy.save writes: header padded to 64 bytes, then the data', () => {
    const file = encodeNpy({ dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
    const headerLen = new DataView(file.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    const header = Buffer.from(file.subarray(10, 10 + headerLen)).toString('latin1');
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 2\), \} *\n$/);
    expect(parseNpy(file)).toEqual({ dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
  });

  it('round-trips 1-d int64 and uint8', () => {
    const i64 = { dtype: 'int64' as const, shape: [2], data: BigInt64Array.of(-3n, 5n) };
    expect(parseNpy(encodeNpy(i64))).toEqual(i64);
    const u8 = { dtype: 'uint8' as const, shape: [3, 1], data: Uint8Array.of(0, 128, 255) };
    expect(parseNpy(encodeNpy(u8))).toEqual(u8);
  });

  it('rejects data that does not match the shape', () => {
    expect(() => encodeNpy({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array(3) })).toThrow(/holds 4 elements, data has 3/);
  });
});
