// CPU kernels of softmax, logSoftmax, softmaxGrad, logSoftmaxGrad, sparseSoftmaxCrossEntropy and its gradient (lib/backends/js/nn.ts
// is the reference). The input is seen as [outer, n, inner]: rows along the axis,
// split over the thread pool. float32 rows run the ISA's vectorized row (softmax.h);
// float64 rows are scalar in the js kernel's order. Rows of a non-last axis
// (inner > 1) are gathered into a contiguous buffer and scattered back.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "softmax.h"

namespace keras::cpu {
namespace {

using kernels::Attrs;
using kernels::KernelContext;
using kernels::OpError;
using kernels::TensorView;
using engine::DType;

const SoftmaxIsaTable& softmax_kernels() { return for_active_isa(kSoftmaxAvx512, kSoftmaxAvx2, kSoftmaxPortable); }

int64_t grain_for(int64_t n) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n)); }

// js order: max, sequential sum of exp(x - max), then one write pass.
void f64_row(const double* x, double* y, int64_t n, bool log) {
  if (n == 0) return;
  double m = -INFINITY;
  for (int64_t k = 0; k < n; ++k) m = (x[k] > m || x[k] != x[k]) ? x[k] : m;
  double s = 0;
  if (log) {
    for (int64_t k = 0; k < n; ++k) s += std::exp(x[k] - m);
    const double ls = std::log(s);
    for (int64_t k = 0; k < n; ++k) y[k] = x[k] - m - ls;
    return;
  }
  for (int64_t k = 0; k < n; ++k) s += y[k] = std::exp(x[k] - m);
  const double inv = 1 / s;
  for (int64_t k = 0; k < n; ++k) y[k] *= inv;
}

template <class T>
void run_rows(const KernelContext& ctx, const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  const SoftmaxIsaTable& table = softmax_kernels();
  // An output past the last-level cache goes to memory anyway: written around the caches.
  const bool stream = engine::past_last_level_cache(outer * inner * n * int64_t(sizeof(T)));
  auto rows_at = [&](const T* xr, T* yr, int64_t count) {
    if constexpr (std::is_same_v<T, float>) table.f32_rows(xr, yr, count, n, log, stream && inner == 1);
    else
      for (int64_t r = 0; r < count; ++r) f64_row(xr + r * n, yr + r * n, n, log);
  };
  const int64_t rows = outer * inner;
  engine::thread_pool().parallel_for(rows, grain_for(n), [&](int64_t b, int64_t e) {
    if (inner == 1) {
      rows_at(x + b * n, y + b * n, e - b);
      return;
    }
    std::vector<T> xs(static_cast<size_t>(n)), ys(static_cast<size_t>(n));
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = (r / inner) * n * inner + r % inner;
      for (int64_t k = 0; k < n; ++k) xs[size_t(k)] = x[base + k * inner];
      rows_at(xs.data(), ys.data(), 1);
      for (int64_t k = 0; k < n; ++k) y[base + k * inner] = ys[size_t(k)];
    }
  }, ctx.max_threads);
}

// x as [outer, n, inner] around the op's `axis` attribute: rows of n along it.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;
};

Rows rows_along(const TensorView& x, const Attrs& attrs, const char* op) {
  const int64_t axis = attrs.get_int(op, "axis", 0);
  Rows r;
  r.n = x.shape[size_t(axis)];
  for (int64_t d = 0; d < axis; ++d) r.outer *= x.shape[size_t(d)];
  for (int64_t d = axis + 1; d < x.rank(); ++d) r.inner *= x.shape[size_t(d)];
  return r;
}

void row_op(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
            const Attrs& attrs, bool log) {
  const TensorView& x = in[0];
  const auto [outer, n, inner] = rows_along(x, attrs, log ? "logSoftmax" : "softmax");
  if (x.numel() == 0) return;
  if (x.dtype == DType::Float32) {
    std::vector<float> s;
    run_rows<float>(ctx, contiguous_data<float>(x, s), out[0].as<float>(), outer, n, inner, log);
  } else {
    std::vector<double> s;
    run_rows<double>(ctx, contiguous_data<double>(x, s), out[0].as<double>(), outer, n, inner, log);
  }
}

void softmax_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                 const Attrs& attrs) {
  row_op(ctx, in, out, attrs, false);
}

void log_softmax_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                     const Attrs& attrs) {
  row_op(ctx, in, out, attrs, true);
}

