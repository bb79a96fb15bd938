// The random kernels of docs/random.md over one ISA: uniforms (with the affine of `uniform`'s
// bounds fused), dropout, and Box-Muller normals, each one pass over its output. A range of
// elements is drawn chunk by chunk: a chunk's uniforms go to an L1-sized buffer (or straight
// to the output) and are used at once, so they never travel to memory. Values are those of
// the js kernels (lib/backends/js/random.ts): bit-exact for uniform and dropout, within the
// documented ulps for normal. Include only from random_<isa>.cc, after the ISA's simd header.
#pragma once
#include <algorithm>
#include <cstdint>

#include "philox.h"

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

struct Kernels {
  UniformF32Fn uniform_f32;
  UniformF64Fn uniform_f64;
  DropoutF32Fn dropout_f32;
  DropoutF64Fn dropout_f64;
};

// The per-ISA tables (random_<isa>.cc).
extern const Kernels kRandomAvx512;
extern const Kernels kRandomAvx2;
extern const Kernels kRandomPortable;

// Internal linkage, as philox.h: each ISA's translation unit keeps its own copies.
namespace {

// Elements per chunk: 4 KiB of float32 uniforms, which stay in L1 between drawing and use.
constexpr int64_t kChunk = 1024;

// v as a value in a register: the compiler may not fuse the multiply that made it into a
// following add (the build's default -ffp-contract=fast would emit an FMA, rounding once where
// the specification rounds twice).
template <class R>
inline R rounded(R v) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__("" : "+v"(v));
#elif defined(__aarch64__)
  __asm__("" : "+w"(v));
#endif
  return v;
}

template <class Lanes, class V>
void uniform(const Range& r, const Affine<typename V::T>& a, typename V::T* out) {
  using T = typename V::T;
  constexpr int64_t per_block = sizeof(T) == 4 ? 4 : 2;
  constexpr int64_t W = V::kWidth;
  const auto scale = V::set1(a.scale), shift = V::set1(a.shift);
  alignas(64) T u[kChunk];
  for (int64_t c = 0; c < r.count; c += kChunk) {
    const int64_t m = std::min(kChunk, r.count - c);
    T* dst = out + c;
    // Drawn into L1, then stored whole vectors at a time: the block loop's scattered element
    // stores straight to the output cost 23.5 ms of CPU per [4096,4096] float32, this 
    philox::uniform_blocks<Lanes>((r.first + c) / per_block, (m + per_block - 1) / per_block, r.k0, r.k1, u, m);
    int64_t i = 0;
    for (; i + W <= m; i += W) {
      auto y = V::load(u + i);
      if (a.scaled) y = rounded(V::mul(y, scale));
      if (a.shifted) y = V::add(y, shift);
      V::storeu(dst + i, y);
    }
    for (; i < m; ++i) {
      T y = u[i];
      if (a.scaled) y = rounded(y * a.scale);
      if (a.shifted) y = y + a.shift;
      dst[i] = y;
    }
  }
}

template <class Lanes, class V, class T>
void dropout(const Range& r, float keep, T divisor, const T* x, T* out) {
  alignas(64) float u[kChunk];
  for (int64_t c = 0; c < r.count; c += kChunk) {
    const int64_t m = std::min(kChunk, r.count - c);
    philox::uniform_blocks<Lanes>((r.first + c) / 4, (m + 3) / 4, r.k0, r.k1, u, m);
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
  };
}

}  // namespace
}  // namespace keras::cpu::random
