// The one GEMM micro-kernel and FMA peak loop, written once over a SIMD vector
// type V (simd/simd_<isa>.h) and instantiated per ISA in isa_<isa>.cc.
// Every template here takes V, so instantiations for different ISAs are distinct
// symbols and the linker can never mix code compiled with different flags.
#pragma once
#include <cstdint>
#include <utility>

#include "isa_kernels.h"

namespace keras::cpu {

// MR rows x NV vectors of accumulators stay in registers for the whole k loop:
// per k step, NV loads of B, MR broadcasts of A, MR*NV FMAs.
template <class V, int MR, int NV>
void gemm_microkernel(int64_t kc, const typename V::T* __restrict a, const typename V::T* __restrict b, int64_t b_step,
                      typename V::T* __restrict c, int64_t ldc, typename V::T alpha, typename V::T beta) {
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  static_assert(MR * NV + NV + 1 <= V::kRegisters, "register tile does not fit the register file");
  Reg acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
  }
  // Warm C's lines while the k loop runs, so the final update does not stall.
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) __builtin_prefetch(c + i * ldc + j * W, 1, 3);
  }

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    Reg bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) bv[j] = V::loadu(b + j * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      Reg av = V::set1(a[i]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
    a += MR;
    b += b_step;
  }

  const Reg valpha = V::set1(alpha);
  if (beta == 0) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) V::storeu(c + i * ldc + j * W, V::mul(acc[i][j], valpha));
    }
  } else {
    const Reg vbeta = V::set1(beta);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        Reg old = V::mul(V::loadu(c + i * ldc + j * W), vbeta);
        V::storeu(c + i * ldc + j * W, V::fmadd(acc[i][j], valpha, old));
      }
    }
  }
}

// Few rows of A against a row-major B read in place (a matrix-vector product, an
// inference batch of a few rows): C[0:MR, 0:cols] = alpha * A * B + beta * C, A's
// element (i, p) at a[i * rsa + p * csa], B's row p at b + p * rsb, and cols in
// ((NV - 1) * W, NV * W]: lanes past cols are neither read nor written. Per k step:
// NV loads of B, MR of A, MR * NV FMAs; nothing is packed, and no FMA is spent on
// the padding rows the MR-row micro-kernel would carry.
template <class V, int MR, int NV>
void gemm_rows_kernel(int64_t k, const typename V::T* __restrict a, int64_t rsa, int64_t csa,
                      const typename V::T* __restrict b, int64_t rsb, typename V::T* __restrict c, int64_t ldc,
                      int64_t cols, typename V::T alpha, typename V::T beta) {
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  static_assert(MR * NV + NV + 1 <= V::kRegisters, "register tile does not fit the register file");
  const int last = int(cols - (NV - 1) * W);  // lanes of the last vector, 1..W
  Reg acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
  }
  auto run = [&](auto partial) {
    const typename V::T* bp = b;
    const typename V::T* ap = a;
    for (int64_t p = 0; p < k; ++p, bp += rsb, ap += csa) {
      Reg bv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) bv[j] = partial && j == NV - 1 ? V::load_first(bp + j * W, last) : V::loadu(bp + j * W);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const Reg av = V::set1(ap[i * rsa]);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
      }
    }
  };
  if (last == W) {
    run(std::false_type{});
  } else {
    run(std::true_type{});
  }
  const Reg valpha = V::set1(alpha), vbeta = V::set1(beta);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      typename V::T* to = c + i * ldc + j * W;
      const bool partial = j == NV - 1 && last < W;
      Reg v = V::mul(acc[i][j], valpha);
      // beta == 0: C is write-only (a NaN in it never leaks through).
      if (beta != 0) v = V::fmadd(partial ? V::load_first(to, last) : V::loadu(to), vbeta, v);
      if (partial) {
        V::store_first(to, v, last);
      } else {
        V::storeu(to, v);
      }
    }
  }
}

// Rows of A contiguous along k against one column of B, also contiguous along k (a column
// vector, or a column packed): C[i * ldc] = alpha * dot(a + i * rsa, b) + beta * C[i * ldc]
// for i < MR. The MR rows share each load of b; two chains a row overlap the FMA latency.
// A row's value takes the same operations whatever MR is (its lanes added in one fixed
// tree), so it does not depend on the rows beside it or on how threads split them.
template <class V, int MR>
void gemm_dots_kernel(int64_t k, const typename V::T* __restrict a, int64_t rsa, const typename V::T* __restrict b,
                      typename V::T* __restrict c, int64_t ldc, typename V::T alpha, typename V::T beta) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  static_assert(2 * MR + 3 <= V::kRegisters, "accumulators do not fit the register file");
  Reg acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = V::zero();
  int64_t p = 0;
  for (; p + 2 * W <= k; p += 2 * W) {
    const Reg b0 = V::loadu(b + p), b1 = V::loadu(b + p + W);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      acc[i][0] = V::fmadd(V::loadu(a + i * rsa + p), b0, acc[i][0]);
      acc[i][1] = V::fmadd(V::loadu(a + i * rsa + p + W), b1, acc[i][1]);
    }
  }
  if (p + W <= k) {
    const Reg b0 = V::loadu(b + p);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) acc[i][0] = V::fmadd(V::loadu(a + i * rsa + p), b0, acc[i][0]);
    p += W;
  }
  if (p < k) {
    const int last = int(k - p);
    const Reg b0 = V::load_first(b + p, last);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) acc[i][1] = V::fmadd(V::load_first(a + i * rsa + p, last), b0, acc[i][1]);
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    alignas(64) T lanes[W];
    V::storeu(lanes, V::add(acc[i][0], acc[i][1]));
    for (int w = W / 2; w >= 1; w /= 2) {
      for (int l = 0; l < w; ++l) lanes[l] += lanes[l + w];
    }
    T* to = c + i * ldc;
    // beta == 0: C is write-only (a NaN in it never leaks through).
    *to = beta == T(0) ? alpha * lanes[0] : alpha * lanes[0] + beta * *to;
  }
}

