#include "peak.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "../engine/thread_pool.h"
#include "isa.h"

namespace keras::cpu {

double measure_fma_peak_gflops(int threads, double seconds) {
  using Clock = std::chrono::steady_clock;
  const IsaKernelTable& table = active_kernels();
  engine::ThreadPool& pool = engine::thread_pool();
  threads = std::max(1, std::min(threads, pool.num_threads()));
  std::vector<double> gflops(size_t(threads), 0.0);
  std::vector<float> sinks(size_t(threads), 0.0f);
  const bool ran = pool.run_team(threads, [&](int index, int) {
    // Short slices, so each thread stops close to the deadline.
    const int64_t slice = 200000;
    int64_t iterations = 0;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    float sink = 0;
    do {
      sink += table.f32_fma_loop(slice);
      iterations += slice;
    } while (Clock::now() < deadline);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    sinks[size_t(index)] = sink;
    gflops[size_t(index)] = double(iterations) * double(table.f32_fma_loop_flops_per_iteration) / elapsed / 1e9;
  });
  if (!ran) throw std::runtime_error("peakFlops: the thread pool is busy with other work");
  double total = 0;
  for (double g : gflops) total += g;
  return total;
}

}  // namespace keras::cpu
