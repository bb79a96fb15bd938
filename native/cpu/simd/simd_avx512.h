// AVX-512 (F/DQ/BW/VL) vectors for the kernel templates. Include only from
// translation units compiled with the AVX-512 flags.
#pragma once
#include <immintrin.h>

namespace keras::cpu::avx512 {

template <class T> struct Vec;

template <> struct Vec<float> {
  using T = float;
  using Reg = __m512;
  static constexpr int kWidth = 16;
  static constexpr int kRegisters = 32;
  static constexpr bool kFusedMultiplyAdd = true;  // fmadd rounds once
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg set1(T x) { return _mm512_set1_ps(x); }
  static Reg load(const T* p) { return _mm512_load_ps(p); }  // 64-byte aligned
  static Reg loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, Reg v) { _mm512_storeu_ps(p, v); }
  // The first `count` (0 < count < kWidth) lanes from or to p, the rest zero / untouched: a row's last columns.
  static Reg load_first(const T* p, int count) { return _mm512_maskz_loadu_ps(__mmask16((1u << count) - 1), p); }
  static void store_first(T* p, Reg v, int count) { _mm512_mask_storeu_ps(p, __mmask16((1u << count) - 1), v); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  static Reg sqrt(Reg a) { return _mm512_sqrt_ps(a); }
  // Rounded toward -inf / +inf: exact, and -0, infinities and NaN pass through (quieted).
  static Reg floor(Reg a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static Reg ceil(Reg a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
  static Reg abs(Reg a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
  // a > b || a is NaN ? a : b  (and the < form): numpy's NaN-propagating maximum/minimum.
  static Reg pick_max(Reg a, Reg b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ) | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), b, a);
  }
  static Reg pick_min(Reg a, Reg b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ) | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), b, a);
  }
  // a == b || a is NaN ? if_true : otherwise: the tap window_max picked (b its max, NaN when any a is).
  static Reg select_equal_or_nan(Reg a, Reg b, Reg if_true, Reg otherwise) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ) | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), otherwise,
                                if_true);
  }
  // Primitives of the vector math (vector_math.h).
  // max(lo, min(hi, x)), and NaN for NaN x (vminps/vmaxps return the second operand on NaN).
  static Reg clamp(Reg x, Reg lo, Reg hi) { return _mm512_max_ps(lo, _mm512_min_ps(hi, x)); }
  static Reg round_nearest(Reg a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p * 2^n for integral n, rounded once (vscalefps handles overflow and subnormal results).
  static Reg scale_pow2(Reg p, Reg n) { return _mm512_scalef_ps(p, n); }
  static Reg select_less(Reg a, Reg b, Reg if_less, Reg otherwise) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), otherwise, if_less);
  }
  static Reg copy_sign(Reg magnitude, Reg sign) {
    // One bitwise select, sign_bit ? sign : magnitude (truth table 0xAC).
    const __m512i sign_bit = _mm512_set1_epi32(int(0x80000000u));
    return _mm512_castsi512_ps(
        _mm512_ternarylogic_epi32(sign_bit, _mm512_castps_si512(magnitude), _mm512_castps_si512(sign), 0xAC));
  }
  // x = mantissa * 2^exponent with mantissa in [1, 2), for positive finite x (subnormals too).
  static Reg split_exponent(Reg x, Reg* mantissa) {
    *mantissa = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    return _mm512_getexp_ps(x);
  }
  // min(x, hi), and NaN for NaN x.
  static Reg at_most(Reg x, Reg hi) { return _mm512_min_ps(hi, x); }
  // max(x, lo), and x where either is NaN (the mirror of at_most).
  static Reg at_least(Reg x, Reg lo) { return _mm512_max_ps(lo, x); }
  // table[k] in each lane, k the low three bits of index's bit pattern (the float
  // 2^23 + k holds k there): one permute; the 8 entries, doubled to fill the
  // register, stay in a register across a loop.
  static Reg lookup8(Reg index, const T* table) {
    return _mm512_permutexvar_ps(_mm512_castps_si512(index), _mm512_broadcast_f32x8(_mm256_loadu_ps(table)));
  }
  // 2^(k - 127) for the float rounded = 1.5 * 2^23 + k, k in [1, 254]: k's bits shifted
  // into the exponent field.
  static Reg pow2_of_rounded(Reg rounded) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(rounded), 23)); }
  // vector_math additions
  // split_exponent for every x: subnormals too, +-0 give exponent -inf and +inf gives +inf (with
  // mantissa +-1), NaN and negatives (-inf too) give a NaN mantissa, so log needs no fix-ups.
  static constexpr bool kSplitsEveryFloat = true;
  static Reg split_exponent_ieee(Reg x, Reg* mantissa) {
    *mantissa = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_nan);
    return _mm512_getexp_ps(x);
  }
  // a < b in any lane.
  static bool any_less(Reg a, Reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ) != 0; }
  static bool any_nan(Reg a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) != 0; }
  // The largest / smallest lane, of lanes none of which is NaN: halves folded four times
  // (not _mm512_reduce_max_ps: GCC 12's expansion warns of its undefined registers).
  static T max_lane(Reg a) { return fold_lanes(a, _mm256_max_ps, _mm_max_ps); }
  static T min_lane(Reg a) { return fold_lanes(a, _mm256_min_ps, _mm_min_ps); }
  template <class Op8, class Op4>
  static T fold_lanes(Reg a, Op8 op8, Op4 op4) {
    const __m256 h = op8(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m128 v = op4(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    v = op4(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(op4(v, _mm_movehdup_ps(v)));
  }
};

template <> struct Vec<double> {
  using T = double;
  using Reg = __m512d;
  static constexpr int kWidth = 8;
  static constexpr int kRegisters = 32;
  static constexpr bool kFusedMultiplyAdd = true;  // fmadd rounds once
  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg set1(T x) { return _mm512_set1_pd(x); }
  static Reg load(const T* p) { return _mm512_load_pd(p); }
  static Reg loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, Reg v) { _mm512_storeu_pd(p, v); }
  static Reg load_first(const T* p, int count) { return _mm512_maskz_loadu_pd(__mmask8((1u << count) - 1), p); }
  static void store_first(T* p, Reg v, int count) { _mm512_mask_storeu_pd(p, __mmask8((1u << count) - 1), v); }
  static Reg add(Reg a, Reg b) { return _mm512_add_pd(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_pd(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_pd(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_pd(a, b); }
  static Reg sqrt(Reg a) { return _mm512_sqrt_pd(a); }
  static Reg floor(Reg a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static Reg ceil(Reg a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
  static Reg abs(Reg a) { return _mm512_andnot_pd(_mm512_set1_pd(-0.0), a); }
  static Reg pick_max(Reg a, Reg b) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_GT_OQ) | _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), b, a);
  }
  static Reg pick_min(Reg a, Reg b) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ) | _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), b, a);
  }
  static Reg select_equal_or_nan(Reg a, Reg b, Reg if_true, Reg otherwise) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ) | _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), otherwise,
                                if_true);
  }
  // 2^n for integral n in [-1022, 1023].
  static Reg exp2_int(Reg n) {
    const __m512i bits = _mm512_add_epi64(_mm512_cvtpd_epi64(n), _mm512_set1_epi64(1023));
    return _mm512_castsi512_pd(_mm512_slli_epi64(bits, 52));
  }
  static Reg round_nearest(Reg a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Reg select_negative(Reg x, Reg if_negative, Reg otherwise) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ), otherwise, if_negative);
  }
  // Primitives of the vector math (vector_math.h); see Vec<float>.
  static Reg clamp(Reg x, Reg lo, Reg hi) { return _mm512_max_pd(lo, _mm512_min_pd(hi, x)); }
  static Reg scale_pow2(Reg p, Reg n) { return _mm512_scalef_pd(p, n); }
  static Reg select_less(Reg a, Reg b, Reg if_less, Reg otherwise) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ), otherwise, if_less);
  }
  static Reg copy_sign(Reg magnitude, Reg sign) {
    const __m512i sign_bit = _mm512_set1_epi64(int64_t(0x8000000000000000ull));
    return _mm512_castsi512_pd(
        _mm512_ternarylogic_epi64(sign_bit, _mm512_castpd_si512(magnitude), _mm512_castpd_si512(sign), 0xAC));
  }
  // kWidth floats widened to doubles, and back (rounding to nearest).
  static Reg load_float(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  static void store_float(float* p, Reg v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
  // The low and high halves of a float vector, widened.
  static void widen(__m512 f, Reg* low, Reg* high) {
    *low = _mm512_cvtps_pd(_mm512_castps512_ps256(f));
    *high = _mm512_cvtps_pd(_mm512_extractf32x8_ps(f, 1));
  }
  // x = mantissa * 2^exponent with mantissa in [1, 2), for positive finite x (subnormals too).
  static Reg split_exponent(Reg x, Reg* mantissa) {
    *mantissa = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    return _mm512_getexp_pd(x);
  }
  // vector_math additions (see Vec<float>)
  static constexpr bool kSplitsEveryFloat = true;
  static Reg split_exponent_ieee(Reg x, Reg* mantissa) {
    *mantissa = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_nan);
    return _mm512_getexp_pd(x);
  }
};

// Names this ISA for templates that need more than one element type.
struct Isa {
  template <class T>
  using Vec = avx512::Vec<T>;
};

}  // namespace keras::cpu::avx512
