// CPU kernels of batchNorm and batchNormGrad (lib/backends/js/norm.ts is the reference;
// native/kernels/batch_norm.cc infers shapes). x is [outer, C, inner] around the channel
// axis. Channels last (inner = 1): rows of C, per-channel column sums down the rows.
// Otherwise: contiguous runs of `inner` values of one channel. Two passes each way, since
// the statistics need all of x before the first output: one reduction pass for the
// per-channel sums (of x about a shift, or of dy and dy * (x - mean)) over fixed chunks,
// each with its own accumulators, added in chunk order (the same bits on any thread
// count); then one streaming pass writes y or dx.
#include <algorithm>
#include <cmath>
#include <cstdint>
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

template <class T>
T finite_or_zero(T v) { return std::isfinite(v) ? v : T(0); }

// Values per chunk of the reduction passes: fixed, so the sums do not depend on the thread
// count, and large (512 KiB of float32), so a thread reads long runs and the chunks' partial
// sums (2C doubles each) stay small beside the data.
constexpr int64_t kChunkElements = int64_t(1) << 17;

/**
 * Sums over [0, units) in fixed chunks of about kChunkElements values: fn(begin, end, acc)
 * adds its chunk into its own `width` doubles; returns the chunks' sums added in chunk
 * order. Threads claim contiguous ranges of chunks.
 */
template <class Fn>
std::vector<double> chunked_sums(const KernelContext& ctx, int64_t units, int64_t elements_per_unit, size_t width, Fn fn) {
  const int64_t per_chunk = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, elements_per_unit));
  const int64_t chunks = std::max<int64_t>(1, (units + per_chunk - 1) / per_chunk);
  std::vector<double> acc(size_t(chunks) * width, 0.0);
  engine::thread_pool().parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      fn(k * per_chunk, std::min(units, (k + 1) * per_chunk), acc.data() + size_t(k) * width);
    }
  }, ctx.max_threads);
  for (int64_t k = 1; k < chunks; ++k) {
    for (size_t i = 0; i < width; ++i) acc[i] += acc[size_t(k) * width + i];
  }
  acc.resize(width);
  return acc;
}

/**
 * `count` arrays of C values of T for the channels-last passes, each 64-byte aligned: a
 * vector load of the per-channel constants that splits a cache line made the write passes
 * ~20% slower.
 */
template <class T>
class ChannelArrays {
 public:
  ChannelArrays(int count, int64_t channels)
      : stride_((channels + kPerLine - 1) / kPerLine * kPerLine), store_(size_t(count * stride_ + kPerLine)) {}
  T* operator[](int k) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(store_.data());
    return reinterpret_cast<T*>((at + 63) & ~uintptr_t(63)) + k * stride_;
  }

 private:
  static constexpr int64_t kPerLine = 64 / int64_t(sizeof(T));
  int64_t stride_;
  std::vector<T> store_;
};

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
  // Per channel: the shift of the sums (a value of the channel), then the constants of y.
  ChannelArrays<T> lanes(4, C);
  T *shift = lanes[0], *center = lanes[1], *a = lanes[2], *b = lanes[3];
  for (int64_t c = 0; c < C; ++c) shift[c] = s.outer > 0 && inner > 0 ? finite_or_zero(x[c * inner]) : T(0);
  // Sums of (x - shift), then of (x - shift)^2, C each.
  std::vector<double> sums;
  if (inner == 1) {
    sums = chunked_sums(ctx, s.outer, C, size_t(2 * C), [&](int64_t r0, int64_t r1, double* acc) {
      f.sums_cols(x + r0 * C, r1 - r0, C, shift, acc, acc + C);
    });
  } else {
    sums = chunked_sums(ctx, s.outer * C, inner, size_t(2 * C), [&](int64_t u0, int64_t u1, double* acc) {
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t c = u % C;
        double s1, s2;
        f.sums_run(x + u * inner, inner, double(shift[c]), &s1, &s2);
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
    mean[c] = double(shift[c]) + m1;
    scale[c] = 1 / std::sqrt(variance + eps) * gamma[c];
    mean_out[c] = T(mean[c]);
    var_out[c] = T(variance);
  }
  T* y = out[0].as<T>();
  if (inner == 1) {
    // y = (x - center) * a + b in T: center is the mean rounded to T and b absorbs the rest of
    // it, so x - center stays exact or nearly when |mean| >> std, and no constant is large.
    for (int64_t c = 0; c < C; ++c) {
      const size_t k = size_t(c);
      center[c] = T(mean[k]);
      a[c] = T(scale[k]);
      b[c] = T(beta[k] - (mean[k] - double(center[c])) * scale[k]);
    }
    engine::thread_pool().parallel_for(s.outer, grain_for(C), [&](int64_t r0, int64_t r1) {
      f.normalize_cols(x + r0 * C, y + r0 * C, r1 - r0, C, center, a, b);
    }, ctx.max_threads);
  } else {
    engine::thread_pool().parallel_for(s.outer * C, grain_for(inner), [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
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
  // Per channel: the mean (as given, in T), then the constants of dx.
  ChannelArrays<T> lanes(4, C);
  T *mean_t = lanes[0], *a = lanes[1], *b = lanes[2], *c0 = lanes[3];
  for (int64_t c = 0; c < C; ++c) mean_t[c] = T(mean[size_t(c)]);
  // Sums of dy (dbeta), then of dy * (x - mean) (dgamma / inv), C each.
  std::vector<double> sums;
  if (inner == 1) {
    sums = chunked_sums(ctx, s.outer, 2 * C, size_t(2 * C), [&](int64_t r0, int64_t r1, double* acc) {
      f.grad_sums_cols(dy + r0 * C, x + r0 * C, r1 - r0, C, mean_t, acc, acc + C);
    });
  } else {
    sums = chunked_sums(ctx, s.outer * C, 2 * inner, size_t(2 * C), [&](int64_t u0, int64_t u1, double* acc) {
      for (int64_t u = u0; u < u1; ++u) {
        const size_t c = size_t(u % C);
        double sd, sdd;
        f.grad_sums_run(dy + u * inner, x + u * inner, inner, mean[c], &sd, &sdd);
        acc[c] += sd;
        acc[size_t(C) + c] += sdd;
      }
    });
  }
  // dx = gamma * inv * (dy - dbeta / count - xhat * dgamma / count).
  const double count = double(s.outer * inner);
  // dgamma = inv * sum(dy * (x - mean)); an empty x has dgamma 0 whatever inv (NaN here).
  if (count > 0) {
    for (size_t c = 0; c < size_t(C); ++c) sums[size_t(C) + c] *= inv[c];
  }
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
    // dx = scale * dy + (-scale * slope) * (x - mean) - scale * shift, two FMAs in T.
    for (int64_t c = 0; c < C; ++c) {
      const size_t k = size_t(c);
      a[c] = T(scale[k]);
      b[c] = T(-scale[k] * slope[k]);
      c0[c] = T(-scale[k] * shift[k]);
    }
    engine::thread_pool().parallel_for(s.outer, grain_for(2 * C), [&](int64_t r0, int64_t r1) {
      f.grad_dx_cols(dy + r0 * C, x + r0 * C, dx + r0 * C, r1 - r0, C, mean_t, a, b, c0);
    }, ctx.max_threads);
  } else {
    engine::thread_pool().parallel_for(s.outer * C, grain_for(2 * inner), [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
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
