// CPU kernels of layerNorm and layerNormGrad (lib/backends/js/nn.ts is the reference).
// x is seen as [rows, n] with n the product of the normalized trailing dims; rows are
// split over the thread pool and each runs the ISA's row function (norm.h). dgamma and
// dbeta are summed over rows in double: each of a fixed number of row blocks keeps its
// own partial sums, added in block order at the end.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "norm.h"

namespace keras::cpu {
namespace {

using engine::DType;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::TensorView;

const NormIsaTable& norm_kernels() { return for_active_isa(kNormAvx512, kNormAvx2, kNormPortable); }

template <class T>
const LayerNormRows<T>& rows_of(const NormIsaTable& table) {
  if constexpr (std::is_same_v<T, float>) return table.f32;
  else return table.f64;
}

// Rows per work item: about 16K elements, so small rows are batched and large ones split evenly.
int64_t grain_for(int64_t n) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n)); }

// Row blocks of the gradient: enough for 16 threads.
constexpr int64_t kMaxGradBlocks = 16;

struct RowShape {
  int64_t rows = 1, n = 1;
};

RowShape row_shape(const TensorView& x, int64_t axis) {
  RowShape s;
  for (int64_t d = 0; d < axis; ++d) s.rows *= x.shape[size_t(d)];
  for (int64_t d = axis; d < x.rank(); ++d) s.n *= x.shape[size_t(d)];
  return s;
}

// Whether every element of p[0, n) has the bits of p[0] (n > 0): ones and zeros stand for a
// missing gamma and beta. Blocks of 256 without a branch inside, so the loop vectorizes and a
// gamma that varies is told after the first block.
template <class T>
bool uniform(const T* p, int64_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  Bits first;
  std::memcpy(&first, p, sizeof(T));
  for (int64_t b = 0; b < n; b += 256) {
    Bits diff = 0;
    for (int64_t k = b, e = std::min<int64_t>(n, b + 256); k < e; ++k) {
      Bits v;
      std::memcpy(&v, p + k, sizeof(T));
      diff |= v ^ first;
    }
    if (diff != 0) return false;
  }
  return true;
}

template <class T>
void forward(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
             const RowShape& s, double eps, bool rms) {
  std::vector<T> xs, gs, bs;
  const T* x = contiguous_data<T>(in[0], xs);
  const T* gamma = contiguous_data<T>(in[1], gs);
  const T* beta = contiguous_data<T>(in[2], bs);
  T *y = out[0].as<T>(), *mean = out[1].as<T>(), *rstd = out[2].as<T>();
  // A check of 2n elements against rows * n of work. Uniform ones and zeros (layerNormalization
  // without gamma and beta) then save two loads a vector: float32 4096 x 4096 on one avx512
  // thread, 0.77x the time in cache (16 rows) and 0.86-0.94x from memory.
  const LayerNormRows<T>& table = rows_of<T>(norm_kernels());
  const auto rows = s.n > 0 && uniform(gamma, s.n) && uniform(beta, s.n) ? table.forward_uniform : table.forward;
  // Whole chunks go to the row function: its float32 pipeline overlaps one row's reads with another's arithmetic.
  engine::thread_pool().parallel_for(s.rows, grain_for(s.n), [&](int64_t b, int64_t e) {
    rows(x + b * s.n, gamma, beta, y + b * s.n, e - b, s.n, eps, rms, mean + b, rstd + b);
  }, ctx.max_threads);
}

template <class T>
void backward(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
              const RowShape& s, bool rms) {
  std::vector<T> ds, xs, gs, ms, rs;
  const T* dy = contiguous_data<T>(in[0], ds);
  const T* x = contiguous_data<T>(in[1], xs);
  const T* gamma = contiguous_data<T>(in[2], gs);
  const T* mean_t = contiguous_data<T>(in[3], ms);
  const T* rstd_t = contiguous_data<T>(in[4], rs);
  const std::vector<double> mean(mean_t, mean_t + s.rows), rstd(rstd_t, rstd_t + s.rows);
  T *dx = out[0].as<T>(), *dgamma = out[1].as<T>(), *dbeta = out[2].as<T>();
  const auto backward_rows = rows_of<T>(norm_kernels()).backward;
  // Row blocks from the sizes alone, never the thread count, so dgamma and dbeta are the same bits
  // on any thread count. Each owns 2n partial sums: with at least kGradRows rows a block, they
  // take at most half the bytes of dy and x.
  const int64_t blocks =
      std::clamp<int64_t>(s.rows / std::max<int64_t>(grain_for(s.n), kGradRows), 1, kMaxGradBlocks);
  std::vector<double> partial(size_t(blocks * 2 * s.n), 0.0);
  // A dx larger than the last-level cache reaches its consumer from memory anyway: written around the caches.
  const bool stream_dx = engine::past_last_level_cache(s.rows * s.n * int64_t(sizeof(T)));
  engine::thread_pool().parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      double* dg = partial.data() + blk * 2 * s.n;
      const int64_t r = s.rows * blk / blocks, count = s.rows * (blk + 1) / blocks - r;
      backward_rows(dy + r * s.n, x + r * s.n, gamma, mean.data() + r, rstd.data() + r, count, rms, dx + r * s.n, dg, dg + s.n, s.n,
                    stream_dx);
    }
  }, ctx.max_threads);
  // The blocks' partials added in block order, a block at a time: contiguous (vectorized) and
  // the same additions, in the same order, for each k as one k at a time.
  std::vector<double> sums(size_t(2 * s.n), 0.0);
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const double* p = partial.data() + blk * 2 * s.n;
    for (int64_t k = 0; k < 2 * s.n; ++k) sums[size_t(k)] += p[k];
  }
  for (int64_t k = 0; k < s.n; ++k) {
    dgamma[k] = T(sums[size_t(k)]);
    dbeta[k] = T(sums[size_t(s.n + k)]);
  }
}

void layer_norm_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                    const Attrs& attrs) {
  const char* op = "layerNorm";
  const RowShape s = row_shape(in[0], attrs.get_int(op, "axis", 0));
  const double eps = attrs.get_float(op, "epsilon", 0);
  const bool rms = attrs.get_bool(op, "rms", false);
  if (s.rows == 0) return;
  if (in[0].dtype == DType::Float32) forward<float>(ctx, in, out, s, eps, rms);
  else forward<double>(ctx, in, out, s, eps, rms);
}

void layer_norm_grad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in,
                         const std::vector<TensorView>& out, const Attrs& attrs) {
  const char* op = "layerNormGrad";
  const RowShape s = row_shape(in[1], attrs.get_int(op, "axis", 0));
  const bool rms = attrs.get_bool(op, "rms", false);
  if (in[1].dtype == DType::Float32) backward<float>(ctx, in, out, s, rms);
  else backward<double>(ctx, in, out, s, rms);
}

}  // namespace

void register_norm(kernels::KernelRegistry& registry) {
  registry.register_kernel("layerNorm", engine::Device::CPU, layer_norm_cpu);
  registry.register_kernel("layerNormGrad", engine::Device::CPU, layer_norm_grad_cpu);
}

}  // namespace keras::cpu
