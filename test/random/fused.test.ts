/**
 * The fused random primitives compute what the composites of docs/random.md compute:
 * `dropout` (mask, scale and gradient) and `randomUniform` with `uniform`'s bounds bit for
 * bit, on the js backend against the composite written out in ops, and on the native cpu
 * kernels against the js kernels, on every ISA path this machine has (odd sizes, tails of
 * the Philox blocks and of the vector registers, size 0 and 1, NaN and infinities).
 * `randomNormal` (Box-Muller) is held to the ulp bounds docs/random.md states, against a
 * float64 reference computed from the same uniforms.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import * as random from '../../lib/random/index.js';
import { getOp } from '../../lib/ops/registry.js';
import { JsBackend } from '../../lib/backends/js/index.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import { boxMuller } from '../../lib/backends/js/random.js';
import { Tensor } from '../../lib/tensor.js';
import type { OutputSpec } from '../../lib/backends/backend.js';
import type { Attrs } from '../../lib/ops/registry.js';
import { nativeUnavailableReason } from '../parity/harness.js';
import { addon } from '../native/helpers.js';

const { ops } = keras;
type Float = 'float32' | 'float64';
const seedTensor = (a: number, b: number): Tensor => ops.convertToTensor([a, b], 'int32');

/** Throws naming the first element whose bytes differ. */
function expectBitwise(label: string, got: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number; BYTES_PER_ELEMENT: number }, want: typeof got): void {
  expect(got.BYTES_PER_ELEMENT, `${label}: element size`).toBe(want.BYTES_PER_ELEMENT);
  expect(got.length, `${label}: length`).toBe(want.length);
  const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const b = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const e = Math.floor(i / got.BYTES_PER_ELEMENT);
      throw new Error(`${label}: element ${e} is ${got[e]}, expected ${want[e]}`);
    }
  }
}
const data = (t: Tensor) => t.dataSync() as Float32Array | Float64Array;

/** Values in [-4, 4) with NaN, infinities, -0 and a subnormal mixed in. */
function inputs(n: number, dtype: Float, salt: number): Float32Array | Float64Array {
  const v = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  let s = salt * 2654435761;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    v[i] = (s / 2 ** 32) * 8 - 4;
  }
  const specials = [NaN, Infinity, -Infinity, -0, 1e-40, 3];
  for (let i = 0; i < Math.min(n, specials.length); i++) v[(i * 7) % n] = specials[i];
  return v;
}

// The composites of docs/random.md, written out in ops.
function dropoutComposite(x: Tensor, rate: number, seed: Tensor): Tensor {
  const u = random.uniform(x.shape as number[], { seed, dtype: 'float32' });
  return ops.where(ops.less(u, 1 - rate), ops.divide(x, 1 - rate), 0);
}
function uniformComposite(shape: number[], lo: number, hi: number, dtype: Float, seed: Tensor): Tensor {
  const u = random.uniform(shape, { seed, dtype });
  const scaled = hi - lo === 1 ? u : ops.multiply(u, hi - lo);
  return lo === 0 ? scaled : ops.add(scaled, lo);
}

const SHAPES = [[], [0], [1], [3], [5, 7], [17, 65], [3, 1031], [2, 8192 + 13]];
const RATES = [0, 0.1, 0.25, 0.5, 1 / 3, 0.9, 0.999999];
const BOUNDS: [number, number][] = [[0, 1], [-2, 6], [3, 5], [0, 0.1], [-1, 0], [-0, 2], [1e-3, 1e6], [5, -5], [0.1, 0.7]];

