import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops } = keras;

/** [[0, 1, 2], [3, 4, 5]] as int32. */
const m23 = () => ops.reshape(ops.arange(6), [2, 3]);

describe('reshape', () => {
  it('keeps row-major order, infers one -1', () => {
    expectClose(ops.reshape(m23(), [3, 2]), [[0, 1], [2, 3], [4, 5]], { shape: [3, 2] });
    expect(ops.reshape(m23(), [-1]).shape).toEqual([6]);
    expect(ops.reshape(m23(), [3, -1]).shape).toEqual([3, 2]);
    expect(ops.reshape(m23(), 6).shape).toEqual([6]);
    expect(ops.reshape(m23(), [3, 2]).dtype).toBe('int32');
  });

  it('size-0 and scalar shapes', () => {
    expect(ops.reshape(ops.zeros([0, 4]), [2, 0, 2]).shape).toEqual([2, 0, 2]);
    expect(ops.reshape([7], []).shape).toEqual([]);
    expect(ops.reshape(5, [1, 1]).shape).toEqual([1, 1]);
  });

  it('gradient reshapes back', () => {
    checkGrad((x) => ops.reshape(x, [3, 2]), [randomTensor([2, 3], 1)]);
  });

  it('errors name the op and both shapes', () => {
    expect(() => ops.reshape(m23(), [4, 2])).toThrow(/reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4, 2\) \(8 elements\)/);
    expect(() => ops.reshape(m23(), [4, -1])).toThrow(/reshape: cannot reshape \(2, 3\) \(6 elements\) into \[4,-1\]/);
    expect(() => ops.reshape(m23(), [-1, -1])).toThrow(/reshape: invalid target shape \[-1,-1\]/);
    expect(() => ops.reshape(ops.zeros([0, 3]), [0, -1])).toThrow(/reshape: cannot reshape \(0, 3\)/);
  });
});

describe('transpose', () => {
  it('reverses axes by default; explicit and negative axes', () => {
    expectClose(ops.transpose(m23()), [[0, 3], [1, 4], [2, 5]], { shape: [3, 2] });
    const x = ops.reshape(ops.arange(24), [2, 3, 4]);
    const t = ops.transpose(x, [1, -1, 0]);
    expect(t.shape).toEqual([3, 4, 2]);
    // t[i, j, k] = x[k, i, j] = 12k + 4i + j.
    expect(t.dataSync()[(1 * 4 + 2) * 2 + 1]).toBe(12 + 4 + 2);
    expect(ops.transpose(5).shape).toEqual([]);
    expect(ops.transpose(ops.zeros([0, 2])).shape).toEqual([2, 0]);
  });

  it('gradient applies the inverse permutation', () => {
    checkGrad((x) => ops.transpose(x, [2, 0, 1]), [randomTensor([2, 3, 4], 2)]);
  });

  it('rejects axes that are not a permutation', () => {
    expect(() => ops.transpose(m23(), [0, 0])).toThrow(/transpose: axes \[0,0\] are not a permutation of the 2 axes of \(2, 3\)/);
    expect(() => ops.transpose(m23(), [0, 2])).toThrow(/transpose: axes=2 is out of range/);
  });

  // lib/ops/shape.ts returns x unchanged when the (too short) axes are a prefix identity,
  // before the primitive can check the length. Fails today: flip to it() once fixed.
  it('too few axes are rejected even when they look like the identity', () => {
    expect(() => ops.transpose(m23(), [0])).toThrow(/transpose: axes \[0\] are not a permutation/);
  });
});

describe('flip', () => {
  it('reverses one axis, several, or all', () => {
    expectClose(ops.flip(m23(), 1), [[2, 1, 0], [5, 4, 3]]);
    expectClose(ops.flip(m23(), -2), [[3, 4, 5], [0, 1, 2]]);
    expectClose(ops.flip(m23()), [[5, 4, 3], [2, 1, 0]]);
    expectClose(ops.flip(m23(), [0, 1]), [[5, 4, 3], [2, 1, 0]]);
    expect(ops.flip(ops.zeros([0, 2]), 0).shape).toEqual([0, 2]);
  });

  it('gradient flips back', () => {
    checkGrad((x) => ops.flip(x, 1), [randomTensor([2, 3], 3)]);
  });

  it('errors', () => {
    expect(() => ops.flip(m23(), 2)).toThrow(/flip: axis=2 is out of range for a tensor of rank 2/);
    expect(() => ops.flip(m23(), [1, -1])).toThrow(/flip: repeated axis/);
  });
});

