// A persistent pool of worker threads. Kernels split work with parallel_for;
// the calling thread takes part, so a pool of N threads has N-1 workers.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace keras::engine {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_.load(std::memory_order_relaxed); }

  // Changes the thread count; waits for the work in flight to finish first.
  // References to the pool stay valid.
  void resize(int num_threads);

  // Calls fn(begin, end) over [0, n) in chunks of at least `grain` items, on up to
  // max_threads threads (0 = all). Returns when every chunk ran; the first exception
  // thrown by fn is rethrown here. Nested calls, and calls made while another
  // thread owns the pool, run serially on the caller instead of waiting.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn,
                    int max_threads = 0);

  // Whether the workers are likely still polling for a job after the last one (they poll for
  // a while before sleeping): a job started now then pays no wake-up.
  bool workers_polling() const;

  // Whether a small job should wake the workers: they are still polling, or another caller
  // asked within their polling time (calls back to back: the one wake-up serves the calls
  // after it, which find them polling). Otherwise records this ask and says no: a sporadic
  // call runs on its own thread rather than pay a wake-up (about 6 us for the caller's notify
  // alone in a VM, 10-20 us until the worker runs).
  bool wake_pays();

  // Runs fn(thread_index, count) on `count` threads that are all running at the
  // same time, so fn may synchronize them (SpinBarrier). Returns false, running
  // nothing, when such a team cannot be had (nested call, pool owned by another
  // thread, count above the pool size).
  bool run_team(int count, const std::function<void(int, int)>& fn);

 private:
  struct Job;
  void worker_loop(int worker_index);
  void start_workers(int count);
  void stop_workers();
  static void run_chunks(Job& job);

  std::vector<std::thread> workers_;
  std::atomic<int> num_threads_{1};
  std::mutex mutex_;
  std::condition_variable wake_cv_;
  std::condition_variable done_cv_;
  // Written under mutex_; also read without it by workers spinning for the next job.
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> last_job_end_{0};  // steady clock, ns
  std::atomic<int64_t> last_wake_ask_{0};  // steady clock, ns: wake_pays() said no
  Job* job_ = nullptr;
  std::mutex owner_mutex_;  // held by the one caller currently driving the workers
};

// A reusable barrier for a team from run_team. Spins first, since members are
// on their own cores and waits are short; then sleeps, so a member whose partner
// was descheduled (a busy machine) stops burning the core it waits on.
class SpinBarrier {
 public:
  explicit SpinBarrier(int count) : count_(count) {}
  void wait();

 private:
  const int count_;
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
  std::atomic<int> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
};

// The process-wide pool: KERAS_NUM_THREADS threads, default one per physical core.
ThreadPool& thread_pool();

// Queues fn for the engine's one dispatch thread and returns at once; fn must not throw.
// Asynchronous calls run there, one after another in arrival order: driving the pool from
// one long-lived thread keeps its per-thread packing space warm and lets the scheduler keep
// it beside the pool's workers (from libuv's worker threads, a different one from call to
// call, an MLP train step through run() took 0.7-1.1 ms more than runSync on 2 cores).
void post_to_dispatch_thread(std::function<void()> fn);
int default_num_threads();
// Resizes the process-wide pool to n threads (n <= 0: the default), after the
// work in flight; meant for configuration and benchmarks.
void set_num_threads(int n);

}  // namespace keras::engine
