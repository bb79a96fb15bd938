// Kernels' scratch memory. A thread's Workspace for a kernel family, kept from call to call
// so steady-state work never allocates (GEMM packing, fused chains' tiles): contents are not
// kept when it grows, and nothing is cleared. A call's Scratch, from the engine allocator.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "../engine/allocator.h"

namespace keras::cpu {

class Workspace {
 public:
  // At least `bytes`, 64-byte aligned.
  void* get(size_t bytes) {
    if (bytes > capacity_) {
      data_.reset();
      capacity_ = 0;
      data_.reset(static_cast<char*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
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

// Aligned scratch for one call from the engine allocator (its cache makes repeated calls
// cheap), freed on every path out.
template <class T>
class Scratch {
 public:
  explicit Scratch(int64_t count, bool zero = false)
      : bytes_(sizeof(T) * size_t(std::max<int64_t>(count, 1))),
        data_(static_cast<T*>(engine::host_allocator().allocate(bytes_))) {
    if (zero) std::memset(static_cast<void*>(data_), 0, bytes_);
  }
  ~Scratch() { engine::host_allocator().deallocate(data_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* get() const { return data_; }

 private:
  size_t bytes_;
  T* data_;
};

}  // namespace keras::cpu
