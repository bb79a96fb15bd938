// The reduction folds, written once over an ISA tag (simd/simd_<isa>.h's Isa) and
// instantiated per ISA in reduction_<isa>.cc.
//
// One core serves every (op, dtype): a fold over "lanes". float and double data
// folded by sum/mean/prod/max/min use the ISA's double vector (floats widened on
// load, as the js backend computes in double); any/all of bool and sum/mean/max/min
// of int32 use integer lanes (exact: "Integer folds" below); other dtypes and ops,
// and strided runs, use one scalar lane. Accuracy: a run is folded in blocks (4
// chains of lanes), and the block results are combined pairwise (a binary counter of
// partials), so a sum's rounding error grows with the tree depth, not with n.
//
// Memory: a fold only reads, so one core's misses in flight bound it. The hardware
// prefetcher follows a stream within a 4 KiB page and starts cold on each new one:
// contiguous folds touch each page ahead of the loads (kick_page_ahead) and leave the
// lines in between to it. Column folds over rows of 32-4096 columns that follow each
// other read four long streams, one per quarter of the rows (fold_row_quarters), which
// cross pages in order and need no prefetch; other column folds read eight rows a step,
// streams of a page or less, and prefetch every line ahead (kColumnPrefetchBytes).
//
// moments (mean and variance, reduction.h) read x once: a chunk's (or a group of rows')
// mean, then its squared deviations from it while it is still in L1, partials combined
// by Chan's formula, never E[x^2] - E[x]^2.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "reduction.h"
#include "simd/streaming.h"
#include "transpose_kernels.h"
#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace keras::cpu {
namespace reduction_detail {

using kernels::ReduceOp;

constexpr bool is_vector_op(ReduceOp op) {
  return op == ReduceOp::Sum || op == ReduceOp::Mean || op == ReduceOp::Prod || op == ReduceOp::Max ||
         op == ReduceOp::Min;
}

template <class T, ReduceOp OP>
constexpr bool kVectorizable = (std::is_same_v<T, float> || std::is_same_v<T, double>) && is_vector_op(OP);

// Double lanes of the ISA vector V over float or double data.
template <class V, class T, ReduceOp OP>
struct VectorLanes {
  using Reg = typename V::Reg;
  static constexpr int kWidth = V::kWidth;
  static Reg identity() { return V::set1(reduce_identity(OP)); }
  static Reg load(const T* p, int64_t) {
    if constexpr (std::is_same_v<T, float> && std::is_same_v<typename V::T, double>) return V::load_float(p);
    else return V::loadu(p);
  }
  static Reg fold(Reg acc, Reg v) {
    if constexpr (OP == ReduceOp::Prod) return V::mul(acc, v);
    else if constexpr (OP == ReduceOp::Max) return V::pick_max(v, acc);  // v > acc || v is NaN ? v : acc
    else if constexpr (OP == ReduceOp::Min) return V::pick_min(v, acc);
    else return V::add(acc, v);
  }
  // The lanes folded pairwise into one double.
  static double lanes(Reg r) {
    alignas(64) typename V::T stored[kWidth];
    V::storeu(stored, r);
    double v[kWidth];
    for (int i = 0; i < kWidth; ++i) v[i] = double(stored[i]);
    for (int width = kWidth / 2; width >= 1; width /= 2) {
      for (int i = 0; i < width; ++i) v[i] = reduce_fold(OP, v[i], v[i + width]);
    }
    return v[0];
  }
};

// One double lane, for any dtype and stride. Tagged with the ISA although it uses
// no vector: code built with one ISA's flags must not be shared with another's.
template <class Isa, class T, ReduceOp OP>
struct ScalarLanes {
  using Reg = double;
  static constexpr int kWidth = 1;
  static Reg identity() { return reduce_identity(OP); }
  static Reg load(const T* p, int64_t) { return double(*p); }
  static Reg fold(Reg acc, Reg v) { return reduce_fold(OP, acc, v); }
  static double lanes(Reg r) { return r; }
};

// Bytes ahead of the loads at which a contiguous fold touches each new page, and how
// many of its first lines. Measured on 4096x4096 float32 (sum all and axis -1, old and
// new folds interleaved in one process): without it 1.14-1.25x the time on one thread
// (CPU time), 1.08-1.19x on two; 4-16 KiB ahead with 1-4 lines all within 5% of 8 KiB
// x 2. Prefetching every line 8 KiB ahead instead took 1.25x the time of no prefetch
// (a plain streaming loop over 256 MiB).
constexpr int64_t kPageBytes = 4096;
constexpr int64_t kPageKickBytes = 8192;
constexpr int kPageKickLines = 2;

// When the step of `step_bytes` at `p` is the first one on its page, prefetches the
// first lines of the page kPageKickBytes further on, those before `end`: the
// hardware prefetcher takes that stream over from there.
static inline void kick_page_ahead(const void* p, int64_t step_bytes, const char* end) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  if ((address & uintptr_t(kPageBytes - 1)) >= uintptr_t(step_bytes)) return;
  const char* page = reinterpret_cast<const char*>(address & ~uintptr_t(kPageBytes - 1)) + kPageKickBytes;
  for (int line = 0; line < kPageKickLines; ++line) {
    if (page + 64 * line < end) __builtin_prefetch(page + 64 * line);
  }
}

constexpr int kChains = 4;         // independent accumulators: folds overlap instead of waiting
constexpr int kStepsPerBlock = 16; // each chain folds this many lanes' worth per block

// The blocks of kBlock elements of x[i * stride], i < blocks * kBlock, folded into
// `tail` (the fold of what follows them); with stride 1, pages ahead up to
// `prefetch_end` are prefetched (nullptr: none). Out of line: its partials take a
// 2.5 KiB frame that short runs, which have no whole block, should not pay for.
template <class L, class T, ReduceOp OP>
[[gnu::noinline]] typename L::Reg fold_blocks(const T* x, int64_t blocks, int64_t stride, typename L::Reg tail,
                                              const T* prefetch_end) {
  using Reg = typename L::Reg;
  constexpr int W = L::kWidth;
  constexpr int64_t kBlock = int64_t(kChains) * W * kStepsPerBlock;
  // partial[level] holds the fold of 2^level blocks, present where bit `level` of
  // `done` is set: merging equal-sized partials makes the combination pairwise.
  // 40 levels cover 2^40 blocks; fewer than 64 keep the frame under a page (no stack probes).
  Reg partial[40];
  uint64_t done = 0;
  for (int64_t i = 0; i < blocks * kBlock; i += kBlock) {
    Reg chain[kChains];
    for (int c = 0; c < kChains; ++c) chain[c] = L::identity();
    for (int64_t s = 0; s < kBlock; s += kChains * W) {
      if (prefetch_end) {
        kick_page_ahead(x + i + s, int64_t(kChains) * W * int64_t(sizeof(T)),
                        reinterpret_cast<const char*>(prefetch_end));
      }
      for (int c = 0; c < kChains; ++c) chain[c] = L::fold(chain[c], L::load(x + (i + s + c * W) * stride, stride));
    }
    Reg block = L::fold(L::fold(chain[0], chain[1]), L::fold(chain[2], chain[3]));
    int level = 0;
    for (uint64_t m = done; m & 1; m >>= 1, ++level) block = L::fold(partial[level], block);
    partial[level] = block;
    ++done;
  }
  for (int level = 0; done >> level; ++level) {
    if ((done >> level) & 1) tail = L::fold(partial[level], tail);
  }
  return tail;
}

// Fold of x[i * stride], i < n (vector lanes are only used with stride 1), prefetching
// up to prefetch_end (nullptr: none).
template <class L, class T, ReduceOp OP>
double fold_lanes(const T* x, int64_t n, int64_t stride, const T* prefetch_end) {
  using Reg = typename L::Reg;
  constexpr int W = L::kWidth;
  constexpr int64_t kBlock = int64_t(kChains) * W * kStepsPerBlock;
  const int64_t blocked = n / kBlock * kBlock;
  Reg tail = L::identity();
  int64_t i = blocked;
  for (; i + W <= n; i += W) tail = L::fold(tail, L::load(x + i * stride, stride));
  if (blocked > 0) tail = fold_blocks<L, T, OP>(x, blocked / kBlock, stride, tail, prefetch_end);
  double acc = L::lanes(tail);
  for (; i < n; ++i) acc = reduce_fold(OP, acc, double(x[i * stride]));
  return acc;
}

// Integer folds: any/all of bool, and sum/mean/max/min of int32, in integer lanes as
// wide as the ISA's vector, exact in any order: any/all as the OR/minimum of the bytes
// (nonzero: true), max/min in int32 lanes, sums in int64 lanes (int32 widened on load).
// An exact sum is the one the double folds (and the js backend) compute wherever none
// of their partial sums passes 2^53; the sum folds below take only runs and row blocks
// where none can, and leave the others to the double lanes, so results stay bit-identical.
// [4096, 4096], avx512, 2 threads, CPU time in one process against the scalar double
// lane: bool all/any 11.7-13.2 -> 0.6-0.8 ms (all axes, axis -1), 3.8-4.4 -> 0.9-1.2
// (axis 0); int32 sum 3.1-3.7 -> 1.9-2.5 (all, axis -1), 7.7-9.9 -> 3.1 (axis 0; 4.1-4.8
// with the lanes folded into acc every 64 rows in every case);
// int32 max 7.0 -> 2.0-2.1, 9.9 -> 2.9-3.1 (axis 0). float32 sum: 2.3-2.9.
template <class T, ReduceOp OP>
constexpr bool kIntegerFold =
    (std::is_same_v<T, uint8_t> && (OP == ReduceOp::Any || OP == ReduceOp::All)) ||
    (std::is_same_v<T, int32_t> &&
     (OP == ReduceOp::Sum || OP == ReduceOp::Mean || OP == ReduceOp::Max || OP == ReduceOp::Min));

