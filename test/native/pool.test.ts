/**
 * Native CPU pooling (maxPool, maxPoolGrad, avgPool, avgPoolGrad) against the js
 * backend's kernels, the reference, on every instruction-set path: 1D/2D/3D,
 * strides, asymmetric and negative padding, windows that see only padding, ties
 * (the first maximum takes the gradient), NaN, float32/float64 and int32 maxPool.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType, NativeTensor, NativeTypedArray } from '../../lib/backends/cpu/native.js';
import { nnKernels } from '../../lib/backends/js/nn.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import '../../lib/ops/nn.js';
import { getOp } from '../../lib/ops/registry.js';
import type { Tensor } from '../../lib/tensor.js';
import { draws } from '../helpers.js';
import { addon, randomArray } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));

type Pair = [number, number];
const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;
type Dtype = keyof typeof ARRAY;

interface Operand {
  shape: number[];
  values: ArrayLike<number>;
}

/** The js kernel of `op`, on operands of `dtype`. */
function jsRun(op: string, inputs: Operand[], attrs: Record<string, unknown>, dtype: Dtype): Operand {
  const specs = inputs.map((t) => ({ shape: t.shape, dtype }));
  const [out] = getOp(op).infer(specs, attrs);
  const fake = inputs.map((t) => ({ shape: t.shape, dtype, storage: new JsStorage(ARRAY[dtype].from(t.values)) }) as unknown as Tensor);
  const [storage] = nnKernels[op]!(fake, attrs, [{ shape: out!.shape as number[], dtype }]) as JsStorage[];
  return { shape: out!.shape as number[], values: storage!.data };
}

function compare(op: string, inputs: Operand[], attrs: Record<string, unknown>, dtype: Dtype, relTol: number, label: string): void {
  const want = jsRun(op, inputs, attrs, dtype);
  const handles = inputs.map((t) => native.createTensor(ARRAY[dtype].from(t.values) as NativeTypedArray, t.shape, dtype as NativeDType));
  const [out] = native.runKernel(op, handles, { ...attrs, padding: (attrs.padding as Pair[]).flat() });
  try {
    expect(out!.shape, label).toEqual(want.shape);
    expect(out!.dtype, label).toBe(dtype);
    const got = out!.read();
    for (let i = 0; i < got.length; i++) {
      const a = got[i]!, b = want.values[i]!;
      const ok = Number.isNaN(b) ? Number.isNaN(a) : a === b || Math.abs(a - b) <= relTol * Math.max(1, Math.abs(b));
      if (!ok) throw new Error(`${label}: element ${i} expected ${b} got ${a}`);
    }
  } finally {
    handles.forEach((h) => h.dispose());
    out!.dispose();
  }
}

interface Case {
  x: number[];
  pool: number[];
  strides?: number[];
  padding?: Pair[];
}

const cases: Case[] = [
  { x: [2, 8, 8, 5], pool: [2, 2] },
  { x: [2, 7, 9, 3], pool: [3, 3], strides: [2, 2], padding: [[1, 1], [1, 1]] },
  { x: [1, 9, 6, 17], pool: [3, 2], strides: [1, 2], padding: [[2, 0], [0, 1]] }, // asymmetric, overlapping
  { x: [1, 6, 6, 4], pool: [2, 2], padding: [[-1, 0], [0, -1]] }, // negative padding crops
  { x: [2, 4, 4, 3], pool: [2, 2], strides: [1, 1], padding: [[2, 0], [0, 0]] }, // first output row sees only padding
  { x: [3, 11, 33], pool: [4], strides: [3], padding: [[1, 2]] }, // 1D, channels past one vector
  { x: [1, 4, 5, 6, 2], pool: [2, 3, 2], strides: [2, 1, 2], padding: [[0, 1], [1, 1], [0, 0]] }, // 3D
  // Windows that tile the input (stride = pool size): an uncovered last row and column, padding,
  // and 1D and 3D.
  { x: [2, 11, 9, 6], pool: [2, 2] },
  { x: [1, 7, 7, 3], pool: [2, 2], padding: [[0, 1], [1, 0]] },
  { x: [2, 10, 5], pool: [3] },
  { x: [1, 5, 4, 7, 2], pool: [2, 2, 3] },
  { x: [1, 1, 1, 1], pool: [1, 1] },
  { x: [4, 3, 3, 1], pool: [3, 3] },
];

function attrsOf(c: Case): { poolSize: number[]; strides: number[]; padding: Pair[] } {
  return { poolSize: c.pool, strides: c.strides ?? c.pool, padding: c.padding ?? c.pool.map((): Pair => [0, 0]) };
}

