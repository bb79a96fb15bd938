// K registers of one ISA's vector type V, used as one vector K times as wide.
//
// The functions of vector_math.h are long chains of dependent instructions (gelu:
// about 40, each waiting 3-4 cycles for the one before), so one vector in flight per
// loop iteration leaves most of the FMA units idle: the out-of-order window cannot
// hold enough iterations to overlap them. Evaluating the same function on Pack<V, K>
// emits every step once for each of the K registers before the next step, K
// independent chains side by side, and each lane still takes exactly the
// instructions it takes on V, so the results are bit-identical.
#pragma once
#include <cstddef>
#include <utility>

namespace keras::cpu {

template <class V, int K>
struct Pack;

// The pack the math kernels use: four registers where the ISA has 32 (AVX-512), two
// where it has 16 (AVX2, SSE), past which the chains' live values spill (measured:
// gelu on AVX2 is 1.4x slower at K = 4 than at K = 2).
template <class V>
using MathPack = Pack<V, V::kRegisters >= 32 ? 4 : 2>;

template <class V, int K>
struct Pack {
  using T = typename V::T;
  struct Reg {
    typename V::Reg r[K];
  };
  static constexpr int kWidth = V::kWidth * K;
  static constexpr int kRegisters = V::kRegisters;
  static constexpr bool kFusedMultiplyAdd = V::kFusedMultiplyAdd;

 private:
  using Lanes = std::make_integer_sequence<int, K>;
  // f(0), ..., f(K-1) in order: the braced list fixes the evaluation order.
  template <class F, int... I>
  static Reg map(F f, std::integer_sequence<int, I...>) {
    return Reg{{f(I)...}};
  }
  template <class F>
  static Reg map(F f) {
    return map(f, Lanes{});
  }
  // V's function f on register k of each of `regs`, for every k.
  template <class F, class... R>
  static Reg lanewise(F f, const R&... regs) {
    return map([&](int k) { return f(regs.r[k]...); });
  }

 public:
  static Reg zero() {
    return map([](int) { return V::zero(); });
  }
  static Reg set1(T x) {
    return map([x](int) { return V::set1(x); });
  }
  static Reg loadu(const T* p) {
    return map([p](int k) { return V::loadu(p + k * V::kWidth); });
  }
  static void storeu(T* p, Reg v) {
    for (int k = 0; k < K; ++k) V::storeu(p + k * V::kWidth, v.r[k]);
  }
  static Reg add(Reg a, Reg b) { return lanewise(V::add, a, b); }
  static Reg sub(Reg a, Reg b) { return lanewise(V::sub, a, b); }
  static Reg mul(Reg a, Reg b) { return lanewise(V::mul, a, b); }
  static Reg div(Reg a, Reg b) { return lanewise(V::div, a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return lanewise(V::fmadd, a, b, c); }
  static Reg sqrt(Reg a) { return lanewise(V::sqrt, a); }
  static Reg abs(Reg a) { return lanewise(V::abs, a); }
  static Reg pick_max(Reg a, Reg b) { return lanewise(V::pick_max, a, b); }
  static Reg pick_min(Reg a, Reg b) { return lanewise(V::pick_min, a, b); }
  static Reg clamp(Reg x, Reg lo, Reg hi) { return lanewise(V::clamp, x, lo, hi); }
  static Reg round_nearest(Reg a) { return lanewise(V::round_nearest, a); }
  static Reg scale_pow2(Reg p, Reg n) { return lanewise(V::scale_pow2, p, n); }
  static Reg select_less(Reg a, Reg b, Reg if_less, Reg otherwise) {
    return lanewise(V::select_less, a, b, if_less, otherwise);
  }
  static Reg copy_sign(Reg magnitude, Reg sign) { return lanewise(V::copy_sign, magnitude, sign); }
  static Reg split_exponent(Reg x, Reg* mantissa) {
    return map([&](int k) { return V::split_exponent(x.r[k], &mantissa->r[k]); });
  }
  static Reg at_most(Reg x, Reg hi) { return lanewise(V::at_most, x, hi); }
  static Reg at_least(Reg x, Reg lo) { return lanewise(V::at_least, x, lo); }
  static Reg lookup8(Reg index, const T* table) {
    return map([&](int k) { return V::lookup8(index.r[k], table); });
  }
  static Reg pow2_of_rounded(Reg rounded) { return lanewise(V::pow2_of_rounded, rounded); }
  // vector_math additions
  static constexpr bool kSplitsEveryFloat = V::kSplitsEveryFloat;
  static Reg split_exponent_ieee(Reg x, Reg* mantissa) {
    return map([&](int k) { return V::split_exponent_ieee(x.r[k], &mantissa->r[k]); });
  }
  static bool any_less(Reg a, Reg b) {
    bool any = false;
    for (int k = 0; k < K; ++k) any |= V::any_less(a.r[k], b.r[k]);
    return any;
  }
};

}  // namespace keras::cpu
