// Elementwise row functions (reductions: reduction_kernels.h), written once over an ISA tag
// (simd/simd_<isa>.h's Isa) and instantiated per ISA in elementwise_<isa>.cc.
//
// Semantics match the js reference backend exactly: each element is computed in
// double and stored the way a JS TypedArray stores a number (float32 rounds,
// int32 wraps, NaN/inf become 0). Where a SIMD path exists (float add, divide,
// maximum, sqrt, floor, sign, ...) it gives the same bits, because those operations are
// correctly rounded in float as in double; comparisons, predicates and int32 negative, abs,
// sign and relu are computed in the element type, with the same results. The exception:
// exp, expm1, log, log1p, rsqrt, tanh, sigmoid and float32 erf, gelu, silu, softplus, sin and cos run
// simd/vector_math.h in the tensor's own precision, a few ulps from the correctly rounded
// result (test/native/math_accuracy.test.ts; float64 rsqrt gives the same bits as before).
// The composite activations made primitives (hardSigmoid, hardSilu, softsign, selu,
// float32 logSigmoid; binary leakyRelu, elu, celu) run vector_math's forms too, which round
// in the tensor's type step by step as the composites did (their bits, not one rounding).
//
// Everything here is a template over the ISA or has internal linkage, so code
// compiled with one ISA's flags can never be linked in place of another's.
#pragma once
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "elementwise_table.h"
#include "simd/pack.h"
#include "simd/streaming.h"
#include "simd/vector_math.h"