function checkCase(c: Case, dtype: 'float32' | 'float64', seed: number, ties: boolean): void {
  const attrs = attrsOf(c);
  // Coarse values make ties common: the first maximum must take the gradient.
  const x = { shape: c.x, values: randomArray(size(c.x), seed).map((v) => (ties ? Math.round(v * 2) : v)) };
  const yShape = jsRun('maxPool', [x], attrs, dtype).shape;
  const dy = { shape: yShape, values: randomArray(size(yShape), seed + 1) };
  const label = `${dtype}${ties ? ' ties' : ''} ${JSON.stringify(c)}`;
  const tol = dtype === 'float32' ? 1e-6 : 1e-14;
  compare('maxPool', [x], attrs, dtype, 0, `maxPool ${label}`);
  compare('maxPoolGrad', [x, dy], attrs, dtype, tol, `maxPoolGrad ${label}`);
  compare('avgPool', [x], attrs, dtype, tol, `avgPool ${label}`);
  compare('avgPoolGrad', [dy], { ...attrs, inputSize: c.x.slice(1, -1) }, dtype, tol, `avgPoolGrad ${label}`);
}

/**
 * Random pools: 1-3 spatial dims, windows 1-4, strides equal to the window (disjoint) or 1-3
 * (overlapping or gapped), a third with padding from -1 to 2 a side, channels 1-9 or (a
 * quarter) up to 70. Windows larger than the padded input are left out.
 */
function randomCases(seed: number, count: number): Case[] {
  const draw = draws(seed);
  const out: Case[] = [];
  while (out.length < count) {
    const nsp = 1 + draw(3);
    const c: Case = { x: [1 + draw(3)], pool: [], strides: [], padding: [] };
    let fits = true;
    for (let d = 0; d < nsp; d++) {
      const side = 1 + draw(nsp === 3 ? 7 : 16), k = 1 + draw(4);
      const pad: Pair = draw(3) === 0 ? [draw(4) - 1, draw(4) - 1] : [0, 0];
      c.x.push(side);
      c.pool.push(k);
      c.strides!.push(draw(2) ? k : 1 + draw(3));
      c.padding!.push(pad);
      fits &&= side + pad[0] + pad[1] >= k;
    }
    c.x.push(1 + draw(draw(4) === 0 ? 70 : 9));
    if (fits) out.push(c);
  }
  return out;
}

describe.each(isas)('pooling on the %s path', (isa) => {
  it('float32 and float64 match the js kernels', () => {
    native.setIsa(isa);
    cases.forEach((c, i) => {
      checkCase(c, 'float32', 10 + 2 * i, false);
      checkCase(c, 'float64', 100 + 2 * i, false);
      checkCase(c, 'float32', 300 + 2 * i, true);
      checkCase(c, 'float64', 400 + 2 * i, true);
    });
  });

  it('40 random configurations match in float32 and float64, with and without ties', () => {
    native.setIsa(isa);
    randomCases(2026, 40).forEach((c, i) => {
      checkCase(c, 'float32', 600 + 2 * i, i % 2 === 0);
      checkCase(c, 'float64', 700 + 2 * i, i % 2 === 1);
    });
  });

  it('int32 maxPool matches, and NaN wins a max window', () => {
    native.setIsa(isa);
    for (const c of cases) {
      const x = { shape: c.x, values: randomArray(size(c.x), 7).map((v) => Math.round(v * 100)) };
      compare('maxPool', [x], attrsOf(c), 'int32', 0, `int32 maxPool ${JSON.stringify(c)}`);
    }
    const values = [1, NaN, 3, 2, -1, -2, -3, NaN, 5, 6, 7, 8, 0, 0, 0, 0, 9, 9, 9, 9, NaN, 1, 2, 3];
    const attrs = { poolSize: [2], strides: [2], padding: [[0, 0]] as Pair[] };
    compare('maxPool', [{ shape: [1, 6, 4], values }], attrs, 'float32', 0, 'NaN maxPool');
    compare('maxPoolGrad', [{ shape: [1, 6, 4], values }, { shape: [1, 3, 4], values: randomArray(12, 5) }], attrs, 'float32', 1e-6, 'NaN maxPoolGrad');
    // The same over whole vectors of channels (40 = two AVX-512 vectors and a tail), in
    // overlapping windows (gradients added) and in windows that share no pixel (stored, the
    // last pixel in none): NaN, signed zeros and infinities drawn often enough that windows
    // hold several NaNs or tied maxima.
    const special = [NaN, -0, 0, 1, Infinity, -Infinity, 2];
    const wide = randomArray(7 * 40, 11).map((v) => special[Math.floor((v + 1) * 3.5) % special.length]!);
    const windows = [
      { label: 'overlapping', attrs: { poolSize: [3], strides: [1], padding: [[1, 0]] as Pair[] }, out: 6 },
      { label: 'disjoint', attrs: { poolSize: [2], strides: [2], padding: [[0, 0]] as Pair[] }, out: 3 },
    ];
    for (const { label, attrs: a, out } of windows) {
      for (const dtype of ['float32', 'float64'] as const) {
        compare('maxPool', [{ shape: [1, 7, 40], values: wide }], a, dtype, 0, `NaN maxPool, ${label}, 40 ${dtype} channels`);
        const dy = { shape: [1, out, 40], values: randomArray(out * 40, 12) };
        compare('maxPoolGrad', [{ shape: [1, 7, 40], values: wide }, dy], a, dtype, 1e-6, `NaN maxPoolGrad, ${label}, 40 ${dtype} channels`);
      }
    }
  });
});

