// Host memory for tensors: 64-byte aligned (one cache line, one zmm register),
// recycled through size-class free lists so training loops stop calling malloc.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace keras::engine {

constexpr size_t kAlignment = 64;

struct MemoryStats {
  int64_t live_bytes = 0;      // bytes requested by buffers still alive
  int64_t live_buffers = 0;
  int64_t cached_bytes = 0;    // bytes held in free lists, ready for reuse
  int64_t peak_live_bytes = 0;
};

class CachingAllocator {
 public:
  // Cached bytes beyond this limit go back to the OS (env KERAS_ALLOCATOR_CACHE_MB). poison:
  // every block handed out is filled with 0xFF bytes first (env KERAS_ALLOCATOR_POISON=1, set by
  // the tests): a kernel that leaves an output element unwritten then shows NaN (or -1) instead
  // of a stale value, often the right one, of an earlier call of the same shape.
  explicit CachingAllocator(int64_t cache_limit_bytes, bool poison = false);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Never returns null: throws std::bad_alloc. A zero-byte request gets a valid block.
  void* allocate(size_t bytes);
  void deallocate(void* ptr, size_t bytes);
  void release_cache();
  MemoryStats stats() const;

  // Sizes are rounded up to one of four steps per power of two, so reuse is
  // likely and waste stays under 25%.
  static size_t size_class(size_t bytes);

 private:
  void* take(size_t bytes);  // a cached or fresh block of bytes' size class

  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_lists_;
  int64_t cache_limit_bytes_;
  bool poison_;
  MemoryStats stats_;
};

// The process-wide host allocator used by tensors and kernels' scratch memory.
CachingAllocator& host_allocator();

}  // namespace keras::engine
