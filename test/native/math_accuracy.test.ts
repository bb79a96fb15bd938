/**
 * Accuracy of the native vector math (native/cpu/simd/vector_math.h), in ulps of the
 * result against float64 references (Math.*, the js backend's erf/erfc), on every ISA
 * path: float32 exp, expm1, log, log1p, rsqrt, sin, cos, tanh, sigmoid, erf, both gelu forms, silu, softplus,
 * logSigmoid, selu, elu and celu over a sweep of the whole float range by bit pattern plus dense grids where the
 * approximations switch branches; float64 exp, expm1, log, log1p, rsqrt, tanh, sigmoid, selu, elu and celu (vector
 * math) and silu, softplus and logSigmoid (scalar libm) over random values of every magnitude; and the IEEE edges
 * (NaN, +-inf, +-0, subnormal results, overflow), which must be exact. elu and celu are binary (x, alpha): they run
 * with the scalar parameter of PARAMETERS.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType } from '../../lib/backends/cpu/native.js';
import { erf, erfc } from '../../lib/backends/js/special.js';
import { addon, randomArray } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** The js kernels' forms (lib/backends/js/elementwise.ts): -inf gives NaN for silu, as x * sigmoid(x). */
const silu = (x: number) => (x >= 0 ? x / (1 + Math.exp(-x)) : (x * Math.exp(x)) / (1 + Math.exp(x)));
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
/** min(x, 0) as ops.minimum: -0 gives +0, so elu(-0) = +0 as the composite alpha expm1(min(x, 0)) gave. */
const belowZero = (x: number) => (x < 0 || x !== x ? x : 0);
/** The parameter operand of the binary activations, exact in float32 (so the reference uses the kernel's alpha). */
const PARAMETERS: Record<string, number> = { elu: 1.5, celu: 0.75 };
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const elu = (x: number, alpha: number) => (x > 0 ? x : alpha * Math.expm1(belowZero(x)));
const REFERENCE: Record<string, (x: number) => number> = {
  exp: Math.exp, expm1: Math.expm1, log: Math.log, log1p: Math.log1p, rsqrt: (x) => 1 / Math.sqrt(x), sin: Math.sin, cos: Math.cos, tanh: Math.tanh, sigmoid,
  // The js series returns +0 for -0; erf is odd, so -0 (as C's erf gives).
  erf: (x) => (x === 0 ? x : erf(x)),
  gelu: (x) => 0.5 * x * erfc(-x * Math.SQRT1_2),
  geluTanh: (x) => {
    const w = 1.5957691216057308 * (x + 0.044715 * x * x * x);
    return w >= 0 ? x / (1 + Math.exp(-w)) : (x * Math.exp(w)) / (1 + Math.exp(w));
  },
  silu,
  softplus,
  logSigmoid: (x) => -softplus(-x),
  selu: (x) => SELU_SCALE * elu(x, SELU_ALPHA),
  elu: (x) => elu(x, PARAMETERS.elu!),
  celu: (x) => (x > 0 ? x : PARAMETERS.celu! * Math.expm1(belowZero(x) / PARAMETERS.celu!)),
};
/** A number as text, -0 included. */
const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** Largest error allowed, in ulps of the correctly rounded result (measured: see the comments). */
const FLOAT32_ULPS: Record<string, number> = {
  exp: 1.5, // 1.01 over every 3rd float32 (avx512)
  // 1.34 over every 17th float32 (avx512, avx2; 1.31 portable), near x = 18 where 2^25 - 1 rounds
  expm1: 1.5,
  log: 1.5, // 0.82
  log1p: 1.5, // 0.83 over every 17th float32 (all paths), near x = sqrt(1/2) - 1
  // 1.49 over every 17th float32 (all paths): sqrt, then the division, each rounds once (the
  // sqrt's rounding doubles in ulps where 1/sqrt(x) sits just below a power of two)
  rsqrt: 1.5,
  // 1.56 (sin), 1.562 (cos) over every float32 with |x| <= 8192 (avx512; the reduction's range,
  // beyond it libm per lane), 1.56 over |x| <= 16 portable (its range): the rounding of the
  // reduced argument and of the polynomials, near |sin| = 0.72
  sin: 2,
  cos: 2,
  // 5.89 over every float32 in |x| <= 10 (avx512, avx2), 6.82 portable (no fmadd), near |x| = 8
  // where tanh = 1 - 3e-7: one rational x P(x^2)/Q(x^2) evaluated in float32, whose x^2, two
  // Horner chains, product and quotient each round (vector_math.h); the exp form it replaced read
  // 1.33 but took twice the time. 2-3 ulps below |x| = 1, exact for tiny x.
  tanh: 7,
  sigmoid: 3, // 2.40 over every 13th float32, all paths (e/(1 + e) rounds e, 1 + e and the quotient)
  erf: 2, // 0.99 over every float32 (avx512, avx2), 1.35 portable (no fmadd); eight polynomials picked per lane
  // 5.31 over every float32 (avx512, avx2), 6.18 portable (no fmadd): -a e^(-a^2/2) P/Q, each
  // of P, Q, e^r about 1-2 ulps, a = |x|.
  gelu: 6.5,
  // 21.7 over every 5th float32 in -5 <= x < 0 (avx512, avx2), 28.1 portable (no fmadd), near
  // x = -5: below, the roundings of x^2 and of the cubic in 2u grow like |2u| ulps (x sigmoid(2u)
  // read 30.4 there, 34.6 portable; the float32 composite x (1 + tanh(u)) / 2 is off by 10^3 ulps
  // and more).
  geluTanh: 30,
  // 3.22 over every 13th float32 (avx512, avx2, portable), near x = -3.2: e^-|x| (exp's own ulp),
  // x e, 2^32 + e and the quotient each round.
  silu: 3.5,
  // 1.79 over every 13th float32 (avx512, avx2), 2.22 portable (no fmadd), near |x| = 0.01 where
  // log1p(t) of t = e^-|x| near 1 carries exp's rounding of t.
  softplus: 2.5,
  // The composites made primitives keep their bits (vector_math.h); measured over every 1009th float32 and the grids:
  logSigmoid: 2.5, // -softplus(-x), softplus's bound: 1.68 (avx512, avx2), 2.03 portable, near x = -0.04
  selu: 2.5, // scale (alpha expm1(x)), each product rounded: 1.86 (avx512, avx2), 1.97 portable
  elu: 2, // alpha expm1(x), alpha = 1.5: 1.43 (avx512, avx2), 1.31 portable
  celu: 2.5, // alpha expm1(x / alpha), alpha = 0.75: 1.75, the quotient's rounding carried through expm1
};
/** Where the ulp bound is asserted, when not everywhere. */
const FLOAT32_DOMAIN: Record<string, (x: number) => boolean> = { geluTanh: (x) => x >= -5 };
/**
 * float64: the vector math's error plus the reference's own (Math.* is within 1 ulp); silu and softplus
 * are libm's exp and log1p in the js kernel's forms, so the two exps' own difference.
 */