template <class Isa, class T, ReduceOp OP>
struct IntegerLanes {
  static constexpr int kBytes = int(sizeof(typename Isa::template Vec<float>::Reg));
  static constexpr bool kSum = OP == ReduceOp::Sum || OP == ReduceOp::Mean;
  using E = std::conditional_t<kSum, int64_t, T>;  // lane element
  static constexpr int kWidth = kBytes / int(sizeof(E));
  typedef E Reg __attribute__((vector_size(kBytes)));
  typedef T Loaded __attribute__((vector_size(kWidth * sizeof(T))));
  static constexpr E identity_element() {
    if constexpr (OP == ReduceOp::All) return E(1);
    else if constexpr (OP == ReduceOp::Max) return E(INT32_MIN);
    else if constexpr (OP == ReduceOp::Min) return E(INT32_MAX);
    else return E(0);
  }
  static Reg identity() { return Reg{} + identity_element(); }
  static Reg load(const T* p) {
    Loaded v;
    std::memcpy(&v, p, sizeof(v));
    if constexpr (kSum) return __builtin_convertvector(v, Reg);
    else return v;
  }
  static Reg load_lanes(const E* p) {
    Reg v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void store_lanes(E* p, Reg v) { std::memcpy(p, &v, sizeof(v)); }
  // On lanes (Reg) or one element (E).
  template <class U>
  static U fold(U a, U b) {
    if constexpr (OP == ReduceOp::Any) return a | b;
    else if constexpr (OP == ReduceOp::All || OP == ReduceOp::Min) return a < b ? a : b;
    else if constexpr (OP == ReduceOp::Max) return a > b ? a : b;
    else return a + b;
  }
  static E lanes(Reg r) {
    E e = r[0];
    for (int i = 1; i < kWidth; ++i) e = fold(e, E(r[i]));
    return e;
  }
  static double value(E e) {  // the fold's result as the double folds hold it
    if constexpr (OP == ReduceOp::Any || OP == ReduceOp::All) return e != 0 ? 1 : 0;
    else return double(e);
  }
};

// Runs of int32 sums up to this long fold in int64 lanes: 2^22 elements of magnitude
// <= 2^31 keep every partial sum, in any order, within 2^53 (exact in double).
constexpr int64_t kExactSumRun = int64_t(1) << 22;

// The exact sum of the n contiguous int32 at x, in int32 lanes at full width: each
// element as its high half (x >> 16) and low half (x & 0xffff), summed apart (exact for
// 2^15 steps a lane), then 65536 * high + low in int64. Widening each element to int64
// instead took 1.65x the time of the double lane on the portable path (SSE2 has no sign
// extension), 1.0x on avx2 ([4096, 4096], 2 threads, CPU time).
template <class Isa>
double int32_exact_sum_run(const int32_t* x, int64_t n, const int32_t* prefetch_end) {
  using Int32Lanes = IntegerLanes<Isa, int32_t, ReduceOp::Max>;
  using Reg = typename Int32Lanes::Reg;
  constexpr int W = Int32Lanes::kWidth, kBytes = Int32Lanes::kBytes;
  constexpr int64_t kSegment = int64_t(W) << 15;  // each chain's lanes take 2^14 steps
  const auto load = Int32Lanes::load;
  int64_t total = 0, i = 0;
  while (i + W <= n) {
    const int64_t end = n - i < kSegment ? n / W * W : i + kSegment;
    Reg high0{}, low0{}, high1{}, low1{};
    for (; i + 2 * W <= end; i += 2 * W) {
      kick_page_ahead(x + i, 2 * kBytes, reinterpret_cast<const char*>(prefetch_end));
      const Reg v0 = load(x + i), v1 = load(x + i + W);
      high0 += v0 >> 16;
      low0 += v0 & 0xffff;
      high1 += v1 >> 16;
      low1 += v1 & 0xffff;
    }
    if (i < end) {
      const Reg v0 = load(x + i);
      high0 += v0 >> 16;
      low0 += v0 & 0xffff;
      i += W;
    }
    for (int l = 0; l < W; ++l) total += (int64_t(high0[l]) + high1[l]) * 65536 + low0[l] + low1[l];
  }
  for (; i < n; ++i) total += x[i];
  return double(total);
}

// The fold of the n >= 1 contiguous elements at x, four chains of lanes, touching pages
// ahead up to prefetch_end as the double folds do.
template <class Isa, class T, ReduceOp OP>
double integer_fold_run(const T* x, int64_t n, const T* prefetch_end) {
  if constexpr (IntegerLanes<Isa, T, OP>::kSum) return int32_exact_sum_run<Isa>(x, n, prefetch_end);
  using L = IntegerLanes<Isa, T, OP>;
  constexpr int W = L::kWidth;
  typename L::Reg c0 = L::identity(), c1 = c0, c2 = c0, c3 = c0;
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    kick_page_ahead(x + i, 4 * W * int64_t(sizeof(T)), reinterpret_cast<const char*>(prefetch_end));
    c0 = L::fold(c0, L::load(x + i));
    c1 = L::fold(c1, L::load(x + i + W));
    c2 = L::fold(c2, L::load(x + i + 2 * W));
    c3 = L::fold(c3, L::load(x + i + 3 * W));
  }
  for (; i + W <= n; i += W) c0 = L::fold(c0, L::load(x + i));
  typename L::E e = L::lanes(L::fold(L::fold(c0, c1), L::fold(c2, c3)));
  for (; i < n; ++i) e = L::fold(e, typename L::E(x[i]));
  return L::value(e);
}

// Bytes of lanes an integer column fold keeps: whole rows of up to 4096 columns (the
// driver's rows that follow each other, read in memory order), int64 sum lanes too.
// (16 KiB, 2048 int32 sum columns at a time: [4096, 4096] axis 0 within noise.)
constexpr int64_t kIntegerColumnBytes = 32768;

// acc[j] = fold(acc[j], x[r * row_stride + j] for r < rows), j < cols: eight rows a step
// into a row of lanes, which folds into acc at the end; for sums that could pass 2^53,
// every kColumnBlockRows rows, as the double folds' exact row blocks do (rows that fit
// one block fold into acc one by one there: left to them). Returns false where it
// leaves the fold to the double lanes.
template <class Isa, class T, ReduceOp OP>
bool integer_fold_columns(const T* x, int64_t rows, int64_t row_stride, int64_t cols, double* acc) {
  using L = IntegerLanes<Isa, T, OP>;
  using E = typename L::E;
  constexpr int W = L::kWidth;
  constexpr int64_t kCols = kIntegerColumnBytes / int64_t(sizeof(E));
  int64_t block_rows = rows;
  if constexpr (L::kSum) {
    // Where acc plus every row's extreme stays within 2^53, every order of the steps is
    // exact: all rows fold into the lanes at once.
    const double room = 9007199254740992.0 - double(rows) * 2147483648.0;  // 2^53 - rows * 2^31
    bool exact = rows <= kExactSumRun;
    for (int64_t j = 0; j < cols && exact; ++j) exact = acc[j] >= -room && acc[j] <= room;
    if (!exact) {
      if (rows <= kColumnBlockRows) return false;
      block_rows = kColumnBlockRows;
    }
  }
  alignas(64) E lanes[kCols];
  for (int64_t j0 = 0; j0 < cols; j0 += kCols) {
    const int64_t n = cols - j0 < kCols ? cols - j0 : kCols, vector_cols = n / W * W;
    const T* base = x + j0;
    for (int64_t r0 = 0; r0 < rows; r0 += block_rows) {
      const int64_t r_end = rows - r0 < block_rows ? rows : r0 + block_rows;
      for (int64_t j = 0; j < n; ++j) lanes[j] = L::identity_element();
      int64_t r = r0;
      for (; r + 8 <= r_end; r += 8) {
        const T* x0 = base + r * row_stride;
        const T *x1 = x0 + row_stride, *x2 = x1 + row_stride, *x3 = x2 + row_stride;
        const T *x4 = x3 + row_stride, *x5 = x4 + row_stride, *x6 = x5 + row_stride, *x7 = x6 + row_stride;
        int64_t j = 0;
        for (; j < vector_cols; j += W) {
          const auto lo = L::fold(L::fold(L::load(x0 + j), L::load(x1 + j)), L::fold(L::load(x2 + j), L::load(x3 + j)));
          const auto hi = L::fold(L::fold(L::load(x4 + j), L::load(x5 + j)), L::fold(L::load(x6 + j), L::load(x7 + j)));
          L::store_lanes(lanes + j, L::fold(L::load_lanes(lanes + j), L::fold(lo, hi)));
        }
        for (; j < n; ++j) {
          E e = lanes[j];
          for (const T* row : {x0, x1, x2, x3, x4, x5, x6, x7}) e = L::fold(e, E(row[j]));
          lanes[j] = e;
        }
      }
      for (; r < r_end; ++r) {
        const T* row = base + r * row_stride;
        int64_t j = 0;
        for (; j < vector_cols; j += W) L::store_lanes(lanes + j, L::fold(L::load_lanes(lanes + j), L::load(row + j)));
        for (; j < n; ++j) lanes[j] = L::fold(lanes[j], E(row[j]));
      }
      for (int64_t j = 0; j < n; ++j) acc[j0 + j] = reduce_fold(OP, acc[j0 + j], L::value(lanes[j]));
    }
  }
  return true;
}

// The vector a run's fold uses: doubles (the js backend computes in double), except for
// max/min of float32, which compare in float lanes: exact (float compares order as their
// widened doubles do), and twice the lanes per instruction with no widening: in double
// lanes a float max fold took 1.3-1.4x the time of the sum fold (g++ harness, [4096, 4096]
// float32 over axis -1, one thread, CPU time: 2.6-3.2 ms against 1.8-2.1), in float lanes
// 1.9-2.2 ms; in the addon (one thread) 2.5 -> 2.0 ms, sum 1.8-1.9.
template <class Isa, class T, ReduceOp OP>
using RunVec = typename Isa::template Vec<
    std::conditional_t<std::is_same_v<T, float> && (OP == ReduceOp::Max || OP == ReduceOp::Min), float, double>>;

// out[k] = fold of x[k * run_step + i * stride], i < n, for k < count: the runs of many
// outputs in one call, so that short runs cost no call each. Contiguous runs prefetch
// up to the end of the last one (across runs: rows of a matrix follow each other).
template <class Isa, class T, ReduceOp OP>
void fold_runs(const void* x_data, int64_t count, int64_t run_step, int64_t n, int64_t stride, double* out) {
  const T* x = static_cast<const T*>(x_data);
  if constexpr (kIntegerFold<T, OP>) {
    if (stride == 1 && n >= 1 && (!IntegerLanes<Isa, T, OP>::kSum || n <= kExactSumRun)) {
      const T* end = x + (count - 1) * run_step + n;
      for (int64_t k = 0; k < count; ++k) out[k] = integer_fold_run<Isa, T, OP>(x + k * run_step, n, end);
      return;
    }
  }
  if constexpr (kVectorizable<T, OP>) {
    using V = RunVec<Isa, T, OP>;
    // Runs shorter than a vector skip the vector setup and the lane fold.
    if (stride == 1 && n >= V::kWidth) {
      const T* end = x + (count - 1) * run_step + n;
      for (int64_t k = 0; k < count; ++k) out[k] = fold_lanes<VectorLanes<V, T, OP>, T, OP>(x + k * run_step, n, 1, end);
      return;
    }
  }
  for (int64_t k = 0; k < count; ++k) {
    out[k] = fold_lanes<ScalarLanes<Isa, T, OP>, T, OP>(x + k * run_step, n, stride, nullptr);
  }
}

