#include "matmul.h"

#include <algorithm>


namespace keras::kernels {
namespace {

std::string describe(const Shape& a, const Shape& b, bool transpose_a, bool transpose_b) {
  std::string s = "shapes " + engine::format_shape(a) + " and " + engine::format_shape(b);
  if (transpose_a || transpose_b) {
    s += std::string(" (transposeA=") + (transpose_a ? "true" : "false") +
         ", transposeB=" + (transpose_b ? "true" : "false") + ")";
  }
  return s;
}

std::vector<TensorSpec> infer_matmul(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const TensorSpec& a = inputs[0];
  const TensorSpec& b = inputs[1];
  if (a.dtype != b.dtype) {
    throw OpError("DTypeError", std::string("matmul: both inputs must have the same dtype, received ") +
                                    engine::dtype_name(a.dtype) + " and " + engine::dtype_name(b.dtype) +
                                    " for shapes " + engine::format_shape(a.shape) + " and " +
                                    engine::format_shape(b.shape));
  }
  if (a.dtype == DType::Bool) {
    throw OpError("DTypeError", "matmul: bool inputs are not supported, received shapes " +
                                    engine::format_shape(a.shape) + " and " + engine::format_shape(b.shape));
  }
  MatmulPlan plan = plan_matmul(a.shape, b.shape, attrs.get_bool("matmul", "transposeA", false),
                                attrs.get_bool("matmul", "transposeB", false));
  return {{a.dtype, plan.out_shape}};
}

}  // namespace

MatmulPlan plan_matmul(const Shape& a, const Shape& b, bool transpose_a, bool transpose_b) {
  if (a.empty() || b.empty()) {
    throw OpError("ShapeError", "matmul: inputs must have rank >= 1, received " +
                                    describe(a, b, transpose_a, transpose_b));
  }
  MatmulPlan plan;
  const size_t ra = a.size(), rb = b.size();
  int64_t a_rows = 1, a_cols = a.back();
  if (ra >= 2) {
    a_rows = transpose_a ? a[ra - 1] : a[ra - 2];
    a_cols = transpose_a ? a[ra - 2] : a[ra - 1];
  }
  int64_t b_rows = b.front(), b_cols = 1;
  if (rb >= 2) {
    b_rows = transpose_b ? b[rb - 1] : b[rb - 2];
    b_cols = transpose_b ? b[rb - 2] : b[rb - 1];
  }
  if (a_cols != b_rows) {
    throw OpError("ShapeError", "matmul: incompatible " + describe(a, b, transpose_a, transpose_b) +
                                    ": the contracted dimensions differ (" + std::to_string(a_cols) + " vs " +
                                    std::to_string(b_rows) + ")");
  }
  plan.m = a_rows;
  plan.k = a_cols;
  plan.n = b_cols;
  // numpy broadcasting of the batch dimensions, aligned from the right.
  const size_t batch_a = ra >= 2 ? ra - 2 : 0, batch_b = rb >= 2 ? rb - 2 : 0;
  const size_t batch_rank = std::max(batch_a, batch_b);
  plan.batch_shape.assign(batch_rank, 1);
  for (size_t i = 0; i < batch_rank; ++i) {
    int64_t da = i + batch_a >= batch_rank ? a[i + batch_a - batch_rank] : 1;
    int64_t db = i + batch_b >= batch_rank ? b[i + batch_b - batch_rank] : 1;
    if (da != db && da != 1 && db != 1) {
      throw OpError("ShapeError", "matmul: cannot broadcast the batch dimensions of " +
                                      describe(a, b, transpose_a, transpose_b));
    }
    plan.batch_shape[i] = da == 1 ? db : da;
  }
  plan.out_shape = plan.batch_shape;
  if (ra >= 2) plan.out_shape.push_back(plan.m);
  if (rb >= 2) plan.out_shape.push_back(plan.n);
  return plan;
}

MatmulOperandLayout matmul_layout(const MatmulPlan& plan, const Shape& shape, const Shape& strides, bool transpose,
                                  bool is_left) {
  MatmulOperandLayout layout;
  const size_t rank = shape.size();
  if (rank == 1) {
    // A vector is one row of op(A) or one column of op(B).
    if (is_left) {
      layout.col_stride = strides[0];
    } else {
      layout.row_stride = strides[0];
    }
  } else {
    layout.row_stride = transpose ? strides[rank - 1] : strides[rank - 2];
    layout.col_stride = transpose ? strides[rank - 2] : strides[rank - 1];
  }
  const size_t own_batch = rank >= 2 ? rank - 2 : 0;
  const size_t batch_rank = plan.batch_shape.size();
  layout.batch_strides.assign(batch_rank, 0);
  for (size_t i = 0; i < own_batch; ++i) {
    size_t out_dim = batch_rank - own_batch + i;
    layout.batch_strides[out_dim] = shape[i] == 1 ? 0 : strides[i];
  }
  return layout;
}

std::vector<int64_t> matmul_batch_offsets(const MatmulPlan& plan, const Shape& batch_strides) {
  const int64_t count = plan.batch_count();
  std::vector<int64_t> offsets(size_t(std::max<int64_t>(count, 0)));
  const size_t rank = plan.batch_shape.size();
  Shape index(rank, 0);
  int64_t offset = 0;
  for (int64_t b = 0; b < count; ++b) {
    offsets[size_t(b)] = offset;
    // Odometer increment, keeping the offset in step.
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < plan.batch_shape[d]) {
        offset += batch_strides[d];
        break;
      }
      offset -= batch_strides[d] * (plan.batch_shape[d] - 1);
      index[d] = 0;
    }
  }
  return offsets;
}

void define_matmul(KernelRegistry& registry) { registry.define_op("matmul", 2, infer_matmul); }



}  // namespace keras::kernels
