// CPU matmul: float32/float64 through the packed GEMM, int32 by a plain loop
// (wrapping like numpy's int32).
#include <algorithm>

#include "../engine/thread_pool.h"
#include "../kernels/matmul.h"
#include "cpu_kernels.h"
#include "gemm.h"

namespace keras::cpu {
namespace {

using kernels::TensorView;

template <class T>
void matmul_float(const kernels::KernelContext& ctx, const kernels::MatmulPlan& plan, const TensorView& a,
                  const TensorView& b, const TensorView& c, bool transpose_a, bool transpose_b) {
  const auto la = kernels::matmul_layout(plan, a.shape, a.strides, transpose_a, true);
  const auto lb = kernels::matmul_layout(plan, b.shape, b.strides, transpose_b, false);
  GemmBatch<T> g;
  g.batch = plan.batch_count();
  g.m = plan.m;
  g.n = plan.n;
  g.k = plan.k;
  g.a = a.as<T>();
  g.a_row_stride = la.row_stride;
  g.a_col_stride = la.col_stride;
  g.b = b.as<T>();
  g.b_row_stride = lb.row_stride;
  g.b_col_stride = lb.col_stride;
  g.c = c.as<T>();
  g.c_row_stride = plan.n;
  // C strided: the graph executor's product written in the layout of a transpose that reads
  // it (rows still rows; both operands matrices, so C is [batch..., m, n]).
  const bool c_strided = !c.is_contiguous();
  if (c_strided) g.c_row_stride = c.strides[c.shape.size() - 2];
  if (g.batch > 1) {
    g.a_offsets = kernels::matmul_batch_offsets(plan, la.batch_strides);
    g.b_offsets = kernels::matmul_batch_offsets(plan, lb.batch_strides);
    if (c_strided) {
      g.c_offsets = kernels::matmul_batch_offsets(plan, engine::Shape(c.strides.begin(), c.strides.end() - 2));
    } else {
      g.c_offsets.resize(size_t(g.batch));
      for (int64_t i = 0; i < g.batch; ++i) g.c_offsets[size_t(i)] = i * plan.m * plan.n;
    }
  }
  gemm<T>(g, ctx.max_threads);
}

void matmul_int32(const kernels::MatmulPlan& plan, const TensorView& a, const TensorView& b, const TensorView& c,
                  bool transpose_a, bool transpose_b) {
  const auto la = kernels::matmul_layout(plan, a.shape, a.strides, transpose_a, true);
  const auto lb = kernels::matmul_layout(plan, b.shape, b.strides, transpose_b, false);
  const auto a_offsets = kernels::matmul_batch_offsets(plan, la.batch_strides);
  const auto b_offsets = kernels::matmul_batch_offsets(plan, lb.batch_strides);
  const int32_t* pa = a.as<int32_t>();
  const int32_t* pb = b.as<int32_t>();
  int32_t* pc = c.as<int32_t>();
  const int64_t rows = plan.batch_count() * plan.m;
  engine::thread_pool().parallel_for(rows, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, plan.n * plan.k)),
                                     [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t batch = r / plan.m, i = r % plan.m;
      const int32_t* arow = pa + a_offsets[size_t(batch)] + i * la.row_stride;
      const int32_t* bmat = pb + b_offsets[size_t(batch)];
      for (int64_t j = 0; j < plan.n; ++j) {
        uint32_t sum = 0;
        for (int64_t p = 0; p < plan.k; ++p) {
          sum += uint32_t(arow[p * la.col_stride]) * uint32_t(bmat[p * lb.row_stride + j * lb.col_stride]);
        }
        pc[r * plan.n + j] = int32_t(sum);
      }
    }
  });
}

void matmul_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
                const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const bool transpose_a = attrs.get_bool("matmul", "transposeA", false);
  const bool transpose_b = attrs.get_bool("matmul", "transposeB", false);
  const TensorView& a = inputs[0];
  const TensorView& b = inputs[1];
  const TensorView& c = outputs[0];
  const kernels::MatmulPlan plan = kernels::plan_matmul(a.shape, b.shape, transpose_a, transpose_b);
  if (c.numel() == 0) return;
  switch (a.dtype) {
    case engine::DType::Float32: return matmul_float<float>(ctx, plan, a, b, c, transpose_a, transpose_b);
    case engine::DType::Float64: return matmul_float<double>(ctx, plan, a, b, c, transpose_a, transpose_b);
    case engine::DType::Int32: return matmul_int32(plan, a, b, c, transpose_a, transpose_b);
    default: throw kernels::OpError("DTypeError", "matmul: unsupported dtype");
  }
}

}  // namespace

void register_matmul(kernels::KernelRegistry& registry) {
  registry.register_kernel("matmul", engine::Device::CPU, matmul_cpu);
}

void register_cpu_kernels(kernels::KernelRegistry& registry) {
  register_matmul(registry);
  register_elementwise(registry);
  register_reductions(registry);
  register_shape(registry);
  register_creation(registry);
  register_indexing(registry);
  register_random(registry);
  register_conv(registry);
  register_pool(registry);
  register_linalg(registry);
  register_softmax(registry);
  register_norm(registry);
  register_batch_norm(registry);
  register_rnn(registry);
  register_optimizer(registry);
  register_fused_chain(registry);
}

}  // namespace keras::cpu
