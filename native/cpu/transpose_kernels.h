// 2-D block transposes, written once over an ISA tag (simd/simd_<isa>.h's Isa) and
// instantiated per ISA in transpose_<isa>.cc. A block is cut into square micro-tiles
// that go through registers: loaded as rows, transposed with unpack/shuffle steps,
// stored as rows (avx512: 16x16 4-byte, 8x8 8-byte; avx2: 8x8 4-byte, 4x4 8-byte;
// both: 16x16 1-byte in 128-bit registers). The portable path goes through an L1
// buffer, and the edges that do not fill a micro-tile use a plain loop. Shuffles
// move bits, never values, so every path gives the same bytes.
//
// Intrinsics are used only where the including translation unit's flags allow them
// (as in simd/streaming.h); every function is a template over the ISA tag, so each
// ISA's instantiation is its own symbol.
#pragma once
#include <cstddef>
#include <cstdint>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "simd/streaming.h"
#include "transpose.h"

namespace keras::cpu {
namespace transpose_detail {

template <class Isa, class T>
void transpose_plain(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) d[c * ds + r] = s[r * ss + c];
  }
}

// The portable path: blocks of 64 source rows by 256 bytes go through an L1 buffer,
// so both sides move contiguous runs (element by element straight across,
// each output row would take one element per pass, a line each: 4x slower).
constexpr int64_t kBufferedRows = 64, kBufferedRowBytes = 256;

template <class Isa, class T>
void transpose_buffered(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
  constexpr int64_t kRows = kBufferedRows, kCols = kBufferedRowBytes / int64_t(sizeof(T));
  T buf[kCols * kRows];
  for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
    const int64_t nr = rows - r0 < kRows ? rows - r0 : kRows;
    for (int64_t c0 = 0; c0 < cols; c0 += kCols) {
      const int64_t nc = cols - c0 < kCols ? cols - c0 : kCols;
      for (int64_t r = 0; r < nr; ++r) {
        const T* row = s + (r0 + r) * ss + c0;
        for (int64_t c = 0; c < nc; ++c) buf[c * kRows + r] = row[c];
      }
      for (int64_t c = 0; c < nc; ++c) {
        T* out = d + (c0 + c) * ds + r0;
        for (int64_t r = 0; r < nr; ++r) out[r] = buf[c * kRows + r];
      }
    }
  }
}

#if defined(__AVX2__)
// 8x8 4-byte elements. Rows r and r+4 share a register (one 128-bit half each), so the
// in-lane 4x4 transposes leave whole output rows and no lane-crossing step is needed.
template <class Isa, bool kStream>
inline void micro_avx2_4(const float* s, int64_t ss, float* d, int64_t ds) {
  __m256 r[8];
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + i * ss)), _mm_loadu_ps(s + (i + 4) * ss), 1);
    r[i + 4] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + i * ss + 4)),
                                    _mm_loadu_ps(s + (i + 4) * ss + 4), 1);
  }
  for (int h = 0; h < 8; h += 4) {
    const __m256 t0 = _mm256_unpacklo_ps(r[h], r[h + 1]), t1 = _mm256_unpackhi_ps(r[h], r[h + 1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[h + 2], r[h + 3]), t3 = _mm256_unpackhi_ps(r[h + 2], r[h + 3]);
    store_register<Isa, kStream>(d + (h + 0) * ds, _mm256_shuffle_ps(t0, t2, 0x44));
    store_register<Isa, kStream>(d + (h + 1) * ds, _mm256_shuffle_ps(t0, t2, 0xEE));
    store_register<Isa, kStream>(d + (h + 2) * ds, _mm256_shuffle_ps(t1, t3, 0x44));
    store_register<Isa, kStream>(d + (h + 3) * ds, _mm256_shuffle_ps(t1, t3, 0xEE));
  }
}

// 4x4 8-byte elements, rows r and r+2 sharing a register as above.
template <class Isa, bool kStream>
inline void micro_avx2_8(const double* s, int64_t ss, double* d, int64_t ds) {
  for (int h = 0; h < 4; h += 2) {
    const __m256d a = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(s + h)), _mm_loadu_pd(s + 2 * ss + h), 1);
    const __m256d b = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(s + ss + h)),
                                           _mm_loadu_pd(s + 3 * ss + h), 1);
    store_register<Isa, kStream>(d + h * ds, _mm256_unpacklo_pd(a, b));
    store_register<Isa, kStream>(d + (h + 1) * ds, _mm256_unpackhi_pd(a, b));
  }
}