// logSigmoid, selu, elu, celu: 2.00, 3.00, 2.00, 2.00 (every path).
const FLOAT64_ULPS: Record<string, number> = { exp: 4, expm1: 4, log: 4, log1p: 4, rsqrt: 4, tanh: 4, sigmoid: 4, silu: 4, softplus: 4, logSigmoid: 4, selu: 4, elu: 4, celu: 4 };
/**
 * float64 silu below -708: e^x is subnormal, so x e^x keeps only its bits (in js as in libm) and the two
 * exps' last-bit difference grows by |x|; float32 never gets there (its results are 0 from -109).
 */
const FLOAT64_DOMAIN: Record<string, (x: number) => boolean> = { silu: (x) => x >= -708 };

/** The spacing of floats (float32 or float64) at the magnitude of `value` rounded to that type. */
function ulp(value: number, dtype: NativeDType): number {
  const [mantissaBits, minExponent, maxFinite] = dtype === 'float32' ? [23, -126, 3.4028234663852886e38] : [52, -1022, Number.MAX_VALUE];
  let a = Math.abs(dtype === 'float32' ? Math.fround(value) : value);
  if (a === Infinity) a = maxFinite;
  if (a < 2 ** minExponent) return 2 ** (minExponent - mantissaBits);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - mantissaBits);
}

