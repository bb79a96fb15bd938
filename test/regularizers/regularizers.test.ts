import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';

const { ops, regularizers: R } = keras;

const W = [[1, -2], [3, -4]];
const w64 = () => ops.convertToTensor(W, 'float64');

describe('L1, L2, L1L2', () => {
  it('compute l1 * sum(|x|) and l2 * sum(x^2) by hand', () => {
    expectClose(new R.L1(0.1).apply(w64()), 1, { shape: [] });
    expectClose(new R.L2(0.5).apply(w64()), 15, { shape: [] });
    expectClose(new R.L1L2(0.1, 0.5).apply(w64()), 16, { shape: [] });
    expectClose(new R.L1L2({ l2: 0.5 }).apply(w64()), 15);
    expectClose(new R.L1L2({ l1: 0.1 }).apply(w64()), 1);
    // Defaults: L1/L2 0.01; L1L2 0 and 0 (Keras 3's class defaults).
    expectClose(new R.L1().apply(w64()), 0.1);
    expectClose(new R.L2().apply(w64()), 0.3);
    expectClose(new R.L1(null).apply(w64()), 0.1);
    const zero = new R.L1L2().apply(w64());
    expect(zero.dtype).toBe('float64');
    expectClose(zero, 0, { shape: [] });
  });

  it('keep the weight dtype; integer weights are penalized in floatx', () => {
    expect(new R.L2(0.5).apply(w64()).dtype).toBe('float64');
    const f32 = new R.L1(0.1).apply(ops.convertToTensor(W, 'float32'));
    expect(f32.dtype).toBe('float32');
    expectClose(f32, 1);
    const i = new R.L2(1).apply(ops.convertToTensor(W, 'int32'));
    expect(i.dtype).toBe('float32');
    expectClose(i, 30);
    // Variables, scalars, size-0 tensors.
    expectClose(new R.L1(2).apply(new keras.Variable(ops.convertToTensor([[-1.5]], 'float32'))), 3);
    expectClose(new R.L2(2).apply(-3), 18);
    expectClose(new R.L1L2(1, 1).apply(ops.zeros([0, 3])), 0);
  });

  it('reject negative, non-finite and non-number factors, naming the argument', () => {
    expect(() => new R.L1(-1)).toThrow(/L1: invalid value for argument l1: expected a non-negative float, received l1=-1/);
    expect(() => new R.L2(NaN)).toThrow(/L2: invalid value for argument l2: .*received l2=/);
    expect(() => new R.L1L2(0.1, Infinity)).toThrow(/L1L2: invalid value for argument l2/);
    expect(() => new R.L1('0.1' as unknown as number)).toThrow(/L1: invalid value for argument l1/);
    expect(() => new R.L2({ l1: 0.1 } as unknown as { l2: number })).toThrow(/L2: unknown option "l1"; accepted: l2/);
  });

  it('have the gradients sign(x) * l1 + 2 x * l2 (finite differences)', () => {
    const x = randomTensor([3, 4], 3, 0.2, 1.5);
    const signs = ops.convertToTensor([[1, -1, 1, -1], [-1, 1, -1, 1], [1, 1, -1, -1]], 'float64');
    const mixed = ops.multiply(x, signs);
    checkGrad((t) => new R.L1(0.3).call(t), [mixed]);
    checkGrad((t) => new R.L2(0.7).call(t), [mixed]);
    checkGrad((t) => new R.L1L2(0.3, 0.7).call(t), [mixed]);
    const g = keras.grad((t: keras.Tensor) => new R.L1L2(0.5, 2).call(t))(ops.convertToTensor([[1, -2]], 'float64')) as keras.Tensor;
    expectClose(g, [[0.5 + 4, -0.5 - 8]]);
  });

  it('trace into graphs (written with ops only)', () => {
    const g = keras.trace((t: keras.Tensor) => new R.L1L2(0.1, 0.5).call(t), [{ shape: [null, 2], dtype: 'float64' }]);
    expect(g.outputs[0].shape).toEqual([]);
    const [out] = keras.ir.run(g, [w64()]);
    expectClose(out, 16);
  });
});

