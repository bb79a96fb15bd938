// avx2 instantiations of the random kernels (random_kernels.h), with Philox4x32-10 on 2 x 8
// blocks per step in 32-bit lanes. Built with this ISA's flags; called only when it is the
// active path.
#include <immintrin.h>

#include "simd/simd_avx2.h"
#include "random_kernels.h"

namespace keras::cpu::random {
namespace {

// philox::LaneLoops<8> in intrinsics: vpmuludq on the even and odd lanes gives each round's
// 32x32->64 products (see random_avx512.cc).
struct Avx2Lanes {
  // Two independent groups of 8 blocks per step hide a round's latency chain (random_avx512.cc);
  // more would spill the 16 registers.
  static constexpr int kGroups = 2;
  static constexpr int kBlocks = 8 * kGroups;

  static void mulhilo(__m256i a, __m256i m, __m256i* hi, __m256i* lo) {
    const __m256i even = _mm256_mul_epu32(a, m);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  }

  // Word j of block b + 8g + l in lane l of w[g][j].
  static void rounds(int64_t b, uint32_t k0, uint32_t k1, __m256i (&w)[kGroups][4]) {
    alignas(32) uint32_t counter[2][kBlocks];
    for (int l = 0; l < kBlocks; ++l) {
      counter[0][l] = uint32_t(uint64_t(b + l));
      counter[1][l] = uint32_t(uint64_t(b + l) >> 32);
    }
    for (int g = 0; g < kGroups; ++g) {
      w[g][0] = _mm256_load_si256(reinterpret_cast<const __m256i*>(counter[0] + 8 * g));
      w[g][1] = _mm256_load_si256(reinterpret_cast<const __m256i*>(counter[1] + 8 * g));
      w[g][2] = _mm256_setzero_si256();
      w[g][3] = _mm256_setzero_si256();
    }
    const __m256i m0 = _mm256_set1_epi32(int(philox::kM0)), m1 = _mm256_set1_epi32(int(philox::kM1));
    for (int r = 0; r < 10; ++r) {
      if (r > 0) {
        k0 += philox::kW0;
        k1 += philox::kW1;
      }
      const __m256i key0 = _mm256_set1_epi32(int(k0)), key1 = _mm256_set1_epi32(int(k1));
      for (int g = 0; g < kGroups; ++g) {
        __m256i hi0, lo0, hi1, lo1;
        mulhilo(w[g][0], m0, &hi0, &lo0);
        mulhilo(w[g][2], m1, &hi1, &lo1);
        w[g][0] = _mm256_xor_si256(_mm256_xor_si256(hi1, w[g][1]), key0);
        w[g][2] = _mm256_xor_si256(_mm256_xor_si256(hi0, w[g][3]), key1);
        w[g][1] = lo1;
        w[g][3] = lo0;
      }
    }
  }

  static void words(int64_t b, uint32_t k0, uint32_t k1, uint32_t (&c)[4][kBlocks]) {
    __m256i w[kGroups][4];
    rounds(b, k0, k1, w);
    for (int g = 0; g < kGroups; ++g) {
      for (int j = 0; j < 4; ++j) _mm256_storeu_si256(reinterpret_cast<__m256i*>(c[j] + 8 * g), w[g][j]);
    }
  }

  // Stream order (out[4l + j] = word j of block l): a 4x8 transpose in registers (see
  // random_avx512.cc), then (w >> 8) * 2^-24, exact.
  static void float32(int64_t b, uint32_t k0, uint32_t k1, float* out) {
    __m256i groups[kGroups][4];
    rounds(b, k0, k1, groups);
    for (int g = 0; g < kGroups; ++g) transpose_to_float32(groups[g], out + 32 * g);
  }

  static void transpose_to_float32(const __m256i (&w)[4], float* out) {
    const __m256i t0 = _mm256_unpacklo_epi32(w[0], w[1]), t1 = _mm256_unpackhi_epi32(w[0], w[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(w[2], w[3]), t3 = _mm256_unpackhi_epi32(w[2], w[3]);
    // r_i's 128-bit lane k: the 4 words of block 4k + i.
    const __m256i r0 = _mm256_unpacklo_epi64(t0, t2), r1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i r2 = _mm256_unpacklo_epi64(t1, t3), r3 = _mm256_unpackhi_epi64(t1, t3);
    const __m256i ordered[4] = {_mm256_permute2x128_si256(r0, r1, 0x20), _mm256_permute2x128_si256(r2, r3, 0x20),
                                _mm256_permute2x128_si256(r0, r1, 0x31), _mm256_permute2x128_si256(r2, r3, 0x31)};
    const __m256 step = _mm256_set1_ps(1.0f / 16777216.0f);
    for (int v = 0; v < 4; ++v) {
      _mm256_storeu_ps(out + 8 * v, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(ordered[v], 8)), step));
    }
  }
};

}  // namespace

const Kernels kRandomAvx2 = make_kernels<avx2::Isa, Avx2Lanes>();

}  // namespace keras::cpu::random
