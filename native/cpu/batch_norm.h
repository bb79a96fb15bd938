// The per-ISA functions of the fused batch normalization (batch_norm_kernels.h, instantiated
// in norm_<isa>.cc; driven by batch_norm.cc). Sums are returned in double; channels-last
// passes compute in lanes of T (float32 in float lanes, partials of a few rows added into
// double), runs of one channel in double lanes, as the js kernel does.
#pragma once
#include <cstdint>

namespace keras::cpu {

// Batch normalization over x seen as [outer, C, inner] around the channel axis.
// cols: rows of C channels with per-channel arrays (channels last, inner = 1);
// run: `n` contiguous values of one channel (inner > 1).
template <class T>
struct BatchNormRows {
  // s1[c] += x[c] - shift[c], s2[c] += (x[c] - shift[c])^2 over `rows` rows of C.
  void (*sums_cols)(const T* x, int64_t rows, int64_t C, const T* shift, double* s1, double* s2);
  // *s1 = sum(x - shift), *s2 = sum((x - shift)^2) over a run.
  void (*sums_run)(const T* x, int64_t n, double shift, double* s1, double* s2);
  // y[c] = (x[c] - center[c]) * a[c] + b[c] over `rows` rows of C, in T.
  void (*normalize_cols)(const T* x, T* y, int64_t rows, int64_t C, const T* center, const T* a, const T* b);
  // y = (x - mean) * scale + beta over a run.
  void (*normalize_run)(const T* x, T* y, int64_t n, double mean, double scale, double beta);
  // sum_dy[c] += dy, sum_dy_d[c] += dy * (x - mean[c]) over `rows` rows of C.
  void (*grad_sums_cols)(const T* dy, const T* x, int64_t rows, int64_t C, const T* mean, double* sum_dy,
                         double* sum_dy_d);
  // *sum_dy = sum(dy), *sum_dy_d = sum(dy * (x - mean)) over a run.
  void (*grad_sums_run)(const T* dy, const T* x, int64_t n, double mean, double* sum_dy, double* sum_dy_d);
  // dx[c] = a[c] * dy[c] + (b[c] * (x[c] - mean[c]) + c[c]) over `rows` rows of C, in T.
  void (*grad_dx_cols)(const T* dy, const T* x, T* dx, int64_t rows, int64_t C, const T* mean, const T* a, const T* b,
                       const T* c);
  // dx = scale * (dy - shift - (x - mean) * slope) over a run.
  void (*grad_dx_run)(const T* dy, const T* x, T* dx, int64_t n, double mean, double scale, double shift, double slope);
};

struct BatchNormIsaTable {
  const char* isa;
  BatchNormRows<float> f32;
  BatchNormRows<double> f64;
};

extern const BatchNormIsaTable kBatchNormAvx512;
extern const BatchNormIsaTable kBatchNormAvx2;
extern const BatchNormIsaTable kBatchNormPortable;

}  // namespace keras::cpu
