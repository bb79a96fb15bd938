// The random kernels of docs/random.md over one ISA: uniforms (with the affine of `uniform`'s
// bounds fused), dropout, and Box-Muller normals, each one pass over its output. A range of
// elements is drawn chunk by chunk: a chunk's uniforms go to an L1-sized buffer (or straight
// to the output) and are used at once, so they never travel to memory. Values are those of
// the js kernels (lib/backends/js/random.ts): bit-exact for uniform and dropout, within the
// documented ulps for normal. Outputs past the last-level cache are stored plainly: streaming
// stores measured slower ([4096,4096] float32, same process, medians of 15: dropout 7.2 -> 9.4 ms
// of CPU, uniform with bounds 6.0 -> 8.4). Philox is bound by its 32x32->64 multiplies and the
// shifts that bring their high words down (philox.h's VectorLanes: 5 of each per word), which on
// Zen 4 issue one 512-bit instruction a cycle each: 0.36 ns a float32 uniform on one core, so 2
// cores drawing [4096,4096] take about 1.3x the time its 64 MiB take to reach memory at copy speed.
// Include only from random_<isa>.cc, after the ISA's simd header.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "philox.h"
#include "simd/vector_math.h"

namespace keras::cpu::random {

// A range [first, first + count) of a draw's elements; `first` is a multiple of 4 (float32
// uniforms per stream block), so every range starts on a block.
struct Range {
  int64_t first;
  int64_t count;
  uint32_t k0, k1;
};

// y = u * scale + shift after the uniform u, each step only where `scaled` / `shifted`
// (the composite skips an identity step, which matters for -0: 0 * -s + 0 would be +0).
template <class T>
struct Affine {
  T scale = 1, shift = 0;
  bool scaled = false, shifted = false;
};

using UniformF32Fn = void (*)(const Range&, const Affine<float>&, float* out);
using UniformF64Fn = void (*)(const Range&, const Affine<double>&, double* out);
// out = u < keep ? x / divisor : 0 (u the float32 uniforms; keep = fl32(1 - rate), divisor =
// 1 - rate rounded to the element type). x and out point at element `first`.
using DropoutF32Fn = void (*)(const Range&, float keep, float divisor, const float* x, float* out);
using DropoutF64Fn = void (*)(const Range&, float keep, double divisor, const double* x, double* out);
// Box-Muller normals, then the affine (as uniform).
using NormalF32Fn = UniformF32Fn;
using NormalF64Fn = UniformF64Fn;

struct Kernels {
  UniformF32Fn uniform_f32;
  UniformF64Fn uniform_f64;
  DropoutF32Fn dropout_f32;
  DropoutF64Fn dropout_f64;
  NormalF32Fn normal_f32;
  NormalF64Fn normal_f64;
};

// The per-ISA tables (random_<isa>.cc).
extern const Kernels kRandomAvx512;
extern const Kernels kRandomAvx2;
extern const Kernels kRandomPortable;

// Internal linkage, as philox.h: each ISA's translation unit keeps its own copies.
namespace {

// dst[i] = src[i] * scale, then + shift, each where the affine has it (src may be dst).
template <class V>
void affine(const typename V::T* src, typename V::T* dst, int64_t m, const Affine<typename V::T>& a) {
  using T = typename V::T;
  const auto scale = V::set1(a.scale), shift = V::set1(a.shift);
  int64_t i = 0;
  for (; i + V::kWidth <= m; i += V::kWidth) {
    auto y = V::loadu(src + i);
    if (a.scaled) y = vector_math::rounded(V::mul(y, scale));
    if (a.shifted) y = V::add(y, shift);
    V::storeu(dst + i, y);
  }
  for (; i < m; ++i) {
    T y = src[i];
    if (a.scaled) y = vector_math::rounded(y * a.scale);
    if (a.shifted) y = y + a.shift;
    dst[i] = y;
  }
}

template <class Lanes, class V>
void uniform(const Range& r, const Affine<typename V::T>& a, typename V::T* out) {
  using T = typename V::T;
  constexpr int64_t kChunk = philox::kChunkOf<Lanes>;
  alignas(64) T u[kChunk];
  for (int64_t c = 0; c < r.count; c += kChunk) {
    const int64_t m = std::min(kChunk, r.count - c);
    // Drawn into L1, then stored in whole vectors: the Philox loop's element stores straight
    // to a [4096,4096] float32 output cost more CPU than the buffer's extra pass.
    philox::uniform_blocks<Lanes>((r.first + c) / philox::kPerBlock<T>, r.k0, r.k1, u, m);
    affine<V>(u, out + c, m, a);
  }
}

// sin x and cos x for |x| <= pi/4, float32 lanes: Cephes sinf/cosf's polynomials (as
// vector_math::sin_or_cos after its reduction, which Box-Muller's exact quadrants make unneeded).
template <class V>
inline void sin_cos_quarter(typename V::Reg x, typename V::Reg* s, typename V::Reg* c) {
  static constexpr float kS[] = {-1.6666654611e-1f, 8.3321608736e-3f, -1.9515295891e-4f};
  static constexpr float kC[] = {4.166664568298827e-2f, -1.388731625493765e-3f, 2.443315711809948e-5f};
  const auto x2 = V::mul(x, x);
  *s = V::fmadd(V::mul(x, x2), vector_math::polynomial<V>(x2, kS), x);
  *c = V::fmadd(V::mul(x2, x2), vector_math::polynomial<V>(x2, kC), V::fmadd(x2, V::set1(-0.5f), V::set1(1.0f)));
}

// Box-Muller of float32 lanes (docs/random.md): r = sqrt(-2 log(1 - u1)); 4 u2 = q + f exactly,
// f folded into [-1/2, 1/2] (q + 1 then), x = f pi/2; the quadrant q mod 4 picks
// (cos, sin) = (c, s), (-s, c), (-c, -s), (s, -c) as A s + B c with A, B in {0, +-1} looked up
// from q's low bits (a permute, as vector_math::sin_or_cos), which is exact. Every step but log,
// sqrt, the polynomials and the products with r is exact.
template <class V>
inline void box_muller(typename V::Reg u1, typename V::Reg u2, typename V::Reg* z_cos, typename V::Reg* z_sin) {
  alignas(32) static constexpr float kCosS[8] = {0, -1, 0, 1, 0, -1, 0, 1}, kCosC[8] = {1, 0, -1, 0, 1, 0, -1, 0};
  alignas(32) static constexpr float kSinS[8] = {1, 0, -1, 0, 1, 0, -1, 0}, kSinC[8] = {0, 1, 0, -1, 0, 1, 0, -1};
  const auto one = V::set1(1.0f), half = V::set1(0.5f);
  const auto r = V::sqrt(V::mul(vector_math::log<V>(V::sub(one, u1)), V::set1(-2.0f)));
  const auto v = V::mul(u2, V::set1(4.0f));
  const auto q = V::floor(v);
  const auto fold = V::select_less(half, V::sub(v, q), one, V::zero());
  const auto f = V::sub(V::sub(v, q), fold);
  typename V::Reg s, c;
  sin_cos_quarter<V>(V::mul(f, V::set1(1.57079632679489662f)), &s, &c);
  // q + fold in 0..4 as the low bits of a float's significand (vector_math's kRoundingBias).
  const auto index = V::add(V::add(q, fold), V::set1(vector_math::kRoundingBias));
  *z_cos = V::mul(r, V::fmadd(V::lookup8(index, kCosS), s, V::mul(V::lookup8(index, kCosC), c)));
  *z_sin = V::mul(r, V::fmadd(V::lookup8(index, kSinS), s, V::mul(V::lookup8(index, kSinC), c)));
}

// The same in double with the C library's log, sqrt, sin and cos (float64 draws; what the js
// kernel computes with V8's).
inline void box_muller_f64(double u1, double u2, double* z_cos, double* z_sin) {
  const double r = std::sqrt(std::log(1 - u1) * -2);
  const double v = u2 * 4;
  double q = std::floor(v), f = v - q;
  if (f > 0.5) {
    f -= 1;
    q += 1;
  }
  const double x = f * 1.5707963267948966;
  const double c = std::cos(x), s = std::sin(x);
  switch (int64_t(q) & 3) {
    case 0: *z_cos = r * c; *z_sin = r * s; break;
    case 1: *z_cos = r * -s; *z_sin = r * c; break;
    case 2: *z_cos = r * -c; *z_sin = r * -s; break;
    default: *z_cos = r * s; *z_sin = r * -c; break;
  }
}

// Normals of elements [first, first + count): pair k is elements 2k, 2k + 1 from uniforms 2k
// (radius) and 2k + 1 (angle); an odd end draws the last pair's angle uniform and drops its sine.
template <class Lanes, class V>
void normal(const Range& r, const Affine<typename V::T>& a, typename V::T* out) {
  using T = typename V::T;
  constexpr int64_t W = V::kWidth;
  constexpr int64_t kChunk = philox::kChunkOf<Lanes>;
  alignas(64) T u[kChunk];
  alignas(64) T radius_u[kChunk / 2], angle_u[kChunk / 2], z_cos[kChunk / 2], z_sin[kChunk / 2];
  for (int64_t c = 0; c < r.count; c += kChunk) {
    const int64_t m = std::min(kChunk, r.count - c);
    const int64_t pairs = (m + 1) / 2;
    philox::uniform_blocks<Lanes>((r.first + c) / philox::kPerBlock<T>, r.k0, r.k1, u, 2 * pairs);
    if constexpr (sizeof(T) == 4) {
      // Whole vectors, the last one padded: every value comes from the same instructions.
      const int64_t padded = (pairs + W - 1) / W * W;
      for (int64_t k = 0; k < pairs; ++k) {
        radius_u[k] = u[2 * k];
        angle_u[k] = u[2 * k + 1];
      }
      for (int64_t k = pairs; k < padded; ++k) radius_u[k] = angle_u[k] = 0;
      for (int64_t k = 0; k < padded; k += W) {
        typename V::Reg zc, zs;
        box_muller<V>(V::load(radius_u + k), V::load(angle_u + k), &zc, &zs);
        V::storeu(z_cos + k, zc);
        V::storeu(z_sin + k, zs);
      }
    } else {
      for (int64_t k = 0; k < pairs; ++k) box_muller_f64(u[2 * k], u[2 * k + 1], &z_cos[k], &z_sin[k]);
    }
    T* o = out + c;
    for (int64_t k = 0; k < m / 2; ++k) {
      o[2 * k] = z_cos[k];
      o[2 * k + 1] = z_sin[k];
    }
    if (m % 2) o[m - 1] = z_cos[m / 2];
    if (a.scaled || a.shifted) affine<V>(o, o, m, a);  // in place: nothing to do for the identity
  }
}

template <class Lanes, class V, class T>
void dropout(const Range& r, float keep, T divisor, const T* x, T* out) {
  constexpr int64_t kChunk = philox::kChunkOf<Lanes>;
  alignas(64) float u[kChunk];
  for (int64_t c = 0; c < r.count; c += kChunk) {
    const int64_t m = std::min(kChunk, r.count - c);
    philox::uniform_blocks<Lanes>((r.first + c) / 4, r.k0, r.k1, u, m);
    const T* xc = x + c;
    T* oc = out + c;
    int64_t i = 0;
    if constexpr (sizeof(T) == 4) {
      const auto keep_v = V::set1(keep), divisor_v = V::set1(divisor), zero = V::zero();
      for (; i + V::kWidth <= m; i += V::kWidth) {
        V::storeu(oc + i, V::select_less(V::load(u + i), keep_v, V::div(V::loadu(xc + i), divisor_v), zero));
      }
    }
    // float64 elements (a float32 mask beside them) in plain loops, which the compiler vectorizes.
    for (; i < m; ++i) oc[i] = u[i] < keep ? xc[i] / divisor : T(0);
  }
}

// Isa: the simd_<isa>.h tag; Lanes: its Philox block generator (philox::LaneLoops or the
// ISA's intrinsics version, random_<isa>.cc).
template <class Isa, class Lanes>
constexpr Kernels make_kernels() {
  using F32 = typename Isa::template Vec<float>;
  using F64 = typename Isa::template Vec<double>;
  return Kernels{
      uniform<Lanes, F32>,
      uniform<Lanes, F64>,
      dropout<Lanes, F32, float>,
      dropout<Lanes, F32, double>,
      normal<Lanes, F32>,
      normal<Lanes, F64>,
  };
}

}  // namespace
}  // namespace keras::cpu::random