// Bytes the column fold prefetches ahead in each row: eight streams of at most one
// column block (4 KiB of float32, a page) each start cold for the hardware prefetcher.
// Measured on [4096, 4096] float32 over axis 0 (since folded by quarters) against
// prefetching the next eight rows whole (the previous scheme) and column blocks of 4096:
// 1 KiB ahead in the same rows was fastest. Rechecked with the page kicks of the
// contiguous folds: 512 B-3 KiB ahead within noise, 4 KiB 1.2x the time; kicking each
// row's pages instead, 1.1-1.2x; folding 1, 2, 4 or 16 rows per pass instead of 8
// (fewer streams, or more): 1.0-2.3x.
constexpr int64_t kColumnPrefetchBytes = 1024;

// into[j] = fold(into[j], fold(fold(x0[j], x1[j]), fold(x2[j], x3[j]))) for j < cols, where
// x1, x2, x3 are `stride` elements apart from the row before: four rows as a tree of depth 2.
template <class L, class V, ReduceOp OP, class T>
inline void fold_four_rows(const T* x0, int64_t stride, int64_t cols, double* into) {
  const T *x1 = x0 + stride, *x2 = x1 + stride, *x3 = x2 + stride;
  int64_t j = 0;
  for (; j + L::kWidth <= cols; j += L::kWidth) {
    const auto four = L::fold(L::fold(L::load(x0 + j, 1), L::load(x1 + j, 1)),
                              L::fold(L::load(x2 + j, 1), L::load(x3 + j, 1)));
    V::storeu(into + j, L::fold(V::loadu(into + j), four));
  }
  for (; j < cols; ++j) {
    const double four = reduce_fold(OP, reduce_fold(OP, double(x0[j]), double(x1[j])),
                                    reduce_fold(OP, double(x2[j]), double(x3[j])));
    into[j] = reduce_fold(OP, into[j], four);
  }
}

// into[j] = fold(into[j], rows r < count of x[r * row_stride + j * col_stride]);
// eight rows are folded together per step (a tree of depth 3), so `into` is loaded and
// stored once per eight rows; each row is prefetched kColumnPrefetchBytes ahead, and
// near the end of the rows, the next eight rows' beginnings, also when those are
// among the `rows_after` rows that follow x's `count` (the caller's next block).
template <class Isa, class T, ReduceOp OP>
void fold_rows_into(const T* x, int64_t count, int64_t row_stride, int64_t cols, int64_t col_stride, double* into,
                    int64_t rows_after) {
  int64_t r = 0;
  if constexpr (kVectorizable<T, OP>) {
    if (col_stride == 1) {
      using L = VectorLanes<typename Isa::template Vec<double>, T, OP>;
      using V = typename Isa::template Vec<double>;
      constexpr int W = L::kWidth;
      for (; r + 8 <= count; r += 8) {
        const T* x0 = x + r * row_stride;
        const T *x1 = x0 + row_stride, *x2 = x1 + row_stride, *x3 = x2 + row_stride;
        const T *x4 = x3 + row_stride, *x5 = x4 + row_stride, *x6 = x5 + row_stride, *x7 = x6 + row_stride;
        int64_t j = 0;
        constexpr int64_t kAhead = kColumnPrefetchBytes / int64_t(sizeof(T));
        const bool next_group = r + 16 <= count + rows_after;
        for (; j + W <= cols; j += W) {
          if ((j * int64_t(sizeof(T))) % 64 == 0) {  // one prefetch per line
            const int64_t ahead = j + kAhead;
            if (ahead < cols) {
              for (int k = 0; k < 8; ++k) __builtin_prefetch(x0 + k * row_stride + ahead);
            } else if (next_group && ahead - cols < cols) {
              for (int k = 0; k < 8; ++k) __builtin_prefetch(x0 + (8 + k) * row_stride + (ahead - cols));
            }
          }
          const auto lo = L::fold(L::fold(L::load(x0 + j, 1), L::load(x1 + j, 1)),
                                  L::fold(L::load(x2 + j, 1), L::load(x3 + j, 1)));
          const auto hi = L::fold(L::fold(L::load(x4 + j, 1), L::load(x5 + j, 1)),
                                  L::fold(L::load(x6 + j, 1), L::load(x7 + j, 1)));
          V::storeu(into + j, L::fold(V::loadu(into + j), L::fold(lo, hi)));
        }
        for (; j < cols; ++j) {
          double rows = reduce_identity(OP);
          for (const T* row : {x0, x1, x2, x3, x4, x5, x6, x7}) rows = reduce_fold(OP, rows, double(row[j]));
          into[j] = reduce_fold(OP, into[j], rows);
        }
      }
      for (; r + 4 <= count; r += 4) fold_four_rows<L, V, OP>(x + r * row_stride, row_stride, cols, into);
    }
  }
  for (; r < count; ++r) {
    const T* row = x + r * row_stride;
    for (int64_t j = 0; j < cols; ++j) into[j] = reduce_fold(OP, into[j], double(row[j * col_stride]));
  }
}

template <class Isa, class T, ReduceOp OP>
void fold_columns(const void* x_data, int64_t rows, int64_t row_stride, int64_t cols, int64_t col_stride,
                  double* acc, double* block) {
  const T* x = static_cast<const T*>(x_data);
  if constexpr (kIntegerFold<T, OP>) {
    if (col_stride == 1 && integer_fold_columns<Isa, T, OP>(x, rows, row_stride, cols, acc)) return;
  }
  if (rows <= kColumnBlockRows) {
    fold_rows_into<Isa, T, OP>(x, rows, row_stride, cols, col_stride, acc, 0);
    return;
  }
  for (int64_t r = 0; r < rows; r += kColumnBlockRows) {
    for (int64_t j = 0; j < cols; ++j) block[j] = reduce_identity(OP);
    const int64_t count = rows - r < kColumnBlockRows ? rows - r : kColumnBlockRows;
    fold_rows_into<Isa, T, OP>(x + r * row_stride, count, row_stride, cols, col_stride, block, rows - r - count);
    for (int64_t j = 0; j < cols; ++j) acc[j] = reduce_fold(OP, acc[j], block[j]);
  }
}

// Rows per block of a quarters fold: each quarter's rows fold into the block this many at
// a time, then the block into acc.
constexpr int64_t kQuarterBlockRows = 32;

// acc[j] = fold(acc[j], rows r < rows of x[r * row_stride + j]), four rows a step (the
// driver's choice for rows that follow each other): row r of each quarter of the rows,
// folded as a tree of depth 2 into `block`, a row of accumulators that takes
// kQuarterBlockRows steps, then folds into acc; the last rows % 4 rows fold into acc one
// by one. Four streams that each run through their quarter in memory order, so they
// cross pages in order, which the hardware prefetcher follows without help.
// Sum over axis 0, float32, new/old time (old: 8 rows a step; one row a step in memory
// order for 32-128 columns). g++ harness, 1 thread, CPU time, interleaved medians:
// [4096, 4096] 0.75-0.96 (median 0.85), [16384, 1024] 0.82-0.88, [65536, 256] 0.71-0.92,
// [131072, 128] 0.84-0.93, [262144, 64] 0.63-0.72, [524288, 32] 0.48-0.54; max over
// [4096, 4096] 0.90-0.95. The addon (huge-page tensors, both builds in one node process,
// paired medians, 1 and 2 threads): [4096, 4096] 0.85-1.0, typically 0.9 (1.2x the time
// of sum(all), was 1.3-1.4x), [65536, 256] 0.71, [16384, 1024] 0.85, [262144, 64]
// 0.64-0.80. Not taken: [1048576, 16] 1.03 and [2097152, 8] 1.25 (each step waits on the
// previous step's stores of a few accumulators); 2 quarters (a block store per line
// read) 1.5x the time of sum(all); 8 quarters 1.1-1.13x; 4 consecutive rows a step 1.75x;
// page kicks per stream 1.2-1.3x; 4096-column panels of wider rows 1.1-1.3x the time of
// 8 rows a step.
template <class Isa, class T, ReduceOp OP>
void fold_row_quarters(const void* x_data, int64_t rows, int64_t row_stride, int64_t cols, int64_t,
                       double* acc, double* block) {
  using V = typename Isa::template Vec<double>;
  using L = VectorLanes<V, T, OP>;
  constexpr int W = L::kWidth;
  const T* x = static_cast<const T*>(x_data);
  const int64_t quarter = rows / 4, quarter_stride = quarter * row_stride, vector_cols = cols / W * W;
  for (int64_t r0 = 0; r0 < quarter; r0 += kQuarterBlockRows) {
    const int64_t r_end = quarter - r0 < kQuarterBlockRows ? quarter : r0 + kQuarterBlockRows;
    for (int64_t j = 0; j < cols; ++j) block[j] = reduce_identity(OP);
    for (int64_t r = r0; r < r_end; ++r) fold_four_rows<L, V, OP>(x + r * row_stride, quarter_stride, cols, block);
    int64_t j = 0;
    for (; j < vector_cols; j += W) V::storeu(acc + j, L::fold(V::loadu(acc + j), V::loadu(block + j)));
    for (; j < cols; ++j) acc[j] = reduce_fold(OP, acc[j], block[j]);
  }
  for (int64_t r = 4 * quarter; r < rows; ++r) {
    const T* row = x + r * row_stride;
    int64_t j = 0;
    for (; j < vector_cols; j += W) V::storeu(acc + j, L::fold(V::loadu(acc + j), L::load(row + j, 1)));
    for (; j < cols; ++j) acc[j] = reduce_fold(OP, acc[j], double(row[j]));
  }
}

// argmax/argmin. Compares run in the element type (float and int32 widen to double
// exactly, so the order is the js backend's), on lanes as wide as the ISA's vector.
template <class T>
constexpr bool kArgVector = std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t>;

