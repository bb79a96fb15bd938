#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "../engine/allocator.h"
#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "isa.h"
#include "transpose.h"
#include "workspace.h"

namespace keras::cpu {
namespace {

int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }
int64_t round_down_at_least(int64_t x, int64_t multiple) { return std::max(multiple, x / multiple * multiple); }
int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

// C[0:m, 0:cols] = alpha * A * B + beta * C by the rows kernels, kGemmRowsMax rows of A at a
// time: A's element (i, p) at a[i * rsa + p * csa], B's row p at b + p * rsb, and cols at
// most lanes * vectors.
template <class T>
void rows_product(const GemmRowsKernels<T>& kernels, int64_t k, int64_t m, const T* a, int64_t rsa, int64_t csa,
                  const T* b, int64_t rsb, T* c, int64_t ldc, int64_t cols, T alpha, T beta) {
  const size_t nv = size_t(ceil_div(cols, kernels.lanes)) - 1;
  for (int64_t i0 = 0; i0 < m; i0 += kGemmRowsMax) {
    const int64_t rows = std::min<int64_t>(kGemmRowsMax, m - i0);
    kernels.run[size_t(rows - 1)][nv](k, a + i0 * rsa, rsa, csa, b, rsb, c + i0 * ldc, ldc, cols, alpha, beta);
  }
}

// Per-thread packing space.
thread_local Workspace t_workspace;

// Elements of packing space, rounded to whole cache lines so regions stay aligned.
template <class T>
int64_t line_elems(int64_t elems) {
  return round_up(elems, int64_t(64 / sizeof(T)));
}

template <class T>
struct Problem {
  const GemmMicrokernel<T>& kernel;
  GemmBlocking blocking;
  T alpha, beta;
  int64_t rsa, csa, rsb, csb, rsc;
  // Whole NR-column panels of a row-major B read in place, unpacked (see kInPlaceMaxRows).
  bool b_in_place = false;
};

// Whether whole panels of B are read in place rather than packed: B row-major (its NR
// columns of a k row side by side) and few rows of A to reuse a packed panel. Packing
// then costs a copy of B per call for a few passes over it: the weights of a Dense layer
// (batch 128, [784, 512] float32: packing was 8% of an MLP train step), or an RNN's
// recurrent kernel at every timestep. Many rows of A amortize the copy, and its
// contiguous panels stay in L1, where rows of B thousands of floats apart would not.
constexpr int64_t kInPlaceMaxRows = 512;

// The two innermost loops: every MR x NR tile of C[0:mc, 0:nc] from packed panels of A
// and packed panels of B, or for whole panels, when b_src is given (p.b_in_place), B's
// rows in place from b_src (column jc of the block, k row pc).
template <class T>
void macro_kernel(const Problem<T>& p, int64_t mc, int64_t nc, int64_t kc, const T* a_packed, const T* b_packed,
                  const T* b_src, T* c, T beta, T* edge) {
  const int mr = p.kernel.mr, nr = p.kernel.nr;
  for (int64_t jr = 0; jr < nc; jr += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - jr);
    const bool in_place = b_src && cols == nr;
    const T* b_panel = in_place ? b_src + jr : b_packed + jr * kc;
    const int64_t b_step = in_place ? p.rsb : nr;
    for (int64_t ir = 0; ir < mc; ir += mr) {
      const int64_t rows = std::min<int64_t>(mr, mc - ir);
      const T* a_panel = a_packed + ir * kc;
      T* c_tile = c + ir * p.rsc + jr;
      if (rows == mr && cols == nr) {
        p.kernel.run(kc, a_panel, b_panel, b_step, c_tile, p.rsc, p.alpha, beta);
        continue;
      }
      if (rows < mr && cols <= int64_t(p.kernel.rows.lanes) * p.kernel.rows.vectors) {
        // The last rows of A, fewer than MR: the rows kernels over the same panels (A's
        // element (i, p) at a_panel[p * mr + i]), no FMA spent on the padding rows and
        // nothing merged. A batch-32 RNN's 32 x 128 x 128 products: 14 + 14 + 4 rows.
        rows_product(p.kernel.rows, kc, rows, a_panel, 1, mr, b_panel, b_step, c_tile, p.rsc, cols, p.alpha, beta);
        continue;
      }
      // Edge tile: compute the full register tile aside, merge the valid part.
      p.kernel.run(kc, a_panel, b_panel, b_step, edge, nr, T(1), T(0));
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          const T old = beta == T(0) ? T(0) : beta * c_tile[i * p.rsc + j];
          c_tile[i * p.rsc + j] = p.alpha * edge[i * nr + j] + old;
        }
      }
    }
  }
}

// An empty sum: C = beta * C, and beta == 0 writes zeros even over NaN.
template <class T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t rsc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) c[i * rsc + j] = beta == T(0) ? T(0) : beta * c[i * rsc + j];
  }
}

