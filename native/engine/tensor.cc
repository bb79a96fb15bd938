#include "tensor.h"

#include <stdexcept>

#include "allocator.h"

namespace keras::engine {

const char* device_name(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

BufferPtr allocate_host_buffer(size_t bytes) {
  void* data = host_allocator().allocate(bytes);
  return std::make_shared<Buffer>(data, bytes, Device::CPU,
                                  [](void* p, size_t n) { host_allocator().deallocate(p, n); });
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  return strides;
}

int64_t Tensor::numel() const { return shape_numel(shape); }

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

Tensor make_host_tensor(DType dtype, const Shape& shape) {
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + format_shape(shape));
  }
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  t.strides = contiguous_strides(shape);
  t.buffer = allocate_host_buffer(size_t(shape_numel(shape)) * dtype_size(dtype));
  return t;
}

std::string format_shape(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace keras::engine
