// The convolution micro-kernel and channel-row loops, written once over a SIMD
// vector type V (simd/simd_<isa>.h) and instantiated per ISA in conv_<isa>.cc.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

#include "conv.h"
#include "simd/streaming.h"
#include "simd/vector_math.h"

namespace keras::cpu {

// Where the rows of a register tile read their reduction values, tap by tap.
// The indirect GEMM's table: row i of tap t at rows[t * MR + i] (null taps point at zeros).
template <class T, int MR>
struct TableRows {
  const T* const* rows;
  const T* at(int64_t t, int i) const { return rows[t * MR + i]; }
};
// Consecutive output pixels of one window row, all inside the input: row i of tap t at
// base + tap_offsets[t] + i * step (step: the stride times the channels), so no table is built.
template <class T>
struct WindowRows {
  const T* base;
  int64_t step;
  const int64_t* tap_offsets;
  const T* at(int64_t t, int64_t i) const { return base + tap_offsets[t] + i * step; }
};

// An MR x NV register tile into tile[MR * NR], row-major.
template <class V, int MR, int NV>
inline void spill_tile(const typename V::Reg (&acc)[MR][NV], typename V::T* tile) {
  constexpr int W = V::kWidth;
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) V::storeu(tile + i * NV * W + j * W, acc[i][j]);
  }
}

// Stores an MR x NV register tile into c (row stride ldc), only its first nrows x ncols.
template <class V, int MR, int NV>
inline void store_tile(const typename V::Reg (&acc)[MR][NV], typename V::T* c, int64_t ldc, int64_t nrows,
                       int64_t ncols) {
  using T = typename V::T;
  constexpr int W = V::kWidth;
  constexpr int NR = NV * W;
  if (nrows == MR && ncols == NR) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) V::storeu(c + i * ldc + j * W, acc[i][j]);
    }
    return;
  }
  // Edge tile: the whole register tile aside, then its valid part.
  alignas(64) T tile[MR * NR];
  spill_tile<V, MR, NV>(acc, tile);
  for (int64_t i = 0; i < nrows; ++i) {
    for (int64_t j = 0; j < ncols; ++j) c[i * ldc + j] = tile[i * NR + j];
  }
}

// Indirect GEMM (XNNPACK's IGEMM): the A operand is never packed. Each of the MR
// rows reads its reduction values straight from the NHWC input (Rows: a pointer per
// tap, or a window's fixed offsets), so an im2col matrix is neither built nor copied;
// B is the weights, packed once per call into NR-wide panels. MR x NV vectors of
// accumulators stay in registers over all taps and channels.
template <class V, int MR, int NV, class Rows>
inline void igemm_tile(int64_t ntaps, int64_t cin, const Rows& rows, const typename V::T* const* weights,
                       typename V::T* c, int64_t ldc, int64_t nrows, int64_t ncols) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  constexpr int NR = NV * W;
  static_assert(MR * NV + NV + 1 <= V::kRegisters, "register tile does not fit the register file");
  Reg acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
  }
  // Warm C's lines while the taps run: an output past the caches otherwise makes the
  // tile's stores wait for their lines at the end (prefetches never fault, so the rows
  // past nrows of an edge tile may be asked for too).
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) __builtin_prefetch(c + i * ldc + j * W, 1, 3);
  }
  for (int64_t t = 0; t < ntaps; ++t) {
    const T* a[MR];
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) a[i] = rows.at(t, i);
    const T* w = weights[t];
#pragma GCC unroll 2
    for (int64_t p = 0; p < cin; ++p) {
      Reg bv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) bv[j] = V::load(w + j * W);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const Reg av = V::set1(a[i][p]);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
      }
      w += NR;
    }
  }
  store_tile<V, MR, NV>(acc, c, ldc, nrows, ncols);
}

