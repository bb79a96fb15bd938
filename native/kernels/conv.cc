// Shape/dtype inference of the convolution primitives, as lib/ops/nn.ts defines
// them: channels_last with 1, 2 or 3 spatial dims, kernel [...k, Cin/groups, Cout].
// Attrs as the JS adapter flattens them, one entry per spatial dim:
//   strides [s0, s1, ...], dilation [d0, ...], groups (int), and
//   padding [before0, after0, before1, after1, ...] (the row-major flattening of
//   [[before, after], ...]; negative values crop);
//   convBackpropInput adds inputSize [n0, ...], convBackpropFilter kernelSize [k0, ...].
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

struct SpatialAttrs {
  std::vector<int64_t> strides, dilation, padding;
  int64_t groups = 1;
};

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

int check_rank(const char* op, const char* arg, const TensorSpec& t) {
  if (t.shape.size() < 3 || t.shape.size() > 5) {
    throw OpError("ShapeError", std::string(op) + ": " + arg +
                                    " must have rank 3, 4 or 5 (batch, spatial dims..., channels), received shape " +
                                    format_shape(t.shape));
  }
  return int(t.shape.size()) - 2;
}

void check_float_pair(const char* op, const TensorSpec& a, const TensorSpec& b, const char* na, const char* nb) {
  const bool is_float = a.dtype == DType::Float32 || a.dtype == DType::Float64;
  if (!is_float || a.dtype != b.dtype) {
    throw OpError("DTypeError", std::string(op) + ": " + na + " and " + nb +
                                    " must be float tensors of one dtype, received " + engine::dtype_name(a.dtype) +
                                    " " + format_shape(a.shape) + " and " + engine::dtype_name(b.dtype) + " " +
                                    format_shape(b.shape));
  }
}

std::vector<int64_t> spatial_list(const char* op, const Attrs& attrs, const char* name, size_t count, int64_t min) {
  if (!attrs.has(name)) {
    throw OpError("ValueError", std::string(op) + ": attribute " + name + " is required");
  }
  std::vector<int64_t> v = attrs.get_ints(op, name, {});
  if (v.size() != count) {
    throw OpError("ValueError", std::string(op) + ": attribute " + name + " must have " + std::to_string(count) +
                                    " entries (one per spatial dim" + (count % 2 == 0 && std::string(name) == "padding" ? ", before and after" : "") +
                                    "), received " + list(v));
  }
  for (int64_t x : v) {
    if (x < min) {
      throw OpError("ValueError", std::string(op) + ": attribute " + name + " must be >= " + std::to_string(min) +
                                      ", received " + list(v));
    }
  }
  return v;
}

SpatialAttrs read_attrs(const char* op, const Attrs& attrs, size_t nsp) {
  SpatialAttrs a;
  a.strides = spatial_list(op, attrs, "strides", nsp, 1);
  a.dilation = spatial_list(op, attrs, "dilation", nsp, 1);
  a.padding = spatial_list(op, attrs, "padding", 2 * nsp, INT64_MIN);
  a.groups = attrs.get_int(op, "groups", 1);
  if (a.groups < 1) throw OpError("ValueError", std::string(op) + ": groups must be >= 1, received " + std::to_string(a.groups));
  return a;
}

// Output length of a window sweep (lib/ops/nn.ts windowOut).
int64_t window_out(const char* op, int64_t n, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pa,
                   const std::string& what) {
  const int64_t eff = (k - 1) * d + 1;
  const int64_t span = n + pb + pa - eff;
  if (span < 0) {
    throw OpError("ShapeError", std::string(op) + ": the window (size " + std::to_string(k) + ", dilation " +
                                    std::to_string(d) + ") is larger than the padded input (" + std::to_string(n) +
                                    " + " + std::to_string(pb) + " + " + std::to_string(pa) + ") for " + what);
  }
  return span / s + 1;
}

Shape conv_spatial(const char* op, const Shape& in, const Shape& k, const SpatialAttrs& a, const std::string& what) {
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    out.push_back(window_out(op, in[i], k[i], a.strides[i], a.dilation[i], a.padding[2 * i], a.padding[2 * i + 1], what));
  }
  return out;
}

std::vector<TensorSpec> infer_conv(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const TensorSpec &x = inputs[0], &k = inputs[1];
  const int nsp = check_rank("conv", "inputs", x);
  if (int(k.shape.size()) != nsp + 2) {
    throw OpError("ShapeError", "conv: kernel of shape " + format_shape(k.shape) + " must have rank " +
                                    std::to_string(nsp + 2) + " to match inputs of shape " + format_shape(x.shape));
  }
  check_float_pair("conv", x, k, "inputs", "kernel");
  const SpatialAttrs a = read_attrs("conv", attrs, size_t(nsp));
  const int64_t cin = x.shape.back(), kin = k.shape[size_t(nsp)], cout = k.shape.back();
  if (cin != kin * a.groups || cout % a.groups != 0) {
    throw OpError("ShapeError", "conv: inputs of shape " + format_shape(x.shape) + " have " + std::to_string(cin) +
                                    " channels but kernel of shape " + format_shape(k.shape) + " expects " +
                                    std::to_string(kin) + " input channels x " + std::to_string(a.groups) +
                                    " group(s)" +
                                    (cout % a.groups ? " (and " + std::to_string(cout) +
                                                           " output channels are not divisible by " +
                                                           std::to_string(a.groups) + " groups)"
                                                     : ""));
  }
  const Shape in(x.shape.begin() + 1, x.shape.end() - 1), ks(k.shape.begin(), k.shape.begin() + nsp);
  Shape out = conv_spatial("conv", in, ks, a, "inputs " + format_shape(x.shape) + " and kernel " + format_shape(k.shape));
  out.insert(out.begin(), x.shape[0]);
  out.push_back(cout);
  return {{x.dtype, out}};
}