template <class Isa, class T>
struct ArgLanes {
  static constexpr int kBytes = int(sizeof(typename Isa::template Vec<float>::Reg));
  static constexpr int kWidth = kBytes / int(sizeof(T));
  static constexpr bool kHasNaN = !std::is_integral_v<T>;
  // Indices as wide as the elements, so a compare's mask selects them directly.
  using IndexElement = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;
  typedef T Value __attribute__((vector_size(kBytes)));
  typedef IndexElement Index __attribute__((vector_size(kBytes)));
  static Value load(const T* p) {
    Value v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static Value splat(T v) { return Value{} + v; }
  // The value no element is beyond: every element ties or beats it.
  template <bool MIN>
  static constexpr T farthest() {
    if constexpr (kHasNaN) return MIN ? __builtin_inf() : -__builtin_inf();
    else return MIN ? std::numeric_limits<T>::max() : std::numeric_limits<T>::lowest();
  }
  // The js step per lane: v replaces best when it is more extreme or NaN, unless best
  // is NaN already (the first NaN wins outright; its lane keeps it).
  template <bool MIN>
  static auto takes(Value v, Value best) {
    if constexpr (std::is_same_v<T, int32_t>) return MIN ? v < best : v > best;
    else if constexpr (MIN) return ~(v >= best) & (best == best);
    else return ~(v <= best) & (best == best);
  }
  // The more extreme of v and acc per lane, acc where v is NaN (one vmaxps/vminps):
  // NaN are looked for apart (a lane's sum of its elements is NaN when one is).
  template <bool MIN>
  static Value extreme(Value v, Value acc) {
    return (MIN ? v < acc : v > acc) ? v : acc;
  }
  // The lanes a compare set, bit l for lane l: one movemask where the ISA has it (each
  // ISA's translation unit sees its own flags), else lane by lane. An OR of the mask's
  // words instead (a dozen extracts) made the run pass 1.2x the time from memory.
  static uint32_t lane_bits(Index mask) {
    [[maybe_unused]] constexpr bool kWide = sizeof(T) == 8;
#if defined(__AVX512DQ__)
    if constexpr (kBytes == 64 && kWide) return _mm512_movepi64_mask(__m512i(mask));
    if constexpr (kBytes == 64 && !kWide) return _mm512_movepi32_mask(__m512i(mask));
#endif
#if defined(__AVX__)
    if constexpr (kBytes == 32 && kWide) return uint32_t(_mm256_movemask_pd(__m256d(mask)));
    if constexpr (kBytes == 32 && !kWide) return uint32_t(_mm256_movemask_ps(__m256(mask)));
#endif
#if defined(__SSE2__)
    if constexpr (kBytes == 16 && kWide) return uint32_t(_mm_movemask_pd(__m128d(mask)));
    if constexpr (kBytes == 16 && !kWide) return uint32_t(_mm_movemask_ps(__m128(mask)));
#endif
    uint32_t bits = 0;
    for (int l = 0; l < kWidth; ++l) bits |= uint32_t(mask[l] != 0) << l;
    return bits;
  }
};

// The same step on one element. Static, as reduce_fold: each ISA's copy stays its own.
template <bool MIN>
static inline bool arg_takes(double v, double best) {
  return (MIN ? !(v >= best) : !(v <= best)) && best == best;
}

// Elements per block of a run: each block's extreme (and whether it holds a NaN) is
// folded without indices, and only the block that holds the run's pick is read again.
// g++ harness, [4096, 4096] float32 over axis -1, one thread, CPU time against the max
// fold in the same process: blocks of 128 or 256 as fast as the max fold (2.2-2.3 ms),
// 1024 or 2048 1.07-1.14x it (the scan of a longer block again stalls the stream); the
// index-blending loop before took 2.6-2.9 ms. In L2 (32 rows): 0.006 ms against 0.015.
constexpr int64_t kArgBlock = 256;

// One run of n >= 1 elements: the js pick as extreme-then-index. Per block, four chains
// of lanes fold the extreme (vmaxps: no index blends, no compare chain) and the lanes'
// sums; a NaN sum sends the block to a scan for its first NaN, which is the run's pick
// (no block before held one). A block whose extreme beats the extreme so far (strictly:
// the first wins ties) becomes the block to read again; the pick is the first element
// in it equal to the extreme. Vectors past the last whole one overlap those before it.
template <class Isa, class T, bool MIN>
ArgPartial arg_run(const T* x, int64_t n, const T* prefetch_end) {
  if constexpr (kArgVector<T>) {
    using L = ArgLanes<Isa, T>;
    using Value = typename L::Value;
    constexpr int W = L::kWidth;
    if (n >= W) {
      const Value far = L::splat(L::template farthest<MIN>());
      Value best = far;
      // Every element ties `far` when no block beats it: the pick is then the first.
      int64_t best_lo = 0, best_hi = std::min(n, kArgBlock);
      for (int64_t b = 0; b < n; b += kArgBlock) {
        const int64_t hi = std::min(n, b + kArgBlock), lo = std::min(b, hi - W);
        Value e0 = far, e1 = far, e2 = far, e3 = far, s0{}, s1{}, s2{}, s3{};
        int64_t i = lo;
        for (; i + 4 * W <= hi; i += 4 * W) {
          kick_page_ahead(x + i, 4 * L::kBytes, reinterpret_cast<const char*>(prefetch_end));
          const Value v0 = L::load(x + i), v1 = L::load(x + i + W), v2 = L::load(x + i + 2 * W),
                      v3 = L::load(x + i + 3 * W);
          e0 = L::template extreme<MIN>(v0, e0), e1 = L::template extreme<MIN>(v1, e1);
          e2 = L::template extreme<MIN>(v2, e2), e3 = L::template extreme<MIN>(v3, e3);
          if constexpr (L::kHasNaN) s0 += v0, s1 += v1, s2 += v2, s3 += v3;
        }
        for (; i < hi; i += W) {
          const Value v = L::load(x + (i + W <= hi ? i : hi - W));
          e0 = L::template extreme<MIN>(v, e0);
          if constexpr (L::kHasNaN) s0 += v;
        }
        if constexpr (L::kHasNaN) {
          s0 = (s0 + s1) + (s2 + s3);
          if (L::lane_bits(s0 != s0)) {
            for (int64_t k = lo; k < hi; ++k) {
              if (x[k] != x[k]) return {double(x[k]), k};
            }
          }
        }
        e0 = L::template extreme<MIN>(L::template extreme<MIN>(e0, e1), L::template extreme<MIN>(e2, e3));
        if (L::lane_bits(MIN ? e0 < best : e0 > best)) {
          T m = e0[0];
          for (int l = 1; l < W; ++l) m = MIN ? (e0[l] < m ? e0[l] : m) : (e0[l] > m ? e0[l] : m);
          best = L::splat(m), best_lo = lo, best_hi = hi;
        }
      }
      for (int64_t i = best_lo;; i += W) {
        const int64_t at = i + W <= best_hi ? i : best_hi - W;
        const uint32_t equal = L::lane_bits(L::load(x + at) == best);
        if (equal) return {double(best[0]), at + __builtin_ctz(equal)};
      }
    }
  }
  ArgPartial r{double(x[0]), 0};
  for (int64_t i = 1; i < n; ++i) {
    if (arg_takes<MIN>(double(x[i]), r.value)) r = {double(x[i]), i};
  }
  return r;
}

template <class Isa, class T, bool MIN>
void arg_runs(const void* x_data, int64_t count, int64_t run_step, int64_t n, ArgPartial* out) {
  const T* x = static_cast<const T*>(x_data);
  // Pages are prefetched up to the end of the last run (rows follow each other), as the folds do.
  const T* end = x + (count - 1) * run_step + n;
  for (int64_t k = 0; k < count; ++k) out[k] = arg_run<Isa, T, MIN>(x + k * run_step, n, end);
}

// Columns whose running extremes and indices one pass over the rows keeps (in L1:
// 8 KiB of float32 state, 16 KiB of float64).
constexpr int64_t kArgColumnBlock = 1024;
// Rows per group of the column pass: per vector of columns the group's extreme (and sum,
// for NaN) is folded without indices, the group's first row holding it found by compares,
// and the pick moves to it where it beats the pick so far (strictly: the first wins ties);
// a group holding a NaN takes the js step row by row. No branch on the data otherwise:
// taking the js step for every group that changed a pick (13% of the groups of a 16-lane
// vector over 4096 random rows, 38% over 1024) made [1024, 2048] 1.5-1.8x the time of
// the row-by-row step before. g++ harness, one thread, CPU time against that step:
// [4096, 4096] float32 over axis 0 0.75-0.94x from memory, [2048, 64] (in L2) 0.35x;
// groups of 4, blocks of 2048 columns, 2 groups ahead within noise; prefetching 0.5-4 KiB
// ahead in the same rows instead, or not at all, 1.05-2x the time.
constexpr int64_t kArgColumnGroup = 8;
// Groups ahead at which the column pass prefetches its block of a row: each row's block
// is a short stream (a page or less) that the hardware prefetcher starts cold on.
constexpr int64_t kArgPrefetchGroups = 1;

// Each column's running pick is the js step over its rows in order, lanes side by side,
// taken a group of rows at a time (kArgColumnGroup).
template <class Isa, class T, bool MIN>
void arg_columns(const void* x_data, int64_t rows, int64_t row_stride, int64_t cols, int32_t* out) {
  const T* x = static_cast<const T*>(x_data);
  for (int64_t j0 = 0; j0 < cols; j0 += kArgColumnBlock) {
    const int64_t n = cols - j0 < kArgColumnBlock ? cols - j0 : kArgColumnBlock;
    const T* base = x + j0;
    int64_t vector_cols = 0;
    if constexpr (kArgVector<T>) {
      using L = ArgLanes<Isa, T>;
      using Value = typename L::Value;
      using Index = typename L::Index;
      using IndexElement = typename L::IndexElement;
      constexpr int W = L::kWidth;
      constexpr int64_t G = kArgColumnGroup;
      const int64_t vectors = n / W;
      vector_cols = vectors * W;
      Value best[kArgColumnBlock / W];
      Index index[kArgColumnBlock / W];
      for (int64_t v = 0; v < vectors; ++v) {
        best[v] = L::load(base + v * W);
        index[v] = Index{};
      }
      // The js step for the vector v of columns over rows [r, end).
      auto steps = [&](int64_t v, int64_t r, int64_t end) {
        for (; r < end; ++r) {
          const Value value = L::load(base + r * row_stride + v * W);
          const auto take = L::template takes<MIN>(value, best[v]);
          best[v] = take ? value : best[v];
          index[v] = take ? Index{} + IndexElement(r) : index[v];
        }
      };
      int64_t r = 1;
      for (; r + G <= rows; r += G) {
        const T* group = base + r * row_stride;
        const int64_t ahead = r + (kArgPrefetchGroups + 1) * G <= rows ? kArgPrefetchGroups * G * row_stride : 0;
        for (int64_t v = 0; v < vectors; ++v) {
          const T* at = group + v * W;
          if (ahead && (v * L::kBytes) % 64 == 0) {
            for (int64_t g = 0; g < G; ++g) __builtin_prefetch(at + ahead + g * row_stride);
          }
          Value value[G];
          for (int64_t g = 0; g < G; ++g) value[g] = L::load(at + g * row_stride);
          Value e = value[0], sum = value[0];
          for (int64_t g = 1; g < G; ++g) {
            e = L::template extreme<MIN>(value[g], e);
            if constexpr (L::kHasNaN) sum += value[g];
          }
          if constexpr (L::kHasNaN) {
            if (L::lane_bits(sum != sum)) {
              steps(v, r, r + G);
              continue;
            }
          }
          // The group's first row holding its extreme: the last row when no row before it does.
          Index first = Index{} + IndexElement(G - 1);
          for (int64_t g = G - 2; g >= 0; --g) first = value[g] == e ? Index{} + IndexElement(g) : first;
          const Index take = MIN ? e < best[v] : e > best[v];
          best[v] = take ? e : best[v];
          index[v] = take ? first + IndexElement(r) : index[v];
        }
      }
      for (int64_t v = 0; v < vectors; ++v) steps(v, r, rows);
      for (int64_t v = 0; v < vectors; ++v) {
        for (int l = 0; l < W; ++l) out[j0 + v * W + l] = int32_t(index[v][l]);
      }
    }
    // Columns past the last whole vector (all of them for bool): the same step, scalar.
    for (int64_t j = vector_cols; j < n; ++j) {
      double best = double(base[j]);
      int32_t index = 0;
      for (int64_t r = 1; r < rows; ++r) {
        const double v = double(base[r * row_stride + j]);
        if (arg_takes<MIN>(v, best)) {
          best = v;
          index = int32_t(r);
        }
      }
      out[j0 + j] = index;
    }
  }
}

// The pick order of ArgRowPicksFn on one element: (v, i) beats (best, index).
template <bool MIN>
static inline bool arg_pick_beats(double v, int64_t i, double best, int64_t index) {
  if (v != v) return best == best || i < index;
  return best == best && ((MIN ? v < best : v > best) || (v == best && i < index));
}

// Row picks as ArgRowPicksFn: four rows a step, one from each quarter of the rows, so the
// reads are four streams that cross pages in order (as fold_row_quarters: the hardware
// prefetcher follows them without help); per vector of columns the step's extreme, its
// first row by compares, and one pick update by the order (a NaN step takes the order row
// by row). The rows past the last whole quarter step one a step.
// Against arg_columns (8 consecutive rows a step, rows read as 4 KiB pieces), same node
// process, medians of CPU time, 1 thread: [4096, 4096] float32 0.82-0.88x on avx512 (as
// fast as max over axis 0, which reads the same way), 0.88x avx2, float64 [4096, 2048]
// 0.87x, int32 0.86x, [65536, 64] 0.7-0.8x, [16384, 1024] 1.03x; 2 threads level within
// the noise of a shared machine.
template <class Isa, class T, bool MIN>
void arg_row_picks(const void* x_data, int64_t rows, int64_t row_stride, int64_t cols, int64_t row0, void* picks) {
  const T* x = static_cast<const T*>(x_data);
  using IndexElement = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;
  T* best = static_cast<T*>(picks);
  IndexElement* index = reinterpret_cast<IndexElement*>(best + cols);
  const int64_t quarter = rows / 4;
  int64_t vector_cols = 0;
  if constexpr (kArgVector<T>) {
    using L = ArgLanes<Isa, T>;
    using Value = typename L::Value;
    using Index = typename L::Index;
    constexpr int W = L::kWidth;
    vector_cols = cols / W * W;
    // Every element ties `far` or beats it, and has a smaller index than `none`.
    const Value far = L::splat(L::template farthest<MIN>());
    const Index none = Index{} + std::numeric_limits<IndexElement>::max();
    for (int64_t j = 0; j < vector_cols; j += W) {
      std::memcpy(best + j, &far, sizeof(far));
      std::memcpy(index + j, &none, sizeof(none));
    }
    // The order on lanes: where (v, i) beats (b, k).
    auto beats = [](Value v, Index i, Value b, Index k) {
      const Index number = b == b, earlier = i < k;
      const Index beyond = MIN ? v < b : v > b;
      if constexpr (L::kHasNaN) return ((v != v) & (number | earlier)) | (number & (beyond | ((v == b) & earlier)));
      else return beyond | ((v == b) & earlier);
    };
    // Updates the picks of columns j.. with (v, i); kNumbers: no lane of v is NaN (a NaN
    // pick then keeps its lane by both compares).
    auto update = [&](auto numbers, int64_t j, Value v, Index i) {
      Value b = L::load(best + j);
      Index k;
      std::memcpy(&k, index + j, sizeof(k));
      Index take;
      if constexpr (decltype(numbers)::value) take = (MIN ? v < b : v > b) | ((v == b) & (i < k));
      else take = beats(v, i, b, k);
      b = take ? v : b, k = take ? i : k;
      std::memcpy(best + j, &b, sizeof(b));
      std::memcpy(index + j, &k, sizeof(k));
    };
    const int64_t quarter_stride = quarter * row_stride;
    for (int64_t r = 0; r < quarter; ++r) {
      const T* at = x + r * row_stride;
      const Index i0 = Index{} + IndexElement(row0 + r), i1 = i0 + IndexElement(quarter);
      const Index i2 = i1 + IndexElement(quarter), i3 = i2 + IndexElement(quarter);
      for (int64_t j = 0; j < vector_cols; j += W) {
        const Value v0 = L::load(at + j), v1 = L::load(at + quarter_stride + j);
        const Value v2 = L::load(at + 2 * quarter_stride + j), v3 = L::load(at + 3 * quarter_stride + j);
        if constexpr (L::kHasNaN) {
          const Value sum = (v0 + v1) + (v2 + v3);
          if (L::lane_bits(sum != sum)) {
            update(std::false_type{}, j, v0, i0), update(std::false_type{}, j, v1, i1);
            update(std::false_type{}, j, v2, i2), update(std::false_type{}, j, v3, i3);
            continue;
          }
        }
        const Value e = L::template extreme<MIN>(L::template extreme<MIN>(v0, v1), L::template extreme<MIN>(v2, v3));
        // Past a chunk's first rows most steps neither beat nor tie a pick (a tie counts: the
        // pick may lie in a later quarter than the tying row), and then nothing updates.
        if (!L::lane_bits(MIN ? e <= L::load(best + j) : e >= L::load(best + j))) continue;
        Index first = v2 == e ? i2 : i3;
        first = v1 == e ? i1 : first;
        first = v0 == e ? i0 : first;
        update(std::true_type{}, j, e, first);
      }
    }
    for (int64_t r = 4 * quarter; r < rows; ++r) {
      const Index i = Index{} + IndexElement(row0 + r);
      for (int64_t j = 0; j < vector_cols; j += W) update(std::false_type{}, j, L::load(x + r * row_stride + j), i);
    }
  }
  // Columns past the last whole vector: the js step down the column (its pick beats every
  // later row's element by the order, so it is the column's pick).
  for (int64_t j = vector_cols; j < cols; ++j) {
    double b = double(x[j]);
    int64_t k = 0;
    for (int64_t r = 1; r < rows; ++r) {
      const double v = double(x[r * row_stride + j]);
      if (arg_takes<MIN>(v, b)) b = v, k = r;
    }
    best[j] = T(b), index[j] = IndexElement(row0 + k);
  }
}

template <class Isa, class T, bool MIN>
void arg_merge_picks(const void* picks, int64_t count, int64_t cols, int32_t* out) {
  using IndexElement = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;
  const T* best = static_cast<const T*>(picks);
  const IndexElement* index = reinterpret_cast<const IndexElement*>(best + cols);
  for (int64_t j = 0; j < cols; ++j) {
    double b = double(best[j]);
    int64_t k = index[j];
    for (int64_t c = 1; c < count; ++c) {
      const T* other = best + c * 2 * cols;
      const IndexElement* other_index = index + c * 2 * cols;
      if (arg_pick_beats<MIN>(double(other[j]), other_index[j], b, k)) b = double(other[j]), k = other_index[j];
    }
    out[j] = int32_t(k);
  }
}

// Copies n elements from `from` (scratch in L1) to `to` by streaming stores where `to` is
// aligned to the vector: a scan's output past the last-level cache is then written without
// first being read (simd/streaming.h); the caller fences.
template <class Isa, class T>
void stream_out(T* to, const T* from, int64_t n) {
  using V = typename Isa::template Vec<T>;
  int64_t j = StreamingStores<V>::head(to, n);
  for (int64_t k = 0; k < j; ++k) to[k] = from[k];
  for (; j + V::kWidth <= n; j += V::kWidth) StreamingStores<V>::store(to + j, V::loadu(from + j));
  for (; j < n; ++j) to[j] = from[j];
}

// Two vectors of doubles rounded to floats, as one float vector of the ISA (W doubles per
// vector: 8 avx512, 4 avx2, 2 portable). Fixed sizes per W: __builtin_shufflevector takes
// no vector types of dependent size.
template <class Isa, int W> struct NarrowPair;
template <class Isa> struct NarrowPair<Isa, 8> {
  typedef double D __attribute__((vector_size(64)));
  typedef float F __attribute__((vector_size(32)));
  static auto of(D a, D b) {
    return __builtin_shufflevector(__builtin_convertvector(a, F), __builtin_convertvector(b, F), 0, 1, 2, 3, 4, 5, 6, 7,
                                   8, 9, 10, 11, 12, 13, 14, 15);
  }
};
template <class Isa> struct NarrowPair<Isa, 4> {
  typedef double D __attribute__((vector_size(32)));
  typedef float F __attribute__((vector_size(16)));
  static auto of(D a, D b) {
    return __builtin_shufflevector(__builtin_convertvector(a, F), __builtin_convertvector(b, F), 0, 1, 2, 3, 4, 5, 6, 7);
  }
};
template <class Isa> struct NarrowPair<Isa, 2> {
  typedef double D __attribute__((vector_size(16)));
  typedef float F __attribute__((vector_size(8)));
  static auto of(D a, D b) {
    return __builtin_shufflevector(__builtin_convertvector(a, F), __builtin_convertvector(b, F), 0, 1, 2, 3);
  }
};

// Columns of kScanRows rows (reduction.h: one double lane each, two chains of avx512
// vectors, four of avx2, so the adds of a step overlap) a scan over rows transposes into
// L1 scratch at a time (a column per row), scans there one vector of rows a step, and
// transposes back.
constexpr int64_t kScanRowChunk = 64;
// Columns ahead of a chunk whose lines are prefetched: 16 rows read 256 bytes at a time are
// more streams than the hardware prefetcher follows well (3-5% less CPU time on
// [4096, 4096] float32).
constexpr int64_t kScanRowAhead = 2 * kScanRowChunk;

// cumsum/cumprod over rows on ISAs without register transposes (portable): eight rows a
// step in scalar code, so eight chains of double adds overlap. `stream`: the output by
// streaming stores, a chunk of each row at a time. (The transposed form below, its
// transposes element by element, took 1.8x the CPU time.)
template <class Isa, class T, bool PROD>
void scan_rows_scalar(const void* x_data, int64_t rows, int64_t row_stride, int64_t n, void* out_data, int64_t out_row_stride,
               bool stream) {
  const T* x = static_cast<const T*>(x_data);
  T* out = static_cast<T*>(out_data);
  constexpr int kRows = 8;
  constexpr int64_t kChunk = 256;  // elements of each row computed into scratch before streaming
  alignas(64) T stage[kRows][kChunk];
  for (int64_t r = 0; r < rows; r += kRows) {
    const int q_count = rows - r < kRows ? int(rows - r) : kRows;
    double acc[kRows];
    for (int q = 0; q < kRows; ++q) acc[q] = PROD ? 1.0 : 0.0;
    const T* in = x + r * row_stride;
    T* o = out + r * out_row_stride;
    for (int64_t k0 = 0; k0 < n; k0 += kChunk) {
      const int64_t len = n - k0 < kChunk ? n - k0 : kChunk;
      // Where to write element k of row q: the output, or the scratch chunk.
      T* to = stream ? &stage[0][0] - k0 : o;
      const int64_t to_stride = stream ? kChunk : out_row_stride;
      if (q_count == kRows) {
        for (int64_t k = k0; k < k0 + len; ++k) {
          for (int q = 0; q < kRows; ++q) {
            const double v = double(in[q * row_stride + k]);
            acc[q] = PROD ? acc[q] * v : acc[q] + v;
            to[q * to_stride + k] = T(acc[q]);
          }
        }
      } else {
        for (int q = 0; q < q_count; ++q) {
          for (int64_t k = k0; k < k0 + len; ++k) {
            const double v = double(in[q * row_stride + k]);
            acc[q] = PROD ? acc[q] * v : acc[q] + v;
            to[q * to_stride + k] = T(acc[q]);
          }
        }
      }
      if (stream) {
        for (int q = 0; q < q_count; ++q) stream_out<Isa>(o + q * out_row_stride + k0, stage[q], len);
      }
    }
  }
  if (stream) StreamingStores<typename Isa::template Vec<T>>::fence();
}

// One column tile of a scan over rows: kSide columns of `rows` rows (all of them: kFull)
// transposed into registers, scanned in `acc` (the tile's chains), transposed back to `to`.
template <class Isa, class T, bool PROD, bool kFull>
void scan_tile(const T* in, int64_t row_stride, int rows, T* to, int64_t out_row_stride, bool stream,
               typename Isa::template Vec<double>::Reg* acc) {
  using Tile = transpose_detail::ColumnTile<Isa, T>;
  using V = typename Isa::template Vec<double>;
  constexpr int K = Tile::kSide;
  auto fold = [](typename V::Reg a, typename V::Reg v) { return PROD ? V::mul(a, v) : V::add(a, v); };
  typename Tile::Reg c[K];
  const int count = kFull ? K : rows;  // a constant for full tiles: their loops unroll
  Tile::load_columns(in, row_stride, c, count);
  // The chains in locals: through the pointer each step would wait on a store and a load.
  typename V::Reg a0 = acc[0], a1 = std::is_same_v<T, float> ? acc[1] : acc[0];
  for (int k = 0; k < K; ++k) {
    if constexpr (std::is_same_v<T, float>) {
      // The tile's rows 0..7 and 8..15 in two chains of doubles.
      typename V::Reg low, high;
      V::widen(c[k], &low, &high);
      a0 = fold(a0, low);
      a1 = fold(a1, high);
      c[k] = NarrowPair<Isa, V::kWidth>::of(a0, a1);
    } else {
      a0 = fold(a0, c[k]);
      c[k] = a0;
    }
  }
  acc[0] = a0;
  if constexpr (std::is_same_v<T, float>) acc[1] = a1;
  if (stream) Tile::template store_rows<true>(c, to, out_row_stride, count);
  else Tile::template store_rows<false>(c, to, out_row_stride, count);
}

// The whole column tiles of a group of q_count <= kScanRows rows (transpose_detail::ColumnTile):
// each tile's columns are scanned in the registers its transpose leaves them in, and transposed
// back to the output, with no trip through L1 scratch between the steps ([4096, 4096] float32
// on avx512: the scratch's stores and loads were a third of the kernel's time; a partial group,
// its tiles transposed element by element there, took 2x this). Lanes past the group's rows
// scan zeros and are not stored. The same steps on the same lanes as scan_rows' chunks, so the
// same values. Returns the columns done; `acc` goes on to the rest.
template <class Isa, class T, bool PROD, bool kFullGroup>
int64_t scan_column_tiles(const T* in, int64_t row_stride, int64_t group_rows, T* o, int64_t out_row_stride, int64_t n,
                          bool stream, typename Isa::template Vec<double>::Reg* acc) {
  constexpr int K = transpose_detail::ColumnTile<Isa, T>::kSide;
  // A full group's counts as constants (its loops unrolled: 5-10% of the [4096, 4096] time).
  const int64_t q_count = kFullGroup ? kScanRows : group_rows;
  if constexpr (K > 0) {
    constexpr int kTiles = int(kScanRows) / K, kTileChains = std::is_same_v<T, float> ? 2 : 1;
    const int64_t whole = n - n % K;
    for (int64_t k0 = 0; k0 < whole; k0 += K) {
      if (k0 + kScanRowAhead < n) {
        for (int64_t q = 0; q < q_count; ++q) __builtin_prefetch(in + q * row_stride + k0 + kScanRowAhead);
      }
      for (int t = 0; t < kTiles && t * K < q_count; ++t) {
        const T* from = in + t * K * row_stride + k0;
        T* to = o + t * K * out_row_stride + k0;
        const int rows = int(std::min<int64_t>(K, q_count - t * K));
        if (rows == K) scan_tile<Isa, T, PROD, true>(from, row_stride, K, to, out_row_stride, stream, acc + t * kTileChains);
        else scan_tile<Isa, T, PROD, false>(from, row_stride, rows, to, out_row_stride, stream, acc + t * kTileChains);
      }
    }
    return whole;
  } else {
    (void)in, (void)row_stride, (void)q_count, (void)o, (void)out_row_stride, (void)n, (void)stream, (void)acc;
    return 0;
  }
}

// Groups of up to this many rows scan in scalar code, each row's adds waiting on the one
// before (4 cycles an element): kScanRows lanes of vectors and their transposes cost more
// per row there ([1, 4096] float32: 18-21 us vectorized).
constexpr int64_t kScalarScanRows = 2;

// cumsum/cumprod over rows: kScanRows rows at a time (one row's scan waits on each add, so
// the rows' chains run side by side in vector lanes). `stream`: the output by streaming
// stores, straight from the tiles where rows start on lines, else through stage rows. (Eight
// rows interleaved in scalar code took 4 cycles an element, bound by its instructions: on
// [4096, 4096] float32 this takes 0.6x its CPU time, one thread or two.)
template <class Isa, class T, bool PROD>
void scan_rows(const void* x_data, int64_t rows, int64_t row_stride, int64_t n, void* out_data, int64_t out_row_stride,
               bool stream) {
  if constexpr (transpose_detail::micro_side<Isa>(sizeof(T)) == 0) {
    scan_rows_scalar<Isa, T, PROD>(x_data, rows, row_stride, n, out_data, out_row_stride, stream);
  } else {
    using transpose_detail::transpose_block;
    using V = typename Isa::template Vec<double>;
    using VT = typename Isa::template Vec<T>;
    constexpr int W = V::kWidth, kChains = int(kScanRows) / W;
    const T* x = static_cast<const T*>(x_data);
    T* out = static_cast<T*>(out_data);
    auto fold = [](typename V::Reg acc, typename V::Reg v) { return PROD ? V::mul(acc, v) : V::add(acc, v); };
    alignas(64) T columns[kScanRowChunk][kScanRows];  // element k of row q at [k][q]
    alignas(64) T stage[kScanRows][kScanRowChunk];
    // Streaming stores straight from the scratch columns where each tile row is a whole line
    // (avx512) and every output row starts on one; else through stage rows streamed out.
    constexpr int64_t kTile = transpose_detail::micro_side<Isa>(sizeof(T));
    constexpr bool kTileLines = kTile * int64_t(sizeof(T)) >= 64;
    const bool stream_tiles = kTileLines && stream && reinterpret_cast<uintptr_t>(out) % 64 == 0 &&
                              out_row_stride * int64_t(sizeof(T)) % 64 == 0;
    for (int64_t r = 0; r < rows; r += kScanRows) {
      const int64_t q_count = rows - r < kScanRows ? rows - r : kScanRows;
      const T* in = x + r * row_stride;
      T* o = out + r * out_row_stride;
      if (q_count <= kScalarScanRows) {
        scan_rows_scalar<Isa, T, PROD>(in, q_count, row_stride, n, o, out_row_stride, stream);
        continue;
      }
      // Lanes past the last row scan zeros (never written out).
      if (q_count < kScanRows) std::memset(columns, 0, sizeof columns);
      typename V::Reg acc[kChains];
      for (int v = 0; v < kChains; ++v) acc[v] = V::set1(PROD ? 1.0 : 0.0);
      // Whole tiles in registers (streamed only where every tile row is a whole, aligned
      // line), the rest through the scratch columns.
      int64_t tiled = 0;
      if (!stream || stream_tiles) {
        tiled = q_count == kScanRows
                    ? scan_column_tiles<Isa, T, PROD, true>(in, row_stride, q_count, o, out_row_stride, n, stream, acc)
                    : scan_column_tiles<Isa, T, PROD, false>(in, row_stride, q_count, o, out_row_stride, n, stream, acc);
      }
      for (int64_t k0 = tiled; k0 < n; k0 += kScanRowChunk) {
        const int64_t len = n - k0 < kScanRowChunk ? n - k0 : kScanRowChunk;
        if (k0 + kScanRowAhead < n) {
          for (int64_t q = 0; q < q_count; ++q) {
            for (int64_t b = 0; b < kScanRowChunk * int64_t(sizeof(T)); b += 64) {
              __builtin_prefetch(reinterpret_cast<const char*>(in + q * row_stride + k0 + kScanRowAhead) + b);
            }
          }
        }
        transpose_block<Isa, T>(in + k0, row_stride, &columns[0][0], kScanRows, q_count, len, false);
        for (int64_t k = 0; k < len; ++k) {
          T* c = columns[k];
          if constexpr (std::is_same_v<T, float>) {
            for (int v = 0; v < kChains; v += 2) {
              acc[v] = fold(acc[v], V::load_float(c + v * W));
              acc[v + 1] = fold(acc[v + 1], V::load_float(c + (v + 1) * W));
              VT::storeu(c + v * W, NarrowPair<Isa, W>::of(acc[v], acc[v + 1]));
            }
          } else {
            for (int v = 0; v < kChains; ++v) {
              acc[v] = fold(acc[v], V::loadu(c + v * W));
              V::storeu(c + v * W, acc[v]);
            }
          }
        }
        if (stream_tiles) {
          if constexpr (kTileLines) {
            // Whole tiles by streaming stores, the edges (a partial group or chunk) plainly.
            const int64_t whole_k = len - len % kTile, whole_q = q_count - q_count % kTile;
            transpose_detail::transpose_micro_tiles<Isa, T, true>(&columns[0][0], kScanRows, o + k0, out_row_stride,
                                                                  whole_k, whole_q);
            transpose_detail::transpose_plain<Isa>(&columns[0][whole_q], kScanRows, o + k0 + whole_q * out_row_stride,
                                                   out_row_stride, whole_k, q_count - whole_q);
            transpose_detail::transpose_plain<Isa>(columns[whole_k], kScanRows, o + k0 + whole_k, out_row_stride,
                                                   len - whole_k, q_count);
          }
        } else if (stream) {
          transpose_block<Isa, T>(&columns[0][0], kScanRows, &stage[0][0], kScanRowChunk, len, q_count, false);
          for (int64_t q = 0; q < q_count; ++q) stream_out<Isa>(o + q * out_row_stride + k0, stage[q], len);
        } else {
          transpose_block<Isa, T>(&columns[0][0], kScanRows, o + k0, out_row_stride, len, q_count, false);
        }
      }
    }
    if (stream) StreamingStores<VT>::fence();
  }
}

// Columns whose running doubles one pass over the rows keeps (32 KiB). Rows are read and
// written in runs of up to this many columns, each a new stream for the hardware
// prefetcher: on [4096, 4096] float32 (one thread, streaming stores) blocks of 2048
// columns took 1.55x the time of whole rows, the stores through scratch 1.6-1.9x.
constexpr int64_t kScanColumnBlock = 4096;
// Rows ahead whose lines a scan over columns prefetches, one per vector step: runs of a
// block's columns, split over threads, are short streams the hardware prefetcher starts
// cold on each page.
constexpr int64_t kScanColumnAheadRows = 4;

// cumsum/cumprod over columns: row by row, a double running value per column in vector
// lanes, one output vector a step (two double vectors rounded, for float32). `stream`:
// by streaming stores from each row's first vector-aligned element.
template <class Isa, class T, bool PROD>
void scan_columns(const void* x_data, int64_t rows, int64_t row_stride, int64_t cols, void* out_data,
                  int64_t out_row_stride, bool stream) {
  using V = typename Isa::template Vec<double>;
  using VT = typename Isa::template Vec<T>;
  constexpr int W = V::kWidth, WT = VT::kWidth;
  const T* x = static_cast<const T*>(x_data);
  T* out = static_cast<T*>(out_data);
  auto fold = [](typename V::Reg acc, typename V::Reg v) { return PROD ? V::mul(acc, v) : V::add(acc, v); };
  alignas(64) double acc[kScanColumnBlock];
  for (int64_t j0 = 0; j0 < cols; j0 += kScanColumnBlock) {
    const int64_t n = cols - j0 < kScanColumnBlock ? cols - j0 : kScanColumnBlock;
    for (int64_t j = 0; j < n; ++j) acc[j] = PROD ? 1.0 : 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      const T* in = x + r * row_stride + j0;
      T* o = out + r * out_row_stride + j0;
      const T* ahead = r + kScanColumnAheadRows < rows ? in + kScanColumnAheadRows * row_stride : in;
      auto scalar = [&](int64_t j) {
        acc[j] = PROD ? acc[j] * double(in[j]) : acc[j] + double(in[j]);
        o[j] = T(acc[j]);
      };
      const int64_t head = stream ? StreamingStores<VT>::head(o, n) : 0;
      int64_t j = 0;
      for (; j < head; ++j) scalar(j);
      for (; j + WT <= n; j += WT) {
        __builtin_prefetch(ahead + j);
        typename VT::Reg y;
        if constexpr (std::is_same_v<T, float>) {
          const typename V::Reg a0 = fold(V::loadu(acc + j), V::load_float(in + j));
          const typename V::Reg a1 = fold(V::loadu(acc + j + W), V::load_float(in + j + W));
          V::storeu(acc + j, a0);
          V::storeu(acc + j + W, a1);
          y = NarrowPair<Isa, W>::of(a0, a1);
        } else {
          y = fold(V::loadu(acc + j), V::loadu(in + j));
          V::storeu(acc + j, y);
        }
        if (stream) StreamingStores<VT>::store(o + j, y);
        else VT::storeu(o + j, y);
      }
      for (; j < n; ++j) scalar(j);
    }
  }
  if (stream) StreamingStores<VT>::fence();
}