template <class V, int MR, int NV>
void igemm_microkernel(int64_t ntaps, int64_t cin, const typename V::T* const* rows,
                       const typename V::T* const* weights, typename V::T* c, int64_t ldc, int64_t nrows,
                       int64_t ncols) {
  igemm_tile<V, MR, NV>(ntaps, cin, TableRows<typename V::T, MR>{rows}, weights, c, ldc, nrows, ncols);
}

template <class V, int MR, int NV>
void window_igemm_microkernel(int64_t ntaps, int64_t cin, const typename V::T* base, int64_t step,
                              const int64_t* tap_offsets, const typename V::T* const* weights, typename V::T* c,
                              int64_t ldc, int64_t ncols) {
  igemm_tile<V, MR, NV>(ntaps, cin, WindowRows<typename V::T>{base, step, tap_offsets}, weights, c, ldc, MR, ncols);
}

// Where the filter gradient's reduction step q reads its MR values of A and its row of B.
// Per-row pointers: a[q][off + i], b[q] + off.
template <class T>
struct PointerOperand {
  const T* const* rows;
  int64_t off;
  const T* row(int64_t q) const { return rows[q] + off; }
  T at(const T* row, int i) const { return row[i]; }
};
// Consecutive output pixels of one window row (as WindowRows): step q's values at
// base + q * step + offsets[i] (offsets: a (tap, channel) of the patch each).
template <class T>
struct WindowOperand {
  const T* base;
  int64_t step;
  const int64_t* offsets;
  const T* row(int64_t q) const { return base + q * step; }
  T at(const T* row, int i) const { return row[offsets[i]]; }
};

// The filter gradient's kernel: the reduction runs over output pixels q, each
// contributing MR values of A (input channels of a patch, broadcast) times NV vectors
// of output-gradient channels, summed in registers and added into c once. Rows below
// first_row and columns below first_col belong to a neighbouring tile and are skipped.
template <class V, int MR, int NV, class A, class B>
inline void outer_tile(int64_t count, const A& a, const B& b, typename V::T* c, int64_t ldc, int64_t first_row,
                       int64_t first_col) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  constexpr int NR = NV * W;
  static_assert(MR * NV + NV + 1 <= V::kRegisters, "register tile does not fit the register file");
  Reg acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
  }
#pragma GCC unroll 2
  for (int64_t q = 0; q < count; ++q) {
    const T* aq = a.row(q);
    const T* bq = b.row(q);
    Reg bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) bv[j] = V::loadu(bq + j * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const Reg av = V::set1(a.at(aq, i));
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
  }
  if (first_col == 0) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      if (i < first_row) continue;
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) V::storeu(c + i * ldc + j * W, V::add(V::loadu(c + i * ldc + j * W), acc[i][j]));
    }
    return;
  }
  alignas(64) T tile[MR * NR];
  spill_tile<V, MR, NV>(acc, tile);
  for (int64_t i = first_row; i < MR; ++i) {
    for (int64_t j = first_col; j < NR; ++j) c[i * ldc + j] += tile[i * NR + j];
  }
}

template <class V, int MR, int NV>
void outer_microkernel(int64_t count, const typename V::T* const* a, int64_t a_off, const typename V::T* const* b,
                       int64_t b_off, typename V::T* c, int64_t ldc, int64_t first_row, int64_t first_col) {
  using T = typename V::T;
  outer_tile<V, MR, NV>(count, PointerOperand<T>{a, a_off}, PointerOperand<T>{b, b_off}, c, ldc, first_row, first_col);
}

template <class V, int MR, int NV>
void window_outer_microkernel(int64_t count, const typename V::T* a_base, int64_t a_step, const int64_t* offsets,
                              const typename V::T* b_base, int64_t b_step, typename V::T* c, int64_t ldc,
                              int64_t first_row, int64_t first_col) {
  using T = typename V::T;
  // b: rows b_step apart, read as a window with the one offset 0.
  static constexpr int64_t kZero[1] = {0};
  outer_tile<V, MR, NV>(count, WindowOperand<T>{a_base, a_step, offsets}, WindowOperand<T>{b_base, b_step, kZero}, c,
                        ldc, first_row, first_col);
}