// A band of a product of MR rows of A (GemvBandFn): C's columns NV vectors at a time, held in
// registers over the band's rows of B, which are read in order across all of B's columns; then
// the columns left, a vector at a time (the last one partial). One row folds its loads of B
// into the FMAs (half the registers for C); more rows share each load, NV as many as fit
// beside their broadcasts.
template <class V, int MR>
void gemv_band_kernel(int64_t k, const typename V::T* __restrict a, int64_t rsa, int64_t csa,
                      const typename V::T* __restrict b, int64_t rsb, typename V::T* __restrict c, int64_t ldc, int64_t n,
                      bool accumulate) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  constexpr int NV = MR == 1 ? V::kRegisters / 2 : (V::kRegisters - MR - 2) / MR;
  static_assert(NV >= 1, "no register block of columns fits");
  int64_t j0 = 0;
  for (; j0 + NV * W <= n; j0 += NV * W) {
    Reg acc[MR][NV];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 16
      for (int j = 0; j < NV; ++j) acc[i][j] = accumulate ? V::loadu(c + i * ldc + j0 + j * W) : V::zero();
    }
    for (int64_t p = 0; p < k; ++p) {
      const T* row = b + p * rsb + j0;
      Reg av[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) av[i] = V::set1(a[i * rsa + p * csa]);
#pragma GCC unroll 16
      for (int j = 0; j < NV; ++j) {
        const Reg bv = V::loadu(row + j * W);
#pragma GCC unroll 4
        for (int i = 0; i < MR; ++i) acc[i][j] = V::fmadd(av[i], bv, acc[i][j]);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 16
      for (int j = 0; j < NV; ++j) V::storeu(c + i * ldc + j0 + j * W, acc[i][j]);
    }
  }
  for (; j0 < n; j0 += W) {
    const int count = int(std::min<int64_t>(W, n - j0));
    const auto load = [count](const T* from) { return count == W ? V::loadu(from) : V::load_first(from, count); };
    Reg acc[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) acc[i] = accumulate ? load(c + i * ldc + j0) : V::zero();
    for (int64_t p = 0; p < k; ++p) {
      const Reg bv = load(b + p * rsb + j0);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) acc[i] = V::fmadd(V::set1(a[i * rsa + p * csa]), bv, acc[i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      if (count == W) {
        V::storeu(c + i * ldc + j0, acc[i]);
      } else {
        V::store_first(c + i * ldc + j0, acc[i], count);
      }
    }
  }
}

// The rows kernels of every row count up to kGemmRowsMax and block width up to the
// widest that the register file holds at kGemmRowsMax rows (wider entries repeat it:
// never chosen, see GemmRowsKernels::vectors).
template <class V, int MR, int... NV>
constexpr std::array<GemmRowsFn<typename V::T>, kGemmRowsVectors> gemm_rows_of(std::integer_sequence<int, NV...>) {
  constexpr int widest = gemm_rows_vectors(V::kRegisters);
  return {&gemm_rows_kernel<V, MR, (NV + 1 < widest ? NV + 1 : widest)>...};
}
template <class V, int... MR>
constexpr GemmRowsKernels<typename V::T> gemm_rows_kernels(std::integer_sequence<int, MR...>) {
  constexpr auto nvs = std::make_integer_sequence<int, kGemmRowsVectors>{};
  return {V::kWidth, gemm_rows_vectors(V::kRegisters), {gemm_rows_of<V, MR + 1>(nvs)...}, {&gemm_dots_kernel<V, MR + 1>...},
          {&gemv_band_kernel<V, MR + 1>...}};
}
template <class V>
constexpr GemmRowsKernels<typename V::T> make_gemm_rows_kernels() {
  return gemm_rows_kernels<V>(std::make_integer_sequence<int, kGemmRowsMax>{});
}

// CHAINS independent multiply-add chains: enough to cover FMA latency times
// the number of FMA pipes on every current core (4 cycles x 2 pipes = 8).
template <class V, int CHAINS>
float fma_peak_loop(int64_t iterations) {
  using Reg = typename V::Reg;
  Reg acc[CHAINS];
#pragma GCC unroll 32
  for (int i = 0; i < CHAINS; ++i) acc[i] = V::set1(float(i) * 1e-3f);
  // Values stay finite and normal: x*0.9999999 + 1e-7 converges, never overflows.
  const Reg scale = V::set1(0.9999999f);
  const Reg bias = V::set1(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32
    for (int i = 0; i < CHAINS; ++i) acc[i] = V::fmadd(acc[i], scale, bias);
  }
  Reg sum = acc[0];
#pragma GCC unroll 32
  for (int i = 1; i < CHAINS; ++i) sum = V::add(sum, acc[i]);
  alignas(64) float lanes[V::kWidth];
  V::storeu(lanes, sum);
  float total = 0;
  for (int i = 0; i < V::kWidth; ++i) total += lanes[i];
  return total;
}

template <class V, int CHAINS>
constexpr int64_t fma_peak_flops_per_iteration() {
  return int64_t(CHAINS) * V::kWidth * 2;
}

}  // namespace keras::cpu