// ---------------------------------------------------------------- moments

// Double lanes of float32 (widened on load) or float64 data.
template <class V, class T>
static inline typename V::Reg moments_load(const T* p) {
  if constexpr (std::is_same_v<T, float>) return V::load_float(p);
  else return V::loadu(p);
}

template <class V>
static inline double moments_lanes_sum(typename V::Reg r) {
  alignas(64) double v[V::kWidth];
  V::storeu(v, r);
  for (int width = V::kWidth / 2; width >= 1; width /= 2) {
    for (int i = 0; i < width; ++i) v[i] += v[i + width];
  }
  return v[0];
}

// The squared deviations of a chunk from its mean, in double lanes: d = x - mean, one
// fmadd a vector, kChains vectors a step.
template <class Isa, class T>
struct DoubleDeviations {
  using V = typename Isa::template Vec<double>;
  using Reg = typename V::Reg;
  static constexpr int W = V::kWidth;
  static constexpr int64_t kStep = int64_t(kChains) * W;
  static_assert(kChains == 4, "the chains are added as four");

  double mean;
  Reg mv = V::set1(mean), q[kChains] = {V::zero(), V::zero(), V::zero(), V::zero()};

  void step(const T* p) {
    for (int c = 0; c < kChains; ++c) {
      const Reg d = V::sub(moments_load<V>(p + c * W), mv);
      q[c] = V::fmadd(d, d, q[c]);
    }
  }
  // Elements [i, n) of the chunk (steps, vectors, scalars), then the sum of squares.
  double finish(const T* x, int64_t i, int64_t n) {
    for (; i + kStep <= n; i += kStep) step(x + i);
    for (; i + W <= n; i += W) {
      const Reg d = V::sub(moments_load<V>(x + i), mv);
      q[0] = V::fmadd(d, d, q[0]);
    }
    double qs = moments_lanes_sum<V>(V::add(V::add(q[0], q[1]), V::add(q[2], q[3])));
    for (; i < n; ++i) {
      const double d = double(x[i]) - mean;
      qs += d * d;
    }
    return qs;
  }
};

