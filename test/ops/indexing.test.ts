import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops } = keras;

/** [[0, 1, 2], [3, 4, 5]] as int32. */
const m23 = () => ops.reshape(ops.arange(6), [2, 3]);
const f64 = (v: number[], shape: number[]) => ops.reshape(ops.convertToTensor(new Float64Array(v)), shape);

describe('moveaxis / swapaxes', () => {
  it('moveaxis moves one or several axes, negative axes included', () => {
    const x = ops.zeros([2, 3, 4]);
    expect(ops.moveaxis(x, 0, -1).shape).toEqual([3, 4, 2]);
    expect(ops.moveaxis(x, -1, 0).shape).toEqual([4, 2, 3]);
    expect(ops.moveaxis(x, [0, 1], [-1, -2]).shape).toEqual([4, 3, 2]);
    expectClose(ops.moveaxis(m23(), 0, 1), [[0, 3], [1, 4], [2, 5]]);
  });

  it('swapaxes exchanges two axes', () => {
    const x = ops.reshape(ops.arange(8), [2, 2, 2]);
    expectClose(ops.swapaxes(x, 0, -1), [[[0, 4], [2, 6]], [[1, 5], [3, 7]]]);
    expect(ops.swapaxes(ops.zeros([1, 0, 3]), 1, 2).shape).toEqual([1, 3, 0]);
    expect(ops.swapaxes(m23(), 1, 1).shape).toEqual([2, 3]);
  });

  it('gradients flow through', () => {
    checkGrad((x) => ops.moveaxis(x, [0, 2], [2, 0]), [randomTensor([2, 3, 4], 1)]);
    checkGrad((x) => ops.swapaxes(x, 0, 1), [randomTensor([2, 3], 2)]);
  });

  it('errors name the op', () => {
    expect(() => ops.moveaxis(m23(), 2, 0)).toThrow(/moveaxis: source=2 is out of range for a tensor of rank 2/);
    expect(() => ops.moveaxis(m23(), [0, 1], [0])).toThrow(/moveaxis: source .* and destination .* same number/);
    expect(() => ops.moveaxis(m23(), [0, 0], [0, 1])).toThrow(/moveaxis: repeated axis/);
    expect(() => ops.swapaxes(m23(), 0, -3)).toThrow(/swapaxes: axis2=-3 is out of range/);
  });
});

describe('rot90 / ravel / unstack / hstack / vstack', () => {
  it('rot90 turns counter-clockwise in the plane of axes, k modulo 4', () => {
    const x = [[1, 2], [3, 4]];
    expectClose(ops.rot90(x), [[2, 4], [1, 3]]);
    expectClose(ops.rot90(x, 2), [[4, 3], [2, 1]]);
    expectClose(ops.rot90(x, 3), [[3, 1], [4, 2]]);
    expectClose(ops.rot90(x, -1), [[3, 1], [4, 2]]);
    expectClose(ops.rot90(x, 4), x);
    expectClose(ops.rot90(x, { axes: [1, 0] }), [[3, 1], [4, 2]]);
    const r = ops.rot90(ops.reshape(ops.arange(6), [1, 2, 3]), 1, [-2, -1]);
    expectClose(r, [[[2, 5], [1, 4], [0, 3]]], { shape: [1, 3, 2] });
    checkGrad((a) => ops.rot90(a, 1, [0, 2]), [randomTensor([2, 1, 3], 40)]);
    expect(() => ops.rot90([1, 2])).toThrow(/rot90: array must have rank >= 2, received shape \(2,\)/);
    expect(() => ops.rot90(x, 1, [0, 0])).toThrow(/rot90: axes must differ/);
  });

  it('ravel flattens', () => {
    expectClose(ops.ravel(m23()), [0, 1, 2, 3, 4, 5], { shape: [6] });
    expect(ops.ravel(3).shape).toEqual([1]);
  });

  it('unstack removes the axis, negative axes, num check', () => {
    const rows = ops.unstack(m23());
    expect(rows.length).toBe(2);
    expectClose(rows[1], [3, 4, 5], { shape: [3] });
    const cols = ops.unstack(m23(), { axis: -1 });
    expect(cols.length).toBe(3);
    expectClose(cols[2], [2, 5]);
    expect(ops.unstack(ops.zeros([0, 2])).length).toBe(0);
    checkGrad((a) => ops.multiply(ops.unstack(a, 3, 1)[1], 2), [randomTensor([2, 3], 41)]);
    expect(() => ops.unstack(m23(), 3)).toThrow(/unstack: num=3 does not match size 2 of axis 0 of \(2, 3\)/);
  });

  it('hstack and vstack follow numpy', () => {
    expectClose(ops.hstack([[1, 2], [3]]), [1, 2, 3]);
    expectClose(ops.hstack([[[1], [2]], [[3], [4]]]), [[1, 3], [2, 4]]);
    expectClose(ops.vstack([[1, 2], [3, 4]]), [[1, 2], [3, 4]], { shape: [2, 2] });
    expectClose(ops.vstack([m23(), [9, 9, 9]]), [[0, 1, 2], [3, 4, 5], [9, 9, 9]]);
    expect(ops.vstack([1, 2]).shape).toEqual([2, 1]);
    expect(() => ops.vstack([])).toThrow(/vstack: needs a non-empty array/);
    expect(() => ops.hstack([m23(), [[1], [2], [3]]])).toThrow(/concatenate: input 1 has shape \(3, 1\)/);
  });
});