// One thread's independent share, C[0:m, 0:n] of one matrix: all five loops,
// packing both operands into its own workspace.
template <class T>
void gemm_tile(const Problem<T>& p, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  if (k == 0) return scale_c(m, n, p.beta, c, p.rsc);
  const int mr = p.kernel.mr, nr = p.kernel.nr;
  const int64_t kc_max = std::min(p.blocking.kc, k);
  const int64_t a_elems = line_elems<T>(round_up(std::min(p.blocking.mc, m), mr) * kc_max);
  const int64_t b_elems = line_elems<T>(round_up(std::min(p.blocking.nc, n), nr) * kc_max);
  T* a_packed = static_cast<T*>(t_workspace.get(sizeof(T) * size_t(a_elems + b_elems + mr * nr)));
  T* b_packed = a_packed + a_elems;
  T* edge = b_packed + b_elems;
  for (int64_t jc = 0; jc < n; jc += p.blocking.nc) {
    const int64_t nc = std::min(p.blocking.nc, n - jc);
    for (int64_t pc = 0; pc < k; pc += p.blocking.kc) {
      const int64_t kc = std::min(p.blocking.kc, k - pc);
      const T beta = pc == 0 ? p.beta : T(1);  // later k blocks accumulate
      const T* b_block = b + pc * p.rsb + jc * p.csb;
      // In place, only a last partial panel is packed (at its place in b_packed).
      const int64_t packed_from = p.b_in_place ? nc / nr * nr : 0;
      if (packed_from < nc) {
        p.kernel.pack_b(kc, nc - packed_from, b_block + packed_from * p.csb, p.rsb, p.csb, b_packed + packed_from * kc);
      }
      for (int64_t ic = 0; ic < m; ic += p.blocking.mc) {
        const int64_t mc = std::min(p.blocking.mc, m - ic);
        p.kernel.pack_a(mc, kc, a + ic * p.rsa + pc * p.csa, p.rsa, p.csa, a_packed);
        macro_kernel(p, mc, nc, kc, a_packed, b_packed, p.b_in_place ? b_block : nullptr, c + ic * p.rsc + jc, beta,
                     edge);
      }
    }
  }
}

// One matrix on several threads sharing each packed B block, with no barrier.
// B blocks (one per (jc, pc) step) alternate between two buffers. The NR-column
// panels of a block, then its units of A rows, are claimed from shared counters
// by whichever threads are running, so a late or descheduled thread holds nobody
// up, and a thread out of units in one block goes on to pack and compute the
// next while others finish (no idle tail per block, only at the very end).
// Ordering: a block's units start once all its panels are packed; a unit (rows
// of C, accumulated over k blocks) starts once the same unit of the previous
// block is done; a buffer is repacked once every unit of the block that last
// read it is done. Every wait is on work that another thread has claimed.
template <class T>
struct SharedLayout {
  int64_t a_elems, b_elems, edge_elems;
  size_t bytes(int threads) const {
    return sizeof(T) * size_t(2 * b_elems + threads * (a_elems + edge_elems));
  }
};

struct alignas(64) SharedBlock {
  std::atomic<int64_t> panels_claimed{0}, panels_packed{0}, units_claimed{0}, units_done{0};
};

struct alignas(64) UnitProgress {
  std::atomic<int64_t> blocks_done{0};
};

