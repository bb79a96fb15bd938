// CPU kernels of fill and arange, storing values as the js backend's TypedArrays
// do (float32 rounds to nearest, int32 truncates and wraps, bool is value != 0).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../engine/thread_pool.h"
#include "cpu_kernels.h"

namespace keras::cpu {
namespace {

using kernels::TensorView;

constexpr int64_t kElementsPerItem = 1 << 15;

// JS number -> the element type (bool handled by the callers: v != 0).
template <class T>
T js_store(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return T(v);
  } else {
    double t = std::isfinite(v) ? std::fmod(std::trunc(v), 4294967296.0) : 0;
    if (t < 0) t += 4294967296.0;
    if (t >= 2147483648.0) t -= 4294967296.0;
    return T(t);
  }
}

template <class Fn>
void with_type(engine::DType dtype, Fn&& fn) {
  switch (dtype) {
    case engine::DType::Float32: return fn(float{});
    case engine::DType::Float64: return fn(double{});
    case engine::DType::Int32: return fn(int32_t{});
    case engine::DType::Bool: return fn(uint8_t{});
  }
}

template <class T>
T stored(double v) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return v != 0 ? 1 : 0;  // NaN != 0
  } else {
    return js_store<T>(v);
  }
}

void fill_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>&, const std::vector<TensorView>& out,
              const kernels::Attrs& attrs) {
  const TensorView& o = out[0];
  const double value = attrs.get_float("fill", "value", 0);
  const int64_t n = o.numel();
  with_type(o.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T v = stored<T>(value);
    T* data = o.as<T>();
    engine::thread_pool().parallel_for(n, kElementsPerItem, [&](int64_t begin, int64_t end) {
      std::fill(data + begin, data + end, v);
    }, ctx.max_threads);
  });
}

void arange_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>&, const std::vector<TensorView>& out,
                const kernels::Attrs& attrs) {
  const TensorView& o = out[0];
  const double start = attrs.get_float("arange", "start", 0);
  const double step = attrs.get_float("arange", "step", 1);
  const int64_t n = o.numel();
  with_type(o.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* data = o.as<T>();
    engine::thread_pool().parallel_for(n, kElementsPerItem, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const double product = double(i) * step;  // two roundings, as JS: no fused multiply-add
        data[i] = stored<T>(start + product);
      }
    }, ctx.max_threads);
  });
}

}  // namespace

void register_creation(kernels::KernelRegistry& registry) {
  registry.register_kernel("fill", engine::Device::CPU, fill_cpu);
  registry.register_kernel("arange", engine::Device::CPU, arange_cpu);
}

}  // namespace keras::cpu
