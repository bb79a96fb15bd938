#include "kernel.h"

#include "elementwise.h"
#include "matmul.h"

namespace keras::kernels {
namespace {

template <class V>
const V* typed_attr(const Attrs& attrs, const std::string& op, const std::string& name, const char* expected) {
  const AttrValue* value = attrs.find(name);
  if (!value) return nullptr;
  if (const V* v = std::get_if<V>(value)) return v;
  throw OpError("ValueError", op + ": attribute '" + name + "' must be " + expected);
}

}  // namespace

void Attrs::set(std::string name, AttrValue value) {
  for (auto& entry : values_) {
    if (entry.first == name) {
      entry.second = std::move(value);
      return;
    }
  }
  values_.emplace_back(std::move(name), std::move(value));
}

const AttrValue* Attrs::find(const std::string& name) const {
  for (const auto& entry : values_) {
    if (entry.first == name) return &entry.second;
  }
  return nullptr;
}

bool Attrs::get_bool(const std::string& op, const std::string& name, bool fallback) const {
  const bool* v = typed_attr<bool>(*this, op, name, "a boolean");
  return v ? *v : fallback;
}

int64_t Attrs::get_int(const std::string& op, const std::string& name, int64_t fallback) const {
  if (const double* d = std::get_if<double>(find(name))) {
    if (*d == double(int64_t(*d))) return int64_t(*d);  // JS numbers arrive as doubles
  }
  const int64_t* v = typed_attr<int64_t>(*this, op, name, "an integer");
  return v ? *v : fallback;
}

double Attrs::get_float(const std::string& op, const std::string& name, double fallback) const {
  if (const int64_t* i = std::get_if<int64_t>(find(name))) return double(*i);
  const double* v = typed_attr<double>(*this, op, name, "a number");
  return v ? *v : fallback;
}

std::string Attrs::get_string(const std::string& op, const std::string& name, const std::string& fallback) const {
  const std::string* v = typed_attr<std::string>(*this, op, name, "a string");
  return v ? *v : fallback;
}

std::vector<int64_t> Attrs::get_ints(const std::string& op, const std::string& name,
                                     const std::vector<int64_t>& fallback) const {
  if (const int64_t* i = std::get_if<int64_t>(find(name))) return {*i};
  const auto* v = typed_attr<std::vector<int64_t>>(*this, op, name, "a list of integers");
  return v ? *v : fallback;
}

void KernelRegistry::define_op(const std::string& name, int num_inputs, InferFn infer, bool elementwise_outputs) {
  OpDef& def = ops_[name];
  def.name = name;
  def.num_inputs = num_inputs;
  def.infer = infer;
  def.elementwise_outputs = elementwise_outputs;
}

void KernelRegistry::register_kernel(const std::string& name, Device device, KernelFn kernel) {
  auto it = ops_.find(name);
  if (it == ops_.end()) throw std::logic_error("register_kernel: op '" + name + "' is not defined");
  it->second.kernels[int(device)] = kernel;
}

const OpDef& KernelRegistry::find(const std::string& name) const {
  auto it = ops_.find(name);
  if (it == ops_.end()) throw OpError("ValueError", "unknown op '" + name + "'");
  return it->second;
}

std::vector<std::string> KernelRegistry::op_names(Device device) const {
  std::vector<std::string> names;
  for (const auto& [name, def] : ops_) {
    if (def.kernels[int(device)]) names.push_back(name);
  }
  return names;
}

KernelRegistry& kernel_registry() {
  static KernelRegistry registry;
  return registry;
}

std::vector<engine::Tensor> run_op(const std::string& name, const std::vector<engine::Tensor>& inputs,
                                   const Attrs& attrs, Device device) {
  std::vector<const engine::Tensor*> pointers;
  pointers.reserve(inputs.size());
  for (const auto& t : inputs) pointers.push_back(&t);
  return run_op(kernel_registry().find(name), pointers.data(), pointers.size(), attrs, device);
}

namespace {

// Specs and views of one call. Kept per thread and reused, so that a small op
// allocates only its outputs: assigning a shape into a vector that already has
// the capacity allocates nothing.
struct CallScratch {
  std::vector<TensorSpec> specs;
  std::vector<TensorView> input_views;
  std::vector<TensorView> output_views;
  bool busy = false;  // a kernel that runs another op through run_op gets fresh vectors
};

}  // namespace

std::vector<engine::Tensor> run_op(const OpDef& def, const engine::Tensor* const* inputs, size_t count,
                                   const Attrs& attrs, Device device) {
  const std::string& name = def.name;
  if (def.num_inputs >= 0 && int(count) != def.num_inputs) {
    throw OpError("ValueError", name + ": expected " + std::to_string(def.num_inputs) + " inputs, received " +
                                    std::to_string(count));
  }
  KernelFn kernel = def.kernels[int(device)];
  if (!kernel) {
    throw OpError("ValueError", name + ": no kernel for device " + engine::device_name(device));
  }
  thread_local CallScratch shared;
  CallScratch local;
  CallScratch& scratch = shared.busy ? local : shared;
  struct Release {
    CallScratch& s;
    ~Release() { s.busy = false; }
  } release{scratch};
  scratch.busy = true;
  scratch.specs.resize(count);
  scratch.input_views.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const engine::Tensor& t = *inputs[i];
    if (t.buffer->device() != device) {
      throw OpError("ValueError", name + ": input on " + engine::device_name(t.buffer->device()) +
                                      " but the kernel runs on " + engine::device_name(device));
    }
    scratch.specs[i].dtype = t.dtype;
    scratch.specs[i].shape.assign(t.shape.begin(), t.shape.end());
    scratch.input_views[i].assign(t);
  }
  std::vector<TensorSpec> out_specs = def.infer(scratch.specs, attrs);
  std::vector<engine::Tensor> outputs;
  try {
    outputs.reserve(out_specs.size());
    scratch.output_views.resize(out_specs.size());
    for (size_t i = 0; i < out_specs.size(); ++i) {
      // Only host memory exists today; a CUDA device brings its own allocation here.
      outputs.push_back(engine::make_host_tensor(out_specs[i].dtype, out_specs[i].shape));
      scratch.output_views[i].assign(outputs.back());
    }
    KernelContext ctx{device, name.c_str()};
    kernel(ctx, scratch.input_views, scratch.output_views, attrs);
  } catch (const std::bad_alloc&) {
    // The outputs or a kernel's workspace; the caller's description (lib/engine.ts) names the outputs.
    throw OpError("ResourceExhaustedError", name + ": out of memory");
  }
  return outputs;
}

