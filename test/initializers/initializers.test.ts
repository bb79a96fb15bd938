import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { expectClose } from '../helpers.js';

const { ops, initializers: I } = keras;

/** Mean, population std, min and max of a tensor's values. */
function stats(t: keras.Tensor): { mean: number; std: number; min: number; max: number; n: number } {
  const v = t.dataSync();
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, std: Math.sqrt(ss / v.length), min, max, n: v.length };
}

/** Asserts a sample has the given std (within 3%) and a mean within 6 standard errors of `mean`. */
function expectMoments(t: keras.Tensor, mean: number, std: number): void {
  const s = stats(t);
  expect(Math.abs(s.mean - mean), `mean ${s.mean} vs ${mean}`).toBeLessThan((6 * std) / Math.sqrt(s.n));
  expect(Math.abs(s.std / std - 1), `std ${s.std} vs ${std}`).toBeLessThan(0.03);
}

/** G = W^T W (cols) or W W^T (rows) of a row-major rows x cols matrix, in float64. */
function gram(values: ArrayLike<number>, rows: number, cols: number, of: 'cols' | 'rows'): number[][] {
  const k = of === 'cols' ? cols : rows;
  const out: number[][] = [];
  for (let a = 0; a < k; a++) {
    out.push([]);
    for (let b = 0; b < k; b++) {
      let d = 0;
      if (of === 'cols') for (let i = 0; i < rows; i++) d += values[i * cols + a] * values[i * cols + b];
      else for (let j = 0; j < cols; j++) d += values[a * cols + j] * values[b * cols + j];
      out[a].push(d);
    }
  }
  return out;
}

function expectScaledIdentity(g: number[][], scale: number, tol: number): void {
  for (let a = 0; a < g.length; a++) {
    for (let b = 0; b < g.length; b++) {
      const want = a === b ? scale : 0;
      if (Math.abs(g[a][b] - want) > tol) expect.fail(`gram[${a}][${b}] = ${g[a][b]}, expected ${want} (tol ${tol})`);
    }
  }
}

describe('computeFans', () => {
  it('follows Keras: scalars, vectors, matrices and conv kernels', () => {
    expect(I.computeFans([])).toEqual([1, 1]);
    expect(I.computeFans([7])).toEqual([7, 7]);
    expect(I.computeFans([3, 5])).toEqual([3, 5]);
    // Conv1D (3, 4, 8): receptive field 3.
    expect(I.computeFans([3, 4, 8])).toEqual([12, 24]);
    // Conv2D (3, 3, 16, 32): receptive field 9.
    expect(I.computeFans([3, 3, 16, 32])).toEqual([144, 288]);
    expect(I.computeFans([2, 3, 3, 4, 5])).toEqual([72, 90]);
  });
});

