import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { maskOf, type Layer } from '../../lib/layers/layer.js';
import { layerFromConfig } from '../../lib/layers/registry.js';
import { checkWeightGrads, roundTrip } from './helpers.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops, layers } = keras;

const t = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v);
const f64 = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v, 'float64');

/** Away from the kinks at 0 and the thresholds used below, so finite differences are smooth. */
const smooth = f64([[-2.3, -0.7, 0.4, 1.6], [2.6, 5.3, -1.2, 0.8]]);

describe('ReLU', () => {
  it('plain, maxValue, negativeSlope, threshold, and all together', () => {
    const x = t([-2, -0.5, 0, 0.5, 1, 2, 5, 7]);
    expectClose(new layers.ReLU().apply(x) as Tensor, [0, 0, 0, 0.5, 1, 2, 5, 7]);
    expectClose(new layers.ReLU(6).apply(x) as Tensor, [0, 0, 0, 0.5, 1, 2, 5, 6]);
    expectClose(new layers.ReLU({ negativeSlope: 0.1 }).apply(x) as Tensor, [-0.2, -0.05, 0, 0.5, 1, 2, 5, 7]);
    expectClose(new layers.ReLU({ threshold: 1 }).apply(x) as Tensor, [0, 0, 0, 0, 0, 2, 5, 7]);
    // threshold 1, slope 0.5, max 4: slope * (x - 1) below 1, x in (1, 4), 4 above.
    const all = new layers.ReLU(4, 0.5, 1).apply(x) as Tensor;
    expectClose(all, [-1.5, -0.75, -0.5, -0.25, 0, 2, 4, 4]);
    expectClose(new layers.ReLU({ maxValue: 4, negativeSlope: 0.5 }).apply(x) as Tensor, [-1, -0.25, 0, 0.5, 1, 2, 4, 4]);
    // int32 in, int32 out for the plain case.
    expectClose(new layers.ReLU().apply(ops.convertToTensor([-3, 3], 'int32')) as Tensor, [0, 3]);
  });

  it('float64 gradients', () => {
    for (const args of [{}, { maxValue: 5 }, { negativeSlope: 0.2 }, { maxValue: 5, negativeSlope: 0.3, threshold: 1 }]) {
      const r = new layers.ReLU({ ...args, dtype: 'float64' });
      checkGrad((x) => r.apply(x) as Tensor, [smooth]);
    }
  });

  it('config round trip, mask pass-through, errors', () => {
    const c = roundTrip(new layers.ReLU({ maxValue: 6, negativeSlope: 0.1, threshold: 0.5, name: 'relu_rt' }));
    expect([c.maxValue, c.negativeSlope, c.threshold]).toEqual([6, 0.1, 0.5]);
    expect(roundTrip(new layers.ReLU({ name: 'relu_rt0' })).maxValue).toBeNull();
    const mask = ops.convertToTensor([[true, false]]);
    expect(maskOf(new layers.ReLU().apply(t([[1, 2]]), { mask }) as Tensor)).toBe(mask);
    expect(() => new layers.ReLU(-1)).toThrow(/ReLU: maxValue of a ReLU layer cannot be a negative value. Received: maxValue=-1/);
    expect(() => new layers.ReLU({ negativeSlope: -0.1 })).toThrow(/ReLU: negativeSlope of a ReLU layer cannot be a negative value. Received: negativeSlope=-0.1/);
    expect(() => new layers.ReLU(null, 0, -2)).toThrow(/ReLU: threshold of a ReLU layer cannot be a negative value. Received: threshold=-2/);
  });
});

