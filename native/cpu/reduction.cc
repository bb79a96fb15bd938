// CPU drivers of the reductions (sum ... all), argmax/argmin, cumsum/cumprod, moments
// (mean and variance in one pass) and logsumexp over one axis.
// Folds accumulate in double, as the js backend does, and store with its rules; the
// per-ISA folds (reduction_kernels.h) vectorize them, and the drivers here split the
// work over the thread pool so that even a single output is folded on every thread.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "../kernels/elementwise.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "loop_nest.h"
#include "reduction.h"
#include "softmax.h"

namespace keras::cpu {
namespace {

using namespace loops;

const ReductionIsaTable& reduction_kernels() {
  return for_active_isa(kReductionAvx512, kReductionAvx2, kReductionPortable);
}

// Runs longer than this are cut into segments folded in parallel. A fixed size (not
// one per thread) keeps results identical for every thread count.
constexpr int64_t kSegmentElements = 1 << 16;
// Bytes of segments a thread of a long fold claims at a time (reduce_runs): small enough
// that the threads end together, large enough that each reads long streams. [4096, 4096]
// bool all, 2 threads: claims of one 64 KiB segment took 1.10x the time of the chunks.
constexpr int64_t kClaimBytes = 512 * 1024;

// fn(begin, end) over claims of `claim` items of [0, count) that the pool's threads take
// until none are left: a descheduled thread holds up one claim of kClaimBytes, not one of
// parallel_for's chunks (up to 8 MiB). reduce_runs and moments use it ([4096, 4096] var axis
// -1, 2 threads, load 4-7: 0.77-0.90x the wall time of chunks; equal on a quiet machine).
template <class Fn>
void for_each_claim(bool parallel, int64_t count, int64_t claim, int max_threads, Fn fn) {
  std::atomic<int64_t> next{0};
  const int64_t threads = parallel ? engine::thread_pool().num_threads() : 1;
  engine::thread_pool().parallel_for(threads, 1, [&](int64_t, int64_t) {
    for (int64_t begin; (begin = next.fetch_add(claim, std::memory_order_relaxed)) < count;) fn(begin, std::min(count, begin + claim));
  }, max_threads);
}
// Runs up to this long are folded as columns when there are many of them.
constexpr int64_t kShortRun = 8;
// Column folds 8 rows a step keep this many double accumulators per work item, plus as
// many for the current row block: 2 x 8 KiB, half of L1. (Blocks of 4096, full rows of a
// [4096, 4096] input folded by row chunks, measured no faster once the rows are
// prefetched.) Folds by quarters take whole rows of up to kQuarterMaxColumns instead.
constexpr int64_t kMaxColumnBlock = 1024;
// Rows of one column-fold chunk: its row blocks fold into the chunk's accumulators in
// sequence, and the chunks pairwise, which bounds the depth of every sum's tree.
constexpr int64_t kMaxChunkRows = 4096;
// Elements per row chunk when rows are split for the threads (few column blocks).
constexpr int64_t kRowChunkElements = 1 << 20;
// Column folds over rows of kQuarterMinColumns to kQuarterMaxColumns that follow each
// other fold four rows a step, one from each quarter of the rows (fold_row_quarters:
// four streams per thread that cross pages in order), in one column block as wide as
// the rows. Narrower rows keep 8 rows a step (each step would wait on the previous
// step's stores of a few accumulators); wider ones too, as column blocks of them make
// every row a short stream again (measurements in reduction_kernels.h).
constexpr int64_t kQuarterMinColumns = 32;
constexpr int64_t kQuarterMaxColumns = 4096;

// Partials folded pairwise (halves, recursively), so their rounding adds log2(n) steps.
double fold_pairwise(kernels::ReduceOp op, const double* v, int64_t n) {
  if (n == 1) return v[0];
  const int64_t half = n / 2;
  return reduce_fold(op, fold_pairwise(op, v, half), fold_pairwise(op, v + half, n - half));
}

// A reduction as dims of the input: kept dims index the output, reduced dims
// are folded. Both lists are merged where contiguous, outer to inner.
struct ReductionNest {
  Shape kept_sizes, kept_x_strides, kept_out_strides;
  Shape reduced_sizes, reduced_strides;
  bool last_dim_reduced = true;  // is the input's innermost (non-1) dim reduced?
};

ReductionNest plan_reduction(const TensorView& x, const std::vector<int>& axes) {
  ReductionNest nest;
  Shape out_strides(x.shape.size(), 0);
  int64_t stride = 1;
  for (size_t d = x.shape.size(); d-- > 0;) {
    if (std::find(axes.begin(), axes.end(), int(d)) != axes.end()) continue;
    out_strides[d] = stride;
    stride *= x.shape[d];
  }
  int previous_reduced = -1;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    const int64_t size = x.shape[d];
    if (size == 1) continue;
    const bool reduced = std::find(axes.begin(), axes.end(), int(d)) != axes.end();
    Shape& sizes = reduced ? nest.reduced_sizes : nest.kept_sizes;
    Shape& strides = reduced ? nest.reduced_strides : nest.kept_x_strides;
    // Merge with the previous dim only if it was of the same kind and contiguous with this one.
    if (previous_reduced == int(reduced) && strides.back() == x.strides[d] * size &&
        (reduced || nest.kept_out_strides.back() == out_strides[d] * size)) {
      sizes.back() *= size;
      strides.back() = x.strides[d];
      if (!reduced) nest.kept_out_strides.back() = out_strides[d];
    } else {
      sizes.push_back(size);
      strides.push_back(x.strides[d]);
      if (!reduced) nest.kept_out_strides.push_back(out_strides[d]);
    }
    previous_reduced = int(reduced);
    nest.last_dim_reduced = reduced;
  }
  return nest;
}

// Offset of kept index `o` (over the first `dims` kept dims) in the input and the output.
void kept_offsets(const ReductionNest& nest, int64_t o, size_t dims, int64_t* x_offset, int64_t* out_offset) {
  if (dims == 1) {  // the common case, without the division (many short folds pay for it)
    *x_offset = o * nest.kept_x_strides[0];
    *out_offset = o * nest.kept_out_strides[0];
    return;
  }
  *x_offset = 0;
  *out_offset = 0;
  for (size_t d = dims; d-- > 0;) {
    const int64_t index = o % nest.kept_sizes[d];
    o /= nest.kept_sizes[d];
    *x_offset += index * nest.kept_x_strides[d];
    *out_offset += index * nest.kept_out_strides[d];
  }
}

// Calls visit(offset) for every combination of the first `dims` reduced dims, in order.
template <class Visit>
void for_each_reduced(const ReductionNest& nest, size_t dims, Visit visit) {
  Shape index(dims, 0);
  int64_t offset = 0;
  for (;;) {
    visit(offset);
    size_t d = dims;
    while (d-- > 0) {
      offset += nest.reduced_strides[d];
      if (++index[d] < nest.reduced_sizes[d]) break;
      offset -= nest.reduced_strides[d] * nest.reduced_sizes[d];
      index[d] = 0;
    }
    if (d == size_t(-1)) return;
  }
}

// The reduced dims end with the input's innermost dim: each output folds runs along it.
// A single long run per output is cut into segments folded in parallel, then pairwise.
void reduce_runs(kernels::ReduceOp op, FoldRunsFn fold_runs, const TensorView& x, const TensorView& out,
                 const ReductionNest& nest, double divisor) {
  const int64_t out_count = out.numel(), total = x.numel();
  const size_t kept_rank = nest.kept_sizes.size(), reduced_rank = nest.reduced_sizes.size();
  const int64_t run = reduced_rank ? nest.reduced_sizes.back() : 1;
  const int64_t run_stride = reduced_rank ? nest.reduced_strides.back() : 0;
  const size_t outer_reduced = reduced_rank ? reduced_rank - 1 : 0;
  const int64_t element_size = int64_t(engine::dtype_size(x.dtype));
  const bool parallel = total >= kParallelElements;
  const int64_t segments = outer_reduced == 0 && run > kSegmentElements ? (run + kSegmentElements - 1) / kSegmentElements : 1;
  const int64_t segment = (run + segments - 1) / segments;
  const int64_t items = out_count * segments;
  const int64_t per_item = total / items;
  const int64_t grain = parallel ? std::max<int64_t>(1, kElementsPerItem / std::max<int64_t>(1, per_item)) : items;
  auto input_of = [&](int64_t o, int64_t* out_offset) {
    int64_t x_offset;
    kept_offsets(nest, o, kept_rank, &x_offset, out_offset);
    return static_cast<const char*>(x.data) + x_offset * element_size;
  };
  if (segments == 1 && kept_rank == 1 && outer_reduced == 0) {
    // One run per output along one kept dim: the kernel folds a batch of outputs per
    // call (short runs cost a call and a walk of the reduced dims each otherwise).
    const int64_t x_step = nest.kept_x_strides[0], out_step = nest.kept_out_strides[0];
    engine::thread_pool().parallel_for(out_count, grain, [&](int64_t begin, int64_t end) {
      constexpr int64_t kBatch = 256;
      double folded[kBatch];
      for (int64_t o = begin; o < end; o += kBatch) {
        const int64_t count = std::min(kBatch, end - o);
        fold_runs(static_cast<const char*>(x.data) + o * x_step * element_size, count, x_step, run, run_stride, folded);
        for (int64_t k = 0; k < count; ++k) store_js(out, (o + k) * out_step, folded[k] / divisor);
      }
    });
    return;
  }
  // One fold of a run: the kernel with a batch of one.
  auto fold_run = [&](const char* base, int64_t n) {
    double folded;
    fold_runs(base, 1, 0, n, run_stride, &folded);
    return folded;
  };
  if (segments == 1) {
    engine::thread_pool().parallel_for(out_count, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        int64_t out_offset;
        const char* base = input_of(o, &out_offset);
        double acc = reduce_identity(op);
        for_each_reduced(nest, outer_reduced, [&](int64_t offset) {
          acc = reduce_fold(op, acc, fold_run(base + offset * element_size, run));
        });
        store_js(out, out_offset, acc / divisor);
      }
    });
    return;
  }
  std::vector<double> partials(static_cast<size_t>(items));
  // Each thread claims kClaimBytes of segments at a time until none are left, instead of
  // taking parallel_for's chunks (at most 4 per thread): the fold ends when its last
  // chunk does, and a 2 MiB chunk (of 16 MiB of bool) left to one thread kept the other
  // idle for up to 0.1 ms of the 0.3-0.6 ms (traced on 2 threads after a 64 MiB copy;
  // with claims both end within ~10 us). Partials and their merge are unchanged.
  const int64_t claim = std::max<int64_t>(1, kClaimBytes / (segment * element_size));
  for_each_claim(parallel, items, claim, 0, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end;) {
      const int64_t o = item / segments, first = item % segments;
      int64_t out_offset;
      const char* base = input_of(o, &out_offset) + first * segment * run_stride * element_size;
      // The claim's full segments of output o in one call, so that the fold's page
      // prefetch runs on across them; a short last segment on its own.
      const int64_t count = std::min(end - item, segments - first);
      const int64_t full = first + count == segments && run % segment != 0 ? count - 1 : count;
      if (full > 0) fold_runs(base, full, segment * run_stride, segment, run_stride, partials.data() + item);
      if (full < count) {
        partials[size_t(item + full)] =
            fold_run(base + full * segment * run_stride * element_size, run - (first + full) * segment);
      }
      item += count;
    }
  });
  for (int64_t o = 0; o < out_count; ++o) {
    int64_t out_offset;
    input_of(o, &out_offset);
    store_js(out, out_offset, fold_pairwise(op, partials.data() + o * segments, segments) / divisor);
  }
}

