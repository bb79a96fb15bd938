#include "tensor_table.h"

#include <chrono>
#include <cstdint>
#include <cstring>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "addon_state.h"

namespace keras::binding {
namespace {

using engine::DType;

constexpr double kIndexSpan = 4294967296.0;  // 2^32: ids are generation * 2^32 + index
constexpr uint32_t kMaxGeneration = 1u << 20;  // keeps ids below 2^53, exact in a double

thread_local int64_t t_live_external = 0;      // bytes held by this thread's live tensors
thread_local int64_t t_reported_external = 0;  // what V8 has been told
thread_local int64_t t_low_since_ns = -1;        // since when live has been under half the report (-1: it is not)

napi_typedarray_type typed_array_type_for(DType dtype) {
  switch (dtype) {
    case DType::Float32: return napi_float32_array;
    case DType::Float64: return napi_float64_array;
    case DType::Int32: return napi_int32_array;
    case DType::Bool: return napi_uint8_array;
  }
  return napi_uint8_array;
}

const char* typed_array_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "Float32Array";
    case DType::Float64: return "Float64Array";
    case DType::Int32: return "Int32Array";
    case DType::Bool: return "Uint8Array";
  }
  return "TypedArray";
}

engine::Shape parse_shape(Napi::Env env, const Napi::Value& value, const char* where) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(where) + ": shape must be an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  engine::Shape shape;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value d = array.Get(i);
    double v = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 0) || v != double(int64_t(v)) || v > 9007199254740991.0) {
      throw Napi::TypeError::New(env, std::string(where) + ": shape[" + std::to_string(i) +
                                          "] must be a non-negative integer");
    }
    shape.push_back(int64_t(v));
  }
  return shape;
}

double id_argument(const Napi::CallbackInfo& info) {
  return info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
}

Napi::Value CreateTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) throw Napi::TypeError::New(env, "createTensor(data, shape, dtype): expected 3 arguments");
  if (!info[2].IsString()) throw Napi::TypeError::New(env, "createTensor: dtype must be a string");
  std::string dtype_name = info[2].As<Napi::String>();
  DType dtype;
  if (!engine::parse_dtype(dtype_name, &dtype)) {
    throw Napi::TypeError::New(env, "createTensor: unknown dtype '" + dtype_name +
                                        "'; expected float32, float64, int32 or bool");
  }
  engine::Shape shape = parse_shape(env, info[1], "createTensor");
  // One query for the array's type, length and bytes (node-addon-api's accessors ask again each).
  bool is_typed = false;
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;
  void* values = nullptr;
  if (napi_is_typedarray(env, info[0], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, info[0], &type, &length, &values, nullptr, nullptr) != napi_ok ||
      type != typed_array_type_for(dtype)) {
    throw Napi::TypeError::New(env, std::string("createTensor: dtype ") + dtype_name + " needs a " + typed_array_name(dtype));
  }
  const int64_t count = engine::shape_numel(shape);
  if (int64_t(length) != count) {
    throw Napi::RangeError::New(env, "createTensor: shape " + engine::format_shape(shape) + " holds " +
                                         std::to_string(count) + " elements but the data has " + std::to_string(length));
  }
  engine::Tensor tensor;
  try {
    tensor = engine::make_host_tensor(dtype, shape);
  } catch (const std::exception& e) {
    throw to_js_error(env, e);
  }
  const size_t bytes = size_t(count) * engine::dtype_size(dtype);
  if (bytes) std::memcpy(tensor.data(), values, bytes);  // `values` points at the array's first element
  return Napi::Number::New(env, addon_state(env).tensors.insert(env, std::move(tensor)));
}

// releaseTensor(id): true when it freed a tensor, false for an id that is not live.
napi_value ReleaseTensor(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg = nullptr;
  double id = -1;
  napi_get_cb_info(env, cbinfo, &argc, &arg, nullptr, nullptr);
  if (argc < 1 || napi_get_value_double(env, arg, &id) != napi_ok) id = -1;
  napi_value result = nullptr;
  napi_get_boolean(env, addon_state(env).tensors.release(env, id), &result);
  return result;
}

// The id of a contiguous `shape` view of t's buffer from `offset` elements past t's first, not
// reported to V8 again.
double insert_view(napi_env env, TensorTable& table, const engine::Tensor& t, int64_t offset, engine::Shape shape) {
  engine::Tensor view = t;
  view.offset += offset;
  view.strides = engine::contiguous_strides(shape);
  view.shape = std::move(shape);
  return table.insert(env, std::move(view), true);
}