interface Worst {
  ulps: number;
  x: number;
  got: number;
  want: number;
}

/** `op` run natively on x (with its scalar parameter, for the binary activations): the result's values. */
function runOp(op: string, x: ReturnType<typeof native.createTensor>, dtype: NativeDType): Float32Array | Float64Array {
  const parameter = op in PARAMETERS ? native.createTensor((dtype === 'float32' ? Float32Array : Float64Array).of(PARAMETERS[op]!), [], dtype) : null;
  const [out] = native.runKernel(op, parameter ? [x, parameter] : [x]);
  const got = out!.read() as Float32Array | Float64Array;
  out!.dispose();
  parameter?.dispose();
  return got;
}

/** Runs `op` natively on `inputs` and returns the largest ulp error against the reference. */
function worstError(op: string, inputs: Float32Array | Float64Array, dtype: NativeDType): Worst {
  const x = native.createTensor(inputs, [inputs.length], dtype);
  const got = runOp(op, x, dtype);
  x.dispose();
  const reference = REFERENCE[op]!;
  const worst: Worst = { ulps: 0, x: NaN, got: NaN, want: NaN };
  for (let i = 0; i < inputs.length; i++) {
    const want = reference(inputs[i]!);
    const g = got[i]!;
    if (Number.isNaN(want) && Number.isNaN(g)) continue;
    const rounded = dtype === 'float32' ? Math.fround(want) : want;
    // Infinities and zeros must match exactly (signs included); an error of any size fails.
    const ulps = g === rounded && Object.is(g, rounded) ? 0 : Number.isFinite(g) && Number.isFinite(rounded) ? Math.abs(g - want) / ulp(want, dtype) : Infinity;
    if (ulps > worst.ulps || Number.isNaN(ulps)) Object.assign(worst, { ulps: Number.isNaN(ulps) ? Infinity : ulps, x: inputs[i]!, got: g, want });
  }
  return worst;
}

const describeWorst = (op: string, w: Worst) => `${op}(${show(w.x)}) = ${show(w.got)}, want ${show(w.want)} (${w.ulps.toFixed(2)} ulps)`;

/** Every `step`-th float32 bit pattern, both signs, NaNs and infinities excluded. */
function bitPatternSweep(step: number): Float32Array {
  const bits = new Uint32Array(2 * Math.ceil(0x7f800000 / step));
  let n = 0;
  for (let b = 0; b < 0x7f800000; b += step) {
    bits[n++] = b;
    bits[n++] = (b | 0x80000000) >>> 0;
  }
  return new Float32Array(bits.buffer, 0, n);
}

/** `count` consecutive float32 values on each side of `centre`. */
function around(centre: number, count: number): number[] {
  const f = new Float32Array([centre]);
  const bits = new Int32Array(f.buffer);
  const out: number[] = [];
  for (let k = -count; k <= count; k++) {
    const b = new Int32Array([bits[0]! + k]);
    out.push(new Float32Array(b.buffer)[0]!);
  }
  return out;
}