// The innermost dim is kept: outputs along it are folded together, a block of columns
// at a time, over the rows of the reduced dims. The rows of a single reduced dim are
// cut into chunks (more of them when there are few column blocks to share among the
// threads) whose partials are folded pairwise. Rows that follow each other are folded
// by quarters (fold_row_quarters, where the op and dtype have one).
void reduce_columns(kernels::ReduceOp op, FoldColumnsFn fold_columns, FoldColumnsFn fold_row_quarters,
                    const TensorView& x, const TensorView& out, const ReductionNest& nest, double divisor) {
  const int64_t out_count = out.numel(), total = x.numel();
  const size_t kept_rank = nest.kept_sizes.size(), reduced_rank = nest.reduced_sizes.size();
  const int64_t cols = nest.kept_sizes.back();
  const int64_t col_stride = nest.kept_x_strides.back();
  const int64_t out_col_stride = nest.kept_out_strides.back();
  const int64_t outer_outputs = out_count / cols;
  const int64_t element_size = int64_t(engine::dtype_size(x.dtype));
  const bool parallel = total >= kParallelElements;
  // Rows of the innermost reduced dim (one row when every reduced dim has size 1);
  // outer reduced dims are walked around them.
  const int64_t rows = reduced_rank ? nest.reduced_sizes.back() : 1;
  const int64_t row_stride = reduced_rank ? nest.reduced_strides.back() : 0;
  const size_t outer_reduced = reduced_rank ? reduced_rank - 1 : 0;
  const bool quarters = fold_row_quarters && col_stride == 1 && outer_reduced == 0 && row_stride == cols &&
                        cols >= kQuarterMinColumns && cols <= kQuarterMaxColumns;
  if (quarters) fold_columns = fold_row_quarters;
  const int64_t max_col_block = quarters ? cols : kMaxColumnBlock;
  const int64_t col_blocks = (cols + max_col_block - 1) / max_col_block;
  const int64_t col_block = (cols + col_blocks - 1) / col_blocks;
  int64_t chunk_rows = outer_reduced != 0 ? rows : kMaxChunkRows;
  if (parallel && outer_reduced == 0 && outer_outputs * col_blocks < 8) {
    chunk_rows = std::min(chunk_rows, std::max(kColumnBlockRows, kRowChunkElements / col_block));
  }
  const int64_t row_chunks = (rows + chunk_rows - 1) / chunk_rows;
  const int64_t row_chunk = (rows + row_chunks - 1) / row_chunks;
  const int64_t items = outer_outputs * col_blocks * row_chunks;
  const int64_t per_item = total / items;
  const int64_t grain = parallel ? std::max<int64_t>(1, kElementsPerItem / std::max<int64_t>(1, per_item)) : items;
  // Accumulators of every item when rows are split; else of the item being folded.
  std::vector<double> partials(row_chunks > 1 ? static_cast<size_t>(items * col_block) : 0);
  engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
    std::vector<double> own(row_chunks > 1 ? 0 : static_cast<size_t>(col_block)), block(static_cast<size_t>(col_block));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t chunk = item % row_chunks, col_item = item / row_chunks;
      const int64_t outer = col_item / col_blocks, j0 = (col_item % col_blocks) * col_block;
      const int64_t n = std::min(col_block, cols - j0);
      const int64_t r0 = chunk * row_chunk, r_count = std::min(row_chunk, rows - r0);
      double* acc = row_chunks > 1 ? partials.data() + item * col_block : own.data();
      std::fill(acc, acc + n, reduce_identity(op));
      int64_t x_offset, out_offset;
      kept_offsets(nest, outer, kept_rank - 1, &x_offset, &out_offset);
      const char* base = static_cast<const char*>(x.data) + (x_offset + j0 * col_stride + r0 * row_stride) * element_size;
      for_each_reduced(nest, outer_reduced, [&](int64_t offset) {
        fold_columns(base + offset * element_size, r_count, row_stride, n, col_stride, acc, block.data());
      });
      if (row_chunks > 1) continue;
      for (int64_t j = 0; j < n; ++j) store_js(out, out_offset + (j0 + j) * out_col_stride, acc[size_t(j)] / divisor);
    }
  });
  if (row_chunks == 1) return;
  // Each block's row-chunk partials folded pairwise, whole arrays at a time: chunk c
  // takes in chunk c + width for width = 1, 2, 4, ...
  for (int64_t col_item = 0; col_item < outer_outputs * col_blocks; ++col_item) {
    double* chunk_partials = partials.data() + col_item * row_chunks * col_block;
    const int64_t outer = col_item / col_blocks, j0 = (col_item % col_blocks) * col_block;
    const int64_t n = std::min(col_block, cols - j0);
    for (int64_t width = 1; width < row_chunks; width *= 2) {
      for (int64_t c = 0; c + width < row_chunks; c += 2 * width) {
        double* into = chunk_partials + c * col_block;
        const double* from = chunk_partials + (c + width) * col_block;
        for (int64_t j = 0; j < n; ++j) into[j] = reduce_fold(op, into[j], from[j]);
      }
    }
    int64_t x_offset, out_offset;
    kept_offsets(nest, outer, kept_rank - 1, &x_offset, &out_offset);
    for (int64_t j = 0; j < n; ++j) store_js(out, out_offset + (j0 + j) * out_col_stride, chunk_partials[j] / divisor);
  }
}

