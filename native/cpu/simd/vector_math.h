// Vectorized transcendental functions, written once over a vector type V
// (simd_<isa>.h's Vec<float> or Vec<double>) and evaluated in V's own precision:
// float32 lanes for float32 tensors (16 per AVX-512 register), float64 lanes for
// float64. Each is accurate to a few ulps of its type over its whole domain,
// subnormal results included, and gives the IEEE answers at the edges: NaN in,
// NaN out; +-inf, +-0 and overflow as the C library does (test/native/math_accuracy).
//
// Beside the lane arithmetic of Vec, the functions need: clamp, round_nearest,
// scale_pow2 (p * 2^n, rounded once), select_less, copy_sign, split_exponent,
// at_most, lookup8 (a permute of an 8-entry table held in a register), pow2_of_rounded.
// No branches and no memory lookups: every lane takes the same instructions, so the
// cost per element is fixed and a row's result does not depend on its neighbours. The one
// exception, sin and cos, sends lanes beyond their reduction's range to libm, lane by lane
// (with_scalar_lanes), which keeps the second property.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

namespace keras::cpu::vector_math {

// v held in a register from here: the compiler can neither fold the load that made it into
// each instruction that reads it (one load, not one per use) nor see through it (rounded).
template <class R>
inline R in_register(R v) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__("" : "+v"(v));
#elif defined(__aarch64__)
  __asm__("" : "+w"(v));
#endif
  return v;
}

// v as a value in a register: the compiler may not fuse the multiply that made it into a
// following add (the build's default -ffp-contract=fast would emit an FMA, rounding once where
// the specification rounds twice). For scalars and every ISA's vector registers.
template <class R, class = void>
struct IsPackReg : std::false_type {};
template <class R>
struct IsPackReg<R, std::void_t<decltype(std::declval<R&>().r)>> : std::true_type {};

template <class R>
inline R rounded(R v) {
  if constexpr (IsPackReg<R>::value) {  // a Pack's registers (pack.h), each
    for (auto& reg : v.r) reg = rounded(reg);
  } else {
    v = in_register(v);
  }
  return v;
}

template <class V>
using Reg = typename V::Reg;

template <class V>
constexpr bool kSingle = std::is_same_v<typename V::T, float>;

// c[0] + c[1] x + ... + c[N-1] x^(N-1), by Horner's rule (one fmadd per term).
template <class V, size_t N>
inline Reg<V> polynomial(Reg<V> x, const typename V::T (&c)[N]) {
  Reg<V> p = V::set1(c[N - 1]);
  for (size_t k = N - 1; k-- > 0;) p = V::fmadd(p, x, V::set1(c[k]));
  return p;
}

// 1/k! for k = kFirst, kFirst + 1, ..., kFirst + N - 1: Taylor coefficients of e^x - 1 and its
// relatives. Each k! is exact in T where used (float to 10!; double to 21!, whose odd part is
// below 2^53), so each entry is one correctly rounded division, as the literal 1.0 / 3628800.
template <class T, int kFirst, int N>
struct InverseFactorials {
  T c[N];
  constexpr InverseFactorials() : c{} {
    T factorial = 1;
    for (int k = 2; k < kFirst; ++k) factorial *= T(k);
    for (int i = 0; i < N; ++i) {
      if (kFirst + i > 1) factorial *= T(kFirst + i);
      c[i] = T(1) / factorial;
    }
  }
};

template <class V>
inline Reg<V> negate(Reg<V> x) {
  return V::sub(V::zero(), x);  // not for zeros (0 - 0 is +0); callers negate nonzero or |x|
}

// e^x. x = n ln2 + r with |r| <= ln2/2 (Cody-Waite: n * kLn2Hi is exact, so r
// carries one rounding), e^r by a polynomial, then scale_pow2 by n, which also
// rounds subnormal results once. Inputs are clamped to where the result is neither
// inf nor 0 any more, so n stays in scale_pow2's range; NaN passes every step.
// kPow2 != 0 gives e^x 2^kPow2 in one rounding, for callers whose e^x alone would be
// subnormal (gelu's tail). kClamp = false skips the clamp, for callers whose x is
// already inside it (NaN still passes). kHorner (float, for ISAs whose fmadd rounds
// once): e^r as one degree-6 polynomial in Horner form (e^r - 1 - r over r^2 fitted in
// relative error over |r| <= ln2/2 by iterated weighted least squares, rounded to float),
// 6 fmadds instead of 8 operations, within 0.73 ulp over 22M floats r of e^r (Cephes' form: 0.84; without fused fmadd Horner's last step
// rounds twice: 1.03). A different p for some r, so only callers that own their bits
// take it (softmax_kernels.h's log-sum rows: 0.90x the time of the cross-entropy in cache).
// n by the 1.5 * 2^23 add-and-subtract (fmadd, sub) instead of mul and round_nearest
// measured 1.015-1.022x there: the round stays.
template <class V, int kPow2 = 0, bool kClamp = true, bool kHorner = false>
inline Reg<V> exp(Reg<V> x) {
  using T = typename V::T;
  constexpr T kShift = T(kPow2 * 0.6931471805599453);
  if constexpr (kSingle<V>) {
    if constexpr (kClamp) x = V::clamp(x, V::set1(-104.0f - kShift), V::set1(89.0f - kShift));
    const Reg<V> n = V::round_nearest(V::mul(x, V::set1(1.44269504088896341f)));
    Reg<V> r = V::fmadd(n, V::set1(-0.693359375f), x);  // 9 significant bits: n * this is exact
    r = V::fmadd(n, V::set1(2.12194440e-4f), r);
    const Reg<V> scale = kPow2 == 0 ? n : V::add(n, V::set1(T(kPow2)));
    if constexpr (kHorner) {
      static constexpr T kH[] = {1.0f, 1.0f, 4.999999404e-1f, 1.666652113e-1f, 4.166838899e-2f, 8.368710056e-3f,
                                 1.381460694e-3f};
      return V::scale_pow2(polynomial<V>(r, kH), scale);
    }
    // Cephes expf: e^r = 1 + r + r^2 P(r), under 1 ulp on |r| <= ln2/2.
    static constexpr T kP[] = {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f,
                               8.3334519073e-3f, 1.3981999507e-3f, 1.9875691500e-4f};
    const Reg<V> p = V::add(V::fmadd(polynomial<V>(r, kP), V::mul(r, r), r), V::set1(1.0f));
    return V::scale_pow2(p, scale);
  } else {
    if constexpr (kClamp) x = V::clamp(x, V::set1(-746.0 - kShift), V::set1(710.0 - kShift));
    const Reg<V> n = V::round_nearest(V::mul(x, V::set1(1.4426950408889634)));
    // fdlibm's split of ln 2: the high part has 32 significant bits.
    Reg<V> r = V::fmadd(n, V::set1(-6.93147180369123816490e-01), x);
    r = V::fmadd(n, V::set1(-1.90821492927058770002e-10), r);
    // Taylor series to r^12: |r| <= ln2/2 leaves a remainder below 2e-17.
    static constexpr T kP[] = {1.0,         1.0,          1.0 / 2,       1.0 / 6,         1.0 / 24,
                               1.0 / 120,   1.0 / 720,    1.0 / 5040,    1.0 / 40320,     1.0 / 362880,
                               1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600};
    return V::scale_pow2(polynomial<V>(r, kP), kPow2 == 0 ? n : V::add(n, V::set1(T(kPow2))));
  }
}

