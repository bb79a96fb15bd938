import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops } = keras;

const f64 = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v, 'float64');
/** 1..n as a float32 tensor of `shape`. */
const iota = (shape: number[], start = 1) => ops.reshape(ops.convertToTensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + start)), shape);

describe('conv: hand-computed values', () => {
  it('2D valid, one channel', () => {
    const x = iota([1, 3, 3, 1]);
    const k = ops.reshape(ops.convertToTensor([1, 2, 3, 4], 'float32'), [2, 2, 1, 1]);
    expectClose(ops.conv(x, k), [[[[37], [47]], [[67], [77]]]], { shape: [1, 2, 2, 1] });
  });

  it('mixes channels with the [kh, kw, cin, cout] kernel layout', () => {
    const x = ops.convertToTensor([[[[1, 10], [2, 20]], [[3, 30], [4, 40]]]], 'float32');
    const k = ops.convertToTensor([[[[1, 0, 1], [0, 1, 1]]]], 'float32');
    expectClose(ops.conv(x, k), [[[[1, 10, 11], [2, 20, 22]], [[3, 30, 33], [4, 40, 44]]]], { shape: [1, 2, 2, 3] });
  });

  it('1D with stride 2 and with dilation 2', () => {
    const x = iota([1, 7, 1]);
    const k = ops.reshape(ops.convertToTensor([1, 2, 3], 'float32'), [3, 1, 1]);
    expectClose(ops.conv(x, k, 2), [14, 26, 38], { shape: [1, 3, 1] });
    expectClose(ops.conv(x, k, { dilationRate: 2 }), [22, 28, 34], { shape: [1, 3, 1] });
    // Strides as a one-entry list, padding case-insensitive (Keras lowercases it).
    expectClose(ops.conv(x, k, [2], 'VALID'), [14, 26, 38]);
  });

  it("'same' puts the odd padding pixel after (even kernels, strides)", () => {
    const x = iota([1, 4, 1]);
    expectClose(ops.conv(x, ops.reshape(ops.convertToTensor([1, 10], 'float32'), [2, 1, 1]), 1, 'same'), [21, 32, 43, 4]);
    // in 5, k 4, s 2: out 3, total pad 3 -> 1 before, 2 after.
    expectClose(ops.conv(iota([1, 5, 1]), ops.ones([4, 1, 1]), 2, 'same'), [6, 14, 9], { shape: [1, 3, 1] });
    // Odd kernel: one each side.
    expectClose(ops.conv(x, ops.ones([3, 1, 1]), { padding: 'same' }), [3, 6, 9, 7]);
    // 2D, 2x2 kernel of ones: pads (0, 1) in each dim.
    expectClose(ops.conv(iota([1, 3, 3, 1]), ops.ones([2, 2, 1, 1]), 1, 'same'), [12, 16, 9, 24, 28, 15, 15, 17, 9], { shape: [1, 3, 3, 1] });
    // 'same' with dilation: effective kernel 3 -> one each side.
    expectClose(ops.conv(x, ops.reshape(ops.convertToTensor([1, 10], 'float32'), [2, 1, 1]), { padding: 'same', dilationRate: 2 }), [20, 31, 42, 3]);
  });

  it('channels_first transposes around the same kernel', () => {
    const x = ops.convertToTensor([[[[1, 2], [3, 4]], [[10, 20], [30, 40]]]], 'float32');
    const k = ops.convertToTensor([[[[1, 0, 1], [0, 1, 1]]]], 'float32');
    expectClose(ops.conv(x, k, 1, 'valid', 'channels_first'), [[[[1, 2], [3, 4]], [[10, 20], [30, 40]], [[11, 22], [33, 44]]]], { shape: [1, 3, 2, 2] });
    const y = ops.conv(x, ops.ones([2, 1, 2, 1]), { dataFormat: 'channels_first' });
    expectClose(y, [[[[44, 66]]]], { shape: [1, 1, 1, 2] });
  });

  it('3D', () => {
    expectClose(ops.conv(iota([1, 2, 2, 2, 1]), ops.ones([2, 2, 2, 1, 1])), [36], { shape: [1, 1, 1, 1, 1] });
    expectClose(ops.conv(iota([1, 2, 2, 2, 1]), iota([2, 2, 2, 1, 1])), [204]);
    const picked = ops.conv(iota([1, 3, 3, 3, 1], 0), ops.full([1, 1, 1, 1, 1], 2), 2);
    expectClose(picked, [0, 4, 12, 16, 36, 40, 48, 52], { shape: [1, 2, 2, 2, 1] });
  });

  it('grouped when inputs have a multiple of the kernel input channels', () => {
    const x = ops.convertToTensor([[[1, 2, 3, 4]]], 'float32');
    const k = ops.convertToTensor([[[1, 10], [100, 1000]]], 'float32');
    expectClose(ops.conv(x, k), [[[201, 4030]]]);
  });

  it('batches, int inputs and size-0 batches', () => {
    const x = ops.convertToTensor([[[1], [2], [3]], [[4], [5], [6]]]);
    const y = ops.conv(x, ops.convertToTensor([[[1]], [[-1]]]));
    expect(y.dtype).toBe('float32');
    expectClose(y, [[[-1], [-1]], [[-1], [-1]]], { shape: [2, 2, 1] });
    expect(ops.conv(ops.zeros([0, 5, 2]), ops.ones([3, 2, 4])).shape).toEqual([0, 3, 4]);
    expect(ops.conv(ops.zeros([1, 5, 2], 'float64'), ops.ones([3, 2, 4], 'float64')).dtype).toBe('float64');
  });
});

