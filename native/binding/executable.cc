#include "executable.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../engine/executor.h"
#include "../engine/thread_pool.h"
#include "addon_state.h"
#include "async_job.h"
#include "attrs.h"
#include "tensor_table.h"

namespace keras::binding {
namespace {

using engine::GraphExecutable;
using engine::PlanSpec;
using engine::RunResult;

// The plan arrives from lib/backends/cpu/executor.ts, but the C++ layer trusts no
// JS input: every field is type-checked and every slot id range-checked by the
// engine.
Napi::Error plan_error(Napi::Env env, const std::string& what) {
  return Napi::TypeError::New(env, "compileGraph: " + what);
}

Napi::Value field(Napi::Env env, const Napi::Object& object, const char* name, const std::string& where) {
  Napi::Value v = object.Get(name);
  if (v.IsUndefined()) throw plan_error(env, where + " has no '" + name + "'");
  return v;
}

Napi::Array array_field(Napi::Env env, const Napi::Object& object, const char* name, const std::string& where) {
  Napi::Value v = field(env, object, name, where);
  if (!v.IsArray()) throw plan_error(env, where + "." + name + " must be an array");
  return v.As<Napi::Array>();
}

int64_t integer(Napi::Env env, const Napi::Value& v, const std::string& where) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740991.0) throw plan_error(env, where + " must be an integer");
  return int64_t(d);
}

std::vector<int> ints(Napi::Env env, const Napi::Array& array, const std::string& where) {
  std::vector<int> out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const int64_t v = integer(env, array.Get(i), where + "[" + std::to_string(i) + "]");
    if (v < INT32_MIN || v > INT32_MAX) throw plan_error(env, where + " is out of range");
    out.push_back(int(v));
  }
  return out;
}

// A copy of the live tensor behind an id (sharing its buffer); `what()` names it in errors.
template <class What>
engine::Tensor live_tensor(Napi::Env env, const Napi::Value& value, const What& what, bool queued = false) {
  return tensor_from_value(env, addon_state(env).tensors, value, what, queued);
}

PlanSpec parse_plan(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) throw plan_error(env, "the plan must be an object");
  Napi::Object plan = value.As<Napi::Object>();
  PlanSpec spec;
  Napi::Array slots = array_field(env, plan, "slots", "plan");
  for (uint32_t i = 0; i < slots.Length(); ++i) {
    const std::string where = "slots[" + std::to_string(i) + "]";
    if (!slots.Get(i).IsObject()) throw plan_error(env, where + " must be an object");
    Napi::Object slot = slots.Get(i).As<Napi::Object>();
    engine::PlanSlot s;
    Napi::Value dtype = field(env, slot, "dtype", where);
    if (!dtype.IsString() || !engine::parse_dtype(dtype.As<Napi::String>().Utf8Value(), &s.dtype)) {
      throw plan_error(env, where + ".dtype must be float32, float64, int32 or bool");
    }
    for (int d : ints(env, array_field(env, slot, "shape", where), where + ".shape")) {
      if (d < 0) throw plan_error(env, where + ".shape must hold non-negative integers");
      s.shape.push_back(d);
    }
    spec.slots.push_back(std::move(s));
  }
  Napi::Array steps = array_field(env, plan, "steps", "plan");
  for (uint32_t i = 0; i < steps.Length(); ++i) {
    const std::string where = "steps[" + std::to_string(i) + "]";
    if (!steps.Get(i).IsObject()) throw plan_error(env, where + " must be an object");
    Napi::Object step = steps.Get(i).As<Napi::Object>();
    engine::PlanStep s;
    Napi::Value op = field(env, step, "op", where);
    if (!op.IsString()) throw plan_error(env, where + ".op must be a string");
    s.op = op.As<Napi::String>().Utf8Value();
    s.inputs = ints(env, array_field(env, step, "inputs", where), where + ".inputs");
    s.outputs = ints(env, array_field(env, step, "outputs", where), where + ".outputs");
    s.attrs = parse_attrs(env, s.op, step.Get("attrs"));
    spec.steps.push_back(std::move(s));
  }
  spec.feeds = ints(env, array_field(env, plan, "feeds", "plan"), "feeds");
  spec.variables = ints(env, array_field(env, plan, "variables", "plan"), "variables");
  spec.outputs = ints(env, array_field(env, plan, "outputs", "plan"), "outputs");
  Napi::Array constants = array_field(env, plan, "constants", "plan");
  for (uint32_t i = 0; i < constants.Length(); ++i) {
    const std::string where = "constants[" + std::to_string(i) + "]";
    if (!constants.Get(i).IsObject()) throw plan_error(env, where + " must be an object");
    Napi::Object c = constants.Get(i).As<Napi::Object>();
    const int slot = int(integer(env, field(env, c, "slot", where), where + ".slot"));
    spec.constants.emplace_back(slot, live_tensor(env, field(env, c, "tensor", where), [&] { return where + ".tensor"; }));
  }
  Napi::Array updates = array_field(env, plan, "updates", "plan");
  for (uint32_t i = 0; i < updates.Length(); ++i) {
    const std::string where = "updates[" + std::to_string(i) + "]";
    if (!updates.Get(i).IsObject()) throw plan_error(env, where + " must be an object");
    Napi::Object u = updates.Get(i).As<Napi::Object>();
    spec.updates.emplace_back(int(integer(env, field(env, u, "variable", where), where + ".variable")),
                              int(integer(env, field(env, u, "slot", where), where + ".slot")));
  }
  return spec;
}