// 1 / (1 + e^-x) as e/(1 + e) with e = e^x: one exp and one division, no select.
// x is clamped above to where sigmoid rounds to 1 (17.33 float, 37.4 double), so e
// stays finite and 1 + e rounds to e there; below, e underflows gradually, which
// gives the subnormal results. 2.40 ulps (float, every 13th float32, all ISAs), as
// the 1/(1 + e^-|x|) and e^-|x|/(1 + e^-|x|) pair it replaced (2.5 -> 2.2 ns per 16
// floats in cache, AVX-512 pack of 4; 3.8 -> 3.2 per 8 on AVX2).
template <class V>
inline Reg<V> sigmoid(Reg<V> x) {
  using T = typename V::T;
  const Reg<V> lo = V::set1(kSingle<V> ? T(-104) : T(-746));  // exp's own lower clamp
  const Reg<V> e = exp<V, 0, false>(V::clamp(x, lo, V::set1(kSingle<V> ? T(18) : T(40))));
  return V::div(e, V::add(V::set1(T(1)), e));
}

// 2^f for |f| <= 0.5 (float), f beside a small low part (see gelu_tanh):
// 1 + f P(f), P of degree 5 fitted to relative error (Lawson on Chebyshev nodes,
// 2e-9 before rounding the coefficients; under 1 ulp evaluated in float32).
template <class V>
inline Reg<V> exp2_reduced(Reg<V> f) {
  using T = typename V::T;
  static constexpr T kP[] = {6.931471825e-01f, 2.402264774e-01f, 5.550332367e-02f,
                             9.618437849e-03f, 1.339892624e-03f, 1.535332121e-04f};
  return V::fmadd(polynomial<V>(f, kP), f, V::set1(T(1)));
}

// tanh. float: one odd rational x P(x^2)/Q(x^2) on x clamped to [-9, 9] (tanh
// rounds to +-1 beyond 9.01), degrees 4 and 5 in x^2, P(0) = Q(0) = 1 (tiny x and -0
// come back exact). Fitted to relative error (Lawson on Chebyshev nodes, 0.02 ulp
// before rounding the coefficients to float32); the float32 evaluation (t = x^2,
// two Horner chains, x P, the quotient) dominates: 5.89 ulps over every float32 in
// |x| <= 10 (AVX-512, AVX2), 6.82 portable (no fmadd), worst near |x| = 8 where tanh
// is 1 - 3e-7; 2-3 ulps below |x| = 1. The exp form before (odd polynomial below
// 0.625, 1 - 2/(e^2|x| + 1) above, both computed) read 1.33 but cost twice as much:
// 3.8 -> 2.0 ns per 16 floats in cache (AVX-512 pack of 4), 5.3 -> 2.0 per 8 (AVX2).
// double: below |x| = 0.625 expm1(2x)/(expm1(2x) + 2) with expm1 by its Taylor
// series; above, 1 - 2/(e^2|x| + 1), which loses no accuracy there (tanh >= 0.55),
// with the sign copied back. Both are computed and one selected.
template <class V>
inline Reg<V> tanh(Reg<V> x) {
  using T = typename V::T;
  if constexpr (kSingle<V>) {
    static constexpr T kP[] = {1.0f, 1.378790885e-01f, 4.011730663e-03f, 3.165766611e-05f, 5.099460765e-08f};
    static constexpr T kQ[] = {1.0f, 4.712124169e-01f, 2.774921618e-02f, 4.213183711e-04f, 1.622716582e-06f,
                               7.420165593e-10f};
    const Reg<V> c = V::clamp(x, V::set1(-9.0f), V::set1(9.0f));  // NaN stays NaN, -0 stays -0
    const Reg<V> t = V::mul(c, c);
    const Reg<V> y = V::div(V::mul(c, polynomial<V>(t, kP)), polynomial<V>(t, kQ));
    // The roundings can carry y just past +-1 near |x| = 9 (as 1 - y^2 in tanh's
    // gradient must not see): clamped back.
    return V::clamp(y, V::set1(-1.0f), V::set1(1.0f));
  } else {
    const Reg<V> a = V::abs(x);
    const Reg<V> one = V::set1(1);
    // expm1(y)/y = sum y^k/(k+1)! to y^20 (|y| < 1.25: remainder below 1e-19).
    static constexpr InverseFactorials<T, 1, 21> kP;
    const Reg<V> y = V::add(x, x);
    const Reg<V> expm1 = V::mul(polynomial<V>(y, kP.c), y);
    const Reg<V> small = V::div(expm1, V::add(expm1, V::set1(2.0)));
    // tanh rounds to 1 beyond 19.06: clamping keeps e finite (exp's own clamp is not needed).
    const Reg<V> clamped = V::clamp(a, V::zero(), V::set1(T(20)));
    const Reg<V> e = exp<V, 0, false>(V::add(clamped, clamped));
    const Reg<V> large = V::sub(one, V::div(V::set1(2.0), V::add(e, one)));
    // tanh is odd: the sign of x, which also keeps -0.
    return V::copy_sign(V::select_less(a, V::set1(T(0.625)), small, large), x);
  }
}

// 1/sqrt(x): the square root, then a division, each correctly rounded in the lane
// precision. float64 gives the scalar path's bits exactly (it computes 1 / sqrt(x) in
// double too); float32 is within 1 ulp (two roundings). IEEE edges come from sqrt and
// the division: +-0 -> +-inf, +inf -> +0, negatives -> NaN, NaN -> NaN.
template <class V>
inline Reg<V> rsqrt(Reg<V> x) {
  return V::div(V::set1(typename V::T(1)), V::sqrt(x));
}

