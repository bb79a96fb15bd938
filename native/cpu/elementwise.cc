// CPU drivers of the elementwise and reduction kernels: broadcasting, merging
// of contiguous dims, and splitting over the thread pool. The per-element work
// is the active ISA's row functions (elementwise_table.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../engine/thread_pool.h"
#include "../kernels/elementwise.h"
#include "cpu_kernels.h"
#include "isa.h"

namespace keras::cpu {
namespace {

using engine::DType;
using engine::Shape;
using kernels::TensorView;

// Below this many elements a kernel runs on the calling thread.
constexpr int64_t kParallelElements = 32768;
// Elements per work item when rows are long: big enough to amortize dispatch.
constexpr int64_t kElementsPerItem = 16384;

char* byte_ptr(const TensorView& t, int64_t element_offset) {
  return static_cast<char*>(t.data) + element_offset * int64_t(engine::dtype_size(t.dtype));
}

// An iteration space: sizes from outer to inner, and each operand's stride per dim.
struct LoopNest {
  Shape sizes;
  std::vector<Shape> strides;  // [operand][dim]
};

// Drops size-1 dims and merges neighbours that every operand walks contiguously,
// so the innermost dim is as long as possible.
LoopNest collapse(const Shape& shape, const std::vector<Shape>& strides) {
  LoopNest nest;
  nest.strides.resize(strides.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !nest.sizes.empty();
    for (size_t k = 0; merge && k < strides.size(); ++k) {
      merge = nest.strides[k].back() == strides[k][d] * shape[d];
    }
    if (merge) {
      nest.sizes.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); ++k) nest.strides[k].back() = strides[k][d];
    } else {
      nest.sizes.push_back(shape[d]);
      for (size_t k = 0; k < strides.size(); ++k) nest.strides[k].push_back(strides[k][d]);
    }
  }
  if (nest.sizes.empty()) {  // a scalar: one run of one element
    nest.sizes.push_back(1);
    for (auto& s : nest.strides) s.push_back(0);
  }
  return nest;
}

// Calls run(n, offsets) over runs of the innermost dim, in parallel. offsets[k] is
// operand k's element offset of the run's first element.
template <class Run>
void for_each_run(const LoopNest& nest, Run run) {
  const size_t operands = nest.strides.size();
  const size_t rank = nest.sizes.size();
  const int64_t inner = nest.sizes.back();
  const int64_t total = engine::shape_numel(nest.sizes);
  const int64_t rows = total / inner;
  const int64_t chunks_per_row = total >= kParallelElements ? std::max<int64_t>(1, inner / kElementsPerItem) : 1;
  const int64_t chunk = (inner + chunks_per_row - 1) / chunks_per_row;
  const int64_t items = rows * chunks_per_row;
  const int64_t grain = total >= kParallelElements ? std::max<int64_t>(1, kElementsPerItem / chunk) : items;
  engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> offsets(operands);
    for (int64_t item = begin; item < end; ++item) {
      int64_t row = item / chunks_per_row;
      const int64_t j0 = (item % chunks_per_row) * chunk;
      for (size_t k = 0; k < operands; ++k) offsets[k] = j0 * nest.strides[k][rank - 1];
      for (size_t d = rank - 1; d-- > 0;) {
        const int64_t index = row % nest.sizes[d];
        row /= nest.sizes[d];
        for (size_t k = 0; k < operands; ++k) offsets[k] += index * nest.strides[k][d];
      }
      run(std::min(chunk, inner - j0), offsets.data());
    }
  });
}

// `shape`'s strides broadcast against `out_shape`: aligned right, 0 on broadcast dims.
Shape broadcast_strides(const TensorView& t, const Shape& out_shape) {
  Shape strides(out_shape.size(), 0);
  const size_t offset = out_shape.size() - t.shape.size();
  for (size_t d = 0; d < t.shape.size(); ++d) {
    strides[d + offset] = t.shape[d] == 1 ? 0 : t.strides[d];
  }
  return strides;
}

const ElementwiseTable& table() { return *active_kernels().elementwise; }

template <kernels::UnaryOp OP>
void unary_cpu(const kernels::KernelContext&, const std::vector<TensorView>& inputs,
               const std::vector<TensorView>& outputs, const kernels::Attrs&) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const UnaryRowFn fn = table().unary[int(OP)][int(x.dtype)];
  const LoopNest nest = collapse(out.shape, {x.strides, out.strides});
  const int64_t x_step = nest.strides[0].back();
  for_each_run(nest, [&](int64_t n, const int64_t* off) { fn(n, byte_ptr(x, off[0]), x_step, byte_ptr(out, off[1])); });
}

