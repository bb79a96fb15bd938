// Creation ops with no inputs (lib/ops/creation.ts): fill and arange.
#include <cmath>
#include <string>
#include <vector>

#include "kernel.h"

namespace keras::kernels {
namespace {

DType creation_dtype(const char* op, const Attrs& attrs) {
  const std::string name = attrs.get_string(op, "dtype", "float32");
  DType dtype;
  if (!engine::parse_dtype(name, &dtype)) {
    throw OpError("DTypeError", std::string(op) + ": unknown dtype \"" + name +
                                    "\"; expected one of float32, float64, int32, bool");
  }
  return dtype;
}

// fill {shape, value, dtype}: every element `value` as the dtype stores it.
std::vector<TensorSpec> infer_fill(const std::vector<TensorSpec>&, const Attrs& attrs) {
  if (!attrs.has("value")) throw OpError("DTypeError", "fill: value must be a number");
  attrs.get_float("fill", "value", 0);  // a bool or a string is a DTypeError in TS, a type error here
  const std::vector<int64_t> shape = attrs.get_ints("fill", "shape", {});
  std::string listed = "[";
  bool ok = attrs.has("shape");
  for (size_t i = 0; i < shape.size(); ++i) {
    ok = ok && shape[i] >= 0;
    listed += (i ? "," : "") + std::to_string(shape[i]);
  }
  if (!ok) {
    throw OpError("ShapeError", "fill: shape must be an array of non-negative integers, received " + listed + "]");
  }
  return {{creation_dtype("fill", attrs), Shape(shape.begin(), shape.end())}};
}

// arange {start, step, size, dtype}: start + i * step in double, then stored.
std::vector<TensorSpec> infer_arange(const std::vector<TensorSpec>&, const Attrs& attrs) {
  const double start = attrs.get_float("arange", "start", 0);
  const double step = attrs.get_float("arange", "step", 1);
  if (!std::isfinite(start) || !std::isfinite(step)) {
    throw OpError("ValueError", "arange: start and step must be finite numbers");
  }
  const int64_t size = attrs.get_int("arange", "size", -1);
  if (size < 0) throw OpError("ShapeError", "arange: size must be a non-negative integer, received " + std::to_string(size));
  return {{creation_dtype("arange", attrs), Shape{size}}};
}

}  // namespace

void define_creation_ops(KernelRegistry& registry) {
  registry.define_op("fill", 0, infer_fill);
  registry.define_op("arange", 0, infer_arange);
}

}  // namespace keras::kernels
