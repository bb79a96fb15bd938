// Batch-normalization kernels over an ISA tag, one template for float32 and float64.
// Channels last (rows of C): the statistics pass is a column reduction in the element
// type's own lanes (float32 in float lanes, twice the values per instruction), over at most
// kLaneRows rows before each partial is added into double sums, so the float32 partials
// hold a few values each and the totals are summed in double, as the js reference; the
// write passes are one FMA per value, y = (x - center) * a + b, with per-channel constants
// rounded to T. Sums are taken about a per-channel shift (a value of the channel), so the
// variance E[(x - s)^2] - E[x - s]^2 does not cancel when |mean| >> std. Runs of one
// channel (inner > 1) are read into Vec<double> lanes.
#pragma once
#include <algorithm>
#include <cmath>
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

// Rows summed in T lanes before the partial goes into the double sums: float32 partials of
// 16 values lose at most ~16 ulps of their largest term, far below the tests' tolerance.
constexpr int64_t kLaneRows = 16;

// s[0, W) += the lanes of r, widened to double (VD: the ISA's Vec<double>). GCC 12 warns
// falsely about the undefined source register inside _mm512_cvtps_pd once it is inlined here
// (its own _mm512_undefined_pd self-initialization), so that warning is off for this function.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
template <class VT, class VD>
void add_widened(typename VT::Reg r, double* s) {
  using T = typename VT::T;
  alignas(64) T lanes[VT::kWidth];
  VT::storeu(lanes, r);
  for (int i = 0; i < VT::kWidth; i += VD::kWidth) VD::storeu(s + i, VD::add(VD::loadu(s + i), load<VD>(lanes + i)));
}
#pragma GCC diagnostic pop

// U vectors of channels from j: shifted sums down `rows` rows, in registers.
template <class VT, class VD, int U>
void sums_cols_tile(const typename VT::T* x, int64_t rows, int64_t C, int64_t j, const typename VT::T* shift,
                    double* s1, double* s2) {
  constexpr int W = VT::kWidth;
  typename VT::Reg k[U], a1[U], a2[U];
  for (int u = 0; u < U; ++u) {
    k[u] = VT::loadu(shift + j + u * W);
    a1[u] = VT::zero();
    a2[u] = VT::zero();
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int u = 0; u < U; ++u) {
      const auto d = VT::sub(VT::loadu(x + r * C + j + u * W), k[u]);
      a1[u] = VT::add(a1[u], d);
      a2[u] = VT::fmadd(d, d, a2[u]);
    }
  }
  for (int u = 0; u < U; ++u) {
    add_widened<VT, VD>(a1[u], s1 + j + u * W);
    add_widened<VT, VD>(a2[u], s2 + j + u * W);
  }
}

// Vectors of channels per register tile: three registers each (shift or mean, two sums)
// in at most three quarters of the register file; 8 on AVX-512 (128 float32 channels, a
// whole row of a typical NHWC tensor, so the pass reads memory in order).
template <class VT>
constexpr int kTile = VT::kRegisters >= 32 ? 8 : 4;

// Visits the channels of rows of C in register tiles: wide(j) for kTile vectors of channels
// from j, then one(j) for single vectors, then scalar(j) past the last full vector.
template <class VT, class Wide, class One, class Scalar>
void channel_tiles(int64_t C, Wide wide, One one, Scalar scalar) {
  constexpr int W = VT::kWidth;
  int64_t j = 0;
  for (; j + kTile<VT> * W <= C; j += kTile<VT> * W) wide(j);
  for (; j + W <= C; j += W) one(j);
  for (; j < C; ++j) scalar(j);
}

// Rows of C, each block of kLaneRows rows swept by every channel tile while it is in L1.
template <class VT, class VD>
void sums_cols(const typename VT::T* x, int64_t rows, int64_t C, const typename VT::T* shift, double* s1, double* s2) {
  for (int64_t r0 = 0; r0 < rows; r0 += kLaneRows) {
    const int64_t n = std::min(kLaneRows, rows - r0);
    const auto* xb = x + r0 * C;
    channel_tiles<VT>(
        C, [&](int64_t j) { sums_cols_tile<VT, VD, kTile<VT>>(xb, n, C, j, shift, s1, s2); },
        [&](int64_t j) { sums_cols_tile<VT, VD, 1>(xb, n, C, j, shift, s1, s2); },
        [&](int64_t j) {
          for (int64_t r = 0; r < n; ++r) {
            const double d = double(xb[r * C + j]) - double(shift[j]);
            s1[j] += d;
            s2[j] += d * d;
          }
        });
  }
}

