// CPU drivers of the reductions (sum ... all), argmax/argmin and cumsum/cumprod.
// Folds accumulate in double, as the js backend does, and store with its rules.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../engine/thread_pool.h"
#include "../kernels/elementwise.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "loop_nest.h"

namespace keras::cpu {
namespace {

using namespace loops;

const ElementwiseTable& table() { return *active_kernels().elementwise; }

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

// The input as [outer, axis, inner] element offsets: outer and inner dims are
// walked with their own strides, so any strided input works.
struct AxisSplit {
  int64_t outer_count = 1, axis_size = 1, axis_stride = 0, inner_count = 1;
  std::vector<int64_t> outer_offsets, inner_offsets;
};

std::vector<int64_t> offsets_of(const Shape& sizes, const Shape& strides) {
  std::vector<int64_t> offsets(size_t(engine::shape_numel(sizes)));
  Shape index(sizes.size(), 0);
  int64_t offset = 0;
  for (size_t i = 0; i < offsets.size(); ++i) {
    offsets[i] = offset;
    for (size_t d = sizes.size(); d-- > 0;) {
      offset += strides[d];
      if (++index[d] < sizes[d]) break;
      offset -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
  return offsets;
}

AxisSplit split_at(const TensorView& x, int axis) {
  AxisSplit split;
  const Shape outer_sizes(x.shape.begin(), x.shape.begin() + axis);
  const Shape outer_strides(x.strides.begin(), x.strides.begin() + axis);
  const Shape inner_sizes(x.shape.begin() + axis + 1, x.shape.end());
  const Shape inner_strides(x.strides.begin() + axis + 1, x.strides.end());
  split.axis_size = x.shape[size_t(axis)];
  split.axis_stride = x.strides[size_t(axis)];
  split.outer_offsets = offsets_of(outer_sizes, outer_strides);
  split.inner_offsets = offsets_of(inner_sizes, inner_strides);
  split.outer_count = int64_t(split.outer_offsets.size());
  split.inner_count = int64_t(split.inner_offsets.size());
  return split;
}

// argmax/argmin as the js backend: the first extreme wins ties, the first NaN wins outright.
template <bool is_argmin>
void arg_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
             const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const AxisSplit split = split_at(x, kernels::reduction_axis(ctx.op_name, attrs, x.shape));
  int32_t* result = static_cast<int32_t*>(out.data);
  with_element_type(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* data = static_cast<const T*>(x.data);
    const int64_t count = split.outer_count * split.inner_count;
    const int64_t grain = std::max<int64_t>(1, kElementsPerItem / split.axis_size);
    engine::thread_pool().parallel_for(count, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* p = data + split.outer_offsets[size_t(o / split.inner_count)] +
                     split.inner_offsets[size_t(o % split.inner_count)];
        double best = double(p[0]);
        int32_t best_index = 0;
        for (int64_t k = 1; k < split.axis_size && best == best; ++k) {
          const double v = double(p[k * split.axis_stride]);
          if ((is_argmin ? v < best : v > best) || v != v) {
            best = v;
            best_index = int32_t(k);
          }
        }
        result[o] = best_index;
      }
    });
  });
}

// cumsum/cumprod: running folds in double along the axis, each prefix stored with JS rules.
template <bool is_cumprod>
void scan_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
              const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const int axis = kernels::reduction_axis(ctx.op_name, attrs, x.shape);
  const AxisSplit split = split_at(x, axis);
  const int64_t out_inner = engine::shape_numel(Shape(out.shape.begin() + axis + 1, out.shape.end()));
  with_element_type(x.dtype, [&](auto in_tag) {
    using In = decltype(in_tag);
    with_element_type(out.dtype, [&](auto out_tag) {
      using Out = decltype(out_tag);
      const In* data = static_cast<const In*>(x.data);
      Out* result = static_cast<Out*>(out.data);
      // Inner positions in blocks: each block keeps its running values while k advances,
      // so both input and output are read along rows.
      const int64_t block = std::min<int64_t>(split.inner_count, 1024);
      const int64_t blocks = (split.inner_count + block - 1) / block;
      const int64_t items = split.outer_count * blocks;
      const int64_t grain = std::max<int64_t>(1, kElementsPerItem / (block * split.axis_size));
      engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
        std::vector<double> acc(static_cast<size_t>(block));
        for (int64_t item = begin; item < end; ++item) {
          const int64_t o = item / blocks, i0 = (item % blocks) * block;
          const int64_t n = std::min(block, split.inner_count - i0);
          std::fill(acc.begin(), acc.begin() + n, is_cumprod ? 1.0 : 0.0);
          const In* in_base = data + split.outer_offsets[size_t(o)];
          Out* out_base = result + o * split.axis_size * out_inner;
          for (int64_t k = 0; k < split.axis_size; ++k) {
            for (int64_t i = 0; i < n; ++i) {
              const double v = double(in_base[k * split.axis_stride + split.inner_offsets[size_t(i0 + i)]]);
              acc[size_t(i)] = is_cumprod ? acc[size_t(i)] * v : acc[size_t(i)] + v;
              out_base[k * out_inner + i0 + i] = js_convert<Out>(acc[size_t(i)]);
            }
          }
        }
      });
    });
  });
}

}  // namespace

void register_reductions(kernels::KernelRegistry& registry) {
  registry.register_kernel("argmax", engine::Device::CPU, arg_cpu<false>);
  registry.register_kernel("argmin", engine::Device::CPU, arg_cpu<true>);
  registry.register_kernel("cumsum", engine::Device::CPU, scan_cpu<false>);
  registry.register_kernel("cumprod", engine::Device::CPU, scan_cpu<true>);
#define KERAS_REGISTER_REDUCE(name, Enum, kind) \
  registry.register_kernel(#name, engine::Device::CPU, reduce_cpu<kernels::ReduceOp::Enum>);
  KERAS_REDUCE_OPS(KERAS_REGISTER_REDUCE)
#undef KERAS_REGISTER_REDUCE
}

}  // namespace keras::cpu
