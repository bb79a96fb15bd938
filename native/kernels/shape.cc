// Shape and data-movement ops (reshape, transpose, broadcastTo, slice, reverse,
// concatenate, pad, gather, scatterAdd): inference and validation, with the
// names, attrs and messages of lib/ops/shape.ts.
#include <algorithm>
#include <string>
#include <vector>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

// JSON.stringify of an int list, as the TS messages print attrs.
std::string json_ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::string described(const TensorSpec& t) { return std::string(engine::dtype_name(t.dtype)) + " " + format_shape(t.shape); }

int normalized_axis(const char* op, int64_t axis, int rank, const Shape& shape) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw OpError("ValueError", std::string(op) + ": axis " + std::to_string(axis) + " is out of bounds for shape " +
                                    format_shape(shape));
  }
  return int(a);
}

std::vector<int64_t> required_ints(const char* op, const Attrs& attrs, const char* name) {
  if (!attrs.has(name)) throw OpError("ValueError", std::string(op) + ": the " + name + " attribute is required");
  return attrs.get_ints(op, name, {});
}

// reshape {shape}: one -1 allowed; the messages of resolveReshape.
std::vector<TensorSpec> infer_reshape(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  const std::vector<int64_t> to = required_ints("reshape", attrs, "shape");
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] < -1 || (to[i] == -1 && unknown >= 0)) {
      throw OpError("ValueError", "reshape: invalid target shape " + json_ints(to) +
                                      "; dims must be non-negative integers with at most one -1");
    }
    if (to[i] == -1) unknown = int(i);
    else known *= to[i];
  }
  const int64_t total = engine::shape_numel(x.shape);
  Shape out(to.begin(), to.end());
  const std::string from = "reshape: cannot reshape " + format_shape(x.shape) + " (" + std::to_string(total) +
                           " elements) into ";
  if (unknown >= 0) {
    if (known == 0 || total % known != 0) throw OpError("ShapeError", from + json_ints(to));
    out[size_t(unknown)] = total / known;
  } else if (known != total) {
    throw OpError("ShapeError", from + format_shape(out) + " (" + std::to_string(known) + " elements)");
  }
  return {{x.dtype, out}};
}

// transpose {perm}: a permutation of 0..rank-1 (the public op normalizes negatives).
std::vector<TensorSpec> infer_transpose(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  const std::vector<int64_t> perm = required_ints("transpose", attrs, "perm");
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool ok = perm.size() == x.shape.size();
  for (size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == int64_t(i);
  if (!ok) {
    throw OpError("ValueError", "transpose: axes " + json_ints(perm) + " are not a permutation of the " +
                                    std::to_string(x.shape.size()) + " axes of " + format_shape(x.shape));
  }
  Shape out;
  for (int64_t p : perm) out.push_back(x.shape[size_t(p)]);
  return {{x.dtype, out}};
}

// broadcastTo {shape}: numpy broadcasting of x to exactly `shape`.
std::vector<TensorSpec> infer_broadcast_to(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  const std::vector<int64_t> target = required_ints("broadcastTo", attrs, "shape");
  const Shape shape(target.begin(), target.end());
  bool ok = x.shape.size() <= shape.size();
  for (size_t i = 0; ok && i < shape.size(); ++i) {
    ok = shape[i] >= 0;
    const size_t lead = shape.size() - x.shape.size();
    if (ok && i >= lead) ok = x.shape[i - lead] == 1 || x.shape[i - lead] == shape[i];
  }
  if (!ok) {
    throw OpError("ShapeError", "broadcastTo: cannot broadcast " + format_shape(x.shape) + " to " + format_shape(shape));
  }
  return {{x.dtype, shape}};
}

// slice {begin, size}: one entry per axis; size -1 takes the rest of the axis.
std::vector<TensorSpec> infer_slice(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  const std::vector<int64_t> begin = required_ints("slice", attrs, "begin");
  const std::vector<int64_t> size = required_ints("slice", attrs, "size");
  if (begin.size() != x.shape.size() || size.size() != x.shape.size()) {
    throw OpError("ShapeError", "slice: start_indices " + json_ints(begin) + " and shape " + json_ints(size) +
                                    " must have one entry per axis of " + format_shape(x.shape));
  }
  Shape out;
  for (size_t i = 0; i < size.size(); ++i) {
    const int64_t d = x.shape[i];
    if (begin[i] < 0 || size[i] < -1 || begin[i] > d || (size[i] >= 0 && begin[i] + size[i] > d)) {
      throw OpError("ShapeError", "slice: start " + std::to_string(begin[i]) + " with size " + std::to_string(size[i]) +
                                      " is out of range for axis " + std::to_string(i) + " of " + format_shape(x.shape));
    }
    out.push_back(size[i] == -1 ? d - begin[i] : size[i]);
  }
  return {{x.dtype, out}};
}

// reverse {axes}: negative axes count from the end.
std::vector<TensorSpec> infer_reverse(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  for (int64_t a : attrs.get_ints("reverse", "axes", {})) normalized_axis("reverse", a, int(x.shape.size()), x.shape);
  return {{x.dtype, x.shape}};
}

// concatenate {axis}, variadic: one dtype, equal dims off the axis.
std::vector<TensorSpec> infer_concatenate(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  if (in.empty()) throw OpError("ValueError", "concatenate: needs at least one tensor");
  const TensorSpec& first = in[0];
  if (first.shape.empty()) {
    throw OpError("ValueError", "concatenate: cannot concatenate rank-0 tensors, received " + format_shape(first.shape));
  }
  const int axis = normalized_axis("concatenate", attrs.get_int("concatenate", "axis", 0), int(first.shape.size()), first.shape);
  int64_t total = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const TensorSpec& t = in[i];
    if (t.dtype != first.dtype) {
      throw OpError("DTypeError", "concatenate: input " + std::to_string(i) + " has dtype " +
                                      engine::dtype_name(t.dtype) + ", input 0 has " + engine::dtype_name(first.dtype));
    }
    bool ok = t.shape.size() == first.shape.size();
    for (size_t k = 0; ok && k < t.shape.size(); ++k) ok = int(k) == axis || t.shape[k] == first.shape[k];
    if (!ok) {
      throw OpError("ShapeError", "concatenate: input " + std::to_string(i) + " has shape " + format_shape(t.shape) +
                                      ", incompatible with " + format_shape(first.shape) + " along all axes but " +
                                      std::to_string(axis));
    }
    total += t.shape[size_t(axis)];
  }
  Shape out = first.shape;
  out[size_t(axis)] = total;
  return {{first.dtype, out}};
}