describe('constant initializers', () => {
  it('Zeros and Ones fill any shape and dtype (floatx by default)', () => {
    const z = new I.Zeros().apply([2, 3]);
    expect(z.dtype).toBe('float32');
    expectClose(z, [[0, 0, 0], [0, 0, 0]], { shape: [2, 3] });
    const o = new I.Ones().call([2], 'int32');
    expect(o.dtype).toBe('int32');
    expectClose(o, [1, 1]);
    expectClose(new I.Ones().apply([], { dtype: 'float64' }), 1, { shape: [] });
    expect(new I.Zeros().apply([0, 4]).shape).toEqual([0, 4]);
    expect(new I.Ones().apply(3).shape).toEqual([3]);
    expectClose(new I.Ones().apply([2], 'bool'), [true, true]);
  });

  it('Constant fills with its value cast to the dtype, and broadcasts tensor values', () => {
    expectClose(new I.Constant(2.5).apply([2, 2]), [[2.5, 2.5], [2.5, 2.5]]);
    const i = new I.Constant({ value: 3.7 }).apply([3], 'int32');
    expect(i.dtype).toBe('int32');
    expectClose(i, [3, 3, 3]);
    expectClose(new I.Constant().apply([2]), [0, 0]);
    const b = new I.Constant([[1, 2, 3]]).apply([2, 3], 'float64');
    expect(b.dtype).toBe('float64');
    expectClose(b, [[1, 2, 3], [1, 2, 3]]);
    expect(() => new I.Constant([1, 2]).apply([2, 3])).toThrow(/Constant: value of shape \(2,\) cannot be broadcast to the requested shape \(2, 3\)/);
    expect(new I.Constant(4).getConfig()).toEqual({ value: 4 });
    expect(new I.Constant(ops.convertToTensor([1, 2])).getConfig()).toEqual({ value: [1, 2] });
    expect(() => new I.Constant('a' as unknown as number)).toThrow(/Constant: value must be a number or a tensor/);
  });

  it('Identity gives gain * eye for 2-D shapes only', () => {
    expectClose(new I.Identity().apply([3, 3]), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expectClose(new I.Identity(0.5).apply([2, 4], 'float64'), [[0.5, 0, 0, 0], [0, 0.5, 0, 0]]);
    expectClose(new I.IdentityInitializer({ gain: 2 }).apply([3, 2]), [[2, 0], [0, 2], [0, 0]]);
    const k = new I.Identity(2).apply([2, 2], 'int32');
    expect(k.dtype).toBe('int32');
    expectClose(k, [[2, 0], [0, 2]]);
    expect(() => new I.Identity().apply([2, 2, 2])).toThrow(/Identity: .*only be used for 2D matrices; received shape=\(2, 2, 2\) of rank 3/);
    expect(() => new I.Identity().apply([4])).toThrow(/Identity: .*\(4,\) of rank 1/);
    expect(new I.Identity(3).getConfig()).toEqual({ gain: 3 });
  });

  it('rejects bad shapes and dtypes naming the initializer', () => {
    expect(() => new I.Zeros().apply([2, -1])).toThrow(/Zeros: shape must be an array of non-negative integers, received \[2,-1\]/);
    expect(() => new I.Ones().apply([1.5])).toThrow(/Ones: shape must be/);
    expect(() => new I.Zeros().apply([2], 'float8' as keras.DType)).toThrow(/Zeros: unknown dtype "float8"/);
    expect(() => new I.Zeros().apply([2], { dtype: 'float32', seed: 1 } as { dtype: keras.DType })).toThrow(/Zeros: unknown option "seed"/);
    expect(() => new I.Zeros({ foo: 1 } as unknown as Record<string, never>)).toThrow(/Zeros: unknown option "foo"/);
  });
});

describe('random initializers: distributions', () => {
  const shape = [200, 300];

  it('RandomUniform draws within [minval, maxval) with the uniform mean and std', () => {
    const t = new I.RandomUniform(-1, 3, 11).apply(shape);
    expect(t.dtype).toBe('float32');
    const s = stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-1);
    expect(s.max).toBeLessThanOrEqual(3);
    expectMoments(t, 1, 4 / Math.sqrt(12));
    // Defaults: [-0.05, 0.05).
    const d = stats(new I.RandomUniform({ seed: 2 }).apply([1000], 'float64'));
    expect(d.min).toBeGreaterThanOrEqual(-0.05);
    expect(d.max).toBeLessThan(0.05);
    expect(d.max - d.min).toBeGreaterThan(0.09);
  });

  it('RandomNormal has the requested mean and stddev (default 0, 0.05)', () => {
    expectMoments(new I.RandomNormal(2, 0.5, 3).apply(shape), 2, 0.5);
    expectMoments(new I.RandomNormal({ seed: 4 }).apply(shape, 'float64'), 0, 0.05);
  });

  it('TruncatedNormal stays within two stddev and has the truncated std 0.8796 * stddev', () => {
    const t = new I.TruncatedNormal(1, 2, 5).apply(shape);
    const s = stats(t);
    expect(s.min).toBeGreaterThanOrEqual(1 - 4 - 1e-5);
    expect(s.max).toBeLessThanOrEqual(1 + 4 + 1e-5);
    expectMoments(t, 1, 2 * 0.87962566103423978);
  });

  it('GlorotUniform: limit sqrt(6 / (fan_in + fan_out)), std limit / sqrt(3)', () => {
    const limit = Math.sqrt(6 / (200 + 300));
    const t = new I.GlorotUniform(1).apply(shape);
    const s = stats(t);
    expect(s.max).toBeLessThanOrEqual(limit);
    expect(s.min).toBeGreaterThanOrEqual(-limit);
    expect(s.max).toBeGreaterThan(0.99 * limit);
    expectMoments(t, 0, limit / Math.sqrt(3));
  });

  it('GlorotNormal: truncated normal with std sqrt(2 / (fan_in + fan_out))', () => {
    const std = Math.sqrt(2 / 500);
    const t = new I.GlorotNormal(2).apply(shape);
    const s = stats(t);
    // Truncated at 2 * (std / 0.8796).
    expect(Math.max(-s.min, s.max)).toBeLessThanOrEqual((2 * std) / 0.87962566103423978 + 1e-6);
    expectMoments(t, 0, std);
  });

  it('He and Lecun use fan_in with scale 2 and 1', () => {
    const fanIn = 200;
    const he = stats(new I.HeUniform(3).apply(shape));
    expect(Math.max(-he.min, he.max)).toBeLessThanOrEqual(Math.sqrt(6 / fanIn));
    expectMoments(new I.HeUniform(3).apply(shape), 0, Math.sqrt(6 / fanIn) / Math.sqrt(3));
    expectMoments(new I.HeNormal(4).apply(shape), 0, Math.sqrt(2 / fanIn));
    const lu = stats(new I.LecunUniform(5).apply(shape));
    expect(Math.max(-lu.min, lu.max)).toBeLessThanOrEqual(Math.sqrt(3 / fanIn));
    expectMoments(new I.LecunUniform(5).apply(shape), 0, 1 / Math.sqrt(fanIn));
    expectMoments(new I.LecunNormal(6).apply(shape), 0, Math.sqrt(1 / fanIn));
  });

  it('conv kernels use the receptive field in the fans', () => {
    // (5, 5, 16, 32): fan_in = 400, fan_out = 800.
    const k = [5, 5, 16, 32];
    const he = new I.HeUniform(7).apply(k);
    const hs = stats(he);
    expect(Math.max(-hs.min, hs.max)).toBeLessThanOrEqual(Math.sqrt(6 / 400));
    expect(Math.max(-hs.min, hs.max)).toBeGreaterThan(0.99 * Math.sqrt(6 / 400));
    expectMoments(he, 0, Math.sqrt(2 / 400));
    expectMoments(new I.GlorotNormal(8).apply(k), 0, Math.sqrt(2 / 1200));
    expectMoments(new I.VarianceScaling(3, 'fan_out', 'untruncated_normal', 9).apply(k), 0, Math.sqrt(3 / 800));
  });

  it('VarianceScaling: modes, distributions, the "normal" alias, and fans below 1', () => {
    expectMoments(new I.VarianceScaling({ scale: 0.5, mode: 'fan_avg', distribution: 'uniform', seed: 1 }).apply(shape), 0, Math.sqrt(0.5 / 250));
    const vs = new I.VarianceScaling({ distribution: 'normal', seed: 1 });
    expect(vs.distribution).toBe('truncated_normal');
    expect(new I.VarianceScaling({ distribution: 'UNIFORM' as 'uniform' }).distribution).toBe('uniform');
    expectMoments(vs.apply(shape, 'float64'), 0, Math.sqrt(1 / 200));
    // A (0, 4) weight has fan_in 0; Keras divides by max(1, fan).
    expect(new I.VarianceScaling().apply([0, 4]).shape).toEqual([0, 4]);
    const scalar = new I.VarianceScaling({ distribution: 'uniform', seed: 3 }).apply([]);
    expect(Math.abs(scalar.item())).toBeLessThanOrEqual(Math.sqrt(3));
    expect(() => new I.VarianceScaling(0)).toThrow(/VarianceScaling: argument scale must be a positive float, received scale=0/);
    expect(() => new I.VarianceScaling(1, 'fan_max' as keras.initializers.FanMode)).toThrow(/VarianceScaling: invalid mode "fan_max"; use one of fan_in, fan_out, fan_avg/);
    expect(() => new I.VarianceScaling(1, 'fan_in', 'cauchy' as keras.initializers.ScalingDistribution)).toThrow(/VarianceScaling: invalid distribution "cauchy"/);
  });

  it('random initializers need float dtypes and valid seeds', () => {
    expect(() => new I.RandomNormal().apply([2], 'int32')).toThrow(/RandomNormal: random initializers need a float dtype .* received dtype=int32/);
    expect(() => new I.GlorotUniform().apply([2, 2], 'bool')).toThrow(/GlorotUniform: random initializers need a float dtype/);
    expect(() => new I.HeNormal(1.5)).toThrow(/HeNormal: the seed argument should be an integer or an instance of keras.random.SeedGenerator; received seed=1.5/);
    expect(() => new I.RandomUniform({ seed: 'x' as unknown as number })).toThrow(/RandomUniform: the seed argument/);
    expect(() => new I.RandomUniform({ minval: 'a' as unknown as number })).toThrow(/RandomUniform: minval must be a finite number/);
    expect(() => new I.RandomNormal({ mu: 1 } as unknown as { mean: number })).toThrow(/RandomNormal: unknown option "mu"; accepted: mean, stddev, seed/);
    expect(() => new I.GlorotUniform(1).apply([2, -2])).toThrow(/GlorotUniform: shape must be an array of non-negative integers/);
  });
});

