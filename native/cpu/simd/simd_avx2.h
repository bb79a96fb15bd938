// AVX2 + FMA3 vectors for the kernel templates. Include only from translation
// units compiled with -mavx2 -mfma.
#pragma once
#include <immintrin.h>

namespace keras::cpu::avx2 {

template <class T> struct Vec;

template <> struct Vec<float> {
  using T = float;
  using Reg = __m256;
  static constexpr int kWidth = 8;
  static constexpr int kRegisters = 16;
  static constexpr bool kFusedMultiplyAdd = true;  // fmadd rounds once
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg set1(T x) { return _mm256_set1_ps(x); }
  static Reg load(const T* p) { return _mm256_load_ps(p); }  // 32-byte aligned
  static Reg loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, Reg v) { _mm256_storeu_ps(p, v); }
  // The first `count` (0 < count < kWidth) lanes from or to p, the rest zero / untouched: a row's last columns.
  static __m256i first_lanes(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg load_first(const T* p, int count) { return _mm256_maskload_ps(p, first_lanes(count)); }
  static void store_first(T* p, Reg v, int count) { _mm256_maskstore_ps(p, first_lanes(count), v); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_ps(a, b); }
  static Reg sqrt(Reg a) { return _mm256_sqrt_ps(a); }
  // Rounded toward -inf / +inf: exact, and -0, infinities and NaN pass through (quieted).
  static Reg floor(Reg a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static Reg ceil(Reg a) { return _mm256_round_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
  static Reg abs(Reg a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  // a > b || a is NaN ? a : b  (and the < form): numpy's NaN-propagating maximum/minimum.
  static Reg pick_max(Reg a, Reg b) {
    return _mm256_blendv_ps(b, a, _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_GT_OQ), _mm256_cmp_ps(a, a, _CMP_UNORD_Q)));
  }
  static Reg pick_min(Reg a, Reg b) {
    return _mm256_blendv_ps(b, a, _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_LT_OQ), _mm256_cmp_ps(a, a, _CMP_UNORD_Q)));
  }
  // a == b || a is NaN ? if_true : otherwise: the tap window_max picked (b its max, NaN when any a is).
  static Reg select_equal_or_nan(Reg a, Reg b, Reg if_true, Reg otherwise) {
    return _mm256_blendv_ps(otherwise, if_true, _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_EQ_OQ), _mm256_cmp_ps(a, a, _CMP_UNORD_Q)));
  }
  // Primitives of the vector math (vector_math.h).
  // max(lo, min(hi, x)), and NaN for NaN x (vminps/vmaxps return the second operand on NaN).
  static Reg clamp(Reg x, Reg lo, Reg hi) { return _mm256_max_ps(lo, _mm256_min_ps(hi, x)); }
  static Reg round_nearest(Reg a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^k for integral k in [-126, 127].
  static Reg pow2(Reg k) {
    const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
  }
  // p * 2^n for integral n in [-250, 250] and p in [0.5, 2): two exact steps, then
  // the one rounding (a subnormal result is rounded once, as a single ldexp would).
  static Reg scale_pow2(Reg p, Reg n) {
    const Reg half = round_nearest(mul(n, set1(0.5f)));
    return mul(mul(p, pow2(half)), pow2(sub(n, half)));
  }
  static Reg select_less(Reg a, Reg b, Reg if_less, Reg otherwise) {
    return _mm256_blendv_ps(otherwise, if_less, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  static Reg copy_sign(Reg magnitude, Reg sign) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign_bit, magnitude), _mm256_and_ps(sign_bit, sign));
  }
  // x = mantissa * 2^exponent with mantissa in [1, 2), for positive normal x.
  static Reg split_exponent(Reg x, Reg* mantissa) {
    const __m256i bits = _mm256_castps_si256(x);
    *mantissa = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F800000)));
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
  }
  // min(x, hi), and NaN for NaN x.
  static Reg at_most(Reg x, Reg hi) { return _mm256_min_ps(hi, x); }
  // max(x, lo), and x where either is NaN (the mirror of at_most).
  static Reg at_least(Reg x, Reg lo) { return _mm256_max_ps(lo, x); }
  // table[k] in each lane, k the low three bits of index's bit pattern (the float
  // 2^23 + k holds k there): one permute of the 8 entries.
  static Reg lookup8(Reg index, const T* table) {
    return _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), _mm256_castps_si256(index));
  }
  // 2^(k - 127) for the float rounded = 1.5 * 2^23 + k, k in [1, 254]: k's bits shifted
  // into the exponent field.
  static Reg pow2_of_rounded(Reg rounded) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(rounded), 23)); }
  // vector_math additions
  static constexpr bool kSplitsEveryFloat = false;  // split_exponent takes positive normal x only
  // a < b in any lane.
  static bool any_less(Reg a, Reg b) { return _mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_LT_OQ)) != 0; }
  static bool any_nan(Reg a) { return _mm256_movemask_ps(_mm256_cmp_ps(a, a, _CMP_UNORD_Q)) != 0; }
  // The largest / smallest lane, of lanes none of which is NaN: halves folded three times.
  static T max_lane(Reg a) { return fold_lanes(a, _mm_max_ps); }
  static T min_lane(Reg a) { return fold_lanes(a, _mm_min_ps); }
  template <class Op>
  static T fold_lanes(Reg a, Op op) {
    __m128 v = op(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    v = op(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(op(v, _mm_movehdup_ps(v)));
  }
};

template <> struct Vec<double> {
  using T = double;
  using Reg = __m256d;
  static constexpr int kWidth = 4;
  static constexpr int kRegisters = 16;
  static constexpr bool kFusedMultiplyAdd = true;  // fmadd rounds once
  static Reg zero() { return _mm256_setzero_pd(); }
  static Reg set1(T x) { return _mm256_set1_pd(x); }
  static Reg load(const T* p) { return _mm256_load_pd(p); }
  static Reg loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, Reg v) { _mm256_storeu_pd(p, v); }
  static __m256i first_lanes(int count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static Reg load_first(const T* p, int count) { return _mm256_maskload_pd(p, first_lanes(count)); }
  static void store_first(T* p, Reg v, int count) { _mm256_maskstore_pd(p, first_lanes(count), v); }
  static Reg add(Reg a, Reg b) { return _mm256_add_pd(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_pd(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_pd(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_pd(a, b); }
  static Reg sqrt(Reg a) { return _mm256_sqrt_pd(a); }
  static Reg floor(Reg a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static Reg ceil(Reg a) { return _mm256_round_pd(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
  static Reg abs(Reg a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static Reg pick_max(Reg a, Reg b) {
    return _mm256_blendv_pd(b, a, _mm256_or_pd(_mm256_cmp_pd(a, b, _CMP_GT_OQ), _mm256_cmp_pd(a, a, _CMP_UNORD_Q)));
  }
  static Reg pick_min(Reg a, Reg b) {
    return _mm256_blendv_pd(b, a, _mm256_or_pd(_mm256_cmp_pd(a, b, _CMP_LT_OQ), _mm256_cmp_pd(a, a, _CMP_UNORD_Q)));
  }
  static Reg select_equal_or_nan(Reg a, Reg b, Reg if_true, Reg otherwise) {
    return _mm256_blendv_pd(otherwise, if_true, _mm256_or_pd(_mm256_cmp_pd(a, b, _CMP_EQ_OQ), _mm256_cmp_pd(a, a, _CMP_UNORD_Q)));
  }
  // 2^n for integral n in [-1022, 1023], through the 1.5 * 2^52 rounding trick
  // (AVX2 has no double -> int64 conversion).
  static Reg exp2_int(Reg n) {
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);
    const __m256i integer = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n, magic)), _mm256_castpd_si256(magic));
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(integer, _mm256_set1_epi64x(1023)), 52));
  }
  static Reg round_nearest(Reg a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Reg select_negative(Reg x, Reg if_negative, Reg otherwise) {
    return _mm256_blendv_pd(otherwise, if_negative, _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ));
  }
  // Primitives of the vector math (vector_math.h); see Vec<float>.
  static Reg clamp(Reg x, Reg lo, Reg hi) { return _mm256_max_pd(lo, _mm256_min_pd(hi, x)); }
  static Reg scale_pow2(Reg p, Reg n) {  // integral n in [-2040, 2040], p in [0.5, 2)
    const Reg half = round_nearest(mul(n, set1(0.5)));
    return mul(mul(p, exp2_int(half)), exp2_int(sub(n, half)));
  }
  static Reg select_less(Reg a, Reg b, Reg if_less, Reg otherwise) {
    return _mm256_blendv_pd(otherwise, if_less, _mm256_cmp_pd(a, b, _CMP_LT_OQ));
  }
  static Reg copy_sign(Reg magnitude, Reg sign) {
    const __m256d sign_bit = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_andnot_pd(sign_bit, magnitude), _mm256_and_pd(sign_bit, sign));
  }
  // kWidth floats widened to doubles, and back (rounding to nearest).
  static Reg load_float(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  static void store_float(float* p, Reg v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
  // The low and high halves of a float vector, widened.
  static void widen(__m256 f, Reg* low, Reg* high) {
    *low = _mm256_cvtps_pd(_mm256_castps256_ps128(f));
    *high = _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1));
  }
  // x = mantissa * 2^exponent with mantissa in [1, 2), for positive normal x.
  static Reg split_exponent(Reg x, Reg* mantissa) {
    const __m256i bits = _mm256_castpd_si256(x);
    const __m256i mantissa_bits = _mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL));
    *mantissa = _mm256_castsi256_pd(_mm256_or_si256(mantissa_bits, _mm256_set1_epi64x(0x3FF0000000000000LL)));
    // The biased exponent (< 2048) placed in the mantissa of 2^52 converts exactly.
    const __m256i biased = _mm256_srli_epi64(bits, 52);
    const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
    const __m256d exponent = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(biased, _mm256_castpd_si256(two52))), two52);
    return _mm256_sub_pd(exponent, _mm256_set1_pd(1023.0));
  }
  // vector_math additions
  static constexpr bool kSplitsEveryFloat = false;  // split_exponent takes positive normal x only
};

// Names this ISA for templates that need more than one element type.
struct Isa {
  template <class T>
  using Vec = avx2::Vec<T>;
};

}  // namespace keras::cpu::avx2
