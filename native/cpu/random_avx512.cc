// avx512 instantiations of the random kernels (random_kernels.h): Philox4x32-10 on 4 x 16
// blocks per step in 32-bit lanes (philox::VectorLanes over the word operations below).
// Built with this ISA's flags; called only when it is the active path.
#include <immintrin.h>

#include "simd/simd_avx512.h"
#include "random_kernels.h"

namespace keras::cpu::random {
namespace {

// The word operations of philox::VectorLanes in 16 32-bit lanes: vpmuludq on the even and odd
// lanes gives each round's 32x32->64 products directly (the compiler built LaneLoops<16> from
// vpmullq and scalar code).
struct Avx512Words {
  using Reg = __m512i;
  static constexpr int kWidth = 16;
  static Reg load(const uint32_t* p) { return _mm512_load_si512(p); }  // 64-byte aligned
  static void store(uint32_t* p, Reg v) { _mm512_storeu_si512(p, v); }
  static Reg zero() { return _mm512_setzero_si512(); }
  static Reg set1(uint32_t x) { return _mm512_set1_epi32(int(x)); }
  // a ^ b ^ c in one instruction (truth table 0x96).
  static Reg xor3(Reg a, Reg b, Reg c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }

  // hi and lo words of a * m in every 32-bit lane (m: one value in all lanes).
  static void mulhilo(Reg a, Reg m, Reg* hi, Reg* lo) {
    const __m512i even = _mm512_mul_epu32(a, m);
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  }

  // Stream order is block-major (out[4l + j] = word j of block l): a 4x16 transpose in
  // registers, 32-bit then 64-bit unpacks inside 128-bit lanes, then two 128-bit lane shuffles.
  static void transpose_to_float32(const Reg (&w)[4], float* out) {
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

const Kernels kRandomAvx512 = make_kernels<avx512::Isa, philox::VectorLanes<Avx512Words, 4>>();

}  // namespace keras::cpu::random
