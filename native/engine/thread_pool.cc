#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <memory>

#include "cpu_info.h"

namespace keras::engine {
namespace {
thread_local bool t_inside_pool_job = false;
// How long a caller polls for the workers to finish before it sleeps (see parallel_for).
constexpr int kDoneSpinMicros = 50;
// How long a worker polls for the next job before it sleeps (see worker_loop).
constexpr int kWorkerSpinMicros = 200;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}

struct ThreadPool::Job {
  const std::function<void(int64_t, int64_t)>* fn;
  int64_t n;
  int64_t chunk_size;
  int64_t num_chunks;
  int max_workers;  // workers with index below this join in
  std::atomic<int64_t> next_chunk{0};
  // Threads currently inside run_chunks: changed under the pool mutex, polled without it by the
  // caller waiting for the job's end.
  std::atomic<int> refs{0};
  std::mutex error_mutex;
  std::exception_ptr error;
};

ThreadPool::ThreadPool(int num_threads) { start_workers(std::max(0, num_threads - 1)); }

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::start_workers(int count) {
  workers_.reserve(size_t(count));
  for (int i = 0; i < count; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  num_threads_.store(count + 1, std::memory_order_relaxed);
}

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  wake_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_.store(false);
}

void ThreadPool::resize(int num_threads) {
  std::lock_guard<std::mutex> owner(owner_mutex_);  // no job is in flight while we hold it
  stop_workers();
  start_workers(std::max(0, num_threads - 1));
}

void ThreadPool::run_chunks(Job& job) {
  bool was_inside = t_inside_pool_job;
  t_inside_pool_job = true;
  for (;;) {
    int64_t chunk = job.next_chunk.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= job.num_chunks) break;
    int64_t begin = chunk * job.chunk_size;
    int64_t end = std::min(job.n, begin + job.chunk_size);
    try {
      (*job.fn)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.error_mutex);
      if (!job.error) job.error = std::current_exception();
    }
  }
  t_inside_pool_job = was_inside;
}

void ThreadPool::worker_loop(int worker_index) {
  uint64_t seen_generation = 0;
  for (;;) {
    // Kernels come back to back (a training step is hundreds of them): poll for
    // the next job for a moment before sleeping, so it starts without a wake-up.
    const auto spin_deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kWorkerSpinMicros);
    for (int i = 1; generation_.load(std::memory_order_acquire) == seen_generation &&
                    !stopping_.load(std::memory_order_acquire);
         ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 0 && std::chrono::steady_clock::now() > spin_deadline) break;
    }
    Job* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_cv_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen_generation; });
      if (stopping_.load()) return;
      seen_generation = generation_.load();
      job = job_;
      if (!job || worker_index >= job->max_workers) continue;
      job->refs += 1;
    }
    run_chunks(*job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job->refs -= 1;
      if (job->refs == 0) done_cv_.notify_all();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn,
                              int max_threads) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int threads = max_threads > 0 ? std::min(max_threads, num_threads()) : num_threads();
  int64_t max_chunks = (n + grain - 1) / grain;
  // A few chunks per thread balances uneven work without much claiming traffic.
  int64_t num_chunks = std::min<int64_t>(max_chunks, int64_t(threads) * 4);
  std::unique_lock<std::mutex> owner(owner_mutex_, std::defer_lock);
  if (threads <= 1 || num_chunks <= 1 || t_inside_pool_job || !owner.try_lock()) {
    fn(0, n);
    return;
  }
  Job job;
  job.fn = &fn;
  job.n = n;
  job.chunk_size = (n + num_chunks - 1) / num_chunks;
  job.num_chunks = (n + job.chunk_size - 1) / job.chunk_size;
  job.max_workers = threads - 1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job.refs = 1;
    job_ = &job;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_cv_.notify_all();
  run_chunks(job);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job.refs -= 1;
    job_ = nullptr;  // late wakers must not join a finished job
  }
  // The workers' last chunks usually end within microseconds of ours: poll for that before
  // sleeping on done_cv_, whose wake-up took 30-185 us in about 40% of calls. The wait below
  // still takes the mutex, so a worker has left its critical section (it reads job.refs there)
  // before `job` goes out of scope.
  const auto spin_deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kDoneSpinMicros);
  for (int i = 1; job.refs.load(std::memory_order_acquire) != 0; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0 && std::chrono::steady_clock::now() > spin_deadline) break;
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return job.refs.load(std::memory_order_relaxed) == 0; });
  }
  last_job_end_.store(steady_ns(), std::memory_order_relaxed);
  if (job.error) std::rethrow_exception(job.error);
}

