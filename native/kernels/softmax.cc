// Shape/dtype inference of the softmax family, as lib/ops/nn.ts defines it:
//   softmax {axis}, logSoftmax {axis}: float x, one non-negative axis (the public
//     functions normalize it and keep several axes on their composite path);
//   softmaxGrad [y, dy] {axis}: softmax's gradient, dy like y;
//   logSoftmaxGrad [y, dy] {axis}: logSoftmax's (y its output), dy like y;
//   sparseSoftmaxCrossEntropy [labels int32, logits float] over the last axis ->
//     logits.shape[:-1]. No attrs;
//   sparseSoftmaxCrossEntropyGrad [labels, logits, dy like the loss] -> logits' shape.
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

bool is_float(DType d) { return d == DType::Float32 || d == DType::Float64; }

std::vector<TensorSpec> infer_row(const char* op, const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  if (!is_float(x.dtype)) {
    throw OpError("DTypeError", std::string(op) + ": expected a float tensor, received " + engine::dtype_name(x.dtype) +
                                    " " + format_shape(x.shape));
  }
  if (!attrs.has("axis")) throw OpError("ValueError", std::string(op) + ": attribute axis is required");
  const int64_t axis = attrs.get_int(op, "axis", 0);
  if (axis < 0 || axis >= int64_t(x.shape.size())) {
    throw OpError("ValueError", std::string(op) + ": axis " + std::to_string(axis) + " is out of range for input of shape " +
                                    format_shape(x.shape) + " (a non-negative axis is expected)");
  }
  return {{x.dtype, x.shape}};
}

std::vector<TensorSpec> infer_softmax(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  return infer_row("softmax", in, attrs);
}

std::vector<TensorSpec> infer_log_softmax(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  return infer_row("logSoftmax", in, attrs);
}

// softmaxGrad or logSoftmaxGrad [y, dy]: dy like y.
template <bool kLog>
std::vector<TensorSpec> infer_softmax_grad(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const std::string op = kLog ? "logSoftmaxGrad" : "softmaxGrad";
  const TensorSpec &y = in[0], &dy = in[1];
  if (dy.dtype != y.dtype || dy.shape != y.shape) {
    throw OpError("ShapeError", op + ": dy must be " + engine::dtype_name(y.dtype) + " " + format_shape(y.shape) +
                                    " like y, received " + engine::dtype_name(dy.dtype) + " " + format_shape(dy.shape));
  }
  return infer_row(op.c_str(), in, attrs);
}

// The loss's spec from labels and logits, errors named after `op` (the loss or its gradient).
TensorSpec sparse_ce_loss(const std::string& op, const TensorSpec& labels, const TensorSpec& logits) {
  if (labels.dtype != DType::Int32) {
    throw OpError("DTypeError", op + ": labels must be int32, received " + engine::dtype_name(labels.dtype) + " " +
                                    format_shape(labels.shape));
  }
  if (!is_float(logits.dtype)) {
    throw OpError("DTypeError", op + ": logits must be a float tensor, received " + engine::dtype_name(logits.dtype) +
                                    " " + format_shape(logits.shape));
  }
  if (logits.shape.empty() || Shape(logits.shape.begin(), logits.shape.end() - 1) != labels.shape) {
    throw OpError("ShapeError", op + ": labels must have the shape of logits without the last axis, received labels.shape=" +
                                    format_shape(labels.shape) + ", logits.shape=" + format_shape(logits.shape));
  }
  return {logits.dtype, labels.shape};
}

std::vector<TensorSpec> infer_sparse_ce(const std::vector<TensorSpec>& in, const Attrs&) {
  return {sparse_ce_loss("sparseSoftmaxCrossEntropy", in[0], in[1])};
}

std::vector<TensorSpec> infer_sparse_ce_grad(const std::vector<TensorSpec>& in, const Attrs&) {
  const TensorSpec& logits = in[1];
  const TensorSpec& dy = in[2];
  const TensorSpec loss = sparse_ce_loss("sparseSoftmaxCrossEntropyGrad", in[0], logits);
  if (dy.dtype != loss.dtype || dy.shape != loss.shape) {
    throw OpError("ShapeError", "sparseSoftmaxCrossEntropyGrad: dy must be " + std::string(engine::dtype_name(loss.dtype)) + " " +
                                    format_shape(loss.shape) + " like the loss, received " + engine::dtype_name(dy.dtype) + " " +
                                    format_shape(dy.shape));
  }
  return {{logits.dtype, logits.shape}};
}

}  // namespace

void define_softmax_ops(KernelRegistry& registry) {
  registry.define_op("softmax", 1, infer_softmax);
  registry.define_op("logSoftmax", 1, infer_log_softmax);
  registry.define_op("softmaxGrad", 2, infer_softmax_grad<false>);
  registry.define_op("logSoftmaxGrad", 2, infer_softmax_grad<true>);
  registry.define_op("sparseSoftmaxCrossEntropy", 2, infer_sparse_ce);
  registry.define_op("sparseSoftmaxCrossEntropyGrad", 3, infer_sparse_ce_grad);
}

}  // namespace keras::kernels
