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

// What a handle wraps. Deleted by dispose() or, for a dropped handle, by the GC's finalizer.
struct Slot {
  engine::Tensor tensor;
  int64_t reported_bytes;
};

thread_local int64_t t_unreported_external = 0;
thread_local int64_t t_reported_external = 0;

void finalize_slot(napi_env env, void* data, void* /*hint*/) {
  auto* slot = static_cast<Slot*>(data);
  account_external_memory(env, -slot->reported_bytes);
  delete slot;  // the buffer goes back to the allocator here
}

// The live slot behind `this`, or null for a disposed handle (or a foreign receiver).
Slot* this_slot(const Napi::CallbackInfo& info) {
  void* data = nullptr;
  if (napi_unwrap(info.Env(), info.This(), &data) != napi_ok) return nullptr;
  return static_cast<Slot*>(data);
}

// N-API callback around a C++ one: Napi::Error becomes a JS exception.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
napi_value callback(napi_env env, napi_callback_info cbinfo) {
  try {
    Napi::CallbackInfo info(env, cbinfo);
    return F(info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  } catch (const std::exception& e) {
    Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
    return nullptr;
  }
}

napi_value construct(napi_env env, napi_callback_info cbinfo) {
  // `new NativeTensor()` from JS makes an empty handle that reads as disposed.
  napi_value self = nullptr;
  napi_get_cb_info(env, cbinfo, nullptr, nullptr, &self, nullptr);
  return self;
}

Napi::Value get_shape(const Napi::CallbackInfo& info) {
  Slot* slot = this_slot(info);
  if (!slot) return Napi::Array::New(info.Env(), 0);
  const auto& shape = slot->tensor.shape;
  Napi::Array result = Napi::Array::New(info.Env(), shape.size());
  for (size_t i = 0; i < shape.size(); ++i) result.Set(uint32_t(i), double(shape[i]));
  return result;
}

Napi::Value get_dtype(const Napi::CallbackInfo& info) {
  Slot* slot = this_slot(info);
  return Napi::String::New(info.Env(), engine::dtype_name(slot ? slot->tensor.dtype : DType::Float32));
}

Napi::Value get_size(const Napi::CallbackInfo& info) {
  Slot* slot = this_slot(info);
  return Napi::Number::New(info.Env(), slot ? double(slot->tensor.numel()) : 0.0);
}

Napi::Value get_disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), this_slot(info) == nullptr); }

Napi::Value read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Slot* slot = this_slot(info);
  if (!slot) throw Napi::Error::New(env, "read: the tensor was already disposed");
  const engine::Tensor& tensor = slot->tensor;
  if (!tensor.is_contiguous()) throw Napi::Error::New(env, "read: non-contiguous tensors are not readable yet");
  const size_t count = size_t(tensor.numel());
  const size_t bytes = count * engine::dtype_size(tensor.dtype);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buffer.Data(), tensor.data(), bytes);
  switch (tensor.dtype) {
    case DType::Float32: return Napi::Float32Array::New(env, count, buffer, 0);
    case DType::Float64: return Napi::Float64Array::New(env, count, buffer, 0);
    case DType::Int32: return Napi::Int32Array::New(env, count, buffer, 0);
    case DType::Bool: return Napi::Uint8Array::New(env, count, buffer, 0);
  }
  return env.Undefined();
}

Napi::Value dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  // Removing the wrap drops its weak reference: the GC has nothing left to finalize.
  if (napi_remove_wrap(env, info.This(), &data) == napi_ok && data) {
    auto* slot = static_cast<Slot*>(data);
    account_external_memory(env, -slot->reported_bytes);
    delete slot;
  }
  return env.Undefined();
}

}  // namespace

void account_external_memory(napi_env env, int64_t delta) {
  t_unreported_external += delta;
  if (t_unreported_external >= kExternalMemoryBatch || t_unreported_external <= -kExternalMemoryBatch) {
    int64_t total = 0;
    if (napi_adjust_external_memory(env, t_unreported_external, &total) == napi_ok) {
      t_reported_external += t_unreported_external;
      t_unreported_external = 0;
    }
  }
}

int64_t reported_external_memory() { return t_reported_external; }

Napi::Function NativeTensor::Define(Napi::Env env) {
  const napi_property_descriptor props[] = {
      {"shape", nullptr, nullptr, callback<get_shape>, nullptr, nullptr, napi_default, nullptr},
      {"dtype", nullptr, nullptr, callback<get_dtype>, nullptr, nullptr, napi_default, nullptr},
      {"size", nullptr, nullptr, callback<get_size>, nullptr, nullptr, napi_default, nullptr},
      {"disposed", nullptr, nullptr, callback<get_disposed>, nullptr, nullptr, napi_default, nullptr},
      {"read", nullptr, callback<read>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dispose", nullptr, callback<dispose>, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value ctor = nullptr;
  napi_status status = napi_define_class(env, "NativeTensor", NAPI_AUTO_LENGTH, construct, nullptr,
                                         sizeof(props) / sizeof(props[0]), props, &ctor);
  NAPI_THROW_IF_FAILED(env, status, Napi::Function());
  return Napi::Function(env, ctor);
}

Napi::Object NativeTensor::NewHandle(Napi::Env env, engine::Tensor tensor) {
  napi_value object = nullptr;
  napi_status status = napi_new_instance(env, addon_state(env).tensor_constructor.Value(), 0, nullptr, &object);
  NAPI_THROW_IF_FAILED(env, status, Napi::Object());
  const int64_t bytes = tensor.buffer ? int64_t(tensor.buffer->bytes()) : 0;
  auto* slot = new Slot{std::move(tensor), bytes};
  status = napi_wrap(env, object, slot, finalize_slot, nullptr, nullptr);
  if (status != napi_ok) {
    delete slot;
    NAPI_THROW_IF_FAILED(env, status, Napi::Object());
  }
  account_external_memory(env, bytes);
  return Napi::Object(env, object);
}

const engine::Tensor* NativeTensor::Find(Napi::Env env, napi_value value, bool* is_handle) {
  *is_handle = false;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_object) return nullptr;
  // Exact prototype identity: one lookup, where instanceof walks the chain.
  napi_value proto = nullptr;
  bool same = false;
  if (napi_get_prototype(env, value, &proto) != napi_ok ||
      napi_strict_equals(env, proto, addon_state(env).tensor_prototype.Value(), &same) != napi_ok || !same) {
    return nullptr;
  }
  *is_handle = true;
  void* data = nullptr;
  if (napi_unwrap(env, value, &data) != napi_ok || !data) return nullptr;
  return &static_cast<Slot*>(data)->tensor;
}

const engine::Tensor& NativeTensor::FromValue(Napi::Env env, const Napi::Value& value, const std::string& what) {
  return FromValueLazy(env, value, [&] { return what; });
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
