// The random primitives, randomUniform, randomNormal and dropout (lib/random/random.ts; docs/random.md
// is the bit-exact spec of their values).
#include <string>
#include <vector>

#include "kernel.h"

namespace keras::kernels {
namespace {

// randomUniform / randomNormal {shape, dtype, scale?, shift?}: inputs (seed int32 (2,), optional like). A TS
// `null` dim cannot cross the binding, so a negative dim (-1) stands for it: it
// takes the same dim of `like`, which then must have shape's rank.
std::vector<TensorSpec> infer_draw(const std::string& op, const std::vector<TensorSpec>& in, const Attrs& attrs) {
  if (in.size() < 1 || in.size() > 2) {
    throw OpError("ValueError", op + ": expected a seed and an optional shape source, received " +
                                    std::to_string(in.size()) + " inputs");
  }
  const TensorSpec& seed = in[0];
  if (seed.dtype != DType::Int32) {
    throw OpError("DTypeError", std::string(op + ": seed must be int32 of shape (2,), received ") +
                                    engine::dtype_name(seed.dtype) + " " + engine::format_shape(seed.shape));
  }
  if (seed.shape.size() != 1 || seed.shape[0] != 2) {
    throw OpError("ShapeError", op + ": seed must have shape (2,), received " + engine::format_shape(seed.shape));
  }
  const std::string name = attrs.get_string(op, "dtype", "float32");
  DType dtype;
  if (!engine::parse_dtype(name, &dtype) || (dtype != DType::Float32 && dtype != DType::Float64)) {
    throw OpError("DTypeError", op + ": dtype must be float32 or float64, received " + name);
  }
  if (!attrs.has("shape")) throw OpError("ValueError", op + ": the shape attribute is required");
  const std::vector<int64_t> shape = attrs.get_ints(op, "shape", {});
  Shape out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] >= 0) {
      out.push_back(shape[i]);
      continue;
    }
    if (in.size() < 2 || in[1].shape.size() != shape.size()) {
      throw OpError("ShapeError", op + ": shape has an unknown dim " + std::to_string(i) +
                                      "; it needs a shape source of the same rank, received " +
                                      (in.size() < 2 ? std::string("none") : engine::format_shape(in[1].shape)));
    }
    out.push_back(in[1].shape[i]);
  }
  return {{dtype, out}};
}

// dropout {rate}: inputs (x float32/float64, seed int32 (2,)); the output is x's shape and dtype.
std::vector<TensorSpec> infer_dropout(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  const TensorSpec& seed = in[1];
  if (x.dtype != DType::Float32 && x.dtype != DType::Float64) {
    throw OpError("DTypeError", std::string("dropout: inputs must be float32 or float64, received ") + engine::dtype_name(x.dtype));
  }
  if (seed.dtype != DType::Int32 || seed.shape.size() != 1 || seed.shape[0] != 2) {
    throw OpError("ShapeError", std::string("dropout: seed must be int32 of shape (2,), received ") +
                                    engine::dtype_name(seed.dtype) + " " + engine::format_shape(seed.shape));
  }
  const double rate = attrs.get_float("dropout", "rate", -1);
  if (!(rate >= 0 && rate < 1)) {
    throw OpError("ValueError", "dropout: rate must be a number in [0, 1), received " + std::to_string(rate));
  }
  return {{x.dtype, x.shape}};
}

}  // namespace

void define_random_ops(KernelRegistry& registry) {
  registry.define_op("randomUniform", -1, [](const std::vector<TensorSpec>& in, const Attrs& attrs) { return infer_draw("randomUniform", in, attrs); });
  registry.define_op("randomNormal", -1, [](const std::vector<TensorSpec>& in, const Attrs& attrs) { return infer_draw("randomNormal", in, attrs); });
  registry.define_op("dropout", 2, infer_dropout);
}

}  // namespace keras::kernels
