// avx2 instantiations of the random kernels (random_kernels.h): Philox4x32-10 on 3 x 4
// blocks per step in 64-bit lanes (philox::VectorLanes over the word operations below; more
// groups would spill the 16 registers). Built with this ISA's flags; called only when it is the active path.
#include <immintrin.h>

#include "simd/simd_avx2.h"
#include "random_kernels.h"

namespace keras::cpu::random {
namespace {

// The word operations of philox::VectorLanes in 4 64-bit lanes (see random_avx512.cc).
struct Avx2Words {
  using Reg = __m256i;
  static constexpr int kLanes = 4;
  static Reg counter(int64_t b) { return _mm256_add_epi64(_mm256_set1_epi64x(b), _mm256_set_epi64x(3, 2, 1, 0)); }
  static Reg zero() { return _mm256_setzero_si256(); }
  static Reg set1(uint32_t x) { return _mm256_set1_epi64x(int64_t(x)); }
  static Reg mul(Reg a, Reg m) { return _mm256_mul_epu32(a, m); }
  static Reg high(Reg p) { return _mm256_srli_epi64(p, 32); }
  static Reg xor3(Reg a, Reg b, Reg c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static void store_words(uint32_t* p, Reg w) {
    const __m256i low = _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(low));
  }

  // Stream order (out[4l + j] = word j of block l): words 0-1 and 2-3 of a block joined in one
  // 64-bit lane each, interleaved by 64-bit unpacks, then the 128-bit halves put in order.
  static void to_float32(const Reg (&w)[4], float* out) {
    const __m256i w01 = _mm256_blend_epi32(w[0], _mm256_slli_epi64(w[1], 32), 0xAA);
    const __m256i w23 = _mm256_blend_epi32(w[2], _mm256_slli_epi64(w[3], 32), 0xAA);
    // Blocks 0 and 2, then 1 and 3.
    const __m256i even = _mm256_unpacklo_epi64(w01, w23), odd = _mm256_unpackhi_epi64(w01, w23);
    const __m256i ordered[2] = {_mm256_permute2x128_si256(even, odd, 0x20), _mm256_permute2x128_si256(even, odd, 0x31)};
    const __m256 step = _mm256_set1_ps(1.0f / 16777216.0f);
    for (int v = 0; v < 2; ++v) {
      _mm256_storeu_ps(out + 8 * v, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(ordered[v], 8)), step));
    }
  }
};

}  // namespace

const Kernels kRandomAvx2 = make_kernels<avx2::Isa, philox::VectorLanes<Avx2Words, 3>>();

}  // namespace keras::cpu::random