template <kernels::ReduceOp OP>
void reduce_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
                const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const std::vector<int> axes = kernels::reduction_axes(ctx.op_name, attrs, x.rank());
  int64_t reduced_count = 1;
  for (int axis : axes) reduced_count *= x.shape[size_t(axis)];
  // Every fold ends divided by this: the count for mean, else 1 (exact).
  const double divisor = OP == kernels::ReduceOp::Mean ? double(reduced_count) : 1;
  if (reduced_count == 0) {  // empty folds: the identity (mean: 0/0 = NaN)
    for (int64_t i = 0; i < out.numel(); ++i) store_js(out, i, reduce_identity(OP) / divisor);
    return;
  }
  const ReductionNest nest = plan_reduction(x, axes);
  const ReductionIsaTable& kernels = reduction_kernels();
  const FoldColumnsFn quarters_fold = kernels.fold_row_quarters[int(OP)][int(x.dtype)];
  if (nest.last_dim_reduced && nest.kept_sizes.size() == 1 && nest.reduced_sizes.size() == 1 &&
      nest.reduced_sizes[0] <= kShortRun) {
    // Many short runs: folded as columns (outputs side by side, one step per run
    // position) instead of one fold call per output.
    ReductionNest as_columns = nest;
    as_columns.last_dim_reduced = false;
    reduce_columns(OP, kernels.fold_columns[int(OP)][int(x.dtype)], quarters_fold, x, out, as_columns, divisor);
  } else if (nest.last_dim_reduced || nest.kept_sizes.empty()) {
    reduce_runs(OP, kernels.fold_runs[int(OP)][int(x.dtype)], x, out, nest, divisor);
  } else {
    reduce_columns(OP, kernels.fold_columns[int(OP)][int(x.dtype)], quarters_fold, x, out, nest, divisor);
  }
}