template <class V>
void row_fma(typename V::T* y, const typename V::T* a, const typename V::T* b, int64_t n) {
  constexpr int W = V::kWidth;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::storeu(y + i, V::fmadd(V::loadu(a + i), V::loadu(b + i), V::loadu(y + i)));
  for (; i < n; ++i) y[i] += a[i] * b[i];
}

template <class V>
void row_dot_rows(typename V::T* y, bool accumulate, int64_t count, const typename V::T* const* a,
                  const typename V::T* const* b, int64_t n) {
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  int64_t c = 0;
  // Four vectors of channels at a time, summed over all q in registers.
  for (; c + 4 * W <= n; c += 4 * W) {
    Reg acc[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[j] = accumulate ? V::loadu(y + c + j * W) : V::zero();
    for (int64_t q = 0; q < count; ++q) {
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) acc[j] = V::fmadd(V::loadu(a[q] + c + j * W), V::loadu(b[q] + c + j * W), acc[j]);
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) V::storeu(y + c + j * W, acc[j]);
  }
  for (; c + W <= n; c += W) {
    Reg acc = accumulate ? V::loadu(y + c) : V::zero();
    for (int64_t q = 0; q < count; ++q) acc = V::fmadd(V::loadu(a[q] + c), V::loadu(b[q] + c), acc);
    V::storeu(y + c, acc);
  }
  for (; c < n; ++c) {
    typename V::T acc = accumulate ? y[c] : 0;
    for (int64_t q = 0; q < count; ++q) acc += a[q][c] * b[q][c];
    y[c] = acc;
  }
}

// Channel blocks of a depthwise kernel: blocks of NV whole vectors, then whole vectors one
// at a time, then the last lanes (fewer than a vector) masked: block(c, nv, partial, lanes).
template <class V, int NV, class Block>
inline void for_channel_blocks(int64_t n, const Block& block) {
  constexpr int W = V::kWidth;
  int64_t c = 0;
  for (; c + NV * W <= n; c += NV * W) block(c, std::integral_constant<int, NV>{}, std::false_type{}, W);
  for (; c + W <= n; c += W) block(c, std::integral_constant<int, 1>{}, std::false_type{}, W);
  if (c < n) block(c, std::integral_constant<int, 1>{}, std::true_type{}, int(n - c));
}

// Vector j of a block of NV at p, and its store: the last one masked to `lanes` in a partial block.
template <class V, bool kPartial, int NV>
inline typename V::Reg load_block(const typename V::T* p, int j, int lanes) {
  return kPartial && j == NV - 1 ? V::load_first(p + j * V::kWidth, lanes) : V::loadu(p + j * V::kWidth);
}
template <class V, bool kPartial, int NV>
inline void store_block(typename V::T* p, int j, typename V::Reg v, int lanes) {
  if (kPartial && j == NV - 1) {
    V::store_first(p + j * V::kWidth, v, lanes);
  } else {
    V::storeu(p + j * V::kWidth, v);
  }
}

// Vectors of channels and taps of one depthwise filter-gradient pass: their accumulators stay
// in registers over all the rows (row_dot_rows, tap by tap, read each row of dy once a tap).
template <class V>
constexpr int depthwise_filter_vectors() {
  return V::kRegisters >= 32 ? 2 : 1;
}
template <class V>
constexpr int depthwise_filter_taps() {
  constexpr int nv = depthwise_filter_vectors<V>(), most = (V::kRegisters - nv - 2) / nv;
  return most < 16 ? most : 16;
}

// DepthwiseTaps' table form, from tap t0 on: row m's pixel of tap t0 + g at table[m * taps + g]
// (rows outer, unlike TableRows). Its window form is WindowRows.
template <class T>
struct RowMajorTaps {
  const T* const* table;
  int64_t taps;
  const T* at(int64_t g, int64_t m) const { return table[m * taps + g]; }
};