// 16x16 bytes: four rounds of interleaving registers i and i+8 at widths 1, 2, 4, 8
// bytes (a perfect shuffle each round) leave whole columns, their bytes in the
// bit-reversed order of the registers' rows: so register i is loaded from row
// bitreverse(i).
template <class Isa, bool kStream>
inline void micro_sse_1(const uint8_t* s, int64_t ss, uint8_t* d, int64_t ds) {
  constexpr int kBitReversed[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
  __m128i a[16], b[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + kBitReversed[i] * ss));
  for (int i = 0; i < 8; ++i) {
    b[2 * i] = _mm_unpacklo_epi8(a[i], a[i + 8]);
    b[2 * i + 1] = _mm_unpackhi_epi8(a[i], a[i + 8]);
  }
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm_unpacklo_epi16(b[i], b[i + 8]);
    a[2 * i + 1] = _mm_unpackhi_epi16(b[i], b[i + 8]);
  }
  for (int i = 0; i < 8; ++i) {
    b[2 * i] = _mm_unpacklo_epi32(a[i], a[i + 8]);
    b[2 * i + 1] = _mm_unpackhi_epi32(a[i], a[i + 8]);
  }
  for (int i = 0; i < 8; ++i) {
    store_register<Isa, kStream>(d + 2 * i * ds, _mm_unpacklo_epi64(b[i], b[i + 8]));
    store_register<Isa, kStream>(d + (2 * i + 1) * ds, _mm_unpackhi_epi64(b[i], b[i + 8]));
  }
}
#endif

#if defined(__AVX512F__)
// After in-lane steps, register m of each group of four holds, in its 128-bit lane L,
// output row 4L+m (or 2L+m for 8-byte elements): two rounds of 128-bit lane shuffles
// gather those lanes into whole rows, out[row].
template <class Isa>
inline void gather_lanes_avx512(const __m512 u[16], int group, __m512 out[16]) {
  for (int m = 0; m < group; ++m) {
    // u[m], u[group + m], u[2 * group + m], u[3 * group + m] hold lanes 0..3 of the output's columns.
    const __m512 v0 = _mm512_shuffle_f32x4(u[m], u[group + m], 0x88), w0 = _mm512_shuffle_f32x4(u[m], u[group + m], 0xDD);
    const __m512 v1 = _mm512_shuffle_f32x4(u[2 * group + m], u[3 * group + m], 0x88);
    const __m512 w1 = _mm512_shuffle_f32x4(u[2 * group + m], u[3 * group + m], 0xDD);
    out[0 * group + m] = _mm512_shuffle_f32x4(v0, v1, 0x88);
    out[1 * group + m] = _mm512_shuffle_f32x4(w0, w1, 0x88);
    out[2 * group + m] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
    out[3 * group + m] = _mm512_shuffle_f32x4(w0, w1, 0xDD);
  }
}

// 16x16 4-byte elements in registers: r[i] holds row i, then column i.
template <class Isa>
inline void transpose_registers(__m512 r[16]) {
  __m512 u[16];
  for (int k = 0; k < 4; ++k) {
    const __m512 t0 = _mm512_unpacklo_ps(r[4 * k], r[4 * k + 1]), t1 = _mm512_unpackhi_ps(r[4 * k], r[4 * k + 1]);
    const __m512 t2 = _mm512_unpacklo_ps(r[4 * k + 2], r[4 * k + 3]);
    const __m512 t3 = _mm512_unpackhi_ps(r[4 * k + 2], r[4 * k + 3]);
    u[4 * k + 0] = _mm512_shuffle_ps(t0, t2, 0x44);
    u[4 * k + 1] = _mm512_shuffle_ps(t0, t2, 0xEE);
    u[4 * k + 2] = _mm512_shuffle_ps(t1, t3, 0x44);
    u[4 * k + 3] = _mm512_shuffle_ps(t1, t3, 0xEE);
  }
  gather_lanes_avx512<Isa>(u, 4, r);
}

// 8x8 8-byte elements in registers (the lane shuffles move bits, so they run on the float view).
template <class Isa>
inline void transpose_registers(__m512d r[8]) {
  __m512 u[16], out[16];
  for (int k = 0; k < 4; ++k) {
    u[2 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(r[2 * k], r[2 * k + 1]));
    u[2 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(r[2 * k], r[2 * k + 1]));
  }
  gather_lanes_avx512<Isa>(u, 2, out);
  for (int i = 0; i < 8; ++i) r[i] = _mm512_castps_pd(out[i]);
}

