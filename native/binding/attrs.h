// Converts a JS attrs object into kernel Attrs, for runKernel and compiled graphs alike.
#pragma once
#include <napi.h>

#include <string>

#include "../kernels/kernel.h"

namespace keras::binding {

// Integral numbers become ints, arrays of integral numbers int lists; null/undefined
// values are skipped. Anything else is a TypeError naming the op and the attribute.
kernels::Attrs parse_attrs(Napi::Env env, const std::string& op, const Napi::Value& value);

}  // namespace keras::binding
