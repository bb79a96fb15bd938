// avx512 instantiations of the random kernels (random_kernels.h), with Philox4x32-10 on 16
// blocks per step in 32-bit lanes. Built with this ISA's flags; called only when it is the
// active path.
#include <immintrin.h>

#include "simd/simd_avx512.h"
#include "random_kernels.h"

namespace keras::cpu::random {
namespace {

// The lane loops of philox::LaneLoops<16> in intrinsics: the compiler built them from vpmullq
// and scalar code (uniform [4096,4096] float32: 28 ms of CPU); vpmuludq on the even and odd
// lanes gives each round's 32x32->64 products directly.
struct Avx512Lanes {
  // Four independent groups of 16 blocks per step: one group's round is a chain of ~8 cycles of
  // latency (multiply, shifts, blend, xor), so a single group left the core mostly idle
  // (uniform [4096,4096] float32: 14.8 ms of CPU with one group, see the commit for four).
  static constexpr int kGroups = 4;
  static constexpr int kBlocks = 16 * kGroups;

  // hi and lo words of a * m in every 32-bit lane (m: one value in all lanes).
  static void mulhilo(__m512i a, __m512i m, __m512i* hi, __m512i* lo) {
    const __m512i even = _mm512_mul_epu32(a, m);
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  }

  // Word j of block b + 16g + l in lane l of w[g][j].
  static void rounds(int64_t b, uint32_t k0, uint32_t k1, __m512i (&w)[kGroups][4]) {
    alignas(64) uint32_t counter[2][kBlocks];
    for (int l = 0; l < kBlocks; ++l) {
      counter[0][l] = uint32_t(uint64_t(b + l));
      counter[1][l] = uint32_t(uint64_t(b + l) >> 32);
    }
    for (int g = 0; g < kGroups; ++g) {
      w[g][0] = _mm512_load_si512(counter[0] + 16 * g);
      w[g][1] = _mm512_load_si512(counter[1] + 16 * g);
      w[g][2] = _mm512_setzero_si512();
      w[g][3] = _mm512_setzero_si512();
    }
    const __m512i m0 = _mm512_set1_epi32(int(philox::kM0)), m1 = _mm512_set1_epi32(int(philox::kM1));
    for (int r = 0; r < 10; ++r) {
      if (r > 0) {
        k0 += philox::kW0;
        k1 += philox::kW1;
      }
      const __m512i key0 = _mm512_set1_epi32(int(k0)), key1 = _mm512_set1_epi32(int(k1));
      for (int g = 0; g < kGroups; ++g) {
        __m512i hi0, lo0, hi1, lo1;
        mulhilo(w[g][0], m0, &hi0, &lo0);
        mulhilo(w[g][2], m1, &hi1, &lo1);
        // a ^ b ^ c in one instruction (truth table 0x96).
        w[g][0] = _mm512_ternarylogic_epi32(hi1, w[g][1], key0, 0x96);
        w[g][2] = _mm512_ternarylogic_epi32(hi0, w[g][3], key1, 0x96);
        w[g][1] = lo1;
        w[g][3] = lo0;
      }
    }
  }

  static void words(int64_t b, uint32_t k0, uint32_t k1, uint32_t (&c)[4][kBlocks]) {
    __m512i w[kGroups][4];
    rounds(b, k0, k1, w);
    for (int g = 0; g < kGroups; ++g) {
      for (int j = 0; j < 4; ++j) _mm512_storeu_si512(c[j] + 16 * g, w[g][j]);
    }
  }

  // Stream order is block-major (out[4l + j] = word j of block l): a 4x16 transpose in
  // registers, 32-bit then 64-bit unpacks inside 128-bit lanes, then two 128-bit lane shuffles.
  // The compiler's scattered scalar stores of the lane loop took about half the fill's time.
  static void float32(int64_t b, uint32_t k0, uint32_t k1, float* out) {
    __m512i groups[kGroups][4];
    rounds(b, k0, k1, groups);
    for (int g = 0; g < kGroups; ++g) transpose_to_float32(groups[g], out + 64 * g);
  }

  static void transpose_to_float32(const __m512i (&w)[4], float* out) {
    const __m512i t0 = _mm512_unpacklo_epi32(w[0], w[1]), t1 = _mm512_unpackhi_epi32(w[0], w[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(w[2], w[3]), t3 = _mm512_unpackhi_epi32(w[2], w[3]);
    // r_i's 128-bit lane k: the 4 words of block 4k + i.
    const __m512i r0 = _mm512_unpacklo_epi64(t0, t2), r1 = _mm512_unpackhi_epi64(t0, t2);
    const __m512i r2 = _mm512_unpacklo_epi64(t1, t3), r3 = _mm512_unpackhi_epi64(t1, t3);
    const __m512i s0 = _mm512_shuffle_i32x4(r0, r1, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i s1 = _mm512_shuffle_i32x4(r2, r3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i s2 = _mm512_shuffle_i32x4(r0, r1, _MM_SHUFFLE(3, 2, 3, 2));
    const __m512i s3 = _mm512_shuffle_i32x4(r2, r3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m512i ordered[4] = {_mm512_shuffle_i32x4(s0, s1, _MM_SHUFFLE(2, 0, 2, 0)),
                                _mm512_shuffle_i32x4(s0, s1, _MM_SHUFFLE(3, 1, 3, 1)),
                                _mm512_shuffle_i32x4(s2, s3, _MM_SHUFFLE(2, 0, 2, 0)),
                                _mm512_shuffle_i32x4(s2, s3, _MM_SHUFFLE(3, 1, 3, 1))};
    // (w >> 8) * 2^-24: exact, as philox::word_to_float32.
    const __m512 step = _mm512_set1_ps(1.0f / 16777216.0f);
    for (int v = 0; v < 4; ++v) {
      _mm512_storeu_ps(out + 16 * v, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(ordered[v], 8)), step));
    }
  }
};

}  // namespace

const Kernels kRandomAvx512 = make_kernels<avx512::Isa, Avx512Lanes>();

}  // namespace keras::cpu::random
