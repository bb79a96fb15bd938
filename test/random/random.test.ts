import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import * as random from '../../lib/random/index.js';
import { checkGrad, expectClose } from '../helpers.js';
import type { Tensor } from '../../lib/index.js';

const { ops } = keras;

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const seedTensor = (a: number, b: number): Tensor => ops.convertToTensor([a, b], 'int32');

function stats(v: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    s += v[i];
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
  }
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length), min, max };
}

// The tables of docs/random.md, seed [42, 0].
const UNIFORM_F32_42 = [10283760, 7861577, 1228624, 5718707, 16571169, 5487212, 8621914, 7622150].map((k) => k / 2 ** 24);
const UNIFORM_F64_42 = [0.6129598801477738, 0.07323173687503892, 0.9877186516453577, 0.513906146990624, 0.825866830783453, 0.6027439592300704, 0.7295992647904146, 0.5864003477925513];
const NORMAL_F64_42 = [1.2345418209781556, 0.6118499302684758, -2.9550533674680803, -0.258856559244511, -1.4934674775718375, -1.12491099993181, -1.384791496186565, -0.8354956276263229];
const NORMAL_F32_42 = [-1.3510921001434326, 0.27019208669662476, -0.2107541412115097, 0.3281555473804474, -1.3808543682098389, 2.625373601913452, -1.1519832611083984, 0.3400611877441406];

describe('uniform', () => {
  it('reproduces the documented first values for seed [42, 0]', () => {
    const u = random.uniform([8], { seed: 42 });
    expect(u.dtype).toBe('float32');
    expect(values(u)).toEqual(UNIFORM_F32_42);
    expect(values(random.uniform([8], { seed: 42, dtype: 'float64' }))).toEqual(UNIFORM_F64_42);
    // A seed tensor is the key itself; an integer seed s is the key (s, 0).
    expect(values(random.uniform([8], { seed: seedTensor(42, 0) }))).toEqual(UNIFORM_F32_42);
  });

  it('lays values out row-major over the shape', () => {
    const u = random.uniform([2, 4], 0, 1, 'float32', 42);
    expect(u.shape).toEqual([2, 4]);
    expect(values(u)).toEqual(UNIFORM_F32_42);
    expect(values(random.uniform([2, 3], { seed: 42 }))).toEqual(UNIFORM_F32_42.slice(0, 6));
  });

  it('scales to [minval, maxval)', () => {
    const u = random.uniform([8], { minval: -2, maxval: 6, seed: 42 });
    expectClose(u, UNIFORM_F32_42.map((x) => x * 8 - 2), { rtol: 1e-6 });
    const big = random.uniform([20000], { minval: 3, maxval: 5, seed: 1 }).dataSync();
    const s = stats(big);
    expect(s.min).toBeGreaterThanOrEqual(3);
    expect(s.max).toBeLessThan(5);
    expect(Math.abs(s.mean - 4)).toBeLessThan(0.02);
    expect(Math.abs(s.std - 2 / Math.sqrt(12))).toBeLessThan(0.01);
  });

  it('takes tensor bounds with broadcasting', () => {
    const u = random.uniform([2, 4], { minval: ops.convertToTensor([[0], [10]], 'float32'), maxval: ops.convertToTensor([[1], [20]], 'float32'), seed: 42 });
    expectClose(u, [UNIFORM_F32_42.slice(0, 4), UNIFORM_F32_42.slice(4).map((x) => 10 + 10 * x)], { rtol: 1e-6 });
  });

  it('handles scalar, size-0 and size-1 shapes', () => {
    const s = random.uniform([], { seed: 42 });
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(UNIFORM_F32_42[0]);
    expect(random.uniform(3, { seed: 42 }).shape).toEqual([3]);
    expect(random.uniform([0, 3], { seed: 42 }).shape).toEqual([0, 3]);
    expect(values(random.uniform([1, 1], { seed: 42 }))).toEqual([UNIFORM_F32_42[0]]);
  });

  it('negative and uint32 seeds address the same 32-bit key', () => {
    expect(values(random.uniform([5], { seed: -1 }))).toEqual(values(random.uniform([5], { seed: 0xffffffff })));
    expect(values(random.uniform([5], { seed: -1 }))).not.toEqual(values(random.uniform([5], { seed: 1 })));
  });

  it('rejects bad shapes, dtypes and seeds', () => {
    expect(() => random.uniform([2, -1], { seed: 1 })).toThrow(/uniform: shape must be .*\[2,-1\]/);
    expect(() => random.uniform([2.5], { seed: 1 })).toThrow(/uniform: shape/);
    expect(() => random.uniform([2], { dtype: 'int32', seed: 1 })).toThrow(/uniform: dtype must be a float dtype, received int32/);
    expect(() => random.uniform([2], { dtype: 'float16', seed: 1 })).toThrow(/float16 is not supported/);
    expect(() => random.uniform([2], { seed: 1.5 })).toThrow(/uniform: seed must be an integer/);
    expect(() => random.uniform([2], { seed: 2 ** 33 })).toThrow(/uniform: seed must be an integer/);
    expect(() => random.uniform([2], { seed: ops.convertToTensor([1, 2, 3], 'int32') })).toThrow(/uniform: a seed tensor must be int32 of shape \(2,\), received int32 \(3,\)/);
    expect(() => random.uniform([2], { seed: ops.convertToTensor([1, 2], 'float32') })).toThrow(/uniform: a seed tensor must be int32 .* float32 \(2,\)/);
  });
});