// The input as [outer, axis, inner] element offsets: outer and inner dims are
// walked with their own strides, so any strided input works.
struct AxisSplit {
  int64_t outer_count = 1, axis_size = 1, axis_stride = 0, inner_count = 1;
  std::vector<int64_t> outer_offsets, inner_offsets;
};

std::vector<int64_t> offsets_of(const Shape& sizes, const Shape& strides) {
  std::vector<int64_t> offsets(size_t(engine::shape_numel(sizes)));
  Shape index(sizes.size(), 0);
  int64_t offset = 0;
  for (size_t i = 0; i < offsets.size(); ++i) {
    offsets[i] = offset;
    for (size_t d = sizes.size(); d-- > 0;) {
      offset += strides[d];
      if (++index[d] < sizes[d]) break;
      offset -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
  return offsets;
}

AxisSplit split_at(const TensorView& x, int axis) {
  AxisSplit split;
  const Shape outer_sizes(x.shape.begin(), x.shape.begin() + axis);
  const Shape outer_strides(x.strides.begin(), x.strides.begin() + axis);
  const Shape inner_sizes(x.shape.begin() + axis + 1, x.shape.end());
  const Shape inner_strides(x.strides.begin() + axis + 1, x.strides.end());
  split.axis_size = x.shape[size_t(axis)];
  split.axis_stride = x.strides[size_t(axis)];
  split.outer_offsets = offsets_of(outer_sizes, outer_strides);
  split.inner_offsets = offsets_of(inner_sizes, inner_strides);
  split.outer_count = int64_t(split.outer_offsets.size());
  split.inner_count = int64_t(split.inner_offsets.size());
  return split;
}

// The step s with offsets[o] == o * s for every o, or -1 (a layout the kernels' uniform
// row steps do not cover).
int64_t uniform_step(const std::vector<int64_t>& offsets) {
  const int64_t step = offsets.size() > 1 ? offsets[1] : 0;
  for (size_t o = 0; o < offsets.size(); ++o) {
    if (offsets[o] != int64_t(o) * step) return -1;
  }
  return step;
}

// Are the inner dims one contiguous run (offsets 0, 1, 2, ...)?
bool contiguous_inner(const AxisSplit& split) {
  for (size_t i = 0; i < split.inner_offsets.size(); ++i) {
    if (split.inner_offsets[i] != int64_t(i)) return false;
  }
  return true;
}

// Column items of the kernels that walk rows: as wide as possible (each row's item is a
// run that the hardware prefetcher starts cold on), and at least as many items (outer
// slices times column blocks) as threads; multiples of 64 columns. The results do not
// depend on the split (every column is its own scan or pick).
int64_t column_item(int64_t cols, int64_t outer_count) {
  const int64_t threads = engine::thread_pool().num_threads();
  const int64_t blocks = std::max<int64_t>(1, (threads + outer_count - 1) / std::max<int64_t>(1, outer_count));
  return std::max<int64_t>(64, ((cols + blocks - 1) / blocks + 63) / 64 * 64);
}

// One output's pick from its segments' picks, in order: the js step on whole segments.
template <bool is_argmin>
ArgPartial combine_segments(const ArgPartial* parts, int64_t count) {
  ArgPartial best = parts[0];
  for (int64_t s = 1; s < count && best.value == best.value; ++s) {
    const double v = parts[s].value;
    if ((is_argmin ? v < best.value : v > best.value) || v != v) best = parts[s];
  }
  return best;
}

// argmax/argmin along contiguous runs (the last axis): many runs are split over the
// threads; a few long ones are cut into segments picked in parallel, then combined.
template <bool is_argmin>
void arg_runs_cpu(ArgRunsFn fn, const TensorView& x, const AxisSplit& split, int32_t* result) {
  const int64_t rows = split.outer_count, n = split.axis_size;
  const int64_t element_size = int64_t(engine::dtype_size(x.dtype)), step = uniform_step(split.outer_offsets);
  const char* data = static_cast<const char*>(x.data);
  const bool parallel = x.numel() >= kParallelElements;
  const int64_t segments = parallel && rows < 8 && n > kSegmentElements ? (n + kSegmentElements - 1) / kSegmentElements : 1;
  if (segments > 1) {
    const int64_t segment = (n + segments - 1) / segments;
    std::vector<ArgPartial> parts(static_cast<size_t>(rows * segments));
    engine::thread_pool().parallel_for(rows * segments, 1, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t o = item / segments, start = (item % segments) * segment;
        ArgPartial& part = parts[size_t(item)];
        fn(data + (split.outer_offsets[size_t(o)] + start) * element_size, 1, 0, std::min(segment, n - start), &part);
        part.index += start;
      }
    });
    for (int64_t o = 0; o < rows; ++o) result[o] = int32_t(combine_segments<is_argmin>(parts.data() + o * segments, segments).index);
    return;
  }
  const int64_t grain = parallel ? std::max<int64_t>(1, kElementsPerItem / n) : rows;
  engine::thread_pool().parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    constexpr int64_t kBatch = 256;
    ArgPartial parts[kBatch];
    for (int64_t o = begin; o < end; o += kBatch) {
      const int64_t count = std::min(kBatch, end - o);
      if (step >= 0) {
        fn(data + o * step * element_size, count, step, n, parts);
      } else {
        for (int64_t k = 0; k < count; ++k) fn(data + split.outer_offsets[size_t(o + k)] * element_size, 1, 0, n, parts + k);
      }
      for (int64_t k = 0; k < count; ++k) result[o + k] = int32_t(parts[k].index);
    }
  });
}