describe('dropout primitive (js)', () => {
  it('is the composite where(u < fl32(1 - rate), x / fl_d(1 - rate), 0) bit for bit', () => {
    for (const dtype of ['float32', 'float64'] as Float[]) {
      for (const shape of SHAPES) {
        for (const rate of RATES) {
          const n = shape.reduce((a, b) => a * b, 1);
          const x = ops.reshape(ops.convertToTensor(inputs(n, dtype, n + 1)), shape);
          const got = random.dropout(x, rate, { seed: seedTensor(42, n) });
          expect(got.dtype).toBe(dtype);
          expect(got.shape).toEqual(shape);
          expectBitwise(`${dtype} ${JSON.stringify(shape)} rate ${rate}`, data(got), data(dropoutComposite(x, rate, seedTensor(42, n))));
        }
      }
    }
  });

  it('traces to one dropout node', () => {
    const graph = keras.trace((x) => random.dropout(x, 0.5, { seed: 42 }), [{ shape: [null, 4] }]);
    expect(graph.nodes.map((n) => n.op.name)).toContain('dropout');
    expect(graph.nodes.map((n) => n.op.name)).not.toContain('randomUniform');
    // A noise shape that shares the mask keeps the composite.
    const shared = keras.trace((x) => random.dropout(x, 0.5, { noiseShape: [null, 1], seed: 42 }), [{ shape: [null, 4] }]);
    expect(shared.nodes.map((n) => n.op.name)).toContain('randomUniform');
  });

  it('has the composite gradient bit for bit: dropout of dy with the same key', () => {
    for (const dtype of ['float32', 'float64'] as Float[]) {
      const x = ops.reshape(ops.convertToTensor(inputs(6 * 11, dtype, 3)), [6, 11]);
      const w = ops.reshape(ops.convertToTensor(inputs(6 * 11, dtype, 4).map((v) => (Number.isFinite(v) ? v : 1))), [6, 11]);
      for (const rate of [0.2, 0.5, 1 / 3]) {
        const fused = keras.grad((t: Tensor) => ops.sum(ops.multiply(random.dropout(t, rate, { seed: seedTensor(7, 1) }), w)))(x) as Tensor;
        const composite = keras.grad((t: Tensor) => ops.sum(ops.multiply(dropoutComposite(t, rate, seedTensor(7, 1)), w)))(x) as Tensor;
        expectBitwise(`${dtype} rate ${rate} gradient`, data(fused), data(composite));
      }
    }
  });

  it('rejects rates outside [0, 1) and non-float inputs in the primitive', () => {
    const run = (x: Tensor, rate: number) => getOp('dropout').infer([x, seedTensor(1, 2)], { rate });
    expect(() => run(ops.convertToTensor([1], 'float32'), 1)).toThrow(/dropout: rate must be a number in \[0, 1\), received 1/);
    expect(() => run(ops.convertToTensor([1], 'int32'), 0.5)).toThrow(/dropout: inputs must be float32 or float64, received int32/);
  });
});

describe('uniform with bounds (js)', () => {
  it('is the composite u * fl_d(maxval - minval) + fl_d(minval) bit for bit', () => {
    for (const dtype of ['float32', 'float64'] as Float[]) {
      for (const shape of SHAPES) {
        for (const [lo, hi] of BOUNDS) {
          const got = random.uniform(shape, { minval: lo, maxval: hi, dtype, seed: seedTensor(9, shape.length) });
          expectBitwise(`${dtype} ${JSON.stringify(shape)} [${lo}, ${hi})`, data(got), data(uniformComposite(shape, lo, hi, dtype, seedTensor(9, shape.length))));
        }
      }
    }
  });

  it('keeps -0 where the composite skips the add (minval 0, negative range)', () => {
    const got = data(random.uniform([64], { minval: 0, maxval: -3, dtype: 'float32', seed: 1 }));
    const want = data(uniformComposite([64], 0, -3, 'float32', seedTensor(1, 0)));
    expectBitwise('negative range', got, want);
  });
});

/** Units in the last place of `v` as a float32 (`bits` 24) or float64 (53) value. */
function ulp(v: number, bits: 24 | 53): number {
  const a = Math.abs(v);
  const minExp = bits === 24 ? -126 : -1022;
  const e = a === 0 ? minExp : Math.max(Math.floor(Math.log2(a)), minExp);
  return 2 ** (e - bits + 1);
}

/** Box-Muller of the key's uniforms in float64, straight from the formula (no quadrant folding). */
function normalReference(n: number, dtype: Float, seed: number): Float64Array {
  const u = random.uniform([n + (n % 2)], { seed, dtype }).dataSync();
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = i >> 1;
    const r = Math.sqrt(-2 * Math.log(1 - u[2 * k]));
    z[i] = r * (i % 2 ? Math.sin(2 * Math.PI * u[2 * k + 1]) : Math.cos(2 * Math.PI * u[2 * k + 1]));
  }
  return z;
}

/** Largest |got - want| in ulps of want (`slack` absolute error of the reference forgiven), and where. */
function maxUlps(got: ArrayLike<number>, want: ArrayLike<number>, bits: 24 | 53, slack = 0): { ulps: number; at: number } {
  let worst = { ulps: 0, at: -1 };
  for (let i = 0; i < want.length; i++) {
    const e = Math.max(0, Math.abs(got[i] - want[i]) - slack) / ulp(want[i], bits);
    if (!(e <= worst.ulps)) worst = { ulps: e, at: i };
  }
  return worst;
}

