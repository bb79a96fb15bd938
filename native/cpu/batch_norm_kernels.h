// Batch-normalization rows over an ISA tag, one template for float32 and float64: values
// are loaded into Vec<double> lanes (float32 converted), so sums and outputs are in double,
// as the js reference. Sums are taken about a per-channel shift (the channel's first finite
// value), so the variance E[(x - s)^2] - E[x - s]^2 does not cancel when |mean| >> std.
// Column sums (channels last) keep U vectors of channels in registers down a block of
// rows; runs of one channel use four independent accumulators.
#pragma once
#include <cstdint>
#include <type_traits>

#include "batch_norm.h"
#include "norm_simd.h"

namespace keras::cpu {
namespace batch_norm_detail {

using norm_simd::hsum;
using norm_simd::load;
using norm_simd::reduce_run;
using norm_simd::shifted_sums;
using norm_simd::store;

template <class V, class T, int U>
void sums_cols_block(const T* x, int64_t rows, int64_t C, int64_t j, const double* shift, double* s1, double* s2) {
  constexpr int W = V::kWidth;
  typename V::Reg k[U], a1[U], a2[U];
  for (int u = 0; u < U; ++u) {
    k[u] = V::loadu(shift + j + u * W);
    a1[u] = V::zero();
    a2[u] = V::zero();
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int u = 0; u < U; ++u) {
      const auto d = V::sub(load<V>(x + r * C + j + u * W), k[u]);
      a1[u] = V::add(a1[u], d);
      a2[u] = V::fmadd(d, d, a2[u]);
    }
  }
  for (int u = 0; u < U; ++u) {
    V::storeu(s1 + j + u * W, V::add(V::loadu(s1 + j + u * W), a1[u]));
    V::storeu(s2 + j + u * W, V::add(V::loadu(s2 + j + u * W), a2[u]));
  }
}

template <class V, class T>
void sums_cols(const T* x, int64_t rows, int64_t C, const double* shift, double* s1, double* s2) {
  constexpr int W = V::kWidth;
  int64_t j = 0;
  for (; j + 2 * W <= C; j += 2 * W) sums_cols_block<V, T, 2>(x, rows, C, j, shift, s1, s2);
  for (; j + W <= C; j += W) sums_cols_block<V, T, 1>(x, rows, C, j, shift, s1, s2);
  for (; j < C; ++j) {
    double r1 = 0, r2 = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double d = double(x[r * C + j]) - shift[j];
      r1 += d;
      r2 += d * d;
    }
    s1[j] += r1;
    s2[j] += r2;
  }
}

template <class V, class T>
void normalize_cols(const T* x, T* y, int64_t rows, int64_t C, const double* mean, const double* scale,
                    const double* beta) {
  constexpr int W = V::kWidth;
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    T* yr = y + r * C;
    int64_t j = 0;
    for (; j + W <= C; j += W) {
      store<V>(yr + j, V::fmadd(V::sub(load<V>(xr + j), V::loadu(mean + j)), V::loadu(scale + j), V::loadu(beta + j)));
    }
    for (; j < C; ++j) yr[j] = T((double(xr[j]) - mean[j]) * scale[j] + beta[j]);
  }
}

template <class V, class T>
void normalize_run(const T* x, T* y, int64_t n, double mean, double scale, double beta) {
  constexpr int W = V::kWidth;
  const auto m = V::set1(mean), a = V::set1(scale), b = V::set1(beta);
  int64_t k = 0;
  for (; k + W <= n; k += W) store<V>(y + k, V::fmadd(V::sub(load<V>(x + k), m), a, b));
  for (; k < n; ++k) y[k] = T((double(x[k]) - mean) * scale + beta);
}

template <class V, class T, int U>
void grad_sums_cols_block(const T* dy, const T* x, int64_t rows, int64_t C, int64_t j, const double* mean,
                          const double* inv, double* sum_dy, double* sum_dy_xhat) {
  constexpr int W = V::kWidth;
  typename V::Reg m[U], iv[U], sd[U], sdx[U];
  for (int u = 0; u < U; ++u) {
    m[u] = V::loadu(mean + j + u * W);
    iv[u] = V::loadu(inv + j + u * W);
    sd[u] = V::zero();
    sdx[u] = V::zero();
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int u = 0; u < U; ++u) {
      const int64_t at = r * C + j + u * W;
      const auto d = load<V>(dy + at);
      sd[u] = V::add(sd[u], d);
      sdx[u] = V::fmadd(d, V::mul(V::sub(load<V>(x + at), m[u]), iv[u]), sdx[u]);
    }
  }
  for (int u = 0; u < U; ++u) {
    V::storeu(sum_dy + j + u * W, V::add(V::loadu(sum_dy + j + u * W), sd[u]));
    V::storeu(sum_dy_xhat + j + u * W, V::add(V::loadu(sum_dy_xhat + j + u * W), sdx[u]));
  }
}