// float32 deviations in float lanes, from the mean rounded to float (m_f): x - m_f is exact
// where x is within a factor 2 of m_f (Sterbenz) and rounds once elsewhere; four vectors'
// squares are added in float, then widened and summed in double. That is 2.5x fewer
// operations than widening every element, and the shift is taken back exactly:
// sum (x - m_f)^2 = sum (x - m)^2 + n (m - m_f)^2, as sum (x - m) = 0. A sum that is not
// finite (|x - m_f| past 2^64 squares to inf in float; inf or NaN in x) comes back as
// NaN, and the caller redoes that chunk in double lanes.
template <class Isa>
struct FloatDeviations {
  using F = typename Isa::template Vec<float>;
  using D = typename Isa::template Vec<double>;
  static constexpr int W = F::kWidth;
  static constexpr int64_t kStep = 4 * int64_t(W);
  static_assert(kStep % DoubleDeviations<Isa, float>::kStep == 0, "a step holds whole sum steps");

  double mean;
  float shift = float(mean);
  typename F::Reg mv = F::set1(shift);
  typename D::Reg low = D::zero(), high = D::zero();

  void add_widened(typename F::Reg q) {
    typename D::Reg l, h;
    D::widen(q, &l, &h);
    low = D::add(low, l), high = D::add(high, h);
  }
  void step(const float* p) {
    const typename F::Reg d0 = F::sub(F::loadu(p), mv), d1 = F::sub(F::loadu(p + W), mv);
    const typename F::Reg d2 = F::sub(F::loadu(p + 2 * W), mv), d3 = F::sub(F::loadu(p + 3 * W), mv);
    add_widened(F::add(F::fmadd(d1, d1, F::mul(d0, d0)), F::fmadd(d3, d3, F::mul(d2, d2))));
  }
  double finish(const float* x, int64_t i, int64_t n) {
    for (; i + kStep <= n; i += kStep) step(x + i);
    for (; i + W <= n; i += W) {
      const typename F::Reg d = F::sub(F::loadu(x + i), mv);
      add_widened(F::mul(d, d));
    }
    double qs = moments_lanes_sum<D>(D::add(low, high));
    for (; i < n; ++i) {
      const double d = double(x[i]) - double(shift);
      qs += d * d;
    }
    const double offset = mean - double(shift);
    return std::isfinite(qs) ? std::max(0.0, qs - double(n) * offset * offset) : __builtin_nan("");
  }
};