bool ThreadPool::workers_polling() const {
  // Three quarters of their polling time: a job that starts now still finds them at it.
  return steady_ns() - last_job_end_.load(std::memory_order_relaxed) < int64_t(kWorkerSpinMicros) * 750;
}

bool ThreadPool::wake_pays() {
  if (workers_polling()) return true;
  const int64_t now = steady_ns();
  if (now - last_wake_ask_.load(std::memory_order_relaxed) < int64_t(kWorkerSpinMicros) * 1000) return true;
  last_wake_ask_.store(now, std::memory_order_relaxed);
  return false;
}

bool ThreadPool::run_team(int count, const std::function<void(int, int)>& fn) {
  if (count <= 1) {
    fn(0, 1);
    return true;
  }
  if (count > num_threads() || t_inside_pool_job) return false;
  std::unique_lock<std::mutex> owner(owner_mutex_, std::try_to_lock);
  if (!owner.owns_lock()) return false;
  owner.unlock();  // parallel_for takes it again; nobody else can get in between
  // that matters: if they do, parallel_for would run serially, which the
  // started-count check below turns into an error instead of a deadlock.
  std::atomic<int> started{0};
  bool serial = false;
  parallel_for(
      count, 1,
      [&](int64_t begin, int64_t end) {
        if (end - begin != 1) {
          serial = true;  // one thread got several members: they could never meet
          return;
        }
        started.fetch_add(1);
        fn(int(begin), count);
      },
      count);
  return !serial && started.load() == count;
}

void SpinBarrier::wait() {
  const int generation = generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
    arrived_.store(0, std::memory_order_relaxed);
    // Publish first, then look for sleepers (seq_cst both sides): either a
    // sleeper sees the new generation before sleeping, or we see it and wake it.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }  // it is inside cv_.wait or yet to check
      cv_.notify_all();
    }
    return;
  }
  for (int spins = 0; spins < 2048; ++spins) {
    if (generation_.load(std::memory_order_acquire) != generation) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::unique_lock<std::mutex> lock(mutex_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  cv_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != generation; });
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

int default_num_threads() {
  if (const char* env = std::getenv("KERAS_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return cpu_info().physical_cores;
}

ThreadPool& thread_pool() {
  // Leaked on purpose: joining threads during static destruction at exit can deadlock.
  static ThreadPool* pool = new ThreadPool(default_num_threads());
  return *pool;
}

void set_num_threads(int n) { thread_pool().resize(n > 0 ? n : default_num_threads()); }

namespace {

class DispatchThread {
 public:
  DispatchThread() : thread_([this] { loop(); }) { thread_.detach(); }

  void post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(fn));
    work_cv_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_cv_.wait(lock, [&] { return !queue_.empty(); });
      std::function<void()> fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      fn();  // noexcept: an exception here ends the process, as from any thread's entry
      fn = nullptr;  // its captures are destroyed before the thread sleeps
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> queue_;
  std::thread thread_;
};

}  // namespace

void post_to_dispatch_thread(std::function<void()> fn) {
  // Leaked on purpose, as the pool: its thread waits for work until the process ends.
  static DispatchThread* dispatch = new DispatchThread();
  dispatch->post(std::move(fn));
}

}  // namespace keras::engine