describe('depthwiseConv and separableConv', () => {
  const x = ops.convertToTensor([[[1, 10], [2, 20], [3, 30]]], 'float32');
  const dk = ops.convertToTensor([[[1, 0], [1, 1]], [[0, 1], [1, -1]]], 'float32');

  it('depthwise: output channel c * multiplier + m', () => {
    expectClose(ops.depthwiseConv(x, dk), [[[1, 2, 30, -10], [2, 3, 50, -10]]], { shape: [1, 2, 4] });
    // channels_first and 'same'
    const y = ops.depthwiseConv(ops.transpose(x, [0, 2, 1]), ops.ones([2, 2, 1]), 1, 'same', 'channels_first');
    expectClose(y, [[[3, 5, 3], [30, 50, 30]]], { shape: [1, 2, 3] });
  });

  it('separable: depthwise then a 1x1 pointwise conv', () => {
    expectClose(ops.separableConv(x, dk, ops.ones([1, 4, 1])), [[[23], [45]]], { shape: [1, 2, 1] });
    expectClose(ops.separableConv(x, dk, ops.convertToTensor([[[1, 0], [0, 0], [0, 0], [0, 2]]], 'float32'), { strides: 2 }), [[[1, -20]]]);
  });
});

describe('convTranspose', () => {
  const x = ops.convertToTensor([[[1], [2]]], 'float32');
  const k = ops.reshape(ops.convertToTensor([1, 10, 100], 'float32'), [3, 1, 1]);

  it('scatters each input times the kernel at stride steps', () => {
    expectClose(ops.convTranspose(x, k, 2), [1, 10, 102, 20, 200], { shape: [1, 5, 1] });
    expectClose(ops.convTranspose(x, k, 2, 'same'), [1, 10, 102, 20], { shape: [1, 4, 1] });
    expectClose(ops.convTranspose(x, k, 2, 'valid', 1), [1, 10, 102, 20, 200, 0], { shape: [1, 6, 1] });
    expectClose(ops.convTranspose(x, k, { strides: 2, padding: 'same', outputPadding: 1 }), [1, 10, 102, 20], { shape: [1, 4, 1] });
    expectClose(ops.convTranspose(x, k, { strides: 2, padding: 'same', outputPadding: 0 }), [10, 102, 20], { shape: [1, 3, 1] });
    expectClose(ops.convTranspose(x, k, 1), [1, 12, 120, 200], { shape: [1, 4, 1] });
    // Stride smaller than the kernel: valid output is in * s + max(k - s, 0).
    expectClose(ops.convTranspose(x, ops.ones([2, 1, 1]), 3), [1, 1, 0, 2, 2, 0], { shape: [1, 6, 1] });
    // 'same' with strides larger than the kernel: output in * s, the far padding crops nothing.
    expectClose(ops.convTranspose(x, ops.ones([2, 1, 1]), 3, 'same'), [1, 1, 0, 2, 2, 0], { shape: [1, 6, 1] });
    // Dilation 2 spreads the taps.
    expectClose(ops.convTranspose(x, ops.reshape(ops.convertToTensor([1, 10], 'float32'), [2, 1, 1]), { dilationRate: 2 }), [1, 2, 10, 20]);
  });

  it('2D with channels: kernel is [kh, kw, out, in]', () => {
    const x2 = ops.convertToTensor([[[[1], [2]], [[3], [4]]]], 'float32');
    const y = ops.convTranspose(x2, ops.ones([2, 2, 1, 1]), 2);
    expectClose(y, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], { shape: [1, 4, 4, 1] });
    const y2 = ops.convTranspose(x2, ops.convertToTensor([[[[1], [-1]]]], 'float32'));
    expectClose(y2, [[[[1, -1], [2, -2]], [[3, -3], [4, -4]]]]);
    const cf = ops.convTranspose(ops.transpose(x2, [0, 3, 1, 2]), ops.ones([2, 2, 1, 1]), { strides: 2, dataFormat: 'channels_first' });
    expectClose(cf, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], { shape: [1, 1, 4, 4] });
  });

  it('is the gradient of conv with respect to its input', () => {
    const xin = randomTensor([1, 7, 2], 3);
    const kk = randomTensor([3, 2, 2], 4);
    const dy = randomTensor([1, 4, 2], 5);
    const gx = keras.grad((v: Tensor) => ops.sum(ops.multiply(ops.conv(v, kk, 2, 'same'), dy)))(xin) as Tensor;
    const t = ops.convTranspose(dy, kk, 2, 'same', 0);
    expectClose(t, gx, { rtol: 1e-12, atol: 1e-12 });
    // 2D with strides, dilation and output padding chosen so the sizes round-trip.
    const x2 = randomTensor([1, 7, 6, 2], 6);
    const k2 = randomTensor([2, 3, 2, 3], 7);
    const dy2 = randomTensor([1, 4, 2, 3], 8);
    const opts = { strides: [2, 3], padding: 'same' as const, dilationRate: [2, 1] };
    const g2 = keras.grad((v: Tensor) => ops.sum(ops.multiply(ops.conv(v, k2, opts), dy2)))(x2) as Tensor;
    expectClose(ops.convTranspose(dy2, k2, { ...opts, outputPadding: [0, 2] }), g2, { rtol: 1e-12, atol: 1e-12 });
  });
});