// argmax/argmin as the js backend: the first extreme wins ties, the first NaN wins outright.
template <bool is_argmin>
void arg_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
             const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const AxisSplit split = split_at(x, kernels::reduction_axis(ctx.op_name, attrs, x.shape));
  int32_t* result = static_cast<int32_t*>(out.data);
  const int dtype = int(x.dtype);
  if (dtype < kArgDTypes && split.inner_count == 1 && split.axis_stride == 1) {
    arg_runs_cpu<is_argmin>(reduction_kernels().arg_runs[is_argmin][dtype], x, split, result);
    return;
  }
  const int64_t cols = split.inner_count, rows = split.axis_size;
  if (dtype < kArgDTypes && cols >= kQuarterMinColumns && cols <= kQuarterMaxColumns && contiguous_inner(split) &&
      split.axis_stride == cols) {
    // Rows of 32-4096 columns that follow each other: chunks of rows (every thread reads
    // whole rows, as the column folds by quarters do) picked as quarters, then each outer
    // slice's chunk picks merged (the pick order makes the result the same for any split).
    const ReductionIsaTable& kernels = reduction_kernels();
    const ArgRowPicksFn picks_fn = kernels.arg_row_picks[is_argmin][dtype];
    const int64_t element_size = int64_t(engine::dtype_size(x.dtype));
    const bool parallel = x.numel() >= kParallelElements;
    // Chunks as long as two a thread allow (of kRowChunkElements at least): past a
    // chunk's first rows most steps update no pick (arg_row_picks), so long chunks skip more
    // ([4096, 4096] float32, 2 threads: chunks of 1024 rows 0.75-0.85x the time of 256).
    const int64_t min_rows = std::max<int64_t>(kColumnBlockRows, kRowChunkElements / cols);
    const int64_t threads = engine::thread_pool().num_threads();
    const int64_t wanted = parallel ? (2 * threads + split.outer_count - 1) / split.outer_count : 1;
    const int64_t parts = std::max<int64_t>(1, std::min(rows / min_rows, wanted));
    const int64_t chunk_rows = (rows + parts - 1) / parts;
    const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows, items = split.outer_count * chunks;
    const int64_t pick_bytes = arg_pick_bytes(element_size) * cols;
    std::vector<char> picks(static_cast<size_t>(items * pick_bytes));
    engine::thread_pool().parallel_for(items, parallel ? 1 : items, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t o = item / chunks, r0 = (item % chunks) * chunk_rows;
        picks_fn(static_cast<const char*>(x.data) + (split.outer_offsets[size_t(o)] + r0 * cols) * element_size,
                 std::min(chunk_rows, rows - r0), cols, cols, r0, picks.data() + item * pick_bytes);
      }
    });
    const ArgMergePicksFn merge_fn = kernels.arg_merge_picks[is_argmin][dtype];
    for (int64_t o = 0; o < split.outer_count; ++o) merge_fn(picks.data() + o * chunks * pick_bytes, chunks, cols, result + o * cols);
    return;
  }
  if (dtype < kArgDTypes && split.inner_count > 1 && contiguous_inner(split)) {
    // Each outer slice is [axis, inner] rows: the kernel walks the rows for a block of columns.
    const ArgColumnsFn fn = reduction_kernels().arg_columns[is_argmin][dtype];
    const int64_t col_item = column_item(cols, split.outer_count);
    const int64_t blocks = (cols + col_item - 1) / col_item, items = split.outer_count * blocks;
    const int64_t element_size = int64_t(engine::dtype_size(x.dtype));
    const int64_t grain = x.numel() >= kParallelElements ? 1 : items;
    engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t o = item / blocks, j0 = (item % blocks) * col_item;
        fn(static_cast<const char*>(x.data) + (split.outer_offsets[size_t(o)] + j0) * element_size, split.axis_size,
           split.axis_stride, std::min(col_item, cols - j0), result + o * cols + j0);
      }
    });
    return;
  }
  // Other layouts (strided views, bool): one output at a time.
  with_element_type(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* data = static_cast<const T*>(x.data);
    const int64_t count = split.outer_count * split.inner_count;
    const int64_t grain = std::max<int64_t>(1, kElementsPerItem / split.axis_size);
    engine::thread_pool().parallel_for(count, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* p = data + split.outer_offsets[size_t(o / split.inner_count)] +
                     split.inner_offsets[size_t(o % split.inner_count)];
        double best = double(p[0]);
        int32_t best_index = 0;
        for (int64_t k = 1; k < split.axis_size && best == best; ++k) {
          const double v = double(p[k * split.axis_stride]);
          if ((is_argmin ? v < best : v > best) || v != v) {
            best = v;
            best_index = int32_t(k);
          }
        }
        result[o] = best_index;
      }
    });
  });
}

