// The per-ISA row functions of the fused batch normalization (batch_norm_kernels.h,
// instantiated in batch_norm_<isa>.cc; driven by batch_norm.cc). Values are read into
// double lanes (float32 converted), so sums and outputs are computed in double, as the js
// kernel does, and rounded once on store.
#pragma once
#include <cstdint>

namespace keras::cpu {

// Batch normalization over x seen as [outer, C, inner] around the channel axis, in double.
// cols: rows of C channels with per-channel arrays (channels last, inner = 1), summed in
// registers down a block of `rows` rows; run: `n` contiguous values of one channel (inner > 1).
template <class T>
struct BatchNormRows {
  // s1[c] += x[c] - shift[c], s2[c] += (x[c] - shift[c])^2 over `rows` rows of C.
  void (*sums_cols)(const T* x, int64_t rows, int64_t C, const double* shift, double* s1, double* s2);
  // *s1 = sum(x - shift), *s2 = sum((x - shift)^2) over a run.
  void (*sums_run)(const T* x, int64_t n, double shift, double* s1, double* s2);
  // y[c] = (x[c] - mean[c]) * scale[c] + beta[c] over `rows` rows of C.
  void (*normalize_cols)(const T* x, T* y, int64_t rows, int64_t C, const double* mean, const double* scale,
                         const double* beta);
  // y = (x - mean) * scale + beta over a run.
  void (*normalize_run)(const T* x, T* y, int64_t n, double mean, double scale, double beta);
  // sum_dy[c] += dy, sum_dy_xhat[c] += dy * (x - mean[c]) * inv[c] over `rows` rows of C.
  void (*grad_sums_cols)(const T* dy, const T* x, int64_t rows, int64_t C, const double* mean, const double* inv,
                         double* sum_dy, double* sum_dy_xhat);
  // *sum_dy = sum(dy), *sum_dy_xhat = sum(dy * (x - mean) * inv) over a run.
  void (*grad_sums_run)(const T* dy, const T* x, int64_t n, double mean, double inv, double* sum_dy,
                        double* sum_dy_xhat);
  // dx[c] = scale[c] * (dy[c] - shift[c] - (x[c] - mean[c]) * slope[c]) over `rows` rows of C.
  void (*grad_dx_cols)(const T* dy, const T* x, T* dx, int64_t rows, int64_t C, const double* mean, const double* scale,
                       const double* shift, const double* slope);
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