// pad {paddings, constantValue}. `paddings` arrives flattened row-major from the
// TS [[before, after], ...] per axis: [before0, after0, before1, after1, ...].
std::vector<TensorSpec> infer_pad(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  const std::vector<int64_t> p = required_ints("pad", attrs, "paddings");
  bool ok = p.size() == 2 * x.shape.size();
  for (int64_t v : p) ok = ok && v >= 0;
  if (!ok) {
    std::string pairs = "[";
    for (size_t i = 0; i + 1 < p.size(); i += 2) {
      pairs += (i ? ",[" : "[") + std::to_string(p[i]) + "," + std::to_string(p[i + 1]) + "]";
    }
    throw OpError("ShapeError", "pad: pad_width " + pairs + (p.size() % 2 ? ",...]" : "]") +
                                    " must hold one [before, after] pair of non-negative integers per axis of " +
                                    format_shape(x.shape));
  }
  if (attrs.has("constantValue")) attrs.get_float("pad", "constantValue", 0);  // type check
  Shape out = x.shape;
  for (size_t i = 0; i < out.size(); ++i) out[i] += p[2 * i] + p[2 * i + 1];
  return {{x.dtype, out}};
}

// gather {axis}: out = x.shape[:axis] + indices.shape + x.shape[axis+1:]; index
// bounds are data, checked by the kernel.
std::vector<TensorSpec> infer_gather(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& x = in[0];
  const TensorSpec& indices = in[1];
  if (indices.dtype != DType::Int32) {
    throw OpError("DTypeError", "gather: indices must be int32, received " + described(indices));
  }
  if (x.shape.empty()) throw OpError("ValueError", "gather: x must have rank >= 1, received shape ()");
  const int axis = normalized_axis("gather", attrs.get_int("gather", "axis", 0), int(x.shape.size()), x.shape);
  Shape out(x.shape.begin(), x.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
  return {{x.dtype, out}};
}

// scatterAdd {axis, dimSize}: inputs (indices 1-D int32, updates); the transpose of gather.
std::vector<TensorSpec> infer_scatter_add(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  const TensorSpec& indices = in[0];
  const TensorSpec& updates = in[1];
  if (indices.dtype != DType::Int32) {
    throw OpError("DTypeError", "scatterAdd: indices must be int32, received " + described(indices));
  }
  if (updates.shape.empty()) throw OpError("ValueError", "scatterAdd: updates must have rank >= 1, received shape ()");
  const int axis =
      normalized_axis("scatterAdd", attrs.get_int("scatterAdd", "axis", 0), int(updates.shape.size()), updates.shape);
  if (indices.shape.size() != 1 || indices.shape[0] != updates.shape[size_t(axis)]) {
    throw OpError("ShapeError", "scatterAdd: indices " + format_shape(indices.shape) + " must be 1-D and match updates " +
                                    format_shape(updates.shape) + " along axis " + std::to_string(axis));
  }
  if (!attrs.has("dimSize")) throw OpError("ValueError", "scatterAdd: the dimSize attribute is required");
  const int64_t dim = attrs.get_int("scatterAdd", "dimSize", 0);
  if (dim < 0) throw OpError("ValueError", "scatterAdd: dimSize must be non-negative, received " + std::to_string(dim));
  Shape out = updates.shape;
  out[size_t(axis)] = dim;
  return {{updates.dtype, out}};
}

}  // namespace

void define_shape_ops(KernelRegistry& registry) {
  registry.define_op("reshape", 1, infer_reshape);
  registry.define_op("transpose", 1, infer_transpose);
  registry.define_op("broadcastTo", 1, infer_broadcast_to);
  registry.define_op("slice", 1, infer_slice);
  registry.define_op("reverse", 1, infer_reverse);
  registry.define_op("concatenate", -1, infer_concatenate);
  registry.define_op("pad", 1, infer_pad);
  registry.define_op("gather", 2, infer_gather);
  registry.define_op("scatterAdd", 2, infer_scatter_add);
}

}  // namespace keras::kernels
