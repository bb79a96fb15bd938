// Shape/dtype inference of the pooling primitives, as lib/ops/nn.ts defines them
// (channels_last, 1-3 spatial dims). Attrs as the JS adapter flattens them:
//   poolSize [k0, ...], strides [s0, ...], padding [before0, after0, before1, ...]
//   (row-major flattening of [[before, after], ...]; negative crops);
//   avgPoolGrad adds inputSize [n0, ...].
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

std::vector<int64_t> ints(const char* op, const Attrs& attrs, const char* name, size_t count, int64_t min) {
  if (!attrs.has(name)) throw OpError("ValueError", std::string(op) + ": attribute " + name + " is required");
  std::vector<int64_t> v = attrs.get_ints(op, name, {});
  bool ok = v.size() == count;
  for (int64_t x : v) ok = ok && x >= min;
  if (!ok) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    throw OpError("ValueError", std::string(op) + ": attribute " + name + " must have " + std::to_string(count) +
                                    " entries >= " + std::to_string(min) + " (per spatial dim), received [" + s + "]");
  }
  return v;
}

// The pooled shape of x (lib/ops/nn.ts inferPool).
Shape infer_pool(const char* op, const Shape& x, const Attrs& attrs) {
  if (x.size() < 3 || x.size() > 5) {
    throw OpError("ShapeError", std::string(op) +
                                    ": inputs must have rank 3, 4 or 5 (batch, spatial dims..., channels), received "
                                    "shape " + format_shape(x));
  }
  const size_t nsp = x.size() - 2;
  const auto pool = ints(op, attrs, "poolSize", nsp, 1);
  const auto strides = ints(op, attrs, "strides", nsp, 1);
  const auto padding = ints(op, attrs, "padding", 2 * nsp, INT64_MIN);
  Shape out{x[0]};
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t span = x[i + 1] + padding[2 * i] + padding[2 * i + 1] - pool[i];
    if (span < 0) {
      throw OpError("ShapeError", std::string(op) + ": the window (size " + std::to_string(pool[i]) +
                                      ", dilation 1) is larger than the padded input (" + std::to_string(x[i + 1]) +
                                      " + " + std::to_string(padding[2 * i]) + " + " +
                                      std::to_string(padding[2 * i + 1]) + ") for inputs " + format_shape(x) +
                                      " and pool size " + format_shape(Shape(pool.begin(), pool.end())));
    }
    out.push_back(span / strides[i] + 1);
  }
  out.push_back(x.back());
  return out;
}

bool is_float(DType d) { return d == DType::Float32 || d == DType::Float64; }

std::vector<TensorSpec> infer_max_pool(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const TensorSpec& x = inputs[0];
  if (!is_float(x.dtype) && x.dtype != DType::Int32) {
    throw OpError("DTypeError", std::string("maxPool: ") + engine::dtype_name(x.dtype) +
                                    " inputs are not supported " + format_shape(x.shape));
  }
  return {{x.dtype, infer_pool("maxPool", x.shape, attrs)}};
}

std::vector<TensorSpec> infer_max_pool_grad(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const TensorSpec &x = inputs[0], &dy = inputs[1];
  if (!is_float(x.dtype) || x.dtype != dy.dtype) {
    throw OpError("DTypeError", std::string("maxPoolGrad: inputs and dy must be float tensors of one dtype, received ") +
                                    engine::dtype_name(x.dtype) + " " + format_shape(x.shape) + " and " +
                                    engine::dtype_name(dy.dtype) + " " + format_shape(dy.shape));
  }
  const Shape expected = infer_pool("maxPoolGrad", x.shape, attrs);
  if (dy.shape != expected) {
    throw OpError("ShapeError", "maxPoolGrad: dy of shape " + format_shape(dy.shape) +
                                    " does not match the pooled shape " + format_shape(expected) + " of inputs " +
                                    format_shape(x.shape));
  }
  return {{x.dtype, x.shape}};
}

std::vector<TensorSpec> infer_avg_pool(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const TensorSpec& x = inputs[0];
  if (!is_float(x.dtype)) {
    throw OpError("DTypeError", std::string("avgPool: expected a float tensor, received ") +
                                    engine::dtype_name(x.dtype) + " " + format_shape(x.shape));
  }
  return {{x.dtype, infer_pool("avgPool", x.shape, attrs)}};
}

std::vector<TensorSpec> infer_avg_pool_grad(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const TensorSpec& dy = inputs[0];
  if (dy.shape.size() < 3 || dy.shape.size() > 5) {
    throw OpError("ShapeError", "avgPoolGrad: dy must have rank 3, 4 or 5 (batch, spatial dims..., channels), "
                                "received shape " + format_shape(dy.shape));
  }
  if (!is_float(dy.dtype)) {
    throw OpError("DTypeError", std::string("avgPoolGrad: expected a float tensor, received ") +
                                    engine::dtype_name(dy.dtype) + " " + format_shape(dy.shape));
  }
  const size_t nsp = dy.shape.size() - 2;
  const auto input_size = ints("avgPoolGrad", attrs, "inputSize", nsp, 0);
  Shape x{dy.shape[0]};
  x.insert(x.end(), input_size.begin(), input_size.end());
  x.push_back(dy.shape.back());
  const Shape expected = infer_pool("avgPoolGrad", x, attrs);
  if (dy.shape != expected) {
    throw OpError("ShapeError", "avgPoolGrad: dy of shape " + format_shape(dy.shape) +
                                    " does not match the pooled shape " + format_shape(expected) + " of inputs " +
                                    format_shape(x));
  }
  return {{dy.dtype, x}};
}

}  // namespace

void define_pool_ops(KernelRegistry& registry) {
  registry.define_op("maxPool", 1, infer_max_pool);
  registry.define_op("maxPoolGrad", 2, infer_max_pool_grad);
  registry.define_op("avgPool", 1, infer_avg_pool);
  registry.define_op("avgPoolGrad", 1, infer_avg_pool_grad);
}

}  // namespace keras::kernels
