#include "gemm.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>

#include "../engine/allocator.h"
#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "isa.h"

namespace keras::cpu {
namespace {

int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }
int64_t round_down_at_least(int64_t x, int64_t multiple) { return std::max(multiple, x / multiple * multiple); }
int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

// Per-thread packing space, kept between calls so steady-state GEMMs never allocate.
class Workspace {
 public:
  void* get(size_t bytes) {
    if (bytes > capacity_) {
      data_.reset();
      capacity_ = 0;
      data_.reset(static_cast<char*>(std::aligned_alloc(64, size_t(round_up(int64_t(bytes), 64)))));
      if (!data_) throw std::bad_alloc();
      capacity_ = bytes;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  size_t capacity_ = 0;
};

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
};

// The two innermost loops: every MR x NR tile of C[0:mc, 0:nc] from packed panels.
template <class T>
void macro_kernel(const Problem<T>& p, int64_t mc, int64_t nc, int64_t kc, const T* a_packed, const T* b_packed,
                  T* c, T beta, T* edge) {
  const int mr = p.kernel.mr, nr = p.kernel.nr;
  for (int64_t jr = 0; jr < nc; jr += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - jr);
    const T* b_panel = b_packed + jr * kc;
    for (int64_t ir = 0; ir < mc; ir += mr) {
      const int64_t rows = std::min<int64_t>(mr, mc - ir);
      const T* a_panel = a_packed + ir * kc;
      T* c_tile = c + ir * p.rsc + jr;
      if (rows == mr && cols == nr) {
        p.kernel.run(kc, a_panel, b_panel, c_tile, p.rsc, p.alpha, beta);
        continue;
      }
      // Edge tile: compute the full register tile aside, merge the valid part.
      p.kernel.run(kc, a_panel, b_panel, edge, nr, T(1), T(0));
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
      p.kernel.pack_b(kc, nc, b + pc * p.rsb + jc * p.csb, p.rsb, p.csb, b_packed);
      for (int64_t ic = 0; ic < m; ic += p.blocking.mc) {
        const int64_t mc = std::min(p.blocking.mc, m - ic);
        p.kernel.pack_a(mc, kc, a + ic * p.rsa + pc * p.csa, p.rsa, p.csa, a_packed);
        macro_kernel(p, mc, nc, kc, a_packed, b_packed, c + ic * p.rsc + jc, beta, edge);
      }
    }
  }
}

// One matrix on a team of threads sharing the packed B block: each member packs
// a slice of B's panels, then multiplies its own rows of A against all of it.
// Packing B once instead of once per thread is what makes a single large GEMM
// scale. B blocks alternate between two buffers, so one barrier per block is
// enough: a member can only be repacking buffer i after everyone has passed the
// barrier of the block in between, i.e. finished reading buffer i.
template <class T>
struct TeamLayout {
  int64_t a_elems, b_elems, edge_elems;
  size_t bytes(int members) const {
    return sizeof(T) * size_t(2 * b_elems + members * (a_elems + edge_elems));
  }
};

template <class T>
TeamLayout<T> team_layout(const Problem<T>& p, int64_t m, int64_t n, int64_t k) {
  const int mr = p.kernel.mr, nr = p.kernel.nr;
  const int64_t kc_max = std::min(p.blocking.kc, k);
  return {line_elems<T>(round_up(std::min(p.blocking.mc, m), mr) * kc_max),
          line_elems<T>(round_up(std::min(p.blocking.nc, n), nr) * kc_max), line_elems<T>(mr * nr)};
}

// The rows of A a member owns in one B block, as units of mc rows that it takes
// from the front while idle members take them from the back (work stealing, so
// a member descheduled by a busy machine does not hold the others at the barrier).
// next and end share one word, so taking a unit is a single compare-and-swap.
struct alignas(64) RowUnits {
  std::atomic<uint64_t> next_and_end{0};

  void reset(uint32_t count) { next_and_end.store(uint64_t(count) << 32, std::memory_order_release); }
  bool take_front(uint32_t* unit) { return take(unit, true); }
  bool take_back(uint32_t* unit) { return take(unit, false); }

