// Device buffers and the tensors that view them. Device-neutral: a CUDA buffer is
// the same struct with another device tag and deleter.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"

namespace keras::engine {

enum class Device : uint8_t { CPU = 0, CUDA = 1 };
constexpr int kNumDevices = 2;
const char* device_name(Device device);

using Shape = std::vector<int64_t>;

// An owned allocation. Shared by every tensor that views it.
class Buffer {
 public:
  using Deleter = void (*)(void* data, size_t bytes);
  Buffer(void* data, size_t bytes, Device device, Deleter deleter)
      : data_(data), bytes_(bytes), device_(device), deleter_(deleter) {}
  ~Buffer() { deleter_(data_, bytes_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_;
  size_t bytes_;
  Device device_;
  Deleter deleter_;
};

using BufferPtr = std::shared_ptr<Buffer>;

// 64-byte aligned host memory from the caching allocator.
BufferPtr allocate_host_buffer(size_t bytes);

struct Tensor {
  BufferPtr buffer;
  DType dtype = DType::Float32;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements, from buffer->data()

  int64_t numel() const;
  int rank() const { return int(shape.size()); }
  void* data() const { return static_cast<char*>(buffer->data()) + offset * int64_t(dtype_size(dtype)); }
  bool is_contiguous() const;
};

// A fresh contiguous tensor of this dtype and shape, on the host.
Tensor make_host_tensor(DType dtype, const Shape& shape);

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
// "(2, 3)", "(5,)", "()": the way Keras prints shapes, so errors read the same.
std::string format_shape(const Shape& shape);

}  // namespace keras::engine