// Rows of a scan along the last axis per work item: the kernel's rows computed together.
constexpr int64_t kScanRowGroup = kScanRows;

// cumsum/cumprod of float32/float64 on the ISA kernels: along the last axis, groups of
// rows; along another, blocks of columns walked down the rows. Returns false for other
// layouts and dtypes.
template <bool is_cumprod>
bool scan_kernels(const TensorView& x, const TensorView& out, const AxisSplit& split) {
  const int dtype = int(x.dtype);
  if (dtype >= kScanDTypes || out.dtype != x.dtype) return false;
  const ReductionIsaTable& kernels = reduction_kernels();
  const int64_t n = split.axis_size, element_size = int64_t(engine::dtype_size(x.dtype));
  const char* data = static_cast<const char*>(x.data);
  char* result = static_cast<char*>(out.data);
  const bool parallel = x.numel() >= kParallelElements;
  // An output past the last-level cache goes to memory anyway: written around the caches.
  const bool stream = engine::past_last_level_cache(out.numel() * element_size);
  if (split.inner_count == 1 && split.axis_stride == 1) {
    const ScanFn fn = kernels.scan_rows[is_cumprod][dtype];
    const int64_t rows = split.outer_count, step = uniform_step(split.outer_offsets);
    const int64_t groups = (rows + kScanRowGroup - 1) / kScanRowGroup;
    const int64_t grain = parallel ? std::max<int64_t>(1, kElementsPerItem / (kScanRowGroup * n)) : groups;
    engine::thread_pool().parallel_for(groups, grain, [&](int64_t begin, int64_t end) {
      for (int64_t g = begin; g < end; ++g) {
        const int64_t r0 = g * kScanRowGroup, count = std::min(kScanRowGroup, rows - r0);
        if (step >= 0) {
          fn(data + r0 * step * element_size, count, step, n, result + r0 * n * element_size, n, stream);
        } else {
          for (int64_t r = r0; r < r0 + count; ++r) {
            fn(data + split.outer_offsets[size_t(r)] * element_size, 1, 0, n, result + r * n * element_size, n, stream);
          }
        }
      }
    });
    return true;
  }
  if (split.inner_count == 1 || !contiguous_inner(split)) return false;
  const ScanFn fn = kernels.scan_columns[is_cumprod][dtype];
  const int64_t cols = split.inner_count, col_item = column_item(cols, split.outer_count);
  const int64_t blocks = (cols + col_item - 1) / col_item, items = split.outer_count * blocks;
  engine::thread_pool().parallel_for(items, parallel ? 1 : items, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t o = item / blocks, j0 = (item % blocks) * col_item;
      fn(data + (split.outer_offsets[size_t(o)] + j0) * element_size, n, split.axis_stride, std::min(col_item, cols - j0),
         result + (o * n * cols + j0) * element_size, cols, stream);
    }
  });
  return true;
}

// cumsum/cumprod: running folds in double along the axis, each prefix stored with JS rules.
template <bool is_cumprod>
void scan_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
              const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const int axis = kernels::reduction_axis(ctx.op_name, attrs, x.shape);
  const AxisSplit split = split_at(x, axis);
  if (scan_kernels<is_cumprod>(x, out, split)) return;
  const int64_t out_inner = engine::shape_numel(Shape(out.shape.begin() + axis + 1, out.shape.end()));
  with_element_type(x.dtype, [&](auto in_tag) {
    using In = decltype(in_tag);
    with_element_type(out.dtype, [&](auto out_tag) {
      using Out = decltype(out_tag);
      const In* data = static_cast<const In*>(x.data);
      Out* result = static_cast<Out*>(out.data);
      // Inner positions in blocks: each block keeps its running values while k advances,
      // so both input and output are read along rows.
      const int64_t block = std::min<int64_t>(split.inner_count, 1024);
      const int64_t blocks = (split.inner_count + block - 1) / block;
      const int64_t items = split.outer_count * blocks;
      const int64_t grain = std::max<int64_t>(1, kElementsPerItem / (block * split.axis_size));
      engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
        std::vector<double> acc(static_cast<size_t>(block));
        for (int64_t item = begin; item < end; ++item) {
          const int64_t o = item / blocks, i0 = (item % blocks) * block;
          const int64_t n = std::min(block, split.inner_count - i0);
          std::fill(acc.begin(), acc.begin() + n, is_cumprod ? 1.0 : 0.0);
          const In* in_base = data + split.outer_offsets[size_t(o)];
          Out* out_base = result + o * split.axis_size * out_inner;
          for (int64_t k = 0; k < split.axis_size; ++k) {
            for (int64_t i = 0; i < n; ++i) {
              const double v = double(in_base[k * split.axis_stride + split.inner_offsets[size_t(i0 + i)]]);
              acc[size_t(i)] = is_cumprod ? acc[size_t(i)] * v : acc[size_t(i)] + v;
              out_base[k * out_inner + i0 + i] = js_convert<Out>(acc[size_t(i)]);
            }
          }
        }
      });
    });
  });
}

// ---------------------------------------------------------------- moments

