// CPU kernel of randomUniform: the Philox4x32-10 stream of docs/random.md, bit-exact
// with the js backend. Counter-based, so any range of elements is computed
// independently: the output is split over the thread pool by blocks of 4 words.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../engine/thread_pool.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "philox.h"

namespace keras::cpu {
namespace {

using kernels::TensorView;

// Stream blocks per work item.
constexpr int64_t kBlocksPerItem = 2048;

void random_uniform_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& in,
                        const std::vector<TensorView>& out, const kernels::Attrs&) {
  const int32_t* seed = in[0].as<int32_t>();
  const uint32_t k0 = uint32_t(seed[0]);
  const uint32_t k1 = uint32_t(seed[in[0].strides.empty() ? 1 : in[0].strides[0]]);
  const TensorView& o = out[0];
  const int64_t n = o.numel();
  if (n == 0) return;
  const bool f64 = o.dtype == engine::DType::Float64;
  // float32 element i is word i; float64 element i is words 2i, 2i+1: 4 or 2 per block.
  const int64_t per_block = f64 ? 2 : 4;
  const int64_t blocks = (n + per_block - 1) / per_block;
  const int64_t grain = n < 65536 ? blocks : kBlocksPerItem;
  const philox::UniformF32Fn f32 = for_active_isa(philox::uniform_f32_avx512, philox::uniform_f32_avx2, philox::uniform_f32_portable);
  const philox::UniformF64Fn f64_fn = for_active_isa(philox::uniform_f64_avx512, philox::uniform_f64_avx2, philox::uniform_f64_portable);
  engine::thread_pool().parallel_for(blocks, grain, [&](int64_t begin, int64_t end) {
    if (f64) {
      f64_fn(begin, end - begin, k0, k1, o.as<double>(), n);
    } else {
      f32(begin, end - begin, k0, k1, o.as<float>(), n);
    }
  }, ctx.max_threads);
}

}  // namespace

void register_random(kernels::KernelRegistry& registry) {
  registry.register_kernel("randomUniform", engine::Device::CPU, random_uniform_cpu);
}

}  // namespace keras::cpu