void check_dy_spatial(const char* op, const TensorSpec& dy, const Shape& expected, const std::string& what) {
  const Shape got(dy.shape.begin() + 1, dy.shape.end() - 1);
  if (got != expected) {
    throw OpError("ShapeError", std::string(op) + ": dy of shape " + format_shape(dy.shape) +
                                    " does not match the convolution output spatial dims " + format_shape(expected) +
                                    " of " + what);
  }
}

std::vector<TensorSpec> infer_conv_backprop_input(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const char* op = "convBackpropInput";
  const TensorSpec &dy = inputs[0], &k = inputs[1];
  const int nsp = check_rank(op, "dy", dy);
  if (int(k.shape.size()) != nsp + 2) {
    throw OpError("ShapeError", std::string(op) + ": kernel of shape " + format_shape(k.shape) + " must have rank " +
                                    std::to_string(nsp + 2) + " to match dy of shape " + format_shape(dy.shape));
  }
  check_float_pair(op, dy, k, "dy", "kernel");
  const SpatialAttrs a = read_attrs(op, attrs, size_t(nsp));
  const std::vector<int64_t> input_size = spatial_list(op, attrs, "inputSize", size_t(nsp), 0);
  const int64_t cout = dy.shape.back();
  if (cout != k.shape.back()) {
    throw OpError("ShapeError", std::string(op) + ": dy of shape " + format_shape(dy.shape) + " has " +
                                    std::to_string(cout) + " channels but kernel of shape " + format_shape(k.shape) +
                                    " has " + std::to_string(k.shape.back()) + " output channels");
  }
  if (cout % a.groups != 0) {
    throw OpError("ShapeError", std::string(op) + ": the " + std::to_string(cout) + " output channels of kernel " +
                                    format_shape(k.shape) + " are not divisible by " + std::to_string(a.groups) +
                                    " groups");
  }
  const Shape in(input_size.begin(), input_size.end()), ks(k.shape.begin(), k.shape.begin() + nsp);
  const std::string what = "input size " + format_shape(in) + " and kernel " + format_shape(k.shape);
  check_dy_spatial(op, dy, conv_spatial(op, in, ks, a, what), what);
  Shape out = in;
  out.insert(out.begin(), dy.shape[0]);
  out.push_back(k.shape[size_t(nsp)] * a.groups);
  return {{dy.dtype, out}};
}

std::vector<TensorSpec> infer_conv_backprop_filter(const std::vector<TensorSpec>& inputs, const Attrs& attrs) {
  const char* op = "convBackpropFilter";
  const TensorSpec &x = inputs[0], &dy = inputs[1];
  const int nsp = check_rank(op, "inputs", x);
  if (int(dy.shape.size()) != nsp + 2) {
    throw OpError("ShapeError", std::string(op) + ": dy of shape " + format_shape(dy.shape) + " must have rank " +
                                    std::to_string(nsp + 2) + " to match inputs of shape " + format_shape(x.shape));
  }
  check_float_pair(op, x, dy, "inputs", "dy");
  const SpatialAttrs a = read_attrs(op, attrs, size_t(nsp));
  const std::vector<int64_t> kernel_size = spatial_list(op, attrs, "kernelSize", size_t(nsp), 0);
  const int64_t cin = x.shape.back(), cout = dy.shape.back();
  if (cin % a.groups || cout % a.groups) {
    throw OpError("ShapeError", std::string(op) + ": channels of inputs " + format_shape(x.shape) + " and dy " +
                                    format_shape(dy.shape) + " must be divisible by " + std::to_string(a.groups) +
                                    " groups");
  }
  if (dy.shape[0] != x.shape[0]) {
    throw OpError("ShapeError", std::string(op) + ": inputs of shape " + format_shape(x.shape) + " and dy of shape " +
                                    format_shape(dy.shape) + " have different batch sizes");
  }
  const Shape in(x.shape.begin() + 1, x.shape.end() - 1), ks(kernel_size.begin(), kernel_size.end());
  const std::string what = "inputs " + format_shape(x.shape) + " and kernel size " + format_shape(ks);
  check_dy_spatial(op, dy, conv_spatial(op, in, ks, a, what), what);
  Shape out = ks;
  out.push_back(cin / a.groups);
  out.push_back(cout);
  return {{x.dtype, out}};
}

}  // namespace

void define_conv_ops(KernelRegistry& registry) {
  registry.define_op("conv", 2, infer_conv);
  registry.define_op("convBackpropInput", 2, infer_conv_backprop_input);
  registry.define_op("convBackpropFilter", 2, infer_conv_backprop_filter);
}

}  // namespace keras::kernels