describe('random initializers: seeds', () => {
  const all = (seed: number | keras.random.SeedGenerator | null): keras.initializers.Initializer[] => [
    new I.RandomUniform({ seed }),
    new I.RandomNormal({ seed }),
    new I.TruncatedNormal({ seed }),
    new I.VarianceScaling({ seed }),
    new I.GlorotUniform(seed),
    new I.GlorotNormal(seed),
    new I.HeUniform(seed),
    new I.HeNormal(seed),
    new I.LecunUniform(seed),
    new I.LecunNormal(seed),
    new I.Orthogonal({ seed }),
  ];

  it('an integer seed gives the same values on every call and every instance', () => {
    const a = all(42);
    const b = all(42);
    const c = all(43);
    a.forEach((init, i) => {
      const first = Array.from(init.apply([4, 5]).dataSync());
      expect(Array.from(init.apply([4, 5]).dataSync()), `${init.constructor.name} second call`).toEqual(first);
      expect(Array.from(b[i].apply([4, 5]).dataSync()), `${init.constructor.name} same seed`).toEqual(first);
      expect(Array.from(c[i].apply([4, 5]).dataSync()), `${init.constructor.name} other seed`).not.toEqual(first);
    });
  });

  it('an integer seed gives the values keras.random draws with that seed', () => {
    expectClose(new I.RandomUniform(-2, 2, 9).apply([3, 4]), keras.random.uniform([3, 4], { minval: -2, maxval: 2, seed: 9 }), { rtol: 0, atol: 0 });
    expectClose(new I.RandomNormal(0, 3, 9).apply([5], 'float64'), keras.random.normal([5], { stddev: 3, seed: 9, dtype: 'float64' }), { rtol: 0, atol: 0 });
    const limit = Math.sqrt(6 / 7);
    expectClose(new I.GlorotUniform(9).apply([3, 4]), keras.random.uniform([3, 4], { minval: -limit, maxval: limit, seed: 9 }), { rtol: 0, atol: 0 });
  });

  it('a SeedGenerator gives new values per call, reproducibly', () => {
    const g1 = new I.HeNormal(new keras.random.SeedGenerator(5));
    const g2 = new I.HeNormal(new keras.random.SeedGenerator(5));
    const a1 = Array.from(g1.apply([3, 3]).dataSync());
    const a2 = Array.from(g1.apply([3, 3]).dataSync());
    expect(a2).not.toEqual(a1);
    expect(Array.from(g2.apply([3, 3]).dataSync())).toEqual(a1);
    expect(Array.from(g2.apply([3, 3]).dataSync())).toEqual(a2);
  });

  it('no seed: an instance repeats its values, instances differ, setRandomSeed makes them reproducible', () => {
    const u = new I.RandomUniform();
    const v = new I.RandomUniform();
    const first = Array.from(u.apply([6]).dataSync());
    expect(Array.from(u.apply([6]).dataSync())).toEqual(first);
    expect(Array.from(v.apply([6]).dataSync())).not.toEqual(first);
    keras.random.setRandomSeed(123);
    const x1 = Array.from(new I.GlorotUniform().apply([4, 4]).dataSync());
    const y1 = Array.from(I.get('orthogonal').apply([4, 4]).dataSync());
    keras.random.setRandomSeed(123);
    expect(Array.from(new I.GlorotUniform().apply([4, 4]).dataSync())).toEqual(x1);
    expect(Array.from(I.get('orthogonal').apply([4, 4]).dataSync())).toEqual(y1);
  });

  it('does not leak tensors', () => {
    const inits = [...all(null), ...all(1), ...all(new keras.random.SeedGenerator(2)), new I.Zeros(), new I.Constant(2), new I.Identity()];
    for (const init of inits) init.apply([3, 3]).dispose();
    const before = keras.memory().numTensors;
    for (const init of inits) init.apply([3, 3]).dispose();
    expect(keras.memory().numTensors).toBe(before);
  });
});