describe('randomNormal (js)', () => {
  it('rounds the float64 Box-Muller of the same uniforms once (float32)', () => {
    const n = 100001;
    const z = data(random.normal([n], { seed: 11 }));
    const u = random.uniform([n + 1], { seed: 11 }).dataSync();
    for (let i = 0; i < n; i++) {
      const want = Math.fround(boxMuller(u[i - (i % 2)], u[i - (i % 2) + 1])[i % 2]);
      if (z[i] !== want) throw new Error(`element ${i} is ${z[i]}, fround of the float64 Box-Muller is ${want}`);
    }
    // The float64 evaluation is within 0.5 ulp + the formula reference's own error (a few 1e-16).
    const worst = maxUlps(z, normalReference(n, 'float32', 11), 24, 1e-15);
    expect(worst.ulps, `element ${worst.at}`).toBeLessThanOrEqual(0.5 + 1e-6);
  });

  it('float64: within 2 ulps of the formula, away from the zeros of cos and sin', () => {
    const n = 20001;
    const worst = maxUlps(data(random.normal([n], { seed: 12, dtype: 'float64' })), normalReference(n, 'float64', 12), 53, 4e-15);
    expect(worst.ulps, `element ${worst.at}`).toBeLessThanOrEqual(2);
  });

  it('takes the quadrant exactly: u2 = k/4 gives an exact 0 beside +-r', () => {
    // boxMuller(u1, 1/4): cos 0 exactly on the quadrant's axis.
    for (const [u2, c, s] of [[0, 1, 0], [0.25, 0, 1], [0.5, -1, 0], [0.75, 0, -1]]) {
      const [zc, zs] = boxMuller(0.5, u2);
      const r = Math.sqrt(-2 * Math.log(0.5));
      expect(Math.abs(zc)).toBe(Math.abs(r * c));
      expect(Math.abs(zs)).toBe(Math.abs(r * s));
      expect(Math.sign(zc) * Math.sign(c) >= 0 && Math.sign(zs) * Math.sign(s) >= 0).toBe(true);
    }
    // u1 = 0: radius 0.
    expect(boxMuller(0, 0.3).map(Math.abs)).toEqual([0, 0]);
  });

  it('applies mean and stddev as * stddev then + mean, each rounded (as the composite)', () => {
    for (const dtype of ['float32', 'float64'] as Float[]) {
      const z = random.normal([5, 7], { seed: 3, dtype });
      const y = random.normal([5, 7], { mean: 0.3, stddev: 2.5, seed: 3, dtype });
      expectBitwise(dtype, data(y), data(ops.add(ops.multiply(z, 2.5), 0.3)));
    }
  });
});

// ------------------------------------------------------------------ native kernels

