// NativeTensor: the JS handle of an engine tensor. Memory is released by
// dispose(), or by the garbage collector if the handle is dropped undisposed.
//
// Handles are the per-op cost floor of eager execution, so they are plain N-API
// wraps rather than Napi::ObjectWrap: dispose() removes the wrap (and with it the
// weak reference and finalizer the GC would otherwise process for every handle),
// and V8 hears about native memory in batches (see account_external_memory).
#pragma once
#include <napi.h>

#include <string>

#include "../engine/tensor.h"

namespace keras::binding {

class NativeTensor {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an engine tensor in a new JS handle.
  static Napi::Object NewHandle(Napi::Env env, engine::Tensor tensor);
  // The engine tensor behind a JS value, or null; *is_handle says whether the value
  // is a NativeTensor at all (a disposed handle is one, with no tensor).
  static const engine::Tensor* Find(Napi::Env env, napi_value value, bool* is_handle);
  // The engine tensor behind a JS value; throws a JS TypeError naming `what` if
  // the value is not a live NativeTensor.
  static const engine::Tensor& FromValue(Napi::Env env, const Napi::Value& value, const std::string& what);
  // Same, with the name built only when the value is bad (hot paths).
  template <class What>
  static const engine::Tensor& FromValueLazy(Napi::Env env, napi_value value, const What& what) {
    bool is_handle = false;
    const engine::Tensor* t = Find(env, value, &is_handle);
    if (t) return *t;
    if (!is_handle) throw Napi::TypeError::New(env, what() + " is not a NativeTensor");
    throw Napi::Error::New(env, what() + " was already disposed");
  }
};

// Tells V8 about native bytes gained (> 0) or freed (< 0), so dropped handles are
// collected under memory pressure. Small changes are summed per thread and passed
// on once they reach kExternalMemoryBatch: the call is too costly to make per tensor.
constexpr int64_t kExternalMemoryBatch = int64_t(1) << 20;
void account_external_memory(napi_env env, int64_t delta);
// Bytes of live handles on this thread that V8 has been told about (memoryInfo, tests):
// within kExternalMemoryBatch of the bytes those handles hold.
int64_t reported_external_memory();

// Copies a JS TypedArray into a new engine tensor (exported as createTensor).
Napi::Value CreateTensor(const Napi::CallbackInfo& info);

}  // namespace keras::binding
