// The JS surface of the graph executor (native/engine/executor.h):
// `compileGraph(plan)` returns a NativeExecutable with run (a Promise, computed
// on a libuv worker), runSync, plan (the schedule, for tests and debugging) and
// dispose. lib/backends/cpu/executor.ts builds the plan and drives it.
#pragma once
#include <napi.h>

namespace keras::binding {

// Adds compileGraph to the addon's exports.
void register_executable(Napi::Env env, Napi::Object exports);

}  // namespace keras::binding