function float32Inputs(): Float32Array {
  const grid = Array.from({ length: 200001 }, (_, i) => -12 + (24 * i) / 200000);
  // Where the approximations switch branch or range: tanh at |x| = 0.625, erf's intervals
  // (i + 1/2) / 1.90625 and 3.93, log's mantissa at sqrt(2) and the subnormal boundary, exp's overflow and
  // underflow thresholds, gelu's subnormal e^(-x^2/2) (13.2) and clamp (15), expm1's reduction
  // steps (multiples of ln 2), the 2^n - 1 that rounds (17.3, 18) and its clamp, log1p's
  // mantissa switch (1 + x at sqrt(2) and sqrt(1/2)) and where 1 + x stops being exact.
  const edges = [0.625, 0.26229507, 0.78688526, 1.3114754, 1.8360656, 2.3606558, 2.8852458, 3.409836, 3.93, Math.SQRT2, 2 ** -126, 88.72283, 103.97, -87.33655, -103.2789, 9.01, 13.2, 15,
    Math.LN2, 2 * Math.LN2, 3 * Math.LN2, 17.328680, 18, Math.SQRT2 - 1, Math.SQRT1_2 - 1, 2 ** 24, 2 ** -24, 0.99999994,
    // sin and cos: multiples of pi/2 (the reduction's cancellation), quadrant switches, where the
    // scalar path takes over (16 portable, 8192).
    Math.PI / 4, Math.PI / 2, Math.PI, 3 * Math.PI / 2, 6 * Math.PI, 100 * Math.PI, 1000 * Math.PI + Math.PI / 2, 2607 * Math.PI, 16, 8192,
    // silu: where e^x turns subnormal, where silu rounds to 0, exp's clamps (e^-|x| 2^32).
    87.33655, 108.7, 66.8, 126.18].flatMap((c) => [...around(c, 300), ...around(-c, 300)]);
  // gelu's worst cases over every float32 (exhaustive search): avx512/avx2, then portable.
  const worst = [-12.6653366, -4.50077057];
  return Float32Array.from([...bitPatternSweep(1009), ...grid, ...edges, ...worst]);
}

function float64Inputs(): Float64Array {
  const u = randomArray(300000, 11);
  // A third uniform in [-40, 40], the rest log-uniform in magnitude over 1e-300..1e300 (exp/tanh: up to 750).
  return Float64Array.from(u, (v, i) => (i % 3 === 0 ? 40 * v : Math.sign(v) * 10 ** (300 * Math.abs(u[(i * 7) % u.length]!) * (i % 3 === 1 ? 1 : 0.01))));
}

/**
 * Inputs at the IEEE edges: NaN, infinities, signed zeros, the float32 overflow and
 * underflow thresholds of exp, subnormal inputs and results.
 */
