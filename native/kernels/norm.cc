// Shape/dtype inference of the fused layer normalization, as lib/ops/nn.ts defines it:
//   layerNorm [x, gamma, beta] {axis, epsilon, rms} -> [y, mean, rstd]: rows x[r, :] over the
//     trailing dims axis..rank-1; gamma and beta shaped like those dims; mean and rstd shaped
//     x.shape[:axis];
//   layerNormGrad [dy, x, gamma, mean, rstd] {axis, rms} -> [dx, dgamma, dbeta].
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

struct RowSplit {
  Shape rows, dims;
};

RowSplit split_rows(const char* op, const TensorSpec& x, const Attrs& attrs) {
  if (x.dtype != DType::Float32 && x.dtype != DType::Float64) {
    throw OpError("DTypeError", std::string(op) + ": expected a float tensor x, received " + engine::dtype_name(x.dtype) +
                                    " " + format_shape(x.shape));
  }
  if (!attrs.has("axis")) throw OpError("ValueError", std::string(op) + ": attribute axis is required");
  const int64_t axis = attrs.get_int(op, "axis", 0);
  if (axis < 0 || axis >= int64_t(x.shape.size())) {
    throw OpError("ValueError", std::string(op) + ": axis " + std::to_string(axis) + " is out of range for x of shape " +
                                    format_shape(x.shape) + " (the first normalized axis, non-negative, is expected)");
  }
  return {Shape(x.shape.begin(), x.shape.begin() + axis), Shape(x.shape.begin() + axis, x.shape.end())};
}

void expect_spec(const char* op, const char* name, const TensorSpec& t, const TensorSpec& x, const Shape& shape,
                 const std::string& what) {
  if (t.dtype != x.dtype) {
    throw OpError("DTypeError", std::string(op) + ": " + name + " must be " + engine::dtype_name(x.dtype) +
                                    " like x, received " + engine::dtype_name(t.dtype) + " " + format_shape(t.shape));
  }
  if (t.shape != shape) {
    throw OpError("ShapeError", std::string(op) + ": " + name + " must have the shape " + format_shape(shape) + " of " +
                                    what + ", received " + format_shape(t.shape));
  }
}

std::vector<TensorSpec> infer_layer_norm(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = "layerNorm";
  const TensorSpec& x = in[0];
  const RowSplit s = split_rows(op, x, attrs);
  const std::string dims_of = "the normalized dims of x " + format_shape(x.shape);
  expect_spec(op, "gamma", in[1], x, s.dims, dims_of);
  expect_spec(op, "beta", in[2], x, s.dims, dims_of);
  if (!attrs.has("epsilon")) throw OpError("ValueError", std::string(op) + ": attribute epsilon is required");
  attrs.get_float(op, "epsilon", 0);
  attrs.get_bool(op, "rms", false);
  return {{x.dtype, x.shape}, {x.dtype, s.rows}, {x.dtype, s.rows}};
}

std::vector<TensorSpec> infer_layer_norm_grad(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = "layerNormGrad";
  const TensorSpec &dy = in[0], &x = in[1], &gamma = in[2];
  const RowSplit s = split_rows(op, x, attrs);
  const std::string rows_of = "the rows of x " + format_shape(x.shape);
  expect_spec(op, "dy", dy, x, x.shape, "x");
  expect_spec(op, "gamma", gamma, x, s.dims, "the normalized dims of x " + format_shape(x.shape));
  expect_spec(op, "mean", in[3], x, s.rows, rows_of);
  expect_spec(op, "rstd", in[4], x, s.rows, rows_of);
  attrs.get_bool(op, "rms", false);
  return {{x.dtype, x.shape}, {x.dtype, gamma.shape}, {x.dtype, gamma.shape}};
}

}  // namespace

void define_norm_ops(KernelRegistry& registry) {
  registry.define_op("layerNorm", 3, infer_layer_norm);
  registry.define_op("layerNormGrad", 5, infer_layer_norm_grad);
}

}  // namespace keras::kernels
