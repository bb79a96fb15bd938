// Layer-normalization rows over an ISA tag, one template for float32 and float64.
// Statistics and sums are in Vec<double> lanes (float32 converted), as the js reference;
// float32 outputs (y, dx) are written from float lanes, a few ulps from double. Forward:
// float32 rows are a pipeline (each loop writes one row's y and sums the next row's moments
// in one shifted pass); float64 rows take two passes for the moments, then one write pass.
// Backward: one pass over a block of rows for their sums and the dgamma/dbeta partials, then
// one write pass per row.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "norm.h"
#include "norm_simd.h"
#include "simd/streaming.h"

namespace keras::cpu {
namespace norm_detail {

using norm_simd::hsum;
using norm_simd::load;
using norm_simd::reduce_run;
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

// Software prefetch of the lines `ahead` bytes past [p, p + count): a core keeps more reads in
// flight than the hardware prefetcher alone starts while the loop computes (at 4096 x 4096 on
// one thread, with the pipeline, the float32 forward went from about 70% to 88% of copy and the
// backward from 65% to 72%; the backward reads 8 rows at once, and 2 KiB ahead of each did
// better than 4). Past the end of the data it only prefetches lines nobody reads (integer
// addresses: no pointer is formed there). A template on the ISA, as every function here.
template <class Isa>
void prefetch_lines(const float* p, int64_t ahead, int64_t count) {
  const uintptr_t first = reinterpret_cast<uintptr_t>(p) + uintptr_t(ahead);
  for (int64_t b = 0; b < count * int64_t(sizeof(float)); b += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(first + uintptr_t(b)), 0, 3);
  }
}

// y = xhat * gamma + beta as the forward's output loops compute it, in T lanes, double lanes and
// scalars. kUniform: every gamma has the bits of gamma[0] and every beta those of beta[0] (the ones
// and zeros that a layerNormalization without gamma and beta passes), so each is broadcast once
// and the loops load only x: the same operations on the same values, so the same bits as the
// loads (fma(xhat, 1, +0) is +0 for a -0 xhat either way).
template <class Isa, class T, bool kUniform>
struct Affine {
  using V = typename Isa::template Vec<double>;
  using VT = typename Isa::template Vec<T>;
  const T *gamma, *beta;
  typename VT::Reg gt, bt;
  typename V::Reg gd, bd;
  double gs, bs;
  Affine(const T* gamma, const T* beta)
      : gamma(gamma), beta(beta), gt(VT::set1(kUniform ? gamma[0] : T(0))), bt(VT::set1(kUniform ? beta[0] : T(0))),
        gd(V::set1(kUniform ? double(gamma[0]) : 0.0)), bd(V::set1(kUniform ? double(beta[0]) : 0.0)),
        gs(kUniform ? double(gamma[0]) : 0.0), bs(kUniform ? double(beta[0]) : 0.0) {}
  typename VT::Reg lanes(typename VT::Reg xhat, int64_t k) const {
    if constexpr (kUniform) return VT::fmadd(xhat, gt, bt);
    else return VT::fmadd(xhat, VT::loadu(gamma + k), VT::loadu(beta + k));
  }
  typename V::Reg wide(typename V::Reg xhat, int64_t k) const {
    if constexpr (kUniform) return V::fmadd(xhat, gd, bd);
    else return V::fmadd(xhat, load<V>(gamma + k), load<V>(beta + k));
  }
  double scalar(double xhat, int64_t k) const {
    if constexpr (kUniform) return xhat * gs + bs;
    else return xhat * double(gamma[k]) + double(beta[k]);
  }
};

// One row of any dtype (float64, and float32 rows of length 0): the mean, then the mean of
// squared deviations, in double lanes as the js kernel; y from them.
template <class Isa, class T, bool kUniform>
void forward_row(const T* x, const Affine<Isa, T, kUniform>& affine, T* y, int64_t n, double eps, bool rms,
                 double* mean, double* rstd) {
  using V = typename Isa::template Vec<double>;
  constexpr int W = V::kWidth;
  using Reg = typename V::Reg;
  const auto add = [](Reg a, Reg b) { return V::add(a, b); };
  double m = 0;
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
  const double r = 1 / std::sqrt(ss / double(n) + eps);
  const auto rv = V::set1(r);
  k = 0;
  for (; k + W <= n; k += W) {
    const auto xhat = V::mul(V::sub(load<V>(x + k), mv), rv);
    store<V>(y + k, affine.wide(xhat, k));
  }
  for (; k < n; ++k) y[k] = T(affine.scalar((double(x[k]) - m) * r, k));
  *mean = m;
  *rstd = r;
}

// float32 rows (n > 0) as a pipeline: one loop writes y of row r while it sums the moments of
// row r + 1, so x streams in from memory all along, beside both passes' arithmetic (row by row,
// each row waited for memory and then computed: about 60% of copy at 4096 x 4096).
template <class Isa>
struct F32Rows {
  using V = typename Isa::template Vec<double>;
  using VF = typename Isa::template Vec<float>;
  using Reg = typename V::Reg;
  static constexpr int W = V::kWidth;
  // Floats per step: four double accumulators (one would wait on the add latency).
  static constexpr int kStep = 4 * W;
  static_assert(kStep % VF::kWidth == 0, "a step is whole float vectors");
  // Bytes ahead of the moments' reads that the loop prefetches (into L1). Single thread from
  // memory, 4 KiB took 1.02-1.06x the time of 2 KiB; 1, 1.5 and 3 KiB did no better, nor
  // prefetches to L2 only, of y for writing, or of x, gamma and beta for the output.
  static constexpr int64_t kPrefetchAhead = 2048;

