// Shape/dtype inference of the fused batch normalization, as lib/ops/nn.ts defines it:
//   batchNorm [x, gamma, beta] {axis, epsilon} -> [y, mean, variance]: batch statistics over
//     every axis but the channel axis `axis`; gamma, beta, mean, variance shaped [C];
//   batchNormGrad [dy, x, gamma, mean, variance] {axis, epsilon} -> [dx, dgamma, dbeta].
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

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

// x float, `axis` its channel axis, epsilon >= 0; returns the per-channel shape [C].
Shape channels_of(const char* op, const TensorSpec& x, const Attrs& attrs) {
  if (x.dtype != DType::Float32 && x.dtype != DType::Float64) {
    throw OpError("DTypeError", std::string(op) + ": expected a float tensor x, received " + engine::dtype_name(x.dtype) +
                                    " " + format_shape(x.shape));
  }
  if (!attrs.has("axis")) throw OpError("ValueError", std::string(op) + ": attribute axis is required");
  const int64_t axis = attrs.get_int(op, "axis", 0);
  if (axis < 0 || axis >= int64_t(x.shape.size())) {
    throw OpError("ValueError", std::string(op) + ": axis " + std::to_string(axis) + " is out of range for x of shape " +
                                    format_shape(x.shape) + " (the channel axis, non-negative, is expected)");
  }
  if (!attrs.has("epsilon")) throw OpError("ValueError", std::string(op) + ": attribute epsilon is required");
  const double epsilon = attrs.get_float(op, "epsilon", 0);
  if (!(epsilon >= 0)) {
    throw OpError("ValueError", std::string(op) + ": attribute epsilon must be a non-negative number, received " +
                                    std::to_string(epsilon));
  }
  return {x.shape[size_t(axis)]};
}

std::string channels_what(const TensorSpec& x, const Attrs& attrs, const char* op) {
  return "the channels (axis " + std::to_string(attrs.get_int(op, "axis", 0)) + ") of x " + format_shape(x.shape);
}

std::vector<TensorSpec> infer_batch_norm(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = "batchNorm";
  const TensorSpec& x = in[0];
  const Shape c = channels_of(op, x, attrs);
  expect_spec(op, "gamma", in[1], x, c, channels_what(x, attrs, op));
  expect_spec(op, "beta", in[2], x, c, channels_what(x, attrs, op));
  return {{x.dtype, x.shape}, {x.dtype, c}, {x.dtype, c}};
}

std::vector<TensorSpec> infer_batch_norm_grad(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = "batchNormGrad";
  const TensorSpec& x = in[1];
  const Shape c = channels_of(op, x, attrs);
  expect_spec(op, "dy", in[0], x, x.shape, "x");
  expect_spec(op, "gamma", in[2], x, c, channels_what(x, attrs, op));
  expect_spec(op, "mean", in[3], x, c, channels_what(x, attrs, op));
  expect_spec(op, "variance", in[4], x, c, channels_what(x, attrs, op));
  return {{x.dtype, x.shape}, {x.dtype, c}, {x.dtype, c}};
}

}  // namespace

void define_batch_norm_ops(KernelRegistry& registry) {
  registry.define_op("batchNorm", 3, infer_batch_norm);
  registry.define_op("batchNormGrad", 5, infer_batch_norm_grad);
}

}  // namespace keras::kernels
