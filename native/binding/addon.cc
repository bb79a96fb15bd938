// Module entry: the functions lib/backends/cpu/native.ts declares.
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "../cpu/cpu_kernels.h"
#include "../cpu/gemm.h"
#include "../cpu/isa.h"
#include "../cpu/peak.h"
#include "../engine/allocator.h"
#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "../kernels/kernel.h"
#include "addon_state.h"
#include "attrs.h"
#include "executable.h"
#include "tensor_handle.h"

#ifndef KERAS_BUILD_SYSTEM
#define KERAS_BUILD_SYSTEM "unknown"
#endif

namespace keras::binding {
namespace {

using kernels::Attrs;

struct KernelCall {
  std::string name;
  std::vector<engine::Tensor> inputs;  // shared buffers: a dispose() in JS cannot free them mid-run
  Attrs attrs;
};

KernelCall parse_call(const Napi::CallbackInfo& info, const char* function) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, std::string(function) + "(name, inputs, attrs): expected an op name and an array of tensors");
  }
  KernelCall call;
  call.name = info[0].As<Napi::String>().Utf8Value();
  Napi::Array inputs = info[1].As<Napi::Array>();
  const uint32_t count = inputs.Length();
  call.inputs.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    call.inputs.push_back(NativeTensor::FromValueLazy(env, inputs.Get(i), [&] { return call.name + ": input " + std::to_string(i); }));
  }
  call.attrs = parse_attrs(env, call.name, info.Length() > 2 ? info[2] : env.Undefined());
  return call;
}

Napi::Array wrap_outputs(Napi::Env env, std::vector<engine::Tensor>& outputs) {
  Napi::Array result = Napi::Array::New(env, outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) result.Set(uint32_t(i), NativeTensor::NewHandle(env, std::move(outputs[i])));
  return result;
}

// Per-thread input vectors by input count, for RunKernel. Their tensors keep their
// shape/stride capacity between calls, so copying handles' tensors in allocates nothing.
struct InputScratch {
  static constexpr uint32_t kMaxCount = 8;
  std::vector<engine::Tensor> by_count[kMaxCount + 1];
  bool busy = false;  // a JS getter met while reading the inputs may call runKernel again
};

Napi::Value RunKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, "runKernel(name, inputs, attrs): expected an op name and an array of tensors");
  }
  thread_local InputScratch scratch;
  // Op names fit a stack buffer: one N-API call instead of a length query and a copy.
  char name_buffer[64];
  size_t name_length = 0;
  napi_status status = napi_get_value_string_utf8(env, info[0], name_buffer, sizeof(name_buffer), &name_length);
  NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  const std::string name = name_length + 1 < sizeof(name_buffer) ? std::string(name_buffer, name_length)
                                                                  : info[0].As<Napi::String>().Utf8Value();
  Napi::Array array = info[1].As<Napi::Array>();
  const uint32_t count = array.Length();
  std::vector<engine::Tensor> local;
  const bool use_scratch = !scratch.busy && count <= InputScratch::kMaxCount;
  std::vector<engine::Tensor>& inputs = use_scratch ? scratch.by_count[count] : local;
  inputs.resize(count);
  // Drops the buffer references when the call ends, however it ends, so a later
  // dispose() in JS frees the memory.
  struct Guard {
    std::vector<engine::Tensor>& inputs;
    InputScratch* scratch;
    ~Guard() {
      for (auto& t : inputs) t.buffer.reset();
      if (scratch) scratch->busy = false;
    }
  } guard{inputs, use_scratch ? &scratch : nullptr};
  if (use_scratch) scratch.busy = true;
  for (uint32_t i = 0; i < count; ++i) {
    inputs[i] = NativeTensor::FromValueLazy(env, array.Get(i), [&] { return name + ": input " + std::to_string(i); });
  }
  Attrs attrs = parse_attrs(env, name, info.Length() > 2 ? info[2] : env.Undefined());
  std::vector<engine::Tensor> outputs;
  try {
    outputs = kernels::run_op(name, inputs, attrs, engine::Device::CPU);
  } catch (const std::exception& e) {
    throw to_js_error(env, e);
  }
  return wrap_outputs(env, outputs);
}

// Runs a kernel on a libuv worker thread and settles a Promise with its outputs.
class RunKernelWorker : public Napi::AsyncWorker {
 public:
  RunKernelWorker(Napi::Env env, KernelCall call)
      : Napi::AsyncWorker(env, "keras.runKernelAsync"), call_(std::move(call)), deferred_(env) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      outputs_ = kernels::run_op(call_.name, call_.inputs, call_.attrs, engine::Device::CPU);
    } catch (const kernels::OpError& e) {
      error_kind_ = e.kind();
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
    call_.inputs.clear();
  }
  void OnOK() override { deferred_.Resolve(wrap_outputs(Env(), outputs_)); }
  void OnError(const Napi::Error& error) override {
    Napi::Error e = Napi::Error::New(Env(), error.Message());
    if (error_kind_) e.Set("name", Napi::String::New(Env(), error_kind_));
    deferred_.Reject(e.Value());
  }

 private:
  KernelCall call_;
  std::vector<engine::Tensor> outputs_;
  const char* error_kind_ = nullptr;
  Napi::Promise::Deferred deferred_;
};

Napi::Value RunKernelAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* worker = new RunKernelWorker(env, parse_call(info, "runKernelAsync"));
  Napi::Promise promise = worker->promise();
  worker->Queue();  // the worker deletes itself after settling
  return promise;
}

