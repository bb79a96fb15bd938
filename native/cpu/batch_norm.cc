// CPU kernels of batchNorm and batchNormGrad (lib/backends/js/norm.ts is the reference;
// native/kernels/batch_norm.cc infers shapes). x is [outer, C, inner] around the channel
// axis. Channels last (inner = 1): rows of C, per-channel column sums over blocks of rows.
// Otherwise: contiguous runs of `inner` values of one channel. Per-channel sums (of x about
// a shift, or of dy and dy * xhat) are split into one block per thread, each with its own
// accumulators, added in block order; then one parallel pass writes y or dx.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "../engine/thread_pool.h"
#include "batch_norm.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "isa.h"

namespace keras::cpu {
namespace {

using engine::DType;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::TensorView;

const BatchNormIsaTable& batch_norm_table() { return for_active_isa(kBatchNormAvx512, kBatchNormAvx2, kBatchNormPortable); }

template <class T>
const BatchNormRows<T>& batch_rows() {
  if constexpr (std::is_same_v<T, float>) return batch_norm_table().f32;
  else return batch_norm_table().f64;
}

// Work items of about 16K elements per parallel_for chunk.
int64_t grain_for(int64_t elements_per_item) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, elements_per_item)); }

struct ChannelShape {
  int64_t outer = 1, channels = 1, inner = 1;
};

ChannelShape channel_shape(const TensorView& x, int64_t axis) {
  ChannelShape s;
  for (int64_t d = 0; d < axis; ++d) s.outer *= x.shape[size_t(d)];
  s.channels = x.shape[size_t(axis)];
  for (int64_t d = axis + 1; d < x.rank(); ++d) s.inner *= x.shape[size_t(d)];
  return s;
}

// Rows per column-sum call: about 64 KiB of each operand, so a block stays in L2 while
// every group of channels sweeps it.
int64_t col_block_rows(int64_t channels, size_t bytes) {
  return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, channels * int64_t(bytes)));
}

double finite_or_zero(double v) { return std::isfinite(v) ? v : 0.0; }

/**
 * Sums over [0, units) split into one contiguous block per thread (fewer for small work):
 * fn(begin, end, acc) adds into its own `width` doubles; returns the blocks' total, added in
 * block order.
 */
template <class Fn>
std::vector<double> blocked_sums(const KernelContext& ctx, int64_t units, int64_t elements_per_unit, size_t width, Fn fn) {
  const int threads = ctx.max_threads > 0 ? std::min(ctx.max_threads, engine::thread_pool().num_threads())
                                          : engine::thread_pool().num_threads();
  const int64_t by_work = std::max<int64_t>(1, units * std::max<int64_t>(1, elements_per_unit) / 16384);
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>({int64_t(threads), by_work, units}));
  std::vector<double> acc(size_t(blocks) * width, 0.0);
  engine::thread_pool().parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) fn(p * units / blocks, (p + 1) * units / blocks, acc.data() + size_t(p) * width);
  }, ctx.max_threads);
  for (int64_t p = 1; p < blocks; ++p) {
    for (size_t i = 0; i < width; ++i) acc[i] += acc[size_t(p) * width + i];
  }
  acc.resize(width);
  return acc;
}

template <class T>
std::vector<double> doubles_of(const TensorView& v) {
  std::vector<T> s;
  const T* p = contiguous_data<T>(v, s);
  return std::vector<double>(p, p + v.numel());
}

template <class T>
void batch_forward(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                   const ChannelShape& s, double eps) {
  const int64_t C = s.channels, inner = s.inner;
  std::vector<T> xs;
  const T* x = contiguous_data<T>(in[0], xs);
  const std::vector<double> gamma = doubles_of<T>(in[1]), beta = doubles_of<T>(in[2]);
  const BatchNormRows<T>& f = batch_rows<T>();
  std::vector<double> shift(static_cast<size_t>(C), 0.0);
  if (s.outer > 0 && inner > 0) {
    for (int64_t c = 0; c < C; ++c) shift[size_t(c)] = finite_or_zero(double(x[c * inner]));
  }
  // Sums of (x - shift), then of (x - shift)^2, C each.
  std::vector<double> sums;
  if (inner == 1) {
    const int64_t block = col_block_rows(C, sizeof(T));
    sums = blocked_sums(ctx, s.outer, C, size_t(2 * C), [&](int64_t b, int64_t e, double* acc) {
      for (int64_t r = b; r < e; r += block) f.sums_cols(x + r * C, std::min(block, e - r), C, shift.data(), acc, acc + C);
    });
  } else {
    sums = blocked_sums(ctx, s.outer * C, inner, size_t(2 * C), [&](int64_t b, int64_t e, double* acc) {
      for (int64_t u = b; u < e; ++u) {
        const int64_t c = u % C;
        double s1, s2;
        f.sums_run(x + u * inner, inner, shift[size_t(c)], &s1, &s2);
        acc[c] += s1;
        acc[C + c] += s2;
      }
    });
  }
  const double count = double(s.outer * inner);
  std::vector<double> mean(static_cast<size_t>(C)), scale(static_cast<size_t>(C));
  T *mean_out = out[1].as<T>(), *var_out = out[2].as<T>();
  for (size_t c = 0; c < size_t(C); ++c) {
    const double m1 = sums[c] / count, v = sums[size_t(C) + c] / count - m1 * m1;
    const double variance = v < 0 ? 0.0 : v;  // NaN stays NaN
    mean[c] = shift[c] + m1;
    scale[c] = 1 / std::sqrt(variance + eps) * gamma[c];
    mean_out[c] = T(mean[c]);
    var_out[c] = T(variance);
  }
  T* y = out[0].as<T>();
  if (inner == 1) {
    engine::thread_pool().parallel_for(s.outer, grain_for(C), [&](int64_t b, int64_t e) {
      f.normalize_cols(x + b * C, y + b * C, e - b, C, mean.data(), scale.data(), beta.data());
    }, ctx.max_threads);
  } else {
    engine::thread_pool().parallel_for(s.outer * C, grain_for(inner), [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; ++u) {
        const size_t c = size_t(u % C);
        f.normalize_run(x + u * inner, y + u * inner, inner, mean[c], scale[c], beta[c]);
      }
    }, ctx.max_threads);
  }
}

