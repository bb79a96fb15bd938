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

std::vector<TensorSpec> infer_where(const std::vector<TensorSpec>& in, const Attrs&) {
  const TensorSpec& c = in[0];
  const TensorSpec& a = in[1];
  const TensorSpec& b = in[2];
  if (c.dtype != DType::Bool) {
    throw OpError("DTypeError", "where: condition must be bool, received " + described(c));
  }
  if (a.dtype != b.dtype) {
    throw OpError("DTypeError", "where: x1 and x2 must have one dtype, received " + described(a) + " and " +
                                    described(b));
  }
  return {{a.dtype, broadcast_shapes("where", broadcast_shapes("where", c.shape, a.shape), b.shape)}};
}

DType dtype_attr(const char* op, const Attrs& attrs, DType fallback) {
  if (!attrs.has("dtype")) return fallback;
  const std::string name = attrs.get_string(op, "dtype", "");
  DType dtype;
  if (!engine::parse_dtype(name, &dtype)) {
    throw OpError("DTypeError", std::string(op) + ": unknown dtype \"" + name +
                                    "\"; expected one of float32, float64, int32, bool");
  }
  return dtype;
}

std::vector<TensorSpec> infer_cast(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  if (!attrs.has("dtype")) throw OpError("ValueError", "cast: the dtype attribute is required");
  return {{dtype_attr("cast", attrs, in[0].dtype), in[0].shape}};
}

std::vector<TensorSpec> infer_full_like(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  if (!attrs.has("value")) throw OpError("DTypeError", "fullLike: fill value must be a number");
  return {{dtype_attr("fullLike", attrs, in[0].dtype), in[0].shape}};
}

std::vector<TensorSpec> infer_same(const std::vector<TensorSpec>& in, const Attrs&) { return {in[0]}; }

int axis_attr(const char* op, const Attrs& attrs, const Shape& shape) {
  const int rank = int(shape.size());
  const int64_t axis = attrs.get_int(op, "axis", 0);
  const int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    throw OpError("ValueError", std::string(op) + ": axis " + std::to_string(axis) + " is out of bounds for shape " +
                                    engine::format_shape(shape));
  }
  return int(normalized);
}

template <bool is_argmin>
std::vector<TensorSpec> infer_arg(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const char* op = is_argmin ? "argmin" : "argmax";
  const TensorSpec& x = in[0];
  const int axis = axis_attr(op, attrs, x.shape);
  if (x.shape[size_t(axis)] == 0) {
    throw OpError("ValueError", std::string(op) + ": cannot take " + op + " over an empty axis " +
                                    std::to_string(axis) + " of shape " + engine::format_shape(x.shape));
  }
  Shape out = x.shape;
  out.erase(out.begin() + axis);
  return {{DType::Int32, out}};
}

template <bool is_cumprod>
std::vector<TensorSpec> infer_scan(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  axis_attr(is_cumprod ? "cumprod" : "cumsum", attrs, x.shape);
  return {{x.dtype == DType::Bool ? DType::Int32 : x.dtype, x.shape}};
}

// moments {axes, keepdims}: float x -> [mean, variance], each shaped as a reduction's output.
std::vector<TensorSpec> infer_moments(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  if (!is_float(in[0].dtype)) throw OpError("DTypeError", "moments: expected a float tensor, received " + described(in[0]));
  const TensorSpec out = infer_reduce<ReduceKind::Numeric>("moments", in, attrs)[0];
  return {out, out};
}

// logsumexp {axis}: float x, one non-negative axis, kept with size 1.
std::vector<TensorSpec> infer_logsumexp(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  if (!is_float(x.dtype)) throw OpError("DTypeError", "logsumexp: expected a float tensor, received " + described(x));
  const int64_t axis = attrs.get_int("logsumexp", "axis", 0);
  if (axis < 0 || axis >= int64_t(x.shape.size())) {
    throw OpError("ValueError", "logsumexp: axis " + std::to_string(axis) + " is out of range for input of shape " +
                                    engine::format_shape(x.shape) + " (a non-negative axis is expected)");
  }
  Shape out = x.shape;
  out[size_t(axis)] = 1;
  return {{x.dtype, out}};
}

}  // namespace

int reduction_axis(const char* op, const Attrs& attrs, const Shape& shape) { return axis_attr(op, attrs, shape); }

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
  registry.define_op("where", 3, infer_where);
  registry.define_op("cast", 1, infer_cast);
  registry.define_op("fullLike", 1, infer_full_like);
  registry.define_op("identity", 1, infer_same);
  registry.define_op("stopGradient", 1, infer_same);
  registry.define_op("argmax", 1, infer_arg<false>);
  registry.define_op("argmin", 1, infer_arg<true>);
  registry.define_op("cumsum", 1, infer_scan<false>);
  registry.define_op("cumprod", 1, infer_scan<true>);
  registry.define_op("moments", 1, infer_moments);
  registry.define_op("logsumexp", 1, infer_logsumexp);
#undef KERAS_DEFINE_UNARY
#undef KERAS_DEFINE_BINARY
#undef KERAS_DEFINE_REDUCE
}

}  // namespace keras::kernels
