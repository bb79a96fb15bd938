import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';

const { ops, constraints: C } = keras;

const EPS = 1e-7;

describe('MaxNorm', () => {
  it('rescales columns (axis 0) whose norm exceeds maxValue, keeps the others', () => {
    // Column norms 5 and 1.
    const w = ops.convertToTensor([[3, 0.6], [4, 0.8]], 'float64');
    const s = 2 / (5 + EPS);
    const k = 1 / (1 + EPS);
    expectClose(new C.MaxNorm().apply(w), [[3 * s, 0.6 * k], [4 * s, 0.8 * k]], { rtol: 1e-12 });
    expectClose(new C.MaxNorm(10).apply(w), [[3 * (5 / (5 + EPS)), 0.6 * k], [4 * (5 / (5 + EPS)), 0.8 * k]], { rtol: 1e-12 });
  });

  it('takes axis as a number, a negative number or an array', () => {
    // Row norms: sqrt(9 + 16) = 5 and sqrt(0.36 + 0.64) = 1.
    const w = ops.convertToTensor([[3, 4], [0.6, 0.8]], 'float64');
    const s = 1 / (5 + EPS);
    const want = [[3 * s, 4 * s], [0.6 / (1 + EPS), 0.8 / (1 + EPS)]];
    expectClose(new C.MaxNorm(1, 1).apply(w), want, { rtol: 1e-12 });
    expectClose(new C.MaxNorm({ maxValue: 1, axis: -1 }).apply(w), want, { rtol: 1e-12 });
    // Over both axes: the Frobenius norm sqrt(26) scaled to 1.
    const f = 1 / (Math.sqrt(26) + EPS);
    expectClose(new C.MaxNorm(1, [0, 1]).apply(w), [[3 * f, 4 * f], [0.6 * f, 0.8 * f]], { rtol: 1e-12 });
    // A conv kernel (2, 2, 1, 2) constrained per filter over axes [0, 1, 2].
    const kernel = ops.reshape(ops.convertToTensor([1, 2, 1, 2, 1, 2, 1, 2], 'float64'), [2, 2, 1, 2]);
    const out = new C.MaxNorm(1, [0, 1, 2]).apply(kernel);
    expectClose(out, ops.reshape(ops.convertToTensor([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5].map((v, i) => (i % 2 ? 2 / (4 + EPS) : 1 / (2 + EPS))), 'float64'), [2, 2, 1, 2]), { rtol: 1e-12 });
    expect(() => new C.MaxNorm(1, 2).apply(w)).toThrow(/sum: axis=2 is out of range for a tensor of rank 2/);
  });

  it('casts integer weights to float and keeps float dtypes', () => {
    const i = new C.MaxNorm(1).apply(ops.convertToTensor([[3], [4]], 'int32'));
    expect(i.dtype).toBe('float32');
    expectClose(i, [[0.6], [0.8]], { rtol: 1e-6 });
    expect(new C.MaxNorm().apply(ops.ones([2, 2], 'float64')).dtype).toBe('float64');
    expect(new C.MaxNorm().apply(ops.zeros([0, 3])).shape).toEqual([0, 3]);
  });

  it('validates its arguments', () => {
    expect(() => new C.MaxNorm('2' as unknown as number)).toThrow(/MaxNorm: maxValue must be a number/);
    expect(() => new C.MaxNorm(2, 0.5)).toThrow(/MaxNorm: axis must be an integer or a non-empty array of integers, received 0\.5/);
    expect(() => new C.MaxNorm({ max_value: 2 } as unknown as { maxValue: number })).toThrow(/MaxNorm: unknown option "max_value"; accepted: maxValue, axis/);
  });
});

describe('UnitNorm, NonNeg, MinMaxNorm', () => {
  it('UnitNorm divides by epsilon + norm along axis', () => {
    const w = ops.convertToTensor([[3, 0], [4, 2]], 'float64');
    expectClose(new C.UnitNorm().apply(w), [[3 / (5 + EPS), 0], [4 / (5 + EPS), 2 / (2 + EPS)]], { rtol: 1e-12 });
    expectClose(new C.UnitNorm(1).apply(w), [[3 / (3 + EPS), 0], [4 / (Math.sqrt(20) + EPS), 2 / (Math.sqrt(20) + EPS)]], { rtol: 1e-12 });
    // A zero column stays zero (no division by zero).
    expectClose(new C.UnitNorm().apply(ops.zeros([2, 1], 'float64')), [[0], [0]]);
  });

  it('NonNeg clamps negatives to zero, keeping the dtype', () => {
    expectClose(new C.NonNeg().apply(ops.convertToTensor([[-1, 2.5], [0, -3]], 'float32')), [[0, 2.5], [0, 0]]);
    const i = new C.NonNeg().apply(ops.convertToTensor([-2, 3], 'int32'));
    expect(i.dtype).toBe('int32');
    expectClose(i, [0, 3]);
  });

  it('MinMaxNorm moves norms into [minValue, maxValue] at `rate`', () => {
    // Column norms 5 and 0.5.
    const w = ops.convertToTensor([[3, 0.3], [4, 0.4]], 'float64');
    const strict = new C.MinMaxNorm(1, 2).apply(w);
    expectClose(strict, [[3 * (2 / (5 + EPS)), 0.3 * (1 / (0.5 + EPS))], [4 * (2 / (5 + EPS)), 0.4 * (1 / (0.5 + EPS))]], { rtol: 1e-12 });
    // rate 0.5: desired = 0.5 * clip + 0.5 * norm -> 3.5 and 0.75.
    const half = new C.MinMaxNorm({ minValue: 1, maxValue: 2, rate: 0.5 }).apply(w);
    expectClose(half, [[3 * (3.5 / (5 + EPS)), 0.3 * (0.75 / (0.5 + EPS))], [4 * (3.5 / (5 + EPS)), 0.4 * (0.75 / (0.5 + EPS))]], { rtol: 1e-12 });
    // Defaults: [0, 1], rate 1, axis 0.
    expectClose(new C.MinMaxNorm().apply(w), [[3 / (5 + EPS), 0.3 * (0.5 / (0.5 + EPS))], [4 / (5 + EPS), 0.4 * (0.5 / (0.5 + EPS))]], { rtol: 1e-12 });
    // axis 1: row norms sqrt(9.09) and sqrt(16.16), both above 2.
    const r0 = Math.sqrt(9.09);
    const r1 = Math.sqrt(16.16);
    expectClose(new C.MinMaxNorm(0, 2, 1, 1).apply(w), [[3 * (2 / (r0 + EPS)), 0.3 * (2 / (r0 + EPS))], [4 * (2 / (r1 + EPS)), 0.4 * (2 / (r1 + EPS))]], { rtol: 1e-12 });
  });

  it('the base Constraint is the identity', () => {
    const w = ops.convertToTensor([1, -2]);
    expect(new C.Constraint().call(w)).toBe(w);
    expect(new C.Constraint().getConfig()).toEqual({});
  });

  it('differentiate (finite differences), away from the clip points', () => {
    const w = randomTensor([3, 4], 9, 0.5, 2);
    checkGrad((t) => new C.MaxNorm(1).call(t), [w]);
    checkGrad((t) => new C.UnitNorm(1).call(t), [w]);
    checkGrad((t) => new C.MinMaxNorm(0.5, 1, 0.7).call(t), [w]);
  });
});

