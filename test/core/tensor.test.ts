import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { expectClose } from '../helpers.js';

const { ops } = keras;

describe('Tensor', () => {
  it('carries shape, dtype, rank, size and reads values three ways', async () => {
    const t = ops.convertToTensor([[1, 2, 3], [4, 5, 6]], 'float32');
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.rank).toBe(2);
    expect(t.size).toBe(6);
    expect(t.dataSync()).toBeInstanceOf(Float32Array);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await t.array()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(ops.convertToTensor([true, false]).arraySync()).toEqual([true, false]);
  });

  it('infers dtypes from JS values as Keras does from Python values', () => {
    expect(ops.convertToTensor(3).dtype).toBe('int32');
    expect(ops.convertToTensor(3.5).dtype).toBe('float32');
    expect(ops.convertToTensor([1, 2.5]).dtype).toBe('float32');
    expect(ops.convertToTensor(new Float64Array([1])).dtype).toBe('float64');
    expect(ops.convertToTensor(new Int32Array([1])).dtype).toBe('int32');
    expect(ops.convertToTensor([[true]]).dtype).toBe('bool');
    expect(() => ops.convertToTensor([[1, 2], [3]])).toThrow(/ragged nested array/);
    expect(() => ops.convertToTensor([1], 'float16')).toThrow(/float16 is not supported yet/);
  });

  it('dataSync returns a copy: tensors are immutable', () => {
    const t = ops.convertToTensor([1, 2], 'float32');
    t.dataSync()[0] = 99;
    expect(Array.from(t.dataSync())).toEqual([1, 2]);
  });

  it('prints like numpy', () => {
    expect(ops.convertToTensor([[1, 2], [3, 4]], 'float32').toString()).toBe('[[1. 2.]\n [3. 4.]]');
    expect(ops.convertToTensor([1, -20]).toString()).toBe('[  1 -20]');
    expect(ops.convertToTensor([true, false]).toString()).toBe('[ True False]');
    expect(ops.convertToTensor(2.5).toString()).toBe('2.5');
    expect(ops.convertToTensor([[[1], [2]], [[3], [4]]], 'float32').toString()).toBe('[[[1.]\n  [2.]]\n\n [[3.]\n  [4.]]]');
  });

  it('dispose frees memory once and reading a disposed tensor is an error', () => {
    const before = keras.memory().backends.js;
    const t = ops.convertToTensor(new Float32Array(100));
    expect(keras.memory().backends.js.numBytes - before.numBytes).toBe(400);
    expect(keras.memory().backends.js.numTensors - before.numTensors).toBe(1);
    t.dispose();
    t.dispose();
    expect(keras.memory().backends.js).toEqual(before);
    expect(() => t.dataSync()).toThrow(/was disposed/);
    expect(() => ops.add(t, 1)).toThrow(/add: input tensor \d+ of shape \(100,\) was disposed/);
  });

  it('reshape views share storage and count their bytes once', () => {
    const before = keras.memory().backends.js;
    const t = ops.convertToTensor(new Float32Array(8));
    const v = ops.reshape(t, [2, 4]);
    expect(keras.memory().backends.js.numBytes - before.numBytes).toBe(32);
    t.dispose();
    expect(Array.from(v.dataSync())).toHaveLength(8);
    v.dispose();
    expect(keras.memory().backends.js).toEqual(before);
  });

  it('tidy disposes what fn created except its result and kept tensors', () => {
    const before = keras.memory().backends.js.numTensors;
    let kept!: keras.Tensor;
    const result = keras.tidy(() => {
      const a = ops.convertToTensor([1, 2], 'float32');
      const b = ops.exp(a);
      kept = keras.keep(ops.add(a, 1));
      return { out: ops.sum(b), list: [ops.square(a)] };
    });
    expect(keras.memory().backends.js.numTensors - before).toBe(3);
    expectClose(result.out, Math.E + Math.exp(2), { rtol: 1e-6 });
    expectClose(kept, [2, 3]);
    result.out.dispose();
    result.list[0].dispose();
    kept.dispose();
    expect(keras.memory().backends.js.numTensors).toBe(before);
  });

  it('tidy disposes everything when fn throws', () => {
    const before = keras.memory().backends.js.numTensors;
    expect(() =>
      keras.tidy(() => {
        ops.convertToTensor([1, 2], 'float32');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(keras.memory().backends.js.numTensors).toBe(before);
  });
});

describe('Variable', () => {
  it('assign, assignAdd and assignSub replace the value and check shape and dtype', () => {
    const v = new keras.Variable(ops.convertToTensor([1, 2], 'float32'), { name: 'w' });
    expect(v.name).toMatch(/^w/);
    v.assignAdd(ops.convertToTensor([10, 10], 'float32'));
    expectClose(v.value, [11, 12]);
    v.assignSub(ops.convertToTensor([1, 2], 'float32'));
    expectClose(v.value, [10, 10]);
    v.assign(ops.convertToTensor([5, 6], 'float32'));
    expectClose(v.value, [5, 6]);
    expect(() => v.assign(ops.convertToTensor([1, 2, 3], 'float32'))).toThrow(/Variable w\S*\.assign: expected shape \(2,\), received \(3,\)/);
    expect(() => v.assign(ops.convertToTensor([1, 2]))).toThrow(/expected dtype float32, received int32/);
  });

  it('keeps its value alive through tidy and frees the old value on assign', () => {
    const v = new keras.Variable(ops.convertToTensor([1, 2], 'float32'));
    const before = keras.memory().backends.js.numTensors;
    keras.tidy(() => {
      v.assign(ops.add(v.value, 1));
    });
    expectClose(v.value, [2, 3]);
    expect(keras.memory().backends.js.numTensors).toBe(before);
  });

  it('names are unique', () => {
    const a = new keras.Variable(ops.convertToTensor([1], 'float32'), { name: 'dup' });
    const b = new keras.Variable(ops.convertToTensor([1], 'float32'), { name: 'dup' });
    expect(a.name).not.toBe(b.name);
  });
});
