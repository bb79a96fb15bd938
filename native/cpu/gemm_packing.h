// Packing of GEMM operands into micro-kernel panels, written once and compiled
// in each ISA's translation unit so the compiler vectorizes it for that ISA.
// V only names the ISA (keeping each instantiation a distinct symbol).
#pragma once
#include <cstdint>
#include <type_traits>

#include "transpose_kernels.h"

namespace keras::cpu {

// The register tile that packs a row-major A: kSide rows of kSide k steps loaded (zeros past
// `rows`) and transposed, column j (k step j) in c[j]. avx512's is transpose_kernels.h's
// ColumnTile; AVX2 float32 has its own 8x8 here (ColumnTile leaves AVX2 out for the scan,
// whose columns stay live through a kernel: here they are stored at once).
template <class Isa, class T, bool = kRegBytes<Isa> == 32 && std::is_same_v<T, float>>
struct PackTile : transpose_detail::ColumnTile<Isa, T> {
  template <class Reg>
  static void store_first(T* p, Reg v, int count) {
    Isa::template Vec<T>::store_first(p, v, count);
  }
};

#if defined(__AVX2__)
template <class Isa, class T>
struct PackTile<Isa, T, true> {
  using Reg = __m256;
  static constexpr int kSide = 8;
  static void load_columns(const float* s, int64_t ss, Reg c[kSide], int rows) {
    Reg r[kSide];
    for (int i = 0; i < kSide; ++i) r[i] = i < rows ? _mm256_loadu_ps(s + i * ss) : _mm256_setzero_ps();
    // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves: column j of
    // rows 0-3 in half j % 4 of u[j % 4], rows 4-7 in u[4 + j % 4].
    Reg u[kSide];
    for (int h = 0; h < kSide; h += 4) {
      const Reg t0 = _mm256_unpacklo_ps(r[h], r[h + 1]), t1 = _mm256_unpackhi_ps(r[h], r[h + 1]);
      const Reg t2 = _mm256_unpacklo_ps(r[h + 2], r[h + 3]), t3 = _mm256_unpackhi_ps(r[h + 2], r[h + 3]);
      u[h] = _mm256_shuffle_ps(t0, t2, 0x44);
      u[h + 1] = _mm256_shuffle_ps(t0, t2, 0xEE);
      u[h + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
      u[h + 3] = _mm256_shuffle_ps(t1, t3, 0xEE);
    }
    for (int j = 0; j < 4; ++j) {
      c[j] = _mm256_permute2f128_ps(u[j], u[j + 4], 0x20);
      c[j + 4] = _mm256_permute2f128_ps(u[j], u[j + 4], 0x31);
    }
  }
  // Its first `count` lanes (6 or 8) to p: AMD's masked stores (vmaskmovps) are microcoded,
  // and made this packing slower than the element loop.
  static void store_first(float* p, Reg v, int count) {
    if (count == kSide) return _mm256_storeu_ps(p, v);
    _mm_storeu_ps(p, _mm256_castps256_ps128(v));
    const __m128 high = _mm256_extractf128_ps(v, 1);
    if (count == 6) return _mm_storel_pi(reinterpret_cast<__m64*>(p + 4), high);
    alignas(16) float rest[4];
    _mm_store_ps(rest, high);
    for (int i = 4; i < count; ++i) p[i] = rest[i - 4];
  }
};
#endif

// Rows [0, mc) x k-columns [0, kc) of op(A) (element (i, p) at a[i*rs + p*cs])
// into MR-row panels, k-major: panel[p*MR + i]; rows past mc are zero so the
// micro-kernel needs no tail code.
// Isa: the ISA tag whose register tiles pack a row-major A.
template <class V, int MR, class Isa>
void pack_a_panels(int64_t mc, int64_t kc, const typename V::T* __restrict a, int64_t rs, int64_t cs,
                   typename V::T* __restrict out) {
  using T = typename V::T;
  using Tile = PackTile<Isa, T>;
  for (int64_t ir = 0; ir < mc; ir += MR, out += kc * MR) {
    const int64_t rows = mc - ir < MR ? mc - ir : MR;
    const T* src = a + ir * rs;
    if constexpr (Tile::kSide >= MR) {
      if (cs == 1) {
        // Row-major A, a register tile of kSide k steps at a time: its rows (zeros past
        // `rows`) transposed into columns, each column one panel step. The element loop
        // below took 11% of a [2048, 128] x [128, 128] product's time on avx512, a third of a
        // batch of 64 x 64 x 32 products' (as much as their micro-kernel's 14 x 32 tiles).
        int64_t p = 0;
        for (; p + Tile::kSide <= kc; p += Tile::kSide) {
          typename Tile::Reg column[Tile::kSide];
          Tile::load_columns(src + p, rs, column, int(rows));
          for (int j = 0; j < Tile::kSide; ++j) Tile::store_first(out + (p + j) * MR, column[j], MR);
        }
        for (; p < kc; ++p) {
          for (int64_t i = 0; i < MR; ++i) out[p * MR + i] = i < rows ? src[i * rs + p] : T(0);
        }
        continue;
      }
    }
    if (rows == MR && cs == 1) {
      // Row-major A: MR row streams, interleaved one k step at a time.
      const T* row[MR];
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) row[i] = src + i * rs;
      for (int64_t p = 0; p < kc; ++p) {
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) out[p * MR + i] = row[i][p];
      }
    } else if (rows == MR && rs == 1) {
      // Transposed A: each k step is already MR contiguous values.
      for (int64_t p = 0; p < kc; ++p) {
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) out[p * MR + i] = src[p * cs + i];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t i = 0; i < MR; ++i) out[p * MR + i] = i < rows ? src[i * rs + p * cs] : T(0);
      }
    }
  }
}

// k-rows [0, kc) x columns [0, nc) of op(B) (element (p, j) at b[p*rs + j*cs])
// into NR-column panels: panel[p*NR + j], zero-padded past nc.
// Isa: the ISA tag whose block transposes pack a transposed B.
template <class V, int NR, class Isa>
void pack_b_panels(int64_t kc, int64_t nc, const typename V::T* __restrict b, int64_t rs, int64_t cs,
                   typename V::T* __restrict out) {
  using T = typename V::T;
  for (int64_t jr = 0; jr < nc; jr += NR, out += kc * NR) {
    const int64_t cols = nc - jr < NR ? nc - jr : NR;
    const T* src = b + jr * cs;
    if (cols == NR && cs == 1) {
      for (int64_t p = 0; p < kc; ++p) {
#pragma GCC unroll 64
        for (int j = 0; j < NR; ++j) out[p * NR + j] = src[p * rs + j];
      }
    } else if (cols == NR && rs == 1) {
      // Transposed B: the panel is NR rows of B's storage, kc long, transposed in
      // register micro-tiles (element by element, a gather per k step, a 64x128x1600
      // product with B transposed ran at 0.7x the plain one's speed).
      using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
      transpose_detail::transpose_block<Isa, Bits>(src, cs, out, NR, NR, kc, false);
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t j = 0; j < NR; ++j) out[p * NR + j] = j < cols ? src[p * rs + j * cs] : T(0);
      }
    }
  }
}

}  // namespace keras::cpu