describe('tile', () => {
  it('repeats whole axes', () => {
    expectClose(ops.tile([[1, 2]], [2, 2]), [[1, 2, 1, 2], [1, 2, 1, 2]], { shape: [2, 4] });
    expectClose(ops.tile([1, 2, 3], 2), [1, 2, 3, 1, 2, 3]);
  });

  it('fewer repeats than axes tile the trailing axes; more add leading axes', () => {
    expectClose(ops.tile(m23(), [2]), [[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]]);
    expectClose(ops.tile([1, 2], [2, 1, 2]), [[[1, 2, 1, 2]], [[1, 2, 1, 2]]], { shape: [2, 1, 4] });
  });

  it('zero repeats and size-0 inputs give empty axes; int32 stays int32', () => {
    expect(ops.tile(m23(), [0, 1]).shape).toEqual([0, 3]);
    expect(ops.tile(ops.zeros([0, 2]), [3, 2]).shape).toEqual([0, 4]);
    expect(ops.tile(m23(), [1, 1]).dtype).toBe('int32');
  });

  it('gradient sums over the copies', () => {
    checkGrad((x) => ops.tile(x, [2, 3]), [randomTensor([2, 2], 3)]);
    checkGrad((x) => ops.tile(x, [2, 1, 2]), [randomTensor([3], 4)]);
  });

  it('rejects negative repeats', () => {
    expect(() => ops.tile(m23(), [-1, 1])).toThrow(/tile: repeats must be non-negative/);
  });
});

describe('repeat', () => {
  it('repeats each element along an axis', () => {
    expectClose(ops.repeat(m23(), 2, 1), [[0, 0, 1, 1, 2, 2], [3, 3, 4, 4, 5, 5]]);
    expectClose(ops.repeat(m23(), 2, -2), [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]]);
  });

  it('axis null flattens first', () => {
    expectClose(ops.repeat([[1, 2], [3, 4]], 2), [1, 1, 2, 2, 3, 3, 4, 4]);
    expectClose(ops.repeat(5, 3), [5, 5, 5], { shape: [3] });
  });

  it('per-element repeats', () => {
    expectClose(ops.repeat(m23(), [1, 0, 2], { axis: 1 }), [[0, 2, 2], [3, 5, 5]]);
    expectClose(ops.repeat([7, 8], [3, 1]), [7, 7, 7, 8]);
    expectClose(ops.repeat(m23(), ops.convertToTensor([2, 1]), 0), [[0, 1, 2], [0, 1, 2], [3, 4, 5]]);
  });

  it('zero repeats and size-1 axes', () => {
    expect(ops.repeat(m23(), 0, 1).shape).toEqual([2, 0]);
    expectClose(ops.repeat([[1], [2]], 3, 1), [[1, 1, 1], [2, 2, 2]]);
  });

  it('gradients accumulate over the copies', () => {
    checkGrad((x) => ops.repeat(x, 3, 0), [randomTensor([2, 2], 5)]);
    checkGrad((x) => ops.repeat(x, [2, 0, 1], -1), [randomTensor([2, 3], 6)]);
  });

  it('errors name the op and shapes', () => {
    expect(() => ops.repeat(m23(), [1, 2], 1)).toThrow(/repeat: repeats has 2 entries but axis 1 of \(2, 3\) has size 3/);
    expect(() => ops.repeat(m23(), -1, 1)).toThrow(/repeat: repeats must be non-negative/);
    expect(() => ops.repeat(m23(), 2, 2)).toThrow(/repeat: axis=2 is out of range/);
  });
});

describe('split', () => {
  it('equal sections', () => {
    const parts = ops.split(ops.arange(6), 3);
    expect(parts.length).toBe(3);
    parts.forEach((p, i) => expectClose(p, [2 * i, 2 * i + 1]));
    const cols = ops.split(m23(), 3, -1);
    expectClose(cols[2], [[2], [5]], { shape: [2, 1] });
  });

  it('at indices, with empty, negative and out-of-range pieces as numpy', () => {
    const [a, b, c] = ops.split(ops.arange(6), [2, 4]);
    expectClose(a, [0, 1]);
    expectClose(b, [2, 3]);
    expectClose(c, [4, 5]);
    const pieces = ops.split(ops.arange(5), [3, 1, -1, 9]);
    expect(pieces.map((p) => p.shape[0])).toEqual([3, 0, 3, 1, 0]);
    expectClose(pieces[2], [1, 2, 3]);
    expectClose(pieces[3], [4]);
    const rows = ops.split(m23(), [1], { axis: 0 });
    expectClose(rows[1], [[3, 4, 5]]);
  });

  it('sections of a size-0 axis', () => {
    const parts = ops.split(ops.zeros([0, 2]), 2);
    expect(parts.map((p) => p.shape)).toEqual([[0, 2], [0, 2]]);
  });

  it('gradient of each piece lands in its slot', () => {
    checkGrad((x) => ops.multiply(ops.split(x, 2, 1)[1], 3), [randomTensor([2, 4], 7)]);
    checkGrad((x) => ops.concatenate(ops.split(x, [1, 2], 0).reverse(), 0), [randomTensor([3, 2], 8)]);
  });

  it('rejects uneven sections', () => {
    expect(() => ops.split(ops.arange(5), 2)).toThrow(/split: axis 0 of \(5,\) \(size 5\) does not divide into 2 equal sections/);
    expect(() => ops.split(ops.arange(5), 0)).toThrow(/split: the number of sections must be a positive integer/);
  });
});