template <class V, int G, class Taps>
void depthwise_filter_group(int64_t rows, const Taps& src, const typename V::T* dy, typename V::T* dw, int64_t n) {
  using Reg = typename V::Reg;
  for_channel_blocks<V, depthwise_filter_vectors<V>()>(n, [&](int64_t c, auto nv, auto partial, int lanes) {
    constexpr int B = decltype(nv)::value;
    constexpr bool kPartial = decltype(partial)::value;
    Reg acc[G][B];
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
      for (int j = 0; j < B; ++j) acc[g][j] = load_block<V, kPartial, B>(dw + g * n + c, j, lanes);
    }
    for (int64_t m = 0; m < rows; ++m) {
      Reg dyv[B];
#pragma GCC unroll 4
      for (int j = 0; j < B; ++j) dyv[j] = load_block<V, kPartial, B>(dy + m * n + c, j, lanes);
#pragma GCC unroll 16
      for (int g = 0; g < G; ++g) {
        const typename V::T* pixel = src.at(g, m) + c;
#pragma GCC unroll 4
        for (int j = 0; j < B; ++j) acc[g][j] = V::fmadd(load_block<V, kPartial, B>(pixel, j, lanes), dyv[j], acc[g][j]);
      }
    }
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
      for (int j = 0; j < B; ++j) store_block<V, kPartial, B>(dw + g * n + c, j, acc[g][j], lanes);
    }
  });
}

template <class V, class Taps, int... G>
void depthwise_filter_dispatch(std::integer_sequence<int, G...>, int group, int64_t rows, const Taps& src,
                               const typename V::T* dy, typename V::T* dw, int64_t n) {
  using Fn = void (*)(int64_t, const Taps&, const typename V::T*, typename V::T*, int64_t);
  static constexpr Fn kGroups[] = {&depthwise_filter_group<V, G + 1, Taps>...};
  kGroups[group - 1](rows, src, dy, dw, n);
}

template <class V>
void depthwise_filter(int64_t rows, int64_t taps, const DepthwiseTaps<typename V::T>& src, const typename V::T* dy,
                      typename V::T* dw, int64_t n) {
  using T = typename V::T;
  constexpr int kMost = depthwise_filter_taps<V>();
  for (int64_t t0 = 0; t0 < taps; t0 += kMost) {
    const int group = int(std::min<int64_t>(kMost, taps - t0));
    if (src.table) {
      depthwise_filter_dispatch<V>(std::make_integer_sequence<int, kMost>{}, group, rows,
                                   RowMajorTaps<T>{src.table + t0, taps}, dy, dw + t0 * n, n);
    } else {
      depthwise_filter_dispatch<V>(std::make_integer_sequence<int, kMost>{}, group, rows,
                                   WindowRows<T>{src.base, src.step, src.offsets + t0}, dy, dw + t0 * n, n);
    }
  }
}

// Depthwise 2-D windows of stride and dilation 1 inside the input, along a row of output
// pixels: UR pixels and one vector of channels at a time, the KW weights of a window row in
// registers and each input pixel loaded once for the up to KW outputs it reaches (row_dot_rows
// loads every tap's pixel and weight for every output: 18 loads per 9 FMAs). Each output sums
// its window in order (row, then column) from zero: in a forward, the roundings of row_dot_rows
// over its taps.
// UR: a power of two (runs end in halving tiles).
template <class V>
constexpr int depthwise_run_pixels() {
  return V::kRegisters >= 32 ? 16 : 8;
}