describe('LeakyReLU', () => {
  it('defaults to negativeSlope 0.3 (Keras 3)', () => {
    const l = new layers.LeakyReLU();
    expect(l.negativeSlope).toBe(0.3);
    expectClose(l.apply(t([-1, 0, 2])) as Tensor, [-0.3, 0, 2]);
    expectClose(new layers.LeakyReLU(0.1).apply(t([-5, 5])) as Tensor, [-0.5, 5]);
    expectClose(new layers.LeakyReLU({ negativeSlope: 0 }).apply(t([-5, 5])) as Tensor, [0, 5]);
  });

  it('float64 gradients, config, errors', () => {
    const l = new layers.LeakyReLU(0.2, { dtype: 'float64' });
    checkGrad((x) => l.apply(x) as Tensor, [smooth]);
    expect(roundTrip(new layers.LeakyReLU({ negativeSlope: 0.05, name: 'lrelu_rt' })).negativeSlope).toBe(0.05);
    expect(() => new layers.LeakyReLU(-0.1)).toThrow(/LeakyReLU: the negativeSlope value of a Leaky ReLU layer cannot be None or negative value. Expected a float. Received: negativeSlope=-0.1/);
    expect(() => new layers.LeakyReLU({ negativeSlope: null as never })).toThrow(/cannot be None or negative/);
  });
});

describe('PReLU', () => {
  it('alpha starts at zero (a ReLU) and is one slope per non-batch element', () => {
    const p = new layers.PReLU();
    const x = t([[-1, 2, -3], [4, -5, 6]]);
    expectClose(p.apply(x) as Tensor, [[0, 2, 0], [4, 0, 6]]);
    expect(p.weights.map((w) => w.shape)).toEqual([[3]]);
    expect(p.trainableWeights.length).toBe(1);
    p.setWeights([[0.1, 0.2, 0.3]]);
    expectClose(p.apply(x) as Tensor, [[-0.1, 2, -0.9], [4, -1, 6]]);
  });

  it('sharedAxes share one slope along those (1-based) axes', () => {
    const p = new layers.PReLU({ sharedAxes: [1, 2] });
    const x = ops.reshape(t([-1, -2, 3, -4, -5, 6, -7, 8]), [1, 2, 2, 2]);
    p.apply(x);
    expect(p.alpha.shape).toEqual([1, 1, 2]);
    p.setWeights([[[[0.5, 2]]]]);
    expectClose(p.apply(x) as Tensor, [-0.5, -4, 3, -8, -2.5, 6, -3.5, 8]);
    const q = new layers.PReLU({ sharedAxes: 1 });
    q.apply(ops.zeros([2, 5, 3]));
    expect(q.alpha.shape).toEqual([1, 3]);
    // A shared axis may have an unknown size.
    const r = new layers.PReLU({ sharedAxes: [1] });
    expect((r.apply(keras.Input({ shape: [null, 4] })) as Tensor).shape).toEqual([null, null, 4]);
    expect(r.alpha.shape).toEqual([1, 4]);
  });

  it('float64 gradients with respect to inputs and alpha', () => {
    const p = new layers.PReLU({ alphaInitializer: keras.initializers.constant(0.25), dtype: 'float64' });
    p.apply(smooth);
    checkGrad((x) => p.apply(x) as Tensor, [smooth]);
    const g = keras.grad(() => ops.sum(p.apply(smooth) as Tensor), { argnums: 0 })(p.alpha) as unknown as Tensor;
    // d/d alpha of -alpha * relu(-x), summed over the batch.
    const xs = smooth.arraySync() as number[][];
    expectClose(g, [0, 1, 2, 3].map((j) => -xs.reduce((s, row) => s + Math.max(-row[j], 0), 0)), { rtol: 1e-12 });
    p.setWeights([f64([0.1, 0.2, 0.3, 0.4])]);
    checkWeightGrads(p, smooth);
  });

  it('config round trip and errors', () => {
    const c = roundTrip(new layers.PReLU({ sharedAxes: [1, 2], alphaInitializer: 'ones', alphaRegularizer: 'l2', name: 'prelu_rt' }));
    expect(c.sharedAxes).toEqual([1, 2]);
    expect(() => new layers.PReLU({ sharedAxes: [0] })).toThrow(/PReLU: sharedAxes must be positive \(1-based, non-batch\) axes, received \[0\]/);
    expect(() => new layers.PReLU({ sharedAxes: [3], name: 'prelu_axes' }).apply(ops.zeros([1, 2]))).toThrow(/Input 0 of layer "prelu_axes" is incompatible with the layer: sharedAxes \[3\] needs at least ndim=4, received shape \(1, 2\)/);
    const p = new layers.PReLU({ name: 'prelu_shape' });
    p.apply(ops.zeros([1, 3]));
    expect(() => p.apply(ops.zeros([1, 4]))).toThrow(/Input 0 of layer "prelu_shape" is incompatible with the layer: expected ndim=2 with non-batch dims matching \[3\] \(1 = shared\), received shape \(1, 4\)/);
    expect(() => new layers.PReLU({ name: 'prelu_unknown' }).apply(keras.Input({ shape: [null] }))).toThrow(/Input 0 of layer "prelu_unknown" is incompatible/);
  });
});