// e^x - 1. x = n ln2 + r with n = x / ln2 rounded toward zero, so r has the sign of x
// and |r| < ln2 (Cody-Waite, as exp: r = x - n ln2_hi is exact by Sterbenz, then one
// rounding for the low part). expm1(x) = 2^n (1 + p) - 1 = 2^n p + (2^n - 1) with
// p = expm1(r) = r + r^2 Q(r) by its Taylor series, so 2^n p and 2^n - 1 have the same
// sign and never cancel (rounding n to nearest gives r of the other sign: 2 p + 1 at
// x = 0.35 cancels to 0.41 and loses an ulp). n = 0 (|x| < ln2) gives p itself, so
// tiny and subnormal x come back exact; the sign of x is copied onto the result, which
// keeps -0. 2^n - 1 is exact up to n = 24 (float) and 53 (double); past, its rounding
// is below a quarter of an ulp of the result. x is clamped to where the result is -1
// after rounding (below) and inf (above); NaN passes every step.
template <class V>
inline Reg<V> expm1(Reg<V> x) {
  using T = typename V::T;
  Reg<V> c, n, r;
  if constexpr (kSingle<V>) {
    c = V::clamp(x, V::set1(-18.0f), V::set1(89.0f));
    // round(x / ln2 -+ 1/2): n = trunc(x / ln2) up to ties, where r ends at +-ln2 (still in range).
    n = V::round_nearest(V::sub(V::mul(c, V::set1(1.44269504088896341f)), V::copy_sign(V::set1(0.5f), c)));
    const Reg<V> r_hi = V::fmadd(n, V::set1(-0.693359375f), c);  // 9 significant bits: n * this is exact
    r = V::fmadd(n, V::set1(2.12194440e-4f), r_hi);
    // r's rounding (up to 2^-25 of the result once 2^n p dominates) is carried into p:
    // e^(r + r_lo) - 1 = p + r_lo (1 + p). 1.40 ulps without it, from x = 11.8.
    const Reg<V> r_lo = V::fmadd(n, V::set1(2.12194440e-4f), V::sub(r_hi, r));
    // expm1(r)/r^2 - 1/r = sum r^(k-2)/k!, k = 2..10: |r| < ln2 leaves 4e-10 of r.
    static constexpr InverseFactorials<T, 2, 9> kQ;
    Reg<V> p = V::fmadd(V::mul(r, r), polynomial<V>(r, kQ.c), r);
    p = V::add(p, V::fmadd(r_lo, p, r_lo));
    const Reg<V> t = V::scale_pow2(V::set1(1.0f), n);
    return V::copy_sign(V::fmadd(p, t, V::sub(t, V::set1(1.0f))), x);
  } else {
    c = V::clamp(x, V::set1(-40.0), V::set1(710.0));
    n = V::round_nearest(V::sub(V::mul(c, V::set1(1.4426950408889634)), V::copy_sign(V::set1(0.5), c)));
    r = V::fmadd(n, V::set1(-6.93147180369123816490e-01), c);
    r = V::fmadd(n, V::set1(-1.90821492927058770002e-10), r);
    // k = 2..18: |r| < ln2 leaves 1e-19 of r.
    static constexpr InverseFactorials<T, 2, 17> kQ;
    const Reg<V> p = V::fmadd(V::mul(r, r), polynomial<V>(r, kQ.c), r);
    const Reg<V> t = V::scale_pow2(V::set1(1.0), n);
    return V::copy_sign(V::fmadd(p, t, V::sub(t, V::set1(1.0))), x);
  }
}

// e^x - 1 for x <= 0 (+0, not -0) or NaN: elu's and selu's argument min(x, 0). expm1's steps less
// what x <= 0 leaves idle: no upper clamp; n = round(x / ln2 + 1/2) (trunc up to ties) in one
// fmadd; no sign copy; and no carry of r's rounding, which matters where 2^n p dominates the
// result (x > 0): below 0 it moves the result by 2^(n - 25) at most, under a quarter of an ulp
// of 2^n - 1. p = expm1(r) on r in (-ln2, 0] as r + r^2 Q(r), Q of degree 5 with Q(0) = 1/2
// exactly, fitted to the relative error of p (0.007 ulp before float evaluation), two fmadds
// fewer than Taylor's. Float only (double lanes take expm1): about half of expm1's operations.
template <class V>
inline Reg<V> expm1_nonpositive(Reg<V> x) {
  if constexpr (kSingle<V>) {
    const Reg<V> c = V::at_least(x, V::set1(-18.0f));  // -1 after rounding from here; NaN passes
    const Reg<V> n = V::round_nearest(V::fmadd(c, V::set1(1.44269504088896341f), V::set1(0.5f)));
    const Reg<V> r_hi = V::fmadd(n, V::set1(-0.693359375f), c);  // exact, as in expm1
    const Reg<V> r = V::fmadd(n, V::set1(2.12194440e-4f), r_hi);
    static constexpr float kQ[] = {0.5f, 0.16666647791862488f, 0.04166384041309357f, 0.008317986503243446f,
                                   0.001349884201772511f, 0.00015046345652081072f};
    const Reg<V> p = V::fmadd(V::mul(r, r), polynomial<V>(r, kQ), r);
    const Reg<V> t = V::scale_pow2(V::set1(1.0f), n);
    return V::fmadd(p, t, V::sub(t, V::set1(1.0f)));
  } else {
    return expm1<V>(x);
  }
}

// x = m 2^e (split_exponent's m in [1, 2) and e) recentred on 1: m in [sqrt(1/2), sqrt(2)).
// Returns e.
template <class V>
inline Reg<V> centre(Reg<V> e, Reg<V>* mantissa) {
  using T = typename V::T;
  const Reg<V> m = *mantissa;
  // Above sqrt(2), halve m and count one more power of two.
  const Reg<V> above = V::select_less(V::set1(T(1.41421356237309505)), m, V::set1(T(1)), V::zero());
  *mantissa = V::fmadd(V::mul(m, V::set1(T(-0.5))), above, m);  // m / 2 where above
  return V::add(e, above);
}

// e for x = m 2^e with m in [sqrt(1/2), sqrt(2)), and m, for positive normal x.
template <class V>
inline Reg<V> split_centred(Reg<V> x, Reg<V>* mantissa) {
  return centre<V>(V::split_exponent(x, mantissa), mantissa);
}