const EDGES: Record<string, number[]> = {
  exp: [NaN, Infinity, -Infinity, 0, -0, 88.72283172607422, 88.72283935546875, 1000, -103.27892303466797, -103.97, -104, -1000, 1e-45, -87.33654022216797, 709.7, 710, -745.1, -746],
  expm1: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1e-40, -1e-40, 5e-324, -5e-324, 88.72283172607422, 88.72283935546875, 1000, -16, -17.5, -18, -100, -1000, 709.78, 710, -37, -40, -800],
  log: [NaN, Infinity, -Infinity, 0, -0, -1, -1e-45, 1, 1e-45, 1.1754942106924411e-38, 3.4028234663852886e38, 5e-324, 2.2250738585072014e-308, Number.MAX_VALUE],
  log1p: [NaN, Infinity, -Infinity, 0, -0, -1, -1.5, -1000, -0.9999999403953552, -1 + 2 ** -53, 1e-45, -1e-45, 1e-40, -1e-40, 5e-324, -5e-324, 3.4028234663852886e38, Number.MAX_VALUE],
  rsqrt: [NaN, Infinity, -Infinity, 0, -0, -1, -1e-45, 1e-45, 1e-40, 1.1754942106924411e-38, 3.4028234663852886e38, 5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, 4],
  // One vector holds lanes on both sides of the scalar fallback (|x| > 8192, 16 portable).
  sin: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1e-40, 0.5, -3, 16, 16.000002, 8192, -8192.001, 1e5, -1e30, 3.4e38],
  cos: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, 0.5, -3, 16, -16.000002, 8192, 8192.001, -1e5, 1e30, -3.4e38],
  tanh: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, 5e-324, 20, -20, 400, -400],
  sigmoid: [NaN, Infinity, -Infinity, 0, -0, -200, 200, -100, -700, -745, -800, 800],
  erf: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, -5, 5, 3.93, -3.92],
  gelu: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, -1e-40, 1e-40, -13.5, -14.3, -14.5, -14.9, -15, -15.1, -20, 15, 20, -1e30, 1e30, 3.4e38, -3.4e38],
  geluTanh: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, -20, -1e30, 1e30, 3.4e38, -3.4e38],
  // -87.4: e^x subnormal, x e^x normal; -100, -105: subnormal results; -110 and below: -0 (exp's clamp at
  // -126.2 included); -inf: NaN. Beyond 66.8 the positive side's e^-x is clamped.
  silu: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1e-40, -1e-40, 5e-324, -5e-324, 3.4e38, -3.4e38, -20, -87.4, -100, -105, -110, -126, -127, -200, -1e30, 20, 67, 100, 1e30, -700, -745, -800],
  // -87.4 and below: subnormal results, e^x itself; -104 and below: +0; exp's clamp at +-104.
  softplus: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, -1e-40, 5e-324, 3.4e38, -3.4e38, -20, -87.4, -100, -103, -104, -105, -1e30, 1e30, 17, 20, 88, 104, 105, -700, -745, -800, 800],
  logSigmoid: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1e-40, -5e-324, 3.4e38, -3.4e38, 20, 87.4, 100, 103, 104, 105, 1e30, -1e30, -17, -20, -88, -104, -105, 700, 745, 800, -800],
  // Tiny negative x: expm1(x) = x exactly (no 1 - e^x cancellation), subnormal and -0 -> +0 (the composite's
  // min(x, 0)) included; the expm1 clamps (-18 float32, -40 float64) where the result is -alpha.
  selu: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, -1e-40, -1e-30, -1e-7, 5e-324, -5e-324, -1e-300, 3.4e38, -3.4e38, -17.9, -18, -19, -39, -41, -800, 1e30, 1e300],
  elu: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, -1e-40, -1e-30, -1e-7, 5e-324, -5e-324, -1e-300, 3.4e38, -3.4e38, -17.9, -18, -19, -39, -41, -800, 1e30, 1e300],
  celu: [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, -1e-40, -1e-30, -1e-7, 5e-324, -5e-324, -1e-300, 3.4e38, -3.4e38, -13.4, -13.5, -14, -30, -31, -800, 1e30, 1e300],
};