  // One-pass moments of a row in double lanes, as norm_simd::shifted_sums but in steps that a
  // pipeline interleaves with another row's output: sums of d = x - shift and d^2, var = E[d^2] -
  // E[d]^2, which then loses about n double ulps relative to var at most (the shift is x[0], a
  // value of the row, so (mean - x[0])^2 <= n * var): far below a float32 ulp. rms: shift 0 and
  // the mean square. The sums run in the same order whether or not an output pass runs beside.
  struct Moments {
    const float* x;
    double shift;
    Reg sv, d[4], dd[4];
    void start(const float* row, bool rms) {
      x = row;
      // A non-finite x[0] makes the row's statistics inf/NaN anyway; shifting by 0 keeps the js kernel's inf mean.
      shift = rms || !std::isfinite(double(row[0])) ? 0.0 : double(row[0]);
      sv = V::set1(shift);
      for (int j = 0; j < 4; ++j) d[j] = dd[j] = V::zero();
    }
    void step(int64_t k) {
      for (int j = 0; j < 4; ++j) {
        const Reg v = V::sub(V::load_float(x + k + j * W), sv);
        d[j] = V::add(d[j], v);
        dd[j] = V::fmadd(v, v, dd[j]);
      }
    }
    // The rest of the row from k (past the last whole step), then mean and rstd.
    void finish(int64_t k, int64_t n, double eps, bool rms, double* mean, double* rstd) {
      for (; k + W <= n; k += W) {
        const Reg v = V::sub(V::load_float(x + k), sv);
        d[0] = V::add(d[0], v);
        dd[0] = V::fmadd(v, v, dd[0]);
      }
      double s1 = hsum<V>(V::add(V::add(d[0], d[1]), V::add(d[2], d[3])));
      double s2 = hsum<V>(V::add(V::add(dd[0], dd[1]), V::add(dd[2], dd[3])));
      for (; k < n; ++k) {
        const double v = double(x[k]) - shift;
        s1 += v;
        s2 += v * v;
      }
      double var;
      if (rms) {
        *mean = 0;
        var = s2 / double(n);
      } else {
        const double e1 = s1 / double(n);
        *mean = shift + e1;
        var = s2 / double(n) - e1 * e1;
        if (var < 0) var = 0;  // rounding of a constant row; NaN stays NaN
      }
      *rstd = 1 / std::sqrt(var + eps);
    }
  };