template <class V, int KW, int UR, bool kStream>
inline void depthwise_tile(int64_t kh, const typename V::T* x, int64_t row_step, int64_t pixel_step,
                           const typename V::T* w, typename V::T* y) {
  using Reg = typename V::Reg;
  static_assert(UR + KW + 1 <= V::kRegisters, "depthwise tile does not fit the register file");
  Reg acc[UR];
#pragma GCC unroll 16
  for (int o = 0; o < UR; ++o) acc[o] = V::zero();
  // One pointer stepped pixel by pixel, and each pixel loaded into a register once: with an
  // address per pixel (i * pixel_step) the compiler spilled address registers and folded the
  // load into all KW FMAs (the tiles of [56,56,64] 3x3 in L1: 18.4 -> 11.3 ns a pixel; the
  // whole [8,28,28,128] 3x3 forward on 1 thread 0.32 -> 0.27 ms).
  for (int64_t r = 0; r < kh; ++r) {
    const typename V::T* px = x + r * row_step;
    Reg wv[KW];
#pragma GCC unroll 8
    for (int k = 0; k < KW; ++k) wv[k] = V::loadu(w + (r * KW + k) * pixel_step);
#pragma GCC unroll 32
    for (int i = 0; i < UR + KW - 1; ++i, px += pixel_step) {
      const Reg xv = vector_math::in_register(V::loadu(px));
#pragma GCC unroll 8
      for (int k = 0; k < KW; ++k) {
        const int o = i - k;
        if (o >= 0 && o < UR) acc[o] = V::fmadd(xv, wv[k], acc[o]);
      }
    }
  }
#pragma GCC unroll 16
  for (int o = 0; o < UR; ++o, y += pixel_step) store_vector<V, kStream>(y, acc[o]);
}

// Tiles of UR pixels while they fit, then of UR / 2, ... down to one pixel: the whole run.
template <class V, int KW, int UR, bool kStream>
void depthwise_run_tiles(int64_t kh, const typename V::T* x, int64_t row_step, const typename V::T* w,
                         typename V::T* y, int64_t ch, int64_t count) {
  int64_t o = 0;
  for (; o + UR <= count; o += UR) {
    for (int64_t c = 0; c < ch; c += V::kWidth) {
      depthwise_tile<V, KW, UR, kStream>(kh, x + o * ch + c, row_step, ch, w + c, y + o * ch + c);
    }
  }
  if constexpr (UR > 1) {
    if (o < count) {
      depthwise_run_tiles<V, KW, UR / 2, kStream>(kh, x + o * ch, row_step, w, y + o * ch, ch, count - o);
    }
  }
}

template <class V, int KW>
int64_t depthwise_run_of(int64_t kh, const typename V::T* x, int64_t row_step, const typename V::T* w,
                         typename V::T* y, int64_t ch, int64_t count, bool stream) {
  constexpr int UR = depthwise_run_pixels<V>();
  if (stream) {
    depthwise_run_tiles<V, KW, UR, true>(kh, x, row_step, w, y, ch, count);
  } else {
    depthwise_run_tiles<V, KW, UR, false>(kh, x, row_step, w, y, ch, count);
  }
  return count;
}

template <class V>
int64_t depthwise_run(int kw, int64_t kh, const typename V::T* x, int64_t row_step, const typename V::T* w,
                      typename V::T* y, int64_t ch, int64_t count, bool stream) {
  switch (kw) {
    case 3: return depthwise_run_of<V, 3>(kh, x, row_step, w, y, ch, count, stream);
    case 5: return depthwise_run_of<V, 5>(kh, x, row_step, w, y, ch, count, stream);
    case 7: return depthwise_run_of<V, 7>(kh, x, row_step, w, y, ch, count, stream);
    default: return 0;
  }
}