// e ln2 + log m (+ c, a correction far below log m's ulp: log(m (1 + c)) to first order)
// for m in [sqrt(1/2), sqrt(2)): log m by a polynomial in f = m - 1 (exact; float,
// Cephes logf) or 2 atanh((m-1)/(m+1)) (double); e ln2 added in two parts, both positive
// (float: 15 significant bits, so e ln2_hi is exact), so e = +-inf gives +-inf, not NaN.
template <class V, bool kCorrection = false>
inline Reg<V> log_centred(Reg<V> m, Reg<V> e, Reg<V> c = Reg<V>()) {
  using T = typename V::T;
  if constexpr (kSingle<V>) {
    const Reg<V> f = V::sub(m, V::set1(1.0f));
    const Reg<V> f2 = V::mul(f, f);
    static constexpr T kP[] = {3.3333331174e-1f, -2.4999993993e-1f, 2.0000714765e-1f,
                               -1.6668057665e-1f, 1.4249322787e-1f,  -1.2420140846e-1f,
                               1.1676998740e-1f,  -1.1514610310e-1f, 7.0376836292e-2f};
    Reg<V> y = V::mul(V::mul(f, f2), polynomial<V>(f, kP));
    if constexpr (kCorrection) y = V::add(y, c);
    y = V::fmadd(e, V::set1(1.4286067653e-06f), y);
    y = V::fmadd(f2, V::set1(-0.5f), y);
    return V::fmadd(e, V::set1(0.693145751953125f), V::add(f, y));
  } else {
    const Reg<V> s = V::div(V::sub(m, V::set1(1.0)), V::add(m, V::set1(1.0)));
    // atanh(s)/s = sum s^(2k)/(2k+1); |s| < 0.172, s^2 < 0.0295: 13 terms leave < 1e-19.
    static constexpr T kP[] = {1.0,      1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11, 1.0 / 13,
                               1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25};
    Reg<V> log_m = V::mul(V::add(s, s), polynomial<V>(V::mul(s, s), kP));
    if constexpr (kCorrection) log_m = V::add(log_m, c);
    const Reg<V> r = V::fmadd(e, V::set1(2.3190468138462996e-17), log_m);  // the part of ln 2 below
    return V::fmadd(e, V::set1(0.6931471805599453), r);
  }
}

// Natural log: log_centred of x's centred mantissa and exponent. Where split_exponent_ieee
// exists (AVX-512's getexp/getmant), that is all: it takes subnormals, and its exponent
// (+-inf for +-0 and +inf) and NaN mantissa (negatives, NaN) carry the IEEE results
// through (5.0 -> 2.9 ns per 16 floats in cache, pack of 4, standalone loop). Elsewhere
// subnormal x is scaled into the normal range first and the edges are selected after.
template <class V>
inline Reg<V> log(Reg<V> x) {
  using T = typename V::T;
  using Limits = std::numeric_limits<T>;
  if constexpr (V::kSplitsEveryFloat) {
    Reg<V> m;
    const Reg<V> e = centre<V>(V::split_exponent_ieee(x, &m), &m);
    return log_centred<V>(m, e);
  }
  constexpr T kSubnormalScale = kSingle<V> ? T(16777216.0) : T(18014398509481984.0);  // 2^24, 2^54
  constexpr T kSubnormalBits = kSingle<V> ? T(24) : T(54);
  const Reg<V> min_normal = V::set1(Limits::min());
  const Reg<V> scaled = V::select_less(x, min_normal, V::mul(x, V::set1(kSubnormalScale)), x);
  Reg<V> m;
  Reg<V> e = split_centred<V>(scaled, &m);
  e = V::select_less(x, min_normal, V::sub(e, V::set1(kSubnormalBits)), e);
  Reg<V> r = log_centred<V>(m, e);
  // Outside (0, inf): NaN stays NaN (log x < x, so pick_min gives x only for NaN),
  // +-0 gives -inf, +inf gives +inf, negatives (and -inf) give NaN.
  r = V::pick_min(x, r);
  r = V::select_less(V::abs(x), V::set1(Limits::denorm_min()), V::set1(-Limits::infinity()), r);
  r = V::select_less(V::set1(Limits::max()), x, V::set1(Limits::infinity()), r);
  return V::select_less(x, V::zero(), V::set1(Limits::quiet_NaN()), r);
}

// log(1 + x). u = 1 + x rounds; 1 + x = u (1 + c) with c = (x - (u - 1)) / u, whose
// numerator is exact where it matters (u - 1 is exact below u = 2^24, and x - (u - 1)
// is the rounding error of 1 + x), so log1p = log u + c to first order: log_centred of
// u with c as its correction. u is 0 (x = -1) or at least 2^-24 (float; 2^-53 double),
// never subnormal. Tiny and subnormal x: u = 1, c = x, result x exactly; the sign of
// x is copied onto the result (log1p has it), which keeps -0. NaN passes through c;
// x = -1 gives -inf, below it NaN, +inf gives +inf.
template <class V>
inline Reg<V> log1p(Reg<V> x) {
  using T = typename V::T;
  using Limits = std::numeric_limits<T>;
  const Reg<V> one = V::set1(T(1));
  const Reg<V> u = V::add(one, x);
  Reg<V> m;
  const Reg<V> e = split_centred<V>(u, &m);
  const Reg<V> c = V::div(V::sub(x, V::sub(u, one)), u);
  Reg<V> r = V::copy_sign(log_centred<V, true>(m, e, c), x);
  r = V::select_less(u, V::set1(Limits::epsilon() / 4), V::set1(-Limits::infinity()), r);
  r = V::select_less(V::set1(Limits::max()), x, V::set1(Limits::infinity()), r);
  return V::select_less(x, V::set1(T(-1)), V::set1(Limits::quiet_NaN()), r);
}

// a b - fl(a b), exactly: one fmadd, or where fmadd rounds twice (portable) Dekker's
// product of the halves from Veltkamp's split. For |a|, |b| far from overflow.
template <class V>
inline Reg<V> product_error(Reg<V> a, Reg<V> b, Reg<V> ab) {
  using T = typename V::T;
  if constexpr (V::kFusedMultiplyAdd) {
    return V::fmadd(a, b, negate<V>(ab));
  } else {
    const Reg<V> split = V::set1(kSingle<V> ? T(4097.0) : T(134217729.0));  // 2^12 + 1, 2^27 + 1
    const Reg<V> ca = V::mul(a, split), cb = V::mul(b, split);
    const Reg<V> a_hi = V::sub(ca, V::sub(ca, a)), b_hi = V::sub(cb, V::sub(cb, b));
    const Reg<V> a_lo = V::sub(a, a_hi), b_lo = V::sub(b, b_hi);
    const Reg<V> e = V::add(V::add(V::sub(V::mul(a_hi, b_hi), ab), V::mul(a_hi, b_lo)), V::mul(a_lo, b_hi));
    return V::add(e, V::mul(a_lo, b_lo));
  }
}

// 1.5 * 2^23: x + this rounds x (|x| < 2^22) to an integer, which the sum's low
// mantissa bits hold (the index lookup8 reads).
constexpr float kRoundingBias = 12582912.0f;

