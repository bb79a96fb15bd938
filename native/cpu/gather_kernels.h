// Element gathers along a row, written once over an ISA tag and instantiated per ISA in
// gather_<isa>.cc: avx512 and avx2 load a register of elements by one vpgather, the portable
// path (and 1-byte elements) a scalar loop. Streamed outputs are written by whole aligned
// registers around the caches, the unaligned head and the tail plainly. On Zen 4, one core,
// rows in L2 by a permutation of 4096: 0.41 ns an element against 0.55 for the scalar load and
// store. [4096, 4096] float32 by a permutation of its columns, 2 threads, three alternations:
// the scalar loop 5.2-5.4 ms, vector gathers 5.0-5.2, vector gathers with streamed stores
// 3.9-4.1 (AVX2 3.9-4.8); streamed stores behind the scalar loop had measured level, and a
// copy of the source row into L1 first 0.02-0.2 ms slower.
//
// Intrinsics are used only where the including translation unit's flags allow them (as in
// transpose_kernels.h); every function is a template over the ISA tag, so each ISA's
// instantiation is its own symbol.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "gather.h"
#include "simd/streaming.h"

namespace keras::cpu {
namespace gather_detail {

// Elements one vector gather loads: 0 where the ISA has none (or none of T's size).
template <class Isa, class T>
constexpr int64_t kLanes = kRegBytes<Isa> >= 32 && sizeof(T) >= 4 ? int64_t(kRegBytes<Isa> / sizeof(T)) : 0;

// dst[0, kLanes) from src at idx[0, kLanes); kStream: dst aligned to the register.
template <class Isa, class T, bool kStream>
inline void gather_register(const T* src, const int32_t* idx, T* dst) {
#if defined(__AVX512F__)
  if constexpr (kRegBytes<Isa> == 64) {
    __m512i v;
    if constexpr (sizeof(T) == 4) {
      v = _mm512_i32gather_epi32(_mm512_loadu_si512(idx), src, 4);
    } else {
      v = _mm512_i32gather_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx)), src, 8);
    }
    if constexpr (kStream) _mm512_stream_si512(reinterpret_cast<__m512i*>(dst), v);
    else _mm512_storeu_si512(dst, v);
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (kRegBytes<Isa> == 32) {
    const int* base = reinterpret_cast<const int*>(src);
    __m256i v;
    if constexpr (sizeof(T) == 4) {
      v = _mm256_i32gather_epi32(base, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx)), 4);
    } else {
      v = _mm256_i32gather_epi64(reinterpret_cast<const long long*>(src), _mm_loadu_si128(reinterpret_cast<const __m128i*>(idx)), 8);
    }
    if constexpr (kStream) _mm256_stream_si256(reinterpret_cast<__m256i*>(dst), v);
    else _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
    return;
  }
#endif
  for (int64_t i = 0; i < kLanes<Isa, T>; ++i) dst[i] = src[idx[i]];  // not reached: ISAs with gathers have them
}

// Indices between requests for the next lines of `ahead`.
constexpr int64_t kStep = 64;

template <class Isa, class T, bool kStream>
void gather_run(const T* src, const int32_t* idx, T* dst, int64_t n, const char* ahead, int64_t ahead_bytes) {
  constexpr int64_t W = kLanes<Isa, T>;
  int64_t requested = 0;
  for (int64_t k = 0; k < n; k += kStep) {
    const int64_t end = std::min(n, k + kStep);
    if (ahead) {
      const int64_t until = int64_t(double(end) * double(ahead_bytes) / double(n));
      for (; requested < until; requested += 64) __builtin_prefetch(ahead + requested, 0, 2);
    }
    int64_t i = k;
    if constexpr (W > 0) {
      for (; i + W <= end; i += W) gather_register<Isa, T, kStream>(src, idx + i, dst + i);
    }
    for (; i < end; ++i) dst[i] = src[idx[i]];
  }
}

template <class Isa, class T>
void gather_elements(const void* source, const int32_t* idx, void* destination, int64_t n, const void* ahead,
                     int64_t ahead_bytes, bool stream) {
  const T* src = static_cast<const T*>(source);
  T* dst = static_cast<T*>(destination);
  const char* next = static_cast<const char*>(ahead);
#if defined(__SSE2__)
  constexpr int64_t W = kLanes<Isa, T>;
  const uintptr_t misaligned = reinterpret_cast<uintptr_t>(dst) % kRegBytes<Isa>;
  if (W > 0 && stream && misaligned % sizeof(T) == 0) {
    // A plain head up to the first aligned register, then whole registers streamed (kStep is
    // a multiple of W, so the streamed run's steps stay aligned), then a plain tail.
    const int64_t head = std::min<int64_t>(n, misaligned ? int64_t((kRegBytes<Isa> - misaligned) / sizeof(T)) : 0);
    const int64_t body = (n - head) / W * W;
    for (int64_t i = 0; i < head; ++i) dst[i] = src[idx[i]];
    gather_run<Isa, T, true>(src, idx + head, dst + head, body, next, ahead_bytes);
    for (int64_t i = head + body; i < n; ++i) dst[i] = src[idx[i]];
    _mm_sfence();  // streaming stores are weakly ordered: done before the caller reports its part
    return;
  }
#endif
  (void)stream;
  gather_run<Isa, T, false>(src, idx, dst, n, next, ahead_bytes);
}

}  // namespace gather_detail

template <class Isa>
constexpr GatherIsaTable make_gather_table(const char* isa) {
  return {isa, gather_detail::gather_elements<Isa, uint8_t>, gather_detail::gather_elements<Isa, uint32_t>,
          gather_detail::gather_elements<Isa, uint64_t>};
}

}  // namespace keras::cpu