describe('pooling by hand', () => {
  it('max and average of a 1D signal, padding not counted; an all-padding window gives -inf / NaN', () => {
    const x = native.createTensor(new Float32Array([1, 5, 2, 4]), [1, 4, 1], 'float32');
    const attrs = { poolSize: [2], strides: [2], padding: [2, 1] };
    const [mx] = native.runKernel('maxPool', [x], attrs);
    const [av] = native.runKernel('avgPool', [x], attrs);
    expect(Array.from(mx!.read())).toEqual([-Infinity, 5, 4]);
    expect(Array.from(av!.read())).toEqual([NaN, 3, 3]);
    const dy = native.createTensor(new Float32Array([10, 20, 30]), [1, 3, 1], 'float32');
    const [gm] = native.runKernel('maxPoolGrad', [x, dy], attrs);
    const [ga] = native.runKernel('avgPoolGrad', [dy], { ...attrs, inputSize: [4] });
    expect(Array.from(gm!.read())).toEqual([0, 20, 0, 30]);
    expect(Array.from(ga!.read())).toEqual([10, 10, 15, 15]);
    [x, mx, av, dy, gm, ga].forEach((t) => t!.dispose());
  });

  it('size-0 batch and channels', () => {
    const x = native.createTensor(new Float32Array(0), [0, 4, 4, 3], 'float32');
    const [y] = native.runKernel('maxPool', [x], { poolSize: [2, 2], strides: [2, 2], padding: [0, 0, 0, 0] });
    expect(y!.shape).toEqual([0, 2, 2, 3]);
    const xc = native.createTensor(new Float64Array(0), [1, 4, 4, 0], 'float64');
    const [yc] = native.runKernel('avgPool', [xc], { poolSize: [2, 2], strides: [1, 1], padding: [0, 0, 0, 0] });
    expect(yc!.shape).toEqual([1, 3, 3, 0]);
    [x, y, xc, yc].forEach((t) => t!.dispose());
  });
});

describe('pooling errors', () => {
  const f32 = (shape: number[]) => native.createTensor(new Float32Array(size(shape)), shape, 'float32');
  const attrs = { poolSize: [2, 2], strides: [2, 2], padding: [0, 0, 0, 0] };

  it('names the op and the shapes', () => {
    expect(() => native.runKernel('maxPool', [f32([4, 4])], attrs)).toThrow(/maxPool: inputs must have rank 3, 4 or 5.*\(4, 4\)/);
    expect(() => native.runKernel('maxPool', [f32([1, 1, 4, 1])], attrs)).toThrow(/maxPool: the window \(size 2, dilation 1\) is larger than the padded input \(1 \+ 0 \+ 0\) for inputs \(1, 1, 4, 1\)/);
    expect(() => native.runKernel('maxPool', [native.createTensor(new Uint8Array(4), [1, 2, 2, 1], 'bool')], attrs)).toThrow(/maxPool: bool inputs are not supported/);
    expect(() => native.runKernel('avgPool', [native.createTensor(new Int32Array(4), [1, 2, 2, 1], 'int32')], attrs)).toThrow(/avgPool: expected a float tensor, received int32 \(1, 2, 2, 1\)/);
    expect(() => native.runKernel('maxPoolGrad', [f32([1, 4, 4, 2]), f32([1, 3, 2, 2])], attrs)).toThrow(/maxPoolGrad: dy of shape \(1, 3, 2, 2\) does not match the pooled shape \(1, 2, 2, 2\) of inputs \(1, 4, 4, 2\)/);
    expect(() => native.runKernel('avgPoolGrad', [f32([1, 2, 2, 2])], { ...attrs, inputSize: [6, 6] })).toThrow(/avgPoolGrad: dy of shape \(1, 2, 2, 2\) does not match the pooled shape \(1, 3, 3, 2\)/);
    expect(() => native.runKernel('avgPool', [f32([1, 4, 4, 2])], { ...attrs, strides: [2] })).toThrow(/avgPool: attribute strides must have 2 entries/);
  });
});