// c[0] + c[1] t + ... + c[N-1] t^(N-1) by Horner's rule, with each lane's
// coefficients c[k][i] of its interval i (the low three bits of index, see lookup8).
template <class V, size_t N>
inline Reg<V> interval_polynomial(Reg<V> t, Reg<V> index, const typename V::T (&c)[N][8]) {
  Reg<V> p = V::lookup8(index, c[N - 1]);
  for (size_t k = N - 1; k-- > 0;) p = V::fmadd(p, t, V::lookup8(index, c[k]));
  return p;
}

// erf (float), piecewise on eight intervals over [0, 3.93] (erf rounds to 1 from
// 3.92 on): with a = |x|, interval i holds the a with i = round(s a), s = 1.90625, and
// erf = m + m Q_i(t), t = s a - i in [-1/2, 1/2], Q_i a polynomial of degree 6 whose
// coefficients each lane picks from tables held in registers (lookup8). Below b = 1.5/s
// (intervals 0 and 1) m = a and Q = erf(a)/a - 1: the leading 2/sqrt(pi) comes as
// 1 + 0.128..., so its rounding to float costs nothing and tiny |x| keeps its relative
// accuracy (t itself need not be exact); above, m = b and Q = erf(a)/b - 1, below
// 0.27, so its roundings stay far below an ulp of erf. One evaluation for every lane
// instead of two branches and a select: 21 vector ops. Coefficients fitted (Lawson
// minimax, rounded to float one at a time) to the ulp of erf. Max error over every
// float32: 0.99 ulp (avx512, avx2), 1.35 portable (no fmadd: t rounds twice).
template <class V>
inline Reg<V> erf(Reg<V> x) {
  using T = typename V::T;
  static_assert(kSingle<V>, "erf is vectorized for float32 lanes only");
  // kQ[k][i]: coefficient k of interval i.
  alignas(32) static constexpr T kQ[7][8] = {
      {1.283791661e-01f, 3.288533166e-02f, 9.562192112e-02f, 2.377436161e-01f, 2.670182288e-01f,
       2.705692947e-01f, 2.708224654e-01f, 2.708330452e-01f},
      {1.323763854e-07f, -1.759667695e-01f, 2.502084076e-01f, 6.320083141e-02f, 9.206865914e-03f,
       7.735239924e-04f, 3.748022573e-05f, 1.047367164e-06f},
      {-1.035109982e-01f, -5.985255912e-02f, -1.377124041e-01f, -5.217788741e-02f, -1.013471186e-02f,
       -1.063721720e-03f, -6.217795453e-05f, -2.013033736e-06f},
      {2.397536446e-05f, 2.450428903e-02f, 2.756848373e-02f, 2.292423137e-02f, 6.594519131e-03f,
       9.052561945e-04f, 6.463770842e-05f, 2.486439143e-06f},
      {8.459326811e-03f, 1.985004870e-03f, 5.049255677e-03f, -4.673429765e-03f, -2.700078767e-03f,
       -5.313954898e-04f, -4.480199277e-05f, -2.247413477e-06f},
      {1.357861765e-04f, -1.934848726e-03f, -3.308470594e-03f, -3.812171344e-04f, 6.308382144e-04f,
       2.169134968e-04f, 2.711264278e-05f, 1.620873377e-06f},
      {-6.282678805e-04f, 3.602307333e-05f, 2.236619475e-04f, 4.325588816e-04f, -3.228977948e-05f,
       -4.454518057e-05f, -1.844122926e-05f, -7.827396757e-07f}};
  constexpr T kScale = 1.90625f;
  const Reg<V> a = V::at_most(V::abs(x), V::set1(3.93f));  // NaN stays NaN
  // round(s a) + 1.5 * 2^23: the float rounds s a to an integer and holds it in its low bits.
  const Reg<V> index = V::fmadd(a, V::set1(kScale), V::set1(kRoundingBias));
  const Reg<V> t = V::fmadd(a, V::set1(kScale), V::sub(V::set1(kRoundingBias), index));
  const Reg<V> m = V::at_most(a, V::set1(0.78688526f));  // the float above 1.5/s
  const Reg<V> q = interval_polynomial<V>(t, index, kQ);
  return V::copy_sign(V::fmadd(q, m, m), x);  // erf is odd; -0 stays -0
}