describe('roll', () => {
  it('rolls along an axis, both directions', () => {
    expectClose(ops.roll(m23(), 1, 1), [[2, 0, 1], [5, 3, 4]]);
    expectClose(ops.roll(m23(), -1, -1), [[1, 2, 0], [4, 5, 3]]);
    expectClose(ops.roll(m23(), 4, 1), [[2, 0, 1], [5, 3, 4]]);
    expectClose(ops.roll(m23(), 3, 1), [[0, 1, 2], [3, 4, 5]]);
  });

  it('axis null rolls the flattened tensor and keeps the shape', () => {
    expectClose(ops.roll(m23(), 2), [[4, 5, 0], [1, 2, 3]], { shape: [2, 3] });
  });

  it('several axes at once', () => {
    expectClose(ops.roll(m23(), [1, 1], [0, 1]), [[5, 3, 4], [2, 0, 1]]);
    expectClose(ops.roll(m23(), 1, { axis: [0, 1] }), [[5, 3, 4], [2, 0, 1]]);
  });

  it('size-0 and size-1 axes are no-ops', () => {
    expect(ops.roll(ops.zeros([0, 3]), 2, 0).shape).toEqual([0, 3]);
    expectClose(ops.roll([[1, 2]], 5, 0), [[1, 2]]);
  });

  it('gradient rolls back', () => {
    checkGrad((x) => ops.roll(x, [1, -2], [0, 1]), [randomTensor([3, 4], 9)]);
    checkGrad((x) => ops.roll(x, 5), [randomTensor([2, 3], 10)]);
  });

  it('errors', () => {
    expect(() => ops.roll(m23(), [1, 2])).toThrow(/roll: with axis null, shift must be one integer/);
    expect(() => ops.roll(m23(), [1, 2, 3], [0, 1])).toThrow(/roll: shift .* and axis .* must have the same length/);
    expect(() => ops.roll(m23(), 1, 2)).toThrow(/roll: axis=2 is out of range/);
  });
});

describe('take', () => {
  it('takes along an axis; output = x.shape[:axis] + indices.shape + x.shape[axis+1:]', () => {
    expectClose(ops.take(m23(), [2, 0], 1), [[2, 0], [5, 3]], { shape: [2, 2] });
    expectClose(ops.take(m23(), [[0, 1]], 1), [[[0, 1]], [[3, 4]]], { shape: [2, 1, 2] });
    expectClose(ops.take(m23(), 1, 0), [3, 4, 5], { shape: [3] });
  });

  it('axis null indexes the flattened tensor', () => {
    expectClose(ops.take(m23(), [5, 0, 3]), [5, 0, 3]);
    expectClose(ops.take(m23(), [[4], [1]]), [[4], [1]], { shape: [2, 1] });
  });

  it('negative indices wrap, negative axes work', () => {
    expectClose(ops.take(m23(), [-1, -3], -1), [[2, 0], [5, 3]]);
    expectClose(ops.take(m23(), [-1], { axis: 0 }), [[3, 4, 5]]);
  });

  it('empty indices give a size-0 axis', () => {
    expect(ops.take(m23(), ops.zeros([0], 'int32'), 1).shape).toEqual([2, 0]);
  });

  it('gradient scatters back, summing repeated indices', () => {
    checkGrad((x) => ops.take(x, [0, 2, 2, -1], 1), [randomTensor([2, 3], 11)]);
    checkGrad((x) => ops.take(x, [[1, 0], [1, 1]]), [randomTensor([2, 2], 12)]);
    const g = keras.grad((x: keras.Tensor) => ops.sum(ops.take(x, [1, 1, -2])))(f64([1, 2, 3], [3]));
    expectClose(g, [0, 3, 0]);
  });

  it('errors: out of range, float indices, bad axis', () => {
    expect(() => ops.take(m23(), [3], 1)).toThrow(/take: index 3 is out of bounds for size 3 \(axis 1 of x \(2, 3\), indices \(1,\)\)/);
    expect(() => ops.take(m23(), [-7])).toThrow(/take: index -7 is out of bounds for size 6/);
    expect(() => ops.take(m23(), [0.5], 1)).toThrow(/take: indices must be integers, received dtype float32/);
    expect(() => ops.take(m23(), [0], 2)).toThrow(/take: axis=2 is out of range/);
  });
});

