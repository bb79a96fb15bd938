import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';

const { ops } = keras;
const m = () => ops.convertToTensor([[1, 2, 3], [4, 5, 6]], 'float32');

describe('reductions', () => {
  it('sum over all, one, negative and several axes, with keepdims', () => {
    expectClose(ops.sum(m()), 21, { shape: [] });
    expectClose(ops.sum(m(), 0), [5, 7, 9]);
    expectClose(ops.sum(m(), -1), [6, 15]);
    expectClose(ops.sum(m(), 1, true), [[6], [15]], { shape: [2, 1] });
    expectClose(ops.sum(m(), { axis: [0, 1], keepdims: true }), [[21]], { shape: [1, 1] });
    expect(ops.sum([[1, 2]]).dtype).toBe('int32');
    expect(ops.sum([true, true, false]).item()).toBe(2);
  });

  it('handles size-0 and size-1 axes', () => {
    const empty = ops.reshape(ops.convertToTensor(new Float32Array(0)), [2, 0]);
    expectClose(ops.sum(empty, 1), [0, 0]);
    expectClose(ops.prod(empty, 1), [1, 1]);
    expect(() => ops.max(empty, 1)).toThrow(/max: zero-size reduction over axis 1 of shape \(2, 0\)/);
    expectClose(ops.mean(ops.convertToTensor([[3]], 'float32'), 0), [3]);
  });

  it('mean, max, min, prod, var, std, logsumexp', () => {
    expectClose(ops.mean(m(), 0), [2.5, 3.5, 4.5]);
    expect(ops.mean([1, 2]).dtype).toBe('float32');
    expectClose(ops.max(m(), 1), [3, 6]);
    expectClose(ops.min(m(), 0), [1, 2, 3]);
    expectClose(ops.amax(m()), 6);
    expectClose(ops.prod(m(), 1), [6, 120]);
    expectClose(ops.var(m(), 1), [2 / 3, 2 / 3]);
    expectClose(ops.std(m(), 0), [1.5, 1.5, 1.5]);
    expectClose(ops.logsumexp(ops.convertToTensor([1000, 1000], 'float64')), 1000 + Math.log(2), { rtol: 1e-12 });
    expectClose(ops.logsumexp(ops.convertToTensor([[0, Math.log(3)], [-Infinity, -Infinity]], 'float64'), 1), [Math.log(4), -Infinity]);
  });

  it('var/std/moments run the single-pass moments primitive: 1e4 + noise within 1 ulp of float64, float64 kept, all axes', () => {
    const values = Array.from({ length: 6 * 50 }, (_, i) => 1e4 + Math.sin(i * 12.9898) * 1.3);
    const x32 = ops.reshape(ops.convertToTensor(Float32Array.from(values)), [6, 50]);
    const rounded = Array.from(x32.dataSync());
    for (const axis of [1, 0] as const) {
      // Reference: float64 two-pass over the float32 values; E[x^2] - E[x]^2 in float32 would be off by ~1e4 x.
      const rows = axis === 1 ? 6 : 50, n = axis === 1 ? 50 : 6;
      const at = (r: number, k: number) => rounded[axis === 1 ? r * 50 + k : k * 50 + r]!;
      const want = Array.from({ length: rows }, (_, r) => {
        let mean = 0;
        for (let k = 0; k < n; k++) mean += at(r, k) / n;
        let ss = 0;
        for (let k = 0; k < n; k++) ss += (at(r, k) - mean) ** 2;
        return ss / n;
      });
      const got = Array.from(ops.var(x32, axis).dataSync());
      got.forEach((g, i) => expect(Math.abs(g - want[i]!), `var axis ${axis} output ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(2 ** -23 * want[i]!));
    }
    const x64 = ops.convertToTensor([[1, 2, 3, 4], [10, 10, 10, 10]], 'float64');
    expect(ops.var(x64, 1).dtype).toBe('float64');
    expectClose(ops.var(x64, 1), [1.25, 0], { rtol: 1e-15 });
    expectClose(ops.std(x64, { axis: 1, keepdims: true }), [[Math.sqrt(1.25)], [0]], { shape: [2, 1], rtol: 1e-15 });
    expectClose(ops.var(m()), 35 / 12, { shape: [] });
    expect(ops.var([[1, 2], [3, 4]], 0).dtype, 'ints give floatx').toBe('float32');
  });

  it('logsumexp: one axis, trailing axes and all axes by the primitive, other axes by the composite; infinities and NaN', () => {
    const x = ops.convertToTensor([[[0, 1], [2, 3]], [[4, 5], [6, Math.log(2)]]], 'float64');
    const lse = (vals: number[]) => Math.log(vals.reduce((a, v) => a + Math.exp(v), 0));
    expectClose(ops.logsumexp(x, [1, 2]), [lse([0, 1, 2, 3]), lse([4, 5, 6, Math.log(2)])], { rtol: 1e-14 });
    expectClose(ops.logsumexp(x, [0, 2], true), [[[lse([0, 1, 4, 5])], [lse([2, 3, 6, Math.log(2)])]]], { shape: [1, 2, 1], rtol: 1e-14 });
    expectClose(ops.logsumexp(x), lse([0, 1, 2, 3, 4, 5, 6, Math.log(2)]), { shape: [], rtol: 1e-14 });
    expectClose(ops.logsumexp(x, 0), [[lse([0, 4]), lse([1, 5])], [lse([2, 6]), lse([3, Math.log(2)])]], { rtol: 1e-14 });
    const special = ops.convertToTensor([[-Infinity, -Infinity], [1, Infinity], [NaN, 1], [NaN, Infinity], [-Infinity, 0]], 'float32');
    expect(Array.from(ops.logsumexp(special, 1).dataSync())).toEqual([-Infinity, Infinity, NaN, NaN, 0]);
    expect(Array.from(ops.logsumexp(ops.zeros([3, 0]), 1).dataSync()), 'empty axis: log(0)').toEqual([-Infinity, -Infinity, -Infinity]);
  });

  it('var, std, moments and logsumexp name themselves for bad axes', () => {
    expect(() => ops.var(m(), 2)).toThrow(/var: axis=2 is out of range for a tensor of rank 2/);
    expect(() => ops.std(m(), [0, 0])).toThrow(/var: repeated axis/);
    expect(() => ops.moments(m(), 3)).toThrow(/moments: axis=3 is out of range/);
    expect(() => ops.logsumexp(m(), -3)).toThrow(/logsumexp: axis=-3 is out of range/);
  });

  it('any and all read non-zero as true', () => {
    expect(ops.any([[0, 1], [0, 0]], 1).arraySync()).toEqual([true, false]);
    expect(ops.all([[2, 1], [0, 3]], -1).arraySync()).toEqual([true, false]);
  });

  it('argmax and argmin pick the first extreme; axis null flattens', () => {
    const x = ops.convertToTensor([[1, 9, 9], [7, 2, 7]], 'float32');
    expectClose(ops.argmax(x, 1), [1, 0]);
    expect(ops.argmax(x, 1).dtype).toBe('int32');
    expectClose(ops.argmin(x, 0), [0, 1, 1]);
    expectClose(ops.argmax(x), 1, { shape: [] });
    expectClose(ops.argmax(x, -1, true), [[1], [0]], { shape: [2, 1] });
    expectClose(ops.argmax(ops.convertToTensor([1, NaN, 3], 'float32')), 1);
  });

  it('cumsum and cumprod', () => {
    expectClose(ops.cumsum(m(), 1), [[1, 3, 6], [4, 9, 15]]);
    expectClose(ops.cumsum(m(), 0), [[1, 2, 3], [5, 7, 9]]);
    expectClose(ops.cumsum(m()), [1, 3, 6, 10, 15, 21]);
    expectClose(ops.cumprod(m(), -1), [[1, 2, 6], [4, 20, 120]]);
    expect(ops.cumsum([true, true]).dtype).toBe('int32');
  });

  it('norm: vector and matrix orders', () => {
    const v = ops.convertToTensor([3, -4], 'float32');
    expectClose(ops.norm(v), 5);
    expectClose(ops.norm(v, 1), 7);
    expectClose(ops.norm(v, Infinity), 4);
    expectClose(ops.norm(v, -Infinity), 3);
    expectClose(ops.norm(v, 0), 2);
    expectClose(ops.norm(v, 3), Math.cbrt(27 + 64), { rtol: 1e-6 });
    const a = ops.convertToTensor([[1, -2], [3, 4]], 'float32');
    expectClose(ops.norm(a), Math.sqrt(30), { rtol: 1e-6 });
    expectClose(ops.norm(a, 'fro', [0, 1]), Math.sqrt(30), { rtol: 1e-6 });
    expectClose(ops.norm(a, 1, [0, 1]), 6);
    expectClose(ops.norm(a, Infinity, [0, 1]), 7);
    expectClose(ops.norm(a, 2, 1), [Math.sqrt(5), 5], { rtol: 1e-6 });
    expect(() => ops.norm(a, 2, [0, 1])).toThrow(/norm: matrix ord=2 is not supported/);
  });

  it('rejects bad axes with the op name', () => {
    expect(() => ops.sum(m(), 2)).toThrow(/sum: axis=2 is out of range for a tensor of rank 2/);
    expect(() => ops.mean(m(), [0, 0])).toThrow(/mean: repeated axis/);
    expect(() => ops.argmax(m(), 1.5)).toThrow(/argmax: axis must be an integer/);
  });

  const GRADS: [string, (x: keras.Tensor) => keras.Tensor][] = [
    ['sum axis 1', (x) => ops.sum(x, 1)],
    ['sum all', (x) => ops.sum(x)],
    ['mean axis 0 keepdims', (x) => ops.mean(x, 0, true)],
    ['prod axis -1', (x) => ops.prod(x, -1)],
    ['max axis 1', (x) => ops.max(x, 1)],
    ['min all', (x) => ops.min(x)],
    ['var axis 1', (x) => ops.var(x, 1)],
    ['std axis 0', (x) => ops.std(x, 0)],
    ['logsumexp axis 1', (x) => ops.logsumexp(x, 1)],
    ['logsumexp all', (x) => ops.logsumexp(x)],
    ['logsumexp axis 0 keepdims', (x) => ops.logsumexp(x, 0, true)],
    ['var all keepdims', (x) => ops.var(x, null, true)],
    ['moments mean and variance axis 0', (x) => { const [mu, v] = ops.moments(x, 0); return ops.add(ops.multiply(mu, 3), v); }],
    ['cumsum axis 1', (x) => ops.cumsum(x, 1)],
    ['cumprod axis 0', (x) => ops.cumprod(x, 0)],
    ['norm 2', (x) => ops.norm(x)],
    ['norm 1 axis 1', (x) => ops.norm(x, 1, 1)],
    ['norm inf matrix', (x) => ops.norm(x, Infinity, [0, 1])],
  ];
  for (const [name, fn] of GRADS) {
    it(`${name} gradient matches finite differences`, () => checkGrad(fn, [randomTensor([3, 4], name.length, 0.2, 2)]));
  }

  it('max gradient splits ties equally', () => {
    expectClose(keras.grad((x: keras.Tensor) => ops.max(x))(ops.convertToTensor([1, 3, 3], 'float64')), [0, 0.5, 0.5]);
  });
});