describe('expandDims / squeeze', () => {
  it('expandDims inserts size-1 axes, negative and several', () => {
    expect(ops.expandDims(m23(), 0).shape).toEqual([1, 2, 3]);
    expect(ops.expandDims(m23(), -1).shape).toEqual([2, 3, 1]);
    expect(ops.expandDims(m23(), 1).shape).toEqual([2, 1, 3]);
    expect(ops.expandDims(m23(), [0, 3]).shape).toEqual([1, 2, 3, 1]);
    expect(ops.expandDims(5, 0).shape).toEqual([1]);
    expectClose(ops.expandDims(m23(), 1), [[[0, 1, 2]], [[3, 4, 5]]]);
  });

  it('squeeze removes size-1 axes (all, or the given ones)', () => {
    const x = ops.zeros([1, 2, 1, 3]);
    expect(ops.squeeze(x).shape).toEqual([2, 3]);
    expect(ops.squeeze(x, 0).shape).toEqual([2, 1, 3]);
    expect(ops.squeeze(x, -2).shape).toEqual([1, 2, 3]);
    expect(ops.squeeze(x, [0, 2]).shape).toEqual([2, 3]);
    expect(ops.squeeze(ops.zeros([1, 0])).shape).toEqual([0]);
    expect(ops.squeeze([[7]]).shape).toEqual([]);
  });

  it('gradients', () => {
    checkGrad((x) => ops.squeeze(ops.expandDims(x, [0, -1]), 0), [randomTensor([2, 2], 4)]);
  });

  it('errors', () => {
    expect(() => ops.squeeze(m23(), 0)).toThrow(/squeeze: cannot squeeze axis 0 of size 2 in \(2, 3\)/);
    expect(() => ops.expandDims(m23(), 3)).toThrow(/expandDims: axis=3 is out of range/);
    expect(() => ops.expandDims(m23(), [0, 0])).toThrow(/expandDims: repeated axis/);
  });
});

describe('broadcastTo', () => {
  it('broadcasts with numpy rules', () => {
    expectClose(ops.broadcastTo([1, 2, 3], [2, 3]), [[1, 2, 3], [1, 2, 3]]);
    expectClose(ops.broadcastTo([[1], [2]], [2, 2]), [[1, 1], [2, 2]]);
    expectClose(ops.broadcastTo(4, [2]), [4, 4]);
    expect(ops.broadcastTo([1, 2], [0, 2]).shape).toEqual([0, 2]);
    expect(ops.broadcastTo([1, 2], [2]).dtype).toBe('int32');
  });

  it('gradient sums over broadcast axes', () => {
    checkGrad((x) => ops.broadcastTo(x, [2, 3, 3]), [randomTensor([3, 1], 5)]);
  });

  it('errors name both shapes', () => {
    expect(() => ops.broadcastTo([1, 2, 3], [2, 2])).toThrow(/broadcastTo: cannot broadcast shapes \(3,\) and \(2, 2\)/);
    expect(() => ops.broadcastTo([[1, 2]], [2])).toThrow(/broadcastTo: cannot broadcast \(1, 2\) to \(2,\)/);
  });
});

