// Per-environment state of the addon (one per Node worker thread).
#pragma once
#include <napi.h>

namespace keras::binding {

struct AddonState {
  Napi::FunctionReference tensor_constructor;
  Napi::ObjectReference tensor_prototype;  // NativeTensor.prototype: how handles are recognized
};

inline AddonState& addon_state(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

// Turns an engine exception into a JS Error; OpError kinds become the error's
// name (ShapeError, DTypeError, ValueError) as in lib/errors.ts.
Napi::Error to_js_error(Napi::Env env, const std::exception& e);

Napi::Object Init(Napi::Env env, Napi::Object exports);

}  // namespace keras::binding
