// Per-environment state of the addon (one per Node worker thread).
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "../kernels/kernel.h"
#include "tensor_table.h"

namespace keras::binding {

struct AsyncChannel;  // async_job.cc

struct AddonState {
  TensorTable tensors;
  // How asynchronous jobs come back to this environment's JS thread (made on first use).
  std::shared_ptr<AsyncChannel> async_channel;
  // Ops by the small integer id opId() hands out, so eager calls skip the name lookup.
  std::vector<const kernels::OpDef*> ops;
};

inline AddonState& addon_state(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return *static_cast<AddonState*>(data);
}

// Turns an engine exception into a JS Error; OpError kinds become the error's
// name (ShapeError, DTypeError, ValueError) as in lib/errors.ts.
Napi::Error to_js_error(Napi::Env env, const std::exception& e);

// A bare N-API callback around a C++ one, for the per-op hot paths (node-addon-api's
// Function::New adds a layer per call): a C++ exception becomes a JS exception.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
napi_value bare_callback(napi_env env, napi_callback_info cbinfo) {
  try {
    Napi::CallbackInfo info(env, cbinfo);
    return F(info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  } catch (const std::exception& e) {
    to_js_error(env, e).ThrowAsJavaScriptException();
    return nullptr;
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports);

}  // namespace keras::binding
