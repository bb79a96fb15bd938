// The per-ISA fold functions of the CPU reductions (reduction_kernels.h, instantiated in
// reduction_<isa>.cc) and the fold semantics they share with the driver (reduction.cc).
// Every fold runs in double, with the js backend's rules per step; only the order of
// the steps differs (lanes, blocks, pairwise partials), which bounds the rounding error
// by the depth of the summation tree instead of the element count.
#pragma once
#include <cmath>
#include <cstdint>

#include "../kernels/elementwise_ops.h"

namespace keras::cpu {

constexpr int kReductionDTypes = 4;  // engine::DType order: float32, float64, int32, bool

// out[k] = the fold of x[k * run_step + i * stride], i < n, from the op's identity, for
// k < count (element offsets): one run per output, many outputs per call.
using FoldRunsFn = void (*)(const void* x, int64_t count, int64_t run_step, int64_t n, int64_t stride, double* out);
// acc[j] = fold(acc[j], x[r * row_stride + j * col_stride] for r < rows), j < cols.
// `block` is scratch for cols doubles (rows are folded in blocks, then into acc).
using FoldColumnsFn = void (*)(const void* x, int64_t rows, int64_t row_stride, int64_t cols, int64_t col_stride,
                               double* acc, double* block);

// Rows per block of a column fold: rows fold into the block, blocks into acc.
constexpr int64_t kColumnBlockRows = 64;

// argmax/argmin of one run: its first extreme, or its first NaN (which wins outright),
// as the js backend picks it; index from the run's start, value widened exactly.
struct ArgPartial {
  double value;
  int64_t index;
};
// out[k] = the ArgPartial of the n >= 1 contiguous elements at x + k * run_step, k < count.
using ArgRunsFn = void (*)(const void* x, int64_t count, int64_t run_step, int64_t n, ArgPartial* out);
// out[j] = the index r < rows of the extreme of x[r * row_stride + j] (columns contiguous), j < cols.
using ArgColumnsFn = void (*)(const void* x, int64_t rows, int64_t row_stride, int64_t cols, int32_t* out);
// Per-column picks of rows that follow each other (row_stride == cols), for a range of rows
// of a column pass split over threads: `picks` is cols values (the element type) then cols
// indices (int32 for 4-byte elements, int64 for 8-byte ones), arg_pick_bytes(element) each.
// A pick beats another when its value does by the js step (NaN beats every number) or ties
// it with a smaller row index: an order of the rows' visits gives the same picks, and picks
// of row ranges merge in any order into the js pick of their union.
// arg_row_picks: the picks of x[r * row_stride + j], r < rows, with row indices row0 + r.
using ArgRowPicksFn = void (*)(const void* x, int64_t rows, int64_t row_stride, int64_t cols, int64_t row0, void* picks);
// arg_merge_picks: out[j] = index of the best of the count picks arrays' column j.
using ArgMergePicksFn = void (*)(const void* picks, int64_t count, int64_t cols, int32_t* out);
constexpr int64_t arg_pick_bytes(int64_t element_size) { return 2 * element_size; }
// cumsum/cumprod of float32 or float64 into the same type, a double running value per
// row or column (the js order: one step per element, each prefix rounded once).
// Rows: out[r * out_row_stride + k] = fold of x[r * row_stride + i], i <= k < n, r < rows.
// Columns: out[r * out_row_stride + j] = fold of x[i * row_stride + j], i <= r < rows, j < cols.
// `stream`: write out by streaming stores (an output past the last-level cache).
using ScanFn = void (*)(const void* x, int64_t rows, int64_t row_stride, int64_t n, void* out, int64_t out_row_stride,
                        bool stream);
// Rows a scan over rows computes together (a call's rows are best a multiple of it): on
// [4096, 4096] float32 16 took 0.85-0.93x the CPU time of 32 (half the streams to read).
constexpr int64_t kScanRows = 16;

// moments: a set of values as their count, mean, and m2, the sum of squared deviations
// from that mean (variance = m2 / count).
struct MomentsPartial {
  double count, mean, m2;
};
// The moments of two disjoint sets from theirs (Chan, Golub & LeVeque's parallel formula):
// no E[x^2] - E[x]^2 cancellation, as each m2 is already about its own mean. An infinite
// mean (a set holding +-inf) combines as a weighted sum, so -inf with finite stays -inf and
// +inf with -inf gives NaN, as the js sum does; its m2 is NaN already.
static inline MomentsPartial combine_moments(MomentsPartial a, MomentsPartial b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  const double count = a.count + b.count, delta = b.mean - a.mean, wb = b.count / count;
  const double mean = std::fabs(delta) < __builtin_inf() ? a.mean + delta * wb : a.mean * (a.count / count) + b.mean * wb;
  return {count, mean, a.m2 + b.m2 + delta * delta * (a.count * b.count / count)};
}
// out[r] = the moments of x[r * n + i], i < n (n >= 1), r < rows, of float32 or float64 x
// in double: each row by chunks of kMomentsChunk elements, the chunk's mean and then its
// squared deviations from that mean (the chunk still in L1), chunks combined in order
// (combine_moments). A chunk's deviation pass runs alongside the next chunk's sum pass
// (the next row's first chunk too), so one loop reads memory while it computes. A row's
// result does not depend on the rows that come with it.
using MomentsRowsFn = void (*)(const void* x, int64_t rows, int64_t n, MomentsPartial* out);
// Columns: mean[j] and m2[j] of x[r * row_stride + j], r < rows (rows >= 1), j < cols, in
// groups of kMomentsGroupRows rows: per column vector, the group's mean and its squared
// deviations (the group's lines still in L1), combined into mean/m2 by combine_moments.
using MomentsColumnsFn = void (*)(const void* x, int64_t rows, int64_t row_stride, int64_t cols, double* mean, double* m2);
// 8 KiB of float32, 16 KiB of float64: a chunk and the next one read alongside it stay in
// L1 (32 KiB on Zen 4) between the passes; 4096 elements read from memory took 1.3x as long
// there ([4096, 4096] var over the last axis, 2 threads: 3.0 against 2.5 ms).
constexpr int64_t kMomentsChunk = 2048;
// 8 lines of one column vector per group: they stay in L1 between the passes even where
// the rows are 2^k bytes apart, all in one 12-way set ([4096, 4096] axis 0, 1 thread: 16 rows
// took 2x the time, moments_columns' prefetch comment).
constexpr int64_t kMomentsGroupRows = 8;

constexpr int kArgDTypes = 3;   // float32, float64, int32 (bool: the driver's scalar loop)
constexpr int kScanDTypes = 2;  // float32, float64

struct ReductionIsaTable {
  const char* isa;
  ArgRunsFn arg_runs[2][kArgDTypes];  // [argmin][dtype]
  ArgColumnsFn arg_columns[2][kArgDTypes];
  ArgRowPicksFn arg_row_picks[2][kArgDTypes];
  ArgMergePicksFn arg_merge_picks[2][kArgDTypes];
  ScanFn scan_rows[2][kScanDTypes];  // [cumprod][dtype]
  ScanFn scan_columns[2][kScanDTypes];
  FoldRunsFn fold_runs[kernels::kNumReduceOps][kReductionDTypes];
  FoldColumnsFn fold_columns[kernels::kNumReduceOps][kReductionDTypes];
  // The same fold four rows a step, one from each quarter of the rows, for col_stride 1
  // (reduction_kernels.h: for rows that follow each other); float32 and float64 with
  // sum/mean/prod/max/min; for int32 (sum/mean/max/min) and bool (any/all) the integer
  // column fold, given whole rows (read in memory order); nullptr elsewhere.
  FoldColumnsFn fold_row_quarters[kernels::kNumReduceOps][kReductionDTypes];
  MomentsRowsFn moments_rows[2];  // [dtype]: float32, float64
  MomentsColumnsFn moments_columns[2];
};

extern const ReductionIsaTable kReductionAvx512;
extern const ReductionIsaTable kReductionAvx2;
extern const ReductionIsaTable kReductionPortable;

// Static, so each ISA's translation unit keeps its own copy (no cross-ISA merging).
static inline double reduce_identity(kernels::ReduceOp op) {
  switch (op) {
    case kernels::ReduceOp::Prod:
    case kernels::ReduceOp::All: return 1;
    case kernels::ReduceOp::Max: return -__builtin_inf();
    case kernels::ReduceOp::Min: return __builtin_inf();
    default: return 0;
  }
}

// One js step: acc = acc <op> v. Also combines two partial folds (acc, v).
static inline double reduce_fold(kernels::ReduceOp op, double acc, double v) {
  switch (op) {
    case kernels::ReduceOp::Sum:
    case kernels::ReduceOp::Mean: return acc + v;
    case kernels::ReduceOp::Prod: return acc * v;
    case kernels::ReduceOp::Max: return v > acc || v != v ? v : acc;
    case kernels::ReduceOp::Min: return v < acc || v != v ? v : acc;
    case kernels::ReduceOp::Any: return acc != 0 || v != 0 ? 1 : 0;
    case kernels::ReduceOp::All: return acc != 0 && v != 0 ? 1 : 0;
    default: return acc;
  }
}

}  // namespace keras::cpu
