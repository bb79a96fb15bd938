// The per-ISA row functions of the fused layer normalization (norm_kernels.h,
// instantiated in norm_<isa>.cc; driven by norm.cc). Row statistics and sums are computed
// in double, as the js kernel does; float32 outputs (y, dx) in float lanes.
#pragma once
#include <cstdint>

namespace keras::cpu {

template <class T>
struct LayerNormRows {
  // `rows` consecutive rows of n: y = (x - mean) * rstd * gamma + beta; each row's mean (0 when
  // rms) and rstd = 1 / sqrt(var + eps) go to mean[r] and rstd[r]. A row's results do not depend
  // on which rows come with it (so not on the thread count).
  void (*forward)(const T* x, const T* gamma, const T* beta, T* y, int64_t rows, int64_t n, double eps, bool rms,
                  T* mean, T* rstd);
  // forward where every gamma has the bits of gamma[0] and every beta those of beta[0] (n > 0):
  // the same bits, without loading them per element.
  void (*forward_uniform)(const T* x, const T* gamma, const T* beta, T* y, int64_t rows, int64_t n, double eps,
                          bool rms, T* mean, T* rstd);
  // The gradient of `rows` consecutive rows (stride n) with their means and rstds: writes dx
  // and adds dy * xhat to dgamma[k], dy to dbeta[k]. stream_dx: dx bypasses the caches (for an
  // output larger than they are; the same values).
  void (*backward)(const T* dy, const T* x, const T* gamma, const double* mean, const double* rstd, int64_t rows,
                   bool rms, T* dx, double* dgamma, double* dbeta, int64_t n, bool stream_dx);
};

// Rows the backward pass takes at once (each vector of dgamma/dbeta is loaded and stored once per block).
constexpr int kGradRows = 4;

struct NormIsaTable {
  const char* isa;
  LayerNormRows<float> f32;
  LayerNormRows<double> f64;
};

extern const NormIsaTable kNormAvx512;
extern const NormIsaTable kNormAvx2;
extern const NormIsaTable kNormPortable;

}  // namespace keras::cpu