struct RunArgs {
  std::vector<engine::Tensor> feeds;      // shared buffers: a dispose() in JS cannot free them mid-run
  std::vector<engine::Tensor> variables;
  std::vector<bool> donated;
};

// `queued`: for run(), whose work goes to the dispatch thread.
RunArgs parse_run(const Napi::CallbackInfo& info, const char* function, bool queued) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, std::string(function) + "(feeds, variables, donate): expected arrays of tensor ids");
  }
  RunArgs args;
  Napi::Array feeds = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < feeds.Length(); ++i) {
    args.feeds.push_back(live_tensor(env, feeds.Get(i), [&] { return std::string(function) + ": feed " + std::to_string(i); }, queued));
  }
  Napi::Array variables = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < variables.Length(); ++i) {
    args.variables.push_back(live_tensor(env, variables.Get(i), [&] { return std::string(function) + ": variable " + std::to_string(i); }, queued));
  }
  Napi::Array donate = info.Length() > 2 && info[2].IsArray() ? info[2].As<Napi::Array>() : Napi::Array::New(env);
  for (uint32_t i = 0; i < variables.Length(); ++i) {
    const bool asked = i < donate.Length() && donate.Get(i).ToBoolean().Value();
    // Exactly two owners (the table's slot and the copy above): no other handle,
    // feed, constant or variable shares the buffer, so nobody else can see the
    // in-place write. (JS tensors sharing that one handle are the caller's
    // business: it asks only when the variable holds the only reference.)
    args.donated.push_back(asked && args.variables[i].buffer.use_count() == 2);
  }
  return args;
}

// A run's result as one array of numbers (lib/backends/cpu/native.ts reads it): the output
// count, the output ids, the update ids, then peakBytes, allocatedBytes, inPlace, kernels.
// Not an object: setting its named fields (the names made anew on every call) was a tenth of
// a small predict call.
Napi::Array wrap_result(Napi::Env env, RunResult& result) {
  TensorTable& table = addon_state(env).tensors;
  const size_t outputs = result.outputs.size(), updates = result.updates.size();
  Napi::Array out = Napi::Array::New(env, 1 + outputs + updates + 4);
  uint32_t at = 0;
  out.Set(at++, double(outputs));
  for (auto& t : result.outputs) out.Set(at++, table.insert(env, std::move(t)));
  for (auto& t : result.updates) out.Set(at++, table.insert(env, std::move(t)));
  for (const int64_t stat : {result.stats.peak_bytes, result.stats.allocated_bytes, result.stats.in_place, result.stats.kernels}) {
    out.Set(at++, double(stat));
  }
  return out;
}

// run(): the executable on the dispatch thread; resolves with the result's ids. The buffers
// of donated variables are fenced from JS-thread readers until the kernels are done.
class RunJob : public AsyncJob {
 public:
  RunJob(std::shared_ptr<const GraphExecutable> exe, RunArgs args, std::shared_ptr<WriteFence> fence)
      : exe_(std::move(exe)), args_(std::move(args)), fence_(std::move(fence)) {}
  ~RunJob() override {
    if (fence_) fence_->release();
  }
  void execute() override {
    struct Release {
      WriteFence* fence;
      ~Release() {
        if (fence) fence->release();  // on failure too: the readers then see what the run left
      }
    } release{fence_.get()};
    result_ = exe_->run(args_.feeds, args_.variables, args_.donated);
    args_ = RunArgs();
  }
  Napi::Value result(Napi::Env env) override { return wrap_result(env, result_); }

 private:
  std::shared_ptr<const GraphExecutable> exe_;
  RunArgs args_;
  std::shared_ptr<WriteFence> fence_;
  RunResult result_;
};

