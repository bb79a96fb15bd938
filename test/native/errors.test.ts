/** Bad input to the native addon raises JS errors that name the op and the shapes, and leaks nothing. */
import { describe, expect, it } from 'vitest';
import { addon } from './helpers.js';

const native = addon();
const f32 = (shape: number[]) =>
  native.createTensor(new Float32Array(shape.reduce((x, y) => x * y, 1)), shape, 'float32');

describe('native errors', () => {
  it('names matmul and both shapes on a contraction mismatch', () => {
    const a = f32([2, 3]);
    const b = f32([4, 5]);
    expect(() => native.runKernel('matmul', [a, b])).toThrowError(/matmul.*\(2, 3\).*\(4, 5\)/);
    try {
      native.runKernel('matmul', [a, b]);
    } catch (error) {
      expect((error as Error).name).toBe('ShapeError');
    }
  });

  it('mentions transposes and batch broadcasting failures', () => {
    expect(() => native.runKernel('matmul', [f32([3, 2]), f32([2, 3])], { transposeB: true }))
      .toThrowError(/transposeA=false, transposeB=true/);
    expect(() => native.runKernel('matmul', [f32([2, 3, 4]), f32([5, 4, 6])]))
      .toThrowError(/matmul: cannot broadcast .*\(2, 3, 4\) and \(5, 4, 6\)/);
    expect(() => native.runKernel('matmul', [f32([]), f32([3])])).toThrowError(/rank >= 1/);
  });

  it('rejects the async variant with the same message', async () => {
    await expect(native.runKernelAsync('matmul', [f32([2, 3]), f32([4, 5])]))
      .rejects.toThrowError(/matmul.*\(2, 3\).*\(4, 5\)/);
  });

  it('rejects mixed dtypes, disposed inputs, unknown ops and bad arrays', () => {
    const d = native.createTensor(new Float64Array(6), [3, 2], 'float64');
    expect(() => native.runKernel('matmul', [f32([2, 3]), d])).toThrowError(/matmul.*float32 and float64/);
    const gone = f32([3, 2]);
    gone.dispose();
    expect(gone.disposed).toBe(true);
    expect(() => native.runKernel('matmul', [f32([2, 3]), gone])).toThrowError(/matmul: input 1 was already disposed/);
    expect(() => native.runKernel('no_such_op', [])).toThrowError(/unknown op 'no_such_op'/);
    expect(() => native.createTensor(new Float64Array(6), [2, 3], 'float32')).toThrowError(/Float32Array/);
    expect(() => native.createTensor(new Float32Array(5), [2, 3], 'float32')).toThrowError(/\(2, 3\) holds 6/);
    expect(() => native.createTensor(new Float32Array(1), [-1], 'float32')).toThrowError(/non-negative/);
    expect(() => native.createTensor([1, 2] as never, [2], 'float32')).toThrowError(/Float32Array/);
    // A view into a larger buffer is copied from its own first element.
    const view = native.createTensor(new Int32Array([1, 2, 3, 4, 5]).subarray(2, 4), [2], 'int32');
    expect(Array.from(view.read()), 'createTensor of a subarray').toEqual([3, 4]);
    view.dispose();
    expect(() => native.runKernel('matmul', [{} as never, f32([1])])).toThrowError(/not a NativeTensor/);
  });

  it('leaks no memory on the error path, and dispose() returns every byte', () => {
    const before = native.memoryInfo().liveBytes;
    const a = f32([64, 32]);
    const b = f32([31, 8]);
    for (let i = 0; i < 20; i++) expect(() => native.runKernel('matmul', [a, b])).toThrow();
    a.dispose();
    b.dispose();
    expect(native.memoryInfo().liveBytes).toBe(before);
  });
});

describe('native backend info', () => {
  it('reports the ISA, threads, build and compiler', () => {
    const info = native.backendInfo();
    expect(info.availableIsas).toContain('portable');
    expect(info.availableIsas).toContain(info.isa);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.build).toMatch(/node-gyp|cmake-js/);
    expect(info.kernels.f32Gemm).toMatch(/^f32_gemm_\d+x\d+_/);
    expect(info.ops).toContain('matmul');
  });

  it('round-trips every dtype through createTensor and read', () => {
    const cases = [
      [new Float32Array([1.5, -2]), 'float32'],
      [new Float64Array([1e-300, 3]), 'float64'],
      [new Int32Array([-7, 2 ** 31 - 1]), 'int32'],
      [new Uint8Array([1, 0]), 'bool'],
    ] as const;
    for (const [data, dtype] of cases) {
      const t = native.createTensor(data, [2], dtype);
      expect(t.dtype).toBe(dtype);
      expect(t.read()).toEqual(data);
      t.dispose();
    }
  });

  it('refuses an ISA this CPU lacks or an unknown name', () => {
    expect(() => native.setIsa('sse9')).toThrowError(/unknown ISA/);
  });

  it('measures a positive FMA peak', () => {
    expect(native.peakFlops(1, 0.05)).toBeGreaterThan(0);
  });
});