template <class Isa, class T>
using MomentsDeviations = std::conditional_t<std::is_same_v<T, float>, FloatDeviations<Isa>, DoubleDeviations<Isa, T>>;

// One loop over two chunks: the squared deviations of `cur` (n_cur elements, in L1) from
// `mean` into *m2 (MomentsDeviations; a float32 chunk whose float lanes gave no finite sum
// is redone in double lanes), and the sum of `next` (n_next, read from memory) in double
// lanes into *sum, kChains vectors a step.
template <class Isa, class T>
void moments_fused_pass(const T* cur, int64_t n_cur, double mean, const T* next, int64_t n_next, const char* end,
                        double* m2, double* sum) {
  using Deviations = MomentsDeviations<Isa, T>;
  using V = typename Isa::template Vec<double>;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  constexpr int64_t kSumStep = int64_t(kChains) * W;
  Deviations deviations{mean};
  Reg s[kChains];
  for (int c = 0; c < kChains; ++c) s[c] = V::zero();
  const auto sum_step = [&](const T* p) {
    for (int c = 0; c < kChains; ++c) s[c] = V::add(s[c], moments_load<V>(p + c * W));
  };
  const int64_t both = std::min(n_cur, n_next);
  int64_t i = 0;
  for (; i + Deviations::kStep <= both; i += Deviations::kStep) {
    kick_page_ahead(next + i, Deviations::kStep * int64_t(sizeof(T)), end);
    for (int64_t k = 0; k < Deviations::kStep; k += kSumStep) sum_step(next + i + k);
    deviations.step(cur + i);
  }
  int64_t i_next = i;
  for (; i_next + kSumStep <= n_next; i_next += kSumStep) {
    kick_page_ahead(next + i_next, kSumStep * int64_t(sizeof(T)), end);
    sum_step(next + i_next);
  }
  for (; i_next + W <= n_next; i_next += W) s[0] = V::add(s[0], moments_load<V>(next + i_next));
  double ss = moments_lanes_sum<V>(V::add(V::add(s[0], s[1]), V::add(s[2], s[3])));
  for (; i_next < n_next; ++i_next) ss += double(next[i_next]);
  *m2 = n_cur > 0 ? deviations.finish(cur, i, n_cur) : 0;
  if constexpr (std::is_same_v<T, float>) {
    if (std::isnan(*m2)) *m2 = DoubleDeviations<Isa, T>{mean}.finish(cur, 0, n_cur);
  }
  *sum = ss;
}