describe('seeding', () => {
  it('same seed gives the same values, different seeds different ones', () => {
    expect(values(random.normal([50], { seed: 3 }))).toEqual(values(random.normal([50], { seed: 3 })));
    expect(values(random.normal([50], { seed: 3 }))).not.toEqual(values(random.normal([50], { seed: 4 })));
  });

  it('SeedGenerator keys draws with [seed, counter] and advances the counter', () => {
    const g = new random.SeedGenerator(42);
    expect(g.state.dtype).toBe('int32');
    expect(g.state.trainable).toBe(false);
    expect(values(g.state.value)).toEqual([42, 0]);
    const a = random.uniform([4], { seed: g });
    expect(values(g.state.value)).toEqual([42, 1]);
    const b = random.uniform([4], { seed: g });
    expect(values(g.state.value)).toEqual([42, 2]);
    expect(values(a)).toEqual(UNIFORM_F32_42.slice(0, 4));
    expect(values(b)).toEqual(values(random.uniform([4], { seed: seedTensor(42, 1) })));
    expect(values(a)).not.toEqual(values(b));
    const key = g.next();
    expect(values(key)).toEqual([42, 2]);
    expect(values(g.state.value)).toEqual([42, 3]);
    expect(g.getConfig()).toEqual({ seed: 42 });
    expect(new random.SeedGenerator({ seed: 5 }).seed).toBe(5);
    expect(() => new random.SeedGenerator(0.5)).toThrow(/SeedGenerator: seed must be an integer/);
  });

  it('an unseeded SeedGenerator picks a seed of its own', () => {
    const g = new random.SeedGenerator();
    expect(Number.isInteger(g.seed)).toBe(true);
    expect(values(g.state.value)).toEqual([g.seed, 0]);
  });

  it('setRandomSeed makes unseeded draws reproducible', () => {
    random.setRandomSeed(7);
    const a = random.uniform([6]);
    const b = random.normal([6]);
    random.setRandomSeed(7);
    expect(values(random.uniform([6]))).toEqual(values(a));
    expect(values(random.normal([6]))).toEqual(values(b));
    expect(values(a)).toEqual(values(random.uniform([6], { seed: seedTensor(7, 0) })));
    expect(values(b)).toEqual(values(random.normal([6], { seed: seedTensor(7, 1) })));
    expect(() => random.setRandomSeed(Number.NaN)).toThrow(/setRandomSeed: seed must be an integer/);
  });
});