describe('concatenate / stack', () => {
  it('concatenate along an axis, negative too, promoting dtypes', () => {
    expectClose(ops.concatenate([m23(), [[6, 7, 8]]]), [[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    const c = ops.concatenate([m23(), [[0.5], [1.5]]], -1);
    expect(c.dtype).toBe('float32');
    expectClose(c, [[0, 1, 2, 0.5], [3, 4, 5, 1.5]]);
    expect(ops.concatenate([m23(), ops.zeros([0, 3], 'int32')]).shape).toEqual([2, 3]);
    expect(ops.concatenate([m23()], 1).shape).toEqual([2, 3]);
  });

  it('stack adds a new axis', () => {
    expectClose(ops.stack([[1, 2], [3, 4]]), [[1, 2], [3, 4]]);
    expectClose(ops.stack([[1, 2], [3, 4]], 1), [[1, 3], [2, 4]]);
    expect(ops.stack([m23(), m23(), m23()], -1).shape).toEqual([2, 3, 3]);
    expect(ops.stack([1, 2]).shape).toEqual([2]);
  });

  it('gradients split back', () => {
    checkGrad((a, b) => ops.concatenate([a, b], 1), [randomTensor([2, 1], 6), randomTensor([2, 3], 7)]);
    checkGrad((a, b) => ops.stack([a, b], -1), [randomTensor([2, 2], 8), randomTensor([2, 2], 9)]);
  });

  it('errors name the inputs and shapes', () => {
    expect(() => ops.concatenate([m23(), [[1, 2]]])).toThrow(/concatenate: input 1 has shape \(1, 2\), incompatible with \(2, 3\) along all axes but 0/);
    expect(() => ops.concatenate([])).toThrow(/concatenate: needs a non-empty array/);
    expect(() => ops.concatenate([m23(), m23()], 2)).toThrow(/concatenate: axis=2 is out of range/);
    expect(() => ops.stack([[1, 2], [1, 2, 3]])).toThrow(/stack: input 1 has shape \(3,\), input 0 has \(2,\)/);
  });
});

describe('slice', () => {
  it('takes a block; -1 size runs to the end', () => {
    expectClose(ops.slice(m23(), [0, 1], [2, 2]), [[1, 2], [4, 5]]);
    expectClose(ops.slice(m23(), [1, 0], [-1, -1]), [[3, 4, 5]]);
    expect(ops.slice(m23(), [2, 0], [0, 3]).shape).toEqual([0, 3]);
    expect(ops.slice(m23(), [0, 0], [1, 1]).dtype).toBe('int32');
  });

  it('gradient pads back', () => {
    checkGrad((x) => ops.slice(x, [1, 0], [1, 2]), [randomTensor([3, 3], 10)]);
  });

  it('errors', () => {
    expect(() => ops.slice(m23(), [0, 2], [1, 2])).toThrow(/slice: start 2 with size 2 is out of range for axis 1 of \(2, 3\)/);
    expect(() => ops.slice(m23(), [0], [1])).toThrow(/slice: start_indices \[0\] and shape \[1\] must have one entry per axis of \(2, 3\)/);
    expect(() => ops.slice(m23(), [0.5, 0], [1, 1])).toThrow(/slice: startIndices\[0\] must be an integer/);
  });
});

describe('pad', () => {
  it('constant mode, per-axis pairs, a pair for all axes, one number for all', () => {
    expectClose(ops.pad([[1, 2]], [[1, 0], [0, 2]]), [[0, 0, 0, 0], [1, 2, 0, 0]]);
    expectClose(ops.pad([1, 2], [1, 2], 'constant', 9), [9, 1, 2, 9, 9]);
    expectClose(ops.pad([[5]], 1), [[0, 0, 0], [0, 5, 0], [0, 0, 0]]);
    expect(ops.pad(m23(), 1).dtype).toBe('int32');
    expectClose(ops.pad(ops.zeros([0]), [1, 1], 'constant', 3), [3, 3]);
  });

  it('reflect mirrors without the edge, symmetric with it', () => {
    expectClose(ops.pad([1, 2, 3], [2, 2], 'reflect'), [3, 2, 1, 2, 3, 2, 1]);
    expectClose(ops.pad([1, 2, 3], [2, 1], 'symmetric'), [2, 1, 1, 2, 3, 3]);
    expectClose(ops.pad(m23(), [[1, 0], [0, 1]], 'reflect'), [[3, 4, 5, 4], [0, 1, 2, 1], [3, 4, 5, 4]]);
  });

  it('gradients for all modes', () => {
    checkGrad((x) => ops.pad(x, [[1, 2], [0, 1]], 'constant', 1.5), [randomTensor([2, 2], 11)]);
    checkGrad((x) => ops.pad(x, [[1, 1], [2, 0]], 'reflect'), [randomTensor([3, 3], 12)]);
    checkGrad((x) => ops.pad(x, [[2, 1]], 'symmetric'), [randomTensor([3], 13)]);
  });

  it('errors', () => {
    expect(() => ops.pad([1, 2, 3], [3, 0], 'reflect')).toThrow(/pad: reflect padding of 3 exceeds 2 for axis 0 of \(3,\)/);
    expect(() => ops.pad([1, 2], [[1, 1], [1, 1]])).toThrow(/pad: pad_width \[\[1,1\],\[1,1\]\] must hold one \[before, after\] pair of non-negative integers per axis of \(2,\)/);
    expect(() => ops.pad([1, 2], [-1, 0])).toThrow(/pad: pad_width .* non-negative/);
    expect(() => ops.pad([1, 2], 1, 'wrap' as never)).toThrow(/pad: unknown mode "wrap"/);
    expect(() => ops.pad([1, 2], 1, 'reflect', 2)).toThrow(/pad: constantValue only applies to mode 'constant'/);
  });

  // Keras documents ((before, after),) and (pad,) as shortcuts for every axis; lib/ops/shape.ts
  // does not accept them yet. These tests fail today: flip them to it() once pad handles them.
  it('[[before, after]] applies to every axis (Keras shortcut)', () => {
    expectClose(ops.pad([[5]], [[1, 0]]), [[0, 0], [0, 5]]);
  });
  it('[pad] applies before and after on every axis (Keras shortcut)', () => {
    expectClose(ops.pad([5], [1] as never), [0, 5, 0]);
  });
  it('negative widths are rejected in mirror modes too', () => {
    expect(() => ops.pad([1, 2, 3], [-1, 0], 'reflect')).toThrow(/pad/);
  });
});
