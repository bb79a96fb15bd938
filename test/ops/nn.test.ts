import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
import { run1, setBackend } from '../../lib/engine.js';
import { isNativeAvailable, loadNativeAddon } from '../../lib/backends/cpu/native.js';
const { ops } = keras;

const f64 = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v, 'float64');
const LN2 = Math.LN2;

describe('activations at known points', () => {
  it('relu, relu6 (int dtype kept by relu)', () => {
    expectClose(ops.relu([-2, -0.5, 0, 3]), [0, 0, 0, 3]);
    const ri = ops.relu([-1, 2]);
    expect(ri.dtype).toBe('int32');
    expectClose(ri, [0, 2]);
    expectClose(ops.relu6([-1, 3, 6, 7.5]), [0, 3, 6, 6]);
  });

  it('softplus is stable at both ends; softsign', () => {
    expectClose(ops.softplus([0, 1, -1, 2]), [LN2, 1.3132616875182228, 0.31326168751822286, 2.1269280110429727]);
    expectClose(ops.softplus(f64([800, -800])), [800, 0], { atol: 0 });
    expectClose(ops.softsign([-3, 0, 1]), [-0.75, 0, 0.5]);
  });

  it('silu / swish, logSigmoid', () => {
    expectClose(ops.silu([0, 1, -1]), [0, 0.7310585786300049, -0.2689414213699951]);
    expect(ops.swish).toBe(ops.silu);
    expectClose(ops.logSigmoid(f64([0, -800, 800])), [-LN2, -800, 0], { atol: 1e-300 });
  });

  for (const backend of ['js', ...(isNativeAvailable() ? ['cpu'] : [])]) {
    it(`silu and softplus primitives on ${backend}: one rounding, stable tails, IEEE edges`, () => {
      setBackend(backend);
      try {
        const same = (got: Tensor, want: number[], what: string) =>
          Array.from(got.dataSync()).forEach((g, i) => expect(Object.is(g, want[i]), `${what} element ${i}: ${g}, want ${want[i]}`).toBe(true));
        // Far below 0 silu is -0 (x e^x, no inf / inf); -inf gives NaN, as x * sigmoid(x); -0 stays -0.
        same(ops.silu(ops.convertToTensor([-1000, -Infinity, Infinity, -0, NaN, 3e38], 'float32')), [-0, NaN, Infinity, -0, NaN, Math.fround(3e38)], 'float32 silu');
        same(ops.silu(f64([-1000, -Infinity, Infinity, -0])), [-0, NaN, Infinity, -0], 'float64 silu');
        // silu(-100) = -100 e^-100 / (1 + e^-100): subnormal in float32, rounded once.
        same(ops.silu(ops.convertToTensor([-100], 'float32')), [Math.fround(-100 * Math.exp(-100))], 'float32 silu(-100)');
        // 3e38: max(x, 0) + log1p(e^-x), no overflow of x + |x| (the composite gave inf); e^x itself far below 0.
        same(ops.softplus(ops.convertToTensor([3e38, -3e38, Infinity, -Infinity, NaN, -0, -100], 'float32')),
          [Math.fround(3e38), 0, Infinity, 0, NaN, Math.fround(LN2), Math.fround(Math.exp(-100))], 'float32 softplus');
      } finally {
        setBackend('js');
      }
    });
  }

  for (const backend of ['js', ...(isNativeAvailable() ? ['cpu'] : [])]) {
    it(`gelu's gradient (the geluDerivative primitive) gives the bits of the composite it replaced on ${backend}, every ISA path, float32 and float64`, () => {
      setBackend(backend);
      const addon = backend === 'cpu' ? loadNativeAddon() : null;
      const defaultIsa = addon?.backendInfo().isa;
      try {
        for (const isa of addon ? addon.backendInfo().availableIsas : [null]) {
          if (isa) addon!.setIsa(isa);
          for (const dtype of ['float32', 'float64'] as const) {
            const values = [...Array.from(randomTensor([4001], 21, -9, 9).dataSync()), NaN, -Infinity, Infinity, -0, 0, -0.7518, 1e-30, -40, 40];
            const x = ops.convertToTensor(values, dtype);
            const dy = ops.convertToTensor(Array.from({ length: values.length }, (_, i) => 1 + (i % 7) / 8), dtype);
            const cdf = ops.multiply(ops.add(ops.erf(ops.multiply(x, Math.SQRT1_2)), 1), 0.5);
            const pdf = ops.multiply(ops.exp(ops.multiply(ops.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
            const want = Array.from(ops.multiply(dy, ops.add(cdf, ops.multiply(x, pdf))).dataSync());
            const got = Array.from((keras.grad((t: Tensor) => ops.sum(ops.multiply(ops.gelu(t, false), dy)))(x) as Tensor).dataSync());
            got.forEach((g, i) => expect(Object.is(g, want[i]), `${backend} ${isa ?? ''} ${dtype} x=${values[i]}: ${g}, want ${want[i]}`).toBe(true));
          }
        }
      } finally {
        if (defaultIsa) addon!.setIsa(defaultIsa);
        setBackend('js');
      }
    });

    it(`the activation primitives that were composites on ${backend}: the composites' values and IEEE edges`, () => {
      setBackend(backend);
      try {
        const same = (got: Tensor, want: number[], what: string) =>
          Array.from(got.dataSync()).forEach((g, i) => expect(Object.is(g, want[i]), `${what} element ${i}: ${g}, want ${want[i]}`).toBe(true));
        const f32 = (v: number[]) => ops.convertToTensor(v, 'float32');
        const edges = [NaN, -Infinity, Infinity, -0, 0];
        // relu6 keeps NaN (as relu, torch and jax; the where-based composite gave 0) and gives +0 for -0.
        for (const t of [f32(edges), f64(edges)]) same(ops.relu6(t), [NaN, 0, 6, 0, 0], `${t.dtype} relu6`);
        same(ops.relu6(f32([-1, 5.5, 6, 6.5, 1e-45])), [0, 5.5, 6, 6, Math.fround(1e-45)], 'float32 relu6');
        const ri = ops.relu6(ops.convertToTensor(new Int32Array([-7, 0, 3, 6, 9, 2147483647, -2147483648])));
        expect(ri.dtype).toBe('int32');
        same(ri, [0, 0, 3, 6, 6, 6, 0], 'int32 relu6');
        const rb = ops.relu6(ops.convertToTensor([true, false], 'bool'));
        expect(rb.dtype).toBe('int32');
        same(rb, [1, 0], 'bool relu6');
        // hardSigmoid: NaN now kept (via relu6); hardSilu(-inf) = -inf * 0 = NaN as x * hardSigmoid(x).
        same(ops.hardSigmoid(f32(edges)), [NaN, 0, 1, 0.5, 0.5], 'float32 hardSigmoid');
        same(ops.hardSilu(f64(edges)), [NaN, NaN, Infinity, -0, 0], 'float64 hardSilu');
        // x + 3 rounds first (2.9999998 + 3 = 6 in float32), then the quotient: the composite's bits.
        same(ops.hardSigmoid(f32([2.9999998, -2.9999998, 1e-8])), [1, Math.fround(Math.fround(Math.fround(-2.9999998) + 3) / 6), 0.5], 'float32 hardSigmoid roundings');
        same(ops.hardSilu(f32([1.1])), [Math.fround(Math.fround(1.1) * Math.fround(Math.fround(Math.fround(1.1) + 3) / 6))], 'float32 hardSilu(1.1)');
        same(ops.softsign(f32([...edges, 1e30, 0.1])), [NaN, NaN, NaN, -0, 0, 1, Math.fround(Math.fround(0.1) / Math.fround(1 + Math.fround(0.1)))], 'float32 softsign');
        same(ops.logSigmoid(f32([NaN, -Infinity, Infinity, 100, -100])), [NaN, -Infinity, -0, Math.fround(-Math.exp(-100)), -100], 'float32 logSigmoid');
        // elu and celu: min(x, 0) first, so -0 gives +0 and +inf never reaches expm1; tiny negative x keeps its bits
        // (expm1(x) = x, no 1 - e^x cancellation); -inf gives -alpha.
        same(ops.elu(f32([...edges, -1e-30, -1e-45, -100]), 1.5), [NaN, -1.5, Infinity, 0, 0, Math.fround(Math.fround(-1e-30) * 1.5), Math.fround(-1e-45) * 2, -1.5], 'float32 elu');
        same(ops.elu(f64([-1e-300, -5e-324, -800]), 0.5), [-5e-301, -0, -0.5], 'float64 elu');
        same(ops.celu(f32([...edges, -1e-30]), 0.5), [NaN, -0.5, Infinity, 0, 0, Math.fround(-1e-30)], 'float32 celu');
        // A negative alpha makes expm1's argument positive (-0 for x = -0: alpha * -0 = +0), the general expm1's domain.
        same(ops.celu(f32([-0, 3, -200]), -2), [0, 3, -Infinity], 'float32 celu, negative alpha');
        expectClose(ops.celu(f32([-1, -2, -30]), -2), [-2 * Math.expm1(0.5), -2 * Math.expm1(1), -2 * Math.expm1(15)]);
        same(ops.selu(f32([-Infinity, -0, 1])), [Math.fround(Math.fround(-1.6732632423543772) * Math.fround(1.0507009873554805)), 0, Math.fround(1.0507009873554805)], 'float32 selu');
        same(ops.hardTanh(f32([...edges, -1.5, 0.25, 1, 1e30])), [NaN, -1, 1, -0, 0, -1, 0.25, 1, 1], 'float32 hardTanh');
        // leakyRelu: x >= 0 keeps x, so -0 stays -0; NaN * slope is NaN.
        same(ops.leakyRelu(f32([...edges, -2, 1e-45]), 0.25), [NaN, -Infinity, Infinity, -0, 0, -0.5, Math.fround(1e-45)], 'float32 leakyRelu');
        expect(ops.elu(ops.convertToTensor([1, -2], 'int32')).dtype).toBe('float32'); // ints become floatx, as before
        expect(ops.leakyRelu([1, -2]).dtype).toBe('float32');
        // The scalar parameter is checked by name before it becomes an operand.
        expect(() => ops.elu([1], 'a' as unknown as number)).toThrow(/elu: alpha must be a number, received "a"/);
        expect(() => ops.celu([1], { alpha: null as unknown as number })).toThrow(/celu: alpha must be a number, received null/);
        expect(() => ops.leakyRelu([1], [0.1] as unknown as number)).toThrow(/leakyRelu: negativeSlope must be a number, received \[0.1\]/);
      } finally {
        setBackend('js');
      }
    });
  }

  it('the binary activations differentiate in their parameter too; the kinks take the composites\' one-sided slopes', () => {
    const x = randomTensor([2, 5], 3, -3, 3);
    for (const op of ['elu', 'celu', 'leakyRelu']) checkGrad((t, a) => run1(op, [t, a]), [x, f64(0.7)]);
    const at = (fn: (t: Tensor) => Tensor, xs: number[]) => Array.from((keras.grad((t: Tensor) => ops.sum(fn(t)))(f64(xs)) as Tensor).dataSync());
    expect(at(ops.relu6, [0, 6, 3, NaN])).toEqual([0, 0, 1, 0]);
    expect(at(ops.hardSigmoid, [-3, 3, 0])).toEqual([0, 0, 1 / 6]);
    expect(at(ops.hardSilu, [-3, 3, 0])).toEqual([0, 1, 0.5]);
    expect(at((t) => ops.leakyRelu(t, 0.25), [0, -1])).toEqual([1, 0.25]);
    expect(at((t) => ops.elu(t, 1.5), [0, 1])).toEqual([1.5, 1]);
    expect(at((t) => ops.celu(t, 2), [0])).toEqual([1]);
    expect(at(ops.softsign, [0])).toEqual([1]);
    // hardTanh: slope 1 on [-1, 1] with its ends, and at NaN (the where-based composite passed dy through there).
    expect(at(ops.hardTanh, [-1, 1, 0, 2, -2, NaN])).toEqual([1, 1, 1, 0, 0, 1]);
  });

  it('gelu: tanh approximation by default, exact erf form with approximate=false', () => {
    expectClose(ops.gelu([1, -0.5, 0]), [0.8411919906082768, -0.15428599017485606, 0]);
    expectClose(ops.gelu([1, -0.5], false), [0.8413447460685429, -0.15426876936299344]);
    expectClose(ops.gelu([1], { approximate: false }), [0.8413447460685429]);
  });

  it('elu, selu, leakyRelu', () => {
    expectClose(ops.elu([-1, 0, 2]), [Math.exp(-1) - 1, 0, 2]);
    expectClose(ops.elu([-1], 2), [-1.2642411176571153]);
    expectClose(ops.elu([-1], { alpha: 2 }), [-1.2642411176571153]);
    expectClose(ops.selu([-1, 0, 2]), [-1.1113307378125625, 0, 2.101401974710961]);
    expectClose(ops.leakyRelu([-2, 0, 3]), [-0.4, 0, 3]);
    expectClose(ops.leakyRelu([-2, 3], 0.1), [-0.2, 3]);
    expectClose(ops.leakyRelu([-2], { negativeSlope: 0.5 }), [-1]);
  });

  it('hardSigmoid, hardSilu / hardSwish', () => {
    expectClose(ops.hardSigmoid([-4, -3, 0, 1.5, 3, 4]), [0, 0, 0.5, 0.75, 1, 1]);
    expectClose(ops.hardSilu([-4, 0, 1, 4]), [0, 0, 2 / 3, 4]);
    expect(ops.hardSwish).toBe(ops.hardSilu);
  });

  it('celu, glu, hardTanh, hardShrink, softShrink, tanhShrink, squareplus, sparsePlus, threshold', () => {
    expectClose(ops.celu([-1, 2], 2), [2 * (Math.exp(-0.5) - 1), 2]);
    expectClose(ops.celu([-1], { alpha: 1 }), [Math.exp(-1) - 1]);
    expectClose(ops.glu([[1, 2, 3, 4]]), [[0.9525741268224334, 1.964027580075817]], { shape: [1, 2] });
    expectClose(ops.glu([[1], [3]], 0), [[0.9525741268224334]], { shape: [1, 1] });
    expect(() => ops.glu([[1, 2, 3]])).toThrow(/glu: axis 1 of x \(1, 3\) must have an even size/);
    expectClose(ops.hardTanh([-2, -0.5, 3]), [-1, -0.5, 1]);
    expectClose(ops.hardShrink([-1, 0.3, 0.6]), [-1, 0, 0.6]);
    expectClose(ops.hardShrink([-1, 2], 1), [0, 2]);
    expectClose(ops.softShrink([-1, 0.3, 0.6]), [-0.5, 0, 0.1]);
    expectClose(ops.softShrink([-3, 3], { threshold: 1 }), [-2, 2]);
    expectClose(ops.tanhShrink([1, 0]), [0.23840584404423515, 0]);
    expectClose(ops.squareplus([0, 1]), [1, 1.618033988749895]);
    expectClose(ops.squareplus([-1, 2], 0), [0, 2]);
    expectClose(ops.sparsePlus([-2, -1, 0, 0.5, 1, 3]), [0, 0, 0.25, 0.5625, 1, 3]);
    expectClose(ops.threshold([1, 5, 3], 2, -1), [-1, 5, 3]);
    expectClose(ops.sparseSigmoid([-2, -1, 0, 0.5, 1, 3]), [0, 0, 0.5, 0.75, 1, 1]);
  });

  it('psnr', () => {
    expectClose(ops.psnr([0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5], 1), 6.020599913279624);
    expectClose(ops.psnr([[0, 2]], [[1, 2]], 255), 20 * Math.log10(255) - 10 * Math.log10(0.5));
    expect(() => ops.psnr([1, 2], [1, 2, 3], 1)).toThrow(/psnr: .*\(2,\).*\(3,\)/);
  });

  it('softmax and logSoftmax: axes, stability, ints, size-0', () => {
    const p = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
    expectClose(ops.softmax([1, 2, 3]), p);
    expectClose(ops.softmax([[1, 5], [2, 5], [3, 5]], 0), [[p[0], 1 / 3], [p[1], 1 / 3], [p[2], 1 / 3]]);
    expectClose(ops.softmax([[1, 2], [3, 4]], { axis: [0, 1] }), [[1, Math.E, Math.E ** 2, Math.E ** 3].map((v) => v / (1 + Math.E + Math.E ** 2 + Math.E ** 3))].flat());
    expectClose(ops.softmax(f64([1000, 1000, -1000])), [0.5, 0.5, 0]);
    expectClose(ops.softmax([[0, 0], [0, 0]], null), [[0.25, 0.25], [0.25, 0.25]]);
    expectClose(ops.logSoftmax([[0, 0], [0, 0]], { axis: null }), [[-2 * LN2, -2 * LN2], [-2 * LN2, -2 * LN2]]);
    const si = ops.softmax([1, 1]);
    expect(si.dtype).toBe('float32');
    expectClose(si, [0.5, 0.5]);
    expect(ops.softmax(ops.zeros([0, 3])).shape).toEqual([0, 3]);
    expectClose(ops.logSoftmax([1, 2, 3]), p.map(Math.log));
    expectClose(ops.logSoftmax(f64([1000, 0])), [0, -1000]);
    expectClose(ops.logSoftmax([[1, 2], [1, 2]], -2), [[-LN2, -LN2], [-LN2, -LN2]]);
  });
});

describe('activation gradients (float64)', () => {
  const x = randomTensor([2, 5], 1, -4, 4);
  const cases: [string, (t: Tensor) => Tensor][] = [
    ['relu', ops.relu],
    ['relu6', (t) => ops.relu6(ops.multiply(t, 2))],
    ['softplus', ops.softplus],
    ['softsign', ops.softsign],
    ['silu', ops.silu],
    ['logSigmoid', ops.logSigmoid],
    ['gelu', (t) => ops.gelu(t)],
    ['gelu exact', (t) => ops.gelu(t, false)],
    ['gelu exact, second order (geluDerivative differentiated)', (t) => keras.grad((u: Tensor) => ops.sum(ops.multiply(ops.gelu(u, false), u)))(t) as Tensor],
    ['elu', (t) => ops.elu(t, 1.5)],
    ['selu', ops.selu],
    ['leakyRelu', (t) => ops.leakyRelu(t)],
    ['hardSigmoid', ops.hardSigmoid],
    ['hardSilu', ops.hardSilu],
    ['softmax', (t) => ops.softmax(t)],
    ['softmax axis 0', (t) => ops.softmax(t, 0)],
    ['logSoftmax', (t) => ops.logSoftmax(t)],
    ['logSoftmax over all axes', (t) => ops.logSoftmax(t, [0, 1])],
    ['celu', (t) => ops.celu(t, 2)],
    ['glu', (t) => ops.glu(t, 0)],
    ['hardTanh', (t) => ops.hardTanh(ops.multiply(t, 0.5))],
    ['hardShrink', (t) => ops.hardShrink(t, 1)],
    ['softShrink', (t) => ops.softShrink(t, 1)],
    ['tanhShrink', ops.tanhShrink],
    ['squareplus', (t) => ops.squareplus(t)],
    ['sparsePlus', (t) => ops.sparsePlus(ops.multiply(t, 0.5))],
    ['threshold', (t) => ops.threshold(t, 0.5, -2)],
    ['sparseSigmoid', (t) => ops.sparseSigmoid(ops.multiply(t, 0.5))],
    ['psnr', (t) => ops.psnr(t, ops.zeros([2, 5], 'float64'), 2)],
  ];
  for (const [name, fn] of cases) it(name, () => checkGrad(fn, [x]));

  it('relu is max(x, 0) with NaN kept and +0 for -0, on floats and ints', () => {
    const y = Array.from(ops.relu(f64([-2, -0, 0, 1.5, NaN, -Infinity, Infinity])).dataSync());
    const want = [0, 0, 0, 1.5, NaN, 0, Infinity];
    want.forEach((w, i) => expect(Object.is(y[i], w), `relu element ${i}: ${y[i]}, want ${w}`).toBe(true));
    const yi = ops.relu(ops.convertToTensor(new Int32Array([-3, 0, 4])));
    expect(yi.dtype).toBe('int32');
    expect(Array.from(yi.dataSync())).toEqual([0, 0, 4]);
  });

  it('relu and relu6 gradients: 1 strictly inside, 0 at the kinks, beyond them, at -0 and at NaN', () => {
    // Both read their output (y > 0 exactly where x > 0), so a NaN input or a NaN/inf upstream
    // gradient at a clipped point must still give 0 there.
    const x = f64([-2, -0, 0, 1e-300, 3, 6, 7, NaN, -Infinity, Infinity]);
    const dyOf = (t: Tensor) => ops.multiply(t, f64([NaN, Infinity, 5, 2, 3, 4, 5, 6, 7, 8]));
    const relu = Array.from((keras.grad((t: Tensor) => ops.sum(dyOf(ops.relu(t))))(x) as Tensor).dataSync());
    expect(relu).toEqual([0, 0, 0, 2, 3, 4, 5, 0, 0, 8]);
    const relu6 = Array.from((keras.grad((t: Tensor) => ops.sum(dyOf(ops.relu6(t))))(x) as Tensor).dataSync());
    expect(relu6).toEqual([0, 0, 0, 2, 3, 0, 0, 0, 0, 0]);
  });

  it('softplus has gradient sigmoid(0) = 0.5 at 0; relu 0 at 0; no NaN from elu on large inputs', () => {
    expectClose(keras.grad((t: Tensor) => ops.sum(ops.softplus(t)))(f64([0, 800, -800])) as Tensor, [0.5, 1, 0]);
    expectClose(keras.grad((t: Tensor) => ops.sum(ops.relu(t)))(f64([0, 1])) as Tensor, [0, 1]);
    expectClose(keras.grad((t: Tensor) => ops.sum(ops.elu(t)))(f64([1000, -1000])) as Tensor, [1, 0]);
    expectClose(keras.grad((t: Tensor) => ops.sum(ops.softmax(t)))(f64([1000, 0])) as Tensor, [0, 0], { atol: 1e-12 });
  });
});

describe('cross-entropies', () => {
  it('binaryCrossentropy from probabilities (clipped to [1e-7, 1 - 1e-7])', () => {
    expectClose(ops.binaryCrossentropy([1, 0, 1], [0.9, 0.2, 0.5]), [0.10536051565782628, 0.2231435513142097, LN2]);
    expectClose(ops.binaryCrossentropy(f64([1, 1]), f64([0, 1])), [16.11809565095832, 1.0000000494736474e-7], { rtol: 1e-6 });
    expectClose(ops.binaryCrossentropy([[1], [0]], [[0.9], [0.9]]), [[0.10536051565782628], [2.3025850929940455]]);
  });

  it('binaryCrossentropy from logits equals the sigmoid formula and is stable', () => {
    const logits = [0, 2, -3];
    const t = [1, 0, 0.5];
    const want = logits.map((z, i) => {
      const s = 1 / (1 + Math.exp(-z));
      return -(t[i] * Math.log(s) + (1 - t[i]) * Math.log(1 - s));
    });
    expectClose(ops.binaryCrossentropy(t, logits, true), want);
    expectClose(ops.binaryCrossentropy(t, logits, { fromLogits: true }), [LN2, 2.1269280110429727, 1.548587351573742]);
    expectClose(ops.binaryCrossentropy(f64([0, 1]), f64([1000, -1000]), true), [1000, 1000]);
  });

  it('categoricalCrossentropy renormalizes probabilities; logits go through logSoftmax; axis', () => {
    const t = [[0, 1, 0], [0.5, 0.5, 0]];
    expectClose(ops.categoricalCrossentropy(t, [[0.2, 0.7, 0.1], [1, 1, 2]]), [0.35667494393873245, Math.log(4)], { shape: [2] });
    expectClose(ops.categoricalCrossentropy([[0, 0, 1]], [[1, 2, 3]], true), [0.40760596444438013]);
    expectClose(ops.categoricalCrossentropy([[0, 0, 1]], [[0, 1, 0]]), [16.11809565095832], { rtol: 1e-6 });
    const tt = ops.transpose(ops.convertToTensor(t, 'float32'));
    expectClose(ops.categoricalCrossentropy(tt, ops.transpose(ops.convertToTensor([[0.2, 0.7, 0.1], [1, 1, 2]], 'float32')), { axis: 0 }), [0.35667494393873245, Math.log(4)]);
    expectClose(ops.categoricalCrossentropy(f64([[0, 1]]), f64([[1000, -1000]]), true), [2000]);
  });

  it('sparseCategoricalCrossentropy: int or float labels, trailing 1 squeezed, axis, out-of-range labels give 0', () => {
    const probs = [[0.2, 0.7, 0.1], [0.25, 0.25, 0.5]];
    const want = [0.35667494393873245, LN2];
    expectClose(ops.sparseCategoricalCrossentropy([1, 2], probs), want, { shape: [2] });
    expectClose(ops.sparseCategoricalCrossentropy([[1], [2]], probs), want, { shape: [2] });
    expectClose(ops.sparseCategoricalCrossentropy([1.0, 2.0], probs), want);
    expectClose(ops.sparseCategoricalCrossentropy([2], [[1, 2, 3]], true), [0.40760596444438013]);
    expectClose(ops.sparseCategoricalCrossentropy([1, 2], ops.transpose(ops.convertToTensor(probs, 'float32')), { axis: 0 }), want);
    expectClose(ops.sparseCategoricalCrossentropy([3], [[0.5, 0.5]]), [0]);
  });

  it('errors name the op and both shapes', () => {
    expect(() => ops.binaryCrossentropy([1, 0], [0.5, 0.5, 0.5])).toThrow(/binaryCrossentropy: .*target.shape=\(2,\), output.shape=\(3,\)/);
    expect(() => ops.categoricalCrossentropy([[1, 0]], [[0.5, 0.5, 0]])).toThrow(/categoricalCrossentropy: .*\(1, 2\).*\(1, 3\)/);
    expect(() => ops.sparseCategoricalCrossentropy([1, 2, 0], [[0.5, 0.5]])).toThrow(/sparseCategoricalCrossentropy: .*target.shape=\(3,\), output.shape=\(1, 2\)/);
  });

  it('gradients (float64), both ways', () => {
    const t = randomTensor([3, 4], 2, 0, 1);
    const p = randomTensor([3, 4], 3, 0.1, 0.9);
    const z = randomTensor([3, 4], 4, -3, 3);
    checkGrad((a, b) => ops.binaryCrossentropy(a, b), [t, p]);
    checkGrad((a, b) => ops.binaryCrossentropy(a, b, true), [t, z]);
    checkGrad((a, b) => ops.categoricalCrossentropy(a, b), [t, p]);
    checkGrad((a, b) => ops.categoricalCrossentropy(a, b, true, 0), [t, z]);
    const labels = ops.convertToTensor([0, 3, 1]);
    checkGrad((b) => ops.sparseCategoricalCrossentropy(labels, b), [p]);
    checkGrad((b) => ops.sparseCategoricalCrossentropy(labels, b, { fromLogits: true }), [z]);
  });
});

describe('dotProductAttention', () => {
  const q = ops.reshape(ops.convertToTensor([1, 0], 'float32'), [1, 1, 1, 2]);
  const k = ops.reshape(ops.convertToTensor([1, 0, 0, 1], 'float32'), [1, 2, 1, 2]);
  const v = ops.reshape(ops.convertToTensor([1, 2, 3, 4], 'float32'), [1, 2, 1, 2]);
  const w = 1 / (1 + Math.exp(-Math.SQRT1_2)); // softmax([1/sqrt(2), 0])[0]

  it('softmax(q k^T / sqrt(H)) v, with scale, bias, mask and causal masking', () => {
    expectClose(ops.dotProductAttention(q, k, v), [1 + 2 * (1 - w), 2 + 2 * (1 - w)], { shape: [1, 1, 1, 2] });
    expectClose(ops.dotProductAttention(q, k, v, { scale: 0 }), [2, 3]);
    expectClose(ops.dotProductAttention(q, k, v, [0, Math.log(3)], null, 0), [2.5, 3.5]);
    expectClose(ops.dotProductAttention(q, k, v, { mask: [[[[true, false]]]] }), [1, 2]);
    // A fully masked row averages the values (large negative, not -inf).
    expectClose(ops.dotProductAttention(q, k, v, { mask: [false, false] }), [2, 3]);
    const q2 = ops.reshape(ops.convertToTensor([1, 0, 0, 1], 'float32'), [1, 2, 1, 2]);
    expectClose(ops.dotProductAttention(q2, k, v, { isCausal: true }), [[[[1, 2]], [[1 + 2 * w, 2 + 2 * w]]]]);
  });

  it('grouped-query attention repeats each kv head over its query heads', () => {
    const qg = ops.reshape(ops.convertToTensor([1, 0, 0, 0], 'float32'), [1, 1, 2, 2]);
    expectClose(ops.dotProductAttention(qg, k, v), [[[[1 + 2 * (1 - w), 2 + 2 * (1 - w)], [2, 3]]]], { shape: [1, 1, 2, 2] });
  });

  it('rejects other ranks and mismatched heads, naming the shapes', () => {
    expect(() => ops.dotProductAttention(ops.zeros([1, 2, 2]), ops.zeros([1, 2, 2]), ops.zeros([1, 2, 2]))).toThrow(/dotProductAttention: only 4D .*query.shape=\(1, 2, 2\)/);
    expect(() => ops.dotProductAttention(ops.zeros([1, 2, 3, 4]), ops.zeros([1, 2, 2, 4]), ops.zeros([1, 2, 2, 4]))).toThrow(/dotProductAttention: .*query.shape=\(1, 2, 3, 4\), key.shape=\(1, 2, 2, 4\)/);
  });

  it('gradients (float64) wrt query, key, value and bias, causal and grouped', () => {
    const qq = randomTensor([1, 3, 2, 2], 30);
    const kk = randomTensor([1, 3, 1, 2], 31);
    const vv = randomTensor([1, 3, 1, 3], 32);
    const bias = randomTensor([1, 1, 3, 3], 33);
    checkGrad((a, b, c, d) => ops.dotProductAttention(a, b, c, { bias: d, isCausal: true }), [qq, kk, vv, bias]);
  });
});

describe('moments, batchNormalization, normalize', () => {
  it('moments: population variance, axes, keepdims, negative axes, ints', () => {
    const x = [[1, 2], [3, 6]];
    const [m0, v0] = ops.moments(x, 0);
    expectClose(m0, [2, 4]);
    expectClose(v0, [1, 4]);
    const [m, v] = ops.moments(x, [0, 1], true);
    expectClose(m, [[3]], { shape: [1, 1] });
    expectClose(v, [[3.5]], { shape: [1, 1] });
    const [m1, v1] = ops.moments(x, -1, { keepdims: false });
    expect(m1.dtype).toBe('float32');
    expectClose(m1, [1.5, 4.5], { shape: [2] });
    expectClose(v1, [0.25, 2.25], { shape: [2] });
  });

  for (const backend of ['js', ...(isNativeAvailable() ? ['cpu'] : [])]) {
    it(`moments gradients on ${backend}: x_i gets a/n + 2b(x_i - mean)/n from a*mean + b*variance, with and without keepdims`, () => {
      setBackend(backend);
      try {
        // Rows [1, 2, 4, 9] (mean 4) and [0, -2, 6, 0] (mean 1), normalized over axis 1; then NHWC-like axes [0, 1].
        const x = ops.convertToTensor([[1, 2, 4, 9], [0, -2, 6, 0]], 'float32');
        const a = ops.convertToTensor([[3], [-1]], 'float32');
        const b = ops.convertToTensor([[0.5], [2]], 'float32');
        const want = [[1, 2, 4, 9].map((v) => 3 / 4 + (2 * 0.5 * (v - 4)) / 4), [0, -2, 6, 0].map((v) => -1 / 4 + (2 * 2 * (v - 1)) / 4)];
        for (const keepdims of [true, false]) {
          const shaped = (t: Tensor) => (keepdims ? t : ops.reshape(t, [2]));
          const g = keras.grad((t: Tensor) => {
            const [m, v] = ops.moments(t, 1, keepdims);
            expect(m.shape, `mean shape, keepdims ${keepdims}`).toEqual(keepdims ? [2, 1] : [2]);
            return ops.sum(ops.add(ops.multiply(m, shaped(a)), ops.multiply(v, shaped(b))));
          })(x) as Tensor;
          expectClose(g, want, { rtol: 1e-6, atol: 1e-6 });
        }
        const g01 = keras.grad((t: Tensor) => {
          const [m, v] = ops.moments(ops.reshape(t, [2, 4, 1]), [0, 1]); // 8 values, mean 2.5, one channel
          return ops.sum(ops.add(ops.multiply(m, 3), ops.multiply(v, 0.5)));
        })(x) as Tensor;
        expectClose(g01, [[1, 2, 4, 9].map((v) => 3 / 8 + (v - 2.5) / 8), [0, -2, 6, 0].map((v) => 3 / 8 + (v - 2.5) / 8)], { rtol: 1e-6, atol: 1e-6 });
      } finally {
        setBackend('js');
      }
    });
  }

  it('batchNormalization: statistics along axis, offset, scale, epsilon', () => {
    const x = [[1, 2], [3, 4]];
    expectClose(ops.batchNormalization(x, [2, 3], [1, 4], -1, [0, 1], [2, 1], 0), [[-2, 0.5], [2, 1.5]]);
    expectClose(ops.batchNormalization(x, [2, 3], [1, 4], 1, { offset: [0, 1], scale: [2, 1], epsilon: 0 }), [[-2, 0.5], [2, 1.5]]);
    // Tensors and variables given positionally are values, not options.
    const t = (v: number[]) => ops.convertToTensor(v, 'float32');
    expectClose(ops.batchNormalization(t([1, 2, 3, 4]), t([2, 3, 2, 3]), t([1, 4, 1, 4]), 0, t([0, 1, 0, 1]), new keras.Variable(t([2, 1, 2, 1])), 0), [-2, 0.5, 2, 1.5]);
    const s = 1 / Math.sqrt(1.001);
    expectClose(ops.batchNormalization(x, [2, 3], [1, 1], 1), [[-s, -s], [s, s]]);
    // axis 0 of a rank-3 tensor (channels_first-like)
    expectClose(ops.batchNormalization(ops.ones([2, 1, 2]), [0, 1], [1, 1], 0, null, null, 0), [[[1, 1]], [[0, 0]]]);
  });

  it('batchNormalization rejects statistics of the wrong length', () => {
    expect(() => ops.batchNormalization([[1, 2]], [1, 2, 3], [1, 1], -1)).toThrow(/batchNormalization: mean must be 1-D with 2 entries.*\(1, 2\).*\(3,\)/);
  });

  it('normalize: L2 by default, other orders, zeros stay zero, rank 0', () => {
    expectClose(ops.normalize([3, 4]), [0.6, 0.8]);
    expectClose(ops.normalize([[3, 1], [4, 0]], 0), [[0.6, 1], [0.8, 0]]);
    expectClose(ops.normalize([1, -3], { order: 1 }), [0.25, -0.75]);
    expectClose(ops.normalize([0, 0]), [0, 0]);
    expectClose(ops.normalize(5), [1], { shape: [1] });
    expect(() => ops.normalize([1, 2], -1, 0)).toThrow(/normalize: order must be an integer >= 1/);
  });

  it('layerNormalization and rmsNormalization', () => {
    const ln = [-1.0690449523776269, -0.5345224761888134, 0, 1.6035674285664403];
    expectClose(ops.layerNormalization([[1, 2, 3, 6]]), [ln]);
    expectClose(ops.layerNormalization([[1, 2, 3, 6]], [1, 1, 1, 2], [0, 0, 0, 1]), [[ln[0], ln[1], 0, ln[3] * 2 + 1]]);
    expectClose(ops.layerNormalization([[1, 10], [3, 30]], { gamma: [2, 1], axis: 0 }), [[-2, -2], [1, 1]], { rtol: 1e-5 });
    expectClose(ops.layerNormalization(ops.reshape([1, 2, 3, 6], [1, 2, 2]), { axis: [1, 2] }), ln, { shape: [1, 2, 2] });
    expect(() => ops.layerNormalization([[1, 2, 3]], [1, 1])).toThrow(/layerNormalization: gamma of shape \(2,\) does not match the normalized dims \(3,\) of x \(1, 3\)/);
    const rms = [0.2828427113432482, 0.5656854226864964, 0.8485281340297445, 1.697056268059489];
    expectClose(ops.rmsNormalization([1, 2, 3, 6]), rms);
    expectClose(ops.rmsNormalization([[1, 2, 3, 6]], [1, 1, 1, 2]), [[rms[0], rms[1], rms[2], rms[3] * 2]]);
    expectClose(ops.rmsNormalization([[1, 2, 3, 6]], ops.convertToTensor([1, 1, 1, 2], 'float32')), [[rms[0], rms[1], rms[2], rms[3] * 2]]);
    expectClose(ops.layerNormalization([[1, 2, 3, 6]], ops.convertToTensor([1, 1, 1, 2], 'float32'), ops.convertToTensor([0, 0, 0, 1], 'float32')), [[ln[0], ln[1], 0, ln[3] * 2 + 1]]);
    expectClose(ops.rmsNormalization([[1, 1], [2, 2], [3, 3], [6, 6]], { axis: 0 }), rms.map((r) => [r, r]));
  });

  it('gradients (float64)', () => {
    const x = randomTensor([3, 4], 5);
    checkGrad((a) => ops.moments(a, 0)[0], [x]);
    checkGrad((a) => ops.moments(a, [0, 1], true)[1], [x]);
    const mean = randomTensor([4], 6);
    const variance = randomTensor([4], 7, 0.5, 2);
    checkGrad((a, m, v, o, s) => ops.batchNormalization(a, m, v, -1, o, s), [x, mean, variance, randomTensor([4], 8), randomTensor([4], 9)]);
    checkGrad((a) => ops.normalize(a), [x]);
    checkGrad((a) => ops.normalize(a, 0, 3), [x]);
    checkGrad((a, g, b) => ops.layerNormalization(a, g, b), [x, randomTensor([4], 10), randomTensor([4], 11)]);
    checkGrad((a, g) => ops.layerNormalization(a, { gamma: g, axis: 0 }), [x, randomTensor([3], 12)]);
    checkGrad((a, sc) => ops.rmsNormalization(a, sc), [x, randomTensor([4], 13)]);
  });
});