describe.each(isas)('vector math on the %s path', (isa) => {
  const inputs32 = float32Inputs();

  it.each(Object.keys(FLOAT32_ULPS))('float32 %s is within its ulp bound over the whole float range', (op) => {
    native.setIsa(isa);
    const domain = FLOAT32_DOMAIN[op];
    const worst = worstError(op, domain ? inputs32.filter(domain) : inputs32, 'float32');
    if (process.env.SHOW_ULPS) console.log(isa, describeWorst(op, worst));
    expect(worst.ulps, describeWorst(op, worst)).toBeLessThanOrEqual(FLOAT32_ULPS[op]!);
  });

  it.each(Object.keys(FLOAT64_ULPS))('float64 %s is within a few ulps over every magnitude', (op) => {
    native.setIsa(isa);
    const domain = FLOAT64_DOMAIN[op];
    const worst = worstError(op, domain ? float64Inputs().filter(domain) : float64Inputs(), 'float64');
    expect(worst.ulps, describeWorst(op, worst)).toBeLessThanOrEqual(FLOAT64_ULPS[op]!);
  });

  it('keeps float32 tanh within [-1, 1] where its roundings come closest to 1 (|x| near 9)', () => {
    native.setIsa(isa);
    const xs = Float32Array.from({ length: 200001 }, (_, i) => 6 + (4 * i) / 200000);
    const x = native.createTensor(Float32Array.from([...xs, ...xs.map((v) => -v)]), [2 * xs.length], 'float32');
    const [out] = native.runKernel('tanh', [x]);
    const got = out!.read();
    const outside = got.findIndex((v) => Math.abs(v) > 1);
    expect(outside, `tanh(${x.read()[outside]}) = ${got[outside]}`).toBe(-1);
    x.dispose();
    out!.dispose();
  });

  it('gives the exact IEEE results at the edges (NaN, infinities, signed zeros, overflow, subnormals)', () => {
    native.setIsa(isa);
    for (const [op, inputs] of Object.entries(EDGES)) {
      for (const dtype of ['float32', 'float64'] as const) {
        if (dtype === 'float64' && !(op in FLOAT64_ULPS)) continue; // float64 erf and gelu are libm's, not vector math
        const Array_ = dtype === 'float32' ? Float32Array : Float64Array;
        const xs = Array_.from(inputs);
        const x = native.createTensor(xs, [xs.length], dtype);
        const got = Array.from(runOp(op, x, dtype));
        xs.forEach((input, i) => {
          const exact = REFERENCE[op]!(input);
          const want = dtype === 'float32' ? Math.fround(exact) : exact;
          // NaN, infinities and zeros exactly (sign included); finite results within the bound.
          const special = Number.isNaN(want) || !Number.isFinite(want) || want === 0;
          const bound = dtype === 'float32' ? FLOAT32_ULPS[op]! : FLOAT64_ULPS[op]!;
          const ok = special ? Object.is(got[i], want) : Math.abs(got[i]! - exact) <= bound * ulp(exact, dtype);
          expect(ok, `${dtype} ${op}(${show(input)}) = ${show(got[i]!)}, want ${show(want)}`).toBe(true);
        });
        x.dispose();
      }
    }
  });

  it('gives a value the same result wherever it sits in a row (register packs, single vectors, tail, single element)', () => {
    native.setIsa(isa);
    for (const op of Object.keys(REFERENCE)) {
      for (const dtype of ['float32', 'float64'] as const) {
        const values = [0.3, -0.7, 1.6, -2.9, 4.4, 0.02];
        // 150: two packs of 4 AVX-512 registers (float32), then a single vector, then a 6-element tail.
        const row = Array.from({ length: 150 }, (_, i) => values[i % values.length]!);
        const Array_ = dtype === 'float32' ? Float32Array : Float64Array;
        const x = native.createTensor(Array_.from(row), [row.length], dtype);
        const got = Array.from(runOp(op, x, dtype));
        for (let i = 0; i < row.length; i++) {
          expect(got[i], `${dtype} ${op} element ${i} differs from element ${i % values.length}`).toBe(got[i % values.length]);
        }
        const single = native.createTensor(Array_.from([values[2]!]), [], dtype);
        expect(runOp(op, single, dtype)[0], `${dtype} ${op} of a scalar`).toBe(got[2]);
        if (op in PARAMETERS) {
          // The parameter as a whole row (both operands strided) and x as the broadcast scalar.
          const parameters = native.createTensor(Array_.from(row, () => PARAMETERS[op]!), [row.length], dtype);
          const [full] = native.runKernel(op, [x, parameters]);
          expect(Array.from(full!.read()), `${dtype} ${op} with a row of parameters`).toEqual(got);
          const [broadcast] = native.runKernel(op, [single, parameters]);
          expect(Array.from(broadcast!.read()), `${dtype} ${op} of a scalar x against a row of parameters`).toEqual(row.map(() => got[2]));
          for (const t of [parameters, full!, broadcast!]) t.dispose();
        }
        for (const t of [x, single]) t.dispose();
      }
    }
  });
});
