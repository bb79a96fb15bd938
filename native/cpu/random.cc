// CPU kernels of the random primitives: randomUniform and randomNormal (with the affine of
// their bounds or mean and stddev) and dropout, the Philox4x32-10 stream of docs/random.md, bit-exact with the js backend.
// Counter-based, so any range of elements is computed independently: the output is split
// over the thread pool in ranges that start on a stream block.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../engine/thread_pool.h"
#include "conv.h"  // contiguous_data
#include "cpu_kernels.h"
#include "isa.h"
#include "random_kernels.h"

namespace keras::cpu {
namespace {

using kernels::TensorView;

// Elements per work item (a multiple of 4, the float32 elements of one stream block).
constexpr int64_t kElementsPerItem = 8192;

const random::Kernels& active_kernels() {
  return for_active_isa(random::kRandomAvx512, random::kRandomAvx2, random::kRandomPortable);
}

// Splits elements [0, n) of the draw keyed by `seed` over the pool; fn(range) per item.
template <class Fn>
void for_ranges(const kernels::KernelContext& ctx, const TensorView& seed, int64_t n, Fn fn) {
  if (n == 0) return;
  const int32_t* s = seed.as<int32_t>();
  const uint32_t k0 = uint32_t(s[0]);
  const uint32_t k1 = uint32_t(s[seed.strides.empty() ? 1 : seed.strides[0]]);
  const int64_t items = (n + kElementsPerItem - 1) / kElementsPerItem;
  const int64_t grain = n < 65536 ? items : 1;
  engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
    const int64_t first = begin * kElementsPerItem;
    fn(random::Range{first, std::min(end * kElementsPerItem, n) - first, k0, k1});
  }, ctx.max_threads);
}

// A draw {shape, dtype, scale?, shift?}: the values, then * scale, then + shift.
void draw(const char* op, random::UniformF32Fn f32, random::UniformF64Fn f64, const kernels::KernelContext& ctx,
          const std::vector<TensorView>& in, const std::vector<TensorView>& out, const kernels::Attrs& attrs) {
  const TensorView& o = out[0];
  const bool scaled = attrs.has("scale"), shifted = attrs.has("shift");
  const double scale = attrs.get_float(op, "scale", 1), shift = attrs.get_float(op, "shift", 0);
  if (o.dtype == engine::DType::Float64) {
    const random::Affine<double> a{scale, shift, scaled, shifted};
    for_ranges(ctx, in[0], o.numel(), [&](const random::Range& r) { f64(r, a, o.as<double>() + r.first); });
  } else {
    const random::Affine<float> a{float(scale), float(shift), scaled, shifted};
    for_ranges(ctx, in[0], o.numel(), [&](const random::Range& r) { f32(r, a, o.as<float>() + r.first); });
  }
}

void random_uniform_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& in,
                        const std::vector<TensorView>& out, const kernels::Attrs& attrs) {
  const random::Kernels& k = active_kernels();
  draw("randomUniform", k.uniform_f32, k.uniform_f64, ctx, in, out, attrs);
}

void random_normal_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& in,
                       const std::vector<TensorView>& out, const kernels::Attrs& attrs) {
  const random::Kernels& k = active_kernels();
  draw("randomNormal", k.normal_f32, k.normal_f64, ctx, in, out, attrs);
}

// dropout {rate}: inputs (x, seed).
void dropout_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& in,
                 const std::vector<TensorView>& out, const kernels::Attrs& attrs) {
  const TensorView& o = out[0];
  const random::Kernels& k = active_kernels();
  // q = 1 - rate in float64, as the composite: fl32(q) for the compare, fl_d(q) for the divide.
  const double q = 1 - attrs.get_float("dropout", "rate", 0);
  const float keep = float(q);
  if (o.dtype == engine::DType::Float64) {
    std::vector<double> copy;
    const double* x = contiguous_data<double>(in[0], copy);
    for_ranges(ctx, in[1], o.numel(), [&](const random::Range& r) {
      k.dropout_f64(r, keep, q, x + r.first, o.as<double>() + r.first);
    });
  } else {
    std::vector<float> copy;
    const float* x = contiguous_data<float>(in[0], copy);
    for_ranges(ctx, in[1], o.numel(), [&](const random::Range& r) {
      k.dropout_f32(r, keep, keep, x + r.first, o.as<float>() + r.first);
    });
  }
}

}  // namespace

void register_random(kernels::KernelRegistry& registry) {
  registry.register_kernel("randomUniform", engine::Device::CPU, random_uniform_cpu);
  registry.register_kernel("randomNormal", engine::Device::CPU, random_normal_cpu);
  registry.register_kernel("dropout", engine::Device::CPU, dropout_cpu);
}

}  // namespace keras::cpu