namespace keras::cpu {
namespace elementwise_detail {

using kernels::BinaryOp;
using kernels::UnaryOp;

// JS ToInt32: truncate, wrap modulo 2^32; NaN and infinities give 0.
static inline int32_t to_int32(double d) {
  if (!(d > -2147483649.0 && d < 2147483648.0)) {
    if (!__builtin_isfinite(d)) return 0;
    double m = __builtin_fmod(__builtin_trunc(d), 4294967296.0);
    if (m < 0) m += 4294967296.0;
    if (m >= 2147483648.0) m -= 4294967296.0;
    return int32_t(m);
  }
  return int32_t(d);
}

template <class Out>
static inline Out store(double d) {
  if constexpr (std::is_same_v<Out, float>) return float(d);
  else if constexpr (std::is_same_v<Out, double>) return d;
  else if constexpr (std::is_same_v<Out, int32_t>) return to_int32(d);
  else return d != 0 ? 1 : 0;  // bool results are 0/1 (NaN counts as true, as in JS)
}

static constexpr double kTwoOverSqrtPi = 1.1283791670955126;

static inline double erfinv(double y) {
  if (__builtin_isnan(y) || y < -1 || y > 1) return __builtin_nan("");
  if (y == 1) return __builtin_inf();
  if (y == -1) return -__builtin_inf();
  // Giles' single-precision approximation, then Newton steps on erf.
  double w = -__builtin_log((1 - y) * (1 + y));
  double p;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = __builtin_sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  double x = p * y;
  for (int i = 0; i < 3; ++i) x -= (__builtin_erf(x) - y) / (kTwoOverSqrtPi * __builtin_exp(-x * x));
  return x;
}

static inline double apply(UnaryOp op, double a) {
  switch (op) {
    case UnaryOp::Negative: return -a;
    case UnaryOp::Abs: return __builtin_fabs(a);
    case UnaryOp::Sign: return a > 0 ? 1 : a < 0 ? -1 : a == 0 ? 0 : a;
    case UnaryOp::Square: return a * a;
    case UnaryOp::Round: return __builtin_nearbyint(a);  // half to even in the default rounding mode
    case UnaryOp::Exp: return __builtin_exp(a);
    case UnaryOp::Expm1: return __builtin_expm1(a);
    case UnaryOp::Log: return __builtin_log(a);
    case UnaryOp::Log1p: return __builtin_log1p(a);
    case UnaryOp::Sqrt: return __builtin_sqrt(a);
    case UnaryOp::Rsqrt: return 1 / __builtin_sqrt(a);
    case UnaryOp::Reciprocal: return 1 / a;
    case UnaryOp::Sin: return __builtin_sin(a);
    case UnaryOp::Cos: return __builtin_cos(a);
    case UnaryOp::Tan: return __builtin_tan(a);
    case UnaryOp::Arcsin: return __builtin_asin(a);
    case UnaryOp::Arccos: return __builtin_acos(a);
    case UnaryOp::Arctan: return __builtin_atan(a);
    case UnaryOp::Sinh: return __builtin_sinh(a);
    case UnaryOp::Cosh: return __builtin_cosh(a);
    case UnaryOp::Tanh: return __builtin_tanh(a);
    case UnaryOp::Arcsinh: return __builtin_asinh(a);
    case UnaryOp::Arccosh: return __builtin_acosh(a);
    case UnaryOp::Arctanh: return __builtin_atanh(a);
    case UnaryOp::Floor: return __builtin_floor(a);
    case UnaryOp::Ceil: return __builtin_ceil(a);
    case UnaryOp::Erf: return __builtin_erf(a);
    case UnaryOp::Erfinv: return erfinv(a);
    case UnaryOp::Sigmoid: {
      // Never exp of a large positive number: no overflow to inf/inf.
      if (a >= 0) return 1 / (1 + __builtin_exp(-a));
      const double e = __builtin_exp(a);
      return e / (1 + e);
    }
    case UnaryOp::Gelu:  // x Phi(x); erfc keeps the negative tail accurate
      return 0.5 * a * __builtin_erfc(-a * 0.7071067811865476);
    case UnaryOp::GeluDerivative: {  // its steps in double with libm erf and exp (the lanes take vector_math::gelu_derivative)
      const double cdf = (__builtin_erf(vector_math::rounded(a * 0.7071067811865476)) + 1) * 0.5;
      const double pdf = __builtin_exp(vector_math::rounded(vector_math::rounded(a * a) * -0.5)) * 0.3989422804014327;
      return cdf + vector_math::rounded(a * pdf);
    }
    case UnaryOp::GeluTanh: {  // x (1 + tanh(u)) / 2 = x sigmoid(2u)
      const double w = 1.5957691216057308 * (a + 0.044715 * a * a * a);
      return w >= 0 ? a / (1 + __builtin_exp(-w)) : a * __builtin_exp(w) / (1 + __builtin_exp(w));
    }
    case UnaryOp::Silu: {  // x sigmoid(x), sigmoid as above (-inf gives -inf * 0 = NaN, as the composite did)
      if (a >= 0) return a / (1 + __builtin_exp(-a));
      const double e = __builtin_exp(a);
      return a * e / (1 + e);
    }
    case UnaryOp::Softplus:  // max(x, 0) + log1p(e^-|x|): never exp of a positive number
      return a > 0 ? a + __builtin_log1p(__builtin_exp(-a)) : __builtin_log1p(__builtin_exp(a));
    case UnaryOp::Relu: return a > 0 || a != a ? a : 0;  // NaN stays NaN; -0 gives +0
    case UnaryOp::Relu6: return a > 6 ? 6 : a > 0 || a != a ? a : 0;  // as relu, then at most 6
    case UnaryOp::HardTanh: return a > 1 ? 1 : a < -1 ? -1 : a;  // NaN and -0 kept
    case UnaryOp::LogSigmoid:  // -softplus(-x) (float64; float32 runs vector_math)
      return a < 0 ? a - __builtin_log1p(__builtin_exp(a)) : -__builtin_log1p(__builtin_exp(-a));
    case UnaryOp::Isnan: return __builtin_isnan(a) ? 1 : 0;
    case UnaryOp::Isinf: return __builtin_isinf(a) ? 1 : 0;
    case UnaryOp::Isfinite: return __builtin_isfinite(a) ? 1 : 0;
    case UnaryOp::LogicalNot: return a != 0 ? 0 : 1;
    default: return a;
  }
}

static inline double apply(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Subtract: return a - b;
    case BinaryOp::Multiply: return a * b;
    case BinaryOp::Divide: return a / b;
    case BinaryOp::FloorDivide: return __builtin_floor(a / b);
    case BinaryOp::Mod: {  // numpy: the result takes the divisor's sign
      const double m = __builtin_fmod(a, b);
      return m != 0 && ((m < 0) != (b < 0)) ? m + b : m;
    }
    case BinaryOp::Power:
      // V8's Math.pow(a, 2) is a * a, correctly rounded (power(x, 2) vectorizes as that); glibc's
      // pow(a, 2.0) is 1 ulp off for about 1 random double in 2000 (and 1 int32 a in 44 past
      // 2^26.5, where the square rounds before ToInt32 wraps it).
      if (b == 2) return a * a;
      // JS Math.pow, unlike C pow, gives NaN for 1**NaN and (+-1)**(+-inf).
      if (__builtin_isnan(b)) return b;
      if (__builtin_fabs(a) == 1 && __builtin_isinf(b)) return __builtin_nan("");
      return __builtin_pow(a, b);
    case BinaryOp::Maximum: return a > b || a != a ? a : b;
    case BinaryOp::Minimum: return a < b || a != a ? a : b;
    case BinaryOp::Arctan2: return __builtin_atan2(a, b);
    // The activations' double forms (int32 operands only; floats run vector_math's in their own type).
    case BinaryOp::LeakyRelu: return a >= 0 ? a : a * b;
    case BinaryOp::Elu: return a > 0 ? a : b * __builtin_expm1(a < 0 || a != a ? a : 0);
    case BinaryOp::Celu: return a > 0 ? a : b * __builtin_expm1((a < 0 || a != a ? a : 0) / b);
    case BinaryOp::Equal: return a == b ? 1 : 0;
    case BinaryOp::NotEqual: return a != b ? 1 : 0;
    case BinaryOp::Less: return a < b ? 1 : 0;
    case BinaryOp::LessEqual: return a <= b ? 1 : 0;
    case BinaryOp::Greater: return a > b ? 1 : 0;
    case BinaryOp::GreaterEqual: return a >= b ? 1 : 0;
    case BinaryOp::LogicalAnd: return a != 0 && b != 0 ? 1 : 0;
    case BinaryOp::LogicalOr: return a != 0 || b != 0 ? 1 : 0;
    case BinaryOp::LogicalXor: return (a != 0) != (b != 0) ? 1 : 0;
    default: return a;
  }
}

constexpr bool bool_result(UnaryOp op) {
  return op == UnaryOp::Isnan || op == UnaryOp::Isinf || op == UnaryOp::Isfinite || op == UnaryOp::LogicalNot;
}
constexpr bool bool_result(BinaryOp op) { return op >= BinaryOp::Equal; }

template <class T, bool to_bool>
using ResultType = std::conditional_t<to_bool, uint8_t, T>;

// Operations whose SIMD form gives exactly the scalar bits.
template <class V>
static inline bool vector_unary(UnaryOp op, typename V::Reg x, typename V::Reg* out) {
  switch (op) {
    // x > 0 ? 1 : x < 0 ? -1 : x - x, which is +0 for either zero and x's NaN for a NaN.
    case UnaryOp::Sign:
      *out = V::select_less(V::zero(), x, V::set1(1), V::select_less(x, V::zero(), V::set1(-1), V::sub(x, x)));
      return true;
    case UnaryOp::Floor: *out = V::floor(x); return true;
    case UnaryOp::Ceil: *out = V::ceil(x); return true;
    case UnaryOp::Negative: *out = V::mul(x, V::set1(-1)); return true;
    case UnaryOp::Abs: *out = V::abs(x); return true;
    case UnaryOp::Square: *out = V::mul(x, x); return true;
    case UnaryOp::Sqrt: *out = V::sqrt(x); return true;
    case UnaryOp::Reciprocal: *out = V::div(V::set1(1), x); return true;
    case UnaryOp::Relu: *out = V::pick_max(x, V::zero()); return true;
    case UnaryOp::Relu6: *out = V::pick_min(V::pick_max(x, V::zero()), V::set1(6)); return true;
    case UnaryOp::HardTanh: *out = V::pick_min(V::pick_max(x, V::set1(-1)), V::set1(1)); return true;
    default: return false;
  }
}

constexpr bool has_vector_form(UnaryOp op) {
  return op == UnaryOp::Negative || op == UnaryOp::Abs || op == UnaryOp::Square || op == UnaryOp::Sqrt ||
         op == UnaryOp::Reciprocal || op == UnaryOp::Relu || op == UnaryOp::Relu6 || op == UnaryOp::Sign || op == UnaryOp::Floor ||
         op == UnaryOp::Ceil || op == UnaryOp::HardTanh;
}

// int32 ops whose double result always fits or wraps like int32 arithmetic: -(-2^31) and
// |-2^31| are 2^31, which ToInt32 wraps to -2^31 as unsigned negation does. (Not square: a * a
// past 2^53 is rounded in double before it wraps.) In int32 these loops vectorize.
constexpr bool has_int_form(UnaryOp op) {
  return op == UnaryOp::Negative || op == UnaryOp::Abs || op == UnaryOp::Sign || op == UnaryOp::Relu ||
         op == UnaryOp::Relu6;
}

template <UnaryOp OP>
static inline int32_t int_unary(int32_t a) {
  const uint32_t negated = 0u - uint32_t(a);
  if constexpr (OP == UnaryOp::Negative) return int32_t(negated);
  else if constexpr (OP == UnaryOp::Abs) return a < 0 ? int32_t(negated) : a;
  else if constexpr (OP == UnaryOp::Sign) return (a > 0) - (a < 0);
  else if constexpr (OP == UnaryOp::Relu6) return a > 6 ? 6 : a > 0 ? a : 0;
  else return a > 0 ? a : 0;
}

// The bool results in the element type itself: float, int32 and bool convert to double exactly
// and in order, so a < b, a != a, a == 0 ... read the same as apply's. Unlike apply's double
// forms these loops vectorize at the element's own width, a broadcast operand included.
template <UnaryOp OP, class T>
static inline uint8_t bool_in_type(T a) {
  if constexpr (OP == UnaryOp::LogicalNot) return a == 0;
  else if constexpr (!std::is_floating_point_v<T>) return OP == UnaryOp::Isfinite;
  else if constexpr (OP == UnaryOp::Isnan) return __builtin_isnan(a);
  else if constexpr (OP == UnaryOp::Isinf) return __builtin_isinf(a);  // (faster than a == inf | a == -inf)
  else return __builtin_isfinite(a);
}

template <BinaryOp OP, class T>
static inline uint8_t bool_in_type(T a, T b) {
  if constexpr (OP == BinaryOp::Equal) return a == b;
  else if constexpr (OP == BinaryOp::NotEqual) return a != b;
  else if constexpr (OP == BinaryOp::Less) return a < b;
  else if constexpr (OP == BinaryOp::LessEqual) return a <= b;
  else if constexpr (OP == BinaryOp::Greater) return a > b;
  else if constexpr (OP == BinaryOp::GreaterEqual) return a >= b;
  else if constexpr (OP == BinaryOp::LogicalAnd) return (a != 0) & (b != 0);
  else if constexpr (OP == BinaryOp::LogicalOr) return (a != 0) | (b != 0);
  else return (a != 0) ^ (b != 0);
}

// out[i] = f(x[i * stride]), the unit stride a loop of its own (the one that vectorizes).
template <class T, class Out, class F>
inline void map_row(int64_t n, const T* x, int64_t stride, Out* out, F f) {
  if (stride == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = f(x[i * stride]);
  }
}

// out[i] = bool_in_type(a[i * SA], b[i * SB]) with the strides (0 or 1) known at compile time, which
// the vectorizer needs (a runtime stride of 0 left greater(x, 0) scalar).
template <BinaryOp OP, int SA, int SB, class T>
void bool_run(int64_t n, const T* a, const T* b, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = bool_in_type<OP>(a[i * SA], b[i * SB]);
}

constexpr bool has_vector_form(BinaryOp op) { return op <= BinaryOp::Divide || op == BinaryOp::Maximum || op == BinaryOp::Minimum; }

template <class V, BinaryOp OP>
static inline typename V::Reg vector_binary(typename V::Reg a, typename V::Reg b) {
  if constexpr (OP == BinaryOp::Add) return V::add(a, b);
  else if constexpr (OP == BinaryOp::Subtract) return V::sub(a, b);
  else if constexpr (OP == BinaryOp::Multiply) return V::mul(a, b);
  else if constexpr (OP == BinaryOp::Divide) return V::div(a, b);
  else if constexpr (OP == BinaryOp::Maximum) return V::pick_max(a, b);
  else return V::pick_min(a, b);
}

// Ops computed by vector_math in the tensor's own precision (erf, gelu, silu, softplus,
// logSigmoid, sin and cos in float32 only; their float64 forms stay the scalar libm ones).
template <class T>
constexpr bool has_math_form(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Expm1 || op == UnaryOp::Log || op == UnaryOp::Log1p ||
         op == UnaryOp::Rsqrt || op == UnaryOp::Tanh || op == UnaryOp::Sigmoid || op == UnaryOp::HardSigmoid ||
         op == UnaryOp::HardSilu || op == UnaryOp::Softsign || op == UnaryOp::Selu || op == UnaryOp::GeluDerivative ||
         (std::is_same_v<T, float> && (op == UnaryOp::Erf || op == UnaryOp::Gelu || op == UnaryOp::GeluTanh ||
                                       op == UnaryOp::Silu || op == UnaryOp::Softplus || op == UnaryOp::LogSigmoid ||
                                       op == UnaryOp::Sin || op == UnaryOp::Cos));
}

template <class V, UnaryOp OP>
static inline typename V::Reg math_unary(typename V::Reg x) {
  if constexpr (OP == UnaryOp::Exp) return vector_math::exp<V>(x);
  else if constexpr (OP == UnaryOp::Expm1) return vector_math::expm1<V>(x);
  else if constexpr (OP == UnaryOp::Log) return vector_math::log<V>(x);
  else if constexpr (OP == UnaryOp::Log1p) return vector_math::log1p<V>(x);
  else if constexpr (OP == UnaryOp::Rsqrt) return vector_math::rsqrt<V>(x);
  else if constexpr (OP == UnaryOp::Sin) return vector_math::sin<V>(x);
  else if constexpr (OP == UnaryOp::Cos) return vector_math::cos<V>(x);
  else if constexpr (OP == UnaryOp::Tanh) return vector_math::tanh<V>(x);
  else if constexpr (OP == UnaryOp::Sigmoid) return vector_math::sigmoid<V>(x);
  else if constexpr (OP == UnaryOp::Gelu) return vector_math::gelu<V>(x);
  else if constexpr (OP == UnaryOp::GeluTanh) return vector_math::gelu_tanh<V>(x);
  else if constexpr (OP == UnaryOp::GeluDerivative) return vector_math::gelu_derivative<V>(x);
  else if constexpr (OP == UnaryOp::Silu) return vector_math::silu<V>(x);
  else if constexpr (OP == UnaryOp::Softplus) return vector_math::softplus<V>(x);
  else if constexpr (OP == UnaryOp::LogSigmoid) return vector_math::log_sigmoid<V>(x);
  else if constexpr (OP == UnaryOp::HardSigmoid) return vector_math::hard_sigmoid<V>(x);
  else if constexpr (OP == UnaryOp::HardSilu) return vector_math::hard_silu<V>(x);
  else if constexpr (OP == UnaryOp::Softsign) return vector_math::softsign<V>(x);
  else if constexpr (OP == UnaryOp::Selu) return vector_math::selu<V>(x);
  else return vector_math::erf<V>(x);
}

// The activations with a parameter operand, in the tensor's type (vector_math), every element
// (tails and broadcasts too) through the vector code.
constexpr bool has_math_form(BinaryOp op) {
  return op == BinaryOp::LeakyRelu || op == BinaryOp::Elu || op == BinaryOp::Celu;
}

template <class V, BinaryOp OP>
static inline typename V::Reg math_binary(typename V::Reg x, typename V::Reg parameter) {
  if constexpr (OP == BinaryOp::LeakyRelu) return vector_math::leaky_relu<V>(x, parameter);
  else if constexpr (OP == BinaryOp::Elu) return vector_math::elu<V>(x, parameter);
  else return vector_math::celu<V>(x, parameter);
}

// softplus keeps the register packs from memory too. Same-run A/B, 16M float32 from memory,
// avx512, 2 pool threads, medians of 60, packs vs one vector a step: 5.9 vs 6.8 ms, 5.0 vs 6.1,
// 6.0 vs 7.0, 7.1 vs 7.8 wall where the threads shared one CPU (a loaded machine); equal where
// both had one (3.95 vs 3.97, 4.62 vs 4.60, 4.56 vs 4.55). silu: no gain (5.5 vs 5.4, 4.1 vs
// 4.4); log1p: 0.88x on one CPU but 1.08x to 1.13x with two; gelu, sigmoid, exp, tanh: a loss.
// logSigmoid (softplus between two negations) measured the same way: packs 5.1 ms CPU vs 6.4
// (three runs of 61, loaded machine; wall 8.8 vs 10.3, 8.9 vs 10.4, 9.0 vs 8.0).
constexpr bool packs_from_memory(UnaryOp op) { return op == UnaryOp::Softplus || op == UnaryOp::LogSigmoid; }

// out[i] = OP(x[i]) for the whole vectors of P in [0, n); returns where it stopped.
// flatten: the math inlined whole (so a pack's K chains interleave in registers).
template <class P, UnaryOp OP, class T>
__attribute__((flatten)) int64_t math_contiguous(int64_t n, const T* x, T* out) {
  int64_t i = 0;
  for (; i + P::kWidth <= n; i += P::kWidth) P::storeu(out + i, math_unary<P, OP>(P::loadu(x + i)));
  return i;
}

// out[k] = vector(k), the vector of elements [k, k + V::kWidth), for the whole vectors of [0, n);
// by streaming stores from the first element aligned to the register (scalar(k) writes those
// before it). Returns where it stopped.
template <class V, bool kStream, class T, class Scalar, class Vector>
inline int64_t vector_run(int64_t n, T* out, Scalar scalar, Vector vector) {
  int64_t i = 0;
  if constexpr (kStream) {
    for (const int64_t head = StreamingStores<V>::head(out, n); i < head; ++i) scalar(i);
  }
  for (; i + V::kWidth <= n; i += V::kWidth) store_vector<V, kStream>(out + i, vector(i));
  return i;
}

}  // namespace elementwise_detail

