import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops } = keras;

describe('zeros / ones / full', () => {
  it('fills a shape with floatx by default', () => {
    const z = ops.zeros([2, 3]);
    expect(z.dtype).toBe('float32');
    expectClose(z, [[0, 0, 0], [0, 0, 0]], { shape: [2, 3] });
    const o = ops.ones(3);
    expect(o.dtype).toBe('float32');
    expectClose(o, [1, 1, 1], { shape: [3] });
  });

  it('takes a dtype positionally or as an option', () => {
    const z = ops.zeros([2], 'int32');
    expect(z.dtype).toBe('int32');
    expectClose(z, [0, 0]);
    const o = ops.ones([1, 2], { dtype: 'float64' });
    expect(o.dtype).toBe('float64');
    expectClose(o, [[1, 1]]);
    expect(ops.ones([2], 'bool').arraySync()).toEqual([true, true]);
  });

  it('handles scalars and size-0 dims', () => {
    const s = ops.ones([]);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(1);
    const e = ops.zeros([0, 4]);
    expect(e.shape).toEqual([0, 4]);
    expect(e.dataSync().length).toBe(0);
  });

  it('full uses the fill value, floatx by default, and the given dtype', () => {
    const f = ops.full([2, 2], 7);
    expect(f.dtype).toBe('float32');
    expectClose(f, [[7, 7], [7, 7]]);
    const i = ops.full([3], 2.7, 'int32');
    expect(i.dtype).toBe('int32');
    expectClose(i, [2, 2, 2]);
    expect(ops.full([2], 5, 'bool').arraySync()).toEqual([true, true]);
    expect(ops.full([2], 0, 'bool').arraySync()).toEqual([false, false]);
    expectClose(ops.full([2], -Infinity), [-Infinity, -Infinity]);
  });

  it('full broadcasts a tensor fill value and differentiates through it', () => {
    expectClose(ops.full([2, 3], [1, 2, 3]), [[1, 2, 3], [1, 2, 3]]);
    expectClose(ops.full([2, 2], [[1], [2]], 'int32'), [[1, 1], [2, 2]]);
    checkGrad((v) => ops.full([2, 3], v, 'float64'), [randomTensor([3], 1)]);
  });

  it('rejects bad shapes and dtypes naming the op', () => {
    expect(() => ops.zeros([2, -1])).toThrow(/zeros: shape must be .*non-negative.*\[2,-1\]/);
    expect(() => ops.ones([1.5])).toThrow(/ones: shape/);
    expect(() => ops.zeros([2], 'int8' as never)).toThrow(/unknown dtype "int8"/);
    expect(() => ops.full([2], [1, 2, 3])).toThrow(/full: cannot broadcast shapes \(3,\) and \(2,\)/);
    expect(() => ops.full([2], [[1], [2]])).toThrow(/full: fillValue of shape \(2, 1\) cannot be broadcast to \(2,\)/);
    expect(() => ops.zeros([2], { dtpye: 'int32' } as never)).toThrow(/zeros: unknown option "dtpye"/);
  });

  it('empty gives a tensor of the shape and dtype (zeros here)', () => {
    const e = ops.empty([2, 1], 'int32');
    expect(e.dtype).toBe('int32');
    expectClose(e, [[0], [0]], { shape: [2, 1] });
    expect(ops.empty(3).dtype).toBe('float32');
  });

  it('zerosLike / onesLike / fullLike (from elementwise) keep shape and dtype', () => {
    const x = ops.convertToTensor([[1, 2, 3]]);
    expectClose(ops.zerosLike(x), [[0, 0, 0]], { shape: [1, 3] });
    expect(ops.onesLike(x).dtype).toBe('int32');
    expectClose(ops.fullLike(x, 2.5, 'float32'), [[2.5, 2.5, 2.5]]);
  });
});

