// The per-ISA row functions of the CPU softmax kernels (softmax_kernels.h,
// instantiated in softmax_<isa>.cc). float32 rows are vectorized in float lanes
// (exp: vector_math.h), their sum in double; float64 rows are scalar (softmax.cc).
#pragma once
#include <cmath>
#include <cstdint>

namespace keras::cpu {

struct SoftmaxIsaTable {
  const char* isa;
  // y = softmax(x) (or logSoftmax when `log`) over `rows` contiguous rows of n floats.
  // A row's results do not depend on which rows come with it (so not on the thread count).
  // `stream`: y is past the last-level cache, written by streaming stores where its rows
  // start on lines (the same values either way).
  void (*f32_rows)(const float* x, float* y, int64_t rows, int64_t n, bool log, bool stream);
  // Each of `rows` contiguous rows of n > 0 floats: its max into m[r] and log(sum(exp(x - m)))
  // into lse[r], in double. A row's values do not depend on which rows come with it.
  void (*f32_lse_rows)(const float* x, int64_t rows, int64_t n, double* m, double* lse);
  // softmax's gradient dx = y * (dy - sum(dy * y)) over `rows` contiguous rows of n floats,
  // in double lanes, each dx rounded once.
  void (*f32_grad_rows)(const float* y, const float* dy, float* dx, int64_t rows, int64_t n);
  // logSoftmax's gradient dx = dy - exp(y) * sum(dy) (y the logSoftmax), likewise.
  void (*f32_log_grad_rows)(const float* y, const float* dy, float* dx, int64_t rows, int64_t n);
};

// One element of those gradients in double, given the row's s (sum(dy * y), or sum(dy) for kLog).
template <bool kLog>
inline double grad_term(double y, double dy, double s) {
  return kLog ? dy - std::exp(y) * s : y * (dy - s);
}

extern const SoftmaxIsaTable kSoftmaxAvx512;
extern const SoftmaxIsaTable kSoftmaxAvx2;
extern const SoftmaxIsaTable kSoftmaxPortable;

}  // namespace keras::cpu