// One row of a micro-tile: 16 floats or 8 doubles.
template <class Isa>
inline __m512 load_row(const float* s) {
  return _mm512_loadu_ps(s);
}
template <class Isa>
inline __m512d load_row(const double* s) {
  return _mm512_loadu_pd(s);
}

// A micro-tile through registers: K rows loaded, transposed, stored as K rows.
template <class Isa, bool kStream, class T>
inline void micro_avx512(const T* s, int64_t ss, T* d, int64_t ds) {
  constexpr int K = int(64 / sizeof(T));
  decltype(load_row<Isa>(s)) r[K];
  for (int i = 0; i < K; ++i) r[i] = load_row<Isa>(s + i * ss);
  transpose_registers<Isa>(r);
  for (int i = 0; i < K; ++i) store_register<Isa, kStream>(d + i * ds, r[i]);
}
#endif

// Square tiles whose columns a kernel works on in registers between the two transposes (the
// scan over rows in reduction_kernels.h): load_columns reads `rows` rows (zeros past them) and
// leaves column i in c[i], store_rows writes the first `rows` rows back. avx512's micro-tiles;
// kSide 0 on the other ISAs (AVX2 8x8 tiles transposed in registers, tried for the scan: a tile
// and its transpose's temporaries overflow 16 registers, [64, 4096] float32 1.2-1.5x the time).
template <class Isa, class T, bool = kRegBytes<Isa> == 64>
struct ColumnTile {
  static constexpr int kSide = 0;
};

#if defined(__AVX512F__)
template <class Isa, class T>
struct ColumnTile<Isa, T, true> {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "4- and 8-byte elements");
  using Reg = decltype(load_row<Isa>(static_cast<const T*>(nullptr)));
  static constexpr int kSide = int(64 / sizeof(T));

  static void load_columns(const T* s, int64_t ss, Reg c[kSide], int rows = kSide) {
    for (int i = 0; i < kSide; ++i) c[i] = i < rows ? load_row<Isa>(s + i * ss) : Reg{};
    transpose_registers<Isa>(c);
  }
  template <bool kStream>
  static void store_rows(Reg c[kSide], T* d, int64_t ds, int rows = kSide) {
    transpose_registers<Isa>(c);
    for (int i = 0; i < rows; ++i) store_register<Isa, kStream>(d + i * ds, c[i]);
  }
};
#endif

// Side of the ISA's micro-tile for elements of `size` bytes; 0: plain loop only.
template <class Isa>
constexpr int64_t micro_side(size_t size) {
  if (kRegBytes<Isa> < 32) return 0;
  if (size == 1) return 16;
  if (kRegBytes<Isa> == 64) return size == 4 ? 16 : 8;
  return size == 4 ? 8 : 4;
}

template <class Isa, class T, bool kStream>
inline void micro(const T* s, int64_t ss, T* d, int64_t ds) {
#if defined(__AVX512F__)
  if constexpr (kRegBytes<Isa> == 64 && sizeof(T) == 4) {
    return micro_avx512<Isa, kStream>(reinterpret_cast<const float*>(s), ss, reinterpret_cast<float*>(d), ds);
  } else if constexpr (kRegBytes<Isa> == 64 && sizeof(T) == 8) {
    return micro_avx512<Isa, kStream>(reinterpret_cast<const double*>(s), ss, reinterpret_cast<double*>(d), ds);
  }
#endif
#if defined(__AVX2__)
  if constexpr (kRegBytes<Isa> >= 32 && sizeof(T) == 1) {
    return micro_sse_1<Isa, kStream>(reinterpret_cast<const uint8_t*>(s), ss, reinterpret_cast<uint8_t*>(d), ds);
  } else if constexpr (kRegBytes<Isa> == 32 && sizeof(T) == 4) {
    return micro_avx2_4<Isa, kStream>(reinterpret_cast<const float*>(s), ss, reinterpret_cast<float*>(d), ds);
  } else if constexpr (kRegBytes<Isa> == 32 && sizeof(T) == 8) {
    return micro_avx2_8<Isa, kStream>(reinterpret_cast<const double*>(s), ss, reinterpret_cast<double*>(d), ds);
  }
#endif
  constexpr int64_t k = micro_side<Isa>(sizeof(T));
  transpose_plain<Isa>(s, ss, d, ds, k, k);  // not reached: every ISA with micro-tiles has them
}

