// Shape/dtype inference of the fused normalizations, as lib/ops/nn.ts defines them:
//   layerNorm [x, gamma, beta] {axis, epsilon, rms} -> [y, mean, rstd]: rows x[r, :] over the
//     trailing dims axis..rank-1; gamma and beta shaped like those dims; mean and rstd shaped
//     x.shape[:axis];
//   layerNormGrad [dy, x, gamma, mean, rstd] {axis, rms} -> [dx, dgamma, dbeta];
//   batchNorm [x, gamma, beta] {axis, epsilon} -> [y, mean, variance]: batch statistics over
//     every axis but the channel axis `axis`; gamma, beta, mean, variance shaped [C];
//   batchNormGrad [dy, x, gamma, mean, variance] {axis, epsilon} -> [dx, dgamma, dbeta].
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

// x is float and the required `axis` attr (what it means: `axis_role`) is a non-negative axis of x.
size_t float_x_axis(const char* op, const TensorSpec& x, const Attrs& attrs, const char* axis_role) {
  if (x.dtype != DType::Float32 && x.dtype != DType::Float64) {
    throw OpError("DTypeError", std::string(op) + ": expected a float tensor x, received " + engine::dtype_name(x.dtype) +
                                    " " + format_shape(x.shape));
  }
  if (!attrs.has("axis")) throw OpError("ValueError", std::string(op) + ": attribute axis is required");
  const int64_t axis = attrs.get_int(op, "axis", 0);
  if (axis < 0 || axis >= int64_t(x.shape.size())) {
    throw OpError("ValueError", std::string(op) + ": axis " + std::to_string(axis) + " is out of range for x of shape " +
                                    format_shape(x.shape) + " (" + axis_role + ", non-negative, is expected)");
  }
  return size_t(axis);
}

double required_epsilon(const char* op, const Attrs& attrs) {
  if (!attrs.has("epsilon")) throw OpError("ValueError", std::string(op) + ": attribute epsilon is required");
  return attrs.get_float(op, "epsilon", 0);
}

// t has x's dtype and the given shape (`what` names where that shape comes from).
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

// ------------------------------------------------------------------ layer norm: rows over trailing dims

struct RowSplit {
  Shape rows, dims;
};

RowSplit split_rows(const char* op, const TensorSpec& x, const Attrs& attrs) {
  const size_t axis = float_x_axis(op, x, attrs, "the first normalized axis");
  return {Shape(x.shape.begin(), x.shape.begin() + axis), Shape(x.shape.begin() + axis, x.shape.end())};
}

std::vector<TensorSpec> infer_layer_norm(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = "layerNorm";
  const TensorSpec& x = in[0];
  const RowSplit s = split_rows(op, x, attrs);
  const std::string dims_of = "the normalized dims of x " + format_shape(x.shape);
  expect_spec(op, "gamma", in[1], x, s.dims, dims_of);
  expect_spec(op, "beta", in[2], x, s.dims, dims_of);
  required_epsilon(op, attrs);
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

// ------------------------------------------------------------------ batch norm: per channel

struct Channels {
  Shape shape;       // [C]
  std::string what;  // "the channels (axis a) of x [...]", for messages
};

// x float, `axis` its channel axis, epsilon >= 0.
Channels channels_of(const char* op, const TensorSpec& x, const Attrs& attrs) {
  const size_t axis = float_x_axis(op, x, attrs, "the channel axis");
  const double epsilon = required_epsilon(op, attrs);
  if (!(epsilon >= 0)) {
    throw OpError("ValueError", std::string(op) + ": attribute epsilon must be a non-negative number, received " +
                                    std::to_string(epsilon));
  }
  return {{x.shape[axis]}, "the channels (axis " + std::to_string(axis) + ") of x " + format_shape(x.shape)};
}

std::vector<TensorSpec> infer_batch_norm(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = "batchNorm";
  const TensorSpec& x = in[0];
  const Channels c = channels_of(op, x, attrs);
  expect_spec(op, "gamma", in[1], x, c.shape, c.what);
  expect_spec(op, "beta", in[2], x, c.shape, c.what);
  return {{x.dtype, x.shape}, {x.dtype, c.shape}, {x.dtype, c.shape}};
}

std::vector<TensorSpec> infer_batch_norm_grad(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = "batchNormGrad";
  const TensorSpec& x = in[1];
  const Channels c = channels_of(op, x, attrs);
  expect_spec(op, "dy", in[0], x, x.shape, "x");
  expect_spec(op, "gamma", in[2], x, c.shape, c.what);
  expect_spec(op, "mean", in[3], x, c.shape, c.what);
  expect_spec(op, "variance", in[4], x, c.shape, c.what);
  return {{x.dtype, x.shape}, {x.dtype, c.shape}, {x.dtype, c.shape}};
}

}  // namespace

void define_norm_ops(KernelRegistry& registry) {
  registry.define_op("layerNorm", 3, infer_layer_norm);
  registry.define_op("layerNormGrad", 5, infer_layer_norm_grad);
  registry.define_op("batchNorm", 3, infer_batch_norm);
  registry.define_op("batchNormGrad", 5, infer_batch_norm_grad);
}

}  // namespace keras::kernels
