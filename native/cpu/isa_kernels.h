// The ISA-specific entry points. Each instruction set gets one translation unit
// (isa_<name>.cc, compiled with that ISA's flags) that instantiates the same
// templates and exports one table; the rest of the engine calls through it.
#pragma once
#include <array>
#include <cstdint>

#include "elementwise_table.h"

namespace keras::cpu {

// C[0:MR, 0:NR] = alpha * (A panel * B panel) + beta * C, with C row stride ldc.
// The A panel is kc x MR (k-major, packed and aligned); the B panel kc rows of NR
// values b_step apart (NR when packed; a row-major B's row stride when read in place).
// beta == 0 means C is write-only (never read, so NaNs in C do not leak through).
template <class T>
using GemmMicrokernelFn = void (*)(int64_t kc, const T* a_panel, const T* b_panel, int64_t b_step, T* c, int64_t ldc,
                                   T alpha, T beta);

// Packs op(A) rows [0, mc) x k [0, kc) into MR-row panels (see gemm_packing.h).
template <class T>
using GemmPackAFn = void (*)(int64_t mc, int64_t kc, const T* a, int64_t row_stride, int64_t col_stride, T* out);
// Packs op(B) k [0, kc) x columns [0, nc) into NR-column panels.
template <class T>
using GemmPackBFn = void (*)(int64_t kc, int64_t nc, const T* b, int64_t row_stride, int64_t col_stride, T* out);

// C[0:rows, 0:cols] = alpha * A * B + beta * C for fewer rows of A than MR, A read in
// place (element (i, p) at a[i * rsa + p * csa]) and B row-major in place (row stride
// rsb); see gemm_rows_kernel in gemm_microkernel.h.
template <class T>
using GemmRowsFn = void (*)(int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t rsb, T* c,
                            int64_t ldc, int64_t cols, T alpha, T beta);
constexpr int kGemmRowsMax = 4;      // rows of A per call
constexpr int kGemmRowsVectors = 4;  // the widest block of columns, in vectors
// The widest block of columns (vectors) that kGemmRowsMax rows of accumulators, the
// block's B vectors and one broadcast leave room for.
constexpr int gemm_rows_vectors(int registers) {
  int nv = 1;
  while (nv < kGemmRowsVectors && kGemmRowsMax * (nv + 1) + (nv + 1) + 1 <= registers) ++nv;
  return nv;
}
// C[i * ldc] = alpha * (the dot product of a + i * rsa and b, k contiguous values each) +
// beta * C[i * ldc] for the rows i of one call; see gemm_dots_kernel in gemm_microkernel.h.
template <class T>
using GemmDotsFn = void (*)(int64_t k, const T* a, int64_t rsa, const T* b, T* c, int64_t ldc, T alpha, T beta);
// One band of a product of a few rows of A against a row-major B: C[0:rows, 0:n] = (accumulate ?
// C : 0) + the sum over p < k of A's column p (element (i, p) at a[i * rsa + p * csa]) times
// B's row p (at b + p * rsb); see gemv_band_kernel in gemm_microkernel.h.
template <class T>
using GemvBandFn = void (*)(int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t rsb, T* c, int64_t ldc,
                            int64_t n, bool accumulate);
template <class T>
struct GemmRowsKernels {
  int lanes;    // elements per vector
  int vectors;  // the widest block used: gemm_rows_vectors of this ISA
  std::array<std::array<GemmRowsFn<T>, kGemmRowsVectors>, kGemmRowsMax> run;  // [rows - 1][vectors - 1]
  std::array<GemmDotsFn<T>, kGemmRowsMax> dots;                                // [rows - 1]
  std::array<GemvBandFn<T>, kGemmRowsMax> gemv_band;                          // [rows - 1]
};

template <class T>
struct GemmMicrokernel {
  const char* name;  // XNNPACK style: f32_gemm_14x32_avx512
  int mr;
  int nr;
  GemmMicrokernelFn<T> run;
  GemmPackAFn<T> pack_a;
  GemmPackBFn<T> pack_b;
  GemmRowsKernels<T> rows;
};

struct IsaKernelTable {
  const char* isa;
  GemmMicrokernel<float> f32_gemm;
  GemmMicrokernel<double> f64_gemm;
  // Runs `iterations` rounds of independent FMA chains; returns a value that
  // depends on all of them so the loop is not optimized away.
  float (*f32_fma_loop)(int64_t iterations);
  int64_t f32_fma_loop_flops_per_iteration;
  const ElementwiseTable* elementwise;
};

// Constant-initialized, so reading them never runs code of an ISA the CPU lacks.
extern const IsaKernelTable kAvx512Kernels;
extern const IsaKernelTable kAvx2Kernels;
extern const IsaKernelTable kPortableKernels;

}  // namespace keras::cpu
