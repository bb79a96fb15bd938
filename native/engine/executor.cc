#include "executor.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

// Fused chains call the active ISA's elementwise row functions directly (the
// same ones the single-op kernels use, so a fused result is bit-identical).
#include "../kernels/elementwise_ops.h"
#include "thread_pool.h"

namespace keras::engine {
namespace {

using kernels::OpError;

constexpr int kResult = INT_MAX;  // last use of outputs and update values: never dropped

// Light groups (plan_concurrency): bytes written and read at most, and how far ahead a
// partner is looked for.
constexpr int64_t kLightOutputBytes = 64 * 1024;
constexpr int64_t kLightInputBytes = 256 * 1024;
constexpr int64_t kLightMatmulBytes = 512 * 1024;
constexpr size_t kPairWindow = 16;
// A pair pays a hand-over to the other thread and a wait for it (about a microsecond when it
// is polling): only groups of more work than that pair. Work is guessed from the bytes and
// flops of one thread's kernel on small operands.
constexpr double kLightFlopsPerNs = 50;
constexpr double kLightBytesPerNs = 16;
constexpr double kMinPairNs = 1000;
// The most work one group of a pair may have over the other's.
constexpr double kPairImbalance = 4;

enum SlotKind : uint8_t { kIntermediate = 0, kFeed = 1, kConstant = 2, kVariable = 3 };

bool is_view_op(const std::string& op) { return op == "reshape" || op == "identity" || op == "stopGradient"; }

// The offset (in elements) of a slice of a contiguous `in` that is itself a contiguous block:
// the axes before the first one of more than one element have one, the axes after it are
// whole. -1 when the slice is not such a block.
int64_t block_slice_offset(const std::vector<int64_t>& begin, const Shape& in, const Shape& out) {
  if (begin.size() != in.size() || out.size() != in.size()) return -1;
  size_t first = 0;
  while (first < out.size() && out[first] == 1) ++first;
  for (size_t k = first + 1; k < out.size(); ++k) {
    if (out[k] != in[k]) return -1;
  }
  const Shape strides = contiguous_strides(in);
  int64_t offset = 0;
  for (size_t k = 0; k < in.size(); ++k) offset += begin[k] * strides[k];
  return offset;
}

using MemberKind = kernels::FusedMember::Kind;

struct ElementwiseOp {
  MemberKind kind;
  int index;
  bool compare = false;  // a bool result of two operands of one float dtype
};

// Ops whose output element i depends on input element i only: output dtype = input dtype, or
// (comparisons) bool from float operands, or (where) from a bool condition and two values.
const std::map<std::string, ElementwiseOp>& elementwise_ops() {
  static const std::map<std::string, ElementwiseOp> table = [] {
    std::map<std::string, ElementwiseOp> m;
    m["where"] = {MemberKind::Where, 0};
#define KERAS_EXEC_UNARY(name, Enum, kind) \
  if (std::string(#kind) == "Same" || std::string(#kind) == "Float") m[#name] = {MemberKind::Unary, int(kernels::UnaryOp::Enum)};
#define KERAS_EXEC_BINARY(name, Enum, kind) \
  if (std::string(#kind) == "Arith") m[#name] = {MemberKind::Binary, int(kernels::BinaryOp::Enum)}; \
  if (std::string(#kind) == "Compare") m[#name] = {MemberKind::Binary, int(kernels::BinaryOp::Enum), true};
    KERAS_UNARY_OPS(KERAS_EXEC_UNARY)
    KERAS_BINARY_OPS(KERAS_EXEC_BINARY)
#undef KERAS_EXEC_UNARY
#undef KERAS_EXEC_BINARY
    return m;
  }();
  return table;
}

std::string describe(DType dtype, const Shape& shape) { return std::string(dtype_name(dtype)) + " " + format_shape(shape); }

}  // namespace

GraphExecutable::GraphExecutable(PlanSpec spec) : spec_(std::move(spec)) {
  validate();
  plan_fusion();
  plan_concurrency();
  plan_joins();
  plan_liveness();
}

void GraphExecutable::validate() {
  const int n = int(spec_.slots.size());
  auto check_slot = [&](int s, const std::string& what) {
    if (s < 0 || s >= n) throw OpError("ValueError", "executor: " + what + " names slot " + std::to_string(s) + " of " + std::to_string(n));
  };
  slot_kind_.assign(size_t(n), kIntermediate);
  slot_variable_.assign(size_t(n), -1);
  std::vector<uint8_t> defined(size_t(n), 0);
  auto define = [&](int s, uint8_t kind, const std::string& what) {
    check_slot(s, what);
    if (defined[size_t(s)]) throw OpError("ValueError", "executor: slot " + std::to_string(s) + " is defined twice (" + what + ")");
    defined[size_t(s)] = 1;
    slot_kind_[size_t(s)] = kind;
  };
  for (size_t i = 0; i < spec_.feeds.size(); ++i) define(spec_.feeds[i], kFeed, "feed " + std::to_string(i));
  for (size_t i = 0; i < spec_.constants.size(); ++i) {
    const auto& [s, t] = spec_.constants[i];
    define(s, kConstant, "constant " + std::to_string(i));
    const PlanSlot& slot = spec_.slots[size_t(s)];
    if (!t.buffer || t.dtype != slot.dtype || t.shape != slot.shape || !t.is_contiguous() || t.buffer->device() != Device::CPU) {
      throw OpError("ShapeError", "executor: constant " + std::to_string(i) + " is " + (t.buffer ? describe(t.dtype, t.shape) : "empty") +
                                      ", expected a contiguous cpu " + describe(slot.dtype, slot.shape));
    }
  }
  for (size_t i = 0; i < spec_.variables.size(); ++i) {
    define(spec_.variables[i], kVariable, "variable " + std::to_string(i));
    slot_variable_[size_t(spec_.variables[i])] = int(i);
  }
  const auto& registry = kernels::kernel_registry();
  for (size_t i = 0; i < spec_.steps.size(); ++i) {
    const PlanStep& step = spec_.steps[i];
    const std::string where = "graph node " + std::to_string(i) + " (" + step.op + ")";
    const kernels::OpDef& def = registry.find(step.op);
    defs_.push_back(&def);
    std::vector<kernels::TensorSpec> in_specs;
    for (int s : step.inputs) {
      check_slot(s, where + " input");
      if (!defined[size_t(s)]) throw OpError("ValueError", "executor: " + where + " reads slot " + std::to_string(s) + " before it is produced");
      in_specs.push_back({spec_.slots[size_t(s)].dtype, spec_.slots[size_t(s)].shape});
    }
    for (int s : step.outputs) define(s, kIntermediate, where + " output");
    std::string ins;
    for (const auto& t : in_specs) ins += (ins.empty() ? "" : ", ") + describe(t.dtype, t.shape);
    if (is_view_op(step.op)) {
      if (step.inputs.size() != 1 || step.outputs.size() != 1) {
        throw OpError("ValueError", "executor: " + where + " must have one input and one output");
      }
      const PlanSlot& out = spec_.slots[size_t(step.outputs[0])];
      if (out.dtype != in_specs[0].dtype || shape_numel(out.shape) != shape_numel(in_specs[0].shape)) {
        throw OpError("ShapeError", step.op + ": cannot view " + ins + " as " + describe(out.dtype, out.shape) + " (" + where + ")");
      }
      continue;
    }
    if (!def.kernels[int(Device::CPU)]) throw OpError("ValueError", step.op + ": no cpu kernel (" + where + ")");
    if (def.num_inputs >= 0 && int(step.inputs.size()) != def.num_inputs) {
      throw OpError("ValueError", step.op + ": expected " + std::to_string(def.num_inputs) + " inputs, received " +
                                      std::to_string(step.inputs.size()) + " (" + where + ")");
    }
    std::vector<kernels::TensorSpec> out_specs;
    try {
      out_specs = def.infer(in_specs, step.attrs);
    } catch (const OpError& e) {
      throw OpError(e.kind(), std::string(e.what()) + " (" + where + ")");
    }
    bool same = out_specs.size() == step.outputs.size();
    for (size_t k = 0; same && k < out_specs.size(); ++k) {
      const PlanSlot& o = spec_.slots[size_t(step.outputs[k])];
      same = o.dtype == out_specs[k].dtype && o.shape == out_specs[k].shape;
    }
    if (!same) {
      std::string declared, inferred;
      for (int s : step.outputs) declared += (declared.empty() ? "" : ", ") + describe(spec_.slots[size_t(s)].dtype, spec_.slots[size_t(s)].shape);
      for (const auto& t : out_specs) inferred += (inferred.empty() ? "" : ", ") + describe(t.dtype, t.shape);
      throw OpError("ShapeError", step.op + ": inputs " + ins + " give outputs " + inferred + " but the graph declares " + declared +
                                      " (" + where + ")");
    }
  }
  for (size_t i = 0; i < spec_.outputs.size(); ++i) {
    check_slot(spec_.outputs[i], "output " + std::to_string(i));
    if (!defined[size_t(spec_.outputs[i])]) throw OpError("ValueError", "executor: output " + std::to_string(i) + " is never produced");
  }
  for (const auto& [v, s] : spec_.updates) {
    check_slot(s, "update");
    if (v < 0 || v >= int(spec_.variables.size()) || !defined[size_t(s)]) {
      throw OpError("ValueError", "executor: update of variable " + std::to_string(v) + " names no variable or an unproduced value");
    }
    const PlanSlot& want = spec_.slots[size_t(spec_.variables[size_t(v)])];
    const PlanSlot& got = spec_.slots[size_t(s)];
    if (want.dtype != got.dtype || want.shape != got.shape) {
      throw OpError("ShapeError", "executor: variable " + std::to_string(v) + " is " + describe(want.dtype, want.shape) +
                                      " but its update is " + describe(got.dtype, got.shape));
    }
  }
}

namespace {

// Whether `in` broadcasts to `out` as a row: its dims past leading 1s are the trailing dims of out.
bool is_row_of(const Shape& in, const Shape& out) {
  size_t first = 0;
  while (first < in.size() && in[first] == 1) ++first;
  const size_t dims = in.size() - first;
  if (dims > out.size()) return false;
  return std::equal(in.begin() + std::ptrdiff_t(first), in.end(), out.end() - std::ptrdiff_t(dims));
}

// The longest row a chain takes: its tiles are cut to whole rows, at least half their size.
constexpr int64_t kMaxFusedRow = 512;

}  // namespace

void GraphExecutable::plan_fusion() {
  const size_t n_steps = spec_.steps.size();
  const auto& table = elementwise_ops();
  std::vector<std::vector<int>> readers(spec_.slots.size());
  std::vector<int> producer(spec_.slots.size(), -1);
  for (size_t i = 0; i < n_steps; ++i) {
    for (int s : spec_.steps[i].inputs) {
      auto& r = readers[size_t(s)];
      if (r.empty() || r.back() != int(i)) r.push_back(int(i));
    }
    for (int s : spec_.steps[i].outputs) producer[size_t(s)] = int(i);
  }
  std::vector<uint8_t> result(spec_.slots.size(), 0);
  for (int s : spec_.outputs) result[size_t(s)] = 1;
  for (const auto& u : spec_.updates) result[size_t(u.second)] = 1;

  // A step's row period: the element count of an input broadcast as a row over the output's
  // leading dims (a bias [c] over [n, h, w, c]), 0 when none is; every such input of a step
  // has the same. -1: the step cannot join a chain.
  std::vector<int64_t> period(n_steps, -1);
  // The dtype a step computes in: its output's, or a comparison's operands'.
  auto lane_dtype = [&](size_t i) {
    const PlanStep& step = spec_.steps[i];
    const auto it = table.find(step.op);
    return spec_.slots[size_t(it != table.end() && it->second.compare ? step.inputs[0] : step.outputs[0])].dtype;
  };
  auto fusable = [&](size_t i) {
    const PlanStep& step = spec_.steps[i];
    const auto it = table.find(step.op);
    if (step.outputs.size() != 1 || it == table.end()) return false;
    const PlanSlot& out = spec_.slots[size_t(step.outputs[0])];
    const DType dtype = lane_dtype(i);
    if (dtype != DType::Float32 && dtype != DType::Float64) return false;
    if (it->second.compare ? out.dtype != DType::Bool : out.dtype != dtype) return false;
    const int64_t n = shape_numel(out.shape);
    if (n == 0) return false;
    int64_t row = 0;
    for (size_t k = 0; k < step.inputs.size(); ++k) {
      const PlanSlot& in = spec_.slots[size_t(step.inputs[k])];
      const int64_t m = shape_numel(in.shape);
      const bool condition = it->second.kind == MemberKind::Where && k == 0;
      if (in.dtype != (condition ? DType::Bool : dtype)) return false;
      if (m == n || m == 1) continue;
      // Rows only of values: a condition row stays a kernel.
      if (condition || !is_row_of(in.shape, out.shape) || m > kMaxFusedRow || (row != 0 && row != m)) return false;
      row = m;
    }
    period[i] = row;
    return true;
  };

  // Reverse pass: a step joins the chain of its readers when they all belong to
  // one chain of the same size and dtype, so the value never has to reach memory;
  // a value that is also a result (read after the run only) joins too and is
  // stored by the chain's pass.
  std::vector<int> chain_of(n_steps, -1);
  std::vector<std::vector<int>> chains;
  std::vector<int64_t> chain_period;  // one row period per chain: its tiles are whole rows
  for (size_t i = n_steps; i-- > 0;) {
    if (!fusable(i)) continue;
    const int out = spec_.steps[i].outputs[0];
    int join = -1;
    const auto& r = readers[size_t(out)];
    // A comparison's bools are never stored.
    if (!r.empty() && !(result[size_t(out)] && table.at(spec_.steps[i].op).compare)) {
      join = chain_of[size_t(r[0])];
      for (int reader : r) {
        if (chain_of[size_t(reader)] != join) join = -1;
      }
      if (join >= 0) {
        const PlanSlot& mine = spec_.slots[size_t(out)];
        const PlanSlot& theirs = spec_.slots[size_t(spec_.steps[size_t(chains[size_t(join)][0])].outputs[0])];
        if (lane_dtype(i) != theirs.dtype || shape_numel(mine.shape) != shape_numel(theirs.shape)) join = -1;
      }
      // A comparison's bool tile serves only as a where's condition.
      if (join >= 0 && table.at(spec_.steps[i].op).compare) {
        for (int reader : r) {
          const PlanStep& step = spec_.steps[size_t(reader)];
          if (table.at(step.op).kind != MemberKind::Where || step.inputs[1] == out || step.inputs[2] == out) join = -1;
        }
      }
      if (join >= 0 && period[i] != 0 && chain_period[size_t(join)] != 0 && period[i] != chain_period[size_t(join)]) join = -1;
    }
    // A comparison joins a chain or runs alone: it never ends one (the chain writes its dtype).
    if (join < 0 && table.at(spec_.steps[i].op).compare) continue;
    if (join < 0) {
      join = int(chains.size());
      chains.emplace_back();
      chain_period.push_back(0);
    }
    chains[size_t(join)].push_back(int(i));
    if (period[i] != 0) chain_period[size_t(join)] = period[i];
    chain_of[i] = join;
  }

  // Whether slot s, or a view of it, is a result: a slice's block view would hand a result over
  // at an offset into a larger buffer, so that slice stays a copy.
  std::function<bool(int)> reaches_result = [&](int s) {
    if (result[size_t(s)]) return true;
    for (int r : readers[size_t(s)]) {
      if (is_view_op(spec_.steps[size_t(r)].op) && reaches_result(spec_.steps[size_t(r)].outputs[0])) return true;
    }
    return false;
  };

  // The matmuls that read slot s, directly or through views of its own shape; -1 if anything
  // else reads it. matmul takes any strides, so a batched transpose that products alone read
  // can be a view of permuted strides: attention's heads, [b, t, h, d] read as [b, h, t, d]
  // by the forward's product and one gradient's (a Transformer block's train step 18.9-19.3
  // -> 18.1-19.2 ms, minima 17.7-18.0 -> 17.4-18.1). A matrix many products read stays a
  // copy: each would pack it from the strided layout again, where a row-major copy is read
  // in place (lib/backends/cpu/executor.ts transposes an RNN's recurrent kernel once for
  // its timesteps' products for that reason).
  std::function<int(int)> matmul_reads = [&](int s) {
    int count = 0;
    for (int r : readers[size_t(s)]) {
      const PlanStep& reader = spec_.steps[size_t(r)];
      const bool same_shape_view =
          is_view_op(reader.op) && spec_.slots[size_t(reader.outputs[0])].shape == spec_.slots[size_t(s)].shape;
      const int reads = same_shape_view ? matmul_reads(reader.outputs[0]) : reader.op == "matmul" ? 1 : -1;
      if (reads < 0) return -1;
      count += reads;
    }
    return count;
  };

  // The matmul step whose value transpose step t alone reads (directly or through views of
  // its shape), if that product can write it in t's layout (-1 if not): batched float
  // products whose operands are matrices, and a perm that keeps the last axis last (C's rows
  // stay rows). The transpose is then a view of permuted strides that gives the contiguous
  // layout back: attention's context and its gradients, [b, h, t, d] written as [b, t, h, d]
  // for the projections after.
  std::vector<std::vector<int64_t>> transposed_output(n_steps);
  auto writes_transposed = [&](size_t t, const std::vector<int64_t>& perm) {
    if (perm.empty() || perm.back() != int64_t(perm.size()) - 1) return -1;
    // Back through views of the same shape (einsum's reshapes), each read by the next alone.
    int in = spec_.steps[t].inputs[0];
    int m = producer[size_t(in)];
    for (;;) {
      if (m < 0 || result[size_t(in)] || readers[size_t(in)].size() != 1) return -1;
      const PlanStep& step = spec_.steps[size_t(m)];
      if (!is_view_op(step.op) || spec_.slots[size_t(step.inputs[0])].shape != spec_.slots[size_t(in)].shape) break;
      in = step.inputs[0];
      m = producer[size_t(in)];
    }
    const PlanStep& product = spec_.steps[size_t(m)];
    const DType dtype = spec_.slots[size_t(in)].dtype;
    if (product.op != "matmul" || chain_of[size_t(m)] >= 0 || (dtype != DType::Float32 && dtype != DType::Float64)) return -1;
    for (int operand : product.inputs) {
      if (spec_.slots[size_t(operand)].shape.size() < 2) return -1;
    }
    return m;
  };

  // Groups in the order of their last step; a chain runs where its last op stood.
  std::vector<std::pair<int, PlanGroup>> ordered;
  for (size_t i = 0; i < n_steps; ++i) {
    if (chain_of[i] >= 0) continue;
    const PlanStep& step = spec_.steps[i];
    PlanGroup g;
    g.kind = is_view_op(step.op) ? PlanGroup::Kind::View : PlanGroup::Kind::Kernel;
    if (step.op == "transpose" && spec_.slots[size_t(step.outputs[0])].shape.size() > 2) {
      const std::vector<int64_t> perm = step.attrs.get_ints("transpose", "perm", {});
      const int product = writes_transposed(i, perm);
      const int reads = product >= 0 || reaches_result(step.outputs[0]) ? 0 : matmul_reads(step.outputs[0]);
      if (product >= 0 || reads == 1 || reads == 2) {
        g.kind = PlanGroup::Kind::View;
        g.view_perm = perm;
      }
      if (product >= 0) transposed_output[size_t(product)] = perm;
    }
    if (step.op == "slice" && !reaches_result(step.outputs[0])) {
      const int64_t offset = block_slice_offset(step.attrs.get_ints("slice", "begin", {}), spec_.slots[size_t(step.inputs[0])].shape,
                                                spec_.slots[size_t(step.outputs[0])].shape);
      if (offset >= 0) {
        g.kind = PlanGroup::Kind::View;
        g.view_offset = offset;
      }
    }
    g.steps = {int(i)};
    ordered.emplace_back(int(i), g);
  }
  for (auto& chain : chains) {
    std::sort(chain.begin(), chain.end());
    PlanGroup g;
    g.kind = chain.size() > 1 ? PlanGroup::Kind::Fused : PlanGroup::Kind::Kernel;
    g.steps = chain;
    ordered.emplace_back(chain.back(), g);
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [pos, g] : ordered) {
    if (g.kind == PlanGroup::Kind::Kernel) g.output_perm = transposed_output[size_t(g.steps.back())];
    groups_.push_back(std::move(g));
  }

  fused_.resize(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].kind != PlanGroup::Kind::Fused) continue;
    std::map<int, int> member_of_slot;
    for (size_t m = 0; m < groups_[g].steps.size(); ++m) {
      const PlanStep& step = spec_.steps[size_t(groups_[g].steps[m])];
      const ElementwiseOp& op = table.at(step.op);
      FusedMember fm;
      fm.kind = op.kind;
      fm.op = op.index;
      for (size_t k = 0; k < step.inputs.size() && k < 3; ++k) {
        auto it = member_of_slot.find(step.inputs[k]);
        if (it != member_of_slot.end()) fm.member[k] = it->second;
        else fm.slot[k] = step.inputs[k];
      }
      member_of_slot[step.outputs[0]] = int(m);
      fused_[g].push_back(fm);
      if (m + 1 < groups_[g].steps.size() && result[size_t(step.outputs[0])]) groups_[g].stores.push_back({int(m)});
    }
  }
}

std::vector<int> GraphExecutable::group_inputs(size_t g) const {
  std::vector<int> ins;
  std::set<int> inside;
  for (int i : groups_[g].steps) {
    for (int s : spec_.steps[size_t(i)].inputs) {
      if (!inside.count(s) && std::find(ins.begin(), ins.end(), s) == ins.end()) ins.push_back(s);
    }
    for (int s : spec_.steps[size_t(i)].outputs) inside.insert(s);
  }
  return ins;
}

double GraphExecutable::light_work(size_t g) const {
  const PlanGroup& group = groups_[g];
  if (group.kind == PlanGroup::Kind::View) return 0;  // no work to overlap
  auto bytes = [&](int s) { return shape_numel(spec_.slots[size_t(s)].shape) * int64_t(dtype_size(spec_.slots[size_t(s)].dtype)); };
  const PlanStep& last = spec_.steps[size_t(group.steps.back())];
  int64_t in = 0, out = 0;
  for (int s : last.outputs) out += bytes(s);
  for (int s : group_inputs(g)) {
    // A gather reads only the rows it takes.
    in += last.op == "gather" && s == last.inputs[0] ? out : bytes(s);
  }
  if (last.op == "matmul") {
    // gemm takes a second thread from 3 MFLOP while the workers poll, as they do in a run (2
    // MFLOP a thread when they sleep, 4 for a sporadic call), or from 384 KiB of a row-major B
    // for a few rows; these bounds, a little below, were set against its earlier 2 MFLOP.
    const Shape& a = spec_.slots[size_t(last.inputs[0])].shape;
    const bool ta = last.attrs.get_bool("matmul", "transposeA", false) && a.size() >= 2;
    const int64_t k = a.empty() ? 1 : ta ? a[a.size() - 2] : a.back();
    const double flops = 2.0 * double(shape_numel(spec_.slots[size_t(last.outputs[0])].shape)) * double(k);
    return flops < 2e6 && in + out <= kLightMatmulBytes ? flops / kLightFlopsPerNs : 0;
  }
  // Elementwise kernels and fused chains split from 16K elements of output, reductions from
  // 64K of input.
  return out <= kLightOutputBytes && in <= kLightInputBytes ? double(in + out) / kLightBytesPerNs : 0;
}

// Light groups in pairs that run at once. Walking the schedule, a light group takes as its
// partner a later light group, within kPairWindow, whose inputs are all computed by groups
// already placed before it: that one moves up to run beside it. The partner is the one of
// the most similar work (the pair takes as long as the longer), within kPairImbalance, a
// same op counting as twice as close: an RNN timestep's products pair with each other, not
// with a gate's few microseconds.
// Moving a group up changes no value (each slot has one writer, and the later ones read
// only what is placed before); plan_liveness then plans buffers over the new order, and
// paired groups write no input in place (the other may still read it).
void GraphExecutable::plan_concurrency() {
  const size_t count = groups_.size();
  std::vector<int> producer(spec_.slots.size(), -1);
  std::vector<std::vector<int>> inputs(count);
  std::vector<double> work(count);
  for (size_t g = 0; g < count; ++g) {
    for (int i : groups_[g].steps) {
      for (int s : spec_.steps[size_t(i)].outputs) producer[size_t(s)] = int(g);
    }
    inputs[g] = group_inputs(g);
    work[g] = light_work(g);
  }
  auto is_light = [&](size_t g) { return work[g] >= kMinPairNs; };
  std::vector<uint8_t> placed(count, 0);
  std::vector<size_t> order;
  std::vector<uint8_t> pair_start;
  order.reserve(count);
  for (size_t p = 0; p < count; ++p) {
    if (placed[p]) continue;
    placed[p] = 1;
    order.push_back(p);
    pair_start.push_back(0);
    if (!is_light(p)) continue;
    const std::string& op = spec_.steps[size_t(groups_[p].steps.back())].op;
    size_t partner = count;
    double best = kPairImbalance;
    for (size_t q = p + 1; q < std::min(count, p + 1 + kPairWindow); ++q) {
      if (placed[q] || !is_light(q)) continue;
      bool ready = true;
      for (int s : inputs[q]) {
        const int from = producer[size_t(s)];
        ready = ready && (from < 0 || (placed[size_t(from)] && size_t(from) != p));
      }
      if (!ready) continue;
      double imbalance = std::max(work[p], work[q]) / std::min(work[p], work[q]);
      if (spec_.steps[size_t(groups_[q].steps.back())].op == op) imbalance /= 2;
      if (imbalance <= best) {
        best = imbalance;
        partner = q;
      }
    }
    if (partner == count) continue;
    placed[partner] = 1;
    order.push_back(partner);
    pair_start.back() = 1;
    pair_start.push_back(0);
  }
  std::vector<PlanGroup> groups(count);
  std::vector<std::vector<FusedMember>> fused(count);
  for (size_t i = 0; i < count; ++i) {
    groups[i] = std::move(groups_[order[i]]);
    groups[i].concurrent_with_next = pair_start[i] != 0;
    fused[i] = std::move(fused_[order[i]]);
  }
  groups_ = std::move(groups);
  fused_ = std::move(fused);
}

// A concatenation whose inputs are contiguous blocks of its value (the axes before its axis
// all 1) has them written there by the kernels that compute them: each input's producer (or
// the producer of the buffer the input views through reshapes) takes its block of the
// concatenation's buffer as its output, made before the first of them runs, and the
// concatenation does no work. An LSTM's train step concatenates its 50 timesteps' gate
// gradients (3.2 MB) and states this way. Only values that are computed here, once in the
// concatenation, not results (a result viewing a larger buffer would keep it alive, as a
// slice's view), and not written in another layout (output_perm) join.
void GraphExecutable::plan_joins() {
  const size_t n = spec_.slots.size();
  join_slot_.assign(n, -1);
  join_offset_.assign(n, 0);
  joins_before_.assign(groups_.size(), {});
  std::vector<int> group_of(n, -1);  // the group computing each materialized slot
  std::vector<std::vector<int>> readers(n);
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (int s : spec_.steps[size_t(groups_[g].steps.back())].outputs) group_of[size_t(s)] = int(g);
    for (int i : groups_[g].steps) {
      for (int s : spec_.steps[size_t(i)].inputs) readers[size_t(s)].push_back(i);
    }
  }
  std::vector<uint8_t> result(n, 0);
  for (int s : spec_.outputs) result[size_t(s)] = 1;
  for (const auto& u : spec_.updates) result[size_t(u.second)] = 1;
  std::function<bool(int)> reaches_result = [&](int s) {
    if (result[size_t(s)]) return true;
    for (int r : readers[size_t(s)]) {
      if (is_view_op(spec_.steps[size_t(r)].op) && reaches_result(spec_.steps[size_t(r)].outputs[0])) return true;
    }
    return false;
  };
  // The slot whose buffer s shows through reshapes (s itself if none).
  auto source = [&](int s) {
    for (;;) {
      const int g = group_of[size_t(s)];
      if (g < 0) return s;
      const PlanGroup& group = groups_[size_t(g)];
      const PlanStep& step = spec_.steps[size_t(group.steps.back())];
      if (group.kind != PlanGroup::Kind::View || !is_view_op(step.op) || group.view_offset != 0 || !group.view_perm.empty()) return s;
      s = step.inputs[0];
    }
  };
  for (size_t g = 0; g < groups_.size(); ++g) {
    PlanGroup& group = groups_[g];
    const PlanStep& step = spec_.steps[size_t(group.steps.back())];
    if (group.kind != PlanGroup::Kind::Kernel || step.op != "concatenate") continue;
    const int out = step.outputs[0];
    const PlanSlot& joined = spec_.slots[size_t(out)];
    const int64_t axis = step.attrs.get_int("concatenate", "axis", 0);
    if (axis < 0 || !std::all_of(joined.shape.begin(), joined.shape.begin() + std::ptrdiff_t(axis), [](int64_t d) { return d == 1; })) continue;
    std::vector<int> members;
    int first = int(g);
    for (int s : step.inputs) {
      const int r = source(s);
      const int p = group_of[size_t(r)];
      if (p < 0 || slot_kind_[size_t(r)] != kIntermediate || join_slot_[size_t(r)] >= 0 || reaches_result(r) ||
          std::count(members.begin(), members.end(), r)) {
        break;
      }
      const PlanGroup& producer = groups_[size_t(p)];
      const PlanStep& last = spec_.steps[size_t(producer.steps.back())];
      const bool writes_plain = producer.kind == PlanGroup::Kind::Kernel
                                    ? producer.output_perm.empty() || last.outputs[0] != r
                                    : producer.kind == PlanGroup::Kind::Fused;
      if (!writes_plain) break;
      members.push_back(r);
      first = std::min(first, p);
    }
    if (members.size() != step.inputs.size()) continue;
    int64_t offset = 0;
    for (int r : members) {
      join_slot_[size_t(r)] = out;
      join_offset_[size_t(r)] = offset;
      offset += shape_numel(spec_.slots[size_t(r)].shape);
    }
    group.kind = PlanGroup::Kind::Joined;
    // Made before the pair the first producer belongs to runs (the two run on two threads).
    if (first > 0 && groups_[size_t(first) - 1].concurrent_with_next) --first;
    joins_before_[size_t(first)].push_back(out);
  }
}

void GraphExecutable::plan_liveness() {
  const size_t n = spec_.slots.size();
  root_.resize(n);
  // A value written into a Joined concatenation's buffer is a view of it, as a reshape.
  for (size_t s = 0; s < n; ++s) root_[s] = join_slot_[s] >= 0 ? join_slot_[s] : int(s);
  last_use_.assign(n, -1);
  std::vector<int> produced_by(n, -1);
  std::vector<std::vector<int>> group_inputs(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    group_inputs[g] = this->group_inputs(g);
    for (int s : group_inputs[g]) last_use_[size_t(s)] = int(g);
    const PlanGroup& group = groups_[g];
    // A fused chain materializes only its last op's value.
    const PlanStep& last = spec_.steps[size_t(group.steps.back())];
    for (int s : last.outputs) {
      produced_by[size_t(s)] = int(g);
      if (last_use_[size_t(s)] < 0) last_use_[size_t(s)] = int(g);  // never read: dropped at once
    }
    if (group.kind == PlanGroup::Kind::View) root_[size_t(last.outputs[0])] = root_[size_t(last.inputs[0])];
  }
  for (size_t s = 0; s < n; ++s) {
    if (produced_by[s] >= 0 && last_use_[s] < produced_by[s]) last_use_[s] = produced_by[s];
  }
  for (int s : spec_.outputs) last_use_[size_t(s)] = kResult;
  for (const auto& u : spec_.updates) last_use_[size_t(u.second)] = kResult;
  root_last_use_.assign(n, -1);
  for (size_t s = 0; s < n; ++s) {
    int& r = root_last_use_[size_t(root_[s])];
    r = std::max(r, last_use_[s]);
  }

  const auto& table = elementwise_ops();
  release_after_.assign(groups_.size(), {});
  for (size_t s = 0; s < n; ++s) {
    if (last_use_[s] >= 0 && last_use_[s] != kResult) release_after_[size_t(last_use_[s])].push_back(int(s));
  }
  // Placeholders nobody reads are never loaded (last_use_ stays -1).

  // In-place candidates, and the peak of intermediates this schedule holds.
  std::vector<int64_t> bytes_of_root(n, 0);
  int64_t live = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    PlanGroup& group = groups_[g];
    const PlanStep& last = spec_.steps[size_t(group.steps.back())];
    const bool kernel = group.kind == PlanGroup::Kind::Kernel;
    // A Joined concatenation's buffer is made before its first input's producer runs.
    for (int s : joins_before_[g]) {
      bytes_of_root[size_t(s)] = shape_numel(spec_.slots[size_t(s)].shape) * int64_t(dtype_size(spec_.slots[size_t(s)].dtype));
      live += bytes_of_root[size_t(s)];
    }
    const bool elementwise = group.kind == PlanGroup::Kind::Fused ||
                             (kernel && last.outputs.size() == 1 && table.count(last.op)) ||
                             (kernel && defs_[size_t(group.steps.back())]->elementwise_outputs);
    // The value member `m` computes may take over the buffer of an input of this group
    // that nothing reads after the group, nor a later member of the chain (the member
    // writes its tile before they read theirs), nor another output of the group.
    std::vector<int> taken;
    auto pick_in_place = [&](size_t m, size_t output = 0) {
      const PlanSlot& out = spec_.slots[size_t(spec_.steps[size_t(group.steps[m])].outputs[output])];
      int pick = -1;
      for (int s : group_inputs[g]) {
        const PlanSlot& in = spec_.slots[size_t(s)];
        const int root = root_[size_t(s)];
        const uint8_t kind = slot_kind_[size_t(root)];
        if (in.dtype != out.dtype || shape_numel(in.shape) != shape_numel(out.shape) || root_last_use_[size_t(root)] != int(g) ||
            (kind != kIntermediate && kind != kVariable) || std::count(taken.begin(), taken.end(), root)) {
          continue;
        }
        bool read_later = false;
        for (size_t j = m + 1; j < group.steps.size() && !read_later; ++j) {
          for (int r : spec_.steps[size_t(group.steps[j])].inputs) read_later = read_later || root_[size_t(r)] == root;
        }
        if (read_later) continue;
        pick = s;
        if (kind == kIntermediate) break;  // prefer an intermediate; a variable needs the caller's consent
      }
      if (pick >= 0) taken.push_back(root_[size_t(pick)]);
      return pick;
    };
    const bool paired = group.concurrent_with_next || (g > 0 && groups_[g - 1].concurrent_with_next);
    if (elementwise && !paired) {
      // (A value written into a concatenation's buffer takes over no input's.)
      group.in_place_input = join_slot_[size_t(last.outputs[0])] >= 0 ? -1 : pick_in_place(group.steps.size() - 1);
      for (size_t k = 1; k < last.outputs.size(); ++k) {
        group.more_in_place_inputs.push_back(join_slot_[size_t(last.outputs[k])] >= 0 ? -1 : pick_in_place(group.steps.size() - 1, k));
      }
      for (auto& store : group.stores) store.in_place_input = pick_in_place(size_t(store.member));
    }
    // Bytes of the group's new buffers (an output written into an intermediate input takes over its count).
    auto count_output = [&](int s, int in_place_input) {
      const PlanSlot& slot = spec_.slots[size_t(s)];
      if (join_slot_[size_t(s)] >= 0) return;  // counted with the concatenation
      if (in_place_input >= 0) {
        const int from = root_[size_t(in_place_input)];
        if (slot_kind_[size_t(from)] == kIntermediate) {
          bytes_of_root[size_t(s)] = bytes_of_root[size_t(from)];
          bytes_of_root[size_t(from)] = 0;
        }
        return;
      }
      bytes_of_root[size_t(s)] = shape_numel(slot.shape) * int64_t(dtype_size(slot.dtype));
      live += bytes_of_root[size_t(s)];
    };
    if (group.kind != PlanGroup::Kind::View && group.kind != PlanGroup::Kind::Joined) {
      for (size_t k = 0; k < last.outputs.size(); ++k) count_output(last.outputs[k], group.in_place_input_of(k));
      for (const auto& store : group.stores) count_output(spec_.steps[size_t(group.steps[size_t(store.member)])].outputs[0], store.in_place_input);
    }
    planned_peak_bytes_ = std::max(planned_peak_bytes_, live);
    for (int s : release_after_[g]) {
      if (root_[size_t(s)] == s && root_last_use_[size_t(s)] == int(g)) {
        live -= bytes_of_root[size_t(s)];
        bytes_of_root[size_t(s)] = 0;
      } else if (root_[size_t(s)] != s && root_last_use_[size_t(root_[size_t(s)])] == int(g)) {
        live -= bytes_of_root[size_t(root_[size_t(s)])];
        bytes_of_root[size_t(root_[size_t(s)])] = 0;
      }
    }
  }
}

RunResult GraphExecutable::run(const std::vector<Tensor>& feeds, const std::vector<Tensor>& variables,
                               const std::vector<bool>& donated) const {
  if (feeds.size() != spec_.feeds.size()) {
    throw OpError("ValueError", "executor: the graph takes " + std::to_string(spec_.feeds.size()) + " feeds, received " +
                                    std::to_string(feeds.size()));
  }
  if (variables.size() != spec_.variables.size() || donated.size() != variables.size()) {
    throw OpError("ValueError", "executor: the graph reads " + std::to_string(spec_.variables.size()) + " variables, received " +
                                    std::to_string(variables.size()));
  }
  std::vector<Tensor> values(spec_.slots.size());
  auto load = [&](int s, const Tensor& t, const std::string& what) {
    const PlanSlot& slot = spec_.slots[size_t(s)];
    if (!t.buffer || t.dtype != slot.dtype || t.shape != slot.shape) {
      throw OpError("ShapeError", "executor: " + what + " is " + (t.buffer ? describe(t.dtype, t.shape) : "empty") + ", expected " +
                                      describe(slot.dtype, slot.shape));
    }
    if (!t.is_contiguous() || t.buffer->device() != Device::CPU) throw OpError("ValueError", "executor: " + what + " must be a contiguous cpu tensor");
    if (last_use_[size_t(s)] >= 0) values[size_t(s)] = t;
  };
  for (size_t i = 0; i < feeds.size(); ++i) load(spec_.feeds[i], feeds[i], "feed " + std::to_string(i));
  for (size_t i = 0; i < variables.size(); ++i) load(spec_.variables[i], variables[i], "variable " + std::to_string(i));
  for (const auto& [s, t] : spec_.constants) {
    if (last_use_[size_t(s)] >= 0) values[size_t(s)] = t;
  }

  RunResult result;
  // The buffers this run allocated and still holds, and their bytes: counted as they are made
  // and as the last slot holding one lets it go. (Scanning every buffer for expiry after every
  // group cost groups x buffers: 1379 x hundreds in an LSTM train step.)
  OwnBuffers mine;
  auto release = [&](size_t g) {
    for (int s : release_after_[g]) {
      Tensor& value = values[size_t(s)];
      if (value.buffer && value.buffer.use_count() == 1) mine.release(value.buffer.get());
      value = Tensor();
    }
  };
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (int s : joins_before_[g]) {
      const PlanSlot& slot = spec_.slots[size_t(s)];
      values[size_t(s)] = make_host_tensor(slot.dtype, slot.shape);
      const int64_t bytes = int64_t(values[size_t(s)].buffer->bytes());
      result.stats.allocated_bytes += bytes;
      mine.add(values[size_t(s)].buffer.get(), bytes);
    }
    if (!groups_[g].concurrent_with_next) {
      run_group(g, values, donated, result.stats, mine);
      release(g);
      result.stats.peak_bytes = std::max(result.stats.peak_bytes, mine.live);
      continue;
    }
    // The pair: each group on its own thread (or both on this one when the pool is busy or
    // has one thread), with its own counters; they touch different slots of `values`.
    RunStats other_stats;
    OwnBuffers other;
    thread_pool().parallel_for(2, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        if (i == 0) {
          run_group(g, values, donated, result.stats, mine);
        } else {
          run_group(g + 1, values, donated, other_stats, other);
        }
      }
    });
    result.stats.allocated_bytes += other_stats.allocated_bytes;
    result.stats.in_place += other_stats.in_place;
    result.stats.kernels += other_stats.kernels;
    for (const auto& [buffer, bytes] : other.bytes) mine.add(buffer, bytes);
    result.stats.peak_bytes = std::max(result.stats.peak_bytes, mine.live);
    release(g);
    release(++g);
  }
  for (int s : spec_.outputs) result.outputs.push_back(values[size_t(s)]);
  for (const auto& u : spec_.updates) result.updates.push_back(values[size_t(u.second)]);
  return result;
}

