// Non-temporal (streaming) stores of whole vectors, for outputs larger than the last-level cache:
// the line is written without first being read for ownership, so such an output costs one memory
// pass instead of two, and it does not evict the inputs from the caches. A template over the ISA's
// vector type V (simd_<isa>.h's Vec<T>); where the ISA has no streaming store
// of V's register (the portable path) the store is a plain one. The values stored are the same
// either way: only the way they reach memory differs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace keras::cpu {

// Register bytes of an ISA tag (simd_<isa>.h's Isa): 64 (avx512), 32 (avx2), 16 (portable's
// vector extension).
template <class Isa>
constexpr size_t kRegBytes = sizeof(typename Isa::template Vec<float>::Reg);

// *p = v, one register of T: with kStream a streaming store where the ISA has one for this
// register (p then aligned to it), else a plain unaligned store. Tag: the ISA's type (its Vec or
// Isa), so each ISA's copy is its own symbol (code compiled with AVX-512 flags must never stand in
// for the AVX2 one). By element type and register size (comparing the intrinsic types drops their
// attributes).
template <class Tag, bool kStream, class T, class Reg>
inline void store_register(T* p, Reg v) {
  if constexpr (kStream) {
    [[maybe_unused]] constexpr bool kFloat = std::is_same_v<T, float>, kDouble = std::is_same_v<T, double>;
#if defined(__AVX512F__)
    if constexpr (sizeof(Reg) == 64 && kFloat) return _mm512_stream_ps(p, v);
    if constexpr (sizeof(Reg) == 64 && kDouble) return _mm512_stream_pd(p, v);
#endif
#if defined(__AVX__)
    if constexpr (sizeof(Reg) == 32 && kFloat) return _mm256_stream_ps(p, v);
    if constexpr (sizeof(Reg) == 32 && kDouble) return _mm256_stream_pd(p, v);
#endif
#if defined(__SSE2__)
    if constexpr (sizeof(Reg) == 16 && std::is_integral_v<T>) return _mm_stream_si128(reinterpret_cast<__m128i*>(p), v);
#endif
  }
  std::memcpy(p, &v, sizeof v);  // one unaligned vector store
}

template <class V>
struct StreamingStores {
  using T = typename V::T;
  using Reg = typename V::Reg;

  // Elements of p to store plainly before the first address a streaming store can take (aligned
  // to the register), at most n; n where none in [0, n) can (p not aligned to its element).
  static int64_t head(const T* p, int64_t n) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(p), misaligned = address % sizeof(Reg);
    if (misaligned == 0) return 0;
    if (address % sizeof(T) != 0) return n;
    const int64_t before = int64_t((sizeof(Reg) - misaligned) / sizeof(T));
    return before < n ? before : n;
  }

  // p aligned to the register.
  static void store(T* p, Reg v) { store_register<V, true>(p, v); }

  // Streaming stores are weakly ordered: fenced before the thread reports its part done.
  static void fence() {
#if defined(__SSE2__)
    _mm_sfence();
#endif
  }
};

// V::storeu, or a streaming store (p then aligned to the register).
template <class V, bool kStream>
inline void store_vector(typename V::T* p, typename V::Reg v) {
  if constexpr (kStream) StreamingStores<V>::store(p, v);
  else V::storeu(p, v);
}

// memcpy of n bytes whose whole destination lines are written by streaming stores (16 bytes
// each: SSE2, x86-64's baseline, so kernels built without an ISA's flags use it too), the
// partial lines at either end plainly; elsewhere a plain copy. For runs of an output larger
// than the last-level cache (memcpy reads each line before writing it: [4096, 4096] float32
// copied in runs of 8 KiB, 2 threads, 0.65-0.8x the time). The caller fences (stream_fence).
inline void stream_copy(void* to, const void* from, size_t n) {
  char* out = static_cast<char*>(to);
  const char* in = static_cast<const char*>(from);
#if defined(__SSE2__)
  const size_t head = (64 - reinterpret_cast<uintptr_t>(out) % 64) % 64;
  if (head + 64 <= n) {
    std::memcpy(out, in, head);
    size_t k = head;
    for (; k + 64 <= n; k += 64) {
      for (size_t b = 0; b < 64; b += 16) {
        _mm_stream_si128(reinterpret_cast<__m128i*>(out + k + b), _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k + b)));
      }
    }
    out += k, in += k, n -= k;
  }
#endif
  std::memcpy(out, in, n);
}

// memcpy, or stream_copy where `stream` (the caller then fences).
inline void copy_bytes(void* to, const void* from, size_t n, bool stream) {
  if (stream) stream_copy(to, from, n);
  else std::memcpy(to, from, n);
}

// Orders this thread's streaming stores before what follows (its part reported done).
inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace keras::cpu
