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
#include "async_job.h"
#include "attrs.h"
#include "executable.h"
#include "tensor_table.h"

#ifndef KERAS_BUILD_SYSTEM
#define KERAS_BUILD_SYSTEM "unknown"
#endif

namespace keras::binding {
namespace {

using kernels::Attrs;

// runOp(opId, attrs, ...inputIds) / runOpAsync(...): the op by the id opId() gave.
const kernels::OpDef& op_from_value(const Napi::CallbackInfo& info, const char* function) {
  Napi::Env env = info.Env();
  const auto& ops = addon_state(env).ops;
  const double id = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(id >= 0 && id < double(ops.size())) || id != double(size_t(id))) {
    throw Napi::TypeError::New(env, std::string(function) + "(opId, attrs, ...inputs): opId must come from opId(name)");
  }
  return *ops[size_t(id)];
}

// Inputs of a call as the table's tensors. The pointers stay valid until the
// table changes, i.e. until outputs are inserted. `queued`: for a kernel on the dispatch thread.
void find_inputs(const Napi::CallbackInfo& info, const kernels::OpDef& def, std::vector<const engine::Tensor*>& inputs, bool queued) {
  Napi::Env env = info.Env();
  TensorTable& table = addon_state(env).tensors;
  inputs.resize(info.Length() - 2);
  for (size_t i = 0; i < inputs.size(); ++i) {
    inputs[i] = &tensor_from_value(env, table, info[i + 2], [&] { return def.name + ": input " + std::to_string(i); }, queued);
  }
}

// One id for a single output (the common case: no array to make), else an array of ids.
Napi::Value insert_outputs(Napi::Env env, std::vector<engine::Tensor>& outputs) {
  TensorTable& table = addon_state(env).tensors;
  if (outputs.size() == 1) return Napi::Number::New(env, table.insert(env, std::move(outputs[0])));
  Napi::Array result = Napi::Array::New(env, outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) result.Set(uint32_t(i), table.insert(env, std::move(outputs[i])));
  return result;
}

Napi::Value RunOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const kernels::OpDef& def = op_from_value(info, "runOp");
  // Attrs first: reading them can run JS (a getter on the list) that frees an input or
  // re-enters runOp, which would leave the input pointers below dangling.
  Attrs attrs = parse_attrs(env, def.name, info.Length() > 1 ? info[1] : env.Undefined());
  thread_local std::vector<const engine::Tensor*> inputs;
  find_inputs(info, def, inputs, false);
  std::vector<engine::Tensor> outputs;
  try {
    outputs = kernels::run_op(def, inputs.data(), inputs.size(), attrs, engine::Device::CPU);
  } catch (const std::exception& e) {
    throw to_js_error(env, e);
  }
  return insert_outputs(env, outputs);
}

// runOpAsync: a kernel on the dispatch thread; resolves with its output ids.
class RunOpJob : public AsyncJob {
 public:
  RunOpJob(const kernels::OpDef& def, std::vector<engine::Tensor> inputs, Attrs attrs)
      : def_(def), inputs_(std::move(inputs)), attrs_(std::move(attrs)) {}
  void execute() override {
    outputs_ = kernels::run_op(def_.name, inputs_, attrs_, engine::Device::CPU);
    inputs_.clear();
  }
  Napi::Value result(Napi::Env env) override { return insert_outputs(env, outputs_); }

 private:
  const kernels::OpDef& def_;
  std::vector<engine::Tensor> inputs_;  // shared buffers: a release from JS cannot free them mid-run
  Attrs attrs_;
  std::vector<engine::Tensor> outputs_;
};

Napi::Value RunOpAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const kernels::OpDef& def = op_from_value(info, "runOpAsync");
  Attrs attrs = parse_attrs(env, def.name, info.Length() > 1 ? info[1] : env.Undefined());  // first, as in runOp
  std::vector<const engine::Tensor*> found;
  find_inputs(info, def, found, true);
  std::vector<engine::Tensor> inputs;
  inputs.reserve(found.size());
  for (const auto* t : found) inputs.push_back(*t);
  return start_async_job(env, std::make_unique<RunOpJob>(def, std::move(inputs), std::move(attrs)));
}

// opId(name): the id runOp takes, or -1 when the engine does not know the op.
Napi::Value OpId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "opId(name): name must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  auto& ops = addon_state(env).ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i]->name == name) return Napi::Number::New(env, double(i));
  }
  return Napi::Number::New(env, -1);
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
  result.Set("liveTensors", double(addon_state(info.Env()).tensors.live_count()));
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
  for (const auto& name : kernels::kernel_registry().op_names(engine::Device::CPU)) {
    state->ops.push_back(&kernels::kernel_registry().find(name));
  }
  env.SetInstanceData<AddonState>(state);

  register_tensor_functions(env, exports);
  napi_value run_op = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_function(env, "runOp", NAPI_AUTO_LENGTH, bare_callback<RunOp>, nullptr, &run_op), exports);
  exports.Set("runOp", run_op);
  exports.Set("runOpAsync", Napi::Function::New(env, RunOpAsync, "runOpAsync"));
  exports.Set("opId", Napi::Function::New(env, OpId, "opId"));
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
