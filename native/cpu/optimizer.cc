// CPU kernels of the fused optimizer updates (lib/backends/js/optimizer.ts is the reference):
// elements split over the thread pool, each range run by the active ISA's row function
// (optimizer_kernels.h).
#include <vector>

#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "optimizer.h"

namespace keras::cpu {
namespace {

using engine::DType;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::TensorView;

template <class T>
const OptimizerRows<T>& optimizer_rows() {
  return rows_of<T>(for_active_isa(kOptimizerAvx512, kOptimizerAvx2, kOptimizerPortable));
}

// Elements per work item: 16K (seven arrays of 64 KiB in float32), so a small variable stays on
// the calling thread.
constexpr int64_t kGrain = 16384;

template <class T>
void adam_update(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                 const Attrs& attrs) {
  std::vector<T> ps, gs, ms, vs;
  const T *p = contiguous_data<T>(in[0], ps), *g = contiguous_data<T>(in[1], gs);
  const T *m = contiguous_data<T>(in[2], ms), *v = contiguous_data<T>(in[3], vs);
  // The composite's scalars: 1 - beta1 and 1 - beta2 in float64, then rounded to T.
  const AdamScalars<T> s{*in[4].as<T>(), T(1 - attrs.get_float("adamUpdate", "beta1", 0.9)),
                         T(1 - attrs.get_float("adamUpdate", "beta2", 0.999)),
                         T(attrs.get_float("adamUpdate", "epsilon", 1e-7))};
  T *p_out = out[0].as<T>(), *m_out = out[1].as<T>(), *v_out = out[2].as<T>();
  engine::thread_pool().parallel_for(out[0].numel(), kGrain, [&](int64_t begin, int64_t end) {
    optimizer_rows<T>().adam(p + begin, g + begin, m + begin, v + begin, s, p_out + begin, m_out + begin, v_out + begin,
                             end - begin);
  }, ctx.max_threads);
}

void adam_update_kernel(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                        const Attrs& attrs) {
  if (out[0].dtype == DType::Float64) adam_update<double>(ctx, in, out, attrs);
  else adam_update<float>(ctx, in, out, attrs);
}

}  // namespace

void register_optimizer(kernels::KernelRegistry& registry) {
  registry.register_kernel("adamUpdate", engine::Device::CPU, adam_update_kernel);
}

}  // namespace keras::cpu