const reason = nativeUnavailableReason();
describe.skipIf(reason !== null)(`native fused random kernels${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const native = reason ? null! : addon();
  const isas = reason ? [] : native.backendInfo().availableIsas;
  const defaultIsa = reason ? '' : native.backendInfo().isa;
  afterAll(() => native?.setIsa(defaultIsa));
  const js = new JsBackend();

  function jsRun(op: string, ins: { values: Float32Array | Float64Array | Int32Array; shape: number[]; dtype: string }[], attrs: Attrs): Float32Array | Float64Array {
    const ts = ins.map((i) => new Tensor({ shape: i.shape, dtype: i.dtype as Float, storage: new JsStorage(i.values) }));
    const specs = getOp(op).infer(ts, attrs) as OutputSpec[];
    return (js.kernel(op)!(ts, attrs, specs) as JsStorage[])[0]!.data as Float32Array | Float64Array;
  }
  function nativeRun(op: string, ins: { values: Float32Array | Float64Array | Int32Array; shape: number[]; dtype: string }[], attrs: Attrs): Float32Array | Float64Array {
    const ts = ins.map((i) => native.createTensor(i.values, i.shape, i.dtype as Float));
    const [out] = native.runKernel(op, ts, attrs as never);
    const v = out!.read() as Float32Array | Float64Array;
    out!.dispose();
    ts.forEach((t) => t.dispose());
    return v;
  }
  const seed = (a: number, b: number) => ({ values: Int32Array.from([a, b]), shape: [2], dtype: 'int32' });

  describe.each(isas)('on %s', (isa) => {
    it('dropout matches the js kernel bit for bit', () => {
      native.setIsa(isa);
      for (const dtype of ['float32', 'float64'] as Float[]) {
        for (const shape of [...SHAPES, [70001], [4, 65536 + 5]]) {
          for (const rate of RATES) {
            const n = shape.reduce((a, b) => a * b, 1);
            const ins = [{ values: inputs(n, dtype, n), shape, dtype }, seed(-5, n)];
            expectBitwise(`${isa} ${dtype} ${JSON.stringify(shape)} rate ${rate}`, nativeRun('dropout', ins, { rate }), jsRun('dropout', ins, { rate }));
          }
        }
      }
    });

    it('randomNormal is within 4 ulps of the float64 Box-Muller (float32) and of the js kernel (float64)', () => {
      native.setIsa(isa);
      for (const n of [0, 1, 2, 3, 31, 33, 1023, 1025, 8191, 70001, 1 << 18]) {
        for (const dtype of ['float32', 'float64'] as Float[]) {
          const ins = [seed(21, n)];
          const got = nativeRun('randomNormal', ins, { shape: [n], dtype });
          const js = jsRun('randomNormal', ins, { shape: [n], dtype });
          // float32: the float64 Box-Muller of the same uniforms (js rounds it once); float64: the js kernel.
          let want: Float64Array | Float32Array = js;
          if (dtype === 'float32') {
            const u = jsRun('randomUniform', ins, { shape: [n + (n % 2)], dtype });
            want = Float64Array.from({ length: n }, (_, i) => boxMuller(u[i - (i % 2)], u[i - (i % 2) + 1])[i % 2]);
          }
          const worst = maxUlps(got, want, dtype === 'float32' ? 24 : 53);
          expect(worst.ulps, `${isa} ${dtype} n ${n}: element ${worst.at} is ${got[worst.at]}, reference ${want[worst.at]}`).toBeLessThanOrEqual(4);
        }
      }
    });

    it('randomNormal values do not depend on the draw size (a prefix), and scale/shift round as two ops', () => {
      native.setIsa(isa);
      for (const dtype of ['float32', 'float64'] as Float[]) {
        const long = nativeRun('randomNormal', [seed(8, 9)], { shape: [4099], dtype });
        for (const n of [1, 5, 17, 1024, 1025, 4098]) expectBitwise(`${isa} ${dtype} prefix ${n}`, nativeRun('randomNormal', [seed(8, 9)], { shape: [n], dtype }), long.subarray(0, n));
        const scaled = nativeRun('randomNormal', [seed(8, 9)], { shape: [4099], dtype, scale: 1.7, shift: -0.2 });
        const round = dtype === 'float32' ? Math.fround : (v: number) => v;
        const want = long.map((z) => round(round(z * round(1.7)) + round(-0.2)));
        expectBitwise(`${isa} ${dtype} scale/shift`, scaled, want);
      }
    });

    it('randomUniform with scale and shift matches the js kernel bit for bit', () => {
      native.setIsa(isa);
      for (const dtype of ['float32', 'float64'] as Float[]) {
        for (const shape of [...SHAPES, [70001]]) {
          for (const [lo, hi] of BOUNDS) {
            const attrs: Attrs = { shape, dtype };
            if (hi - lo !== 1) attrs.scale = hi - lo;
            if (lo !== 0) attrs.shift = lo;
            const ins = [seed(3, 4)];
            expectBitwise(`${isa} ${dtype} ${JSON.stringify(shape)} [${lo}, ${hi})`, nativeRun('randomUniform', ins, attrs), jsRun('randomUniform', ins, attrs));
          }
        }
      }
    });
  });

  it('a Dropout layer trains in a compiled graph (fit) on cpu as on js', async () => {
    const losses: Record<string, number[]> = {};
    for (const backend of ['js', 'cpu']) {
      keras.config.setBackend(backend);
      try {
        keras.utils.setRandomSeed(7);
        const model = new keras.Sequential([keras.Input({ shape: [8] }), new keras.layers.Dense(16, { activation: 'relu' }), new keras.layers.Dropout(0.4), new keras.layers.Dense(1)]);
        model.compile({ optimizer: new keras.optimizers.SGD(0.05), loss: 'mse' });
        const x = ops.reshape(ops.convertToTensor(Float32Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i * 0.37))), [64, 8]);
        const h = await model.fit(x, ops.sum(x, -1, true), { epochs: 3, batchSize: 16, verbose: 0 });
        losses[backend] = h.history.loss;
      } finally {
        keras.config.setBackend('js');
      }
    }
    expect(losses.cpu.length).toBe(3);
    losses.js.forEach((l, i) => expect(Math.abs(losses.cpu[i] - l) / Math.abs(l), `epoch ${i}: js loss ${l}, cpu loss ${losses.cpu[i]}`).toBeLessThan(1e-4));
  });
});
