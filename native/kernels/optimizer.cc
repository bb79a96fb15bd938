// Shape/dtype inference of the fused optimizer updates, as lib/ops/optimizer.ts defines them:
//   adamUpdate [variable, gradient, m, v, alpha] -> [variable', m', v']: gradient, m and v have
//     the float variable's dtype and shape, alpha is a scalar of that dtype; attrs beta1, beta2,
//     epsilon (finite numbers).
#include <cmath>
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::dtype_name;
using engine::format_shape;

std::vector<TensorSpec> infer_adam_update(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  for (const char* name : {"beta1", "beta2", "epsilon"}) {
    if (!attrs.has(name) || !std::isfinite(attrs.get_float("adamUpdate", name, 0))) {
      throw OpError("ValueError", std::string("adamUpdate: attribute ") + name + " must be a finite number");
    }
  }
  const TensorSpec& variable = in[0];
  if (variable.dtype != DType::Float32 && variable.dtype != DType::Float64) {
    throw OpError("DTypeError", std::string("adamUpdate: variable must be float32 or float64, received ") +
                                    dtype_name(variable.dtype) + " " + format_shape(variable.shape));
  }
  static const char* const names[] = {"gradient", "m", "v"};
  for (size_t k = 1; k < 4; ++k) {
    if (in[k].dtype != variable.dtype || in[k].shape != variable.shape) {
      throw OpError("ShapeError", std::string("adamUpdate: ") + names[k - 1] + " must be " + dtype_name(variable.dtype) + " " +
                                      format_shape(variable.shape) + " like the variable, received " + dtype_name(in[k].dtype) +
                                      " " + format_shape(in[k].shape));
    }
  }
  if (in[4].dtype != variable.dtype || !in[4].shape.empty()) {
    throw OpError("ShapeError", std::string("adamUpdate: alpha must be a ") + dtype_name(variable.dtype) + " scalar, received " +
                                    dtype_name(in[4].dtype) + " " + format_shape(in[4].shape));
  }
  return {variable, variable, variable};
}

}  // namespace

void define_optimizer_ops(KernelRegistry& registry) { registry.define_op("adamUpdate", 5, infer_adam_update, true); }

}  // namespace keras::kernels