describe('takeAlongAxis', () => {
  it('picks per row', () => {
    expectClose(ops.takeAlongAxis(m23(), [[2, 0, 1], [1, 1, 0]], 1), [[2, 0, 1], [4, 4, 3]]);
    expectClose(ops.takeAlongAxis(m23(), [[1, 0, 1]], 0), [[3, 1, 5]]);
  });

  it('broadcasts indices against x on the other axes', () => {
    expectClose(ops.takeAlongAxis(m23(), [[1], [0]], -1), [[1], [3]], { shape: [2, 1] });
    expectClose(ops.takeAlongAxis(m23(), [[0, 2]], 1), [[0, 2], [3, 5]], { shape: [2, 2] });
    expectClose(ops.takeAlongAxis([[1], [2]], [[0, 0, 0]], 1), [[1, 1, 1], [2, 2, 2]]);
  });

  it('axis null uses the flattened tensor; negative indices wrap', () => {
    expectClose(ops.takeAlongAxis(m23(), [5, -6]), [5, 0]);
    expectClose(ops.takeAlongAxis(m23(), [[-1], [-3]], 1), [[2], [3]]);
  });

  it('agrees with argsort to sort rows', () => {
    const x = ops.convertToTensor([[3, 1, 2], [0, 5, -1]]);
    expectClose(ops.takeAlongAxis(x, ops.argsort(x, -1), -1), ops.sort(x, -1));
  });

  it('size-0 index axis', () => {
    expect(ops.takeAlongAxis(m23(), ops.zeros([2, 0], 'int32'), 1).shape).toEqual([2, 0]);
  });

  it('gradient from gather, with broadcasting', () => {
    checkGrad((x) => ops.takeAlongAxis(x, [[0, 0, 2], [1, 2, 1]], 1), [randomTensor([2, 3], 13)]);
    checkGrad((x) => ops.takeAlongAxis(x, [[0, 1, 1]], 0), [randomTensor([2, 3], 14)]);
    checkGrad((x) => ops.takeAlongAxis(x, [[0, 0]], 1), [randomTensor([3, 1], 15)]);
  });

  it('errors', () => {
    expect(() => ops.takeAlongAxis(m23(), [0, 1], 1)).toThrow(/takeAlongAxis: indices \(2,\) must have the rank of x \(2, 3\)/);
    expect(() => ops.takeAlongAxis(m23(), [[3]], 1)).toThrow(/takeAlongAxis: index 3 is out of bounds for size 3/);
    expect(() => ops.takeAlongAxis(m23(), [[0], [0], [0]], 1)).toThrow(/takeAlongAxis: cannot broadcast shapes/);
    expect(() => ops.takeAlongAxis(m23(), [[0, 1]])).toThrow(/takeAlongAxis: with axis null, indices must be 1-D/);
  });
});

describe('scatter', () => {
  it('adds values into zeros at coordinates; duplicates sum', () => {
    const s = ops.scatter([[0, 1], [1, 2], [0, 1]], [1, 2, 3], [2, 3]);
    expect(s.dtype).toBe('int32');
    expectClose(s, [[0, 4, 0], [0, 0, 2]]);
  });

  it('partial coordinates scatter whole slices', () => {
    expectClose(ops.scatter([[1]], [[1.5, 2.5]], [3, 2]), [[0, 0], [1.5, 2.5], [0, 0]]);
    expectClose(ops.scatter([[-1]], [[7, 8]], [2, 2]), [[0, 0], [7, 8]]);
  });

  it('leading index dims and no updates', () => {
    expectClose(ops.scatter([[[0], [2]]], [[1, 2]], [3]), [1, 0, 2]);
    expectClose(ops.scatter(ops.zeros([0, 1], 'int32'), ops.zeros([0]), [2]), [0, 0]);
  });

  it('gradient with respect to values gathers', () => {
    checkGrad((v) => ops.scatter([[0, 1], [1, 0], [0, 1]], v, [2, 2]), [randomTensor([3], 16)]);
    checkGrad((v) => ops.scatter([[2], [0]], v, [3, 2]), [randomTensor([2, 2], 17)]);
  });

  it('errors name the op and shapes', () => {
    expect(() => ops.scatter([[0, 1]], [1, 2], [2, 2])).toThrow(/scatter: values must have shape \(1,\) \(indices \(1, 2\) into \(2, 2\)\), received \(2,\)/);
    expect(() => ops.scatter([[2, 0]], [1], [2, 2])).toThrow(/scatter: index 2 in column 0 of indices \(1, 2\) is out of bounds for shape \(2, 2\)/);
    expect(() => ops.scatter([[0, 0, 0]], [1], [2, 2])).toThrow(/scatter: indices \(1, 3\) index 3 axes of a tensor of shape \(2, 2\)/);
    expect(() => ops.scatter([[0.5]], [1], [2])).toThrow(/scatter: indices must be integers/);
  });
});

describe('scatterUpdate', () => {
  it('replaces values at coordinates; the last duplicate wins', () => {
    const out = ops.scatterUpdate(m23(), [[0, 1], [1, 2], [0, 1]], [10, 20, 30]);
    expect(out.dtype).toBe('int32');
    expectClose(out, [[0, 30, 2], [3, 4, 20]]);
  });

  it('replaces rows with partial coordinates, negative indices wrap', () => {
    expectClose(ops.scatterUpdate(m23(), [[-1]], [[7, 8, 9]]), [[0, 1, 2], [7, 8, 9]]);
  });

  it('casts updates to the inputs dtype; works on bool', () => {
    const f = ops.scatterUpdate(ops.zeros([3]), [[1]], [2]);
    expect(f.dtype).toBe('float32');
    expectClose(f, [0, 2, 0]);
    const b = ops.scatterUpdate(ops.zeros([3], 'bool'), [[2], [0]], [true, true]);
    expect(b.arraySync()).toEqual([true, false, true]);
  });

  it('no updates returns the input', () => {
    expectClose(ops.scatterUpdate(m23(), ops.zeros([0, 2], 'int32'), ops.zeros([0], 'int32')), [[0, 1, 2], [3, 4, 5]]);
  });

  it('gradients: replaced inputs get zero, only the winning update gets the gradient', () => {
    checkGrad((x, u) => ops.scatterUpdate(x, [[1, 0], [0, 1], [1, 0]], u), [randomTensor([2, 2], 18), randomTensor([3], 19)]);
    const gu = keras.grad((u: keras.Tensor) => ops.sum(ops.scatterUpdate(ops.zeros([2], 'float64'), [[0], [0]], u)))(f64([1, 2], [2]));
    expectClose(gu, [0, 1]);
  });

  it('errors', () => {
    expect(() => ops.scatterUpdate(m23(), [[0]], [1, 2])).toThrow(/scatterUpdate: updates must have shape \(1, 3\) \(indices \(1, 1\) into \(2, 3\)\), received \(2,\)/);
    expect(() => ops.scatterUpdate(m23(), [[0, 3]], [1])).toThrow(/scatterUpdate: index 3 in column 1/);
  });
});