// Waits are short on a quiet machine (one panel being packed, the tail of one
// unit); on a busy one the thread waited for may be descheduled, so the waiter
// spins, then yields, then sleeps briefly and frees the core.
template <class Ready>
void wait_until(const Ready& ready) {
  for (int spins = 0; !ready(); ++spins) {
    if (spins < 4096) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else if (spins < 4096 + 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
}

template <class T>
struct SharedGemm {
  const Problem<T>& p;
  int64_t m, n, k;
  const T *a, *b;
  T* c;
  int64_t unit_rows, units;
  // The last block splits each unit into `last_parts` row ranges of at most
  // last_rows: nothing follows it to keep the others busy, so the final
  // imbalance between threads is a fraction of a unit.
  int64_t last_block, last_rows, last_parts;
  SharedLayout<T> layout;
  T* memory;
  SharedBlock* blocks;
  UnitProgress* progress;

  // Thread `slot`'s part: everything it can claim, in block order.
  void run(int slot) const {
    const int nr = p.kernel.nr;
    T* const b_buffers[2] = {memory, memory + layout.b_elems};
    T* a_packed = memory + 2 * layout.b_elems + slot * (layout.a_elems + layout.edge_elems);
    T* edge = a_packed + layout.a_elems;
    int64_t block = 0;
    for (int64_t jc = 0; jc < n; jc += p.blocking.nc) {
      const int64_t nc = std::min(p.blocking.nc, n - jc), panels = ceil_div(nc, nr);
      for (int64_t pc = 0; pc < k; pc += p.blocking.kc, ++block) {
        const int64_t kc = std::min(p.blocking.kc, k - pc);
        const T beta = pc == 0 ? p.beta : T(1);  // later k blocks accumulate
        SharedBlock& s = blocks[block];
        T* b_packed = b_buffers[block % 2];
        // Block - 2 is never the last, so it had one part per unit.
        if (block >= 2) wait_until([&] { return blocks[block - 2].units_done.load(std::memory_order_acquire) == units; });
        const T* b_block = b + pc * p.rsb + jc * p.csb;
        for (int64_t panel; (panel = s.panels_claimed.fetch_add(1, std::memory_order_relaxed)) < panels;) {
          const int64_t j0 = panel * nr, cols = std::min<int64_t>(nr, nc - j0);
          if (!p.b_in_place || cols < nr) p.kernel.pack_b(kc, cols, b_block + j0 * p.csb, p.rsb, p.csb, b_packed + j0 * kc);
          s.panels_packed.fetch_add(1, std::memory_order_release);
        }
        wait_until([&] { return s.panels_packed.load(std::memory_order_acquire) == panels; });
        const int64_t parts = block == last_block ? last_parts : 1, part_rows = parts > 1 ? last_rows : unit_rows;
        for (int64_t claim; (claim = s.units_claimed.fetch_add(1, std::memory_order_relaxed)) < units * parts;) {
          const int64_t unit = claim / parts;
          UnitProgress& rows = progress[unit];
          wait_until([&] { return rows.blocks_done.load(std::memory_order_acquire) == block; });
          const int64_t ic = unit * unit_rows + claim % parts * part_rows;
          const int64_t mc = std::min({part_rows, m - ic, (unit + 1) * unit_rows - ic});
          if (mc > 0) {
            p.kernel.pack_a(mc, kc, a + ic * p.rsa + pc * p.csa, p.rsa, p.csa, a_packed);
            macro_kernel(p, mc, nc, kc, a_packed, b_packed, p.b_in_place ? b_block : nullptr, c + ic * p.rsc + jc, beta,
                         edge);
          }
          if (parts == 1) rows.blocks_done.store(block + 1, std::memory_order_release);
          s.units_done.fetch_add(1, std::memory_order_release);
        }
      }
    }
  }
};

template <class T>
void gemm_shared(const Problem<T>& p, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c, int threads) {
  const int mr = p.kernel.mr, nr = p.kernel.nr;
  // Units of at most mc rows, and at least two per thread, so that the last
  // block ends with little idle time.
  const int64_t unit_rows = std::min(p.blocking.mc, round_up(ceil_div(m, 2 * int64_t(threads)), mr));
  const int64_t kc_max = std::min(p.blocking.kc, k);
  const SharedLayout<T> layout{line_elems<T>(unit_rows * kc_max),
                               line_elems<T>(round_up(std::min(p.blocking.nc, n), nr) * kc_max), line_elems<T>(mr * nr)};
  const int64_t blocks = ceil_div(n, p.blocking.nc) * ceil_div(k, p.blocking.kc);
  std::vector<SharedBlock> block_state(static_cast<size_t>(blocks));
  std::vector<UnitProgress> progress(static_cast<size_t>(ceil_div(m, unit_rows)));
  const size_t bytes = layout.bytes(threads);
  auto& allocator = engine::host_allocator();
  T* memory = static_cast<T*>(allocator.allocate(bytes));
  const int64_t last_rows = std::min(unit_rows, round_up(ceil_div(unit_rows, 4), mr));
  const SharedGemm<T> job{p, m, n, k, a, b, c, unit_rows, ceil_div(m, unit_rows), blocks - 1, last_rows,
                          ceil_div(unit_rows, last_rows), layout, memory, block_state.data(), progress.data()};
  try {
    // Nothing in run() throws. If the pool runs the slots one after another
    // (busy or nested), the first does all the work and the rest find none.
    engine::thread_pool().parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t slot = begin; slot < end; ++slot) job.run(int(slot));
    }, threads);
  } catch (...) {
    allocator.deallocate(memory, bytes);
    throw;
  }
  allocator.deallocate(memory, bytes);
}

template <class T>
const GemmMicrokernel<T>& select_kernel(const IsaKernelTable& table);
template <>
const GemmMicrokernel<float>& select_kernel<float>(const IsaKernelTable& table) {
  return table.f32_gemm;
}
template <>
const GemmMicrokernel<double>& select_kernel<double>(const IsaKernelTable& table) {
  return table.f64_gemm;
}

}  // namespace

GemmBlocking gemm_blocking(int mr, int nr, int element_size) {
  if (const char* env = std::getenv("KERAS_GEMM_BLOCKING")) {
    long long mc = 0, kc = 0, nc = 0;
    if (std::sscanf(env, "%lld,%lld,%lld", &mc, &kc, &nc) == 3 && mc > 0 && kc > 0 && nc > 0) {
      return {round_down_at_least(mc, mr), kc, round_down_at_least(nc, nr)};
    }
  }
  const auto& info = engine::cpu_info();
  // kc: long enough that the C tile update (MR x NR loads and stores per call)
  // is a small part of the k loop. Twice L1's worth of B panel measured best on
  // Zen 4/5 (the panel streams well from L2; a 256 kc lost 4-8% to C updates).
  int64_t kc = 2 * info.l1d_bytes / (int64_t(nr) * element_size);
  kc = std::clamp<int64_t>(kc / 8 * 8, 256, 512);
  int64_t mc = info.l2_bytes / 2 / (kc * element_size);
  // And the C strip a B panel's pass writes (mc x NR, each tile prefetched into L1 by the
  // micro-kernel) within 3/8 of L1, beside the panel: a 252-row strip (all of a 32 KiB L1)
  // pushed the panel out. Zen 4, 2 threads, interleaved: [2048,128]x[128,512] 1.88 -> 1.34 ms,
  // [25088,128]x[128,256] 11.9 -> 8.8, [4096,256]x[256,256] 3.14 -> 2.61, 1024^3 3% faster,
  // 2048^3 level (flat from 70 to 112 rows; 126 already lost a little).
  mc = std::min(mc, info.l1d_bytes * 3 / 8 / (int64_t(nr) * element_size));
  mc = std::clamp<int64_t>(round_down_at_least(mc, mr), mr, 4096);
  int64_t l3_share = info.l3_bytes / std::max(1, info.l3_sharing_cores);
  int64_t nc = l3_share / 2 / (kc * element_size);
  nc = std::clamp<int64_t>(round_down_at_least(nc, nr), nr, 8192);
  return {mc, kc, nc};
}