class NativeExecutable : public Napi::ObjectWrap<NativeExecutable> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeExecutable",
                       {
                           InstanceMethod<&NativeExecutable::Run>("run"),
                           InstanceMethod<&NativeExecutable::RunSync>("runSync"),
                           InstanceMethod<&NativeExecutable::Plan>("plan"),
                           InstanceMethod<&NativeExecutable::Dispose>("dispose"),
                       });
  }

  explicit NativeExecutable(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeExecutable>(info) {
    Napi::Env env = info.Env();
    PlanSpec spec = parse_plan(env, info.Length() > 0 ? info[0] : env.Undefined());
    try {
      exe_ = std::make_shared<const GraphExecutable>(std::move(spec));
    } catch (const std::exception& e) {
      throw to_js_error(env, e);
    }
  }

 private:
  const std::shared_ptr<const GraphExecutable>& live(Napi::Env env, const char* what) const {
    if (!exe_) throw Napi::Error::New(env, std::string(what) + ": the executable was disposed");
    return exe_;
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // The job holds the executable until it is settled.
    auto exe = live(env, "run");
    RunArgs args = parse_run(info, "run", true);
    std::shared_ptr<WriteFence> fence;
    Napi::Array ids = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < args.donated.size(); ++i) {
      if (!args.donated[i]) continue;
      if (!fence) fence = std::make_shared<WriteFence>();
      addon_state(env).tensors.fence(ids.Get(i).As<Napi::Number>().DoubleValue(), fence);
    }
    return start_async_job(env, std::make_unique<RunJob>(std::move(exe), std::move(args), std::move(fence)));
  }

  Napi::Value RunSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto exe = live(env, "runSync");
    RunArgs args = parse_run(info, "runSync", false);
    RunResult result;
    try {
      result = exe->run(args.feeds, args.variables, args.donated);
    } catch (const std::exception& e) {
      throw to_js_error(env, e);
    }
    return wrap_result(env, result);
  }

  // The schedule: groups of steps (kernel, view or fused chain) and which input
  // buffer each may write into.
  Napi::Value Plan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& exe = live(env, "plan");
    Napi::Object out = Napi::Object::New(env);
    Napi::Array groups = Napi::Array::New(env);
    for (const auto& g : exe->groups()) {
      Napi::Object group = Napi::Object::New(env);
      using Kind = engine::PlanGroup::Kind;
      group.Set("kind", g.kind == Kind::Fused ? "fused" : g.kind == Kind::View ? "view" : g.kind == Kind::Joined ? "joined" : "kernel");
      Napi::Array ops = Napi::Array::New(env, g.steps.size());
      Napi::Array steps = Napi::Array::New(env, g.steps.size());
      for (size_t i = 0; i < g.steps.size(); ++i) {
        ops.Set(uint32_t(i), exe->spec().steps[size_t(g.steps[i])].op);
        steps.Set(uint32_t(i), g.steps[i]);
      }
      group.Set("ops", ops);
      group.Set("steps", steps);
      group.Set("inPlaceInput", g.in_place_input);
      Napi::Array more_in_place = Napi::Array::New(env, g.more_in_place_inputs.size());
      for (size_t i = 0; i < g.more_in_place_inputs.size(); ++i) more_in_place.Set(uint32_t(i), g.more_in_place_inputs[i]);
      group.Set("moreInPlaceInputs", more_in_place);
      Napi::Array stores = Napi::Array::New(env, g.stores.size());
      for (size_t i = 0; i < g.stores.size(); ++i) stores.Set(uint32_t(i), g.steps[size_t(g.stores[i].member)]);
      group.Set("stores", stores);
      group.Set("concurrentWithNext", g.concurrent_with_next);
      groups.Set(groups.Length(), group);
    }
    out.Set("groups", groups);
    out.Set("plannedPeakBytes", double(exe->planned_peak_bytes()));
    return out;
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    exe_.reset();  // runs in flight keep their own reference
    return info.Env().Undefined();
  }

  std::shared_ptr<const GraphExecutable> exe_;
};

Napi::Value CompileGraph(const Napi::CallbackInfo& info) {
  auto* constructor = static_cast<Napi::FunctionReference*>(info.Data());
  return constructor->New({info.Length() > 0 ? info[0] : info.Env().Undefined()});
}

}  // namespace

void register_executable(Napi::Env env, Napi::Object exports) {
  auto* constructor = new Napi::FunctionReference(Napi::Persistent(NativeExecutable::Define(env)));
  env.AddCleanupHook([constructor] { delete constructor; });
  exports.Set("compileGraph", Napi::Function::New(env, CompileGraph, "compileGraph", constructor));
}

}  // namespace keras::binding