describe('normal', () => {
  it('reproduces the documented Box-Muller values', () => {
    expectClose(random.normal([8], { seed: 42, dtype: 'float64' }), NORMAL_F64_42, { rtol: 1e-15, atol: 1e-15 });
    expectClose(random.normal([8], { seed: 42 }), NORMAL_F32_42, { rtol: 1e-6, atol: 1e-7 });
  });

  it('pairs adjacent uniforms: z[2k] = r cos(2 pi u[2k+1]), z[2k+1] = r sin(2 pi u[2k+1]), r = sqrt(-2 log(1 - u[2k]))', () => {
    const u = random.uniform([6], { seed: 9, dtype: 'float64' }).dataSync();
    const want: number[] = [];
    for (let k = 0; k < 3; k++) {
      const r = Math.sqrt(-2 * Math.log(1 - u[2 * k]));
      want.push(r * Math.cos(2 * Math.PI * u[2 * k + 1]), r * Math.sin(2 * Math.PI * u[2 * k + 1]));
    }
    expectClose(random.normal([2, 3], { seed: 9, dtype: 'float64' }), [want.slice(0, 3), want.slice(3)], { rtol: 1e-14, atol: 1e-15 });
    // An odd count drops the last sine.
    expectClose(random.normal([5], 0, 1, 'float64', 9), want.slice(0, 5), { rtol: 1e-14, atol: 1e-15 });
  });

  it('has mean 0 and std 1 over 100k draws', () => {
    const v = random.normal([100000], { seed: 1234 }).dataSync();
    const s = stats(v);
    expect(Math.abs(s.mean)).toBeLessThan(0.012);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.01);
    let within1 = 0;
    for (const x of v) if (Math.abs(x) < 1) within1++;
    expect(Math.abs(within1 / v.length - 0.6826894921)).toBeLessThan(0.006);
    expect(Number.isFinite(s.min) && Number.isFinite(s.max)).toBe(true);
  });

  it('applies mean and stddev as z * stddev + mean', () => {
    const z = random.normal([6], { seed: 5, dtype: 'float64' }).dataSync();
    expectClose(random.normal([6], { mean: 3, stddev: 0.5, seed: 5, dtype: 'float64' }), Array.from(z, (x) => x * 0.5 + 3), { rtol: 1e-15 });
    const s = stats(random.normal([50000], 10, 2, 'float32', 77).dataSync());
    expect(Math.abs(s.mean - 10)).toBeLessThan(0.03);
    expect(Math.abs(s.std - 2)).toBeLessThan(0.03);
  });

  it('is differentiable in tensor mean and stddev', () => {
    const mean = ops.convertToTensor([0.5, -1, 2], 'float64');
    const stddev = ops.convertToTensor(new Float64Array([1.5]));
    checkGrad((m, s) => random.normal([2, 3], { mean: m, stddev: s, seed: 3, dtype: 'float64' }), [mean, stddev]);
  });

  it('handles size-0 shapes and rejects int dtypes', () => {
    expect(random.normal([3, 0], { seed: 1 }).shape).toEqual([3, 0]);
    expect(() => random.normal([3], { dtype: 'int32', seed: 1 })).toThrow(/normal: dtype must be a float dtype, received int32/);
  });
});

describe('truncatedNormal', () => {
  it('is the inverse CDF of the uniform, within 2 stddev', () => {
    const u = random.uniform([6], { seed: 11, dtype: 'float64' }).dataSync();
    // x = sqrt(2) erfinv(erf(sqrt(2)) (2u - 1)) is the normal quantile of Phi(-2) + u (Phi(2) - Phi(-2)).
    const t = random.truncatedNormal([6], { seed: 11, dtype: 'float64' }).dataSync();
    const erf = (x: number) => values(ops.erf(ops.convertToTensor(new Float64Array([x]))))[0];
    for (let i = 0; i < 6; i++) {
      const phi = 0.5 * (1 + erf(t[i] / Math.SQRT2));
      const phiM2 = 0.5 * (1 + erf(-Math.SQRT2));
      const phiP2 = 0.5 * (1 + erf(Math.SQRT2));
      expect(phi).toBeCloseTo(phiM2 + u[i] * (phiP2 - phiM2), 12);
    }
  });

  it('stays within bounds with the truncated moments', () => {
    const v = random.truncatedNormal([100000], { seed: 21 }).dataSync();
    const s = stats(v);
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThanOrEqual(2);
    expect(Math.abs(s.mean)).toBeLessThan(0.01);
    // Var of N(0,1) truncated to [-2, 2]: 1 - 4 phi(2) / (Phi(2) - Phi(-2)) = 0.773741...
    expect(Math.abs(s.std - Math.sqrt(0.7737413))).toBeLessThan(0.008);
    const shifted = random.truncatedNormal([20000], { mean: 5, stddev: 0.1, seed: 2 }).dataSync();
    const t = stats(shifted);
    expect(t.min).toBeGreaterThanOrEqual(4.8 - 1e-6);
    expect(t.max).toBeLessThanOrEqual(5.2 + 1e-6);
  });
});

