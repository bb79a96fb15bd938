// Asynchronous calls (runOpAsync, an executable's run): the work runs on the engine's
// dispatch thread and its Promise is settled on the JS thread by a thread-safe function.
//
// node-addon-api's AsyncWorker went through a libuv worker thread, which then handed the
// work to the dispatch thread and waited for it: four thread wake-ups per call (JS ->
// libuv -> dispatch -> libuv -> JS), each 30-185 us in a VM. Posting to the dispatch
// thread directly leaves two (JS -> dispatch -> JS).
#pragma once
#include <napi.h>

#include <memory>

namespace keras::binding {

class AsyncJob {
 public:
  virtual ~AsyncJob() = default;
  // On the dispatch thread. An exception rejects the promise (an OpError's kind as the
  // error's name, as synchronous calls throw).
  virtual void execute() = 0;
  // On the JS thread once execute() returned: the value the promise resolves to.
  virtual Napi::Value result(Napi::Env env) = 0;
};

// Queues the job for the dispatch thread and returns its promise. The event loop stays
// alive until the promise is settled; if the environment is torn down first (a worker
// thread terminated mid-run), the job is freed without settling.
Napi::Promise start_async_job(Napi::Env env, std::unique_ptr<AsyncJob> job);

}  // namespace keras::binding
