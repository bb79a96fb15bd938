// float32 softmax rows over an ISA tag: max, then exp(x - max) with the
// elementwise exp in double lanes (sum in double), then one scaling pass.
// ISAs whose double vector lacks load_float (portable) run the same steps scalar.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "elementwise_kernels.h"
#include "softmax.h"

namespace keras::cpu {
namespace softmax_detail {

template <class V, class = void>
struct HasLoadFloat : std::false_type {};
template <class V>
struct HasLoadFloat<V, std::void_t<decltype(V::load_float(static_cast<const float*>(nullptr)))>> : std::true_type {};

template <class V>
double hmax(typename V::Reg r) {
  alignas(64) double lanes[V::kWidth];
  V::storeu(lanes, r);
  double m = lanes[0];
  for (int i = 1; i < V::kWidth; ++i) m = (lanes[i] > m || lanes[i] != lanes[i]) ? lanes[i] : m;
  return m;
}

template <class V>
double hsum(typename V::Reg r) {
  alignas(64) double lanes[V::kWidth];
  V::storeu(lanes, r);
  double s = 0;
  for (int i = 0; i < V::kWidth; ++i) s += lanes[i];
  return s;
}

// NaN-propagating max (a NaN anywhere makes the row NaN, as Math.max does in js).
template <class V>
double row_max(const float* x, int64_t n) {
  double m = -INFINITY;
  int64_t k = 0;
  if constexpr (HasLoadFloat<V>::value) {
    constexpr int W = V::kWidth;
    if (n >= W) {
      auto acc = V::set1(-INFINITY);
      for (; k + W <= n; k += W) acc = V::pick_max(V::load_float(x + k), acc);
      m = hmax<V>(acc);
    }
  }
  for (; k < n; ++k) m = (double(x[k]) > m || x[k] != x[k]) ? double(x[k]) : m;
  return m;
}

// sum(exp(x - m)); with `e` given, also stores each exp (rounded to float) there.
template <class V>
double row_exp_sum(const float* x, int64_t n, double m, float* e) {
  double s = 0;
  int64_t k = 0;
  if constexpr (HasLoadFloat<V>::value) {
    constexpr int W = V::kWidth;
    const auto mv = V::set1(m);
    auto acc = V::zero();
    for (; k + W <= n; k += W) {
      const auto v = elementwise_detail::exp_for_float<V>(V::sub(V::load_float(x + k), mv));
      acc = V::add(acc, v);
      if (e) V::store_float(e + k, v);
    }
    s = hsum<V>(acc);
  }
  for (; k < n; ++k) {
    const double v = std::exp(double(x[k]) - m);
    s += v;
    if (e) e[k] = float(v);
  }
  return s;
}

template <class V>
void f32_row(const float* x, float* y, int64_t n, bool log) {
  if (n == 0) return;
  const double m = row_max<V>(x, n);
  int64_t k = 0;
  if (log) {
    const double ls = std::log(row_exp_sum<V>(x, n, m, nullptr));
    if constexpr (HasLoadFloat<V>::value) {
      constexpr int W = V::kWidth;
      const auto mv = V::set1(m), lv = V::set1(ls);
      for (; k + W <= n; k += W) V::store_float(y + k, V::sub(V::sub(V::load_float(x + k), mv), lv));
    }
    for (; k < n; ++k) y[k] = float(double(x[k]) - m - ls);
    return;
  }
  const double inv = 1 / row_exp_sum<V>(x, n, m, y);
  if constexpr (HasLoadFloat<V>::value) {
    constexpr int W = V::kWidth;
    const auto iv = V::set1(inv);
    for (; k + W <= n; k += W) V::store_float(y + k, V::mul(V::load_float(y + k), iv));
  }
  for (; k < n; ++k) y[k] = float(double(y[k]) * inv);
}

template <class V>
double f32_lse(const float* x, int64_t n, double* m) {
  *m = row_max<V>(x, n);
  return std::log(row_exp_sum<V>(x, n, *m, nullptr));
}

}  // namespace softmax_detail

template <class Isa>
constexpr SoftmaxIsaTable make_softmax_table(const char* isa) {
  using V = typename Isa::template Vec<double>;
  return SoftmaxIsaTable{isa, softmax_detail::f32_row<V>, softmax_detail::f32_lse<V>};
}

}  // namespace keras::cpu
