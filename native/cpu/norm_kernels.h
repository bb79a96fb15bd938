// Layer-normalization rows over an ISA tag, one template for float32 and float64.
// Statistics and sums are in Vec<double> lanes (float32 converted), as the js reference;
// float32 outputs (y, dx) are written from float lanes, a few ulps from double. Forward:
// the row's moments (one shifted pass for float32, two passes for float64), then one
// write pass. Backward: one pass over a block of rows for their sums and the dgamma/dbeta
// partials, then one write pass per row.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "norm.h"
#include "norm_simd.h"

namespace keras::cpu {
namespace norm_detail {

using norm_simd::hsum;
using norm_simd::load;
using norm_simd::reduce_run;
using norm_simd::shifted_sums;
using norm_simd::store;

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
  double m = 0, var;
  if (std::is_same_v<T, float> && !rms && n > 0) {
    // float32: one pass for the sums of d = x - x[0] and d^2 in double; var = E[d^2] - E[d]^2
    // then loses about n double ulps relative to var at most (x[0] is in the row, so
    // (mean - x[0])^2 <= n * var), far below a float32 ulp.
    // A non-finite x[0] makes the row's statistics inf/NaN anyway; shifting by 0 keeps the js kernel's inf mean.
    const double shift = std::isfinite(double(x[0])) ? double(x[0]) : 0.0;
    double s1, s2;
    shifted_sums<V>(x, n, shift, &s1, &s2);
    const double e1 = s1 / double(n);
    m = shift + e1;
    var = s2 / double(n) - e1 * e1;
    if (var < 0) var = 0;  // rounding of a constant row; NaN stays NaN
  } else {
    // float64 (and rms): the mean, then the mean of squared deviations, as the js kernel.
    if (!rms) {
      int64_t k = 0;
      double s = hsum<V>(reduce_run<V>(n, &k, V::zero(), [&](Reg acc, int64_t i) { return V::add(acc, load<V>(x + i)); }, add));
      for (; k < n; ++k) s += double(x[k]);
      m = s / double(n);
    }
    const auto mv = V::set1(m);
    int64_t k = 0;
    double ss = hsum<V>(reduce_run<V>(n, &k, V::zero(), [&](Reg acc, int64_t i) {
      const Reg d = V::sub(load<V>(x + i), mv);
      return V::fmadd(d, d, acc);
    }, add));
    for (; k < n; ++k) ss += (double(x[k]) - m) * (double(x[k]) - m);
    var = ss / double(n);
  }
  const double r = 1 / std::sqrt(var + eps);
  const auto rv = V::set1(r), mv = V::set1(m);
  int64_t k = 0;
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

// dx of one row from its sums a = mean(g) (0 for rms) and c = mean(g * xhat).
template <class Isa, class T>
void write_dx(const T* dy, const T* x, const T* gamma, double mean, double rstd, double a, double c, T* dx, int64_t n) {
  using V = typename Isa::template Vec<double>;
  constexpr int W = V::kWidth;
  int64_t k = 0;
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
  const auto mv = V::set1(mean), rv = V::set1(rstd), av = V::set1(a), cv = V::set1(c);
  for (; k + W <= n; k += W) {
    const auto xhat = V::mul(V::sub(load<V>(x + k), mv), rv);
    const auto g = V::mul(load<V>(dy + k), load<V>(gamma + k));
    store<V>(dx + k, V::mul(rv, V::sub(V::sub(g, av), V::mul(xhat, cv))));
  }
  for (; k < n; ++k) {
    const double xhat = (double(x[k]) - mean) * rstd;
    dx[k] = T(rstd * (double(dy[k]) * double(gamma[k]) - a - xhat * c));
  }
}

// R consecutive rows (stride n) at once: each vector of gamma, dgamma and dbeta is loaded and
// stored once for the R rows, and the R rows' sums are independent add chains.
template <class Isa, class T, int R>
void backward_block(const T* dy, const T* x, const T* gamma, const double* mean, const double* rstd, bool rms, T* dx,
                    double* dgamma, double* dbeta, int64_t n) {
  using V = typename Isa::template Vec<double>;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  Reg mv[R], rv[R], sum_g[R], sum_gx[R];
  for (int j = 0; j < R; ++j) {
    mv[j] = V::set1(mean[j]);
    rv[j] = V::set1(rstd[j]);
    sum_g[j] = sum_gx[j] = V::zero();
  }
  int64_t k = 0;
  for (; k + W <= n; k += W) {
    const Reg gm = load<V>(gamma + k);
    Reg dg = V::loadu(dgamma + k), db = V::loadu(dbeta + k);
    for (int j = 0; j < R; ++j) {
      const Reg d = load<V>(dy + j * n + k);
      const Reg xhat = V::mul(V::sub(load<V>(x + j * n + k), mv[j]), rv[j]);
      const Reg g = V::mul(d, gm);
      sum_g[j] = V::add(sum_g[j], g);
      sum_gx[j] = V::fmadd(g, xhat, sum_gx[j]);
      dg = V::fmadd(d, xhat, dg);
      db = V::add(db, d);
    }
    V::storeu(dgamma + k, dg);
    V::storeu(dbeta + k, db);
  }
  double sg[R], sgx[R];
  for (int j = 0; j < R; ++j) {
    sg[j] = hsum<V>(sum_g[j]);
    sgx[j] = hsum<V>(sum_gx[j]);
  }
  for (; k < n; ++k) {
    for (int j = 0; j < R; ++j) {
      const double d = double(dy[j * n + k]), xhat = (double(x[j * n + k]) - mean[j]) * rstd[j], g = d * double(gamma[k]);
      sg[j] += g;
      sgx[j] += g * xhat;
      dgamma[k] += d * xhat;
      dbeta[k] += d;
    }
  }
  for (int j = 0; j < R; ++j) {
    const double a = rms ? 0 : sg[j] / double(n), c = sgx[j] / double(n);
    write_dx<Isa, T>(dy + j * n, x + j * n, gamma, mean[j], rstd[j], a, c, dx + j * n, n);
  }
}

template <class Isa, class T>
void backward(const T* dy, const T* x, const T* gamma, const double* mean, const double* rstd, int64_t rows, bool rms,
              T* dx, double* dgamma, double* dbeta, int64_t n) {
  int64_t r = 0;
  for (; r + kGradRows <= rows; r += kGradRows) {
    backward_block<Isa, T, kGradRows>(dy + r * n, x + r * n, gamma, mean + r, rstd + r, rms, dx + r * n, dgamma, dbeta, n);
  }
  for (; r < rows; ++r) backward_block<Isa, T, 1>(dy + r * n, x + r * n, gamma, mean + r, rstd + r, rms, dx + r * n, dgamma, dbeta, n);
}

}  // namespace norm_detail

template <class Isa>
constexpr NormIsaTable make_norm_table(const char* isa) {
  return NormIsaTable{isa,
                      {norm_detail::forward<Isa, float>, norm_detail::backward<Isa, float>},
                      {norm_detail::forward<Isa, double>, norm_detail::backward<Isa, double>}};
}

}  // namespace keras::cpu
