// The device-neutral kernel interface. An op is registered once with its shape
// inference; each device (cpu now, cuda later) adds one function of the same
// signature. Nothing here knows about a particular device's code.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "../engine/dtype.h"
#include "../engine/tensor.h"

namespace keras::kernels {

using engine::Device;
using engine::DType;
using engine::Shape;

// A tensor as a kernel sees it: memory on the kernel's device, shape, strides
// (elements), dtype. Kernels never own or allocate it.
struct TensorView {
  void* data = nullptr;
  DType dtype = DType::Float32;
  Shape shape;
  Shape strides;
  // Views t. A view reused from call to call (per-thread scratch) keeps its vectors'
  // capacity, so this allocates nothing after the first calls.
  void assign(const engine::Tensor& t) {
    data = t.data();
    dtype = t.dtype;
    shape.assign(t.shape.begin(), t.shape.end());
    strides.assign(t.strides.begin(), t.strides.end());
  }
  int64_t numel() const { return engine::shape_numel(shape); }
  int rank() const { return int(shape.size()); }
  // Row-major with no gaps (size-1 axes' strides aside), as engine::Tensor::is_contiguous.
  bool is_contiguous() const {
    int64_t expected = 1;
    for (size_t d = shape.size(); d-- > 0;) {
      if (shape[d] != 1 && strides[d] != expected) return false;
      expected *= shape[d];
    }
    return true;
  }
  template <class T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

// What an op needs to know about an input before running: dtype and shape.
struct TensorSpec {
  DType dtype;
  Shape shape;
};

using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

// Op attributes by name. Getters check the type and name the op on mismatch.
class Attrs {
 public:
  void reserve(size_t count) { values_.reserve(count); }
  void set(std::string name, AttrValue value);
  bool has(const std::string& name) const { return find(name) != nullptr; }
  // The value named `name`, or null.
  const AttrValue* find(const std::string& name) const;

  bool get_bool(const std::string& op, const std::string& name, bool fallback) const;
  int64_t get_int(const std::string& op, const std::string& name, int64_t fallback) const;
  double get_float(const std::string& op, const std::string& name, double fallback) const;
  std::string get_string(const std::string& op, const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& op, const std::string& name,
                                const std::vector<int64_t>& fallback) const;

 private:
  // A handful per op: a flat list searched in order costs less than a map's node per
  // value (eager calls parse attrs on every call).
  std::vector<std::pair<std::string, AttrValue>> values_;
};

// Bad op input. `kind` matches the error class names of lib/errors.ts
// (ShapeError, DTypeError, ValueError) so JS can rethrow the same class.
class OpError : public std::invalid_argument {
 public:
  OpError(const char* kind, const std::string& message) : std::invalid_argument(message), kind_(kind) {}
  const char* kind() const { return kind_; }

 private:
  const char* kind_;
};

struct KernelContext {
  Device device;
  const char* op_name;
  int max_threads = 0;  // cpu: 0 = the whole pool
};

using InferFn = std::vector<TensorSpec> (*)(const std::vector<TensorSpec>& inputs, const Attrs& attrs);
using KernelFn = void (*)(const KernelContext& ctx, const std::vector<TensorView>& inputs,
                          const std::vector<TensorView>& outputs, const Attrs& attrs);

// One op of a chain of elementwise ops that the graph executor fuses into one
// pass over memory. Operand k is read from memory (`data[k]`: a tensor with the
// chain's element count when period[k] is 0; else period[k] elements repeated over
// the chain, a single one broadcast (1) or a row, as a bias over the channels) or,
// when `data[k]` is null, is the result of the earlier member `member[k]`. The last
// member writes the chain's output. Every operand has the output's dtype but a
// where's condition (bool, operand 0), which a comparison member of the chain (a
// bool result from operands of the chain's dtype) or memory supplies; comparisons
// are never last. The rows of one chain are all the same length.
struct FusedMember {
  enum class Kind : uint8_t { Unary, Binary, Where };
  Kind kind = Kind::Unary;
  int op = 0;  // UnaryOp or BinaryOp (elementwise_ops.h); a comparison is a BinaryOp
  const void* data[3] = {nullptr, nullptr, nullptr};
  int64_t period[3] = {0, 0, 0};
  int member[3] = {-1, -1, -1};
  // Where this member's whole value is also written (element i at i), or null; later
  // members then read its tile from there.
  void* store = nullptr;
  int operands() const { return kind == Kind::Unary ? 1 : kind == Kind::Binary ? 2 : 3; }
};
// Runs a fused chain on a device: how it tiles and threads the pass is the device's business.
using FusedChainFn = void (*)(const std::vector<FusedMember>& chain, const TensorView& out);

struct OpDef {
  std::string name;
  int num_inputs = -1;  // -1: variadic
  InferFn infer = nullptr;
  KernelFn kernels[engine::kNumDevices] = {};
  // Element i of every output depends on element i of the inputs only, all read before any
  // output's element i is written: a graph may give an output the buffer of a same-sized input
  // nothing reads later (the fused optimizer updates write a variable and its slots in place).
  bool elementwise_outputs = false;
};

class KernelRegistry {
 public:
  void define_op(const std::string& name, int num_inputs, InferFn infer, bool elementwise_outputs = false);
  // The op must be defined first; a second kernel for the same device replaces the first.
  void register_kernel(const std::string& name, Device device, KernelFn kernel);
  // Throws OpError("ValueError") naming the op for unknown names.
  const OpDef& find(const std::string& name) const;
  std::vector<std::string> op_names(Device device) const;
  // The device's runner of fused elementwise chains (null: the device fuses nothing).
  void register_fused_chain(Device device, FusedChainFn fn) { fused_chains_[int(device)] = fn; }
  FusedChainFn fused_chain(Device device) const { return fused_chains_[int(device)]; }

 private:
  std::map<std::string, OpDef> ops_;
  FusedChainFn fused_chains_[engine::kNumDevices] = {};
};

KernelRegistry& kernel_registry();

// Infers output specs, allocates outputs on the device and runs the kernel.
// Errors are OpError (bad input) or std::exception, with the op name in the message.
std::vector<engine::Tensor> run_op(const std::string& name, const std::vector<engine::Tensor>& inputs,
                                   const Attrs& attrs, Device device);
// The same for an op already looked up, with `count` inputs behind pointers: the
// eager hot path, which neither copies the callers' tensors nor searches by name.
std::vector<engine::Tensor> run_op(const OpDef& def, const engine::Tensor* const* inputs, size_t count,
                                   const Attrs& attrs, Device device);

// Device-neutral op definitions (shape/dtype inference), one function per file family.
void define_core_ops(KernelRegistry& registry);

}  // namespace keras::kernels