// reshapeView(id, shape): a tensor of `shape` over the same buffer, no copy, for a contiguous
// tensor of as many elements; undefined for a strided one (the caller copies it through the
// reshape op). The cpu backend's tensors are immutable, so the two never see different values;
// a donation to a graph's in-place update checks that the buffer has no other holder.
Napi::Value ReshapeView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TensorTable& table = addon_state(env).tensors;
  if (info.Length() < 2) throw Napi::TypeError::New(env, "reshapeView(id, shape): expected 2 arguments");
  const engine::Tensor& t = tensor_from_value(env, table, info[0], [] { return std::string("reshapeView: the tensor"); });
  engine::Shape shape = parse_shape(env, info[1], "reshapeView");
  if (engine::shape_numel(shape) != t.numel()) {
    throw Napi::RangeError::New(env, "reshapeView: cannot view " + engine::format_shape(t.shape) + " (" +
                                         std::to_string(t.numel()) + " elements) as " + engine::format_shape(shape));
  }
  if (!t.is_contiguous()) return env.Undefined();
  return Napi::Number::New(env, insert_view(env, table, t, 0, std::move(shape)));
}

// sliceView(id, begin, size): the slice of a contiguous tensor that is one contiguous block of it
// (dims of size 1, then one partial dim, then whole dims: an RNN's timestep of a time-major
// sequence, a batch of rows) as a view at an offset into its buffer, no copy; undefined for any
// other slice, which the caller runs through the slice kernel.
Napi::Value SliceView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TensorTable& table = addon_state(env).tensors;
  if (info.Length() < 3) throw Napi::TypeError::New(env, "sliceView(id, begin, size): expected 3 arguments");
  const engine::Tensor& t = tensor_from_value(env, table, info[0], [] { return std::string("sliceView: the tensor"); });
  const engine::Shape begin = parse_shape(env, info[1], "sliceView begin");
  engine::Shape size = parse_shape(env, info[2], "sliceView");
  const size_t rank = t.shape.size();
  bool inside = begin.size() == rank && size.size() == rank;
  for (size_t d = 0; inside && d < rank; ++d) inside = begin[d] + size[d] <= t.shape[d];
  if (!inside) {
    throw Napi::RangeError::New(env, "sliceView: begin " + engine::format_shape(begin) + " and size " + engine::format_shape(size) +
                                         " do not lie inside " + engine::format_shape(t.shape));
  }
  if (!t.is_contiguous()) return env.Undefined();
  size_t partial = 0;
  while (partial < rank && size[partial] == 1) ++partial;
  for (size_t d = partial + 1; d < rank; ++d) {
    if (size[d] != t.shape[d]) return env.Undefined();
  }
  const engine::Shape strides = engine::contiguous_strides(t.shape);
  int64_t offset = 0;
  for (size_t d = 0; d < rank; ++d) offset += begin[d] * strides[d];
  return Napi::Number::New(env, insert_view(env, table, t, offset, std::move(size)));
}

// tensorShape(id) / tensorDType(id): undefined for an id that is not live.
Napi::Value TensorShape(const Napi::CallbackInfo& info) {
  const engine::Tensor* t = addon_state(info.Env()).tensors.find_queued(id_argument(info));  // reads no values
  if (!t) return info.Env().Undefined();
  Napi::Array result = Napi::Array::New(info.Env(), t->shape.size());
  for (size_t i = 0; i < t->shape.size(); ++i) result.Set(uint32_t(i), double(t->shape[i]));
  return result;
}

Napi::Value TensorDType(const Napi::CallbackInfo& info) {
  const engine::Tensor* t = addon_state(info.Env()).tensors.find_queued(id_argument(info));
  if (!t) return info.Env().Undefined();
  return Napi::String::New(info.Env(), engine::dtype_name(t->dtype));
}

// A large new ArrayBuffer is fresh memory from the OS, faulted in page by page as the copy
// first writes it: 4 KiB pages cost more than the copy (8M floats read at 2 GB/s in a VM).
// Advising its whole 2 MiB pages to be huge ones, before that first write, makes them a
// fault each. Advice only: where it is refused or already touched nothing changes.
void advise_huge_pages(void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

Napi::Value ReadTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const engine::Tensor* t = addon_state(env).tensors.find(id_argument(info));
  if (!t) throw Napi::Error::New(env, "read: the tensor was already disposed");
  const engine::Tensor& tensor = *t;
  if (!tensor.is_contiguous()) throw Napi::Error::New(env, "read: non-contiguous tensors are not readable yet");
  const size_t count = size_t(tensor.numel());
  const size_t bytes = count * engine::dtype_size(tensor.dtype);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  advise_huge_pages(buffer.Data(), bytes);
  if (bytes) std::memcpy(buffer.Data(), tensor.data(), bytes);
  switch (tensor.dtype) {
    case DType::Float32: return Napi::Float32Array::New(env, count, buffer, 0);
    case DType::Float64: return Napi::Float64Array::New(env, count, buffer, 0);
    case DType::Int32: return Napi::Int32Array::New(env, count, buffer, 0);
    case DType::Bool: return Napi::Uint8Array::New(env, count, buffer, 0);
  }
  return env.Undefined();
}

}  // namespace