  // y of one row in float lanes (twice the width, no conversions): within a few float ulps of
  // |xhat * gamma| + |beta|.
  template <bool kUniform>
  struct Output {
    const float* x;
    // By value, as the other members: through a reference, the stores to y (may-alias vector
    // stores) would make the compiler reload the broadcast registers from memory.
    const Affine<Isa, float, kUniform> affine;
    float* y;
    double mean, rstd;
    FloatCentering<VF> centered;
    typename VF::Reg rf;
    Output(const float* x, const Affine<Isa, float, kUniform>& affine, float* y, double mean, double rstd)
        : x(x), affine(affine), y(y), mean(mean), rstd(rstd), centered(mean), rf(VF::set1(float(rstd))) {}
    void vec(int64_t k) const { VF::storeu(y + k, affine.lanes(VF::mul(centered(x + k), rf), k)); }
    void step(int64_t k) const {
      for (int j = 0; j < kStep; j += VF::kWidth) vec(k + j);
    }
    void finish(int64_t k, int64_t n) const {
      for (; k + VF::kWidth <= n; k += VF::kWidth) vec(k);
      const auto mv = V::set1(mean), rv = V::set1(rstd);
      for (; k + W <= n; k += W) {
        const auto xhat = V::mul(V::sub(V::load_float(x + k), mv), rv);
        V::store_float(y + k, affine.wide(xhat, k));
      }
      for (; k < n; ++k) y[k] = float(affine.scalar((double(x[k]) - mean) * rstd, k));
    }
  };