// gelu(x) = x Phi(x), Phi the standard normal CDF (Keras' approximate=False), from
// the lower tail T(a) = Phi(-a) = e^(-a^2/2) h(a), a = |x|: x Phi = x T below 0 and
// x - x T above, so the negative side keeps its relative accuracy (x (1 + erf) / 2 in
// float cancels against 1). Both sides are -a T plus x or 0: one evaluation, no select
// of two sides. h = Phi(-a) e^(a^2/2) (0.5 at 0, ~0.4/a far out) is one rational
// P(a)/Q(a) of degrees 4 and 5 on [0, 15] (past 15, x T underflows): 6e-9 relative,
// all coefficients positive (a table-driven polynomial needs degree 7 for that: h is
// far from polynomial near 0), evaluated as even + a odd parts in s = a^2 (whose
// rounding, shared by P and Q, cancels in their ratio). The exponent: e^(-a^2/2) = 2^k e^(-r2/2) with r2 = a^2 + 2k ln2 from one fmadd(a, a, z),
// z = 2k ln2 (high part, exact): a^2 is exact inside it, so the argument carries no
// rounding of a^2 (tens of ulps of e^(-a^2/2) far out otherwise), without the split
// of a^2 into two floats this took before. 23 multiplies or fmadds (the FMA pipes'
// work; was 24 and a few adds), and a division, which costs almost nothing here (it
// runs beside the FMA pipes). The order of the statements matters on AVX-512: GCC keeps
// it, and P/Q and the division first (its latency hidden under the exponent's chain)
// measured 4.2 ns per 16 floats in cache against 4.8 with the exponent first, as the
// old code had it (standalone loop, one thread, pack of 4, Zen 5 under load). Tried and no faster: 2^(j/8) from a table (a cubic for e^(-r2/2)
// instead of degree 6) and h from 16 table-driven polynomials without the division:
// each permute takes an FMA slot on Zen 5, and the table's rounding cost accuracy.
// Max error over every float32: see FLOAT32_ULPS in test/native/math_accuracy.test.ts.
template <class V>
inline Reg<V> gelu(Reg<V> x) {
  using T = typename V::T;
  static_assert(kSingle<V>, "gelu is vectorized for float32 lanes only");
  // 4 P and 4 Q, even + a odd parts in s; Q's even part is monic (s^2 + 11.76 s + 9.76), so
  // its evaluation starts with an add. Q(0) = 2 P(0): h(0) = 0.5 exactly (see the end).
  static constexpr T kPEven[] = {4 * 1.219835877e+00f, 4 * 4.488039017e-01f, 4 * 1.013148390e-02f};
  static constexpr T kPOdd[] = {4 * 1.071679711e+00f, 4 * 9.972959012e-02f};
  static constexpr T kQEven[] = {2 * kPEven[0], 4 * 2.941057682e+00f};  // + s^2
  static constexpr T kQOdd[] = {4 * 4.089936733e+00f, 4 * 1.150028229e+00f, 4 * 2.539558895e-02f};
  // -2^-64 e^(-r2/2), |r2| <= ln2 + 2^-15: e^r on |r| <= ln2/2 + 2^-16 by Lawson minimax with
  // float coefficients (3e-9 relative), times (-1/2)^i for r2 = -2r (exact).
  constexpr T kE = -0x1p-64f;  // see -a T below
  static constexpr T kExp[] = {kE, -0.5f * kE, 0.25f * 4.999999404e-01f * kE, -0.125f * 1.666652113e-01f * kE,
                               0.0625f * 4.166826233e-02f * kE, -0.03125f * 8.368670009e-03f * kE,
                               0.015625f * 1.382103423e-03f * kE};
  constexpr T kTwoLn2High = 1.38671875f;  // 9 significant bits: k times this is exact
  constexpr T kTwoLn2LowRatio = -4.24388880e-4f / kTwoLn2High;
  const Reg<V> a = V::at_most(V::abs(x), V::set1(15.0f));  // NaN stays NaN
  const Reg<V> s = V::mul(a, a);
  const Reg<V> p = V::fmadd(a, polynomial<V>(s, kPOdd), polynomial<V>(s, kPEven));
  const Reg<V> q = V::fmadd(a, polynomial<V>(s, kQOdd), V::fmadd(V::add(s, V::set1(kQEven[1])), s, V::set1(kQEven[0])));
  const Reg<V> h = V::div(p, q);
  // k = round(-s / (2 ln2)) in [-163, 0], held in the low bits of rounded as k + 191
  // (2^(k + 64) then comes from its bits: a shift, where scale_pow2 takes about ten ops
  // on AVX2 and SSE).
  constexpr T kBias = kRoundingBias + 191.0f;
  const Reg<V> rounded = V::fmadd(s, V::set1(-0.72134752044f), V::set1(kBias));
  const Reg<V> z = V::mul(V::sub(rounded, V::set1(kBias)), V::set1(kTwoLn2High));
  Reg<V> r2;
  if constexpr (V::kFusedMultiplyAdd) {
    r2 = V::fmadd(a, a, z);
  } else {
    // s + z is exact (Sterbenz: -z is 0 or between s/2 and 2s), then a^2's rounding error.
    r2 = V::add(V::add(s, z), product_error<V>(a, a, s));
  }
  r2 = V::fmadd(z, V::set1(kTwoLn2LowRatio), r2);  // + 2k times the low part of ln2
  const Reg<V> e = polynomial<V>(r2, kExp);
  // -a T = (a 2^(k + 64)) h (-2^-64 e^(-r2/2)): a 2^(k + 64) is exact and its product with
  // h normal, so the last product's one rounding is that of -a T, subnormal from a = 13.2
  // on. NaN stays NaN.
  const Reg<V> minus_a_tail = V::mul(V::mul(V::mul(a, V::pow2_of_rounded(rounded)), h), e);
  // x - a T above 0, where x * 1 keeps +inf; 0 - a T below (x * 0 = -0 keeps gelu(-0) =
  // -0 and the sign of an underflow, and makes NaN for x = -inf, as libm does). The
  // smallest subnormal takes the lower side too: its gelu rounds to 0, and -a T = -0
  // there (x - a T would round twice and give x).
  const Reg<V> upper_side = V::select_less(V::set1(std::numeric_limits<T>::denorm_min()), x, V::set1(1.0f), V::zero());
  return V::fmadd(x, upper_side, minus_a_tail);
}

// The tanh form of gelu (Keras' approximate=True), x (1 + tanh(u)) / 2 with
// u = sqrt(2/pi) (x + 0.044715 x^3), evaluated as x / (1 + e^(-2u)): the same
// function without the cancellation of 1 + tanh(u) for negative x, with one
// division. e^(-2u) = 2^v, v = -2u log2(e) = x (a1 + a3 x^2) with log2(e) folded
// into the constants (no multiply by log2(e), no Cody-Waite split): v = n + f with
// n integral, and 2^v = 2^n 2^(f + v_lo) with v_lo the rounding error of the last
// product, which thus costs nothing (it was up to 17 ulps of the result at x = -5,
// as it grows with |v|). In the negative tail the roundings of x^2 and a1 + a3 x^2 still
// grow with |2u|: 21.7 ulps for -5 <= x < 0 over every 5th float32 (AVX-512, AVX2;
// x sigmoid(2u) before: 30.4), 28.1 portable (34.6), worst near x = -5.
// 3.6 -> 2.5 ns per 16 floats in cache (AVX-512 pack of 4), 5.1 -> 3.4 per 8 (AVX2).
// x is clamped to [-12, 10] inside e^(-2u) only: beyond 10, 1 + e^(-2u) rounds to 1
// (result x, +inf included); below -10.06, e^(-2u) overflows and the result is -0
// (the true one is below 3e-38 there); -inf gives NaN as x (1 + tanh(u)) / 2 does.
template <class V>
inline Reg<V> gelu_tanh(Reg<V> x) {
  static_assert(kSingle<V>, "gelu_tanh is vectorized for float32 lanes only");
  // a1 = -2 sqrt(2/pi) log2(e), a3 = 0.044715 a1.
  const Reg<V> c = V::clamp(x, V::set1(-12.0f), V::set1(10.0f));  // NaN stays NaN
  const Reg<V> inner = V::fmadd(V::mul(c, c), V::set1(-1.029432416e-01f), V::set1(-2.302208185e+00f));
  const Reg<V> v = V::mul(c, inner);
  const Reg<V> v_lo = product_error<V>(c, inner, v);
  const Reg<V> n = V::round_nearest(v);  // v <= 205.6: scale_pow2's range
  const Reg<V> e = V::scale_pow2(exp2_reduced<V>(V::add(V::sub(v, n), v_lo)), n);
  return V::div(x, V::add(V::set1(1.0f), e));
}