// Data movement, creation, indexing and random ops (shape.cc, creation.cc, indexing.cc, random.cc).
void define_shape_ops(KernelRegistry& registry);
void define_creation_ops(KernelRegistry& registry);
void define_indexing_ops(KernelRegistry& registry);
void define_random_ops(KernelRegistry& registry);

void define_conv_ops(KernelRegistry& registry);  // conv.cc
void define_pool_ops(KernelRegistry& registry);  // pool.cc
void define_linalg_ops(KernelRegistry& registry);  // linalg.cc
void define_softmax_ops(KernelRegistry& registry);  // softmax.cc
void define_norm_ops(KernelRegistry& registry);  // norm.cc (layer and batch norm)
void define_rnn_ops(KernelRegistry& registry);  // rnn.cc (the fused LSTM and GRU cells)
void define_optimizer_ops(KernelRegistry& registry);  // optimizer.cc (the fused Adam update)

void define_core_ops(KernelRegistry& registry) {
  define_matmul(registry);
  define_elementwise_ops(registry);
  define_shape_ops(registry);
  define_creation_ops(registry);
  define_indexing_ops(registry);
  define_random_ops(registry);
  define_conv_ops(registry);
  define_pool_ops(registry);
  define_linalg_ops(registry);
  define_softmax_ops(registry);
  define_norm_ops(registry);
  define_rnn_ops(registry);
  define_optimizer_ops(registry);
}

}  // namespace keras::kernels
