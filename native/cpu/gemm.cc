#include "gemm.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "isa.h"

namespace keras::cpu {
namespace {

int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }
int64_t round_down_at_least(int64_t x, int64_t multiple) { return std::max(multiple, x / multiple * multiple); }

// Packs rows [0, mc) x k-columns [0, kc) of op(A) into mr-row panels, k-major:
// panel[p * mr + i]. Rows past mc are zero so the micro-kernel needs no tail code.
template <class T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rs, int64_t cs, int mr, T* out) {
  for (int64_t ir = 0; ir < mc; ir += mr, out += kc * mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - ir);
    const T* src = a + ir * rs;
    if (rs == 1 && rows == mr) {  // op(A) columns are contiguous (A transposed)
      for (int64_t p = 0; p < kc; ++p) std::memcpy(out + p * mr, src + p * cs, sizeof(T) * mr);
      continue;
    }
    for (int64_t i = 0; i < rows; ++i) {
      const T* row = src + i * rs;
      if (cs == 1) {
        for (int64_t p = 0; p < kc; ++p) out[p * mr + i] = row[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) out[p * mr + i] = row[p * cs];
      }
    }
    for (int64_t i = rows; i < mr; ++i) {
      for (int64_t p = 0; p < kc; ++p) out[p * mr + i] = T(0);
    }
  }
}

// Packs k-rows [0, kc) x columns [0, nc) of op(B) into nr-column panels:
// panel[p * nr + j], zero-padded past nc.
template <class T>
void pack_b(int64_t kc, int64_t nc, const T* b, int64_t rs, int64_t cs, int nr, T* out) {
  for (int64_t jr = 0; jr < nc; jr += nr, out += kc * nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - jr);
    const T* src = b + jr * cs;
    if (cs == 1) {
      for (int64_t p = 0; p < kc; ++p) {
        std::memcpy(out + p * nr, src + p * rs, sizeof(T) * cols);
        for (int64_t j = cols; j < nr; ++j) out[p * nr + j] = T(0);
      }
    } else {
      for (int64_t j = 0; j < cols; ++j) {
        const T* col = src + j * cs;
        for (int64_t p = 0; p < kc; ++p) out[p * nr + j] = col[p * rs];
      }
      for (int64_t j = cols; j < nr; ++j) {
        for (int64_t p = 0; p < kc; ++p) out[p * nr + j] = T(0);
      }
    }
  }
}