// silu(x) = x sigmoid(x): x / (1 + e^-x) for x >= 0 and x e^x / (1 + e^x) below (never e^x
// of a large positive x), both from one e = e^-|x| 2^32 as one quotient, rounded once:
// x / ((2^32 + e) 2^-32) and x e / (2^32 + e) (powers of two scale exactly). The 2^32 keeps
// e normal down to x = -109, where silu itself rounds to 0 (e^x alone is subnormal from
// -87.3 and would lose its bits while x e^x is still normal). -|x| is bounded below only
// (-130: e rounds to 0 there, and n = -156 is in scale_pow2's range), so -inf gives -inf * 0 = NaN, as
// the js kernel and the composite x * sigmoid(x); +inf gives inf / 1; -0 gives -0 / 2.
// 3.22 ulps (FLOAT32_ULPS). 3.5 ns per 16 floats in L2 (AVX-512 pack of 4, one thread; exp
// 2.3, sigmoid 3.0); -|x| by copy_sign and one bound instead of abs, negate and exp's
// clamp took it from 4.1.
template <class V>
inline Reg<V> silu(Reg<V> x) {
  using T = typename V::T;
  static_assert(kSingle<V>, "silu is vectorized for float32 lanes only");
  constexpr T kScale = 0x1p32f;
  const Reg<V> one = V::set1(1.0f);
  const Reg<V> e = exp<V, 32, false>(V::at_least(V::copy_sign(x, V::set1(-1.0f)), V::set1(-130.0f)));
  const Reg<V> numerator = V::mul(x, V::select_less(x, V::zero(), e, one));
  const Reg<V> denominator = V::mul(V::add(V::set1(kScale), e), V::select_less(x, V::zero(), one, V::set1(1 / kScale)));
  return V::div(numerator, denominator);
}

// softplus(x) = log(1 + e^x) = max(x, 0) + log1p(t), t = e^-|x| in (0, 1]. log1p(t) =
// t + t^2 Q(t), Q of degree 8 fitted to the relative error of log1p on [0, 1] (Lawson on
// Chebyshev nodes, 0.09 ulp before rounding the coefficients to float32 one at a time; degree
// 7 left 0.55): the leading t is exact, so the evaluation's roundings stay below an ulp, and
// small t (x far below 0, subnormal results included) gives t, exp's own rounding of e^x.
// 1.79 ulps (2.22 portable, FLOAT32_ULPS). No exponent split, division or edge selects of the
// general log1p: 5.1 ns per 16 floats in L2 (AVX-512 pack of 4, one thread) against 2.3 for
// exp and 6.2 for log1p. max(x, 0) keeps NaN; -|x| is bounded below at exp's clamp (-104,
// where t rounds to 0), so +inf gives inf and -inf +0.
template <class V>
inline Reg<V> softplus(Reg<V> x) {
  using T = typename V::T;
  static_assert(kSingle<V>, "softplus is vectorized for float32 lanes only");
  static constexpr T kQ[] = {-4.999993145e-01f, 3.333046436e-01f, -2.495801896e-01f, 1.969210207e-01f,
                             -1.534488052e-01f, 1.066112816e-01f, -5.745723099e-02f, 2.008624189e-02f,
                             -3.290468594e-03f};
  const Reg<V> t = exp<V, 0, false>(V::at_least(V::copy_sign(x, V::set1(-1.0f)), V::set1(-104.0f)));
  const Reg<V> log1p_t = V::fmadd(V::mul(t, t), polynomial<V>(t, kQ), t);
  return V::add(V::at_least(x, V::zero()), log1p_t);
}

// The composite activations of ops.nn as one pass each, in V's own precision with the
// composite's own roundings (each step below is one correctly rounded operation of T, in the
// composite's order), so they give its bits exactly, but for the expm1 of elu, selu and celu
// (alpha > 0): expm1_nonpositive above, a rounding apart from the composite's expm1 (within
// the same ulp bounds). NaN propagates through every form.

// log(sigmoid(x)) = -softplus(-x) (negation is exact, so the bits of the three-pass form).
template <class V>
inline Reg<V> log_sigmoid(Reg<V> x) {
  using T = typename V::T;
  const Reg<V> minus_one = V::set1(T(-1));
  return V::mul(softplus<V>(V::mul(x, minus_one)), minus_one);
}

// relu6(x + 3) / 6: x + 3, clamped to [0, 6] (NaN kept), then / 6.
template <class V>
inline Reg<V> hard_sigmoid(Reg<V> x) {
  using T = typename V::T;
  const Reg<V> six = V::set1(T(6));
  return V::div(V::pick_min(V::pick_max(V::add(x, V::set1(T(3))), V::zero()), six), six);
}

// gelu's derivative Phi(x) + x phi(x), as the composite gelu gradient took it: (erf(x sqrt(1/2))
// + 1) / 2 + x (e^(-x^2/2) / sqrt(2 pi)), each step one rounding of T (rounded() keeps the
// compiler from fusing a product into the add after it), with the erf and exp the erf and exp
// ops run (float64 erf: libm's, lane by lane): its bits.
template <class V>
inline Reg<V> gelu_derivative(Reg<V> x) {
  using T = typename V::T;
  const Reg<V> scaled = rounded(V::mul(x, V::set1(T(0.7071067811865476))));
  Reg<V> erf_scaled;
  if constexpr (kSingle<V>) {
    erf_scaled = erf<V>(scaled);
  } else {
    alignas(64) T lanes[V::kWidth];
    V::storeu(lanes, scaled);
    for (T& lane : lanes) lane = std::erf(lane);
    erf_scaled = V::loadu(lanes);
  }
  const Reg<V> cdf = V::mul(V::add(erf_scaled, V::set1(T(1))), V::set1(T(0.5)));
  const Reg<V> exponent = rounded(V::mul(rounded(V::mul(x, x)), V::set1(T(-0.5))));
  const Reg<V> pdf = V::mul(exp<V>(exponent), V::set1(T(0.3989422804014327)));
  return V::add(cdf, rounded(V::mul(x, pdf)));
}

// x hard_sigmoid(x) (-inf gives -inf * 0 = NaN, as the composite).
template <class V>
inline Reg<V> hard_silu(Reg<V> x) {
  return V::mul(x, hard_sigmoid<V>(x));
}

// x / (1 + |x|) (+-inf gives NaN, as the composite).
template <class V>
inline Reg<V> softsign(Reg<V> x) {
  using T = typename V::T;
  return V::div(x, V::add(V::abs(x), V::set1(T(1))));
}

// x >= 0 ? x : slope x (-0 stays -0).
template <class V>
inline Reg<V> leaky_relu(Reg<V> x, Reg<V> slope) {
  return V::select_less(x, V::zero(), V::mul(x, slope), x);
}