template <class V>
typename V::T row_dot_sum(const typename V::T* const* a, const typename V::T* const* b, int64_t count, int64_t n) {
  using T = typename V::T;
  constexpr int W = V::kWidth;
  // Two accumulators: one would make every tap wait on the FMA latency.
  auto acc0 = V::zero(), acc1 = V::zero();
  for (int64_t q = 0; q < count; ++q) {
    const T *x = a[q], *y = b[q];
    int64_t c = 0;
    for (; c + 2 * W <= n; c += 2 * W) {
      acc0 = V::fmadd(V::loadu(x + c), V::loadu(y + c), acc0);
      acc1 = V::fmadd(V::loadu(x + c + W), V::loadu(y + c + W), acc1);
    }
    if (c + W <= n) {
      acc0 = V::fmadd(V::loadu(x + c), V::loadu(y + c), acc0);
      c += W;
    }
    if (c < n) acc1 = V::fmadd(V::load_first(x + c, int(n - c)), V::load_first(y + c, int(n - c)), acc1);
  }
  alignas(64) T lanes[W];
  V::storeu(lanes, V::add(acc0, acc1));
  T sum = 0;
  for (int i = 0; i < W; ++i) sum += lanes[i];
  return sum;
}

template <class V>
void row_axpy(typename V::T* y, typename V::T s, const typename V::T* x, int64_t n) {
  constexpr int W = V::kWidth;
  const auto vs = V::set1(s);
  int64_t i = 0;
  for (; i + W <= n; i += W) V::storeu(y + i, V::fmadd(vs, V::loadu(x + i), V::loadu(y + i)));
  for (; i < n; ++i) y[i] += s * x[i];
}

