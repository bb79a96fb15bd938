#include "tensor_handle.h"

#include <cstring>

#include "addon_state.h"

namespace keras::binding {
namespace {

using engine::DType;

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

}  // namespace

Napi::Function NativeTensor::Define(Napi::Env env) {
  return DefineClass(env, "NativeTensor",
                     {
                         InstanceAccessor<&NativeTensor::Shape>("shape"),
                         InstanceAccessor<&NativeTensor::DType>("dtype"),
                         InstanceAccessor<&NativeTensor::Size>("size"),
                         InstanceAccessor<&NativeTensor::Disposed>("disposed"),
                         InstanceMethod<&NativeTensor::Read>("read"),
                         InstanceMethod<&NativeTensor::Dispose>("dispose"),
                     });
}

NativeTensor::NativeTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeTensor>(info) {}

NativeTensor::~NativeTensor() {
  // Finalized by GC without dispose(): the buffer goes back to the allocator here.
  if (alive_) {
    tensor_ = engine::Tensor();
    alive_ = false;
    if (reported_bytes_) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reported_bytes_);
  }
}

void NativeTensor::Attach(Napi::Env env, engine::Tensor tensor) {
  tensor_ = std::move(tensor);
  alive_ = true;
  // Tell V8 about native memory so dropped handles are collected under pressure.
  reported_bytes_ = int64_t(tensor_.buffer->bytes());
  if (reported_bytes_) Napi::MemoryManagement::AdjustExternalMemory(env, reported_bytes_);
}

void NativeTensor::Release(Napi::Env env) {
  if (!alive_) return;
  tensor_ = engine::Tensor();
  alive_ = false;
  if (reported_bytes_) Napi::MemoryManagement::AdjustExternalMemory(env, -reported_bytes_);
  reported_bytes_ = 0;
}

Napi::Object NativeTensor::NewHandle(Napi::Env env, engine::Tensor tensor) {
  Napi::Object object = addon_state(env).tensor_constructor.New({});
  NativeTensor::Unwrap(object)->Attach(env, std::move(tensor));
  return object;
}

const engine::Tensor& NativeTensor::FromValue(Napi::Env env, const Napi::Value& value, const std::string& what) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon_state(env).tensor_constructor.Value())) {
    throw Napi::TypeError::New(env, what + " is not a NativeTensor");
  }
  NativeTensor* self = Napi::ObjectWrap<NativeTensor>::Unwrap(value.As<Napi::Object>());
  if (!self->alive_) throw Napi::Error::New(env, what + " was already disposed");
  return self->tensor_;
}

Napi::Value NativeTensor::Shape(const Napi::CallbackInfo& info) {
  Napi::Array shape = Napi::Array::New(info.Env(), tensor_.shape.size());
  for (size_t i = 0; i < tensor_.shape.size(); ++i) shape.Set(uint32_t(i), double(tensor_.shape[i]));
  return shape;
}

Napi::Value NativeTensor::DType(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), engine::dtype_name(tensor_.dtype));
}

Napi::Value NativeTensor::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(tensor_.numel()));
}

Napi::Value NativeTensor::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !alive_); }

Napi::Value NativeTensor::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!alive_) throw Napi::Error::New(env, "read: the tensor was already disposed");
  if (!tensor_.is_contiguous()) throw Napi::Error::New(env, "read: non-contiguous tensors are not readable yet");
  const size_t count = size_t(tensor_.numel());
  const size_t bytes = count * engine::dtype_size(tensor_.dtype);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buffer.Data(), tensor_.data(), bytes);
  switch (tensor_.dtype) {
    case DType::Float32: return Napi::Float32Array::New(env, count, buffer, 0);
    case DType::Float64: return Napi::Float64Array::New(env, count, buffer, 0);
    case DType::Int32: return Napi::Int32Array::New(env, count, buffer, 0);
    case DType::Bool: return Napi::Uint8Array::New(env, count, buffer, 0);
  }
  return env.Undefined();
}

Napi::Value NativeTensor::Dispose(const Napi::CallbackInfo& info) {
  Release(info.Env());
  return info.Env().Undefined();
}

Napi::Value CreateTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) throw Napi::TypeError::New(env, "createTensor(data, shape, dtype): expected 3 arguments");
  if (!info[2].IsString()) throw Napi::TypeError::New(env, "createTensor: dtype must be a string");
  std::string dtype_name = info[2].As<Napi::String>();
  engine::DType dtype;
  if (!engine::parse_dtype(dtype_name, &dtype)) {
    throw Napi::TypeError::New(env, "createTensor: unknown dtype '" + dtype_name +
                                        "'; expected float32, float64, int32 or bool");
  }
  engine::Shape shape = parse_shape(env, info[1], "createTensor");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != typed_array_type_for(dtype)) {
    throw Napi::TypeError::New(env, std::string("createTensor: dtype ") + dtype_name + " needs a " +
                                        typed_array_name(dtype));
  }
  Napi::TypedArray data = info[0].As<Napi::TypedArray>();
  const int64_t count = engine::shape_numel(shape);
  if (int64_t(data.ElementLength()) != count) {
    throw Napi::RangeError::New(env, "createTensor: shape " + engine::format_shape(shape) + " holds " +
                                         std::to_string(count) + " elements but the data has " +
                                         std::to_string(data.ElementLength()));
  }
  engine::Tensor tensor;
  try {
    tensor = engine::make_host_tensor(dtype, shape);
  } catch (const std::exception& e) {
    throw to_js_error(env, e);
  }
  const size_t bytes = size_t(count) * engine::dtype_size(dtype);
  if (bytes) {
    const char* src = static_cast<const char*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    std::memcpy(tensor.data(), src, bytes);
  }
  return NativeTensor::NewHandle(env, std::move(tensor));
}

}  // namespace keras::binding