// The math ops run on register packs (pack.h) where their data sits in the caches, and one
// vector a step where it streams from memory: the packs' long steps overlap memory reads badly.
// Same-run A/B, single thread, ns per 16 float32 (AVX-512, pack of 4 vs one vector), 4096 floats
// in L1: gelu 4.58 vs 4.77, exp 1.90 vs 2.20, erf 2.25 vs 2.52; 64 MiB from memory: gelu 6.71 vs
// 4.89, exp 4.54 vs 4.32, sigmoid 4.78 vs 4.43, tanh 3.89 vs 3.79 (two threads: gelu 7.19 vs 5.07).
// 256 KiB and 4 MiB (L2, L3) read like L1.
template <class Isa, class T, kernels::UnaryOp OP>
void unary_row(int64_t n, const void* x_data, int64_t x_stride, void* out_data, bool from_memory) {
  using namespace elementwise_detail;
  using Out = ResultType<T, bool_result(OP)>;
  const T* x = static_cast<const T*>(x_data);
  Out* out = static_cast<Out*>(out_data);
  int64_t i = 0;
  if constexpr (bool_result(OP)) return map_row(n, x, x_stride, out, [](T v) { return bool_in_type<OP>(v); });
  if constexpr (std::is_same_v<T, int32_t> && has_int_form(OP)) {
    return map_row(n, x, x_stride, out, [](int32_t v) { return int_unary<OP>(v); });
  }
  if constexpr (std::is_floating_point_v<T> && has_math_form<T>(OP)) {
    // Every element, strided or in the tail too, goes through the same vector code,
    // so a value's result never depends on where it sits.
    using V = typename Isa::template Vec<T>;
    constexpr int W = V::kWidth;
    if (x_stride == 1) {
      if (!from_memory || packs_from_memory(OP)) i = math_contiguous<MathPack<V>, OP>(n, x, out);
      i += math_contiguous<V, OP>(n - i, x + i, out + i);
    }
    alignas(64) T lanes[W];
    for (; i < n; i += W) {
      const int count = int(std::min<int64_t>(W, n - i));
      for (int k = 0; k < W; ++k) lanes[k] = k < count ? x[(i + k) * x_stride] : T(0);
      V::storeu(lanes, math_unary<V, OP>(V::loadu(lanes)));
      for (int k = 0; k < count; ++k) out[i + k] = lanes[k];
    }
    return;
  }
  if constexpr (std::is_floating_point_v<T> && has_vector_form(OP)) {
    using V = typename Isa::template Vec<T>;
    if (x_stride == 1) {
      for (; i + V::kWidth <= n; i += V::kWidth) {
        typename V::Reg r;
        vector_unary<V>(OP, V::loadu(x + i), &r);
        V::storeu(out + i, r);
      }
    }
  }
  for (; i < n; ++i) out[i] = store<Out>(apply(OP, double(x[i * x_stride])));
}