template <class T>
void batch_backward(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                    const ChannelShape& s, double eps) {
  const int64_t C = s.channels, inner = s.inner;
  std::vector<T> ds, xs;
  const T* dy = contiguous_data<T>(in[0], ds);
  const T* x = contiguous_data<T>(in[1], xs);
  const std::vector<double> gamma = doubles_of<T>(in[2]), mean = doubles_of<T>(in[3]), variance = doubles_of<T>(in[4]);
  std::vector<double> inv(static_cast<size_t>(C));
  for (size_t c = 0; c < size_t(C); ++c) inv[c] = 1 / std::sqrt(variance[c] + eps);
  const BatchNormRows<T>& f = batch_rows<T>();
  // Sums of dy (dbeta), then of dy * xhat (dgamma), C each.
  std::vector<double> sums;
  if (inner == 1) {
    const int64_t block = col_block_rows(C, 2 * sizeof(T));
    sums = blocked_sums(ctx, s.outer, 2 * C, size_t(2 * C), [&](int64_t b, int64_t e, double* acc) {
      for (int64_t r = b; r < e; r += block) {
        f.grad_sums_cols(dy + r * C, x + r * C, std::min(block, e - r), C, mean.data(), inv.data(), acc, acc + C);
      }
    });
  } else {
    sums = blocked_sums(ctx, s.outer * C, 2 * inner, size_t(2 * C), [&](int64_t b, int64_t e, double* acc) {
      for (int64_t u = b; u < e; ++u) {
        const size_t c = size_t(u % C);
        double sd, sdx;
        f.grad_sums_run(dy + u * inner, x + u * inner, inner, mean[c], inv[c], &sd, &sdx);
        acc[c] += sd;
        acc[size_t(C) + c] += sdx;
      }
    });
  }
  // dx = gamma * inv * (dy - dbeta / count - xhat * dgamma / count).
  const double count = double(s.outer * inner);
  std::vector<double> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C)), slope(static_cast<size_t>(C));
  T *dgamma = out[1].as<T>(), *dbeta = out[2].as<T>();
  for (size_t c = 0; c < size_t(C); ++c) {
    scale[c] = gamma[c] * inv[c];
    shift[c] = sums[c] / count;
    slope[c] = inv[c] * sums[size_t(C) + c] / count;
    dbeta[c] = T(sums[c]);
    dgamma[c] = T(sums[size_t(C) + c]);
  }
  T* dx = out[0].as<T>();
  if (inner == 1) {
    engine::thread_pool().parallel_for(s.outer, grain_for(2 * C), [&](int64_t b, int64_t e) {
      f.grad_dx_cols(dy + b * C, x + b * C, dx + b * C, e - b, C, mean.data(), scale.data(), shift.data(), slope.data());
    }, ctx.max_threads);
  } else {
    engine::thread_pool().parallel_for(s.outer * C, grain_for(2 * inner), [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; ++u) {
        const size_t c = size_t(u % C);
        f.grad_dx_run(dy + u * inner, x + u * inner, dx + u * inner, inner, mean[c], scale[c], shift[c], slope[c]);
      }
    }, ctx.max_threads);
  }
}

void batch_norm_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                    const Attrs& attrs) {
  const char* op = "batchNorm";
  const ChannelShape s = channel_shape(in[0], attrs.get_int(op, "axis", 0));
  const double eps = attrs.get_float(op, "epsilon", 0);
  if (in[0].dtype == DType::Float32) batch_forward<float>(ctx, in, out, s, eps);
  else batch_forward<double>(ctx, in, out, s, eps);
}

void batch_norm_grad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in,
                         const std::vector<TensorView>& out, const Attrs& attrs) {
  const char* op = "batchNormGrad";
  const ChannelShape s = channel_shape(in[1], attrs.get_int(op, "axis", 0));
  const double eps = attrs.get_float(op, "epsilon", 0);
  if (in[1].dtype == DType::Float32) batch_backward<float>(ctx, in, out, s, eps);
  else batch_backward<double>(ctx, in, out, s, eps);
}

}  // namespace

void register_batch_norm(kernels::KernelRegistry& registry) {
  registry.register_kernel("batchNorm", engine::Device::CPU, batch_norm_cpu);
  registry.register_kernel("batchNormGrad", engine::Device::CPU, batch_norm_grad_cpu);
}

}  // namespace keras::cpu
