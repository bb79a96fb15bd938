// The ISA-specific entry points. Each instruction set gets one translation unit
// (isa_<name>.cc, compiled with that ISA's flags) that instantiates the same
// templates and exports one table; the rest of the engine calls through it.
#pragma once
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

template <class T>
struct GemmMicrokernel {
  const char* name;  // XNNPACK style: f32_gemm_14x32_avx512
  int mr;
  int nr;
  GemmMicrokernelFn<T> run;
  GemmPackAFn<T> pack_a;
  GemmPackBFn<T> pack_b;
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