template <class V>
void row_add(typename V::T* y, const typename V::T* x, int64_t n) {
  constexpr int W = V::kWidth;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::storeu(y + i, V::add(V::loadu(y + i), V::loadu(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

// The js kernel's max rule: a later tap replaces the best when greater, or NaN over a
// number; ties keep the earlier one.
template <class T>
inline bool replaces_max(T v, T best) {
  return v > best || (v != v && best == best);
}

// Channels [c, c + W) of the max over rows[t < count] by that rule (V::pick_max).
template <class V>
inline typename V::Reg max_over_rows(const typename V::T* const* rows, int64_t count, int64_t c) {
  auto best = V::loadu(rows[0] + c);
  for (int64_t t = 1; t < count; ++t) best = V::pick_max(V::loadu(rows[t] + c), best);
  return best;
}

// The max over a window's rows (count >= 1).
template <class V>
void window_max(typename V::T* y, const typename V::T* const* rows, int64_t count, int64_t n) {
  constexpr int W = V::kWidth;
  int64_t c = 0;
  for (; c + W <= n; c += W) V::storeu(y + c, max_over_rows<V>(rows, count, c));
  for (; c < n; ++c) {
    auto best = rows[0][c];
    for (int64_t t = 1; t < count; ++t) {
      if (replaces_max(rows[t][c], best)) best = rows[t][c];
    }
    y[c] = best;
  }
}

// Gives dy to the dx row of the tap that window_max picks for each channel: the
// first tap equal to the max, or the first NaN when the max is NaN (it is NaN
// exactly when some tap is). The best and the gradient still to place stay in
// registers, so the taps are read once and no tap index is stored. `accumulate`:
// added to dx (windows that overlap); else every tap's dx row is written, dy or 0 (windows
// that share no pixel: dx needs no zeroing first, and is not read). `positive_only`: a
// channel whose max is not > 0 gives nothing (maxPoolGrad's positiveMax).
template <class V>
void window_max_grad(typename V::T* const* dx_rows, const typename V::T* const* x_rows, int64_t count,
                     const typename V::T* dy, int64_t n, bool accumulate, bool positive_only) {
  using T = typename V::T;
  constexpr int W = V::kWidth;
  int64_t c = 0;
  for (; c + W <= n; c += W) {
    const auto best = max_over_rows<V>(x_rows, count, c);
    const auto none = V::zero();
    auto rest = V::loadu(dy + c);
    if (positive_only) rest = V::select_less(none, best, rest, none);  // NaN is not > 0 either
    for (int64_t t = 0; t < count; ++t) {
      const auto x = V::loadu(x_rows[t] + c);
      const auto mine = V::select_equal_or_nan(x, best, rest, none);
      V::storeu(dx_rows[t] + c, accumulate ? V::add(V::loadu(dx_rows[t] + c), mine) : mine);
      rest = V::select_equal_or_nan(x, best, none, rest);
    }
  }
  for (; c < n; ++c) {
    int64_t arg = 0;
    for (int64_t t = 1; t < count; ++t) {
      if (replaces_max(x_rows[t][c], x_rows[arg][c])) arg = t;
    }
    if (!accumulate) {
      for (int64_t t = 0; t < count; ++t) dx_rows[t][c] = T(0);
    }
    if (!positive_only || x_rows[arg][c] > T(0)) dx_rows[arg][c] += dy[c];
  }
}

// The widest tile of MR rows that fits the register file: MR x NV accumulators,
// NV column vectors and one broadcast.
template <class V, int MR>
constexpr int max_outer_vectors() {
  int nv = 1;
  while (nv < kMaxOuterVectors && MR * (nv + 1) + (nv + 1) + 1 <= V::kRegisters) ++nv;
  return nv;
}

// MR rows a tile of more than NARROW_NV vectors, NARROW_MR rows up to NARROW_NV vectors.
template <class V, int MR, int NARROW_MR, int NARROW_NV, int... NV>
constexpr OuterKernels<typename V::T> make_outer_kernels(std::integer_sequence<int, NV...>) {
  constexpr int widest = max_outer_vectors<V, MR>();
  static_assert(NARROW_MR * NARROW_NV + NARROW_NV + 1 <= V::kRegisters, "narrow filter-gradient tile does not fit");
  // Entries past the widest repeat it; they are never chosen (max_nv).
  constexpr auto vectors = [](int nv) { return nv + 1 < widest ? nv + 1 : widest; };
  constexpr auto rows = [](int nv) { return nv + 1 <= NARROW_NV ? NARROW_MR : MR; };
  return {V::kWidth, widest, {rows(NV)...}, {&outer_microkernel<V, rows(NV), vectors(NV)>...},
          {&window_outer_microkernel<V, rows(NV), vectors(NV)>...}};
}

// MR32/NV32 (MR64/NV64): the forward's float32 (float64) register tile; OMR: the
// filter gradient's rows, with up to kMaxOuterVectors vectors of columns, and ONMR rows
// for tiles of up to ONNV vectors (narrow tiles: fewer accumulators, so more rows fit).
template <class V, int MR32, int NV32, int MR64, int NV64, int OMR, int ONMR = OMR, int ONNV = 0>
constexpr ConvIsaTable make_conv_table(const char* isa, const char* f32_name, const char* f64_name) {
  using F32 = typename V::template Vec<float>;
  using F64 = typename V::template Vec<double>;
  constexpr auto nvs = std::make_integer_sequence<int, kMaxOuterVectors>{};
  return ConvIsaTable{
      isa,
      {f32_name, MR32, NV32 * F32::kWidth, &igemm_microkernel<F32, MR32, NV32>, &window_igemm_microkernel<F32, MR32, NV32>,
       make_outer_kernels<F32, OMR, ONMR, ONNV>(nvs)},
      {f64_name, MR64, NV64 * F64::kWidth, &igemm_microkernel<F64, MR64, NV64>, &window_igemm_microkernel<F64, MR64, NV64>,
       make_outer_kernels<F64, OMR, ONMR, ONNV>(nvs)},
      {F32::kWidth, &row_fma<F32>, &row_dot_rows<F32>, &depthwise_run<F32>, &depthwise_filter<F32>, &row_dot_sum<F32>,
       &row_axpy<F32>, &row_add<F32>, &window_max<F32>, &window_max_grad<F32>},
      {F64::kWidth, &row_fma<F64>, &row_dot_rows<F64>, &depthwise_run<F64>, &depthwise_filter<F64>, &row_dot_sum<F64>,
       &row_axpy<F64>, &row_add<F64>, &window_max<F64>, &window_max_grad<F64>},
  };
}

}  // namespace keras::cpu