// y = (x - center) * a + b per channel: one subtraction (exact or nearly, center being near
// the values) and one FMA per value.
template <class VT>
void normalize_cols(const typename VT::T* x, typename VT::T* y, int64_t rows, int64_t C, const typename VT::T* center,
                    const typename VT::T* a, const typename VT::T* b) {
  constexpr int W = VT::kWidth;
  for (int64_t r = 0; r < rows; ++r) {
    const auto* xr = x + r * C;
    auto* yr = y + r * C;
    int64_t j = 0;
    for (; j + W <= C; j += W) {
      VT::storeu(yr + j, VT::fmadd(VT::sub(VT::loadu(xr + j), VT::loadu(center + j)), VT::loadu(a + j), VT::loadu(b + j)));
    }
    for (; j < C; ++j) yr[j] = std::fma(xr[j] - center[j], a[j], b[j]);
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

// U vectors of channels from j: sums of dy and of dy * (x - mean) down `rows` rows.
template <class VT, class VD, int U>
void grad_sums_cols_tile(const typename VT::T* dy, const typename VT::T* x, int64_t rows, int64_t C, int64_t j,
                         const typename VT::T* mean, double* sum_dy, double* sum_dy_d) {
  constexpr int W = VT::kWidth;
  typename VT::Reg m[U], sd[U], sdx[U];
  for (int u = 0; u < U; ++u) {
    m[u] = VT::loadu(mean + j + u * W);
    sd[u] = VT::zero();
    sdx[u] = VT::zero();
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int u = 0; u < U; ++u) {
      const int64_t at = r * C + j + u * W;
      const auto d = VT::loadu(dy + at);
      sd[u] = VT::add(sd[u], d);
      sdx[u] = VT::fmadd(d, VT::sub(VT::loadu(x + at), m[u]), sdx[u]);
    }
  }
  for (int u = 0; u < U; ++u) {
    add_widened<VT, VD>(sd[u], sum_dy + j + u * W);
    add_widened<VT, VD>(sdx[u], sum_dy_d + j + u * W);
  }
}

template <class VT, class VD>
void grad_sums_cols(const typename VT::T* dy, const typename VT::T* x, int64_t rows, int64_t C,
                    const typename VT::T* mean, double* sum_dy, double* sum_dy_d) {
  for (int64_t r0 = 0; r0 < rows; r0 += kLaneRows) {
    const int64_t n = std::min(kLaneRows, rows - r0);
    const auto *db = dy + r0 * C, *xb = x + r0 * C;
    channel_tiles<VT>(
        C, [&](int64_t j) { grad_sums_cols_tile<VT, VD, kTile<VT>>(db, xb, n, C, j, mean, sum_dy, sum_dy_d); },
        [&](int64_t j) { grad_sums_cols_tile<VT, VD, 1>(db, xb, n, C, j, mean, sum_dy, sum_dy_d); },
        [&](int64_t j) {
          for (int64_t r = 0; r < n; ++r) {
            const double d = double(db[r * C + j]);
            sum_dy[j] += d;
            sum_dy_d[j] += d * (double(xb[r * C + j]) - double(mean[j]));
          }
        });
  }
}

template <class V, class T>
void grad_sums_run(const T* dy, const T* x, int64_t n, double mean, double* sum_dy, double* sum_dy_d) {
  using Reg = typename V::Reg;
  struct Sums {
    Reg d, dx;
  };
  const auto m = V::set1(mean);
  int64_t k = 0;
  const Sums sums = reduce_run<V>(n, &k, Sums{V::zero(), V::zero()}, [&](Sums acc, int64_t i) {
    const Reg d = load<V>(dy + i);
    return Sums{V::add(acc.d, d), V::fmadd(d, V::sub(load<V>(x + i), m), acc.dx)};
  }, [](Sums a, Sums b) { return Sums{V::add(a.d, b.d), V::add(a.dx, b.dx)}; });
  double sd = hsum<V>(sums.d), sdx = hsum<V>(sums.dx);
  for (; k < n; ++k) {
    const double d = double(dy[k]);
    sd += d;
    sdx += d * (double(x[k]) - mean);
  }
  *sum_dy = sd;
  *sum_dy_d = sdx;
}

// dx = a * dy + (b * (x - mean) + c) per channel: two FMAs per value.
template <class VT>
void grad_dx_cols(const typename VT::T* dy, const typename VT::T* x, typename VT::T* dx, int64_t rows, int64_t C,
                  const typename VT::T* mean, const typename VT::T* a, const typename VT::T* b,
                  const typename VT::T* c) {
  constexpr int W = VT::kWidth;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * C;
    int64_t j = 0;
    for (; j + W <= C; j += W) {
      const auto t = VT::fmadd(VT::loadu(b + j), VT::sub(VT::loadu(x + base + j), VT::loadu(mean + j)), VT::loadu(c + j));
      VT::storeu(dx + base + j, VT::fmadd(VT::loadu(a + j), VT::loadu(dy + base + j), t));
    }
    for (; j < C; ++j) dx[base + j] = std::fma(a[j], dy[base + j], std::fma(b[j], x[base + j] - mean[j], c[j]));
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

// VT: lanes of the element type T (the write passes and the channels-last sums); VD: the
// ISA's Vec<double> (double sums, runs).
template <class VT, class VD>
constexpr BatchNormRows<typename VT::T> batch_rows() {
  using T = typename VT::T;
  return BatchNormRows<T>{sums_cols<VT, VD>,      shifted_sums<VD, T>,  normalize_cols<VT>, normalize_run<VD, T>,
                          grad_sums_cols<VT, VD>, grad_sums_run<VD, T>, grad_dx_cols<VT>,   grad_dx_run<VD, T>};
}

}  // namespace batch_norm_detail

template <class Isa>
constexpr BatchNormIsaTable make_batch_norm_table(const char* isa) {
  using VF = typename Isa::template Vec<float>;
  using VD = typename Isa::template Vec<double>;
  return BatchNormIsaTable{isa, batch_norm_detail::batch_rows<VF, VD>(), batch_norm_detail::batch_rows<VD, VD>()};
}

}  // namespace keras::cpu