double TensorTable::insert(napi_env env, engine::Tensor tensor, bool view) {
  uint32_t index;
  if (free_.empty()) {
    index = uint32_t(slots_.size());
    slots_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
  }
  Slot& slot = slots_[index];
  slot.reported_bytes = tensor.buffer && !view ? int64_t(tensor.buffer->bytes()) : 0;
  slot.tensor = std::move(tensor);
  slot.live = true;
  account_external_memory(env, slot.reported_bytes);
  return double(slot.generation) * kIndexSpan + double(index);
}

TensorTable::Slot* TensorTable::slot_of(double id) {
  // Integer arithmetic on the id: at baseline x86-64 (no roundsd) the two floor()s this
  // replaced compiled to compare-and-convert sequences; raw runOp + release, three lookups,
  // 311-323 -> 296-304 ns.
  if (!(id >= 0 && id < 9007199254740992.0)) return nullptr;  // NaN, negative, past 2^53
  const uint64_t bits = uint64_t(id);
  if (double(bits) != id) return nullptr;  // fractional
  const uint64_t generation = bits >> 32, index = bits & 0xFFFFFFFFu;
  if (index >= slots_.size()) return nullptr;
  Slot& slot = slots_[size_t(index)];
  return slot.live && slot.generation == generation ? &slot : nullptr;
}

void WriteFence::release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
  }
  released_signal_.notify_all();
}

void WriteFence::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  released_signal_.wait(lock, [this] { return released_; });
}

const engine::Tensor* TensorTable::find(double id) {
  Slot* slot = slot_of(id);
  if (!slot) return nullptr;
  if (slot->writer) {
    slot->writer->wait();
    slot->writer.reset();
  }
  return &slot->tensor;
}

const engine::Tensor* TensorTable::find_queued(double id) {
  Slot* slot = slot_of(id);
  return slot ? &slot->tensor : nullptr;
}

void TensorTable::fence(double id, std::shared_ptr<WriteFence> fence) {
  if (Slot* slot = slot_of(id)) slot->writer = std::move(fence);
}

bool TensorTable::release(napi_env env, double id) {
  Slot* slot = slot_of(id);
  if (!slot) return false;
  account_external_memory(env, -slot->reported_bytes);
  slot->tensor = engine::Tensor();  // the buffer goes back to the allocator here
  slot->writer.reset();
  slot->live = false;
  slot->generation = slot->generation + 1 == kMaxGeneration ? 1 : slot->generation + 1;
  free_.push_back(uint32_t(slot - slots_.data()));
  return true;
}

void TensorTable::clear() {
  slots_.clear();
  free_.clear();
}

void account_external_memory(napi_env env, int64_t delta) {
  t_live_external += delta;
  const int64_t live = t_live_external, reported = t_reported_external;
  // Up once live passes the report by a batch. V8 starts a full mark-compact when external memory
  // rises 64 MiB over its low point since the last one, so a report that follows a training step's
  // churn (activations made, then freed) costs one full GC per step (5-12 ms each, measured): the
  // report goes down only once live has stayed under half of it for kShrinkReportDelay, which a
  // loop whose steps come back to their peak never does. (An eager Transformer train step
  // through a GradientTape went down and up every step: 25 full GCs in 28 steps.)
  if (live >= reported / 2) {
    t_low_since_ns = -1;
    if (live < reported + kExternalMemoryBatch) return;
  } else {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
    if (t_low_since_ns < 0) t_low_since_ns = now;
    if (now - t_low_since_ns < kShrinkReportDelayNs) return;
  }
  int64_t total = 0;
  if (napi_adjust_external_memory(env, live - reported, &total) == napi_ok) t_reported_external = live;
  t_low_since_ns = -1;
}

int64_t reported_external_memory() { return t_reported_external; }

void register_tensor_functions(Napi::Env env, Napi::Object exports) {
  napi_value create = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "createTensor", NAPI_AUTO_LENGTH, bare_callback<CreateTensor>, nullptr, &create));
  exports.Set("createTensor", create);
  napi_value release = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "releaseTensor", NAPI_AUTO_LENGTH, ReleaseTensor, nullptr, &release));
  exports.Set("releaseTensor", release);
  exports.Set("reshapeView", Napi::Function::New(env, ReshapeView, "reshapeView"));
  exports.Set("sliceView", Napi::Function::New(env, SliceView, "sliceView"));
  exports.Set("tensorShape", Napi::Function::New(env, TensorShape, "tensorShape"));
  exports.Set("tensorDType", Napi::Function::New(env, TensorDType, "tensorDType"));
  exports.Set("readTensor", Napi::Function::New(env, ReadTensor, "readTensor"));
}

}  // namespace keras::binding