describe('sliceUpdate', () => {
  it('writes a block at the start indices', () => {
    expectClose(ops.sliceUpdate(m23(), [0, 1], [[7, 8]]), [[0, 7, 8], [3, 4, 5]]);
    expectClose(ops.sliceUpdate(m23(), [1, 0], [[9, 9, 9]]), [[0, 1, 2], [9, 9, 9]]);
  });

  it('start indices as a tensor; updates cast to the inputs dtype; empty updates', () => {
    const out = ops.sliceUpdate(ops.zeros([3]), ops.convertToTensor([1]), [5]);
    expect(out.dtype).toBe('float32');
    expectClose(out, [0, 5, 0]);
    expectClose(ops.sliceUpdate(m23(), [2, 0], ops.zeros([0, 3], 'int32')), [[0, 1, 2], [3, 4, 5]]);
  });

  it('gradients to inputs (zero where replaced) and updates', () => {
    checkGrad((x, u) => ops.sliceUpdate(x, [1, 1], u), [randomTensor([3, 3], 20), randomTensor([2, 1], 21)]);
  });

  it('errors', () => {
    expect(() => ops.sliceUpdate(m23(), [1, 2], [[1, 2]])).toThrow(/sliceUpdate: updates \(1, 2\) at \[1,2\] do not fit in inputs \(2, 3\) \(axis 1\)/);
    expect(() => ops.sliceUpdate(m23(), [0], [[1]])).toThrow(/sliceUpdate: startIndices \[0\] and updates \(1, 1\) must have one entry per axis of inputs \(2, 3\)/);
  });
});

describe('oneHot', () => {
  it('encodes along a new last axis; out-of-range values give zeros', () => {
    const o = ops.oneHot([0, 2, 5, -1], 3);
    expect(o.dtype).toBe('float32');
    expectClose(o, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]], { shape: [4, 3] });
  });

  it('axis and dtype', () => {
    expectClose(ops.oneHot([1, 0], 2, 0), [[0, 1], [1, 0]]);
    const o = ops.oneHot([[1], [0]], 2, { axis: 1, dtype: 'int32' });
    expect(o.dtype).toBe('int32');
    expectClose(o, [[[0], [1]], [[1], [0]]], { shape: [2, 2, 1] });
  });

  it('scalars, float and bool labels, empty inputs', () => {
    expectClose(ops.oneHot(1, 3), [0, 1, 0], { shape: [3] });
    expectClose(ops.oneHot([1.0, 1.5], 2), [[0, 1], [0, 0]]);
    expectClose(ops.oneHot([true, false], 2), [[0, 1], [1, 0]]);
    expect(ops.oneHot(ops.zeros([0], 'int32'), 4).shape).toEqual([0, 4]);
  });

  it('errors', () => {
    expect(() => ops.oneHot([0], -1)).toThrow(/oneHot: numClasses must be a non-negative integer/);
    expect(() => ops.oneHot([0], 2, 2)).toThrow(/oneHot: axis=2 is out of range for a tensor of rank 2/);
  });
});

describe('sort / argsort / topK', () => {
  it('sort along the last axis by default, other axes, and flattened', () => {
    const x = ops.convertToTensor([[3, 1, 2], [0, -1, 5]]);
    expectClose(ops.sort(x), [[1, 2, 3], [-1, 0, 5]]);
    expectClose(ops.sort(x, 0), [[0, -1, 2], [3, 1, 5]]);
    expectClose(ops.sort(x, { axis: null }), [-1, 0, 1, 2, 3, 5]);
    expect(ops.sort(x).dtype).toBe('int32');
  });

  it('NaN sorts last', () => {
    expectClose(ops.sort([2, NaN, -1]), [-1, 2, NaN]);
  });

  it('argsort is stable', () => {
    const a = ops.argsort([3, 1, 2, 1]);
    expect(a.dtype).toBe('int32');
    expectClose(a, [1, 3, 2, 0]);
    expectClose(ops.argsort([[3, 1], [0, 5]], -2), [[1, 0], [0, 1]]);
    expectClose(ops.argsort([[5, 4], [3, 2]], null), [3, 2, 1, 0]);
  });

  it('size-0 and size-1 axes', () => {
    expect(ops.sort(ops.zeros([2, 0])).shape).toEqual([2, 0]);
    expectClose(ops.argsort([[7], [3]]), [[0], [0]]);
  });

  it('topK returns the largest values first with their indices', () => {
    const [v, i] = ops.topK([1, 5, 3, 5], 2);
    expectClose(v, [5, 5]);
    expect(i.dtype).toBe('int32');
    expectClose(i, [1, 3]);
    const [v2, i2] = ops.topK([[1, 9, 4], [8, 2, 6]], 1, { sorted: true });
    expectClose(v2, [[9], [8]]);
    expectClose(i2, [[1], [0]]);
    expect(ops.topK([1, 2], 0)[0].shape).toEqual([0]);
    // NaN only when the numbers run out; -0 and 0 tie (lower index first), each keeps its sign.
    const [v3, i3] = ops.topK(ops.convertToTensor([0, NaN, -0, 5, NaN], 'float32'), 4);
    expect(Array.from(v3.dataSync())).toEqual([5, 0, -0, NaN]);
    expect(Array.from(i3.dataSync())).toEqual([3, 0, 2, 1]);
  });

  it('gradients route to the original positions', () => {
    checkGrad((x) => ops.sort(x), [randomTensor([3, 4], 22)]);
    checkGrad((x) => ops.sort(x, 0), [randomTensor([3, 2], 23)]);
    checkGrad((x) => ops.topK(x, 2)[0], [randomTensor([2, 5], 24)]);
    const g = keras.grad((x: keras.Tensor) => ops.sum(ops.multiply(ops.sort(x), f64([1, 10, 100], [3]))))(f64([3, 1, 2], [3]));
    expectClose(g, [100, 1, 10]);
    // topK: dy lands on the picked positions; the rest (and the tie left out) get 0.
    const gk = keras.grad((x: keras.Tensor) => ops.sum(ops.multiply(ops.topK(x, 2)[0], f64([1, 10], [2]))))(f64([3, 7, 7, 1, 0, -1, 5, 2], [2, 4]));
    expectClose(gk, [[0, 1, 10, 0], [0, 0, 1, 10]]);
  });

  it('errors', () => {
    expect(() => ops.sort(5)).toThrow(/sort: x must have rank >= 1, received shape \(\)/);
    expect(() => ops.argsort([1, 2], 1)).toThrow(/argsort: axis=1 is out of range/);
    expect(() => ops.topK([1, 2], 3)).toThrow(/topK: k=3 must be an integer in \[0, 2\] for x of shape \(2,\)/);
  });
});