// softmax's gradient dx = y * (dy - sum(dy * y)) (kLog: logSoftmax's, dy - exp(y) * sum(dy))
// per row: float32 rows by the ISA's rows (in double lanes), float64 rows in the js kernel's
// order; rows of a non-last axis gathered and scattered back as run_rows does.
template <class T, bool kLog>
void grad_rows(const KernelContext& ctx, const T* y, const T* dy, T* dx, int64_t outer, int64_t n, int64_t inner) {
  const SoftmaxIsaTable& table = softmax_kernels();
  auto rows_at = [&](const T* yr, const T* dyr, T* dxr, int64_t count) {
    if constexpr (std::is_same_v<T, float>) {
      (kLog ? table.f32_log_grad_rows : table.f32_grad_rows)(yr, dyr, dxr, count, n);
    } else {
      for (int64_t r = 0; r < count; ++r, yr += n, dyr += n, dxr += n) {
        double s = 0;
        for (int64_t k = 0; k < n; ++k) s += kLog ? dyr[k] : yr[k] * dyr[k];
        for (int64_t k = 0; k < n; ++k) dxr[k] = grad_term<kLog>(yr[k], dyr[k], s);
      }
    }
  };
  engine::thread_pool().parallel_for(outer * inner, grain_for(2 * n), [&](int64_t b, int64_t e) {
    if (inner == 1) {
      rows_at(y + b * n, dy + b * n, dx + b * n, e - b);
      return;
    }
    std::vector<T> ys(static_cast<size_t>(n)), dys(static_cast<size_t>(n)), dxs(static_cast<size_t>(n));
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = (r / inner) * n * inner + r % inner;
      for (int64_t k = 0; k < n; ++k) {
        ys[size_t(k)] = y[base + k * inner];
        dys[size_t(k)] = dy[base + k * inner];
      }
      rows_at(ys.data(), dys.data(), dxs.data(), 1);
      for (int64_t k = 0; k < n; ++k) dx[base + k * inner] = dxs[size_t(k)];
    }
  }, ctx.max_threads);
}

// softmaxGrad or logSoftmaxGrad [y, dy] {axis}.
template <bool kLog>
void softmax_grad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                      const Attrs& attrs) {
  const TensorView &y = in[0], &dy = in[1];
  const auto [outer, n, inner] = rows_along(y, attrs, kLog ? "logSoftmaxGrad" : "softmaxGrad");
  if (y.numel() == 0) return;
  if (y.dtype == DType::Float32) {
    std::vector<float> ys, dys;
    grad_rows<float, kLog>(ctx, contiguous_data<float>(y, ys), contiguous_data<float>(dy, dys), out[0].as<float>(), outer, n, inner);
  } else {
    std::vector<double> ys, dys;
    grad_rows<double, kLog>(ctx, contiguous_data<double>(y, ys), contiguous_data<double>(dy, dys), out[0].as<double>(), outer, n, inner);
  }
}

// Per row: log(sum(exp(x - max))) - (x[label] - max); 0 for labels outside [0, n).
// float32 rows take the ISA's log-sum-exp rows in whole chunks (each row's exp pass
// reads the next row's range from memory), rows with such labels included.
template <class T>
void sparse_ce(const KernelContext& ctx, const int32_t* labels, const T* x, T* y, int64_t rows, int64_t n) {
  const SoftmaxIsaTable& table = softmax_kernels();
  const auto valid = [&](int64_t r) { return labels[r] >= 0 && labels[r] < n; };
  engine::thread_pool().parallel_for(rows, grain_for(n), [&](int64_t b, int64_t e) {
    std::vector<double> ms(size_t(e - b)), lses(size_t(e - b));
    if constexpr (std::is_same_v<T, float>) {
      if (n > 0) table.f32_lse_rows(x + b * n, e - b, n, ms.data(), lses.data());
    } else {
      for (int64_t r = b; r < e; ++r) {
        if (!valid(r)) continue;
        const T* xr = x + r * n;
        double m = -INFINITY;
        for (int64_t k = 0; k < n; ++k) m = (xr[k] > m || xr[k] != xr[k]) ? xr[k] : m;
        double s = 0;
        for (int64_t k = 0; k < n; ++k) s += std::exp(xr[k] - m);
        ms[size_t(r - b)] = m;
        lses[size_t(r - b)] = std::log(s);
      }
    }
    for (int64_t r = b; r < e; ++r) {
      const size_t i = size_t(r - b);
      y[r] = valid(r) ? T(lses[i] - (double(x[r * n + labels[r]]) - ms[i])) : T(0);
    }
  }, ctx.max_threads);
}