describe('constraints.get, serialize, deserialize', () => {
  it('accepts Keras names, class names and camelCase', () => {
    const forms: [string, new (...args: never[]) => keras.constraints.Constraint][] = [
      ['max_norm', C.MaxNorm],
      ['MaxNorm', C.MaxNorm],
      ['maxNorm', C.MaxNorm],
      ['min_max_norm', C.MinMaxNorm],
      ['MinMaxNorm', C.MinMaxNorm],
      ['minMaxNorm', C.MinMaxNorm],
      ['non_neg', C.NonNeg],
      ['NonNeg', C.NonNeg],
      ['nonNeg', C.NonNeg],
      ['unit_norm', C.UnitNorm],
      ['UnitNorm', C.UnitNorm],
      ['unitNorm', C.UnitNorm],
    ];
    for (const [name, cls] of forms) expect(C.get(name), name).toBeInstanceOf(cls);
    expect(C.get('max_norm').getConfig()).toEqual({ max_value: 2, axis: 0 });
  });

  it('accepts configs, instances, classes, functions and null', () => {
    const m = C.get({ class_name: 'MaxNorm', config: { max_value: 3, axis: [0, 1] } }) as keras.constraints.MaxNorm;
    expect([m.maxValue, m.axis]).toEqual([3, [0, 1]]);
    const mm = C.get({ className: 'MinMaxNorm', config: { minValue: 0.5, max_value: 4, rate: 0.1, axis: 1 } }) as keras.constraints.MinMaxNorm;
    expect([mm.minValue, mm.maxValue, mm.rate, mm.axis]).toEqual([0.5, 4, 0.1, 1]);
    const inst = new C.UnitNorm();
    expect(C.get(inst)).toBe(inst);
    expect(C.get(C.NonNeg)).toBeInstanceOf(C.NonNeg);
    const wrapped = C.get((w: keras.Tensor) => ops.clip(w, -1, 1));
    expect(wrapped).toBeInstanceOf(C.Constraint);
    expectClose(wrapped.apply([-3, 0.5, 2]), [-1, 0.5, 1]);
    expect(C.get(null)).toBeNull();
  });

  it('raises on unknown identifiers, listing the known names', () => {
    expect(() => C.get('positive')).toThrow(/keras\.constraints\.get: unknown constraint "positive"; known: max_norm, min_max_norm, non_neg, unit_norm/);
    expect(() => C.get({ className: 'Positive', config: {} })).toThrow(/keras\.constraints\.deserialize: unknown constraint "Positive"/);
    expect(() => C.get([1] as never)).toThrow(/could not interpret constraint identifier: \[1\]/);
  });

  it('serializes with Keras snake_case keys and round-trips', () => {
    expect(C.serialize(new C.MinMaxNorm(0.5, 3, 0.5, [0, 1]))).toEqual({
      module: 'keras.constraints',
      className: 'MinMaxNorm',
      config: { min_value: 0.5, max_value: 3, rate: 0.5, axis: [0, 1] },
      registeredName: null,
    });
    const w = ops.convertToTensor([[3, 0.3], [4, 0.4]], 'float64');
    for (const c of [new C.MaxNorm(1.5, 1), new C.MinMaxNorm(1, 2, 0.5), new C.NonNeg(), new C.UnitNorm(1)]) {
      const back = C.deserialize(JSON.parse(JSON.stringify(C.serialize(c))));
      expect(back.constructor).toBe(c.constructor);
      expect(back.getConfig()).toEqual(c.getConfig());
      expectClose(back.apply(w), c.apply(w), { rtol: 0, atol: 0 });
    }
  });

  it('camelCase factories match the classes', () => {
    expect(C.maxNorm(3).maxValue).toBe(3);
    expect(C.minMaxNorm({ rate: 0.5 }).rate).toBe(0.5);
    expect(C.nonNeg()).toBeInstanceOf(C.NonNeg);
    expect(C.unitNorm(1).axis).toBe(1);
  });
});