void GraphExecutable::run_group(size_t g, std::vector<Tensor>& values, const std::vector<bool>& donated, RunStats& stats,
                                OwnBuffers& mine) const {
  const PlanGroup& group = groups_[g];
  const int last_id = group.steps.back();
  const PlanStep& last = spec_.steps[size_t(last_id)];
  if (group.kind == PlanGroup::Kind::Joined) return;  // its inputs' producers wrote its value
  if (group.kind == PlanGroup::Kind::View) {
    Tensor t = values[size_t(last.inputs[0])];
    const PlanSlot& out = spec_.slots[size_t(last.outputs[0])];
    if (!group.view_perm.empty()) {
      Shape strides(group.view_perm.size());
      for (size_t k = 0; k < strides.size(); ++k) strides[k] = t.strides[size_t(group.view_perm[k])];
      t.strides = std::move(strides);
    } else if (out.shape != t.shape) {
      t.strides = contiguous_strides(out.shape);  // (only views of their own shape read a transposed one)
    }
    t.shape = out.shape;
    t.offset += group.view_offset;
    values[size_t(last.outputs[0])] = std::move(t);
    return;
  }
  // The input buffer an output takes over, if allowed this run.
  auto reusable = [&](int in_place_input) -> const Tensor* {
    if (in_place_input < 0) return nullptr;
    const int root = root_[size_t(in_place_input)];
    const bool allowed = slot_kind_[size_t(root)] == kIntermediate ||
                         (slot_kind_[size_t(root)] == kVariable && donated[size_t(slot_variable_[size_t(root)])]);
    return allowed && values[size_t(in_place_input)].buffer ? &values[size_t(in_place_input)] : nullptr;
  };
  const Tensor* reuse = reusable(group.in_place_input);
  // Slot s's output tensor: the input buffer `into` when given, else a new one.
  auto output_tensor = [&](int s, const Tensor* into) {
    const PlanSlot& slot = spec_.slots[size_t(s)];
    Tensor t;
    if (join_slot_[size_t(s)] >= 0) {
      t = values[size_t(join_slot_[size_t(s)])];
      t.shape = slot.shape;
      t.strides = contiguous_strides(slot.shape);
      t.offset += join_offset_[size_t(s)];
    } else if (into) {
      t = *into;
      t.shape = slot.shape;
      t.strides = contiguous_strides(slot.shape);
      ++stats.in_place;
    } else {
      t = make_host_tensor(slot.dtype, slot.shape);
      const int64_t bytes = int64_t(t.buffer->bytes());
      stats.allocated_bytes += bytes;
      mine.add(t.buffer.get(), bytes);
    }
    return t;
  };
  auto context = [&](int step_id) {
    const PlanStep& step = spec_.steps[size_t(step_id)];
    std::string ins;
    for (int s : step.inputs) ins += (ins.empty() ? "" : ", ") + describe(spec_.slots[size_t(s)].dtype, spec_.slots[size_t(s)].shape);
    return "graph node " + std::to_string(step_id) + " (" + step.op + " of " + ins + "): ";
  };
  try {
    if (group.kind == PlanGroup::Kind::Fused) {
      Tensor out = output_tensor(last.outputs[0], reuse);
      std::vector<Tensor> stored;
      for (const auto& store : group.stores) {
        stored.push_back(output_tensor(spec_.steps[size_t(group.steps[size_t(store.member)])].outputs[0], reusable(store.in_place_input)));
      }
      run_fused(g, values, out, stored);
      values[size_t(last.outputs[0])] = std::move(out);
      for (size_t k = 0; k < stored.size(); ++k) {
        values[size_t(spec_.steps[size_t(group.steps[size_t(group.stores[k].member)])].outputs[0])] = std::move(stored[k]);
      }
      ++stats.kernels;
      return;
    }
    const kernels::OpDef& def = *defs_[size_t(last_id)];
    // Views reused from kernel to kernel on this thread: a small graph's run made a few
    // hundred allocations a step copying shapes and strides into fresh views.
    thread_local std::vector<kernels::TensorView> in_views, out_views;
    in_views.resize(last.inputs.size());
    for (size_t k = 0; k < last.inputs.size(); ++k) in_views[k].assign(values[size_t(last.inputs[k])]);
    std::vector<Tensor> outs;
    outs.reserve(last.outputs.size());
    out_views.resize(last.outputs.size());
    for (size_t k = 0; k < last.outputs.size(); ++k) {
      outs.push_back(output_tensor(last.outputs[k], k == 0 ? reuse : reusable(group.in_place_input_of(k))));
      if (k == 0 && !group.output_perm.empty()) {
        // Laid out as the transpose reading it: axis perm[j] takes that layout's stride j.
        Tensor& t = outs.back();
        Shape transposed(t.shape.size());
        for (size_t j = 0; j < transposed.size(); ++j) transposed[j] = t.shape[size_t(group.output_perm[j])];
        const Shape strides = contiguous_strides(transposed);
        for (size_t j = 0; j < transposed.size(); ++j) t.strides[size_t(group.output_perm[j])] = strides[j];
      }
      out_views[k].assign(outs.back());
    }
    kernels::KernelContext ctx{Device::CPU, def.name.c_str()};
    def.kernels[int(Device::CPU)](ctx, in_views, out_views, last.attrs);
    ++stats.kernels;
    for (size_t k = 0; k < last.outputs.size(); ++k) values[size_t(last.outputs[k])] = std::move(outs[k]);
  } catch (const OpError& e) {
    throw OpError(e.kind(), context(last_id) + e.what());
  } catch (const std::bad_alloc&) {
    std::string outs;
    for (int s : last.outputs) outs += (outs.empty() ? "" : ", ") + describe(spec_.slots[size_t(s)].dtype, spec_.slots[size_t(s)].shape);
    throw OpError("ResourceExhaustedError", context(last_id) + "out of memory computing " + outs);
  } catch (const std::exception& e) {
    throw std::runtime_error(context(last_id) + e.what());
  }
}

