// matmul: numpy semantics (1-D operands are promoted then squeezed, batch
// dimensions broadcast), plus attrs transposeA / transposeB that swap the last
// two dimensions of an operand of rank >= 2.
#pragma once
#include <cstdint>

#include "kernel.h"

namespace keras::kernels {

struct MatmulOperandLayout {
  // op(X)'s element (row, col) of batch b sits at offset(b) + row*row_stride + col*col_stride.
  int64_t row_stride = 0, col_stride = 0;
  Shape batch_strides;  // one per output batch dim, 0 where broadcast
};

struct MatmulPlan {
  int64_t m = 0, n = 0, k = 0;
  Shape batch_shape;
  Shape out_shape;
  int64_t batch_count() const { return engine::shape_numel(batch_shape); }
};

// Throws OpError naming matmul and both shapes when they do not fit.
MatmulPlan plan_matmul(const Shape& a, const Shape& b, bool transpose_a, bool transpose_b);

// Where op(A) or op(B) lives for a given view; `is_left` picks the role.
MatmulOperandLayout matmul_layout(const MatmulPlan& plan, const Shape& shape, const Shape& strides, bool transpose,
                                  bool is_left);

// Element offset of every batch matrix, in batch order.
std::vector<int64_t> matmul_batch_offsets(const MatmulPlan& plan, const Shape& batch_strides);

void define_matmul(KernelRegistry& registry);

}  // namespace keras::kernels