describe('pooling', () => {
  const x4 = iota([1, 4, 4, 1]);

  it('maxPool: valid, strides, same (padding never wins)', () => {
    expectClose(ops.maxPool(x4, 2), [[[[6], [8]], [[14], [16]]]], { shape: [1, 2, 2, 1] });
    expectClose(ops.maxPool(x4, 2, 1), [6, 7, 8, 10, 11, 12, 14, 15, 16], { shape: [1, 3, 3, 1] });
    expectClose(ops.maxPool(x4, 3, 2, 'same'), [11, 12, 15, 16], { shape: [1, 2, 2, 1] });
    expectClose(ops.maxPool(ops.convertToTensor([[[-1], [-2], [-3]]], 'float32'), 2, { strides: 2, padding: 'same' }), [-1, -3]);
    expectClose(ops.maxPool(x4, [1, 4]), [4, 8, 12, 16], { shape: [1, 4, 1, 1] });
  });

  it('maxPool keeps int dtype, pools channels independently, 3D and channels_first', () => {
    const xi = ops.convertToTensor([[[1, 9], [5, 2], [3, 4]]]);
    const y = ops.maxPool(xi, 2, 1);
    expect(y.dtype).toBe('int32');
    expectClose(y, [[[5, 9], [5, 4]]]);
    expectClose(ops.maxPool(iota([1, 2, 2, 2, 1]), 2), [8], { shape: [1, 1, 1, 1, 1] });
    expectClose(ops.maxPool(ops.transpose(x4, [0, 3, 1, 2]), 2, null, 'valid', 'channels_first'), [6, 8, 14, 16], { shape: [1, 1, 2, 2] });
  });

  it("averagePool: 'same' leaves padding out of the count", () => {
    expectClose(ops.averagePool(iota([1, 5, 1]), 2, 2, 'same'), [1.5, 3.5, 5], { shape: [1, 3, 1] });
    expectClose(ops.averagePool(iota([1, 4, 1]), 3, 1, 'same'), [1.5, 2, 3, 3.5]);
    expectClose(ops.averagePool(x4, 3, 2, 'same'), [6, 7.5, 12, 13.5], { shape: [1, 2, 2, 1] });
    expectClose(ops.averagePool(x4, 2), [3.5, 5.5, 11.5, 13.5], { shape: [1, 2, 2, 1] });
    expectClose(ops.averagePool(ops.transpose(x4, [0, 3, 1, 2]), 2, { dataFormat: 'channels_first' }), [3.5, 5.5, 11.5, 13.5], { shape: [1, 1, 2, 2] });
    const yi = ops.averagePool(ops.convertToTensor([[[1], [2]]]), 2);
    expect(yi.dtype).toBe('float32');
    expectClose(yi, [1.5]);
    expectClose(ops.averagePool(iota([1, 2, 2, 2, 1]), 2), [4.5]);
  });
});