describe('triu / tril', () => {
  const x = () => ops.reshape(ops.add(ops.arange(12), 1), [3, 4]);
  it('tril keeps j <= i + k', () => {
    expectClose(ops.tril(x()), [[1, 0, 0, 0], [5, 6, 0, 0], [9, 10, 11, 0]]);
    expectClose(ops.tril(x(), -1), [[0, 0, 0, 0], [5, 0, 0, 0], [9, 10, 0, 0]]);
    expectClose(ops.tril(x(), { k: 1 }), [[1, 2, 0, 0], [5, 6, 7, 0], [9, 10, 11, 12]]);
    expect(ops.tril(x()).dtype).toBe('int32');
  });

  it('triu keeps j >= i + k', () => {
    expectClose(ops.triu(x()), [[1, 2, 3, 4], [0, 6, 7, 8], [0, 0, 11, 12]]);
    expectClose(ops.triu(x(), 2), [[0, 0, 3, 4], [0, 0, 0, 8], [0, 0, 0, 0]]);
    expectClose(ops.triu(x(), -1), [[1, 2, 3, 4], [5, 6, 7, 8], [0, 10, 11, 12]]);
  });

  it('applies to the last two axes of a batch; size-0 ok', () => {
    expectClose(ops.triu(ops.ones([2, 2, 2])), [[[1, 1], [0, 1]], [[1, 1], [0, 1]]]);
    expect(ops.tril(ops.zeros([0, 3])).shape).toEqual([0, 3]);
  });

  it('gradients are masked', () => {
    checkGrad((a) => ops.tril(a, 1), [randomTensor([3, 3], 25)]);
    checkGrad((a) => ops.triu(a), [randomTensor([2, 2, 3], 26)]);
  });

  it('rejects rank < 2', () => {
    expect(() => ops.tril([1, 2])).toThrow(/tril: x must have rank >= 2, received shape \(2,\)/);
    expect(() => ops.triu(ops.eye(2), 0.5)).toThrow(/triu: k must be an integer/);
  });
});

describe('diag / diagonal / trace', () => {
  it('diag of a 1-D tensor builds a matrix, with offsets', () => {
    expectClose(ops.diag([1, 2]), [[1, 0], [0, 2]]);
    expectClose(ops.diag([1, 2], 1), [[0, 1, 0], [0, 0, 2], [0, 0, 0]]);
    expectClose(ops.diag([1, 2], -1), [[0, 0, 0], [1, 0, 0], [0, 2, 0]]);
    expectClose(ops.diag([4]), [[4]]);
    expectClose(ops.diag([1, 2], 2), [[0, 0, 1, 0], [0, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0]]);
    expectClose(ops.diag([1, 2], -2), [[0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0], [0, 2, 0, 0]]);
    expect(ops.diag([true, true]).arraySync()).toEqual([[true, false], [false, true]]);
    expect(ops.diag(ops.zeros([0]), 2).shape).toEqual([2, 2]);
    expect(ops.diag([1, 2]).dtype).toBe('int32');
  });

  it('diag of a 2-D tensor extracts a diagonal', () => {
    expectClose(ops.diag(m23()), [0, 4]);
    expectClose(ops.diag(m23(), 1), [1, 5]);
    expectClose(ops.diag(m23(), -1), [3]);
    expect(ops.diag(m23(), 3).shape).toEqual([0]);
  });

  it('diagonal over chosen axes moves the diagonal last', () => {
    const x = ops.reshape(ops.arange(24), [2, 3, 4]);
    expectClose(ops.diagonal(x, 0, 1, 2), [[0, 5, 10], [12, 17, 22]], { shape: [2, 3] });
    expectClose(ops.diagonal(x), [[0, 16], [1, 17], [2, 18], [3, 19]], { shape: [4, 2] });
    // axis1=-1 (size 4) becomes rows, axis2=-2 (size 3) columns: elements x[b, i + 1, i].
    expectClose(ops.diagonal(x, { offset: 1, axis1: -1, axis2: -2 }), [[4, 9], [16, 21]], { shape: [2, 2] });
  });

  it('trace sums a diagonal', () => {
    expectClose(ops.trace(m23()), 4, { shape: [] });
    expectClose(ops.trace(m23(), 1), 6);
    expectClose(ops.trace(ops.reshape(ops.arange(8), [2, 2, 2]), 0, 1, 2), [3, 11]);
    expect(ops.trace(ops.eye(3, { dtype: 'bool' })).dtype).toBe('int32');
    expectClose(ops.trace(ops.eye(3, { dtype: 'bool' })), 3);
  });

  it('gradients', () => {
    checkGrad((v) => ops.diag(v, -1), [randomTensor([3], 27)]);
    checkGrad((v) => ops.diag(v, 2), [randomTensor([2], 33)]);
    checkGrad((a) => ops.diag(a, 1), [randomTensor([3, 4], 28)]);
    checkGrad((a) => ops.diagonal(a, -1, 2, 0), [randomTensor([3, 2, 3], 29)]);
    checkGrad((a) => ops.trace(a), [randomTensor([3, 3], 30)]);
  });

  it('errors', () => {
    expect(() => ops.diag(ops.zeros([2, 2, 2]))).toThrow(/diag: x must be 1-D or 2-D, received shape \(2, 2, 2\)/);
    expect(() => ops.diagonal([1, 2])).toThrow(/diagonal: x must have rank >= 2/);
    expect(() => ops.diagonal(m23(), 0, 1, -1)).toThrow(/diagonal: axis1 and axis2 must differ/);
    expect(() => ops.trace(m23(), 0, 0, 2)).toThrow(/diagonal: axis2=2 is out of range/);
  });
});

