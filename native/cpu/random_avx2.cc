// avx2 instantiations of the random kernels (random_kernels.h): Philox4x32-10 on 2 x 8
// blocks per step in 32-bit lanes (philox::VectorLanes over the word operations below; more
// groups would spill the 16 registers). Built with this ISA's flags; called only when it is the active path.
#include <immintrin.h>

#include "simd/simd_avx2.h"
#include "random_kernels.h"

namespace keras::cpu::random {
namespace {

// The word operations of philox::VectorLanes in 8 32-bit lanes (see random_avx512.cc).
struct Avx2Words {
  using Reg = __m256i;
  static constexpr int kWidth = 8;
  static Reg load(const uint32_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(uint32_t* p, Reg v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static Reg zero() { return _mm256_setzero_si256(); }
  static Reg set1(uint32_t x) { return _mm256_set1_epi32(int(x)); }
  static Reg xor3(Reg a, Reg b, Reg c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }

  static void mulhilo(Reg a, Reg m, Reg* hi, Reg* lo) {
    const __m256i even = _mm256_mul_epu32(a, m);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  }

  // Stream order (out[4l + j] = word j of block l): a 4x8 transpose in registers (see
  // random_avx512.cc), then (w >> 8) * 2^-24, exact.
  static void transpose_to_float32(const Reg (&w)[4], float* out) {
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

const Kernels kRandomAvx2 = make_kernels<avx2::Isa, philox::VectorLanes<Avx2Words, 2>>();

}  // namespace keras::cpu::random