// stream: out is written by streaming stores where both operands are runs of memory too (an
// output larger than the caches; the same values as plain stores). Same-run A/B, 64 MiB outputs,
// two threads: float32 add 0.80x the time, float64 add 0.78x; with one operand broadcast, and for
// unary ops, no gain (0.94x to 1.18x), and the vector math ops got slower (gelu 1.3x).
template <class Isa, class T, kernels::BinaryOp OP>
void binary_row(int64_t n, const void* a_data, int64_t a_stride, const void* b_data, int64_t b_stride,
                void* out_data, bool stream) {
  using namespace elementwise_detail;
  using Out = ResultType<T, bool_result(OP)>;
  const T* a = static_cast<const T*>(a_data);
  const T* b = static_cast<const T*>(b_data);
  Out* out = static_cast<Out*>(out_data);
  const auto scalar = [&](int64_t k) { out[k] = store<Out>(apply(OP, double(a[k * a_stride]), double(b[k * b_stride]))); };
  int64_t i = 0;
  if constexpr (bool_result(OP)) {
    if (a_stride == 1 && b_stride == 1) return bool_run<OP, 1, 1>(n, a, b, out);
    if (a_stride == 1 && b_stride == 0) return bool_run<OP, 1, 0>(n, a, b, out);
    if (a_stride == 0 && b_stride == 1) return bool_run<OP, 0, 1>(n, a, b, out);
    for (; i < n; ++i) out[i] = bool_in_type<OP>(a[i * a_stride], b[i * b_stride]);
    return;
  }
  if constexpr (std::is_floating_point_v<T> && has_math_form(OP)) {
    using V = typename Isa::template Vec<T>;
    constexpr int W = V::kWidth;
    if (a_stride == 1 && b_stride == 0) {
      const auto vb = V::set1(*b);
      for (; i + W <= n; i += W) V::storeu(out + i, math_binary<V, OP>(V::loadu(a + i), vb));
    } else if (a_stride == 1 && b_stride == 1) {
      for (; i + W <= n; i += W) V::storeu(out + i, math_binary<V, OP>(V::loadu(a + i), V::loadu(b + i)));
    }
    alignas(64) T a_lanes[W];
    alignas(64) T b_lanes[W];
    for (; i < n; i += W) {
      const int count = int(std::min<int64_t>(W, n - i));
      for (int k = 0; k < W; ++k) {
        a_lanes[k] = k < count ? a[(i + k) * a_stride] : T(0);
        b_lanes[k] = k < count ? b[(i + k) * b_stride] : T(1);
      }
      V::storeu(a_lanes, math_binary<V, OP>(V::loadu(a_lanes), V::loadu(b_lanes)));
      for (int k = 0; k < count; ++k) out[i + k] = a_lanes[k];
    }
    return;
  }
  // x ** 2 with a broadcast exponent of 2 (power(x, 2)): apply's a * a, one multiply a lane.
  if constexpr (std::is_floating_point_v<T> && OP == BinaryOp::Power) {
    using V = typename Isa::template Vec<T>;
    if (a_stride == 1 && b_stride == 0 && *b == 2) {
      for (; i + V::kWidth <= n; i += V::kWidth) {
        const auto v = V::loadu(a + i);
        V::storeu(out + i, V::mul(v, v));
      }
    }
  }
  if constexpr (std::is_floating_point_v<T> && has_vector_form(OP)) {
    using V = typename Isa::template Vec<T>;
    constexpr int W = V::kWidth;
    if (a_stride == 1 && b_stride == 1) {
      const auto both = [&](int64_t k) { return vector_binary<V, OP>(V::loadu(a + k), V::loadu(b + k)); };
      if (stream) {
        i = vector_run<V, true>(n, out, scalar, both);
        StreamingStores<V>::fence();
      } else {
        i = vector_run<V, false>(n, out, scalar, both);
      }
    } else if (a_stride == 0 && b_stride == 1) {
      const auto va = V::set1(*a);
      for (; i + W <= n; i += W) V::storeu(out + i, vector_binary<V, OP>(va, V::loadu(b + i)));
    } else if (a_stride == 1 && b_stride == 0) {
      const auto vb = V::set1(*b);
      for (; i + W <= n; i += W) V::storeu(out + i, vector_binary<V, OP>(V::loadu(a + i), vb));
    }
  }
  for (; i < n; ++i) scalar(i);
}