// Elements of the long runs that moments cuts into parts folded in parallel (then combined
// pairwise): fixed, so results are the same for every thread count; 64 chunks, so the
// one chunk whose passes are not overlapped (moments_rows) costs ~2%.
constexpr int64_t kMomentsSegment = 64 * kMomentsChunk;
// Column (and row-chunk) blocks of a column pass split over threads.
// Items of 4 MiB of float32 ([4096, 4096]: 16; 1 MiB items, chunks of 256 rows, took 1.3-1.6x
// the time: each item's first group comes without a prefetch).
constexpr int64_t kMomentsColumnBlock = 1024;
constexpr int64_t kMomentsChunkRows = 1024;

MomentsPartial combine_pairwise(const MomentsPartial* v, int64_t n) {
  if (n == 1) return v[0];
  const int64_t half = n / 2;
  return combine_moments(combine_pairwise(v, half), combine_pairwise(v + half, n - half));
}

// Layouts, on x made contiguous, after merging dims as the folds do (plan_reduction):
// - the reduced dims end x (rows: trailing axes, all axes): moments_rows per output, long
//   rows (over kMomentsSegment) cut into segments folded in parallel, combined pairwise;
// - one merged reduced dim with kept dims inside it (leading axes, or [outer, n, inner]):
//   moments_columns over the inner kept dims, per outer index, in column blocks and row
//   chunks (combined in order) split over threads;
// - anything else (reduced dims interleaved with kept ones): each output's values gathered
//   into a buffer, then moments_rows on it.
template <class T>
void moments_of(const kernels::KernelContext& ctx, const TensorView& x, const T* data, const std::vector<int>& axes,
                int64_t outputs, T* mean_out, T* var_out) {
  const ReductionIsaTable& table = reduction_kernels();
  const int dtype = std::is_same_v<T, float> ? 0 : 1;
  const int64_t n = x.numel() / outputs;
  const auto store = [&](int64_t o, double mean, double m2, double count) {
    mean_out[o] = T(mean);
    var_out[o] = T(m2 / count);
  };
  TensorView flat = x;
  flat.data = const_cast<T*>(data);
  int64_t stride = 1;
  for (size_t d = x.shape.size(); d-- > 0;) flat.strides[d] = stride, stride *= x.shape[d];
  const ReductionNest nest = plan_reduction(flat, axes);
  const bool parallel = x.numel() >= kParallelElements;
  if ((nest.last_dim_reduced && nest.reduced_sizes.size() == 1) || nest.reduced_sizes.empty()) {
    if (n <= kMomentsSegment) {
      const int64_t claim = std::max<int64_t>(1, kClaimBytes / (n * int64_t(sizeof(T))));
      std::vector<MomentsPartial> parts(static_cast<size_t>(outputs));
      for_each_claim(parallel, outputs, claim, ctx.max_threads, [&](int64_t b, int64_t e) {
        table.moments_rows[dtype](data + b * n, e - b, n, parts.data() + b);
      });
      for (int64_t o = 0; o < outputs; ++o) store(o, parts[size_t(o)].mean, parts[size_t(o)].m2, double(n));
      return;
    }
    const int64_t segments = (n + kMomentsSegment - 1) / kMomentsSegment;
    std::vector<MomentsPartial> parts(size_t(outputs * segments));
    for_each_claim(parallel, outputs * segments, 1, ctx.max_threads, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t o = i / segments, k = (i % segments) * kMomentsSegment;
        table.moments_rows[dtype](data + o * n + k, 1, std::min(kMomentsSegment, n - k), &parts[size_t(i)]);
      }
    });
    for (int64_t o = 0; o < outputs; ++o) {
      const MomentsPartial m = combine_pairwise(parts.data() + o * segments, segments);
      store(o, m.mean, m.m2, double(n));
    }
    return;
  }
  if (nest.reduced_sizes.size() == 1 && nest.kept_sizes.size() <= 2) {
    const int64_t cols = nest.kept_sizes.back(), rows = nest.reduced_sizes[0];
    const int64_t outer = nest.kept_sizes.size() == 2 ? nest.kept_sizes[0] : 1;
    const int64_t blocks = (cols + kMomentsColumnBlock - 1) / kMomentsColumnBlock;
    const int64_t chunks = (rows + kMomentsChunkRows - 1) / kMomentsChunkRows;
    // Per row chunk: mean then m2 of every output.
    std::vector<double> stats(size_t(chunks * 2 * outputs));
    // parallel_for's chunks: claims of one item measured 1.1-1.2x the time here.
    engine::thread_pool().parallel_for(outer * blocks * chunks, parallel ? 1 : outer * blocks * chunks, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t c = i % chunks, j0 = (i / chunks) % blocks * kMomentsColumnBlock, o = i / chunks / blocks;
        const int64_t r0 = c * kMomentsChunkRows;
        double* at = stats.data() + c * 2 * outputs + o * cols + j0;
        table.moments_columns[dtype](data + o * rows * cols + r0 * cols + j0, std::min(kMomentsChunkRows, rows - r0), cols,
                                     std::min(kMomentsColumnBlock, cols - j0), at, at + outputs);
      }
    }, ctx.max_threads);
    for (int64_t o = 0; o < outputs; ++o) {
      MomentsPartial m{0, 0, 0};
      for (int64_t c = 0; c < chunks; ++c) {
        const double* at = stats.data() + c * 2 * outputs;
        m = combine_moments(m, {double(std::min(kMomentsChunkRows, rows - c * kMomentsChunkRows)), at[o], at[outputs + o]});
      }
      store(o, m.mean, m.m2, double(rows));
    }
    return;
  }
  engine::thread_pool().parallel_for(outputs, parallel ? std::max<int64_t>(1, kMomentsSegment / 4 / n) : outputs, [&](int64_t b, int64_t e) {
    std::vector<T> values(static_cast<size_t>(n));
    const size_t kept_rank = nest.kept_sizes.size();
    for (int64_t o = b; o < e; ++o) {
      int64_t x_offset = 0, out_offset = 0;
      if (kept_rank) kept_offsets(nest, o, kept_rank, &x_offset, &out_offset);
      int64_t k = 0;
      for_each_reduced(nest, nest.reduced_sizes.size(), [&](int64_t offset) { values[size_t(k++)] = data[x_offset + offset]; });
      MomentsPartial m;
      table.moments_rows[dtype](values.data(), 1, n, &m);
      store(out_offset, m.mean, m.m2, double(n));
    }
  }, ctx.max_threads);
}