namespace {

// Rows of B a streaming band adds into C (gemm_rows).
constexpr int64_t kGemmRowsBand = 16;

// A product of a few rows against a B past twice L2 (gemv_split): k in at most kGemvSlices
// slices, of at most kGemvSliceBytes of B each and whole bands of kGemvBand rows (a band's rows
// are read side by side: 8 measured ahead of 4, 12, 16 and 32 on the widest rows, level on others).
constexpr int64_t kGemvSlices = 8;
constexpr int64_t kGemvSliceBytes = int64_t(4) << 20;
constexpr int64_t kGemvBand = 8;
// Shorter sums stay on the column bands: their C is a larger part of the traffic, and they
// would have few slices to share out.
constexpr int64_t kGemvMinDepth = 256;

// C = alpha * A B + beta * C for at most kGemmRowsMax rows of A against a row-major B past
// twice L2. The rows kernels split B by columns: each thread read each row of B as a short run
// and held only a few vectors of C, and B came at 40-60% of the rate a sum reads it. Here k is
// cut in slices (fixed by size, so the sum's order and bits do not depend on the thread count),
// each slice's rows read in bands across all columns into its own partial rows of C, the
// partials added in order at the end. Zen 5, 2 threads, one process, the same tensors:
// [1,4096]x[4096,4096] 2.04-2.22 -> 1.24-1.45 ms (a sum of B: 1.27-1.34), [1,2048]x[2048,1024]
// 78-127 -> 60-70 us, [1,1024]x[1024,1024] 60 -> 35 us, [1,16384]x[16384,512] 1.05-1.09 ->
// 0.47-0.49 ms; two rows [2,4096]x[4096,4096] 1.84 -> 1.35 ms, four 1.90 -> 1.69.
template <class T>
void gemv_split(const GemmBatch<T>& g, const GemmRowsKernels<T>& kernels, int threads, const T* a, const T* b, T* c) {
  const int64_t row_bytes = g.n * int64_t(sizeof(T));
  const int64_t most_rows = std::max<int64_t>(1, kGemvSliceBytes / row_bytes);
  // Slices of at least 16 rows of B per row of A: the partials' traffic stays a small part of B's.
  const int64_t most_slices = std::clamp<int64_t>(g.k / (16 * g.m), 1, kGemvSlices);
  const int64_t slice = round_up(std::min(ceil_div(g.k, most_slices), most_rows), kGemvBand);
  const int64_t slices = ceil_div(g.k, slice), outputs = g.m * g.n;
  const GemvBandFn<T> band = kernels.gemv_band[size_t(g.m - 1)];
  // Not zeroed: the first band of each slice writes its partial.
  Scratch<T> partial(slices * outputs);
  engine::thread_pool().parallel_for(slices, 1, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      const int64_t first = s * slice, last = std::min(g.k, first + slice);
      for (int64_t p0 = first; p0 < last; p0 += kGemvBand) {
        band(std::min(kGemvBand, last - p0), a + p0 * g.a_col_stride, g.a_row_stride, g.a_col_stride,
             b + p0 * g.b_row_stride, g.b_row_stride, partial.get() + s * outputs, g.n, g.n, p0 > first);
      }
    }
  }, threads);
  T* total = partial.get();
  for (int64_t s = 1; s < slices; ++s) {
    const T* from = total + s * outputs;
    for (int64_t j = 0; j < outputs; ++j) total[j] += from[j];
  }
  for (int64_t i = 0; i < g.m; ++i) {
    const T* sum = total + i * g.n;
    T* to = c + i * g.c_row_stride;
    // beta == 0: C is write-only (a NaN in it never leaks through).
    for (int64_t j = 0; j < g.n; ++j) to[j] = g.beta == T(0) ? g.alpha * sum[j] : g.alpha * sum[j] + g.beta * to[j];
  }
}

