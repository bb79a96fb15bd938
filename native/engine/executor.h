// The graph executor: a whole IR graph (a train step, a predict call) planned
// once and run as one native call. The plan is an op list in topological order
// over numbered value slots with concrete shapes (the JS side resolves the batch
// dim and compiles one executable per input signature). Planning does:
//  - views: reshape / identity / stopGradient share their input's buffer, and so does a
//    slice that takes a contiguous block of it (an RNN's timestep of a time-major
//    projection), at an offset, unless it reaches a result, and a batched transpose that
//    one or two matmuls alone read (as permuted strides), or of a matmul's value that only
//    it reads (the product writes in the transposed layout);
//  - fusion: chains of float elementwise unary/binary ops of one element count
//    (operands of that count, scalars or rows) run as one pass over memory, tile
//    by tile, each tile's intermediates staying in L1/L2; a member whose value is
//    also a result (an optimizer's new slot value, read by the weight's update)
//    is stored as the pass goes, so one pass writes several outputs;
//  - liveness: every buffer is dropped after its last reader, so the caching
//    allocator hands it to the next op;
//  - pairs: two light groups (one thread's work each: an RNN's per-timestep
//    products and gates) that do not read each other's values run at once on two
//    threads, the later one moved up next to the earlier when its inputs are ready;
//  - in place: an elementwise op (or fused chain) writes into an input buffer
//    that has no later reader: an intermediate, or a variable's old value when
//    the caller donates it (the optimizer's update then costs no allocation).
// Runs share nothing mutable: one executable may run on several threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../kernels/kernel.h"
#include "tensor.h"

namespace keras::engine {

struct PlanSlot {
  DType dtype = DType::Float32;
  Shape shape;
};

struct PlanStep {
  std::string op;
  std::vector<int> inputs;   // slot ids
  std::vector<int> outputs;  // slot ids, each written by exactly this step
  kernels::Attrs attrs;
};

// What the JS side sends: slots, steps, and where placeholder values come from.
struct PlanSpec {
  std::vector<PlanSlot> slots;
  std::vector<PlanStep> steps;
  std::vector<int> feeds;                      // slot of feed i
  std::vector<std::pair<int, Tensor>> constants;  // (slot, value), captured once
  std::vector<int> variables;                  // slot of variable i (its value is passed to every run)
  std::vector<int> outputs;                    // slots returned, in order
  std::vector<std::pair<int, int>> updates;    // (variable index, slot of its new value)
};

struct RunStats {
  int64_t peak_bytes = 0;       // most bytes of buffers this run allocated that were alive at once
  int64_t allocated_bytes = 0;  // bytes of all buffers this run allocated
  int64_t in_place = 0;         // kernels / fused chains that wrote into an input's buffer
  int64_t kernels = 0;          // kernel calls and fused passes
};

struct RunResult {
  std::vector<Tensor> outputs;
  std::vector<Tensor> updates;  // new value of each PlanSpec::updates entry, in order
  RunStats stats;
};

// One unit of the schedule.
struct PlanGroup {
  // Joined: a concatenation whose inputs' producers wrote them into its buffer (plan_joins):
  // no work of its own.
  enum class Kind { Kernel, View, Fused, Joined };
  Kind kind = Kind::Kernel;
  std::vector<int> steps;  // step ids in execution order; one unless fused
  // A View's first element in its input's buffer: nonzero for a slice of a contiguous block.
  int64_t view_offset = 0;
  // A transpose's View: its axes' strides are the input's in this order (read by matmuls
  // only, or of a product that wrote it in this layout).
  std::vector<int64_t> view_perm;
  // A Kernel (a matmul) whose output only a transpose by this perm reads: it writes the
  // value in that transpose's layout, as strides.
  std::vector<int64_t> output_perm;
  // Slot whose buffer the output may take over (-1: none); for a donated
  // variable's slot it is taken only when the run's caller donates it.
  int in_place_input = -1;
  // A kernel with elementwise outputs (OpDef::elementwise_outputs): the same for its outputs
  // after the first.
  std::vector<int> more_in_place_inputs;
  // The slot output k of the last step may take over (-1: none).
  int in_place_input_of(size_t k) const {
    if (k == 0) return in_place_input;
    return k - 1 < more_in_place_inputs.size() ? more_in_place_inputs[k - 1] : -1;
  }
  // Members of a fused chain, other than the last, whose values are results (graph
  // outputs or variable updates): written to memory by the same pass.
  struct Store {
    int member = 0;           // index into steps
    int in_place_input = -1;  // as above, for this value
  };
  std::vector<Store> stores;
  // Runs at the same time as the next group, on another thread: both are light (their
  // kernels take one thread) and neither reads the other's values (plan_concurrency).
  bool concurrent_with_next = false;
};

class GraphExecutable {
 public:
  // Validates the plan (known ops with cpu kernels, input counts, each step's
  // declared outputs equal to the op's inferred ones) and plans it. Throws
  // OpError naming the step's op and shapes.
  explicit GraphExecutable(PlanSpec spec);