describe('OrthogonalRegularizer', () => {
  it('rows mode: factor * 0.5 * sum |off-diagonal of N N^T| / number of pairs', () => {
    // Rows [1, 0], [0, 1], [1, 1]/sqrt(2): products 0, 1/sqrt(2), 1/sqrt(2); 3 pairs.
    const x = ops.convertToTensor([[1, 0], [0, 1], [1, 1]], 'float64');
    expectClose(new R.OrthogonalRegularizer(1).apply(x), (0.5 * 2 * (2 / Math.SQRT2)) / 3);
    expectClose(new R.OrthogonalRegularizer().apply(x), (0.01 * 0.5 * 2 * (2 / Math.SQRT2)) / 3);
    // Orthogonal rows give 0.
    expectClose(new R.OrthogonalRegularizer(1).apply(ops.convertToTensor([[2, 0], [0, 3]], 'float64')), 0, { atol: 1e-12 });
  });

  it('columns mode normalizes columns', () => {
    // Columns [1, 0, 1]/sqrt(2) and [0, 1, 1]/sqrt(2): product 1/2; one pair.
    const x = ops.convertToTensor([[1, 0], [0, 1], [1, 1]], 'float32');
    const r = new R.OrthogonalRegularizer({ factor: 2, mode: 'columns' }).apply(x);
    expect(r.dtype).toBe('float32');
    expectClose(r, 2 * 0.5 * 2 * 0.5);
  });

  it('differentiates (finite differences), in both modes', () => {
    const x = randomTensor([4, 3], 5, -1, 1);
    checkGrad((t) => new R.OrthogonalRegularizer(0.5, 'rows').call(t), [x], { rtol: 1e-4 });
    checkGrad((t) => new R.OrthogonalRegularizer(0.5, 'columns').call(t), [x], { rtol: 1e-4 });
  });

  it('needs rank 2 and a valid mode', () => {
    expect(() => new R.OrthogonalRegularizer().apply([1, 2, 3])).toThrow(/OrthogonalRegularizer: inputs must have rank 2, received shape \(3,\)/);
    expect(() => new R.OrthogonalRegularizer(0.1, 'diag' as 'rows')).toThrow(/OrthogonalRegularizer: invalid value for argument mode; expected one of "rows", "columns", received mode="diag"/);
    expect(() => new R.OrthogonalRegularizer(-0.1)).toThrow(/OrthogonalRegularizer: invalid value for argument factor/);
  });
});

describe('regularizers.get, serialize, deserialize', () => {
  it('accepts Keras names, class names and camelCase', () => {
    const forms: [string, new (...args: never[]) => keras.regularizers.Regularizer][] = [
      ['l1', R.L1],
      ['L1', R.L1],
      ['l2', R.L2],
      ['L2', R.L2],
      ['l1_l2', R.L1L2],
      ['L1L2', R.L1L2],
      ['l1L2', R.L1L2],
      ['orthogonal_regularizer', R.OrthogonalRegularizer],
      ['OrthogonalRegularizer', R.OrthogonalRegularizer],
      ['orthogonalRegularizer', R.OrthogonalRegularizer],
    ];
    for (const [name, cls] of forms) expect(R.get(name), name).toBeInstanceOf(cls);
    expect((R.get('l1') as keras.regularizers.L1).l1).toBe(0.01);
    expect((R.get('l2') as keras.regularizers.L2).l2).toBe(0.01);
    expect(R.get('l1_l2').getConfig()).toEqual({ l1: 0, l2: 0 });
  });

  it('accepts configs, instances, classes, functions and null', () => {
    expect(R.get({ class_name: 'L2', config: { l2: 0.2 } }).getConfig()).toEqual({ l2: 0.2 });
    expect(R.get({ className: 'L1L2', config: { l1: 0.1, l2: 0.3 } }).getConfig()).toEqual({ l1: 0.1, l2: 0.3 });
    const inst = new R.L1(0.5);
    expect(R.get(inst)).toBe(inst);
    expect(R.get(R.L2)).toBeInstanceOf(R.L2);
    const fn = (x: keras.Tensor) => ops.multiply(ops.sum(x), 2);
    const wrapped = R.get(fn);
    expect(wrapped).toBeInstanceOf(R.Regularizer);
    expectClose(wrapped.apply(w64()), -4);
    expect(R.get(null)).toBeNull();
    expect(R.get(undefined)).toBeNull();
    expect(() => R.serialize(wrapped)).toThrow(/cannot serialize the function regularizer fn/);
  });

  it('raises on unknown identifiers, listing the known names', () => {
    expect(() => R.get('l3')).toThrow(/keras\.regularizers\.get: unknown regularizer "l3"; known: l1, l1_l2, l2, orthogonal_regularizer/);
    expect(() => R.get({ className: 'L3', config: {} })).toThrow(/keras\.regularizers\.deserialize: unknown regularizer "L3"/);
    expect(() => R.get(0.01 as never)).toThrow(/could not interpret regularizer identifier: 0\.01/);
  });

  it('serializes with snake_case keys and round-trips', () => {
    expect(R.serialize(new R.L1L2(0.1, 0.2))).toEqual({ module: 'keras.regularizers', className: 'L1L2', config: { l1: 0.1, l2: 0.2 }, registeredName: null });
    for (const r of [new R.L1(0.3), new R.L2(0.4), new R.L1L2(0.1, 0.2), new R.OrthogonalRegularizer(0.2, 'columns')]) {
      const back = R.deserialize(JSON.parse(JSON.stringify(R.serialize(r))));
      expect(back.constructor).toBe(r.constructor);
      expect(back.getConfig()).toEqual(r.getConfig());
      expectClose(back.apply(w64()), r.apply(w64()), { rtol: 0, atol: 0 });
    }
    class Custom extends R.Regularizer {
      call(x: keras.Tensor) {
        return ops.sum(x);
      }
    }
    expect(() => R.serialize(new Custom())).toThrow(/Custom does not implement getConfig\(\)/);
  });

  it('camelCase factories match the classes', () => {
    expect(R.l1(0.2).l1).toBe(0.2);
    expect(R.l2().l2).toBe(0.01);
    expect(R.l1L2({ l1: 0.1 }).getConfig()).toEqual({ l1: 0.1, l2: 0 });
    expect(R.orthogonalRegularizer(0.3, 'columns').mode).toBe('columns');
  });
});