// Fewer rows of A than the micro-kernel's MR, or at most half its NR columns, and a row-major
// B: the rows kernels over blocks of columns (the widest the ISA's registers hold) split over
// threads, each block's rows of A in groups of kGemmRowsMax while its slice of B stays in cache,
// and the rows split too where the blocks are fewer than the threads. B is read about once and
// nothing is packed; the MR-row kernel spent MR - m of its MR rows of FMAs on padding (a
// 1 x 784 x 128 product ran at 7 GFLOP/s), and NR - n of its NR columns (a classifier's
// 128 x 512 x 10 logits at 25).
template <class T, class A, class B, class C>
void gemm_rows(const GemmBatch<T>& g, const GemmRowsKernels<T>& kernels, int threads, const A& a_of, const B& b_of,
               const C& c_of) {
  const int64_t width = int64_t(kernels.lanes) * kernels.vectors;
  const int64_t blocks = ceil_div(g.n, width);
  const int64_t parts = std::clamp<int64_t>(ceil_div(threads, g.batch * blocks), 1, ceil_div(g.m, kGemmRowsMax));
  const int64_t part_rows = round_up(ceil_div(g.m, parts), kGemmRowsMax);
  const int64_t items = g.batch * blocks * parts;
  // A B past L2 comes from memory: a few rows of A split k (gemv_split, from twice L2); more
  // rows walk B in bands of rows across a thread's whole range of columns (each row's part read in
  // order), adding each band into C, rather than block by block down all k rows (a few lines a
  // row, rows a stride apart: a 4096 x 4096 matrix-vector product read B at half the copy
  // bandwidth).
  const double b_bytes = double(g.k) * double(g.n) * double(sizeof(T));
  const bool streams = b_bytes > double(engine::cpu_info().l2_bytes);
  // (At 1.2-1.6 MB, 13-18 us a call, the bands below were level or ahead.)
  const bool sliced = g.m <= kGemmRowsMax && g.k >= kGemvMinDepth && g.batch == 1;
  if (sliced && b_bytes >= 2 * double(engine::cpu_info().l2_bytes)) {
    return gemv_split(g, kernels, threads, a_of(0), b_of(0), c_of(0));
  }
  const int64_t band = streams ? kGemmRowsBand : g.k;  // k > 0 here (gemm)
  // A B past the last-level cache: each item also requests its block of the next band into L2,
  // as it goes. The hardware prefetchers kept too few of a band's row streams in flight:
  // [1,4096]x[4096,4096] (then by these bands) 2.0-3.1 -> 1.7-2.3 ms on 2 threads (eight
  // alternations; two bands ahead read the same). A B in L3 has its lines near already, and the
  // prefetches only cost (8 MiB: 78-86 -> 91-95 us).
  const bool prefetch = streams && engine::past_last_level_cache(int64_t(b_bytes));
  auto run_items = [&](int64_t begin, int64_t end) {
    for (int64_t p0 = 0; p0 < g.k; p0 += band) {
      const int64_t kc = std::min(band, g.k - p0);
      const T beta = p0 == 0 ? g.beta : T(1);
      for (int64_t item = begin; item < end; ++item) {
        const int64_t batch = item / (blocks * parts), j0 = item / parts % blocks * width, i0 = item % parts * part_rows;
        const int64_t cols = std::min(width, g.n - j0), rows = std::min(part_rows, g.m - i0);
        if (rows <= 0) continue;
        rows_product(kernels, kc, rows, a_of(batch) + i0 * g.a_row_stride + p0 * g.a_col_stride, g.a_row_stride,
                     g.a_col_stride, b_of(batch) + p0 * g.b_row_stride + j0, g.b_row_stride,
                     c_of(batch) + i0 * g.c_row_stride + j0, g.c_row_stride, cols, g.alpha, beta);
        if (prefetch && i0 == 0 && p0 + band < g.k) {  // (rows of A split in parts share B's block)
          const T* ahead = b_of(batch) + (p0 + band) * g.b_row_stride + j0;
          const int64_t ahead_rows = std::min(band, g.k - p0 - band);
          for (int64_t r = 0; r < ahead_rows; ++r)
            for (int64_t j = 0; j < cols; j += 64 / int64_t(sizeof(T))) __builtin_prefetch(ahead + r * g.b_row_stride + j, 0, 1);
        }
      }
    }
  };
  threads = int(std::min<int64_t>(threads, items));
  if (threads <= 1) {
    run_items(0, items);
  } else {
    // Contiguous ranges of column blocks, so a thread's bands are long runs of each row: one a
    // thread for a B in L2, two a thread (claimed as threads come) when B streams. With one a
    // thread, two threads often took longer than one on a streaming B (Zen 5, calls back to back,
    // in-process medians: [4,784,512] 34-37 us on 2 threads, 28.5 on 1); with two: [4,784,512]
    // 21-22 us, [8,784,512] 77-81 -> 52, [3,700,512] 32 -> 23, [6,1000,1000] 175 -> 131, and
    // [8,1024,1024], [13,2048,1024], [10,4096,4096], one row level. For a B in L2 two a thread
    // were slower ([2,512,512] 8.8 -> 13.0 us, [8,512,512] 15.8 -> 17.2).
    const int64_t ranges = streams ? 2 * int64_t(threads) : threads;
    engine::thread_pool().parallel_for(items, ceil_div(items, ranges), run_items, threads);
  }
}

// Products of k up to this are the rows kernels' too (gemm_rows): packing then costs as
// much as the product, and the micro-kernel's tiles update C after a few FMAs each. Raw
// runOp medians alternated in one process (Zen 5, avx512, 2 threads), against packed panels:
// [4096,1]x[1,4096] (an outer product, 64 MiB written) 7.2 -> 2.0 ms (zerosLike of it: 1.6),
// [1024,2]x[2,1024] 0.23x, [2048,8]x[8,2048] 0.19x, [1024,32]x[32,1024] 0.73x,
// [2048,64]x[64,2048] 0.85x, [256,64]x[64,256] 0.88x; k = 128 was mixed ([512,128]x[128,512]
// 0.61x, [1024,128]x[128,1024] 1.05x) and k = 256 slower ([256,256]x[256,256] 2.3x).
constexpr int64_t kGemmRowsMaxDepth = 64;

// Columns of C up to this many, each value a dot product (gemm_dots).
constexpr int64_t kGemmDotsMaxColumns = 4;

