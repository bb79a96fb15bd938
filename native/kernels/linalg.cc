// Factorization ops (inv, det, solve, cholesky): inference and validation, with
// the names, attrs (none) and messages of lib/ops/linalg.ts. matmul lives in
// matmul.cc.
#include <string>
#include <vector>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::format_shape;

bool is_float(DType d) { return d == DType::Float32 || d == DType::Float64; }

void check_float(const TensorSpec& x, const char* op, const char* arg) {
  if (!is_float(x.dtype)) {
    throw OpError("DTypeError", std::string(op) + ": " + arg + " must be a float tensor, received " +
                                    engine::dtype_name(x.dtype) + " " + format_shape(x.shape));
  }
}

// A stack of square matrices [..., n, n]; returns n.
int64_t check_square(const TensorSpec& x, const char* op, const char* arg) {
  const size_t r = x.shape.size();
  if (r < 2) {
    throw OpError("ShapeError", std::string(op) + ": " + arg +
                                    " must be a matrix or a stack of matrices (rank >= 2), received shape " +
                                    format_shape(x.shape));
  }
  if (x.shape[r - 2] != x.shape[r - 1]) {
    throw OpError("ShapeError", std::string(op) + ": " + arg +
                                    " must be square in its last two dimensions, received shape " +
                                    format_shape(x.shape));
  }
  return x.shape[r - 1];
}

// inv, cholesky: [..., n, n] -> [..., n, n].
template <const char* Op>
std::vector<TensorSpec> infer_square_to_square(const std::vector<TensorSpec>& in, const Attrs&) {
  check_float(in[0], Op, "x");
  check_square(in[0], Op, "x");
  return {{in[0].dtype, in[0].shape}};
}

constexpr char kInv[] = "inv";
constexpr char kCholesky[] = "cholesky";

// det: [..., n, n] -> [...].
std::vector<TensorSpec> infer_det(const std::vector<TensorSpec>& in, const Attrs&) {
  check_float(in[0], "det", "x");
  check_square(in[0], "det", "x");
  return {{in[0].dtype, Shape(in[0].shape.begin(), in[0].shape.end() - 2)}};
}

// solve: a [..., n, n], b [..., n, k] with the same batch dims (no broadcasting) -> [..., n, k].
std::vector<TensorSpec> infer_solve(const std::vector<TensorSpec>& in, const Attrs&) {
  const TensorSpec& a = in[0];
  const TensorSpec& b = in[1];
  check_float(a, "solve", "a");
  if (a.dtype != b.dtype) {
    throw OpError("DTypeError", std::string("solve: a and b must have the same dtype, received ") +
                                    engine::dtype_name(a.dtype) + " " + format_shape(a.shape) + " and " +
                                    engine::dtype_name(b.dtype) + " " + format_shape(b.shape));
  }
  const int64_t n = check_square(a, "solve", "a");
  const size_t rb = b.shape.size();
  bool mismatch = rb != a.shape.size();
  for (size_t i = 0; !mismatch && i + 2 < a.shape.size(); ++i) mismatch = a.shape[i] != b.shape[i];
  if (mismatch || b.shape[rb - 2] != n) {
    throw OpError("ShapeError", "solve: b must have shape [..., " + std::to_string(n) +
                                    ", k] with the batch dims of a, received a " + format_shape(a.shape) +
                                    " and b " + format_shape(b.shape));
  }
  return {{b.dtype, b.shape}};
}

}  // namespace

void define_linalg_ops(KernelRegistry& registry) {
  registry.define_op("inv", 1, infer_square_to_square<kInv>);
  registry.define_op("det", 1, infer_det);
  registry.define_op("solve", 2, infer_solve);
  registry.define_op("cholesky", 1, infer_square_to_square<kCholesky>);
}

}  // namespace keras::kernels
