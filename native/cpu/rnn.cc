// CPU kernels of the fused LSTM cell (lib/backends/js/nn.ts is the reference): batch rows
// split over the thread pool, each block run by the active ISA's row functions (rnn_kernels.h);
// the gradient reuses the forward's activations.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "rnn.h"

namespace keras::cpu {
namespace {

using engine::DType;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::TensorView;

template <class T>
const LstmCellRows<T>& cell_rows() {
  const RnnIsaTable& table = for_active_isa(kRnnAvx512, kRnnAvx2, kRnnPortable);
  if constexpr (std::is_same_v<T, float>) return table.f32;
  else return table.f64;
}

// Rows per work item: about 16K gate values (a [32, 4 * 128] cell is one thread's work: the
// hand-over costs more than the second thread saves).
int64_t grain_for(int64_t units) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, 4 * units)); }

template <class T>
void lstm_cell(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t batch = out[0].shape[0], units = out[0].shape[1];
  std::vector<T> zs, cs;
  const T *z = contiguous_data<T>(in[0], zs), *c = contiguous_data<T>(in[1], cs);
  T *h = out[0].as<T>(), *c_new = out[1].as<T>(), *acts = out[2].as<T>();
  engine::thread_pool().parallel_for(batch, grain_for(units), [&](int64_t begin, int64_t end) {
    cell_rows<T>().forward(z + begin * 4 * units, c + begin * units, h + begin * units, c_new + begin * units,
                           acts + begin * 5 * units, end - begin, units);
  }, ctx.max_threads);
}

template <class T>
void lstm_cell_grad(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t batch = out[1].shape[0], units = out[1].shape[1];
  std::vector<T> as, cs, dhs, dcs;
  const T *acts = contiguous_data<T>(in[0], as), *c = contiguous_data<T>(in[1], cs);
  const T *dh = contiguous_data<T>(in[2], dhs), *dc = contiguous_data<T>(in[3], dcs);
  T *dz = out[0].as<T>(), *dc_prev = out[1].as<T>();
  engine::thread_pool().parallel_for(batch, grain_for(units), [&](int64_t begin, int64_t end) {
    cell_rows<T>().backward(acts + begin * 5 * units, c + begin * units, dh + begin * units, dc + begin * units,
                            dz + begin * 4 * units, dc_prev + begin * units, end - begin, units);
  }, ctx.max_threads);
}

void lstm_cell_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                   const Attrs&) {
  if (out[0].numel() == 0) return;
  if (in[0].dtype == DType::Float64) return lstm_cell<double>(ctx, in, out);
  lstm_cell<float>(ctx, in, out);
}

void lstm_cell_grad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                        const Attrs&) {
  if (out[1].numel() == 0) return;
  if (in[0].dtype == DType::Float64) return lstm_cell_grad<double>(ctx, in, out);
  lstm_cell_grad<float>(ctx, in, out);
}

}  // namespace

void register_rnn(kernels::KernelRegistry& registry) {
  registry.register_kernel("lstmCell", engine::Device::CPU, lstm_cell_cpu);
  registry.register_kernel("lstmCellGrad", engine::Device::CPU, lstm_cell_grad_cpu);
}

}  // namespace keras::cpu