// Rows of A contiguous along k, k of a few vectors at least, and few columns of C (at most
// kGemmDotsMaxColumns) or few rows against a transposed B: each value of C a dot product of
// a row of A and a column of B, so A streams through once in order. The rows kernels would
// hold C's few columns in the lanes of one vector, all but n of each FMA's lanes idle, A
// broadcast a value at a time: [4096,4096]x[4096,1] took 2.9x the time of a sum over the same
// matrix; and few rows against a transposed B went through packed panels, mostly padding
// ([1,512]x[512,512]^T 46 us, the row-major B 15.5). B's columns are read in place when
// contiguous along k (a column vector, a transposed B), packed otherwise. Each thread takes
// whole blocks of rows, every column of them while the rows are in its cache, or a range of
// columns where the rows are fewer than the threads.
template <class T, class A, class B, class C>
void gemm_dots(const GemmBatch<T>& g, const GemmRowsKernels<T>& kernels, int threads, const A& a_of, const B& b_of,
               const C& c_of) {
  const bool packs_b = g.b_row_stride != 1;
  const int64_t parts = std::clamp<int64_t>(ceil_div(threads, g.batch), 1, ceil_div(g.m, kGemmRowsMax));
  const int64_t part_rows = round_up(ceil_div(g.m, parts), kGemmRowsMax);
  const int64_t column_parts = packs_b ? 1 : std::clamp<int64_t>(ceil_div(threads, g.batch * parts), 1, g.n);
  const int64_t part_columns = ceil_div(g.n, column_parts);
  const int64_t items = g.batch * parts * column_parts;
  auto run_items = [&](int64_t begin, int64_t end) {
    T* columns = packs_b ? static_cast<T*>(t_workspace.get(sizeof(T) * size_t(g.n * g.k))) : nullptr;
    int64_t packed = -1;  // the matrix whose B columns are in `columns`
    for (int64_t item = begin; item < end; ++item) {
      const int64_t batch = item / (parts * column_parts), i0 = item / column_parts % parts * part_rows;
      const int64_t j0 = item % column_parts * part_columns, j1 = std::min(g.n, j0 + part_columns);
      const int64_t rows = std::min(part_rows, g.m - i0);
      if (rows <= 0) continue;
      const T* b = b_of(batch);
      if (packs_b && packed != batch) {
        for (int64_t j = 0; j < g.n; ++j)
          for (int64_t p = 0; p < g.k; ++p) columns[j * g.k + p] = b[p * g.b_row_stride + j * g.b_col_stride];
        packed = batch;
      }
      const T* a = a_of(batch) + i0 * g.a_row_stride;
      T* c = c_of(batch) + i0 * g.c_row_stride;
      for (int64_t i = 0; i < rows; i += kGemmRowsMax) {
        const int64_t count = std::min<int64_t>(kGemmRowsMax, rows - i);
        for (int64_t j = j0; j < j1; ++j) {
          const T* column = packs_b ? columns + j * g.k : b + j * g.b_col_stride;
          kernels.dots[size_t(count - 1)](g.k, a + i * g.a_row_stride, g.a_row_stride, column,
                                          c + i * g.c_row_stride + j, g.c_row_stride, g.alpha, g.beta);
        }
      }
    }
  };
  threads = int(std::min<int64_t>(threads, items));
  if (threads <= 1) {
    run_items(0, items);
  } else {
    engine::thread_pool().parallel_for(items, ceil_div(items, threads), run_items, threads);
  }
}

// A transposed B's storage (B's columns contiguous, column j at b + j * ldbt) written as
// row-major B, [k, n], at dst: the ISA's block transposes over tiles of its shape, on up to
// `threads` threads.
template <class T>
void transpose_b(const T* b, int64_t ldbt, int64_t k, int64_t n, T* dst, int threads) {
  const TransposeIsaTable& kernels = for_active_isa(kTransposeAvx512, kTransposeAvx2, kTransposePortable);
  const TransposeBlockFn block = sizeof(T) == 4 ? kernels.bytes4 : kernels.bytes8;
  const int64_t tile_j = kernels.tile_rows, tile_p = kernels.tile_row_bytes / int64_t(sizeof(T));
  const int64_t tiles_p = ceil_div(k, tile_p), tiles = ceil_div(n, tile_j) * tiles_p;
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t j0 = tile / tiles_p * tile_j, p0 = tile % tiles_p * tile_p;
      block(b + j0 * ldbt + p0, ldbt, dst + p0 * n + j0, n, std::min(tile_j, n - j0), std::min(tile_p, k - p0), false);
    }
  };
  if (threads > 1) {
    engine::thread_pool().parallel_for(tiles, ceil_div(tiles, 4 * int64_t(threads)), run, threads);
  } else {
    run(0, tiles);
  }
}

// One transposed B of k up to this is transposed for the rows kernels (in gemm), into
// scratch at most kTransposedBMaxBytes large.
constexpr int64_t kTransposedBMaxDepth = 32;
constexpr int64_t kTransposedBMaxBytes = int64_t(16) << 20;

}  // namespace

template <class T>
void gemm_impl(const GemmBatch<T>& g, int max_threads);

// KERAS_GEMM_LOG=1: each product's shape, operand strides and time on stderr, a line each:
// which products a model's step runs and how fast each goes, for tuning the paths below.
template <class T>
void gemm(const GemmBatch<T>& g, int max_threads) {
  static const bool log = [] {
    const char* v = std::getenv("KERAS_GEMM_LOG");
    return v && std::strcmp(v, "1") == 0;
  }();
  if (!log) return gemm_impl(g, max_threads);
  const auto start = std::chrono::steady_clock::now();
  gemm_impl(g, max_threads);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "gemm f%d batch %lld m %lld n %lld k %lld A strides %lld %lld B strides %lld %lld: %.1f us\n",
               int(8 * sizeof(T)), (long long)g.batch, (long long)g.m, (long long)g.n, (long long)g.k,
               (long long)g.a_row_stride, (long long)g.a_col_stride, (long long)g.b_row_stride, (long long)g.b_col_stride, us);
}