// x > 0 ? x : alpha expm1(min(x, 0)); min(x, 0) keeps expm1 from overflowing in the unused
// lanes, and min(-0, 0) = +0 makes elu(-0) = +0 as the composite.
template <class V>
inline Reg<V> elu(Reg<V> x, Reg<V> alpha) {
  const Reg<V> below = V::mul(expm1_nonpositive<V>(V::pick_min(x, V::zero())), alpha);
  return V::select_less(V::zero(), x, x, below);
}

// x > 0 ? x : alpha expm1(min(x, 0) / alpha). Where every lane's alpha is positive (or NaN),
// the argument is <= 0 (+0, not -0) or NaN: expm1_nonpositive; else expm1 (a negative alpha
// makes it positive). alpha is one broadcast value almost always, so the branch is predicted.
template <class V>
inline Reg<V> celu(Reg<V> x, Reg<V> alpha) {
  const Reg<V> argument = V::div(V::pick_min(x, V::zero()), alpha);
  Reg<V> e;
  if constexpr (kSingle<V>) {
    e = V::any_less(alpha, V::set1(1e-45f)) ? expm1<V>(argument) : expm1_nonpositive<V>(argument);
  } else {
    e = expm1<V>(argument);
  }
  return V::select_less(V::zero(), x, x, V::mul(e, alpha));
}

// scale elu(x, alpha) with the self-normalizing constants (ops.nn.selu's, rounded to T).
template <class V>
inline Reg<V> selu(Reg<V> x) {
  using T = typename V::T;
  return V::mul(elu<V>(x, V::set1(T(1.6732632423543772))), V::set1(T(1.0507009873554805)));
}

// r with the lanes where |x| > limit (inf and NaN too) replaced by scalar(x) in double,
// rounded to T (the scalar path's own result), for the range a vector reduction does not
// cover. Lane by lane, so a value's result never depends on its neighbours; the check is
// one compare per vector, and the rest stays out of line.
template <class V, class Scalar>
__attribute__((noinline, cold)) Reg<V> scalar_lanes(Reg<V> x, Reg<V> r, typename V::T limit, Scalar scalar) {
  using T = typename V::T;
  alignas(64) T xs[V::kWidth], rs[V::kWidth];
  V::storeu(xs, x);
  V::storeu(rs, r);
  for (int i = 0; i < V::kWidth; ++i) {
    if (!(xs[i] >= -limit && xs[i] <= limit)) rs[i] = T(scalar(double(xs[i])));
  }
  return V::loadu(rs);
}

template <class V, class Scalar>
inline Reg<V> with_scalar_lanes(Reg<V> x, Reg<V> r, typename V::T limit, Scalar scalar) {
  if (__builtin_expect(!V::any_less(V::set1(limit), V::abs(x)), 1)) return r;
  return scalar_lanes<V>(x, r, limit, scalar);
}

// sin (kCos = false) or cos (float). a = |x| = n pi/2 + r, n = round(a 2/pi), |r| <= pi/4,
// with pi/2 in three parts (Cephes sinf's, doubled: n times the first two is exact for
// n < 2^13, which limits the reduction to |x| <= kSinCosLimit; lanes beyond, inf included,
// take the scalar libm path, see with_scalar_lanes). sin r and cos r by Cephes sinf/cosf's
// polynomials, then the quadrant n mod 4 picks +-sin r or +-cos r: A s + B c with A, B in
// {0, +-1} looked up from n's low bits (lookup8), so the pick is exact. sin is odd: its sign
// comes back by a multiply by +-1, which keeps -0; NaN passes every step.
constexpr float kSinCosLimit = 8192.0f;
constexpr float kSinCosLimitPortable = 16.0f;

template <class V, bool kCos>
inline Reg<V> sin_or_cos(Reg<V> x) {
  using T = typename V::T;
  static_assert(kSingle<V>, "sin and cos are vectorized for float32 lanes only");
  const Reg<V> a = V::abs(x);
  const Reg<V> n = V::round_nearest(V::mul(a, V::set1(0.636619772367581343f)));
  Reg<V> r;
  if constexpr (V::kFusedMultiplyAdd) {
    // pi/2 = C1 + C2 + C3 to 2^-76, each C a float: fmadd takes n C exactly.
    r = V::fmadd(n, V::set1(-1.570796371e+00f), a);
    r = V::fmadd(n, V::set1(4.371138829e-08f), r);
    r = V::fmadd(n, V::set1(1.715124510e-15f), r);
  } else {
    // Four parts, the first three of 8, 11 and 12 significant bits (Cephes' first two), so
    // their products are exact; the last one's rounding is far below an ulp for n <= 10.
    r = V::fmadd(n, V::set1(-1.5703125f), a);
    r = V::fmadd(n, V::set1(-4.837512969970703125e-4f), r);
    r = V::fmadd(n, V::set1(-7.549533620477e-08f), r);
    r = V::fmadd(n, V::set1(-2.563344068257e-12f), r);
  }
  const Reg<V> r2 = V::mul(r, r);
  static constexpr T kS[] = {-1.6666654611e-1f, 8.3321608736e-3f, -1.9515295891e-4f};
  static constexpr T kC[] = {4.166664568298827e-2f, -1.388731625493765e-3f, 2.443315711809948e-5f};
  const Reg<V> s = V::fmadd(V::mul(r, r2), polynomial<V>(r2, kS), r);
  const Reg<V> c = V::fmadd(V::mul(r2, r2), polynomial<V>(r2, kC), V::fmadd(r2, V::set1(-0.5f), V::set1(1.0f)));
  // Quadrant q = n mod 4: sin = s, c, -s, -c; cos = c, -s, -c, s (A the factor of s, B of c).
  alignas(32) static constexpr T kA[2][8] = {{1, 0, -1, 0, 1, 0, -1, 0}, {0, -1, 0, 1, 0, -1, 0, 1}};
  alignas(32) static constexpr T kB[2][8] = {{0, 1, 0, -1, 0, 1, 0, -1}, {1, 0, -1, 0, 1, 0, -1, 0}};
  const Reg<V> index = V::add(n, V::set1(kRoundingBias));
  Reg<V> y = V::fmadd(V::lookup8(index, kA[kCos]), s, V::mul(V::lookup8(index, kB[kCos]), c));
  if constexpr (!kCos) y = V::mul(y, V::copy_sign(V::set1(1.0f), x));
  return with_scalar_lanes<V>(x, y, V::kFusedMultiplyAdd ? kSinCosLimit : kSinCosLimitPortable, [](double v) { return kCos ? std::cos(v) : std::sin(v); });
}

template <class V>
inline Reg<V> sin(Reg<V> x) {
  return sin_or_cos<V, false>(x);
}

template <class V>
inline Reg<V> cos(Reg<V> x) {
  return sin_or_cos<V, true>(x);
}

}  // namespace keras::cpu::vector_math
