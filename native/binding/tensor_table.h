// The engine tensors JS holds, by id. JS sees a tensor as a number: making a JS
// object per tensor in C++ (a wrapped instance with a weak reference and a
// finalizer) cost more than a small op, so handles are plain JS objects made by
// lib/backends/cpu/native.ts around these ids, and the GC safety net for dropped
// handles lives there too (a FinalizationRegistry that calls releaseTensor).
//
// An id is generation * 2^32 + slot index, exact in a double. A slot's generation
// changes when it is freed, so a stale id (a disposed tensor, a double release)
// finds nothing instead of another tensor. One table per JS environment (worker
// thread); it is touched only from that environment's JS thread: async kernels
// copy their inputs out before leaving it and insert their outputs after returning.
#pragma once
#include <napi.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../engine/tensor.h"

namespace keras::binding {

// The buffer of a variable an asynchronous graph run updates in place: until the run's
// kernels are done, a reader on the JS thread would see it half-written (a dataSync of a
// weight while a training step runs), so the table's readers wait for it to be released.
// Work queued on the dispatch thread runs after that run anyway, and does not wait.
class WriteFence {
 public:
  // The run is over (done, failed or dropped); on any thread, any number of times.
  void release();
  void wait();

 private:
  std::mutex mutex_;
  std::condition_variable released_signal_;
  bool released_ = false;
};

class TensorTable {
 public:
  // Stores the tensor and returns its id. A view (a buffer another entry holds) is not
  // reported to V8 again.
  double insert(napi_env env, engine::Tensor tensor, bool view = false);
  // The live tensor of an id, or null (stale, released, or never issued), once no run
  // writes its buffer: for readers on the JS thread.
  const engine::Tensor* find(double id);
  // The same without waiting for a writer: for shape queries, and for work queued on the
  // dispatch thread behind the run that writes it.
  const engine::Tensor* find_queued(double id);
  // Marks a live id's buffer as written by a run until `fence` is released.
  void fence(double id, std::shared_ptr<WriteFence> fence);
  // Frees the tensor of an id; false (and nothing freed) when the id is not live.
  bool release(napi_env env, double id);
  size_t live_count() const { return slots_.size() - free_.size(); }
  // Frees every tensor (environment teardown).
  void clear();

 private:
  struct Slot {
    engine::Tensor tensor;
    uint32_t generation = 1;
    bool live = false;
    int64_t reported_bytes = 0;
    std::shared_ptr<WriteFence> writer;  // a run writing the buffer in place, until released
  };
  Slot* slot_of(double id);
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

// The engine tensor behind a JS value that should be a live id; a JS TypeError
// naming `what()` otherwise. `what` is a callable so hot paths build no string. `queued`:
// the tensor goes to work on the dispatch thread (TensorTable::find_queued).
template <class What>
const engine::Tensor& tensor_from_value(napi_env env, TensorTable& table, napi_value value, const What& what, bool queued = false) {
  double id = -1;
  if (napi_get_value_double(env, value, &id) != napi_ok) throw Napi::TypeError::New(env, what() + " is not a tensor id");
  if (const engine::Tensor* t = queued ? table.find_queued(id) : table.find(id)) return *t;
  throw Napi::Error::New(env, what() + " was already disposed");
}

// Tells V8 about native bytes gained (> 0) or freed (< 0), so dropped handles are
// collected under memory pressure. V8 is told the live bytes when they pass what it was
// last told by kExternalMemoryBatch (the call is too costly to make per tensor), or when they
// have stayed under half of it for kShrinkReportDelayNs (seen at a later call): memory made
// and freed by each step of a loop moves nothing, so it starts no GC.
constexpr int64_t kExternalMemoryBatch = int64_t(1) << 20;
constexpr int64_t kShrinkReportDelayNs = 1'000'000'000;
void account_external_memory(napi_env env, int64_t delta);
// Bytes V8 has been told about (memoryInfo, tests): from the bytes this thread's live tensors
// hold less kExternalMemoryBatch up to twice those bytes, or more for under a second after a drop.
int64_t reported_external_memory();

// The functions over ids that lib/backends/cpu/native.ts wraps: createTensor,
// releaseTensor, reshapeView, sliceView, tensorShape, tensorDType, readTensor.
void register_tensor_functions(Napi::Env env, Napi::Object exports);

}  // namespace keras::binding