Napi::Value BackendInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& cpu = engine::cpu_info();
  const auto& table = cpu::active_kernels();
  Napi::Object result = Napi::Object::New(env);
  result.Set("isa", table.isa);
  Napi::Array isas = Napi::Array::New(env);
  for (const auto& isa : cpu::available_isas()) isas.Set(isas.Length(), isa);
  result.Set("availableIsas", isas);
  result.Set("threads", engine::thread_pool().num_threads());
  result.Set("build", KERAS_BUILD_SYSTEM);
#if defined(__clang__)
  result.Set("compiler", std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
  result.Set("compiler", std::string("gcc ") + __VERSION__);
#else
  result.Set("compiler", "unknown");
#endif
  Napi::Object kernel_names = Napi::Object::New(env);
  kernel_names.Set("f32Gemm", table.f32_gemm.name);
  kernel_names.Set("f64Gemm", table.f64_gemm.name);
  const auto blocking = cpu::gemm_blocking(table.f32_gemm.mr, table.f32_gemm.nr, int(sizeof(float)));
  Napi::Object f32_blocking = Napi::Object::New(env);
  f32_blocking.Set("mc", double(blocking.mc));
  f32_blocking.Set("kc", double(blocking.kc));
  f32_blocking.Set("nc", double(blocking.nc));
  kernel_names.Set("f32GemmBlocking", f32_blocking);
  result.Set("kernels", kernel_names);
  Napi::Object processor = Napi::Object::New(env);
  processor.Set("vendor", cpu.vendor);
  processor.Set("brand", cpu.brand);
  processor.Set("physicalCores", cpu.physical_cores);
  processor.Set("logicalCpus", cpu.logical_cpus);
  processor.Set("l1dBytes", double(cpu.l1d_bytes));
  processor.Set("l2Bytes", double(cpu.l2_bytes));
  processor.Set("l3Bytes", double(cpu.l3_bytes));
  result.Set("cpu", processor);
  Napi::Array ops = Napi::Array::New(env);
  for (const auto& name : kernels::kernel_registry().op_names(engine::Device::CPU)) ops.Set(ops.Length(), name);
  result.Set("ops", ops);
  return result;
}

Napi::Value MemoryInfo(const Napi::CallbackInfo& info) {
  const engine::MemoryStats stats = engine::host_allocator().stats();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("liveBytes", double(stats.live_bytes));
  result.Set("liveBuffers", double(stats.live_buffers));
  result.Set("cachedBytes", double(stats.cached_bytes));
  result.Set("peakLiveBytes", double(stats.peak_live_bytes));
  result.Set("reportedExternalBytes", double(reported_external_memory()));
  return result;
}

Napi::Value ReleaseCache(const Napi::CallbackInfo& info) {
  engine::host_allocator().release_cache();
  return info.Env().Undefined();
}

Napi::Value PeakFlops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int threads = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  double seconds = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0.5;
  if (!(seconds > 0 && seconds <= 60)) throw Napi::RangeError::New(env, "peakFlops: seconds must be in (0, 60]");
  return Napi::Number::New(env, cpu::measure_fma_peak_gflops(threads, seconds));
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "setIsa(name): name must be a string");
  try {
    cpu::set_isa(info[0].As<Napi::String>().Utf8Value());
  } catch (const std::exception& e) {
    throw to_js_error(env, e);
  }
  return env.Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setNumThreads(n): n must be a number");
  engine::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static bool registered = [] {
    kernels::define_core_ops(kernels::kernel_registry());
    cpu::register_cpu_kernels(kernels::kernel_registry());
    return true;
  }();
  (void)registered;
  auto* state = new AddonState();
  Napi::Function tensor_class = NativeTensor::Define(env);
  state->tensor_constructor = Napi::Persistent(tensor_class);
  state->tensor_prototype = Napi::Persistent(tensor_class.Get("prototype").As<Napi::Object>());
  env.SetInstanceData<AddonState>(state);

  exports.Set("NativeTensor", tensor_class);
  exports.Set("createTensor", Napi::Function::New(env, CreateTensor, "createTensor"));
  exports.Set("runKernel", Napi::Function::New(env, RunKernel, "runKernel"));
  exports.Set("runKernelAsync", Napi::Function::New(env, RunKernelAsync, "runKernelAsync"));
  exports.Set("backendInfo", Napi::Function::New(env, BackendInfo, "backendInfo"));
  exports.Set("memoryInfo", Napi::Function::New(env, MemoryInfo, "memoryInfo"));
  exports.Set("releaseCache", Napi::Function::New(env, ReleaseCache, "releaseCache"));
  exports.Set("peakFlops", Napi::Function::New(env, PeakFlops, "peakFlops"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  register_executable(env, exports);
  return exports;
}

Napi::Error to_js_error(Napi::Env env, const std::exception& e) {
  Napi::Error error = Napi::Error::New(env, e.what());
  if (const auto* op_error = dynamic_cast<const kernels::OpError*>(&e)) {
    error.Set("name", Napi::String::New(env, op_error->kind()));
  }
  return error;
}

}  // namespace keras::binding

static Napi::Object InitKerasNative(Napi::Env env, Napi::Object exports) {
  return keras::binding::Init(env, exports);
}

NODE_API_MODULE(keras_native, InitKerasNative)