describe('arange', () => {
  it('one argument counts from 0; integers give int32', () => {
    const a = ops.arange(5);
    expect(a.dtype).toBe('int32');
    expectClose(a, [0, 1, 2, 3, 4], { shape: [5] });
  });

  it('start, stop, step including negative steps', () => {
    expectClose(ops.arange(2, 8, 2), [2, 4, 6]);
    expectClose(ops.arange(5, 0, -2), [5, 3, 1]);
    expectClose(ops.arange(-3, -1), [-3, -2]);
  });

  it('any float argument gives float32', () => {
    const a = ops.arange(0, 1, 0.25);
    expect(a.dtype).toBe('float32');
    expectClose(a, [0, 0.25, 0.5, 0.75]);
    const b = ops.arange(1.5);
    expect(b.dtype).toBe('float32');
    expectClose(b, [0, 1]);
    // ceil((1 - 0) / 0.1) = 10 elements, as numpy.
    expect(ops.arange(0, 1, 0.1).shape).toEqual([10]);
  });

  it('explicit dtype, positional or as options', () => {
    const a = ops.arange(3, { dtype: 'float64' });
    expect(a.dtype).toBe('float64');
    expectClose(a, [0, 1, 2]);
    const b = ops.arange(1, 4, 1, 'float32');
    expect(b.dtype).toBe('float32');
    expectClose(b, [1, 2, 3]);
    const c = ops.arange(0, { stop: 6, step: 3 });
    expectClose(c, [0, 3]);
  });

  it('empty ranges have size 0', () => {
    expect(ops.arange(0).shape).toEqual([0]);
    expect(ops.arange(5, 2).shape).toEqual([0]);
    expect(ops.arange(2, 5, -1).shape).toEqual([0]);
  });

  it('rejects a zero step and non-finite bounds', () => {
    expect(() => ops.arange(0, 5, 0)).toThrow(/arange: step must not be zero/);
    expect(() => ops.arange(Infinity)).toThrow(/arange: start must be a finite number/);
  });
});

describe('linspace', () => {
  it('includes the endpoint by default', () => {
    const l = ops.linspace(0, 1, 5);
    expect(l.dtype).toBe('float32');
    expectClose(l, [0, 0.25, 0.5, 0.75, 1]);
    expect(ops.linspace(2, 3).shape).toEqual([50]);
  });

  it('endpoint false, num 1 and num 0', () => {
    expectClose(ops.linspace(0, 1, { num: 4, endpoint: false }), [0, 0.25, 0.5, 0.75]);
    expectClose(ops.linspace(3, 7, 1), [3]);
    expect(ops.linspace(3, 7, 0).shape).toEqual([0]);
  });

  it('the last sample equals stop exactly', () => {
    const l = ops.linspace(0, 0.3, 7, true, false, 'float64');
    expect(l.dataSync()[6]).toBe(0.3);
  });

  it('retstep returns the step', () => {
    const [s, step] = ops.linspace(0, 10, { num: 5, retstep: true });
    expectClose(s, [0, 2.5, 5, 7.5, 10]);
    expectClose(step, 2.5);
    const [, nanStep] = ops.linspace(0, 10, 1, true, true);
    expect(Number.isNaN(nanStep.item())).toBe(true);
  });

  it('integer dtypes floor the samples, as numpy', () => {
    const l = ops.linspace(-1, 2, 4, true, false, 'int32');
    expect(l.dtype).toBe('int32');
    expectClose(l, [-1, 0, 1, 2]);
    expectClose(ops.linspace(0, 1, 3, true, false, 'int32'), [0, 0, 1]);
    expectClose(ops.linspace(-1, 0, 3, true, false, 'int32'), [-1, -1, 0]);
  });

  it('tensor bounds broadcast; samples go along axis (negative too)', () => {
    expectClose(ops.linspace([0, 10], [1, 20], 3), [[0, 10], [0.5, 15], [1, 20]], { shape: [3, 2] });
    expectClose(ops.linspace([0, 10], [1, 20], { num: 3, axis: -1 }), [[0, 0.5, 1], [10, 15, 20]], { shape: [2, 3] });
    expectClose(ops.linspace([[0], [1]], [2, 4], 2, true, false, null, 1), [[[0, 0], [2, 4]], [[1, 1], [2, 4]]], { shape: [2, 2, 2] });
    expect(ops.linspace([0, 1], 5, 0).shape).toEqual([0, 2]);
  });

  it('a float64 bound gives float64', () => {
    expect(ops.linspace(ops.convertToTensor(new Float64Array([0])), 1, 3).dtype).toBe('float64');
  });

  it('differentiates with respect to start and stop', () => {
    checkGrad((a, b) => ops.linspace(a, b, 4), [randomTensor([2], 1), randomTensor([2], 2)]);
    checkGrad((a, b) => ops.linspace(a, b, { num: 3, endpoint: false, axis: 1 }), [randomTensor([2], 3), randomTensor([], 4)]);
  });

  it('rejects a bad num and axis', () => {
    expect(() => ops.linspace(0, 1, -1)).toThrow(/linspace: num must be a non-negative integer/);
    expect(() => ops.linspace(0, 1, { axis: 2 })).toThrow(/linspace: axis=2 is out of range/);
    expect(() => ops.linspace([0, 1], [1, 2, 3], 3)).toThrow(/linspace: cannot broadcast shapes \(2,\) and \(3,\)/);
  });
});