template <kernels::BinaryOp OP>
void binary_cpu(const kernels::KernelContext&, const std::vector<TensorView>& inputs,
                const std::vector<TensorView>& outputs, const kernels::Attrs&) {
  const TensorView& a = inputs[0];
  const TensorView& b = inputs[1];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const BinaryRowFn fn = table().binary[int(OP)][int(a.dtype)];
  const LoopNest nest =
      collapse(out.shape, {broadcast_strides(a, out.shape), broadcast_strides(b, out.shape), out.strides});
  const int64_t a_step = nest.strides[0].back(), b_step = nest.strides[1].back();
  for_each_run(nest, [&](int64_t n, const int64_t* off) {
    fn(n, byte_ptr(a, off[0]), a_step, byte_ptr(b, off[1]), b_step, byte_ptr(out, off[2]));
  });
}

// Stores a double the way a JS TypedArray would (see elementwise_kernels.h).
void store_js(const TensorView& out, int64_t index, double value) {
  switch (out.dtype) {
    case DType::Float32: static_cast<float*>(out.data)[index] = float(value); break;
    case DType::Float64: static_cast<double*>(out.data)[index] = value; break;
    case DType::Int32: {
      double t = std::isfinite(value) ? std::fmod(std::trunc(value), 4294967296.0) : 0;
      if (t < 0) t += 4294967296.0;
      if (t >= 2147483648.0) t -= 4294967296.0;
      static_cast<int32_t*>(out.data)[index] = int32_t(t);
      break;
    }
    case DType::Bool: static_cast<uint8_t*>(out.data)[index] = value != 0 ? 1 : 0; break;
  }
}

constexpr double reduce_identity(kernels::ReduceOp op) {
  switch (op) {
    case kernels::ReduceOp::Prod:
    case kernels::ReduceOp::All: return 1;
    case kernels::ReduceOp::Max: return -HUGE_VAL;
    case kernels::ReduceOp::Min: return HUGE_VAL;
    default: return 0;
  }
}

// A reduction as dims of the input: kept dims index the output, reduced dims
// are folded. Both lists are merged where contiguous, outer to inner.
struct ReductionNest {
  Shape kept_sizes, kept_x_strides, kept_out_strides;
  Shape reduced_sizes, reduced_strides;
  bool last_dim_reduced = true;  // is the input's innermost (non-1) dim reduced?
};

ReductionNest plan_reduction(const TensorView& x, const std::vector<int>& axes) {
  ReductionNest nest;
  Shape out_strides(x.shape.size(), 0);
  int64_t stride = 1;
  for (size_t d = x.shape.size(); d-- > 0;) {
    if (std::find(axes.begin(), axes.end(), int(d)) != axes.end()) continue;
    out_strides[d] = stride;
    stride *= x.shape[d];
  }
  int previous_reduced = -1;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    const int64_t size = x.shape[d];
    if (size == 1) continue;
    const bool reduced = std::find(axes.begin(), axes.end(), int(d)) != axes.end();
    Shape& sizes = reduced ? nest.reduced_sizes : nest.kept_sizes;
    Shape& strides = reduced ? nest.reduced_strides : nest.kept_x_strides;
    // Merge with the previous dim only if it was of the same kind and contiguous with this one.
    if (previous_reduced == int(reduced) && strides.back() == x.strides[d] * size &&
        (reduced || nest.kept_out_strides.back() == out_strides[d] * size)) {
      sizes.back() *= size;
      strides.back() = x.strides[d];
      if (!reduced) nest.kept_out_strides.back() = out_strides[d];
    } else {
      sizes.push_back(size);
      strides.push_back(x.strides[d]);
      if (!reduced) nest.kept_out_strides.push_back(out_strides[d]);
    }
    previous_reduced = int(reduced);
    nest.last_dim_reduced = reduced;
  }
  return nest;
}