  // Runs the graph. `variables[i]` is the current value of variable i;
  // `donated[i]` says its buffer may be overwritten (the caller holds no other
  // reader). Kernel errors are rethrown as OpError/runtime_error naming the op
  // and the input shapes. If a run fails after it began writing into donated
  // buffers, those variables hold partly updated values.
  RunResult run(const std::vector<Tensor>& feeds, const std::vector<Tensor>& variables,
                const std::vector<bool>& donated) const;

  const PlanSpec& spec() const { return spec_; }
  const std::vector<PlanGroup>& groups() const { return groups_; }
  // Bytes of intermediates alive at once under this schedule, assuming every
  // in-place candidate is taken (the run's measured peak is RunStats::peak_bytes).
  int64_t planned_peak_bytes() const { return planned_peak_bytes_; }

 private:
  // One op of a fused chain: operand k is slot `slot[k]` read from memory, or
  // (slot[k] == -1) the tile result of chain member `member[k]`.
  struct FusedMember {
    kernels::FusedMember::Kind kind = kernels::FusedMember::Kind::Unary;
    int op = 0;  // kernels::UnaryOp / BinaryOp
    int slot[3] = {-1, -1, -1};
    int member[3] = {-1, -1, -1};
  };

  // The buffers a run allocated that are still alive, and their bytes (RunStats::peak_bytes).
  struct OwnBuffers {
    std::unordered_map<const Buffer*, int64_t> bytes;
    int64_t live = 0;
    void add(const Buffer* b, int64_t n) {
      bytes[b] = n;
      live += n;
    }
    // `b` is about to be freed: forgotten if this run made it.
    void release(const Buffer* b) {
      const auto it = bytes.find(b);
      if (it == bytes.end()) return;
      live -= it->second;
      bytes.erase(it);
    }
  };

  void validate();
  void plan_fusion();
  void plan_concurrency();
  void plan_joins();
  void plan_liveness();
  // Slots group g reads that it does not compute itself, each once.
  std::vector<int> group_inputs(size_t g) const;
  // Group g's work in nanoseconds, roughly, when its kernel runs on one thread anyway
  // (plan_concurrency may pair it); 0 otherwise.
  double light_work(size_t g) const;
  void run_group(size_t g, std::vector<Tensor>& values, const std::vector<bool>& donated, RunStats& stats,
                 OwnBuffers& mine) const;
  void run_fused(size_t g, std::vector<Tensor>& values, const Tensor& out, const std::vector<Tensor>& stored) const;

  PlanSpec spec_;
  std::vector<PlanGroup> groups_;
  std::vector<const kernels::OpDef*> defs_;  // per step
  std::vector<int> last_use_;                // per slot: group index of its last reader; INT32_MAX for results
  std::vector<int> root_;                    // per slot: the slot whose buffer it views (itself if none)
  std::vector<int> root_last_use_;           // per root slot: last use over all its views
  std::vector<uint8_t> slot_kind_;           // 0 intermediate, 1 feed, 2 constant, 3 variable
  std::vector<int> slot_variable_;           // variable index of a variable slot, else -1
  std::vector<std::vector<int>> release_after_;  // per group: slots to drop once it ran
  std::vector<std::vector<FusedMember>> fused_;  // per group (empty unless fused)
  std::vector<int> join_slot_;                   // per slot: the Joined concatenation whose buffer it is written into, or -1
  std::vector<int64_t> join_offset_;             // per slot: its first element in that buffer
  std::vector<std::vector<int>> joins_before_;   // per group: Joined concatenations whose buffers are made before it (and its pair) run
  int64_t planned_peak_bytes_ = 0;
};

}  // namespace keras::engine