describe('ELU', () => {
  it('x above 0, alpha * (exp(x) - 1) below', () => {
    expectClose(new layers.ELU().apply(t([-1, 0, 2])) as Tensor, [Math.exp(-1) - 1, 0, 2]);
    expectClose(new layers.ELU(0.5).apply(t([-2, 3])) as Tensor, [0.5 * (Math.exp(-2) - 1), 3]);
    expectClose(new layers.ELU({ alpha: 2 }).apply(t([-1])) as Tensor, [2 * (Math.exp(-1) - 1)]);
  });

  it('float64 gradients and config', () => {
    const e = new layers.ELU(0.7, { dtype: 'float64' });
    checkGrad((x) => e.apply(x) as Tensor, [smooth]);
    expect(roundTrip(new layers.ELU({ alpha: 0.7, name: 'elu_rt' })).alpha).toBe(0.7);
  });
});

describe('Softmax', () => {
  const softmaxRow = (r: number[]) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };

  it('over the last axis by default, any axis, or several axes', () => {
    const rows = [[1, 2, 3], [0, 0, 1000]];
    expectClose(new layers.Softmax().apply(t(rows)) as Tensor, rows.map(softmaxRow));
    const cols = new layers.Softmax(0).apply(t([[1, 5], [3, 5]])) as Tensor;
    expectClose(cols, [[softmaxRow([1, 3])[0], 0.5], [softmaxRow([1, 3])[1], 0.5]]);
    const x = [[[1, 2], [3, 4]]];
    const all = softmaxRow([1, 2, 3, 4]);
    expectClose(new layers.Softmax({ axis: [1, 2] }).apply(t(x)) as Tensor, [[[all[0], all[1]], [all[2], all[3]]]], { rtol: 1e-6 });
    expectClose(new layers.Softmax([2]).apply(t(x)) as Tensor, [[softmaxRow([1, 2]), softmaxRow([3, 4])]]);
  });

  it('mask: masked positions get probability 0; a fully masked row is all 0 (Keras)', () => {
    const x = t([[1, 2, 3], [4, 5, 6]]);
    const mask = ops.convertToTensor([[true, false, true], [false, false, false]]);
    const s = new layers.Softmax();
    const y = s.apply(x, { mask }) as Tensor;
    const p = softmaxRow([1, 3]);
    expectClose(y, [[p[0], 0, p[1]], [0, 0, 0]]);
    expect(maskOf(y)).toBe(mask);
    // A broadcastable mask (attention style): (1, 3) over (2, 3).
    expectClose(s.apply(x, { mask: ops.convertToTensor([[false, true, true]]) }) as Tensor, [[0, ...softmaxRow([2, 3])], [0, ...softmaxRow([5, 6])]]);
  });

  it('float64 gradients (with and without a mask), config', () => {
    const s = new layers.Softmax(-1, { dtype: 'float64' });
    checkGrad((x) => s.apply(x) as Tensor, [smooth]);
    const mask = ops.convertToTensor([[true, true, false, true], [false, true, true, true]]);
    checkGrad((x) => s.apply(x, { mask }) as Tensor, [smooth]);
    const multi = new layers.Softmax([0, 1], { dtype: 'float64' });
    checkGrad((x) => multi.apply(x) as Tensor, [smooth]);
    expect(roundTrip(new layers.Softmax({ axis: [1, 2], name: 'softmax_rt' })).axis).toEqual([1, 2]);
    expect(() => new layers.Softmax(3).apply(t([[1, 2]]))).toThrow(/softmax/);
  });

  it('is registered with every other activation layer', () => {
    for (const name of ['ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'Softmax']) {
      expect(layerFromConfig(name, { name: `${name.toLowerCase()}_reg` }).className).toBe(name);
    }
    expect(randomTensor([1], 1).dtype).toBe('float64');
  });
});