describe('gradients (float64 finite differences)', () => {
  it('conv wrt inputs and kernel: valid, strides, same with even kernels, dilation', () => {
    const x = randomTensor([2, 4, 4, 2], 1);
    const k = randomTensor([2, 2, 2, 3], 2);
    checkGrad((a, b) => ops.conv(a, b), [x, k]);
    checkGrad((a, b) => ops.conv(a, b, 2, 'same'), [x, k]);
    checkGrad((a, b) => ops.conv(a, b, { padding: 'same', dilationRate: 2 }), [x, randomTensor([2, 3, 2, 1], 3)]);
  });

  it('conv: grouped, 1D, 3D, channels_first', () => {
    checkGrad((a, b) => ops.conv(a, b, [2]), [randomTensor([1, 6, 4], 4), randomTensor([3, 2, 2], 5)]);
    checkGrad((a, b) => ops.conv(a, b, 1, 'same'), [randomTensor([1, 3, 2, 3, 1], 6), randomTensor([2, 2, 2, 1, 2], 7)]);
    checkGrad((a, b) => ops.conv(a, b, 1, 'same', 'channels_first'), [randomTensor([1, 2, 3, 3], 8), randomTensor([2, 2, 2, 1], 9)]);
  });

  it('depthwiseConv and separableConv', () => {
    const x = randomTensor([1, 4, 3, 2], 10);
    checkGrad((a, b) => ops.depthwiseConv(a, b, 1, 'same'), [x, randomTensor([2, 2, 2, 2], 11)]);
    checkGrad((a, b, c) => ops.separableConv(a, b, c, 2, 'same'), [x, randomTensor([3, 3, 2, 1], 12), randomTensor([1, 1, 2, 3], 13)]);
  });

  it('convTranspose (its gradients are conv and the filter gradient)', () => {
    const x = randomTensor([1, 3, 2, 2], 14);
    const k = randomTensor([3, 2, 3, 2], 15);
    checkGrad((a, b) => ops.convTranspose(a, b, 2), [x, k]);
    checkGrad((a, b) => ops.convTranspose(a, b, 2, 'same', 1), [x, k]);
    checkGrad((a, b) => ops.convTranspose(a, b, [1, 2], 'same'), [x, k]);
    checkGrad((a, b) => ops.convTranspose(a, b, { strides: 3, padding: 'same', dilationRate: [2, 1] }), [x, k]);
  });

  it('second order: the filter gradient is differentiable in inputs and dy', () => {
    const k = randomTensor([2, 2, 3], 16);
    const filterGrad = (x: Tensor, dy: Tensor) => keras.grad((kk: Tensor) => ops.sum(ops.multiply(ops.conv(x, kk, 2, 'same'), dy)))(k) as Tensor;
    checkGrad(filterGrad, [randomTensor([1, 5, 2], 17), randomTensor([1, 3, 3], 18)]);
  });

  it('maxPool and averagePool', () => {
    const x = randomTensor([2, 4, 5, 2], 19);
    checkGrad((a) => ops.maxPool(a, 2), [x]);
    checkGrad((a) => ops.maxPool(a, 3, 2, 'same'), [x]);
    checkGrad((a) => ops.averagePool(a, 3, 2, 'same'), [x]);
    checkGrad((a) => ops.averagePool(a, [2, 1], 1, 'valid', 'channels_first'), [x]);
    checkGrad((a) => ops.maxPool(a, 2, 1, 'same'), [randomTensor([1, 3, 1], 20)]);
    checkGrad((a) => ops.averagePool(a, 2, 1, 'same'), [randomTensor([1, 2, 3, 2, 1], 21)]);
  });

  it('maxPool sends the gradient to the first maximum on ties', () => {
    const x = f64([[[1], [3], [3], [2]]]);
    const g = keras.grad((v: Tensor) => ops.sum(ops.maxPool(v, 2, 1)))(x) as Tensor;
    expectClose(g, [[[0], [2], [1], [0]]]);
  });

  it('second order: averagePool gradient is differentiable', () => {
    const x = randomTensor([1, 5, 2], 22);
    const poolGrad = (dy: Tensor) => keras.grad((v: Tensor) => ops.sum(ops.multiply(ops.averagePool(v, 2, 2, 'same'), dy)))(x) as Tensor;
    checkGrad(poolGrad, [randomTensor([1, 3, 2], 23)]);
  });
});