void GraphExecutable::run_fused(size_t g, std::vector<Tensor>& values, const Tensor& out, const std::vector<Tensor>& stored) const {
  const kernels::FusedChainFn run_chain = kernels::kernel_registry().fused_chain(Device::CPU);
  if (!run_chain) throw std::logic_error("no fused-chain runner is registered for the cpu device");
  const int64_t n = out.numel();
  std::vector<kernels::FusedMember> chain(fused_[g].size());
  for (size_t m = 0; m < chain.size(); ++m) {
    const FusedMember& planned = fused_[g][m];
    kernels::FusedMember& member = chain[m];
    member.kind = planned.kind;
    member.op = planned.op;
    for (int k = 0; k < member.operands(); ++k) {
      if (planned.slot[k] >= 0) {
        const Tensor& t = values[size_t(planned.slot[k])];
        member.data[k] = t.data();
        member.period[k] = t.numel() == n ? 0 : t.numel();  // a scalar (1) or a row (plan_fusion)
      } else {
        member.member[k] = planned.member[k];
      }
    }
  }
  for (size_t k = 0; k < stored.size(); ++k) chain[size_t(groups_[g].stores[k].member)].store = stored[k].data();
  run_chain(chain, {out.data(), out.dtype, out.shape, out.strides});
}

}  // namespace keras::engine
