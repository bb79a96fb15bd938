#include "async_job.h"

#include <exception>
#include <mutex>
#include <utility>

#include "../engine/thread_pool.h"
#include "addon_state.h"

namespace keras::binding {

// The way back to one environment's JS thread: a thread-safe function, referenced (keeping
// the event loop alive) while jobs are in flight. The environment's cleanup hook closes it
// under the mutex, so the dispatch thread never calls a function that teardown freed: it
// checks and calls under the same mutex (terminating a worker thread mid-run crashed the
// process with AsyncWorker, which settled into the dying environment).
struct AsyncChannel {
  std::mutex mutex;
  napi_threadsafe_function back = nullptr;  // null once the environment is closing
  int in_flight = 0;                        // JS thread only
};

namespace {

struct Pending {
  std::unique_ptr<AsyncJob> job;
  std::shared_ptr<AsyncChannel> channel;
  napi_deferred deferred = nullptr;
  std::exception_ptr error;
};

// call_js of the channel: settles a job's promise on the JS thread. A null env means the
// environment is going away: the job is only freed.
void settle(napi_env env, napi_value /*js_callback*/, void* /*context*/, void* data) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(data));
  if (!env) return;
  AsyncChannel& channel = *pending->channel;
  if (--channel.in_flight == 0 && channel.back) napi_unref_threadsafe_function(env, channel.back);
  Napi::Env e(env);
  try {
    if (pending->error) std::rethrow_exception(pending->error);
    napi_resolve_deferred(env, pending->deferred, pending->job->result(e));
  } catch (const Napi::Error& error) {
    napi_reject_deferred(env, pending->deferred, error.Value());
  } catch (const std::exception& error) {
    napi_reject_deferred(env, pending->deferred, to_js_error(e, error).Value());
  }
}

void close_channel(void* arg) {
  std::unique_ptr<std::shared_ptr<AsyncChannel>> channel(static_cast<std::shared_ptr<AsyncChannel>*>(arg));
  std::lock_guard<std::mutex> lock((*channel)->mutex);
  napi_release_threadsafe_function((*channel)->back, napi_tsfn_abort);  // queued jobs reach settle with no env
  (*channel)->back = nullptr;
}

const std::shared_ptr<AsyncChannel>& channel_of(Napi::Env env) {
  std::shared_ptr<AsyncChannel>& channel = addon_state(env).async_channel;
  if (channel) return channel;
  auto made = std::make_shared<AsyncChannel>();
  NAPI_THROW_IF_FAILED(env,
                       napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, "keras.async"), 0, 1,
                                                       nullptr, nullptr, nullptr, settle, &made->back),
                       channel);
  napi_unref_threadsafe_function(env, made->back);
  // Registered after the function, so it runs before node's own teardown of it.
  NAPI_THROW_IF_FAILED(env, napi_add_env_cleanup_hook(env, close_channel, new std::shared_ptr<AsyncChannel>(made)), channel);
  channel = std::move(made);
  return channel;
}

// On the dispatch thread: the work, then the hand-back.
void execute(Pending* pending) {
  try {
    pending->job->execute();
  } catch (...) {
    pending->error = std::current_exception();
  }
  {
    AsyncChannel& channel = *pending->channel;
    std::lock_guard<std::mutex> lock(channel.mutex);
    if (channel.back && napi_call_threadsafe_function(channel.back, pending, napi_tsfn_nonblocking) == napi_ok) return;
  }
  delete pending;  // the environment is gone: nobody to settle for
}

}  // namespace

Napi::Promise start_async_job(Napi::Env env, std::unique_ptr<AsyncJob> job) {
  auto pending = std::make_unique<Pending>();
  pending->job = std::move(job);
  pending->channel = channel_of(env);
  napi_value promise = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &pending->deferred, &promise), Napi::Promise());
  AsyncChannel& channel = *pending->channel;
  if (channel.in_flight++ == 0) napi_ref_threadsafe_function(env, channel.back);
  Pending* raw = pending.release();
  engine::post_to_dispatch_thread([raw] { execute(raw); });
  return Napi::Promise(env, promise);
}

}  // namespace keras::binding