  template <bool kUniform>
  static void run(const float* x, const Affine<Isa, float, kUniform>& affine, float* y, int64_t rows, int64_t n,
                  double eps, bool rms, float* mean, float* rstd) {
    const int64_t steps_end = n / kStep * kStep;
    Moments next;
    next.start(x, rms);
    for (int64_t k = 0; k < steps_end; k += kStep) next.step(k);
    for (int64_t r = 0; r < rows; ++r) {
      double m, rs;
      next.finish(steps_end, n, eps, rms, &m, &rs);
      const Output<kUniform> out(x + r * n, affine, y + r * n, m, rs);
      if (r + 1 < rows) {
        next.start(x + (r + 1) * n, rms);
        for (int64_t k = 0; k < steps_end; k += kStep) {
          prefetch_lines<Isa>(next.x + k, kPrefetchAhead, kStep);
          next.step(k);
          out.step(k);
        }
      } else {
        for (int64_t k = 0; k < steps_end; k += kStep) out.step(k);
      }
      out.finish(steps_end, n);
      mean[r] = float(m);
      rstd[r] = float(rs);
    }
  }
};

template <class Isa, class T, bool kUniform>
void forward(const T* x, const T* gamma, const T* beta, T* y, int64_t rows, int64_t n, double eps, bool rms, T* mean,
             T* rstd) {
  const Affine<Isa, T, kUniform> affine(gamma, beta);
  if constexpr (std::is_same_v<T, float>) {
    if (n > 0) return F32Rows<Isa>::run(x, affine, y, rows, n, eps, rms, mean, rstd);
  }
  for (int64_t r = 0; r < rows; ++r) {
    double m, rs;
    forward_row(x + r * n, affine, y + r * n, n, eps, rms, &m, &rs);
    mean[r] = T(m);
    rstd[r] = T(rs);
  }
}

// dx of one row from its sums a = mean(g) (0 for rms) and c = mean(g * xhat).
// float32: also prefetches the rows `ahead` elements on (the next block's), so that memory
// reads go on during this pass too, not only during the sums pass; `stream`: dx by streaming
// stores (simd/streaming.h) where the row is aligned to the vector, the same values either way
// (float32 backward at 4096 x 4096, two threads: 62-66% -> 77-83% of copy).
template <class Isa, class T>
void write_dx(const T* dy, const T* x, const T* gamma, double mean, double rstd, double a, double c, T* dx, int64_t n,
              int64_t ahead, bool stream) {
  using V = typename Isa::template Vec<double>;
  constexpr int W = V::kWidth;
  int64_t k = 0;
  if constexpr (std::is_same_v<T, float>) {
    // dx in float lanes, as the forward output: within a few float ulps of
    // rstd * (|g| + |a| + |xhat * c|).
    using VF = typename Isa::template Vec<float>;
    const FloatCentering<VF> centered(mean);
    const auto rf = VF::set1(float(rstd)), af = VF::set1(float(a)), cf = VF::set1(float(c));
    const auto dx_at = [&](int64_t i) {
      if (i % 16 == 0) {
        prefetch_lines<Isa>(dy + i, ahead * int64_t(sizeof(float)), 16);
        prefetch_lines<Isa>(x + i, ahead * int64_t(sizeof(float)), 16);
      }
      const auto xhat = VF::mul(centered(x + i), rf);
      const auto g = VF::mul(VF::loadu(dy + i), VF::loadu(gamma + i));
      return VF::mul(rf, VF::sub(VF::sub(g, af), VF::mul(xhat, cf)));
    };
    if (stream && reinterpret_cast<uintptr_t>(dx) % sizeof(typename VF::Reg) == 0) {
      for (; k + VF::kWidth <= n; k += VF::kWidth) StreamingStores<VF>::store(dx + k, dx_at(k));
    } else {
      for (; k + VF::kWidth <= n; k += VF::kWidth) VF::storeu(dx + k, dx_at(k));
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
                    double* dgamma, double* dbeta, int64_t n, bool stream_dx) {
  using V = typename Isa::template Vec<double>;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  // xhat = x * rstd - mean * rstd, one fmadd instead of a subtract and a multiply (the loop is
  // compute-bound in cache, and every ns there shows from memory). xhat loses |mean * rstd| double
  // ulps: a float ulp of an xhat near 1 only where |mean| is some 2^29 times the spread.
  Reg rv[R], shift[R], sum_g[R], sum_gx[R];
  for (int j = 0; j < R; ++j) {
    rv[j] = V::set1(rstd[j]);
    shift[j] = V::set1(-(mean[j] * rstd[j]));
    sum_g[j] = sum_gx[j] = V::zero();
  }
  int64_t k = 0;
  for (; k + W <= n; k += W) {
    if constexpr (std::is_same_v<T, float>) {
      // The previous block's dx pass prefetched these rows; 2 KiB ahead again for the first
      // block and for lines evicted since.
      if (k % 16 == 0) {
        for (int j = 0; j < R; ++j) {
          prefetch_lines<Isa>(dy + j * n + k, 2048, 16);
          prefetch_lines<Isa>(x + j * n + k, 2048, 16);
        }
      }
    }
    const Reg gm = load<V>(gamma + k);
    Reg dg = V::loadu(dgamma + k), db = V::loadu(dbeta + k);
    for (int j = 0; j < R; ++j) {
      const Reg d = load<V>(dy + j * n + k);
      const Reg xhat = V::fmadd(load<V>(x + j * n + k), rv[j], shift[j]);
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
    write_dx<Isa, T>(dy + j * n, x + j * n, gamma, mean[j], rstd[j], a, c, dx + j * n, n, R * n, stream_dx);
  }
}

template <class Isa, class T>
void backward(const T* dy, const T* x, const T* gamma, const double* mean, const double* rstd, int64_t rows, bool rms,
              T* dx, double* dgamma, double* dbeta, int64_t n, bool stream_dx) {
  int64_t r = 0;
  for (; r + kGradRows <= rows; r += kGradRows) {
    backward_block<Isa, T, kGradRows>(dy + r * n, x + r * n, gamma, mean + r, rstd + r, rms, dx + r * n, dgamma, dbeta, n,
                                      stream_dx);
  }
  for (; r < rows; ++r) {
    backward_block<Isa, T, 1>(dy + r * n, x + r * n, gamma, mean + r, rstd + r, rms, dx + r * n, dgamma, dbeta, n, stream_dx);
  }
  if constexpr (std::is_same_v<T, float>) {
    if (stream_dx) StreamingStores<typename Isa::template Vec<float>>::fence();
  }
}

}  // namespace norm_detail

template <class Isa>
constexpr NormIsaTable make_norm_table(const char* isa) {
  return NormIsaTable{isa,
                      {norm_detail::forward<Isa, float, false>, norm_detail::forward<Isa, float, true>,
                       norm_detail::backward<Isa, float>},
                      {norm_detail::forward<Isa, double, false>, norm_detail::forward<Isa, double, true>,
                       norm_detail::backward<Isa, double>}};
}

}  // namespace keras::cpu