describe('meshgrid', () => {
  it("'xy' swaps the first two output axes", () => {
    const [X, Y] = ops.meshgrid([1, 2, 3], [4, 5]);
    expectClose(X, [[1, 2, 3], [1, 2, 3]], { shape: [2, 3] });
    expectClose(Y, [[4, 4, 4], [5, 5, 5]], { shape: [2, 3] });
  });

  it("'ij' keeps matrix indexing", () => {
    const [X, Y] = ops.meshgrid([1, 2, 3], [4, 5], { indexing: 'ij' });
    expectClose(X, [[1, 1], [2, 2], [3, 3]]);
    expectClose(Y, [[4, 5], [4, 5], [4, 5]]);
  });

  it('three inputs, dtypes kept, one input, empty input', () => {
    const [a, b, c] = ops.meshgrid([1, 2], [0.5], [7, 8, 9]);
    expect([a.shape, b.shape, c.shape]).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    expect([a.dtype, b.dtype]).toEqual(['int32', 'float32']);
    expectClose(c, [[[7, 8, 9], [7, 8, 9]]]);
    expectClose(ops.meshgrid([1, 2])[0], [1, 2]);
    expect(ops.meshgrid([1, 2], ops.zeros([0]))[0].shape).toEqual([0, 2]);
  });

  it('gradient sums over the grid', () => {
    checkGrad((x, y) => ops.multiply(...(ops.meshgrid(x, y) as [keras.Tensor, keras.Tensor])), [randomTensor([3], 31), randomTensor([2], 32)]);
  });

  it('rejects an unknown indexing', () => {
    expect(() => ops.meshgrid([1], [2], { indexing: 'xx' as never })).toThrow(/meshgrid: indexing must be 'xy' or 'ij', received "xx"/);
  });
});

