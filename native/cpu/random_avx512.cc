// avx512 instantiations of the random kernels (random_kernels.h): Philox4x32-10 on 6 x 8
// blocks per step in 64-bit lanes (philox::VectorLanes over the word operations below).
// Built with this ISA's flags; called only when it is the active path.
#include <immintrin.h>

#include "simd/simd_avx512.h"
#include "random_kernels.h"

namespace keras::cpu::random {
namespace {

// The word operations of philox::VectorLanes in 8 64-bit lanes.
struct Avx512Words {
  using Reg = __m512i;
  static constexpr int kLanes = 8;
  static Reg counter(int64_t b) { return _mm512_add_epi64(_mm512_set1_epi64(b), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0)); }
  static Reg zero() { return _mm512_setzero_si512(); }
  static Reg set1(uint32_t x) { return _mm512_set1_epi64(int64_t(x)); }
  static Reg mul(Reg a, Reg m) { return _mm512_mul_epu32(a, m); }
  static Reg high(Reg p) { return _mm512_srli_epi64(p, 32); }
  // a ^ b ^ c in one instruction (truth table 0x96).
  static Reg xor3(Reg a, Reg b, Reg c) { return _mm512_ternarylogic_epi64(a, b, c, 0x96); }
  static void store_words(uint32_t* p, Reg w) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi64_epi32(w)); }

  // Stream order is block-major (out[4l + j] = word j of block l): words 0-1 and 2-3 of a
  // block join in one 64-bit lane each (word 1 and 3 moved up by a masked dword swap), then
  // two two-source permutes interleave those lanes.
  static void to_float32(const Reg (&w)[4], float* out) {
    const __m512i w01 = _mm512_mask_shuffle_epi32(w[0], 0xAAAA, w[1], _MM_PERM_CDAB);
    const __m512i w23 = _mm512_mask_shuffle_epi32(w[2], 0xAAAA, w[3], _MM_PERM_CDAB);
    const __m512i ordered[2] = {_mm512_permutex2var_epi64(w01, _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), w23),
                                _mm512_permutex2var_epi64(w01, _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4), w23)};
    // (w >> 8) * 2^-24: exact, as philox::word_to_float32.
    const __m512 step = _mm512_set1_ps(1.0f / 16777216.0f);
    for (int v = 0; v < 2; ++v) {
      _mm512_storeu_ps(out + 16 * v, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(ordered[v], 8)), step));
    }
  }
};

}  // namespace

const Kernels kRandomAvx512 = make_kernels<avx512::Isa, philox::VectorLanes<Avx512Words, 6>>();

}  // namespace keras::cpu::random
