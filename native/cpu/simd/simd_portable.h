// Portable 128-bit vectors (GCC/Clang vector extensions): SSE2 on any x86-64,
// NEON on arm64. No FMA is assumed, so fmadd is a multiply then an add.
#pragma once
#include <cstring>
#include <limits>

namespace keras::cpu::portable {

typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef int i32x4 __attribute__((vector_size(16)));
typedef long long i64x2 __attribute__((vector_size(16)));

template <class Reg> struct MaskOf;
template <> struct MaskOf<f32x4> { using type = i32x4; };
template <> struct MaskOf<f64x2> { using type = i64x2; };

template <class Element, class Register>
struct VecImpl {
  using T = Element;
  using Reg = Register;
  static constexpr int kWidth = int(sizeof(Reg) / sizeof(T));
  static constexpr int kRegisters = 16;
  static constexpr bool kFusedMultiplyAdd = false;  // fmadd rounds once
  static Reg zero() { return Reg{}; }
  static Reg set1(T x) {
    Reg v;
    for (int i = 0; i < kWidth; ++i) v[i] = x;  // not Reg{} + x: that turns -0 into +0
    return v;
  }
  static Reg load(const T* p) { return *reinterpret_cast<const Reg*>(p); }  // aligned
  static Reg loadu(const T* p) {
    Reg v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void storeu(T* p, Reg v) { std::memcpy(p, &v, sizeof(v)); }
  // The first `count` (0 < count < kWidth) lanes from or to p, the rest zero / untouched: a row's last columns.
  static Reg load_first(const T* p, int count) {
    Reg v{};
    std::memcpy(&v, p, sizeof(T) * size_t(count));
    return v;
  }
  static void store_first(T* p, Reg v, int count) { std::memcpy(p, &v, sizeof(T) * size_t(count)); }
  static Reg add(Reg a, Reg b) { return a + b; }
  static Reg mul(Reg a, Reg b) { return a * b; }
  static Reg fmadd(Reg a, Reg b, Reg c) { return a * b + c; }
  static Reg sub(Reg a, Reg b) { return a - b; }
  static Reg div(Reg a, Reg b) { return a / b; }
  static Reg sqrt(Reg a) {
    for (int i = 0; i < kWidth; ++i) a[i] = __builtin_sqrt(a[i]);
    return a;
  }
  static Reg abs(Reg a) {
    using Mask = typename MaskOf<Reg>::type;
    return (Reg)((Mask)a & ~(Mask)set1(T(-0.0)));
  }
  // Rounded toward -inf: SSE2 has no round instruction. Below 2^(mantissa bits) adding and
  // subtracting that power rounds |a| to the nearest integer exactly, and the sign copied back
  // keeps -0 (floor(-0.3) is -0 - 1); from there up every value is integral, as are infinities and NaN.
  static Reg floor(Reg a) {
    const Reg big = set1(T(1) / std::numeric_limits<T>::epsilon());  // 2^23, 2^52
    const Reg nearest = copy_sign((abs(a) + big) - big, a);
    return (abs(a) < big) ? ((nearest > a) ? nearest - set1(1) : nearest) : a;
  }
  // ceil(a) = -floor(-a), signed zeros included (ceil(-0.3) is -0).
  static Reg ceil(Reg a) { return -floor(-a); }
  // a > b || a is NaN ? a : b  (and the < form): numpy's NaN-propagating maximum/minimum.
  static Reg pick_max(Reg a, Reg b) { return ((a > b) | (a != a)) ? a : b; }
  static Reg pick_min(Reg a, Reg b) { return ((a < b) | (a != a)) ? a : b; }
  // a == b || a is NaN ? if_true : otherwise: the tap window_max picked (b its max, NaN when any a is).
  static Reg select_equal_or_nan(Reg a, Reg b, Reg if_true, Reg otherwise) {
    return ((a == b) | (a != a)) ? if_true : otherwise;
  }
  // Primitives of the vector math (vector_math.h).
  // max(lo, min(hi, x)), and NaN for NaN x.
  static Reg clamp(Reg x, Reg lo, Reg hi) {
    x = (x > hi) ? hi : x;
    return (x < lo) ? lo : x;
  }
  static Reg select_less(Reg a, Reg b, Reg if_less, Reg otherwise) { return (a < b) ? if_less : otherwise; }
  static Reg copy_sign(Reg magnitude, Reg sign) {
    using Mask = typename MaskOf<Reg>::type;
    const Mask sign_bit = (Mask)set1(T(-0.0));
    return (Reg)(((Mask)magnitude & ~sign_bit) | ((Mask)sign & sign_bit));
  }
  // vector_math additions
  static constexpr bool kSplitsEveryFloat = false;  // split_exponent takes positive normal x only
  // a < b in any lane.
  static bool any_less(Reg a, Reg b) {
    bool any = false;
    for (int i = 0; i < kWidth; ++i) any |= a[i] < b[i];
    return any;
  }
};

template <class T> struct Vec;
template <> struct Vec<float> : VecImpl<float, f32x4> {
  static Reg round_nearest(Reg a) {
    const Reg magic = set1(12582912.0f);  // 1.5 * 2^23: exact for |a| < 2^22, ties to even
    return (a + magic) - magic;
  }
  // 2^k for integral k in [-126, 127].
  static Reg pow2(Reg k) { return (Reg)((__builtin_convertvector(k, i32x4) + 127) << 23); }
  // p * 2^n for integral n in [-250, 250] and p in [0.5, 2): two exact steps, then
  // the one rounding (a subnormal result is rounded once, as a single ldexp would).
  static Reg scale_pow2(Reg p, Reg n) {
    const Reg half = round_nearest(n * 0.5f);
    return p * pow2(half) * pow2(n - half);
  }
  // x = mantissa * 2^exponent with mantissa in [1, 2), for positive normal x.
  static Reg split_exponent(Reg x, Reg* mantissa) {
    const i32x4 bits = (i32x4)x;
    *mantissa = (Reg)((bits & 0x007FFFFF) | 0x3F800000);
    return __builtin_convertvector(((bits >> 23) & 0xFF) - 127, f32x4);
  }
  // min(x, hi), and NaN for NaN x.
  static Reg at_most(Reg x, Reg hi) { return (x > hi) ? hi : x; }
  // max(x, lo), and x where either is NaN (the mirror of at_most).
  static Reg at_least(Reg x, Reg lo) { return (x < lo) ? lo : x; }
  static bool any_nan(Reg a) {
    bool any = false;
    for (int i = 0; i < kWidth; ++i) any |= a[i] != a[i];
    return any;
  }
  // The largest / smallest lane, of lanes none of which is NaN.
  static T max_lane(Reg a) {
    T m = a[0];
    for (int i = 1; i < kWidth; ++i) m = a[i] > m ? a[i] : m;
    return m;
  }
  static T min_lane(Reg a) {
    T m = a[0];
    for (int i = 1; i < kWidth; ++i) m = a[i] < m ? a[i] : m;
    return m;
  }
  // table[k] in each lane, k the low three bits of index's bit pattern (the float
  // 2^23 + k holds k there).
  static Reg lookup8(Reg index, const T* table) {
    const i32x4 bits = (i32x4)index;
    Reg v;
    for (int i = 0; i < kWidth; ++i) v[i] = table[bits[i] & 7];
    return v;
  }
  // 2^(k - 127) for the float rounded = 1.5 * 2^23 + k, k in [1, 254]: k's bits shifted
  // into the exponent field.
  static Reg pow2_of_rounded(Reg rounded) { return (Reg)((i32x4)rounded << 23); }
};
template <> struct Vec<double> : VecImpl<double, f64x2> {
  // 2^n for integral n in [-1022, 1023], through the 1.5 * 2^52 rounding trick.
  static Reg exp2_int(Reg n) {
    const Reg magic = set1(6755399441055744.0);
    const i64x2 integer = (i64x2)(n + magic) - (i64x2)magic;
    return (Reg)((integer + 1023) << 52);
  }
  static Reg round_nearest(Reg a) {
    const Reg magic = set1(6755399441055744.0);  // exact for |a| < 2^51, ties to even
    return (a + magic) - magic;
  }
  static Reg select_negative(Reg x, Reg if_negative, Reg otherwise) { return (x < 0) ? if_negative : otherwise; }
  static Reg scale_pow2(Reg p, Reg n) {  // integral n in [-2040, 2040], p in [0.5, 2); see Vec<float>
    const Reg half = round_nearest(n * 0.5);
    return p * exp2_int(half) * exp2_int(n - half);
  }
  // x = mantissa * 2^exponent with mantissa in [1, 2), for positive normal x.
  static Reg split_exponent(Reg x, Reg* mantissa) {
    const i64x2 bits = (i64x2)x;
    *mantissa = (Reg)((bits & 0x000FFFFFFFFFFFFFLL) | 0x3FF0000000000000LL);
    const i64x2 biased = (bits >> 52) & 0x7FF;
    return Reg{double(biased[0]), double(biased[1])} - 1023.0;
  }
  static Reg load_float(const float* p) {
    float pair[2];
    std::memcpy(pair, p, sizeof(pair));
    return Reg{double(pair[0]), double(pair[1])};
  }
  static void store_float(float* p, Reg v) {
    const float pair[2] = {float(v[0]), float(v[1])};
    std::memcpy(p, pair, sizeof(pair));
  }
  // The low and high halves of a float vector, widened.
  static void widen(f32x4 f, Reg* low, Reg* high) {
    *low = Reg{double(f[0]), double(f[1])};
    *high = Reg{double(f[2]), double(f[3])};
  }
};

// Names this ISA for templates that need more than one element type.
struct Isa {
  template <class T>
  using Vec = portable::Vec<T>;
};

}  // namespace keras::cpu::portable
