/**
 * The single-pass softmax, logSoftmax and sparseSoftmaxCrossEntropy primitives, through
 * the public functions and run1: hand formulas, the old composite formulas, stability on
 * -inf and large magnitudes, float64 gradient checks, and errors naming the op.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { run1 } from '../../lib/engine.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops } = keras;

const f64 = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v, 'float64');

// The composite formulas the primitives replaced (kept here as the reference).
function oldSoftmax(t: Tensor, axis: number): Tensor {
  const e = ops.exp(ops.subtract(t, ops.max(t, axis, true)));
  return ops.divide(e, ops.sum(e, axis, true));
}
function oldLogSoftmax(t: Tensor, axis: number): Tensor {
  const s = ops.subtract(t, ops.max(t, axis, true));
  return ops.subtract(s, ops.log(ops.sum(ops.exp(s), axis, true)));
}
function oldSparseCce(labels: number[], logits: Tensor): Tensor {
  const n = logits.shape[logits.rank - 1] as number;
  const hot = ops.cast(ops.equal(ops.expandDims(ops.convertToTensor(labels, 'int32'), -1), ops.convertToTensor(Int32Array.from({ length: n }, (_, i) => i))), logits.dtype);
  return ops.negative(ops.sum(ops.multiply(hot, oldLogSoftmax(logits, -1)), -1));
}

function rowsOf(t: Tensor): number[][] {
  return t.arraySync() as number[][];
}

describe('softmax / logSoftmax primitives', () => {
  it('match the hand formula on rows, any axis, negative axes and the options form', () => {
    const e = [1, Math.E, Math.E ** 2];
    const s = e[0] + e[1] + e[2];
    expectClose(ops.softmax([[1, 2, 3], [0, 1, 2]]), [e.map((v) => v / s), e.map((v) => v / s)]);
    expectClose(ops.logSoftmax(f64([1, 2, 3])), [1, 2, 3].map((v) => v - 3 - Math.log(s / Math.E ** 2)), { rtol: 1e-14 });
    // axis 0 of [3, 2]: columns are the rows
    expectClose(ops.softmax([[1, 5], [2, 5], [3, 5]], 0), [[e[0] / s, 1 / 3], [e[1] / s, 1 / 3], [e[2] / s, 1 / 3]]);
    expectClose(ops.softmax(f64([[1, 5], [2, 5], [3, 5]]), { axis: -2 }), [[e[0] / s, 1 / 3], [e[1] / s, 1 / 3], [e[2] / s, 1 / 3]], { rtol: 1e-14 });
    expectClose(ops.logSoftmax([[1, 5], [2, 5], [3, 5]], [0]), [[Math.log(e[0] / s), -Math.log(3)], [Math.log(e[1] / s), -Math.log(3)], [Math.log(e[2] / s), -Math.log(3)]]);
    // int input is cast to float32
    const si = ops.softmax([1, 1]);
    expect(si.dtype).toBe('float32');
    expectClose(si, [0.5, 0.5]);
  });

  it('one axis runs the primitive; several axes / null keep the composite', () => {
    const x = randomTensor([3, 4, 5], 3, -3, 3);
    for (const axis of [0, 1, 2, -1]) {
      const a = axis < 0 ? axis + 3 : axis;
      expectClose(run1('softmax', [x], { axis: a }), oldSoftmax(x, a), { rtol: 1e-14, atol: 1e-16 });
      expectClose(ops.softmax(x, axis), oldSoftmax(x, a), { rtol: 1e-14, atol: 1e-16 });
      expectClose(ops.logSoftmax(x, axis), oldLogSoftmax(x, a), { rtol: 1e-13, atol: 1e-14 });
    }
    expectClose(ops.softmax(f64([[0, 0], [0, 0]]), null), [[0.25, 0.25], [0.25, 0.25]]);
    expectClose(ops.sum(ops.softmax(x, [0, 2])), 4, { rtol: 1e-13 });
    const x32 = ops.cast(randomTensor([6, 67], 4, -5, 5), 'float32');
    expectClose(ops.softmax(x32), oldSoftmax(x32, 1), { rtol: 1e-6, atol: 1e-9 });
    expectClose(ops.logSoftmax(x32), oldLogSoftmax(x32, 1), { rtol: 1e-6, atol: 1e-5 });
  });

  it('size-0 and size-1 dims', () => {
    expect(ops.softmax(ops.zeros([0, 3])).shape).toEqual([0, 3]);
    expect(ops.logSoftmax(ops.zeros([2, 0])).shape).toEqual([2, 0]);
    expectClose(ops.softmax(f64([[7], [-3]])), [[1], [1]]);
    expectClose(ops.logSoftmax(f64([[7], [-3]])), [[0], [0]]);
  });

  it('rows with -inf and huge magnitudes stay finite (no NaN, no overflow)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = ops.convertToTensor([[-Infinity, 0, Math.log(3)], [3e38, 3e38, -3e38], [1000, 999, -Infinity]], dtype);
      const p = rowsOf(ops.softmax(x));
      expectClose(ops.convertToTensor(p), [[0, 0.25, 0.75], [0.5, 0.5, 0], [1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1)), 0]], { rtol: 1e-6 });
      const lp = rowsOf(ops.logSoftmax(x));
      expect(lp[0][0]).toBe(-Infinity);
      expect(lp[1][2]).toBe(dtype === 'float32' ? -Infinity : -6e38 - Math.LN2); // float32 overflows to -inf, as the composite
      expect(lp.flat().some((v) => Number.isNaN(v))).toBe(false);
      expect(lp[0][1]).toBeCloseTo(-Math.log(4), 6);
      expect(lp[1][0]).toBeCloseTo(-Math.LN2, 6);
    }
  });

  it('float64 gradients (through the public functions, several axes)', () => {
    const x = randomTensor([3, 4], 5, -2, 2);
    const w = randomTensor([3, 4], 6, -1, 1);
    checkGrad((t) => ops.sum(ops.multiply(ops.softmax(t), w)), [x]);
    checkGrad((t) => ops.sum(ops.multiply(ops.softmax(t, 0), w)), [x]);
    checkGrad((t) => ops.sum(ops.multiply(ops.logSoftmax(t), w)), [x]);
    checkGrad((t) => ops.sum(ops.multiply(ops.logSoftmax(t, -2), w)), [x]);
    // second order goes through the grad rules' own ops
    const g = keras.grad((t: Tensor) => ops.sum(ops.multiply(ops.softmax(t), w)));
    checkGrad((t) => ops.sum(ops.multiply(g(t) as Tensor, w)), [x]);
    const lg = keras.grad((t: Tensor) => ops.sum(ops.multiply(ops.logSoftmax(t), ops.square(ops.add(t, w)))));
    checkGrad((t) => ops.sum(ops.multiply(lg(t) as Tensor, w)), [x]);
  });

  it('logSoftmaxGrad: dy - exp(y) * sum(dy) per row, by hand; its gradient wrt y and dy against finite differences', () => {
    // y = log [1/4, 3/4], dy = [1, 0]: sum(dy) = 1, dx = dy - [1/4, 3/4].
    expectClose(run1('logSoftmaxGrad', [f64([[Math.log(0.25), Math.log(0.75)]]), f64([[1, 0]])], { axis: 1 }), [[0.75, -0.75]], { rtol: 1e-15 });
    // Along axis 0: columns are the rows.
    expectClose(run1('logSoftmaxGrad', [f64([[Math.log(0.5)], [Math.log(0.5)]]), f64([[2], [4]])], { axis: 0 }), [[-1], [1]], { rtol: 1e-15 });
    const y = randomTensor([3, 5], 8, -3, 0);
    const dy = randomTensor([3, 5], 9, -1, 1);
    const w = randomTensor([3, 5], 10, -1, 1);
    checkGrad((a, b) => ops.sum(ops.multiply(run1('logSoftmaxGrad', [a!, b!], { axis: 1 }), w)), [y, dy]);
    expect(() => run1('logSoftmaxGrad', [f64([[1, 2]]), f64([[1, 2, 3]])], { axis: 1 })).toThrow(/logSoftmaxGrad: dy must be float64 \(1, 2\) like y, received float64 \(1, 3\)/);
  });

  it('errors name the op and the shape', () => {
    expect(() => ops.softmax([1, 2], 3)).toThrow(/softmax/);
    expect(() => run1('softmax', [f64([1, 2])], { axis: 1 })).toThrow(/softmax: axis 1 is out of range for input of shape \(2,\)/);
    expect(() => run1('logSoftmax', [ops.convertToTensor([1, 2], 'int32')], { axis: 0 })).toThrow(/logSoftmax: expected a float tensor, received int32 \(2,\)/);
  });
});

describe('sparseSoftmaxCrossEntropy primitive', () => {
  it('matches the hand formula and the old composite, out-of-range labels give 0', () => {
    const logits = f64([[1, 2, 3], [0, 0, 0], [5, 1, -1], [2, 2, 2]]);
    const labels = [2, 0, 7, -1];
    const lse = (r: number[]) => Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
    const want = [lse([1, 2, 3]) - 3, Math.log(3), 0, 0];
    expectClose(run1('sparseSoftmaxCrossEntropy', [ops.convertToTensor(labels, 'int32'), logits]), want, { rtol: 1e-14 });
    expectClose(ops.sparseCategoricalCrossentropy(labels, logits, true), want, { rtol: 1e-14 });
    expectClose(ops.sparseCategoricalCrossentropy(labels, logits, true), oldSparseCce(labels, logits), { rtol: 1e-14 });
    const l32 = ops.cast(randomTensor([5, 2, 9], 7, -4, 4), 'float32');
    const lab = [[0, 8], [3, 4], [9, 1], [2, 2], [5, -3]];
    expectClose(ops.sparseCategoricalCrossentropy(lab, l32, { fromLogits: true }), ops.reshape(oldSparseCce(lab.flat(), ops.reshape(l32, [10, 9])), [5, 2]), { rtol: 1e-6, atol: 1e-6 });
    // trailing size-1 labels dim and float labels still work
    expectClose(ops.sparseCategoricalCrossentropy([[2], [0]], f64([[1, 2, 3], [0, 0, 0]]), true), want.slice(0, 2), { rtol: 1e-14 });
    expectClose(ops.sparseCategoricalCrossentropy([2.0], [[1, 2, 3]], true), [0.40760596444438013]);
    // a non-last axis keeps the composite path
    expectClose(ops.sparseCategoricalCrossentropy([2, 0], ops.transpose(f64([[1, 2, 3], [0, 0, 0]])), { fromLogits: true, axis: 0 }), want.slice(0, 2), { rtol: 1e-14 });
  });

  it('size-0 batch, rank-1 logits, -inf and huge logits stay finite', () => {
    expect(ops.sparseCategoricalCrossentropy(ops.zeros([0], 'int32'), ops.zeros([0, 4]), true).shape).toEqual([0]);
    expectClose(ops.sparseCategoricalCrossentropy(1, f64([0, Math.log(3)]), true), Math.log(4 / 3), { rtol: 1e-14 });
    for (const dtype of ['float32', 'float64'] as const) {
      const logits = ops.convertToTensor([[-Infinity, 0, Math.log(3)], [3e38, 3e38, -3e38]], dtype);
      const v = ops.sparseCategoricalCrossentropy([2, 0], logits, true).arraySync() as number[];
      expect(v[0]).toBeCloseTo(Math.log(4 / 3), 6);
      expect(v[1]).toBeCloseTo(Math.LN2, 6);
    }
  });

  it('float64 gradient wrt logits (labels non-differentiable), out-of-range rows get 0', () => {
    const logits = randomTensor([4, 5], 8, -2, 2);
    const labels = ops.convertToTensor([1, 4, 0, 9], 'int32');
    const w = f64([0.5, -1, 2, 3]);
    checkGrad((l) => ops.sum(ops.multiply(ops.sparseCategoricalCrossentropy(labels, l, true), w)), [logits]);
    const g = keras.grad((l: Tensor) => ops.sum(ops.multiply(ops.sparseCategoricalCrossentropy(labels, l, true), w)))(logits) as Tensor;
    const p = rowsOf(ops.softmax(logits));
    const want = p.map((row, r) => row.map((v, k) => (r === 3 ? 0 : (v - (k === [1, 4, 0][r] ? 1 : 0)) * [0.5, -1, 2][r])));
    expectClose(g, want, { rtol: 1e-12, atol: 1e-15 });
    // second order through the gradient's primitive: wrt the logits, and wrt the loss weights
    // (its upstream gradient dy)
    const gf = keras.grad((l: Tensor) => ops.sum(ops.multiply(ops.sparseCategoricalCrossentropy(labels, l, true), w)));
    checkGrad((l) => ops.sum(ops.multiply(gf(l) as Tensor, randomTensor([4, 5], 9))), [logits]);
    const gw = (weights: Tensor) => keras.grad((l: Tensor) => ops.sum(ops.multiply(ops.sparseCategoricalCrossentropy(labels, l, true), weights)))(logits) as Tensor;
    checkGrad((weights) => ops.sum(ops.multiply(gw(weights), randomTensor([4, 5], 10))), [w]);
  });

  it('errors name the op and the shapes', () => {
    const i32 = (v: number[]) => ops.convertToTensor(v, 'int32');
    expect(() => run1('sparseSoftmaxCrossEntropy', [i32([1, 2, 0]), f64([[1, 2], [3, 4]])])).toThrow(/sparseSoftmaxCrossEntropy: labels must have the shape of logits without the last axis, received labels.shape=\(3,\), logits.shape=\(2, 2\)/);
    expect(() => run1('sparseSoftmaxCrossEntropy', [f64([1, 0]), f64([[1, 2], [3, 4]])])).toThrow(/sparseSoftmaxCrossEntropy: labels must be int32, received float64 \(2,\)/);
    expect(() => run1('sparseSoftmaxCrossEntropy', [i32([1, 0]), i32([1, 2, 3, 4])])).toThrow(/sparseSoftmaxCrossEntropy: logits must be a float tensor/);
    expect(() => ops.sparseCategoricalCrossentropy([1, 2, 0], [[0.5, 0.5]], true)).toThrow(/sparseCategoricalCrossentropy: .*target.shape=\(3,\), output.shape=\(1, 2\)/);
    // The gradient's own checks of labels and logits name the gradient.
    expect(() => run1('sparseSoftmaxCrossEntropyGrad', [i32([1, 2, 0]), f64([[1, 2], [3, 4]]), f64([1, 1])])).toThrow(/^sparseSoftmaxCrossEntropyGrad: labels must have the shape of logits without the last axis, received labels.shape=\(3,\), logits.shape=\(2, 2\)/);
    expect(() => run1('sparseSoftmaxCrossEntropyGrad', [i32([1, 0]), i32([1, 2, 3, 4]), f64([1, 1])])).toThrow(/^sparseSoftmaxCrossEntropyGrad: logits must be a float tensor/);
    expect(() => run1('sparseSoftmaxCrossEntropyGrad', [i32([1, 0]), f64([[1, 2], [3, 4]]), f64([1, 1, 1])])).toThrow(/^sparseSoftmaxCrossEntropyGrad: dy must be float64 \(2,\) like the loss, received float64 \(3,\)/);
  });
});
