// Layer-normalization rows over an ISA tag, one template for float32 and float64.
// Statistics and sums are in Vec<double> lanes (float32 converted), as the js reference;
// float32 outputs (y, dx) are written from float lanes, a few ulps from double. Forward:
// sum, then sum of squared deviations (two passes over a row that is in cache), then one
// write pass. Backward: one pass for the row sums and the dgamma/dbeta partials, one write pass.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "norm.h"

namespace keras::cpu {
namespace norm_detail {

template <class V, class T>
typename V::Reg load(const T* p) {
  if constexpr (std::is_same_v<T, float>) return V::load_float(p);
  else return V::loadu(p);
}

template <class V, class T>
void store(T* p, typename V::Reg v) {
  if constexpr (std::is_same_v<T, float>) V::store_float(p, v);
  else V::storeu(p, v);
}

template <class V>
double hsum(typename V::Reg r) {
  alignas(64) double lanes[V::kWidth];
  V::storeu(lanes, r);
  double s = 0;
  for (int i = 0; i < V::kWidth; ++i) s += lanes[i];
  return s;
}

// Folds step(acc, k) over the full vectors of a row from *k on, with four independent
// accumulators (one would make the loop wait on the add latency), then merges them.
template <class V, class Acc, class Step, class Merge>
Acc reduce_row(int64_t n, int64_t* k, Acc zero, Step step, Merge merge) {
  constexpr int W = V::kWidth;
  Acc a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  for (; *k + 4 * W <= n; *k += 4 * W) {
    a0 = step(a0, *k);
    a1 = step(a1, *k + W);
    a2 = step(a2, *k + 2 * W);
    a3 = step(a3, *k + 3 * W);
  }
  for (; *k + W <= n; *k += W) a0 = step(a0, *k);
  return merge(merge(a0, a1), merge(a2, a3));
}

// x - mean in float lanes without losing the low bits of the double mean: mean = hi + lo as
// two floats, and x - hi is exact for x near the mean.
template <class VF>
struct FloatCentering {
  typename VF::Reg hi, lo;
  explicit FloatCentering(double mean) {
    const float h = float(mean);
    hi = VF::set1(h);
    lo = VF::set1(float(mean - double(h)));
  }
  typename VF::Reg operator()(const float* x) const { return VF::sub(VF::sub(VF::loadu(x), hi), lo); }
};

template <class Isa, class T>
void forward(const T* x, const T* gamma, const T* beta, T* y, int64_t n, double eps, bool rms, double* mean,
             double* rstd) {
  using V = typename Isa::template Vec<double>;
  constexpr int W = V::kWidth;
  using Reg = typename V::Reg;
  const auto add = [](Reg a, Reg b) { return V::add(a, b); };
  double m = 0;
  if (!rms) {
    int64_t k = 0;
    double s = hsum<V>(reduce_row<V>(n, &k, V::zero(), [&](Reg acc, int64_t i) { return V::add(acc, load<V>(x + i)); }, add));
    for (; k < n; ++k) s += double(x[k]);
    m = s / double(n);
  }
  const auto mv = V::set1(m);
  int64_t k = 0;
  double ss = hsum<V>(reduce_row<V>(n, &k, V::zero(), [&](Reg acc, int64_t i) {
    const Reg d = V::sub(load<V>(x + i), mv);
    return V::fmadd(d, d, acc);
  }, add));
  for (; k < n; ++k) ss += (double(x[k]) - m) * (double(x[k]) - m);
  const double r = 1 / std::sqrt(ss / double(n) + eps);
  const auto rv = V::set1(r);
  k = 0;
  if constexpr (std::is_same_v<T, float>) {
    // The output pass in float lanes (twice the width, no conversions): y stays within a few
    // float ulps of |xhat * gamma| + |beta|.
    using VF = typename Isa::template Vec<float>;
    const FloatCentering<VF> centered(m);
    const auto rf = VF::set1(float(r));
    for (; k + VF::kWidth <= n; k += VF::kWidth) {
      VF::storeu(y + k, VF::fmadd(VF::mul(centered(x + k), rf), VF::loadu(gamma + k), VF::loadu(beta + k)));
    }
  }
  for (; k + W <= n; k += W) {
    const auto xhat = V::mul(V::sub(load<V>(x + k), mv), rv);
    store<V>(y + k, V::fmadd(xhat, load<V>(gamma + k), load<V>(beta + k)));
  }
  for (; k < n; ++k) y[k] = T((double(x[k]) - m) * r * double(gamma[k]) + double(beta[k]));
  *mean = m;
  *rstd = r;
}

template <class Isa, class T>
void backward(const T* dy, const T* x, const T* gamma, double mean, double rstd, bool rms, T* dx, double* dgamma,
              double* dbeta, int64_t n) {
  using V = typename Isa::template Vec<double>;
  constexpr int W = V::kWidth;
  using Reg = typename V::Reg;
  struct Sums {
    Reg g, gx;  // sum(g), sum(g * xhat)
  };
  const auto mv = V::set1(mean), rv = V::set1(rstd);
  int64_t k = 0;
  const Sums sums = reduce_row<V>(n, &k, Sums{V::zero(), V::zero()}, [&](Sums acc, int64_t i) {
    const Reg d = load<V>(dy + i);
    const Reg xhat = V::mul(V::sub(load<V>(x + i), mv), rv);
    const Reg g = V::mul(d, load<V>(gamma + i));
    V::storeu(dgamma + i, V::fmadd(d, xhat, V::loadu(dgamma + i)));
    V::storeu(dbeta + i, V::add(V::loadu(dbeta + i), d));
    return Sums{V::add(acc.g, g), V::fmadd(g, xhat, acc.gx)};
  }, [](Sums a, Sums b) { return Sums{V::add(a.g, b.g), V::add(a.gx, b.gx)}; });
  double sum_g = hsum<V>(sums.g), sum_gx = hsum<V>(sums.gx);
  for (; k < n; ++k) {
    const double d = double(dy[k]), xhat = (double(x[k]) - mean) * rstd, g = d * double(gamma[k]);
    sum_g += g;
    sum_gx += g * xhat;
    dgamma[k] += d * xhat;
    dbeta[k] += d;
  }
  const double a = rms ? 0 : sum_g / double(n), c = sum_gx / double(n);
  const auto av = V::set1(a), cv = V::set1(c);
  k = 0;
  if constexpr (std::is_same_v<T, float>) {
    // dx in float lanes, as the forward output: within a few float ulps of
    // rstd * (|g| + |a| + |xhat * c|).
    using VF = typename Isa::template Vec<float>;
    const FloatCentering<VF> centered(mean);
    const auto rf = VF::set1(float(rstd)), af = VF::set1(float(a)), cf = VF::set1(float(c));
    for (; k + VF::kWidth <= n; k += VF::kWidth) {
      const auto xhat = VF::mul(centered(x + k), rf);
      const auto g = VF::mul(VF::loadu(dy + k), VF::loadu(gamma + k));
      VF::storeu(dx + k, VF::mul(rf, VF::sub(VF::sub(g, af), VF::mul(xhat, cf))));
    }
  }
  for (; k + W <= n; k += W) {
    const auto xhat = V::mul(V::sub(load<V>(x + k), mv), rv);
    const auto g = V::mul(load<V>(dy + k), load<V>(gamma + k));
    // rstd * (g - a - xhat * c)
    store<V>(dx + k, V::mul(rv, V::sub(V::sub(g, av), V::mul(xhat, cv))));
  }
  for (; k < n; ++k) {
    const double xhat = (double(x[k]) - mean) * rstd;
    dx[k] = T(rstd * (double(dy[k]) * double(gamma[k]) - a - xhat * c));
  }
}

}  // namespace norm_detail

template <class Isa>
constexpr NormIsaTable make_norm_table(const char* isa) {
  return NormIsaTable{isa,
                      {norm_detail::forward<Isa, float>, norm_detail::backward<Isa, float>},
                      {norm_detail::forward<Isa, double>, norm_detail::backward<Isa, double>}};
}

}  // namespace keras::cpu
