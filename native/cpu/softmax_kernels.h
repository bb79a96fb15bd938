// float32 softmax rows over an ISA tag: the max in float lanes, then exp(x - max)
// in float lanes (vector_math::exp, twice the lanes of double) summed in double,
// then one scaling pass in double lanes.
//
// Accuracy: x - max is rounded in float, which for |x - max| up to 104 would cost
// up to 104 * 2^-24 relative in the exp; its rounding error is recovered exactly
// (TwoSum) and applied as e^(d + err) = e^d (1 + err). So each exp is within 1.5
// float ulps (the exp's 1 and the correction's 0.5) and the sum, in double, within
// the weighted mean of those errors; with the final rounding a softmax output is at
// worst 3.5 ulps from the js result (which rounds once from double), and typically
// under 2, as the exps' errors average out in the sum.
#pragma once
#include <cmath>
#include <cstdint>

#include "simd/vector_math.h"
#include "softmax.h"

namespace keras::cpu {
namespace softmax_detail {

// NaN-propagating max (a NaN anywhere makes the row NaN, as Math.max does in js).
template <class Isa>
double row_max(const float* x, int64_t n) {
  using F = typename Isa::template Vec<float>;
  constexpr int W = F::kWidth;
  float m = -INFINITY;
  int64_t k = 0;
  if (n >= W) {
    auto acc = F::set1(-INFINITY);
    for (; k + W <= n; k += W) acc = F::pick_max(F::loadu(x + k), acc);
    alignas(64) float lanes[W];
    F::storeu(lanes, acc);
    for (int i = 0; i < W; ++i) m = (lanes[i] > m || lanes[i] != lanes[i]) ? lanes[i] : m;
  }
  for (; k < n; ++k) m = (x[k] > m || x[k] != x[k]) ? x[k] : m;
  return m;
}

// sum(exp(x - m)) in double; with `e` given, also stores each exp (a float) there.
template <class Isa>
double row_exp_sum(const float* x, int64_t n, double m, float* e) {
  using F = typename Isa::template Vec<float>;
  using D = typename Isa::template Vec<double>;
  constexpr int W = F::kWidth, kHalves = F::kWidth / D::kWidth;
  int64_t k = 0;
  double s = 0;
  // A row whose max is +-inf or NaN has no finite differences: the scalar steps give js's NaN/0.
  if (std::isfinite(m)) {
    const auto neg_m = F::set1(-float(m));  // m is the max of floats: exact
    const auto finite = F::set1(INFINITY);
    typename D::Reg acc[kHalves];
    for (int h = 0; h < kHalves; ++h) acc[h] = D::zero();
    alignas(64) float lanes[W];
    for (; k + W <= n; k += W) {
      const auto xv = F::loadu(x + k);
      const auto d = F::add(xv, neg_m);
      const auto b = F::sub(d, xv);
      auto err = F::add(F::sub(xv, F::sub(d, b)), F::sub(neg_m, b));
      err = F::select_less(F::abs(err), finite, err, F::zero());  // x = -inf: NaN error, exp 0 anyway
      const auto v = vector_math::exp<F>(d);
      const auto p = F::fmadd(v, err, v);
      if (e) F::storeu(e + k, p);
      F::storeu(lanes, p);
      for (int h = 0; h < kHalves; ++h) acc[h] = D::add(acc[h], D::load_float(lanes + h * D::kWidth));
    }
    for (int h = 1; h < kHalves; ++h) acc[0] = D::add(acc[0], acc[h]);
    alignas(64) double sums[D::kWidth];
    D::storeu(sums, acc[0]);
    for (int i = 0; i < D::kWidth; ++i) s += sums[i];
  }
  for (; k < n; ++k) {
    const double v = std::exp(double(x[k]) - m);
    s += v;
    if (e) e[k] = float(v);
  }
  return s;
}

template <class Isa>
void f32_row(const float* x, float* y, int64_t n, bool log) {
  using D = typename Isa::template Vec<double>;
  constexpr int W = D::kWidth;
  if (n == 0) return;
  const double m = row_max<Isa>(x, n);
  int64_t k = 0;
  if (log) {
    const double ls = std::log(row_exp_sum<Isa>(x, n, m, nullptr));
    const auto mv = D::set1(m), lv = D::set1(ls);
    for (; k + W <= n; k += W) D::store_float(y + k, D::sub(D::sub(D::load_float(x + k), mv), lv));
    for (; k < n; ++k) y[k] = float(double(x[k]) - m - ls);
    return;
  }
  const double inv = 1 / row_exp_sum<Isa>(x, n, m, y);
  const auto iv = D::set1(inv);
  for (; k + W <= n; k += W) D::store_float(y + k, D::mul(D::load_float(y + k), iv));
  for (; k < n; ++k) y[k] = float(double(y[k]) * inv);
}

template <class Isa>
double f32_lse(const float* x, int64_t n, double* m) {
  *m = row_max<Isa>(x, n);
  return std::log(row_exp_sum<Isa>(x, n, *m, nullptr));
}

}  // namespace softmax_detail

template <class Isa>
constexpr SoftmaxIsaTable make_softmax_table(const char* isa) {
  return SoftmaxIsaTable{isa, softmax_detail::f32_row<Isa>, softmax_detail::f32_lse<Isa>};
}

}  // namespace keras::cpu