void sparse_ce_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                   const Attrs&) {
  const TensorView &labels = in[0], &logits = in[1];
  const int64_t rows = labels.numel();
  const int64_t n = logits.shape.back();
  if (rows == 0) return;
  std::vector<int32_t> ls;
  const int32_t* l = contiguous_data<int32_t>(labels, ls);
  if (logits.dtype == DType::Float32) {
    std::vector<float> s;
    sparse_ce<float>(ctx, l, contiguous_data<float>(logits, s), out[0].as<float>(), rows, n);
  } else {
    std::vector<double> s;
    sparse_ce<double>(ctx, l, contiguous_data<double>(logits, s), out[0].as<double>(), rows, n);
  }
}

// The cross-entropy's gradient (p * valid - hot) * dy per row, p the softmax kernel's row:
// blocks of rows of at most 64 KiB, each softmaxed and then fixed up while still in L2.
// Each op is rounded to T as the composite it replaces (lib/ops/nn.ts), so the same bits.
template <class T>
void sparse_ce_grad(const KernelContext& ctx, const int32_t* labels, const T* x, const T* dy, T* dx, int64_t rows, int64_t n) {
  const SoftmaxIsaTable& table = softmax_kernels();
  const int64_t block = std::max<int64_t>(1, 65536 / int64_t(sizeof(T)) / std::max<int64_t>(1, n));
  engine::thread_pool().parallel_for(rows, grain_for(n), [&](int64_t b, int64_t e) {
    for (int64_t r0 = b; r0 < e; r0 += block) {
      const int64_t r1 = std::min(e, r0 + block);
      if constexpr (std::is_same_v<T, float>) {
        table.f32_rows(x + r0 * n, dx + r0 * n, r1 - r0, n, false, false);
      } else {
        for (int64_t r = r0; r < r1; ++r) f64_row(x + r * n, dx + r * n, n, false);
      }
      // (p * valid - oneHot) * d, each step rounded as the composite's ops: off the label the
      // subtraction is of 0, which leaves every value (NaN, -0 included) as it is, so the row is
      // (p * valid) * d in a loop the compiler vectorizes, and the label's element is redone.
      // (A compare per element kept it scalar: [4096, 4096] gradient, 2 threads, three
      // alternations, 9.4-9.6 -> 5.4-5.6 ms.)
      for (int64_t r = r0; r < r1; ++r) {
        const bool valid = labels[r] >= 0 && labels[r] < n;
        const T scale = valid ? T(1) : T(0), d = dy[r];
        T* row = dx + r * n;
        const T p = valid ? row[labels[r]] : T(0);
        for (int64_t k = 0; k < n; ++k) row[k] = (row[k] * scale) * d;
        if (valid) row[labels[r]] = (p - T(1)) * d;  // p * 1 is p
      }
    }
  }, ctx.max_threads);
}

void sparse_ce_grad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                        const Attrs&) {
  const TensorView &labels = in[0], &logits = in[1], &dy = in[2];
  const int64_t rows = labels.numel();
  const int64_t n = logits.shape.back();
  if (rows == 0 || n == 0) return;
  std::vector<int32_t> ls;
  const int32_t* l = contiguous_data<int32_t>(labels, ls);
  if (logits.dtype == DType::Float32) {
    std::vector<float> s, d;
    sparse_ce_grad<float>(ctx, l, contiguous_data<float>(logits, s), contiguous_data<float>(dy, d), out[0].as<float>(), rows, n);
  } else {
    std::vector<double> s, d;
    sparse_ce_grad<double>(ctx, l, contiguous_data<double>(logits, s), contiguous_data<double>(dy, d), out[0].as<double>(), rows, n);
  }
}

}  // namespace

void register_softmax(kernels::KernelRegistry& registry) {
  registry.register_kernel("softmax", engine::Device::CPU, softmax_cpu);
  registry.register_kernel("logSoftmax", engine::Device::CPU, log_softmax_cpu);
  registry.register_kernel("softmaxGrad", engine::Device::CPU, softmax_grad_cpu<false>);
  registry.register_kernel("logSoftmaxGrad", engine::Device::CPU, softmax_grad_cpu<true>);
  registry.register_kernel("sparseSoftmaxCrossEntropy", engine::Device::CPU, sparse_ce_cpu);
  registry.register_kernel("sparseSoftmaxCrossEntropyGrad", engine::Device::CPU, sparse_ce_grad_cpu);
}

}  // namespace keras::cpu
