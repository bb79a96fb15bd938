// General matrix multiply, BLIS style: op(A) and op(B) are packed into
// contiguous panels and five loops around the ISA's register-blocked
// micro-kernel walk cache-sized blocks. Transposes are just strides. A row-major
// B is read in place, unpacked, when A has few rows (gemm.cc, kInPlaceMaxRows);
// with fewer rows than the micro-kernel's tile (a matrix-vector product, a small
// inference batch) narrow rows kernels read both operands in place (gemm_rows).
#pragma once
#include <cstdint>
#include <vector>

namespace keras::cpu {

// For each batch index b:
//   C_b = alpha * op(A)_b * op(B)_b + beta * C_b
// with element (i, p) of op(A)_b at a[a_offsets[b] + i*a_row_stride + p*a_col_stride],
// element (p, j) of op(B)_b likewise, and C_b row-major with unit column stride.
// Empty offset vectors mean offset 0 for every batch (a broadcast operand).
template <class T>
struct GemmBatch {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  T alpha = 1, beta = 0;
  const T* a = nullptr;
  int64_t a_row_stride = 0, a_col_stride = 1;
  const T* b = nullptr;
  int64_t b_row_stride = 0, b_col_stride = 1;
  T* c = nullptr;
  int64_t c_row_stride = 0;
  std::vector<int64_t> a_offsets, b_offsets, c_offsets;
};

// Runs on the engine thread pool, on at most max_threads threads (0 = all).
template <class T>
void gemm(const GemmBatch<T>& problem, int max_threads = 0);

struct GemmBlocking {
  int64_t mc, kc, nc;
};

// Block sizes for a micro-kernel tile from the cache sizes (env override:
// KERAS_GEMM_BLOCKING=mc,kc,nc). kc: long k loops per C tile update;
// mc: the packed mc x kc block of A in half of L2; nc: the kc x nc block of B
// in this core's share of L3.
GemmBlocking gemm_blocking(int mr, int nr, int element_size);

}  // namespace keras::cpu