// Rows shorter than this take two scalar passes each: the vector passes' setup and lane
// sums cost more than they save there ([2^20, 4] float32: 8.9 ms scalar, 23.5 ms vector), not
// past it (the scalar sum is one chain of dependent adds: [2^20, 16] 61 ms scalar, 23 ms vector).
constexpr int64_t kMomentsShortRow = 8;

template <class Isa, class T>
void moments_rows(const void* data, int64_t rows, int64_t n, MomentsPartial* out) {
  const T* x = static_cast<const T*>(data);
  if (n < kMomentsShortRow) {
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = x + r * n;
      double sum = 0, m2 = 0;
      for (int64_t i = 0; i < n; ++i) sum += double(row[i]);
      const double mean = sum / double(n);
      for (int64_t i = 0; i < n; ++i) m2 += (double(row[i]) - mean) * (double(row[i]) - mean);
      out[r] = {double(n), mean, m2};
    }
    return;
  }
  const int64_t per_row = (n + kMomentsChunk - 1) / kMomentsChunk, chunks = rows * per_row;
  const char* end = reinterpret_cast<const char*>(x + rows * n);
  const auto chunk = [&](int64_t c, int64_t* length) {
    const int64_t k = (c % per_row) * kMomentsChunk;
    *length = std::min(kMomentsChunk, n - k);
    return x + (c / per_row) * n + k;
  };
  int64_t length = 0, next_length = 0;
  const T* cur = chunk(0, &length);
  double sum = 0, m2 = 0, unused = 0;
  moments_fused_pass<Isa, T>(cur, 0, 0, cur, length, end, &unused, &sum);
  MomentsPartial row{};
  for (int64_t c = 0; c < chunks; ++c) {
    const double mean = sum / double(length);
    const T* next = c + 1 < chunks ? chunk(c + 1, &next_length) : nullptr;
    if (!next) next_length = 0;
    moments_fused_pass<Isa, T>(cur, length, mean, next ? next : cur, next_length, end, &m2, &sum);
    const MomentsPartial part{double(length), mean, m2};
    row = c % per_row == 0 ? part : combine_moments(row, part);
    if (c % per_row == per_row - 1) out[c / per_row] = row;
    cur = next;
    length = next_length;
  }
}

template <class Isa, class T>
void moments_columns(const void* data, int64_t rows, int64_t row_stride, int64_t cols, double* mean, double* m2) {
  using V = typename Isa::template Vec<double>;
  using Reg = typename V::Reg;
  constexpr int W = V::kWidth;
  constexpr int64_t kLineElements = 64 / int64_t(sizeof(T));
  const T* x = static_cast<const T*>(data);
  int64_t count = 0;
  for (int64_t r0 = 0; r0 < rows; r0 += kMomentsGroupRows) {
    const int64_t group = std::min(kMomentsGroupRows, rows - r0);
    const int64_t ahead_rows = std::min(kMomentsGroupRows, rows - r0 - group);
    const T* g = x + r0 * row_stride;
    const T* ahead = g + group * row_stride;
    // Chan's weights of this group against the rows before it.
    const double total = double(count + group);
    const double w_mean = double(group) / total, w_cross = double(count) * double(group) / total;
    const Reg groups = V::set1(double(group)), wm = V::set1(w_mean), wc = V::set1(w_cross);
    const Reg wa = V::set1(double(count) / total), infinity = V::set1(__builtin_inf());
    int64_t j = 0;
    for (; j + W <= cols; j += W) {
      // The next group's lines of these columns, one prefetch per line, into L2 only: rows
      // 2^k apart share L1 sets, and 8 + 8 lines in a 12-way set evicted the group's own lines
      // before its deviation pass (prefetched into L1, groups of 16: 2x the time; 8 rows
      // without a prefetch 1.15x, two groups ahead 1.3x).
      if (j % kLineElements == 0) {
        for (int64_t r = 0; r < ahead_rows; ++r) __builtin_prefetch(ahead + r * row_stride + j, 0, 2);
      }
      // The group's vectors kept in registers between the passes, loaded and widened once (the
      // compiler did not reuse two loads of them): [256, 4096] float32, 1 thread, process CPU time
      // over 1500 calls 0.84-1.0x. Rows past a short group are zeros the deviations skip, so
      // every sum takes the same adds as before: the same bits.
      Reg v[kMomentsGroupRows];
      for (int64_t r = 0; r < kMomentsGroupRows; ++r) v[r] = r < group ? moments_load<V>(g + r * row_stride + j) : V::zero();
      Reg s0 = V::zero(), s1 = V::zero();
      for (int64_t r = 0; r < kMomentsGroupRows; r += 2) s0 = V::add(s0, v[r]), s1 = V::add(s1, v[r + 1]);
      const Reg gm = V::div(V::add(s0, s1), groups);
      Reg q0 = V::zero(), q1 = V::zero();
      for (int64_t r = 0; r < kMomentsGroupRows; r += 2) {
        const Reg d0 = r < group ? V::sub(v[r], gm) : V::zero(), d1 = r + 1 < group ? V::sub(v[r + 1], gm) : V::zero();
        q0 = V::fmadd(d0, d0, q0);
        q1 = V::fmadd(d1, d1, q1);
      }
      const Reg q = V::add(q0, q1);
      if (count == 0) {
        V::storeu(mean + j, gm);
        V::storeu(m2 + j, q);
      } else {
        const Reg m = V::loadu(mean + j), delta = V::sub(gm, m);
        // combine_moments' rule: an infinite or NaN delta (an infinite mean) takes the weighted sum.
        const Reg weighted = V::fmadd(m, wa, V::mul(gm, wm));
        V::storeu(mean + j, V::select_less(V::abs(delta), infinity, V::fmadd(delta, wm, m), weighted));
        V::storeu(m2 + j, V::add(V::loadu(m2 + j), V::fmadd(V::mul(delta, delta), wc, q)));
      }
    }
    for (; j < cols; ++j) {
      double s = 0;
      for (int64_t r = 0; r < group; ++r) s += double(g[r * row_stride + j]);
      const double gm = s / double(group);
      double q = 0;
      for (int64_t r = 0; r < group; ++r) {
        const double d = double(g[r * row_stride + j]) - gm;
        q += d * d;
      }
      const MomentsPartial part = combine_moments({double(count), count ? mean[j] : 0, count ? m2[j] : 0},
                                                  {double(group), gm, q});
      mean[j] = part.mean;
      m2[j] = part.m2;
    }
    count += group;
  }
}

// The entries of argmin (B true) or argmax, and of cumprod (B true) or cumsum.
template <class Isa, bool B>
constexpr void fill_args_and_scans(ReductionIsaTable& t) {
  t.arg_runs[B][0] = &arg_runs<Isa, float, B>, t.arg_runs[B][1] = &arg_runs<Isa, double, B>;
  t.arg_runs[B][2] = &arg_runs<Isa, int32_t, B>;
  t.arg_columns[B][0] = &arg_columns<Isa, float, B>, t.arg_columns[B][1] = &arg_columns<Isa, double, B>;
  t.arg_columns[B][2] = &arg_columns<Isa, int32_t, B>;
  t.arg_row_picks[B][0] = &arg_row_picks<Isa, float, B>, t.arg_row_picks[B][1] = &arg_row_picks<Isa, double, B>;
  t.arg_row_picks[B][2] = &arg_row_picks<Isa, int32_t, B>;
  t.arg_merge_picks[B][0] = &arg_merge_picks<Isa, float, B>, t.arg_merge_picks[B][1] = &arg_merge_picks<Isa, double, B>;
  t.arg_merge_picks[B][2] = &arg_merge_picks<Isa, int32_t, B>;
  t.scan_rows[B][0] = &scan_rows<Isa, float, B>, t.scan_rows[B][1] = &scan_rows<Isa, double, B>;
  t.scan_columns[B][0] = &scan_columns<Isa, float, B>, t.scan_columns[B][1] = &scan_columns<Isa, double, B>;
}

template <class Isa, size_t... I>
constexpr void fill_folds(ReductionIsaTable& t, std::index_sequence<I...>) {
  ((t.fold_runs[I][0] = &fold_runs<Isa, float, ReduceOp(I)>, t.fold_runs[I][1] = &fold_runs<Isa, double, ReduceOp(I)>,
    t.fold_runs[I][2] = &fold_runs<Isa, int32_t, ReduceOp(I)>, t.fold_runs[I][3] = &fold_runs<Isa, uint8_t, ReduceOp(I)>,
    t.fold_columns[I][0] = &fold_columns<Isa, float, ReduceOp(I)>,
    t.fold_columns[I][1] = &fold_columns<Isa, double, ReduceOp(I)>,
    t.fold_columns[I][2] = &fold_columns<Isa, int32_t, ReduceOp(I)>,
    t.fold_columns[I][3] = &fold_columns<Isa, uint8_t, ReduceOp(I)>,
    t.fold_row_quarters[I][0] = kVectorizable<float, ReduceOp(I)> ? &fold_row_quarters<Isa, float, ReduceOp(I)> : nullptr,
    t.fold_row_quarters[I][1] = kVectorizable<double, ReduceOp(I)> ? &fold_row_quarters<Isa, double, ReduceOp(I)> : nullptr,
    t.fold_row_quarters[I][2] = kIntegerFold<int32_t, ReduceOp(I)> ? &fold_columns<Isa, int32_t, ReduceOp(I)> : nullptr,
    t.fold_row_quarters[I][3] = kIntegerFold<uint8_t, ReduceOp(I)> ? &fold_columns<Isa, uint8_t, ReduceOp(I)> : nullptr),
   ...);
}

}  // namespace reduction_detail

// Every (op, dtype) entry; constant-initialized, so building it runs no code.
template <class Isa>
constexpr ReductionIsaTable make_reduction_table(const char* isa) {
  ReductionIsaTable t{};
  t.isa = isa;
  reduction_detail::fill_folds<Isa>(t, std::make_index_sequence<kernels::kNumReduceOps>{});
  reduction_detail::fill_args_and_scans<Isa, false>(t);
  reduction_detail::fill_args_and_scans<Isa, true>(t);
  t.moments_rows[0] = &reduction_detail::moments_rows<Isa, float>;
  t.moments_rows[1] = &reduction_detail::moments_rows<Isa, double>;
  t.moments_columns[0] = &reduction_detail::moments_columns<Isa, float>;
  t.moments_columns[1] = &reduction_detail::moments_columns<Isa, double>;
  return t;
}

}  // namespace keras::cpu
