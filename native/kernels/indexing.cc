// The `sort` and `topK` primitives (lib/ops/indexing.ts): values and int32 source
// indices along the last axis.
#include <string>
#include <vector>

#include "kernel.h"

namespace keras::kernels {
namespace {

// sort {descending}: stable, NaN last in either direction (as the js kernel).
std::vector<TensorSpec> infer_sort(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  if (x.shape.empty()) {
    throw OpError("ShapeError", "sort: x must have rank >= 1, received shape " + engine::format_shape(x.shape));
  }
  attrs.get_bool("sort", "descending", false);  // type check
  return {{x.dtype, x.shape}, {DType::Int32, x.shape}};
}

// topK {k}: the first k of the descending sort; k in [0, n] of the last axis.
std::vector<TensorSpec> infer_top_k(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  if (x.shape.empty()) {
    throw OpError("ShapeError", "topK: x must have rank >= 1, received shape " + engine::format_shape(x.shape));
  }
  const int64_t n = x.shape.back();
  const int64_t k = attrs.get_int("topK", "k", -1);
  if (k < 0 || k > n) {
    throw OpError("ValueError", "topK: k=" + std::to_string(k) + " must be an integer in [0, " + std::to_string(n) +
                                    "] for x of shape " + engine::format_shape(x.shape));
  }
  engine::Shape shape = x.shape;
  shape.back() = k;
  return {{x.dtype, shape}, {DType::Int32, shape}};
}

}  // namespace

void define_indexing_ops(KernelRegistry& registry) {
  registry.define_op("sort", 1, infer_sort);
  registry.define_op("topK", 1, infer_top_k);
}

}  // namespace keras::kernels