describe('symbolic shapes (keras.trace)', () => {
  it('infers shapes and evaluates the recorded graph', () => {
    const g = keras.trace(
      (x) => [ops.tile(x, [1, 2]), ops.repeat(x, 2, 1), ops.oneHot(ops.argsort(x), 3), ops.moveaxis(x, 0, 1), ops.topK(x, 2)[0]],
      [{ shape: [null, 3] }],
    );
    expect(g.outputs.map((t) => t.shape)).toEqual([[null, 6], [null, 6], [null, 3, 3], [3, null], [null, 2]]);
    const x = ops.convertToTensor([[3, 1, 2]], 'float32');
    const [t, r, o, m, k] = keras.ir.run(g, [x]);
    expectClose(t, [[3, 1, 2, 3, 1, 2]]);
    expectClose(r, [[3, 3, 1, 1, 2, 2]]);
    expectClose(o, [[[0, 1, 0], [0, 0, 1], [1, 0, 0]]]);
    expectClose(m, [[3], [1], [2]]);
    expectClose(k, [[3, 2]]);
  });

  it('symbolic indices are wrapped by ops (take, takeAlongAxis, scatter, scatterUpdate)', () => {
    const g = keras.trace(
      (x, i, rows) => [ops.take(x, i, 1), ops.takeAlongAxis(x, ops.expandDims(i, 0), 1), ops.scatter(rows, ops.ones([2]), [2, 3]), ops.scatterUpdate(x, rows, ops.full([2], 9))],
      [{ shape: [2, 3] }, { shape: [2], dtype: 'int32' }, { shape: [2, 2], dtype: 'int32' }],
    );
    const x = ops.cast(m23(), 'float32');
    const [t, a, s, u] = keras.ir.run(g, [x, ops.convertToTensor([-1, 0]), ops.convertToTensor([[1, -1], [1, 2]])]);
    expectClose(t, [[2, 0], [5, 3]]);
    expectClose(a, [[2, 0], [5, 3]]);
    expectClose(s, [[0, 0, 0], [0, 0, 2]]);
    expectClose(u, [[0, 1, 2], [3, 4, 9]]);
  });

  it('tile and repeat over an unknown dim differentiate into a graph', () => {
    const g = keras.trace((x) => ops.add(ops.sum(ops.tile(x, [2, 2])), ops.sum(ops.repeat(x, 3, 1))), [{ shape: [null, 2], dtype: 'float64' }]);
    const [value, grad] = keras.ir.run(keras.ir.differentiate(g), [f64([1, 2, 3, 4], [2, 2])]);
    expectClose(value, 70);
    expectClose(grad, [[7, 7], [7, 7]]);
  });

  it('roll over an unknown dim runs in a graph', () => {
    const g = keras.trace((x) => ops.roll(x, 1, 1), [{ shape: [null, 2] }]);
    expect(g.outputs[0].shape).toEqual([null, 2]);
    expectClose(keras.ir.run(g, [ops.convertToTensor([[1, 2], [3, 4]], 'float32')])[0], [[2, 1], [4, 3]]);
  });

  // gather's gradient (lib/ops/shape.ts) reshapes dy to [...lead, -1, ...trail] with unknown
  // lead/trail dims also as -1, which reshape rejects. Fails today: flip to it() once fixed.
  it('gather gradient beside an unknown dim (roll in a graph)', () => {
    const g = keras.trace((x) => ops.sum(ops.multiply(ops.roll(x, 1, 1), [1, 10])), [{ shape: [null, 2], dtype: 'float64' }]);
    const [value, grad] = keras.ir.run(keras.ir.differentiate(g), [f64([1, 2, 3, 4], [2, 2])]);
    expectClose(value, 46);
    expectClose(grad, [[10, 1], [10, 1]]);
  });

  it('sort over an unknown batch dim differentiates into a graph', () => {
    const g = keras.trace((x) => ops.sum(ops.multiply(ops.sort(x), [1, 10, 100])), [{ shape: [null, 3], dtype: 'float64' }]);
    const [value, grad] = keras.ir.run(keras.ir.differentiate(g), [f64([3, 1, 2, 0, 5, 4], [2, 3])]);
    // Row 0 sorted [1, 2, 3] -> 321; row 1 sorted [0, 4, 5] -> 540.
    expectClose(value, 321 + 540);
    expectClose(grad, [[100, 1, 10], [1, 100, 10]]);
  });

  it('topK over an unknown batch dim differentiates into a graph', () => {
    const g = keras.trace((x) => ops.sum(ops.multiply(ops.topK(x, 2)[0], [1, 10])), [{ shape: [null, 3], dtype: 'float64' }]);
    const [value, grad] = keras.ir.run(keras.ir.differentiate(g), [f64([3, 1, 2, 0, 5, 4], [2, 3])]);
    expectClose(value, 3 + 20 + 5 + 40);
    expectClose(grad, [[1, 0, 10], [0, 1, 10]]);
  });

  it('takeAlongAxis over an unknown batch dim runs and differentiates in a graph', () => {
    const g = keras.trace((x, i) => ops.takeAlongAxis(x, i, 1), [{ shape: [null, 3], dtype: 'float64' }, { shape: [null, 2], dtype: 'int32' }]);
    expect(g.outputs[0].shape).toEqual([null, 2]);
    const x = f64([0, 1, 2, 3, 4, 5], [2, 3]);
    const [y] = keras.ir.run(g, [x, ops.convertToTensor([[2, -3], [1, 1]])]);
    expectClose(y, [[2, 0], [4, 4]]);
    const gs = keras.trace((x, i) => ops.sum(ops.multiply(ops.takeAlongAxis(x, i, 1), [1, 10])), [{ shape: [null, 3], dtype: 'float64' }, { shape: [null, 2], dtype: 'int32' }]);
    const [, dx] = keras.ir.run(keras.ir.differentiate(gs, { wrt: [0] }), [x, ops.convertToTensor([[2, 0], [1, 1]])]);
    expectClose(dx, [[10, 0, 1], [0, 11, 0]]);
    const gb = keras.trace((x) => ops.takeAlongAxis(x, [[1]], 1), [{ shape: [null, 2], dtype: 'bool' }]);
    expect(keras.ir.run(gb, [ops.convertToTensor([[false, true], [true, false]])])[0].arraySync()).toEqual([[true], [false]]);
  });

  it('a graph with sort differentiates into a graph', () => {
    const g = keras.trace((x) => ops.sum(ops.multiply(ops.sort(x), [1, 10, 100])), [{ shape: [3], dtype: 'float64' }]);
    const dg = keras.ir.differentiate(g);
    const [, grad] = keras.ir.run(dg, [f64([3, 1, 2], [3])]);
    expectClose(grad, [100, 1, 10]);
  });

  it('leaves no tensors behind inside tidy', () => {
    const x = ops.cast(m23(), 'float32');
    const before = keras.memory().numTensors;
    keras.tidy(() => {
      ops.take(x, [-1, 0], 1);
      ops.takeAlongAxis(x, [[0], [-1]], 1);
      ops.scatterUpdate(x, [[0, 0], [0, 0]], [1, 2]);
      ops.sliceUpdate(x, [0, 0], [[1]]);
      ops.topK(x, 2);
      ops.diag(ops.diag(x));
      ops.repeat(x, [1, 2], 0);
      ops.linspace([0, 1], 2, 3);
      keras.grad((a: keras.Tensor) => ops.sum(ops.sort(a)))(x);
    });
    expect(keras.memory().numTensors).toBe(before);
  });
});