// Per-thread packing space, kept between calls so steady-state GEMMs never allocate.
class Workspace {
 public:
  void* get(size_t bytes) {
    if (bytes > capacity_) {
      data_.reset(static_cast<char*>(std::aligned_alloc(64, round_up(int64_t(bytes), 64))));
      if (!data_) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
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

// One thread's share: C[0:m, 0:n] of one matrix, all five loops.
template <class T>
void gemm_tile(const GemmMicrokernel<T>& kernel, const GemmBlocking& blocking, int64_t m, int64_t n, int64_t k,
               T alpha, T beta, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t rsb, int64_t csb, T* c,
               int64_t rsc) {
  const int mr = kernel.mr, nr = kernel.nr;
  if (k == 0) {  // empty sum: C = beta * C, with beta == 0 writing zeros even over NaN
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * rsc + j] = beta == T(0) ? T(0) : beta * c[i * rsc + j];
    }
    return;
  }
  const int64_t kc_max = std::min(blocking.kc, k);
  const int64_t mc_max = std::min(blocking.mc, round_up(m, mr));
  const int64_t nc_max = std::min(blocking.nc, round_up(n, nr));
  const int64_t a_elems = round_up(mc_max, mr) * kc_max;
  const int64_t b_elems = round_up(nc_max, nr) * kc_max;
  T* a_packed = static_cast<T*>(t_workspace.get(sizeof(T) * (a_elems + b_elems + mr * nr) + 128));
  T* b_packed = a_packed + round_up(a_elems, 64 / sizeof(T));
  T* edge = b_packed + round_up(b_elems, 64 / sizeof(T));

  for (int64_t jc = 0; jc < n; jc += blocking.nc) {
    const int64_t nc = std::min(blocking.nc, n - jc);
    for (int64_t pc = 0; pc < k; pc += blocking.kc) {
      const int64_t kc = std::min(blocking.kc, k - pc);
      const T beta_now = pc == 0 ? beta : T(1);  // later k blocks accumulate
      pack_b(kc, nc, b + pc * rsb + jc * csb, rsb, csb, nr, b_packed);
      for (int64_t ic = 0; ic < m; ic += blocking.mc) {
        const int64_t mc = std::min(blocking.mc, m - ic);
        pack_a(mc, kc, a + ic * rsa + pc * csa, rsa, csa, mr, a_packed);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t cols = std::min<int64_t>(nr, nc - jr);
          const T* b_panel = b_packed + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int64_t rows = std::min<int64_t>(mr, mc - ir);
            const T* a_panel = a_packed + ir * kc;
            T* c_tile = c + (ic + ir) * rsc + jc + jr;
            if (rows == mr && cols == nr) {
              kernel.run(kc, a_panel, b_panel, c_tile, rsc, alpha, beta_now);
              continue;
            }
            // Edge tile: compute the full register tile aside, merge the valid part.
            kernel.run(kc, a_panel, b_panel, edge, nr, T(1), T(0));
            for (int64_t i = 0; i < rows; ++i) {
              for (int64_t j = 0; j < cols; ++j) {
                T old = beta_now == T(0) ? T(0) : beta_now * c_tile[i * rsc + j];
                c_tile[i * rsc + j] = alpha * edge[i * nr + j] + old;
              }
            }
          }
        }
      }
    }
  }
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
  // A full L1 of B slice measured best: A's broadcasts come from the stream
  // prefetcher, so B may own L1.
  int64_t kc = info.l1d_bytes / (int64_t(nr) * element_size);
  kc = std::clamp<int64_t>(kc / 8 * 8, 128, 512);
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
  const GemmBlocking blocking = gemm_blocking(kernel.mr, kernel.nr, int(sizeof(T)));
  engine::ThreadPool& pool = engine::thread_pool();

  // Threads only pay off past a few MFLOP each; below that, wake-up costs dominate.
  const double flops = 2.0 * double(g.batch) * double(g.m) * double(g.n) * double(std::max<int64_t>(g.k, 1));
  int threads = max_threads > 0 ? std::min(max_threads, pool.num_threads()) : pool.num_threads();
  threads = int(std::max<int64_t>(1, std::min<int64_t>(threads, int64_t(flops / 4e6))));

  // Split each matrix into a tm x tn grid of C tiles when the batch alone cannot
  // keep every thread busy. Tiles are independent: each thread packs its own
  // panels, so no barriers are needed.
  int64_t tm = 1, tn = 1;
  if (threads > 1 && g.batch % threads != 0 && g.batch < 8 * threads) {
    double best = 1e300;
    for (int64_t t = 1; t <= threads; ++t) {
      if (threads % t) continue;
      const double aspect = (double(g.m) / double(t)) / (double(g.n) / double(threads / t));
      const double badness = aspect > 1 ? aspect : 1 / aspect;
      if (badness < best) {
        best = badness;
        tm = t;
        tn = threads / t;
      }
    }
  }
  const int64_t tile_m = round_up((g.m + tm - 1) / tm, kernel.mr);
  const int64_t tile_n = round_up((g.n + tn - 1) / tn, kernel.nr);
  tm = (g.m + tile_m - 1) / tile_m;
  tn = (g.n + tile_n - 1) / tile_n;
  const int64_t tiles_per_matrix = tm * tn;

  auto run_items = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t batch = item / tiles_per_matrix;
      const int64_t tile = item % tiles_per_matrix;
      const int64_t i0 = (tile / tn) * tile_m, j0 = (tile % tn) * tile_n;
      const int64_t rows = std::min(tile_m, g.m - i0), cols = std::min(tile_n, g.n - j0);
      const T* a = g.a + (g.a_offsets.empty() ? 0 : g.a_offsets[batch]) + i0 * g.a_row_stride;
      const T* b = g.b + (g.b_offsets.empty() ? 0 : g.b_offsets[batch]) + j0 * g.b_col_stride;
      T* c = g.c + (g.c_offsets.empty() ? 0 : g.c_offsets[batch]) + i0 * g.c_row_stride + j0;
      gemm_tile<T>(kernel, blocking, rows, cols, g.k, g.alpha, g.beta, a, g.a_row_stride, g.a_col_stride, b,
                   g.b_row_stride, g.b_col_stride, c, g.c_row_stride);
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