template <class T>
void gemm_impl(const GemmBatch<T>& g, int max_threads) {
  if (g.batch <= 0 || g.m <= 0 || g.n <= 0) return;
  const GemmMicrokernel<T>& kernel = select_kernel<T>(active_kernels());
  const Problem<T> p{kernel, gemm_blocking(kernel.mr, kernel.nr, int(sizeof(T))), g.alpha, g.beta,
                     g.a_row_stride, g.a_col_stride, g.b_row_stride, g.b_col_stride, g.c_row_stride,
                     g.b_col_stride == 1 && g.m <= kInPlaceMaxRows};
  engine::ThreadPool& pool = engine::thread_pool();
  auto a_of = [&](int64_t i) { return g.a + (g.a_offsets.empty() ? 0 : g.a_offsets[size_t(i)]); };
  auto b_of = [&](int64_t i) { return g.b + (g.b_offsets.empty() ? 0 : g.b_offsets[size_t(i)]); };
  auto c_of = [&](int64_t i) { return g.c + (g.c_offsets.empty() ? 0 : g.c_offsets[size_t(i)]); };

  const int most = max_threads > 0 ? std::min(max_threads, pool.num_threads()) : pool.num_threads();

  // Dot products pay where k is a few vectors (each value ends in a sum across lanes) and,
  // when B's columns are packed first, where the packing is shared by rows enough. Against
  // the rows kernels, raw runOp medians alternated in one process (Zen 5, avx512): in place
  // [32,64]x[64,1] 0.73x, [32,64]x[4,64]^T 0.65x, [4096,4096]x[4096,1] 0.40x; packed
  // [128,512]x[512,2] 0.34x, [32,128]x[128,4] 0.92x, but [32,64]x[64,4] 1.30x and one row,
  // [1,1024]x[1024,4], 1.10x.
  const int64_t lanes = kernel.rows.lanes;
  const bool dots_pay = g.b_row_stride == 1 ? g.k >= 4 * lanes : g.k >= 8 * lanes && g.m >= 8;
  const bool few_dots = g.n <= kGemmDotsMaxColumns || (g.m <= kGemmRowsMax && g.b_row_stride == 1);
  const bool dots = few_dots && g.a_col_stride == 1 && dots_pay;

  // One transposed B of a short k (a Dense(10) head's input gradient dY W^T): transposed into
  // scratch (k x n values, few), then the rows kernels' product rather than packed tiles.
  // Zen 5, alternated in one process: [128,10]x[10,512]^T 0.77-0.86x the time on one or two
  // threads, [512,20]x[20,512]^T 0.79x, [700,20]x[20,1500]^T 0.54x (two threads), [128,32]x
  // [32,256]^T 0.71x; but k = 64 was slower ([128,64]x[64,512]^T 1.41x), a longer k gained
  // nothing ([128,512]x[512,512]^T 1.13x; packed, it had run within 1.1x of the row-major B),
  // and a batch of Bs, attention's 128 heads [64,32]x[32,64]^T, 1.14x on two threads.
  auto one_b = [&] { return std::all_of(g.b_offsets.begin(), g.b_offsets.end(), [&](int64_t o) { return o == g.b_offsets[0]; }); };
  if (!dots && g.b_row_stride == 1 && g.b_col_stride != 1 && g.k > 0 && g.k <= kTransposedBMaxDepth && g.n > 1 &&
      g.k * g.n * int64_t(sizeof(T)) <= kTransposedBMaxBytes && one_b()) {
    Scratch<T> rows(g.k * g.n);
    transpose_b(b_of(0), g.b_col_stride, g.k, g.n, rows.get(), g.k * g.n * int64_t(sizeof(T)) >= (256 << 10) ? most : 1);
    GemmBatch<T> h = g;
    h.b = rows.get();
    h.b_row_stride = g.n;
    h.b_col_stride = 1;
    h.b_offsets.clear();
    return gemm_impl(h, max_threads);
  }

  // A thread per 2 MFLOP at least; below that, wake-up and packing costs dominate. (From 4
  // MFLOP a thread, 2 threads took a 32x128x512 product back to back 55 -> 39 us, and a batch-32
  // MLP 128-512-256-10 train step 569-573 -> 538-541 us; the same product 2 ms apart, its
  // workers asleep, 61-70 -> 66 us. 1 MFLOP a thread: level on both, slower on 1 MFLOP gates.)
  // Per 1.5 MFLOP while the workers still poll after a job (kernels back to back, as a graph
  // runs them: no wake-up to pay): a GRU's recurrent [32,128]x[128,384] 30 -> 18 us, GRU(128)
  // train step 6.8-7.0 -> 5.4-5.6 ms; 2 ms apart, workers asleep, it took 35-40 -> 44-56 us.
  // So a sporadic call (ThreadPool::wake_pays) takes a thread per 4 MFLOP: on Zen 5, workers
  // asleep, one thread against two: [32,128]x[128,512] 25.5 against 30.8 us, [64,256]x[256,256]
  // 47.5 against 43.7, [128,256]x[256,256] 90.7 against 71.1 (in-process medians).
  const double flops = 2.0 * double(g.batch) * double(g.m) * double(g.n) * double(std::max<int64_t>(g.k, 1));
  // Asked at most once a call: an ask it answers no is recorded, and a second would say yes.
  int wake_answer = -1;
  auto wake_pays = [&] {
    if (wake_answer < 0) wake_answer = pool.wake_pays() ? 1 : 0;
    return wake_answer == 1;
  };
  const bool split_pays = flops >= 2 * 4e6 || flops < 2 * 1.5e6 || wake_pays();
  const double flops_per_thread = split_pays ? (pool.workers_polling() ? 1.5e6 : 2e6) : 4e6;
  int threads = int(std::max<int64_t>(1, std::min<int64_t>(most, int64_t(flops / flops_per_thread))));

  if (dots) return gemm_dots(g, kernel.rows, threads, a_of, b_of, c_of);

  // A few rows, at most half a panel of columns, or a short k, against a row-major B (gemm_rows). A few
  // rows are bound by reading B, so a thread per 128 KiB of it too, from 384 KiB, where waking
  // the workers pays (a thread's columns stay in its own L2 from call to call: Zen 4, 1x784x128,
  // 392 KiB, 5.9-6.2 -> 4.9-5.3 us against a thread per 512 KiB; per 64 KiB, 1x128x128 was no
  // faster; Zen 5, workers polling, one thread against two: [1,128]x[128,512], 256 KiB, 3.6
  // against 4.9 us, [1,784]x[784,128] 4.3 against 4.8, [1,512]x[512,512], 1 MiB, 15.8 against
  // 9.0). For a sporadic call, a thread per 4 MiB (Zen 5, workers asleep, in-process medians on
  // 2 threads and 1: [1,128]x[128,512] 12.2 and 4.0 us, [1,512]x[512,512] 26.4 and 17.4,
  // [1,1024]x[1024,1024] 90 and 97, [1,2048]x[2048,1024] 148 and 191).
  if ((g.m < kernel.mr || 2 * g.n <= kernel.nr || g.k <= kGemmRowsMaxDepth) && g.b_col_stride == 1 && g.k > 0) {
    const double b_bytes = double(g.b_offsets.empty() ? 1 : g.batch) * double(g.k) * double(g.n) * double(sizeof(T));
    int by_bytes = b_bytes < 384 * 1024 ? 1 : int(std::min<double>(most, b_bytes / (128 * 1024)));
    if (by_bytes > threads && b_bytes < 8 * 1024 * 1024 && !wake_pays()) {
      by_bytes = int(std::min<double>(most, b_bytes / (4 * 1024 * 1024)));
    }
    threads = std::max(threads, by_bytes);
    return gemm_rows(g, kernel.rows, threads, a_of, b_of, c_of);
  }

  // Fewer matrices than threads, enough rows to share and more than one panel of B to
  // pack, on more than two threads: each matrix on all of them, its packed B shared. (A
  // single panel, as in a matrix-vector product, is cheaper to pack per thread than to
  // share.) Two threads take a tile each instead, each packing its own part of B: a block
  // one thread packs and the other reads moves between their cores' caches. Zen 5, two
  // vCPUs, in-process medians, the tiles' time against sharing's: [28,128]x[128,1600]^T 0.41x,
  // [64,512]x[512,1600]^T 0.53x, [128,512]x[512,512]^T 0.66x, [29,700]x[700,407] 0.77x,
  // [600,256]x[256,1024] 0.82x, square products 0.95-1.01x (1024^3 0.95x, 2048^3 0.97x);
  // Zen 4 had shown column tiles ahead in some processes too. Past two threads (not measured
  // here), sharing spares each thread a pack of its rows' whole B.
  if (threads > 2 && g.batch < threads && g.k > 0 && g.m >= int64_t(threads) * kernel.mr && g.n > kernel.nr) {
    for (int64_t i = 0; i < g.batch; ++i) gemm_shared(p, g.m, g.n, g.k, a_of(i), b_of(i), c_of(i), threads);
    return;
  }

  // Otherwise independent work items: whole matrices, or a tm x tn grid of C
  // tiles per matrix when the batch alone cannot keep every thread busy.
  int64_t tm = 1, tn = 1;
  if (threads > 1 && g.batch % threads != 0 && g.batch < 8 * threads) {
    double best = 1e300;
    for (int64_t t = 1; t <= threads; ++t) {
      if (threads % t) continue;
      // The most square tiles: least packing per flop.
      const double aspect = (double(g.m) / double(t)) / (double(g.n) / double(threads / t));
      const double badness = aspect > 1 ? aspect : 1 / aspect;
      if (badness < best) {
        best = badness;
        tm = t;
        tn = threads / t;
      }
    }
  }
  const int64_t tile_m = round_up(ceil_div(g.m, tm), kernel.mr);
  const int64_t tile_n = round_up(ceil_div(g.n, tn), kernel.nr);
  tm = ceil_div(g.m, tile_m);
  tn = ceil_div(g.n, tile_n);
  const int64_t tiles_per_matrix = tm * tn;
  auto run_items = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t batch = item / tiles_per_matrix, tile = item % tiles_per_matrix;
      const int64_t i0 = (tile / tn) * tile_m, j0 = (tile % tn) * tile_n;
      const int64_t rows = std::min(tile_m, g.m - i0), cols = std::min(tile_n, g.n - j0);
      gemm_tile(p, rows, cols, g.k, a_of(batch) + i0 * g.a_row_stride, b_of(batch) + j0 * g.b_col_stride,
                c_of(batch) + i0 * g.c_row_stride + j0);
    }
  };
  const int64_t items = g.batch * tiles_per_matrix;
  if (threads <= 1 || items == 1) {
    run_items(0, items);
  } else {
    pool.parallel_for(items, 1, run_items, threads);
  }
}

template void gemm<float>(const GemmBatch<float>&, int);
template void gemm<double>(const GemmBatch<double>&, int);

}  // namespace keras::cpu