template <class V, class T>
void grad_sums_cols(const T* dy, const T* x, int64_t rows, int64_t C, const double* mean, const double* inv,
                    double* sum_dy, double* sum_dy_xhat) {
  constexpr int W = V::kWidth;
  int64_t j = 0;
  for (; j + 2 * W <= C; j += 2 * W) grad_sums_cols_block<V, T, 2>(dy, x, rows, C, j, mean, inv, sum_dy, sum_dy_xhat);
  for (; j + W <= C; j += W) grad_sums_cols_block<V, T, 1>(dy, x, rows, C, j, mean, inv, sum_dy, sum_dy_xhat);
  for (; j < C; ++j) {
    double sd = 0, sdx = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double d = double(dy[r * C + j]);
      sd += d;
      sdx += d * ((double(x[r * C + j]) - mean[j]) * inv[j]);
    }
    sum_dy[j] += sd;
    sum_dy_xhat[j] += sdx;
  }
}

template <class V, class T>
void grad_sums_run(const T* dy, const T* x, int64_t n, double mean, double inv, double* sum_dy, double* sum_dy_xhat) {
  using Reg = typename V::Reg;
  struct Sums {
    Reg d, dx;
  };
  const auto m = V::set1(mean), iv = V::set1(inv);
  int64_t k = 0;
  const Sums sums = reduce_run<V>(n, &k, Sums{V::zero(), V::zero()}, [&](Sums acc, int64_t i) {
    const Reg d = load<V>(dy + i);
    return Sums{V::add(acc.d, d), V::fmadd(d, V::mul(V::sub(load<V>(x + i), m), iv), acc.dx)};
  }, [](Sums a, Sums b) { return Sums{V::add(a.d, b.d), V::add(a.dx, b.dx)}; });
  double sd = hsum<V>(sums.d), sdx = hsum<V>(sums.dx);
  for (; k < n; ++k) {
    const double d = double(dy[k]);
    sd += d;
    sdx += d * ((double(x[k]) - mean) * inv);
  }
  *sum_dy = sd;
  *sum_dy_xhat = sdx;
}

template <class V, class T>
void grad_dx_cols(const T* dy, const T* x, T* dx, int64_t rows, int64_t C, const double* mean, const double* scale,
                  const double* shift, const double* slope) {
  constexpr int W = V::kWidth;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * C;
    int64_t j = 0;
    for (; j + W <= C; j += W) {
      const auto centered = V::sub(load<V>(x + base + j), V::loadu(mean + j));
      const auto t = V::sub(V::sub(load<V>(dy + base + j), V::loadu(shift + j)), V::mul(centered, V::loadu(slope + j)));
      store<V>(dx + base + j, V::mul(V::loadu(scale + j), t));
    }
    for (; j < C; ++j) {
      dx[base + j] = T(scale[j] * (double(dy[base + j]) - shift[j] - (double(x[base + j]) - mean[j]) * slope[j]));
    }
  }
}

template <class V, class T>
void grad_dx_run(const T* dy, const T* x, T* dx, int64_t n, double mean, double scale, double shift, double slope) {
  constexpr int W = V::kWidth;
  const auto m = V::set1(mean), a = V::set1(scale), b = V::set1(shift), c = V::set1(slope);
  int64_t k = 0;
  for (; k + W <= n; k += W) {
    store<V>(dx + k, V::mul(a, V::sub(V::sub(load<V>(dy + k), b), V::mul(V::sub(load<V>(x + k), m), c))));
  }
  for (; k < n; ++k) dx[k] = T(scale * (double(dy[k]) - shift - (double(x[k]) - mean) * slope));
}

template <class V, class T>
constexpr BatchNormRows<T> batch_rows() {
  return BatchNormRows<T>{sums_cols<V, T>,      shifted_sums<V, T>,      normalize_cols<V, T>, normalize_run<V, T>,
                          grad_sums_cols<V, T>, grad_sums_run<V, T>, grad_dx_cols<V, T>,   grad_dx_run<V, T>};
}

}  // namespace batch_norm_detail

template <class Isa>
constexpr BatchNormIsaTable make_batch_norm_table(const char* isa) {
  using V = typename Isa::template Vec<double>;
  return BatchNormIsaTable{isa, batch_norm_detail::batch_rows<V, float>(), batch_norm_detail::batch_rows<V, double>()};
}

}  // namespace keras::cpu
