// A thread's scratch memory for a kernel family, kept from call to call so steady-state
// work never allocates (GEMM packing, fused chains' tiles). Contents are not kept when it
// grows, and nothing is cleared.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

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

}  // namespace keras::cpu