// moments {axes, keepdims}: mean and population variance, both in x's dtype.
void moments_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
                 const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const std::vector<int> axes = kernels::reduction_axes(ctx.op_name, attrs, x.rank());
  const int64_t count = outputs[0].numel();
  if (count == 0) return;
  if (x.numel() == 0) {  // an empty axis: 0 / 0, as js
    for (int64_t i = 0; i < count; ++i) store_js(outputs[0], i, NAN), store_js(outputs[1], i, NAN);
    return;
  }
  if (x.dtype == engine::DType::Float32) {
    std::vector<float> s;
    moments_of<float>(ctx, x, contiguous_data<float>(x, s), axes, count, outputs[0].as<float>(),
                      outputs[1].as<float>());
  } else {
    std::vector<double> s;
    moments_of<double>(ctx, x, contiguous_data<double>(x, s), axes, count, outputs[0].as<double>(),
                       outputs[1].as<double>());
  }
}

// ---------------------------------------------------------------- logsumexp

// The js kernel's value of a row from its max m (NaN if the row has one, as Math.max) and
// the rest: an infinite or NaN max is the result (all -inf: -inf).
template <class T>
double logsumexp_scalar(const T* x, int64_t n, int64_t stride) {
  double m = -INFINITY;
  for (int64_t k = 0; k < n; ++k) m = (double(x[k * stride]) > m || x[k * stride] != x[k * stride]) ? double(x[k * stride]) : m;
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += std::exp(double(x[k * stride]) - m);
  return m + std::log(s);
}

// logsumexp {axis}: x as [outer, n, inner], one output per (outer, inner) row. float32 rows
// run softmax's log-sum rows (max pass, then the exp-sum pass in L1 alongside the next
// row's max, softmax_kernels.h), rows of a non-last axis gathered into a buffer first; a
// row whose max is not finite, and float64 rows, take the js kernel's steps.
void logsumexp_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>& inputs,
                   const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& x = inputs[0];
  const int64_t axis = attrs.get_int("logsumexp", "axis", 0);
  const int64_t n = x.shape[size_t(axis)];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[size_t(d)];
  const int64_t rows = outer * inner;
  if (rows == 0) return;
  if (n == 0) {  // log(0)
    for (int64_t i = 0; i < rows; ++i) store_js(outputs[0], i, -INFINITY);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, 16384 / n);
  const auto row_base = [&](int64_t r) { return (r / inner) * n * inner + r % inner; };
  if (x.dtype == engine::DType::Float64) {
    std::vector<double> s;
    const double* data = contiguous_data<double>(x, s);
    double* y = outputs[0].as<double>();
    engine::thread_pool().parallel_for(rows, grain, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) y[r] = logsumexp_scalar(data + row_base(r), n, inner);
    }, ctx.max_threads);
    return;
  }
  std::vector<float> s;
  const float* data = contiguous_data<float>(x, s);
  float* y = outputs[0].as<float>();
  const SoftmaxIsaTable& softmax = for_active_isa(kSoftmaxAvx512, kSoftmaxAvx2, kSoftmaxPortable);
  engine::thread_pool().parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    std::vector<double> ms(size_t(e - b)), lses(size_t(e - b));
    std::vector<float> gathered;
    if (inner == 1) {
      softmax.f32_lse_rows(data + b * n, e - b, n, ms.data(), lses.data());
    } else {
      gathered.resize(size_t(n));
      for (int64_t r = b; r < e; ++r) {
        const float* base = data + row_base(r);
        for (int64_t k = 0; k < n; ++k) gathered[size_t(k)] = base[k * inner];
        softmax.f32_lse_rows(gathered.data(), 1, n, &ms[size_t(r - b)], &lses[size_t(r - b)]);
      }
    }
    for (int64_t r = b; r < e; ++r) {
      const double m = ms[size_t(r - b)];
      y[r] = std::isfinite(m) ? float(m + lses[size_t(r - b)]) : float(logsumexp_scalar(data + row_base(r), n, inner));
    }
  }, ctx.max_threads);
}

}  // namespace

void register_reductions(kernels::KernelRegistry& registry) {
  registry.register_kernel("argmax", engine::Device::CPU, arg_cpu<false>);
  registry.register_kernel("argmin", engine::Device::CPU, arg_cpu<true>);
  registry.register_kernel("cumsum", engine::Device::CPU, scan_cpu<false>);
  registry.register_kernel("cumprod", engine::Device::CPU, scan_cpu<true>);
  registry.register_kernel("moments", engine::Device::CPU, moments_cpu);
  registry.register_kernel("logsumexp", engine::Device::CPU, logsumexp_cpu);
#define KERAS_REGISTER_REDUCE(name, Enum, kind) \
  registry.register_kernel(#name, engine::Device::CPU, reduce_cpu<kernels::ReduceOp::Enum>);
  KERAS_REDUCE_OPS(KERAS_REGISTER_REDUCE)
#undef KERAS_REGISTER_REDUCE
}

}  // namespace keras::cpu