describe('Orthogonal', () => {
  const cases: [number[], 'cols' | 'rows'][] = [
    [[8, 8], 'cols'],
    [[10, 4], 'cols'],
    [[4, 10], 'rows'],
    [[3, 3, 4, 8], 'cols'],
    [[2, 3], 'rows'],
    [[1, 5], 'rows'],
    [[5, 1], 'cols'],
  ];

  for (const [shape, of] of cases) {
    it(`gives orthonormal ${of === 'cols' ? 'columns' : 'rows'} for ${JSON.stringify(shape)}`, () => {
      const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const cols = shape[shape.length - 1];
      const w32 = new I.Orthogonal({ seed: 3 }).apply(shape);
      expect(w32.shape).toEqual(shape);
      expect(w32.dtype).toBe('float32');
      expectScaledIdentity(gram(w32.dataSync(), rows, cols, of), 1, 1e-5);
      const w64 = new I.Orthogonal({ seed: 3 }).apply(shape, 'float64');
      expectScaledIdentity(gram(w64.dataSync(), rows, cols, of), 1, 1e-12);
      const g = new I.Orthogonal(2, 3).apply(shape, 'float64');
      expectScaledIdentity(gram(g.dataSync(), rows, cols, of), 4, 1e-11);
    });
  }

  it('is the Q of the QR of keras.random.normal with the same seed (R = Q^T A upper triangular, positive diagonal)', () => {
    for (const [m, n, transpose] of [[7, 4, false], [4, 7, true]] as const) {
      const w = new I.Orthogonal({ seed: 17 }).apply([m, n], 'float64').dataSync();
      const big = Math.max(m, n);
      const small = Math.min(m, n);
      const a = keras.random.normal([big, small], { seed: 17, dtype: 'float64' }).dataSync();
      // q[i][j] is the (big x small) Q; w is q or its transpose.
      const q = (i: number, j: number) => (transpose ? w[j * big + i] : w[i * small + j]);
      for (let r = 0; r < small; r++) {
        for (let c = 0; c < small; c++) {
          let d = 0;
          for (let i = 0; i < big; i++) d += q(i, r) * a[i * small + c];
          if (r > c) expect(Math.abs(d), `R[${r}][${c}]`).toBeLessThan(1e-12);
          if (r === c) expect(d, `R[${r}][${r}]`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('handles empty shapes and rejects rank < 2', () => {
    expect(new I.Orthogonal().apply([0, 3]).shape).toEqual([0, 3]);
    expect(() => new I.Orthogonal().apply([5])).toThrow(/Orthogonal: the tensor to initialize must be at least two-dimensional; received shape=\(5,\) of rank 1/);
    expect(() => new I.Orthogonal().apply([3, 3], 'int32')).toThrow(/Orthogonal.*float dtype/);
    expect(new I.Orthogonal(1.5, 7).getConfig()).toEqual({ seed: 7, gain: 1.5 });
  });
});

describe('initializers.get, serialize, deserialize', () => {
  it('accepts Keras snake_case names, class names, camelCase and aliases', () => {
    const forms: [string, abstract new (...args: never[]) => keras.initializers.Initializer][] = [
      ['glorot_uniform', I.GlorotUniform],
      ['GlorotUniform', I.GlorotUniform],
      ['glorotUniform', I.GlorotUniform],
      ['glorot_normal', I.GlorotNormal],
      ['he_uniform', I.HeUniform],
      ['he_normal', I.HeNormal],
      ['HeNormal', I.HeNormal],
      ['lecun_uniform', I.LecunUniform],
      ['lecun_normal', I.LecunNormal],
      ['random_uniform', I.RandomUniform],
      ['uniform', I.RandomUniform],
      ['random_normal', I.RandomNormal],
      ['normal', I.RandomNormal],
      ['truncated_normal', I.TruncatedNormal],
      ['TruncatedNormal', I.TruncatedNormal],
      ['variance_scaling', I.VarianceScaling],
      ['zeros', I.Zeros],
      ['zero', I.Zeros],
      ['Zeros', I.Zeros],
      ['ones', I.Ones],
      ['one', I.Ones],
      ['constant', I.Constant],
      ['orthogonal', I.Orthogonal],
      ['Orthogonal', I.Orthogonal],
      ['OrthogonalInitializer', I.Orthogonal],
      ['orthogonal_initializer', I.Orthogonal],
      ['identity', I.Identity],
      ['Identity', I.Identity],
      ['IdentityInitializer', I.Identity],
      ['identity_initializer', I.Identity],
    ];
    for (const [name, cls] of forms) expect(I.get(name), name).toBeInstanceOf(cls);
    expect(I.names()).toContain('he_normal');
  });

  it('accepts configs, instances, classes, functions and null', () => {
    const u = I.get({ className: 'RandomUniform', config: { minval: -1, maxval: 1, seed: 3 } }) as keras.initializers.RandomUniform;
    expect(u).toBeInstanceOf(I.RandomUniform);
    expect([u.minval, u.maxval, u.seed]).toEqual([-1, 1, 3]);
    const v = I.get({ class_name: 'VarianceScaling', config: { scale: 2, mode: 'fan_out', distribution: 'uniform', seed: null } }) as keras.initializers.VarianceScaling;
    expect([v.scale, v.mode, v.distribution, v.seed]).toEqual([2, 'fan_out', 'uniform', null]);
    expect(I.get({ class_name: 'Zeros', config: {} })).toBeInstanceOf(I.Zeros);
    const inst = new I.HeNormal(1);
    expect(I.get(inst)).toBe(inst);
    expect(I.get(I.LecunNormal)).toBeInstanceOf(I.LecunNormal);
    const fn = (shape: number[], dtype: keras.DType) => ops.full(shape, 7, dtype);
    const wrapped = I.get(fn);
    expect(wrapped).toBeInstanceOf(I.Initializer);
    expectClose(wrapped.apply([2], 'float64'), [7, 7]);
    expect(wrapped.call([1, 2]).dtype).toBe('float32');
    expect(I.get(null)).toBeNull();
    expect(I.get(undefined)).toBeNull();
    expect(() => I.get(((s: number[]) => [s]) as unknown as keras.initializers.InitializerFunction).apply([1])).toThrow(/must return a Tensor/);
  });

  it('raises on unknown identifiers, listing the known names', () => {
    expect(() => I.get('glorot')).toThrow(/keras\.initializers\.get: unknown initializer "glorot"; known: .*glorot_uniform.*he_normal/);
    expect(() => I.get('GLOROT_UNIFORM')).toThrow(/unknown initializer "GLOROT_UNIFORM"/);
    expect(() => I.get({ className: 'Foo', config: {} })).toThrow(/keras\.initializers\.deserialize: unknown initializer "Foo"/);
    expect(() => I.get({ config: {} } as never)).toThrow(/deserialize: expected \{className, config\}/);
    expect(() => I.get(3 as never)).toThrow(/keras\.initializers\.get: could not interpret initializer identifier: 3/);
    expect(() => I.get({ className: 'RandomNormal', config: { mean: 0, sigma: 1 } })).toThrow(/RandomNormal: unknown option "sigma"/);
  });

  it('serializes with Keras snake_case config keys and round-trips every class', () => {
    expect(I.serialize(new I.GlorotUniform(5))).toEqual({ module: 'keras.initializers', className: 'GlorotUniform', config: { seed: 5 }, registeredName: null });
    expect(I.serialize(new I.VarianceScaling(2, 'fan_avg', 'uniform'))).toEqual({
      module: 'keras.initializers',
      className: 'VarianceScaling',
      config: { seed: null, scale: 2, mode: 'fan_avg', distribution: 'uniform' },
      registeredName: null,
    });
    expect(I.serialize(new I.Orthogonal(2)).className).toBe('OrthogonalInitializer');
    const samples: keras.initializers.Initializer[] = [
      new I.Zeros(),
      new I.Ones(),
      new I.Constant(1.5),
      new I.Identity(2),
      new I.RandomUniform(-1, 2, 3),
      new I.RandomNormal(1, 2, 3),
      new I.TruncatedNormal(1, 2, 3),
      new I.VarianceScaling(2, 'fan_out', 'untruncated_normal', 3),
      new I.GlorotUniform(3),
      new I.GlorotNormal(3),
      new I.HeUniform(3),
      new I.HeNormal(3),
      new I.LecunUniform(3),
      new I.LecunNormal(3),
      new I.Orthogonal(0.5, 3),
    ];
    for (const init of samples) {
      const json = JSON.parse(JSON.stringify(I.serialize(init)));
      const back = I.deserialize(json);
      expect(back.constructor).toBe(init.constructor);
      expect(back.getConfig()).toEqual(init.getConfig());
      expectClose(back.apply([3, 4]), init.apply([3, 4]), { rtol: 0, atol: 0 });
      expectClose(init.clone().apply([3, 4]), init.apply([3, 4]), { rtol: 0, atol: 0 });
    }
  });

  it('round-trips a SeedGenerator seed and reads Keras configs with class_name', () => {
    const init = new I.RandomNormal({ seed: new keras.random.SeedGenerator(8) });
    const config = I.serialize(init);
    expect(config.config.seed).toEqual({ module: 'keras.random', className: 'SeedGenerator', config: { seed: 8 }, registeredName: null });
    const back = I.deserialize(JSON.parse(JSON.stringify(config))) as keras.initializers.RandomNormal;
    expect(back.seed).toBeInstanceOf(keras.random.SeedGenerator);
    expectClose(back.apply([4]), new I.RandomNormal({ seed: new keras.random.SeedGenerator(8) }).apply([4]), { rtol: 0, atol: 0 });
    const keras3 = { module: 'keras.initializers', class_name: 'RandomNormal', config: { mean: 0, stddev: 1, seed: { module: 'keras.random', class_name: 'SeedGenerator', config: { seed: 8 } } }, registered_name: null };
    expect((I.deserialize(keras3) as keras.initializers.RandomNormal).seed).toBeInstanceOf(keras.random.SeedGenerator);
  });

  it('deserializes custom classes from customObjects and refuses to serialize functions', () => {
    class Halves extends I.Initializer {
      call(shape: keras.initializers.ShapeArg, dtype?: keras.DType | null) {
        return ops.full(typeof shape === 'number' ? [shape] : [...shape], 0.5, dtype ?? 'float32');
      }
    }
    const s = I.serialize(new Halves());
    expect(s).toEqual({ module: 'custom', className: 'Halves', config: {}, registeredName: 'Halves' });
    expect(() => I.deserialize(s)).toThrow(/unknown initializer "Halves"/);
    expectClose(I.deserialize(s, { Halves }).apply([2]), [0.5, 0.5]);
    expect(() => I.serialize(I.get((shape: number[], dtype: keras.DType) => ops.zeros(shape, dtype)))).toThrow(/cannot serialize the function initializer/);
  });

  it('camelCase factories build the same initializers', () => {
    expect(I.heNormal(1)).toBeInstanceOf(I.HeNormal);
    expect(I.glorotUniform({ seed: 2 }).seed).toBe(2);
    expect(I.randomUniform(-1, 1).maxval).toBe(1);
    expect(I.varianceScaling({ scale: 3 }).scale).toBe(3);
    expect(I.orthogonal(2).gain).toBe(2);
    expect(I.constant(4).value).toBe(4);
    expect(I.identity(3).gain).toBe(3);
    expectClose(I.zeros().apply([1]), [0]);
    expectClose(I.ones().apply([1]), [1]);
    expect(I.truncatedNormal({ stddev: 2 }).stddev).toBe(2);
    expect(I.randomNormal(1).mean).toBe(1);
    expect([I.glorotNormal(), I.heUniform(), I.lecunUniform(), I.lecunNormal()].map((x) => x.constructor.name)).toEqual(['GlorotNormal', 'HeUniform', 'LecunUniform', 'LecunNormal']);
  });

  it('works through Variable creation and inside a trace (eager values captured)', () => {
    const v = new keras.Variable(() => I.get('glorot_uniform').call([3, 2]));
    expect(v.shape).toEqual([3, 2]);
    const g = keras.trace((x: keras.Tensor) => ops.add(x, new I.Orthogonal({ seed: 1 }).call([2, 2])), [{ shape: [2, 2] }]);
    const [out] = keras.ir.run(g, [ops.zeros([2, 2])]);
    expectClose(out, new I.Orthogonal({ seed: 1 }).apply([2, 2]), { rtol: 0, atol: 0 });
  });
});
