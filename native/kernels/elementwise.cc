#include "elementwise.h"

#include <algorithm>

namespace keras::kernels {
namespace {

enum class UnaryKind { Same, Float, Predicate, Logical };
enum class BinaryKind { Arith, Compare, Logical };
enum class ReduceKind { Numeric, Bool };

bool is_float(DType d) { return d == DType::Float32 || d == DType::Float64; }

std::string described(const TensorSpec& t) {
  return std::string(engine::dtype_name(t.dtype)) + " " + engine::format_shape(t.shape);
}

template <UnaryKind kind>
std::vector<TensorSpec> infer_unary(const char* name, const std::vector<TensorSpec>& in) {
  const TensorSpec& x = in[0];
  if (kind == UnaryKind::Float && !is_float(x.dtype)) {
    throw OpError("DTypeError", std::string(name) + ": expected a float tensor, received " + described(x));
  }
  if (kind == UnaryKind::Same && x.dtype == DType::Bool) {
    throw OpError("DTypeError", std::string(name) + ": bool input is not supported " + engine::format_shape(x.shape));
  }
  if (kind == UnaryKind::Logical && x.dtype != DType::Bool) {
    throw OpError("DTypeError", std::string(name) + ": expected a bool tensor, received " + described(x));
  }
  const bool bool_out = kind == UnaryKind::Predicate || kind == UnaryKind::Logical;
  return {{bool_out ? DType::Bool : x.dtype, x.shape}};
}

template <BinaryKind kind>
std::vector<TensorSpec> infer_binary(const char* name, const std::vector<TensorSpec>& in) {
  const TensorSpec& a = in[0];
  const TensorSpec& b = in[1];
  if (a.dtype != b.dtype) {
    throw OpError("DTypeError", std::string(name) + ": operands must have one dtype, received " + described(a) +
                                    " and " + described(b));
  }
  if (kind == BinaryKind::Arith && a.dtype == DType::Bool) {
    throw OpError("DTypeError", std::string(name) + ": bool operands are not supported; cast them first");
  }
  if (kind == BinaryKind::Logical && a.dtype != DType::Bool) {
    throw OpError("DTypeError", std::string(name) + ": expected bool operands, received " + described(a) + " and " +
                                    described(b));
  }
  return {{kind == BinaryKind::Arith ? a.dtype : DType::Bool, broadcast_shapes(name, a.shape, b.shape)}};
}

template <ReduceKind kind>
std::vector<TensorSpec> infer_reduce(const char* name, const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  if (kind == ReduceKind::Numeric && x.dtype == DType::Bool) {
    throw OpError("DTypeError", std::string(name) + ": bool input is not supported " + engine::format_shape(x.shape) +
                                    "; cast it first");
  }
  if (kind == ReduceKind::Bool && x.dtype != DType::Bool) {
    throw OpError("DTypeError", std::string(name) + ": expected a bool tensor, received " + described(x));
  }
  const std::vector<int> axes = reduction_axes(name, attrs, int(x.shape.size()));
  const bool keepdims = attrs.get_bool(name, "keepdims", false);
  Shape out;
  for (int d = 0; d < int(x.shape.size()); ++d) {
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) {
      out.push_back(x.shape[size_t(d)]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return {{kind == ReduceKind::Bool ? DType::Bool : x.dtype, out}};
}

}  // namespace

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) {
      throw OpError("ShapeError", std::string(op) + ": incompatible shapes " + engine::format_shape(a) + " and " +
                                      engine::format_shape(b) + " cannot be broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int> reduction_axes(const char* op, const Attrs& attrs, int rank) {
  std::vector<int> axes;
  if (!attrs.has("axes")) {
    for (int d = 0; d < rank; ++d) axes.push_back(d);
    return axes;
  }
  for (int64_t axis : attrs.get_ints(op, "axes", {})) {
    const int64_t normalized = axis < 0 ? axis + rank : axis;
    if (normalized < 0 || normalized >= rank) {
      throw OpError("ValueError", std::string(op) + ": axis " + std::to_string(axis) + " is out of bounds for rank " +
                                      std::to_string(rank));
    }
    if (std::find(axes.begin(), axes.end(), int(normalized)) != axes.end()) {
      throw OpError("ValueError", std::string(op) + ": repeated axis " + std::to_string(axis));
    }
    axes.push_back(int(normalized));
  }
  std::sort(axes.begin(), axes.end());
  return axes;
}

void define_elementwise_ops(KernelRegistry& registry) {
  // One non-capturing lambda per op, so each infer function knows its op's name.
#define KERAS_DEFINE_UNARY(name, Enum, kind)                                                                   \
  registry.define_op(#name, 1, [](const std::vector<TensorSpec>& in, const Attrs&) {                           \
    return infer_unary<UnaryKind::kind>(#name, in);                                                             \
  });
#define KERAS_DEFINE_BINARY(name, Enum, kind)                                                                  \
  registry.define_op(#name, 2, [](const std::vector<TensorSpec>& in, const Attrs&) {                           \
    return infer_binary<BinaryKind::kind>(#name, in);                                                           \
  });
#define KERAS_DEFINE_REDUCE(name, Enum, kind)                                                                  \
  registry.define_op(#name, 1, [](const std::vector<TensorSpec>& in, const Attrs& attrs) {                     \
    return infer_reduce<ReduceKind::kind>(#name, in, attrs);                                                    \
  });
  KERAS_UNARY_OPS(KERAS_DEFINE_UNARY)
  KERAS_BINARY_OPS(KERAS_DEFINE_BINARY)
  KERAS_REDUCE_OPS(KERAS_DEFINE_REDUCE)
#undef KERAS_DEFINE_UNARY
#undef KERAS_DEFINE_BINARY
#undef KERAS_DEFINE_REDUCE
}

}  // namespace keras::kernels