describe('randint', () => {
  it('draws integers in [minval, maxval), both ends reached', () => {
    const v = random.randint([20000], -3, 4, { seed: 8 });
    expect(v.dtype).toBe('int32');
    const counts = new Map<number, number>();
    for (const x of v.dataSync()) counts.set(x, (counts.get(x) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c / 20000 - 1 / 7)).toBeLessThan(0.012);
  });

  it('is minval + floor(u * (maxval - minval)) with float64 uniforms', () => {
    const u = random.uniform([8], { seed: 42, dtype: 'float64' }).dataSync();
    expect(values(random.randint([2, 4], 10, 1010, 'int32', 42))).toEqual(Array.from(u, (x) => 10 + Math.floor(x * 1000)));
    expect(values(random.randint([8], 0, 10, { seed: 42 }))).toEqual([6, 0, 9, 5, 8, 6, 7, 5]);
    expect(values(random.randint([4], 5, 6, { seed: 42 }))).toEqual([5, 5, 5, 5]);
    expect(values(random.randint([6], -(2 ** 31), 2 ** 31, { seed: 3 })).every((x) => Number.isInteger(x))).toBe(true);
  });

  it('rejects empty ranges and non-integer dtypes', () => {
    expect(() => random.randint([2], 3, 3, { seed: 1 })).toThrow(/randint: maxval \(3\) must be greater than minval \(3\)/);
    expect(() => random.randint([2], 0.5, 3, { seed: 1 })).toThrow(/randint: minval must be an integer/);
    expect(() => random.randint([2], 0, 3, 'float32', 1)).toThrow(/randint: dtype must be an integer dtype \(int32\), received float32/);
  });
});

describe('dropout', () => {
  it('keeps a value where its float32 uniform is < 1 - rate, scaled by 1 / (1 - rate)', () => {
    const x = ops.reshape(ops.convertToTensor(new Float32Array(8).fill(1)), [2, 4]);
    expectClose(random.dropout(x, 0.5, { seed: 42 }), [[0, 2, 2, 2], [0, 2, 0, 2]]);
    const xs = ops.reshape(ops.convertToTensor(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])), [2, 4]);
    const u = UNIFORM_F32_42;
    expectClose(random.dropout(xs, 0.25, null, 42), [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (u[i] < 0.75 ? (i + 1) / 0.75 : 0)), { rtol: 1e-6 });
  });

  it('drops the requested fraction and preserves the mean', () => {
    const x = ops.convertToTensor(new Float32Array(100000).fill(1));
    const y = random.dropout(x, 0.3, { seed: 4 }).dataSync();
    let zeros = 0;
    let total = 0;
    let wrong = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      else if (v !== Math.fround(1 / Math.fround(0.7))) wrong++;
      total += v;
    }
    expect(wrong).toBe(0);
    expect(Math.abs(zeros / y.length - 0.3)).toBeLessThan(0.006);
    expect(Math.abs(total / y.length - 1)).toBeLessThan(0.01);
  });

  it('shares the mask along size-1 noiseShape dims; null takes the input dim', () => {
    const x = ops.reshape(ops.convertToTensor(new Float32Array(12).fill(1)), [4, 3]);
    const y = random.dropout(x, 0.5, [null, 1], 42).arraySync() as number[][];
    // Noise shape (4, 1): row i uses uniform i.
    y.forEach((row, i) => expect(row).toEqual(new Array(3).fill(UNIFORM_F32_42[i] < 0.5 ? 2 : 0)));
    expect(() => random.dropout(x, 0.5, [4, 2], 1)).toThrow(/dropout: noiseShape \[4,2\] is not broadcastable to inputs \(4, 3\)/);
    expect(() => random.dropout(x, 0.5, [4], 1)).toThrow(/dropout: noiseShape \[4\] must have one entry per axis of inputs \(4, 3\)/);
  });

  it('rate 0 keeps everything, rate 1 drops everything, others are rejected', () => {
    const x = ops.convertToTensor([1.5, -2, 3], 'float32');
    expectClose(random.dropout(x, 0, { seed: 1 }), [1.5, -2, 3]);
    expectClose(random.dropout(x, 1, { seed: 1 }), [0, 0, 0]);
    expect(() => random.dropout(x, 1.5, { seed: 1 })).toThrow(/dropout: rate must be a number in \[0, 1\], received 1.5/);
    expect(() => random.dropout(x, -0.1, { seed: 1 })).toThrow(/dropout: rate/);
  });

  it('casts int inputs to float and passes the gradient through the mask', () => {
    expect(random.dropout([1, 2, 3], 0.5, { seed: 1 }).dtype).toBe('float32');
    const x = ops.reshape(ops.convertToTensor(Float64Array.from([0.3, -1.2, 2, 0.7, 1.1, -0.4, 5, 6])), [2, 4]);
    checkGrad((t) => random.dropout(t, 0.5, { seed: 42 }), [x]);
    const g = keras.grad((t: Tensor) => ops.sum(random.dropout(t, 0.5, { seed: 42 })))(x) as Tensor;
    expectClose(g, [[0, 2, 2, 2], [0, 2, 0, 2]]);
  });
});

