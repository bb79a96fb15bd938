/**
 * Keras' optional arguments in TypeScript (lib/utils/args.ts): positional in Keras order, a trailing
 * options object with camelCase names, or both; every op, layer helper, loss and random function
 * resolves them through this one function, so a typo in an option name is an error, not a silent default.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { isPlainObject, optionalArgs } from '../../lib/utils/args.js';
import { expectClose } from '../helpers.js';

const { ops } = keras;

describe('optionalArgs', () => {
  const defaults = { axis: -1, keepdims: false, dtype: null as string | null };

  it('fills defaults, then positional values in key order, then the options object', () => {
    expect(optionalArgs('f', defaults, [])).toEqual({ axis: -1, keepdims: false, dtype: null });
    expect(optionalArgs('f', defaults, [0, true])).toEqual({ axis: 0, keepdims: true, dtype: null });
    expect(optionalArgs('f', defaults, [0, { dtype: 'int32' }])).toEqual({ axis: 0, keepdims: false, dtype: 'int32' });
    expect(optionalArgs('f', defaults, [{ keepdims: true }, undefined, undefined])).toEqual({ axis: -1, keepdims: true, dtype: null });
  });

  it('treats undefined as not given and null as a value', () => {
    expect(optionalArgs('f', defaults, [undefined, true])).toEqual({ axis: -1, keepdims: true, dtype: null });
    expect(optionalArgs('f', { axis: -1 as number | null }, [null])).toEqual({ axis: null });
    expect(optionalArgs('f', defaults, [{ axis: undefined }])).toEqual(defaults);
  });

  it('rejects unknown names, misplaced objects and extra positional values, naming the caller', () => {
    expect(() => optionalArgs('f', defaults, [{ keepDims: true }])).toThrow(/^f: unknown option "keepDims"; accepted: axis, keepdims, dtype$/);
    expect(() => optionalArgs('f', {}, [{ a: 1 }])).toThrow(/f: unknown option "a"; accepted: none/);
    expect(() => optionalArgs('f', defaults, [{ axis: 0 }, true])).toThrow(/f: an options object must be the last argument, found one at optional argument 1/);
    expect(() => optionalArgs('f', defaults, [0, true, null, 4])).toThrow(/f: expected at most 3 optional arguments \(axis, keepdims, dtype\), received 4/);
  });

  it('counts only plain objects as options (tensors, arrays, typed arrays are values)', () => {
    expect(isPlainObject({})).toBe(true);
    for (const v of [[1], new Float32Array(1), ops.ones([1]), null, 3, 'a', new Map()]) expect(isPlainObject(v), String(v)).toBe(false);
  });
});

describe('ops take the options object anywhere their optional arguments start', () => {
  const x = ops.convertToTensor([[-1, 0.5], [2, -3]]);

  it('gives the same values positionally and by name', () => {
    expectClose(ops.gelu(x, { approximate: false }), ops.gelu(x, false).arraySync() as number[][]);
    expectClose(ops.leakyRelu(x, { negativeSlope: 0.5 }), [[-0.5, 0.5], [2, -1.5]]);
    expectClose(ops.moments(x, [1], { keepdims: true })[0], [[-0.25], [-0.5]]);
    expectClose(ops.softmax(x, { axis: 0 }), ops.softmax(x, 0).arraySync() as number[][]);
    expectClose(ops.normalize(x, { order: 1 }), [[-2 / 3, 1 / 3], [0.4, -0.6]]);
    const img = ops.reshape(ops.arange(16, undefined, undefined, 'float32'), [1, 4, 4, 1]);
    expectClose(ops.maxPool(img, 2, { padding: 'valid' }), ops.maxPool(img, 2, 2).arraySync() as number[]);
    expectClose(ops.conv(img, ops.ones([2, 2, 1, 1]), { strides: 2 }), [[[[10], [18]], [[42], [50]]]]);
  });

  it('names the op and the misspelt option', () => {
    expect(() => ops.gelu(x, { approximat: false } as never)).toThrow(/gelu: unknown option "approximat"; accepted: approximate/);
    expect(() => ops.conv(ops.ones([1, 4, 4, 1]), ops.ones([2, 2, 1, 1]), { stride: 2 } as never)).toThrow(/conv: unknown option "stride"; accepted: strides, padding, dataFormat, dilationRate/);
    expect(() => ops.layerNormalization(x, { eps: 1e-3 } as never)).toThrow(/layerNormalization: unknown option "eps"/);
    expect(() => keras.random.uniform([2], { minVal: 0 } as never)).toThrow(/uniform: unknown option "minVal"; accepted: minval, maxval, dtype, seed/);
  });
});

describe('arguments of the wrong kind', () => {
  const x = ops.ones([2, 3]);
  // Each call once raised a TypeError from inside the op (`shape is not iterable`, `axes.map is not a
  // function`, or a template literal of a Symbol); now a KerasError names the op, the argument and
  // what it received.
  const cases: [string, () => unknown, RegExp][] = [
    ['ones of a string', () => ops.ones('ab' as never), /^ones: shape must be an array of non-negative integers, received "ab"$/],
    ['zeros of a tensor', () => ops.zeros(x as never), /^zeros: shape must be an array of non-negative integers, received a float32 tensor of shape \(2, 3\)$/],
    ['sum with a misspelt option', () => ops.sum(x, { keepDims: true } as never), /^sum: unknown option "keepDims"; accepted: axis, keepdims$/],
    ['mean over an object axis', () => ops.mean(x, { axis: { a: 1 } } as never), /^mean: axis must be an integer, an array of integers or null, received \{"a":1\}$/],
    ['max over a Symbol axis', () => ops.max(x, Symbol('s') as never), /^max: axis must be an integer, an array of integers or null, received Symbol\(s\)$/],
    ['argmax over a Symbol axis', () => ops.argmax(x, Symbol('s') as never), /^argmax: axis must be an integer, received Symbol\(s\)$/],
    ['transpose by a string', () => ops.transpose(x, 'ab' as never), /^transpose: axes must be an integer or an array of integers, received "ab"$/],
    ['reshape to an object', () => ops.reshape(x, { a: 1 } as never), /^reshape: newShape must be an integer or an array of integers, received \{"a":1\}$/],
    ['expandDims at a string', () => ops.expandDims(x, 'ab' as never), /^expandDims: axis must be an integer or an array of integers, received "ab"$/],
    ['broadcastTo a string', () => ops.broadcastTo(x, 'ab' as never), /^broadcastTo: shape must be an integer or an array of integers, received "ab"$/],
    ['slice from a string', () => ops.slice(x, 'ab' as never, [1, 1]), /^slice: startIndices must be an integer or an array of integers, received "ab"$/],
    ['slice of an object size', () => ops.slice(x, [0, 0], { a: 1 } as never), /^slice: shape must be an integer or an array of integers, received \{"a":1\}$/],
    ['moveaxis from an object', () => ops.moveaxis(x, { a: 1 } as never, 0), /^moveaxis: source must be an integer or an array of integers, received \{"a":1\}$/],
    ['roll along a string axis', () => ops.roll(x, 1, 'ab' as never), /^roll: axis must be an integer or an array of integers, received "ab"$/],
    ['pad by an object', () => ops.pad(x, { a: 1 } as never), /^pad: pad_width must be an integer or \[before, after\] pairs for \(2, 3\), received \{"a":1\}$/],
    ['cumsum along a function', () => ops.cumsum(x, (() => 0) as never), /^cumsum: axis must be an integer, received a function$/],
    ['topK of a Symbol k', () => ops.topK(x, Symbol('k') as never), /^topK: k=Symbol\(k\) must be an integer in \[0, 3\] for x of shape \(2, 3\)$/],
    ['unstack into a Symbol num', () => ops.unstack(x, Symbol('n') as never), /^unstack: num=Symbol\(n\) does not match size 2 of axis 0 of \(2, 3\)$/],
    ['norm of a Symbol ord', () => ops.norm(x, Symbol('o') as never), /^norm: ord must be a number, 'fro' or null, received Symbol\(o\)$/],
    ['fullLike filled with a Symbol', () => ops.fullLike(x, Symbol('v') as never), /^fullLike: fillValue must be a number or a boolean, received Symbol\(v\)$/],
  ];
  it.each(cases)('%s: a KerasError naming the op and the argument', (_, call, message) => {
    let error: unknown = null;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(error, 'the call threw').toBeInstanceOf(keras.KerasError);
    expect((error as Error).message).toMatch(message);
  });

  it('keeps gradient helpers out of keras.ops', () => {
    expect('rowSum' in ops, 'rowSum (the add gradient\'s row sum) is internal').toBe(false);
  });
});