 private:
  bool take(uint32_t* unit, bool front) {
    uint64_t word = next_and_end.load(std::memory_order_acquire);
    for (;;) {
      const uint32_t next = uint32_t(word), end = uint32_t(word >> 32);
      if (next >= end) return false;
      const uint64_t taken = front ? word + 1 : (uint64_t(end - 1) << 32) | next;
      if (next_and_end.compare_exchange_weak(word, taken, std::memory_order_acq_rel)) {
        *unit = front ? next : end - 1;
        return true;
      }
    }
  }
};

template <class T>
void gemm_team_member(const Problem<T>& p, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c,
                      int member, int members, T* shared, RowUnits* units, engine::SpinBarrier& barrier) {
  const int mr = p.kernel.mr, nr = p.kernel.nr;
  const TeamLayout<T> layout = team_layout(p, m, n, k);
  T* const b_buffers[2] = {shared, shared + layout.b_elems};
  T* a_packed = shared + 2 * layout.b_elems + member * (layout.a_elems + layout.edge_elems);
  T* edge = a_packed + layout.a_elems;
  const int64_t rows_per_member = round_up(ceil_div(m, members), mr);
  auto first_row = [&](int owner) { return std::min(m, owner * rows_per_member); };
  auto unit_count = [&](int owner) {
    return uint32_t(ceil_div(std::min(m, first_row(owner) + rows_per_member) - first_row(owner), p.blocking.mc));
  };
  int64_t block = 0;
  for (int64_t jc = 0; jc < n; jc += p.blocking.nc) {
    const int64_t nc = std::min(p.blocking.nc, n - jc);
    const int64_t panels = ceil_div(nc, nr);
    const int64_t j0 = panels * member / members * nr, j1 = std::min(nc, panels * (member + 1) / members * nr);
    for (int64_t pc = 0; pc < k; pc += p.blocking.kc, ++block) {
      const int64_t kc = std::min(p.blocking.kc, k - pc);
      const T beta = pc == 0 ? p.beta : T(1);
      T* b_packed = b_buffers[block % 2];
      if (j1 > j0) p.kernel.pack_b(kc, j1 - j0, b + pc * p.rsb + (jc + j0) * p.csb, p.rsb, p.csb, b_packed + j0 * kc);
      barrier.wait();  // the whole B block is packed, and the previous block's rows are all done
      units[member].reset(unit_count(member));
      auto compute = [&](int owner, uint32_t unit) {
        const int64_t owner_end = std::min(m, first_row(owner) + rows_per_member);
        const int64_t ic = first_row(owner) + int64_t(unit) * p.blocking.mc;
        const int64_t mc = std::min(p.blocking.mc, owner_end - ic);
        p.kernel.pack_a(mc, kc, a + ic * p.rsa + pc * p.csa, p.rsa, p.csa, a_packed);
        macro_kernel(p, mc, nc, kc, a_packed, b_packed, c + ic * p.rsc + jc, beta, edge);
      };
      uint32_t unit;
      while (units[member].take_front(&unit)) compute(member, unit);
      for (int other = 1; other < members; ++other) {
        const int victim = (member + other) % members;
        while (units[victim].take_back(&unit)) compute(victim, unit);
      }
    }
  }
}

template <class T>
bool gemm_team(const Problem<T>& p, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c, int threads) {
  // Allocated up front: nothing inside the team may throw, or the others would
  // wait at a barrier forever.
  const size_t bytes = team_layout(p, m, n, k).bytes(threads);
  auto& allocator = engine::host_allocator();
  T* shared = static_cast<T*>(allocator.allocate(bytes));
  std::vector<RowUnits> units(static_cast<size_t>(threads));
  engine::SpinBarrier barrier(threads);
  bool ran = false;
  try {
    ran = engine::thread_pool().run_team(threads, [&](int member, int members) {
      gemm_team_member(p, m, n, k, a, b, c, member, members, shared, units.data(), barrier);
    });
  } catch (...) {
    allocator.deallocate(shared, bytes);
    throw;
  }
  allocator.deallocate(shared, bytes);
  return ran;
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
  mc = std::clamp<int64_t>(round_down_at_least(mc, mr), mr, 4096);
  int64_t l3_share = info.l3_bytes / std::max(1, info.l3_sharing_cores);
  int64_t nc = l3_share / 2 / (kc * element_size);
  nc = std::clamp<int64_t>(round_down_at_least(nc, nr), nr, 8192);
  return {mc, kc, nc};
}

template <class T>
void gemm(const GemmBatch<T>& g, int max_threads) {
  if (g.batch <= 0 || g.m <= 0 || g.n <= 0) return;
  const GemmMicrokernel<T>& kernel = select_kernel<T>(active_kernels());
  const Problem<T> p{kernel, gemm_blocking(kernel.mr, kernel.nr, int(sizeof(T))), g.alpha, g.beta,
                     g.a_row_stride, g.a_col_stride, g.b_row_stride, g.b_col_stride, g.c_row_stride};
  engine::ThreadPool& pool = engine::thread_pool();
  auto a_of = [&](int64_t i) { return g.a + (g.a_offsets.empty() ? 0 : g.a_offsets[size_t(i)]); };
  auto b_of = [&](int64_t i) { return g.b + (g.b_offsets.empty() ? 0 : g.b_offsets[size_t(i)]); };
  auto c_of = [&](int64_t i) { return g.c + (g.c_offsets.empty() ? 0 : g.c_offsets[size_t(i)]); };

  // Threads only pay off past a few MFLOP each; below that, wake-up costs dominate.
  const double flops = 2.0 * double(g.batch) * double(g.m) * double(g.n) * double(std::max<int64_t>(g.k, 1));
  int threads = max_threads > 0 ? std::min(max_threads, pool.num_threads()) : pool.num_threads();
  threads = int(std::max<int64_t>(1, std::min<int64_t>(threads, int64_t(flops / 4e6))));

  // Fewer matrices than threads, and enough rows to share: each matrix on the whole team.
  if (threads > 1 && g.batch < threads && g.k > 0 && g.m >= int64_t(threads) * kernel.mr) {
    bool ran = true;
    for (int64_t i = 0; i < g.batch && ran; ++i) {
      ran = gemm_team(p, g.m, g.n, g.k, a_of(i), b_of(i), c_of(i), threads);
      if (!ran && i > 0) {
        for (int64_t j = i; j < g.batch; ++j) gemm_tile(p, g.m, g.n, g.k, a_of(j), b_of(j), c_of(j));
        return;
      }
    }
    if (ran) return;  // else the pool was busy: fall through to the tile path
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