describe('eye / identity / tri', () => {
  it('eye: square, rectangular and offset diagonals', () => {
    const e = ops.eye(3);
    expect(e.dtype).toBe('float32');
    expectClose(e, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expectClose(ops.eye(2, 3, 1), [[0, 1, 0], [0, 0, 1]]);
    expectClose(ops.eye(3, 2, -1), [[0, 0], [1, 0], [0, 1]]);
    expectClose(ops.eye(2, { k: 5 }), [[0, 0], [0, 0]]);
    const i = ops.eye(2, { dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    expectClose(i, [[1, 0], [0, 1]]);
  });

  it('eye with size-0 and size-1 dims', () => {
    expect(ops.eye(0).shape).toEqual([0, 0]);
    expect(ops.eye(2, 0).shape).toEqual([2, 0]);
    expectClose(ops.eye(1), [[1]]);
  });

  it('identity', () => {
    expectClose(ops.identity(2), [[1, 0], [0, 1]]);
    expect(ops.identity(3, 'bool').arraySync()).toEqual([[true, false, false], [false, true, false], [false, false, true]]);
  });

  it('tri: ones at and below diagonal k', () => {
    expectClose(ops.tri(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
    expectClose(ops.tri(2, 4, 1), [[1, 1, 0, 0], [1, 1, 1, 0]]);
    const t = ops.tri(3, { k: -1, dtype: 'int32' });
    expect(t.dtype).toBe('int32');
    expectClose(t, [[0, 0, 0], [1, 0, 0], [1, 1, 0]]);
  });

  it('rejects negative sizes and a non-integer k', () => {
    expect(() => ops.eye(-1)).toThrow(/eye: shape must be/);
    expect(() => ops.tri(2, 2, 0.5)).toThrow(/tri: k must be an integer/);
  });
});

describe('creation inside a trace', () => {
  it('records graph nodes that evaluate to the values', () => {
    const g = keras.trace((x) => ops.add(ops.add(x, ops.eye(2)), ops.full([2, 2], 3)), [{ shape: [2, 2] }]);
    const names = g.nodes.map((n) => n.op.name);
    expect(names).toContain('arange');
    expect(names).toContain('fill');
    const [y] = keras.ir.run(g, [ops.ones([2, 2])]);
    expectClose(y, [[5, 4], [4, 5]]);
  });

  it('arange and linspace are symbolic with static shapes', () => {
    const g = keras.trace(() => [ops.arange(4), ops.linspace(0, 1, 3), ops.zeros([2], 'int32')], []);
    expect(g.outputs.map((t) => t.shape)).toEqual([[4], [3], [2]]);
    expect(g.outputs.every((t) => t.isSymbolic)).toBe(true);
    const [a, l, z] = keras.ir.run(g, []);
    expectClose(a, [0, 1, 2, 3]);
    expectClose(l, [0, 0.5, 1]);
    expectClose(z, [0, 0]);
  });

  it('linspace over an unknown dim differentiates into a graph', () => {
    const g = keras.trace((x) => ops.sum(ops.linspace(x, 1, 3)), [{ shape: [null], dtype: 'float64' }]);
    const [value, grad] = keras.ir.run(keras.ir.differentiate(g), [ops.convertToTensor(new Float64Array([0, 2]))]);
    // Samples x, (x + 1) / 2, 1: sum 1.5 + 4.5, d/dx 1.5 each.
    expectClose(value, 6);
    expectClose(grad, [1.5, 1.5]);
  });
});