template <kernels::ReduceOp OP>
void reduce_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
                const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  const int64_t out_count = out.numel();
  if (out_count == 0) return;
  const std::vector<int> axes = kernels::reduction_axes(ctx.op_name, attrs, x.rank());
  int64_t reduced_count = 1;
  for (int axis : axes) reduced_count *= x.shape[size_t(axis)];
  auto finish = [&](double acc) { return OP == kernels::ReduceOp::Mean ? acc / double(reduced_count) : acc; };
  if (reduced_count == 0) {  // empty folds: the identity (mean: 0/0 = NaN)
    for (int64_t i = 0; i < out_count; ++i) store_js(out, i, finish(reduce_identity(OP)));
    return;
  }
  const ReductionNest nest = plan_reduction(x, axes);
  const ReduceRowFn row_fn = table().reduce_row[int(OP)][int(x.dtype)];
  const ReduceColumnsFn columns_fn = table().reduce_columns[int(OP)][int(x.dtype)];
  const size_t kept_rank = nest.kept_sizes.size(), reduced_rank = nest.reduced_sizes.size();
  const int64_t per_output = reduced_count;

  // Offset of output element `o`'s first input element, and its output index.
  auto kept_offsets = [&](int64_t o, size_t dims, int64_t* x_offset, int64_t* out_offset) {
    *x_offset = 0;
    *out_offset = 0;
    for (size_t d = dims; d-- > 0;) {
      const int64_t index = o % nest.kept_sizes[d];
      o /= nest.kept_sizes[d];
      *x_offset += index * nest.kept_x_strides[d];
      *out_offset += index * nest.kept_out_strides[d];
    }
  };
  // Visits the element offset of every combination of the first `dims` reduced dims.
  auto for_each_reduced = [&](size_t dims, auto visit) {
    std::vector<int64_t> index(dims, 0);
    int64_t offset = 0;
    for (;;) {
      visit(offset);
      size_t d = dims;
      while (d-- > 0) {
        offset += nest.reduced_strides[d];
        if (++index[d] < nest.reduced_sizes[d]) break;
        offset -= nest.reduced_strides[d] * nest.reduced_sizes[d];
        index[d] = 0;
      }
      if (d == size_t(-1)) return;
    }
  };

  const int64_t total = x.numel();
  if (nest.last_dim_reduced || kept_rank == 0) {
    // Each output folds runs along the contiguous reduced inner dim.
    const int64_t inner = reduced_rank ? nest.reduced_sizes.back() : 1;
    const int64_t inner_stride = reduced_rank ? nest.reduced_strides.back() : 0;
    const size_t outer_reduced = reduced_rank ? reduced_rank - 1 : 0;
    const int64_t grain = total >= kParallelElements ? std::max<int64_t>(1, kElementsPerItem / per_output) : out_count;
    engine::thread_pool().parallel_for(out_count, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        int64_t x_offset, out_offset;
        kept_offsets(o, kept_rank, &x_offset, &out_offset);
        double acc = reduce_identity(OP);
        const char* base = static_cast<const char*>(x.data) + x_offset * int64_t(engine::dtype_size(x.dtype));
        for_each_reduced(outer_reduced, [&](int64_t offset) {
          acc = row_fn(inner, base + offset * int64_t(engine::dtype_size(x.dtype)), inner_stride, acc);
        });
        store_js(out, out_offset, finish(acc));
      }
    });
    return;
  }
  // The inner dim is kept: fold whole rows of outputs at once, column-wise.
  const int64_t inner = nest.kept_sizes.back();
  const int64_t inner_x_stride = nest.kept_x_strides.back();
  const int64_t outer_rows = out_count / inner;
  const int64_t chunks = total >= kParallelElements ? std::max<int64_t>(1, inner / 4096) : 1;
  const int64_t chunk = (inner + chunks - 1) / chunks;
  const int64_t items = outer_rows * chunks;
  const int64_t grain = total >= kParallelElements ? std::max<int64_t>(1, kElementsPerItem / (chunk * per_output)) : items;
  engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(static_cast<size_t>(chunk));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t row = item / chunks, j0 = (item % chunks) * chunk;
      const int64_t n = std::min(chunk, inner - j0);
      int64_t x_offset, out_offset;
      kept_offsets(row, kept_rank - 1, &x_offset, &out_offset);
      std::fill(acc.begin(), acc.begin() + n, reduce_identity(OP));
      const char* base = static_cast<const char*>(x.data) +
                         (x_offset + j0 * inner_x_stride) * int64_t(engine::dtype_size(x.dtype));
      for_each_reduced(reduced_rank, [&](int64_t offset) {
        columns_fn(n, base + offset * int64_t(engine::dtype_size(x.dtype)), inner_x_stride, acc.data());
      });
      for (int64_t j = 0; j < n; ++j) store_js(out, out_offset + (j0 + j) * nest.kept_out_strides.back(), finish(acc[size_t(j)]));
    }
  });
}

}  // namespace

void register_elementwise(kernels::KernelRegistry& registry) {
#define KERAS_REGISTER_UNARY(name, Enum, kind) \
  registry.register_kernel(#name, engine::Device::CPU, unary_cpu<kernels::UnaryOp::Enum>);
#define KERAS_REGISTER_BINARY(name, Enum, kind) \
  registry.register_kernel(#name, engine::Device::CPU, binary_cpu<kernels::BinaryOp::Enum>);
#define KERAS_REGISTER_REDUCE(name, Enum, kind) \
  registry.register_kernel(#name, engine::Device::CPU, reduce_cpu<kernels::ReduceOp::Enum>);
  KERAS_UNARY_OPS(KERAS_REGISTER_UNARY)
  KERAS_BINARY_OPS(KERAS_REGISTER_BINARY)
  KERAS_REDUCE_OPS(KERAS_REGISTER_REDUCE)
#undef KERAS_REGISTER_UNARY
#undef KERAS_REGISTER_BINARY
#undef KERAS_REGISTER_REDUCE
}

}  // namespace keras::cpu
