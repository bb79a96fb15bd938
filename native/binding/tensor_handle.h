// NativeTensor: the JS handle of an engine tensor. Memory is released by
// dispose(), or by the garbage collector if the handle is dropped undisposed.
#pragma once
#include <napi.h>

#include "../engine/tensor.h"

namespace keras::binding {

class NativeTensor : public Napi::ObjectWrap<NativeTensor> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an engine tensor in a new JS handle.
  static Napi::Object NewHandle(Napi::Env env, engine::Tensor tensor);
  // The engine tensor behind a JS value; throws a JS TypeError naming `what` if
  // the value is not a live NativeTensor.
  static const engine::Tensor& FromValue(Napi::Env env, const Napi::Value& value, const std::string& what);

  explicit NativeTensor(const Napi::CallbackInfo& info);
  ~NativeTensor() override;

 private:
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value DType(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  void Attach(Napi::Env env, engine::Tensor tensor);
  void Release(Napi::Env env);

  engine::Tensor tensor_;
  bool alive_ = false;
  int64_t reported_bytes_ = 0;
};

// Copies a JS TypedArray into a new engine tensor (exported as createTensor).
Napi::Value CreateTensor(const Napi::CallbackInfo& info);

}  // namespace keras::binding