describe('shuffle', () => {
  it('permutes along axis 0 by the argsort of float64 uniforms', () => {
    const x = ops.convertToTensor([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const y = random.shuffle(x, { seed: 42 });
    const perm = [...UNIFORM_F64_42.keys()].sort((a, b) => UNIFORM_F64_42[a] - UNIFORM_F64_42[b]);
    expect(values(y)).toEqual(perm);
    expect(values(y)).toEqual([1, 3, 7, 5, 0, 6, 4, 2]);
  });

  it('is a permutation that moves whole slices', () => {
    const n = 1000;
    const x = ops.reshape(ops.convertToTensor(Float32Array.from({ length: 2 * n }, (_, i) => i)), [n, 2]);
    const rows = random.shuffle(x, { seed: 5 }).arraySync() as number[][];
    const firsts = rows.map((r) => r[0]).sort((a, b) => a - b);
    expect(firsts).toEqual(Array.from({ length: n }, (_, i) => 2 * i));
    rows.forEach((r) => expect(r[1]).toBe(r[0] + 1));
    expect(rows.map((r) => r[0])).not.toEqual(Array.from({ length: n }, (_, i) => 2 * i));
  });

  it('shuffles along another axis and keeps size-0/size-1 axes', () => {
    const x = ops.convertToTensor([[1, 2, 3], [4, 5, 6]], 'int32');
    const y = random.shuffle(x, -1, 7).arraySync() as number[][];
    expect(y[1].map((v) => v - 3)).toEqual(y[0]);
    expect([...y[0]].sort()).toEqual([1, 2, 3]);
    expect(random.shuffle(ops.convertToTensor([[1, 2]], 'int32'), { seed: 1 }).arraySync()).toEqual([[1, 2]]);
    expect(() => random.shuffle(ops.convertToTensor(3, 'int32'), { seed: 1 })).toThrow(/shuffle: x must have at least one axis, received shape \(\)/);
  });
});

describe('categorical', () => {
  it('inverts the CDF of softmax(logits) per row', () => {
    const s = random.categorical([[0, 0, 0], [0, -Infinity, 5]], 6, { seed: 42 });
    expect(s.shape).toEqual([2, 6]);
    expect(s.dtype).toBe('int32');
    // Row 0: uniform classes, class = floor(3 u) for the first six uniforms.
    expect((s.arraySync() as number[][])[0]).toEqual(UNIFORM_F32_42.slice(0, 6).map((u) => Math.floor(3 * u)));
  });

  it('matches the class probabilities and never draws zero-probability classes', () => {
    const logits = [[Math.log(0.2), Math.log(0.5), -Infinity, Math.log(0.3)]];
    const v = random.categorical(logits, 30000, { seed: 3 }).dataSync();
    const counts = [0, 0, 0, 0];
    for (const c of v) counts[c]++;
    expect(counts[2]).toBe(0);
    expect(Math.abs(counts[0] / 30000 - 0.2)).toBeLessThan(0.012);
    expect(Math.abs(counts[1] / 30000 - 0.5)).toBeLessThan(0.012);
    expect(Math.abs(counts[3] / 30000 - 0.3)).toBeLessThan(0.012);
  });

  it('rejects logits that are not 2-D', () => {
    expect(() => random.categorical([1, 2, 3], 2, { seed: 1 })).toThrow(/categorical: logits must have shape \(batch_size, num_classes\), received \(3,\)/);
  });
});

describe('random ops in graphs', () => {
  it('trace to randomUniform and randomNormal nodes and run to the eager values', () => {
    const graph = keras.trace(() => [random.uniform([2, 4], { seed: 42 }), random.normal([3], { seed: 5 })], []);
    const names = graph.nodes.map((n) => n.op.name);
    expect(names.filter((n) => n === 'randomUniform').length).toBe(1);
    expect(names.filter((n) => n === 'randomNormal').length).toBe(1);
    const json = graph.toJSON();
    expect(json.nodes.find((n) => n.op === 'randomUniform')!.attrs).toEqual({ shape: [2, 4], dtype: 'float32' });
    expect(json.nodes.find((n) => n.op === 'randomNormal')!.attrs).toEqual({ shape: [3], dtype: 'float32' });
    const [u, z] = keras.ir.run(graph, []);
    expect(values(u)).toEqual(UNIFORM_F32_42);
    expect(values(z)).toEqual(values(random.normal([3], { seed: 5 })));
  });

  it('turn SeedGenerator advances into graph updates', () => {
    const g = new random.SeedGenerator(42);
    const graph = keras.trace(() => [random.uniform([4], { seed: g }), random.uniform([4], { seed: g })], []);
    expect(values(g.state.value)).toEqual([42, 0]);
    expect(graph.updates.map((u) => u.variable)).toEqual([g.state]);
    const [a, b] = keras.ir.run(graph, []);
    expect(values(g.state.value)).toEqual([42, 2]);
    expect(values(a)).toEqual(UNIFORM_F32_42.slice(0, 4));
    expect(values(b)).toEqual(values(random.uniform([4], { seed: seedTensor(42, 1) })));
    const [c] = keras.ir.run(graph, []);
    expect(values(g.state.value)).toEqual([42, 4]);
    expect(values(c)).toEqual(values(random.uniform([4], { seed: seedTensor(42, 2) })));
  });

  it('dropout on an unknown batch dim takes the size from the input at run time', () => {
    const graph = keras.trace((x) => random.dropout(x, 0.5, { seed: 42 }), [{ shape: [null, 4] }]);
    const x = ops.reshape(ops.convertToTensor(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])), [2, 4]);
    const [y] = keras.ir.run(graph, [x]);
    expect(values(y)).toEqual(values(random.dropout(x, 0.5, { seed: 42 })));
    const [y1] = keras.ir.run(graph, [ops.reshape(x, [2, 4])]);
    expect(values(y1)).toEqual(values(y));
  });

  it('differentiates through a traced dropout with an unknown batch dim', () => {
    const graph = keras.trace((x) => ops.sum(random.dropout(x, 0.5, { seed: 42 })), [{ shape: [null, 4], dtype: 'float64' }]);
    const dg = keras.ir.differentiate(graph);
    const x = ops.reshape(ops.convertToTensor(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8])), [2, 4]);
    const [y, g] = keras.ir.run(dg, [x]);
    expect(y.item()).toBe(2 * (2 + 3 + 4 + 6 + 8));
    expectClose(g, [[0, 2, 2, 2], [0, 2, 0, 2]]);
  });

  it('symbolic inputs give symbolic outputs with inferred shapes', () => {
    const graph = keras.trace((x) => {
      const y = random.dropout(x, 0.2, { seed: 1 });
      expect(y.isSymbolic).toBe(true);
      expect(y.shape).toEqual([null, 3]);
      return y;
    }, [{ shape: [null, 3] }]);
    expect(graph.outputs[0].shape).toEqual([null, 3]);
  });
});

describe('memory', () => {
  it('random ops free their intermediates', () => {
    const before = keras.memory().numTensors;
    keras.tidy(() => {
      random.normal([10], { seed: 1 });
      random.truncatedNormal([10], { seed: 1 });
      random.dropout(ops.convertToTensor([1, 2, 3], 'float32'), 0.5, { seed: 1 });
      random.dropout([1, 2, 3], 0.5, { seed: 1 });
      random.categorical([[0, 1]], 4, { seed: 1 });
      random.shuffle([1, 2, 3], { seed: 1 });
      random.randint([3], 0, 5, { seed: 1 });
    });
    expect(keras.memory().numTensors).toBe(before);
    // Outside tidy, only the results stay alive.
    const x = ops.convertToTensor([[0, 1], [2, 3]], 'int32');
    const start = keras.memory().numTensors;
    const outs = [random.dropout(x, 0.5, { seed: 1 }), random.shuffle(x, { seed: 1 }), random.categorical(x, 3, { seed: 1 }), random.normal([5], { seed: 1 })];
    expect(keras.memory().numTensors).toBe(start + outs.length);
    outs.forEach((t) => t.dispose());
  });
});