// Micro-tiles stacked along the source rows whose output rows together fill a
// 64-byte line: their stores to a line follow each other.
template <class Isa>
constexpr int64_t lines_per_band(size_t size) {
  const int64_t side = micro_side<Isa>(size), row_bytes = side * int64_t(size);
  return side == 0 || row_bytes >= 64 ? 1 : 64 / row_bytes;
}

// Blocks ahead whose source lines transpose_micro_tiles prefetches (see there).
constexpr int64_t kPrefetchBlocks = 2;

template <class Isa, class T, bool kStream>
void transpose_micro_tiles(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
  constexpr int64_t k = micro_side<Isa>(sizeof(T)), band = k * lines_per_band<Isa>(sizeof(T));
  // Down the source rows in bands, along them within a band: each source line is
  // read whole before the next band, and a band's output rows are written in
  // runs of whole lines.
  for (int64_t r0 = 0; r0 < rows; r0 += band) {
    const int64_t r1 = r0 + band <= rows ? r0 + band : rows;
    // The band's rows past this block: the next blocks the caller hands over (shape.cc walks
    // blocks along the source rows). A line a row, each in its own page, so the hardware
    // prefetchers never fetch them: [4096, 4096] float32, avx512, 2 threads, same-process A/B CPU
    // time 7.99 -> 7.21 ms prefetching one block ahead (copy 5.1), 6.15 -> 5.90 with two (7.12 ->
    // 6.45 with three, two against three the same within noise). Past the row's end it fetches
    // lines never read, which is harmless (prefetches do not fault).
    for (int64_t r = r0; r < r1; ++r) {
      const uintptr_t row_end = reinterpret_cast<uintptr_t>(s + r * ss + cols);  // as an integer: may lie past the tensor
      for (int64_t ahead = 0; ahead < kPrefetchBlocks; ++ahead) {
        __builtin_prefetch(reinterpret_cast<const void*>(row_end + uintptr_t(ahead * cols) * sizeof(T)), 0, 3);
      }
    }
    for (int64_t c = 0; c < cols; c += k) {
      for (int64_t r = r0; r < r1; r += k) micro<Isa, T, kStream>(s + r * ss + c, ss, d + c * ds + r, ds);
    }
  }
}

// stream: write the output around the caches where each micro-tile store is a whole,
// aligned line (avx512's 4- and 8-byte tiles; a line streamed in pieces can leave
// the write-combining buffer partial). The edges are written plainly.
template <class Isa, class T>
void transpose_block(const void* src, int64_t ss, void* dst, int64_t ds, int64_t rows, int64_t cols, bool stream) {
  const T* s = static_cast<const T*>(src);
  T* d = static_cast<T*>(dst);
  constexpr int64_t k = micro_side<Isa>(sizeof(T));
  if constexpr (k == 0) {
    (void)stream;
    transpose_buffered<Isa>(s, ss, d, ds, rows, cols);
  } else {
    const int64_t whole_rows = rows - rows % k, whole_cols = cols - cols % k;
    constexpr int64_t store_bytes = k * int64_t(sizeof(T));
    const bool aligned = reinterpret_cast<uintptr_t>(d) % store_bytes == 0 && (ds * int64_t(sizeof(T))) % store_bytes == 0;
    if (store_bytes >= 64 && stream && aligned) {
      transpose_micro_tiles<Isa, T, true>(s, ss, d, ds, whole_rows, whole_cols);
#if defined(__SSE2__)
      _mm_sfence();  // streaming stores are weakly ordered: done before the caller reports its part
#endif
    } else {
      transpose_micro_tiles<Isa, T, false>(s, ss, d, ds, whole_rows, whole_cols);
    }
    transpose_plain<Isa>(s + whole_cols, ss, d + whole_cols * ds, ds, whole_rows, cols - whole_cols);
    transpose_plain<Isa>(s + whole_rows * ss, ss, d + whole_rows, ds, rows - whole_rows, cols);
  }
}

}  // namespace transpose_detail

template <class Isa>
constexpr TransposeIsaTable make_transpose_table(const char* isa) {
  using namespace transpose_detail;
  // Register tiles: 512 source rows by one line, so each source line is read whole
  // once. The buffered plain loop: 64 rows by 256 bytes (the buffer fits L1).
  constexpr bool kRegisters = micro_side<Isa>(4) > 0;
  return {isa,
          transpose_block<Isa, uint8_t>,
          transpose_block<Isa, uint32_t>,
          transpose_block<Isa, uint64_t>,
          kRegisters ? 512 : kBufferedRows,
          kRegisters ? 64 : kBufferedRowBytes};
}

}  // namespace keras::cpu