describe('symbolic shapes', () => {
  it('infers conv, pool and transpose shapes with an unknown batch and runs the graph', () => {
    const k = randomTensor([3, 3, 1, 2], 24);
    const g = keras.trace(
      (x: Tensor) => {
        const c = ops.conv(x, k, 2, 'same');
        return [c, ops.maxPool(c, 2), ops.convTranspose(c, ops.ones([2, 2, 2, 2], 'float64'), 2)];
      },
      [{ shape: [null, 5, 5, 1], dtype: 'float64' }],
    );
    expect(g.outputs.map((t) => t.shape)).toEqual([
      [null, 3, 3, 2],
      [null, 1, 1, 2],
      [null, 6, 6, 2],
    ]);
    const x = randomTensor([2, 5, 5, 1], 25);
    const [c] = keras.ir.run(g, [x]);
    expectClose(c, ops.conv(x, k, 2, 'same'), { rtol: 1e-12 });
  });
});

describe('graph gradients', () => {
  it('differentiates a traced conv/pool graph with an unknown batch', () => {
    const g = keras.trace((x: Tensor, k: Tensor) => ops.sum(ops.averagePool(ops.maxPool(ops.conv(x, k, 2, 'same'), 2, 1, 'same'), 2, 1, 'same')), [
      { shape: [null, 5, 4, 2], dtype: 'float64' },
      { shape: [3, 2, 2, 3], dtype: 'float64' },
    ]);
    const dg = keras.ir.differentiate(g);
    expect(dg.outputs.map((t) => t.shape)).toEqual([[], [null, 5, 4, 2], [3, 2, 2, 3]]);
    const x = randomTensor([2, 5, 4, 2], 26);
    const k = randomTensor([3, 2, 2, 3], 27);
    const [, gx, gk] = keras.ir.run(dg, [x, k]);
    const f = (a: Tensor, b: Tensor) => ops.sum(ops.averagePool(ops.maxPool(ops.conv(a, b, 2, 'same'), 2, 1, 'same'), 2, 1, 'same'));
    const [ex, ek] = keras.grad(f, { argnums: [0, 1] })(x, k) as Tensor[];
    expectClose(gx, ex, { rtol: 1e-12, atol: 1e-12 });
    expectClose(gk, ek, { rtol: 1e-12, atol: 1e-12 });
  });
});