// One run of where with strides known at compile time (each 0: a broadcast value, or 1:
// contiguous), so the select compiles to the ISA's vector blends; as a strided scalar loop, relu's
// where(x > 0, x, 0) took 2.8x a unary op. (Built with the baseline's SSE2 before, its time from
// memory was the same: [64,26,26,32] float32 0.19-0.23 ms either way.) Both values are loaded
// before the select (reads in bounds either way): a load under the condition is control flow,
// which keeps GCC from vectorizing.
template <class Isa, class T, int SC, int SA, int SB>
void where_row(int64_t n, const uint8_t* c, const void* a, const void* b, void* out) {
  const T* x = static_cast<const T*>(a);
  const T* y = static_cast<const T*>(b);
  T* o = static_cast<T*>(out);
  for (int64_t i = 0; i < n; ++i) {
    const T xv = x[i * SA], yv = y[i * SB];
    o[i] = c[i * SC] ? xv : yv;
  }
}

namespace elementwise_detail {

template <class Isa, class T>
constexpr void fill_where(WhereRowFn (&row)[kWhereStrides]) {
  row[0] = &where_row<Isa, T, 0, 0, 0>, row[1] = &where_row<Isa, T, 0, 0, 1>;
  row[2] = &where_row<Isa, T, 0, 1, 0>, row[3] = &where_row<Isa, T, 0, 1, 1>;
  row[4] = &where_row<Isa, T, 1, 0, 0>, row[5] = &where_row<Isa, T, 1, 0, 1>;
  row[6] = &where_row<Isa, T, 1, 1, 0>, row[7] = &where_row<Isa, T, 1, 1, 1>;
}

template <class Isa, size_t... I>
constexpr void fill_unary(ElementwiseTable& t, std::index_sequence<I...>) {
  ((t.unary[I][0] = &unary_row<Isa, float, UnaryOp(I)>, t.unary[I][1] = &unary_row<Isa, double, UnaryOp(I)>,
    t.unary[I][2] = &unary_row<Isa, int32_t, UnaryOp(I)>, t.unary[I][3] = &unary_row<Isa, uint8_t, UnaryOp(I)>),
   ...);
}

template <class Isa, size_t... I>
constexpr void fill_binary(ElementwiseTable& t, std::index_sequence<I...>) {
  ((t.binary[I][0] = &binary_row<Isa, float, BinaryOp(I)>, t.binary[I][1] = &binary_row<Isa, double, BinaryOp(I)>,
    t.binary[I][2] = &binary_row<Isa, int32_t, BinaryOp(I)>, t.binary[I][3] = &binary_row<Isa, uint8_t, BinaryOp(I)>),
   ...);
}

}  // namespace elementwise_detail

// Every (op, dtype) entry; constant-initialized, so building it runs no code.
template <class Isa>
constexpr ElementwiseTable make_elementwise_table() {
  using namespace elementwise_detail;
  ElementwiseTable t{};
  fill_unary<Isa>(t, std::make_index_sequence<kernels::kNumUnaryOps>{});
  fill_binary<Isa>(t, std::make_index_sequence<kernels::kNumBinaryOps>{});
  fill_where<Isa, float>(t.where[0]);
  fill_where<Isa, double>(t.where[1]);
  fill_where<Isa, int32_t>(t.where[2]);
  fill_where<Isa, uint8_t>(t.where[3]);
  return t;
}

}  // namespace keras::cpu
