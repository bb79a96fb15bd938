// The `sort` primitive (lib/ops/indexing.ts): values and int32 source indices
// along the last axis.
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

}  // namespace

void define_indexing_ops(KernelRegistry& registry) { registry.define_op("sort", 1, infer_sort); }

}  // namespace keras::kernels