describe('errors name the op and the shapes', () => {
  it('conv: mismatched channels, ranks, padding, windows', () => {
    expect(() => ops.conv(ops.zeros([1, 4, 4, 3]), ops.zeros([3, 3, 2, 8]))).toThrow(/conv: .*\(1, 4, 4, 3\).*\(3, 3, 2, 8\)/);
    expect(() => ops.conv(ops.zeros([1, 4, 4, 4]), ops.zeros([3, 3, 2, 3]))).toThrow(/conv: kernel of shape \(3, 3, 2, 3\).*\(1, 4, 4, 4\)/);
    expect(() => ops.conv(ops.zeros([1, 4, 4, 1]), ops.zeros([3, 1, 1]))).toThrow(/conv: kernel of shape \(3, 1, 1\) must have rank 4.*\(1, 4, 4, 1\)/);
    expect(() => ops.conv(ops.zeros([4, 4]), ops.zeros([3, 1, 1]))).toThrow(/conv: inputs must have rank 3, 4 or 5.*\(4, 4\)/);
    expect(() => ops.conv(ops.zeros([1, 4, 1]), ops.zeros([3, 1, 1]), 1, 'full' as 'same')).toThrow(/conv: padding must be 'valid' or 'same'/);
    expect(() => ops.conv(ops.zeros([1, 2, 1]), ops.zeros([3, 1, 1]))).toThrow(/conv: the window .* larger than the padded input.*\(1, 2, 1\).*\(3, 1, 1\)/);
    expect(() => ops.conv(ops.zeros([1, 4, 1]), ops.zeros([3, 1, 1]), 0)).toThrow(/conv: strides must be a positive integer/);
    expect(() => ops.conv(ops.zeros([1, 4, 1]), ops.zeros([3, 1, 1]), { dataFormat: 'nhwc' as 'channels_last' })).toThrow(/conv: dataFormat/);
  });

  it('depthwiseConv, convTranspose and pools', () => {
    expect(() => ops.depthwiseConv(ops.zeros([1, 4, 3]), ops.zeros([2, 2, 1]))).toThrow(/depthwiseConv: .*\(1, 4, 3\).*\(2, 2, 1\)/);
    expect(() => ops.convTranspose(ops.zeros([1, 4, 3]), ops.zeros([2, 1, 2]))).toThrow(/convTranspose: .*\(1, 4, 3\).*\(2, 1, 2\)/);
    expect(() => ops.convTranspose(ops.zeros([1, 4, 1]), ops.zeros([2, 1, 1]), 2, 'valid', 2)).toThrow(/convTranspose: outputPadding/);
    expect(() => ops.separableConv(ops.zeros([1, 4, 1]), ops.zeros([2, 1, 1]), ops.zeros([2, 1, 1]))).toThrow(/separableConv: pointwise kernel must be 1x1.*\(2, 1, 1\)/);
    expect(() => ops.maxPool(ops.zeros([4, 4]), 2)).toThrow(/maxPool: inputs must have rank 3, 4 or 5.*\(4, 4\)/);
    expect(() => ops.averagePool(ops.zeros([1, 4, 4, 1]), [2, 2, 2])).toThrow(/averagePool: poolSize must be/);
    expect(() => ops.maxPool(ops.zeros([1, 4, 1]), 5)).toThrow(/maxPool: the window .*\(1, 4, 1\)/);
  });
});
