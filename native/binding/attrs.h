// Converts a JS attrs list (name, value, name, value, ...) into kernel Attrs, for runOp
// and compiled graphs alike. A list rather than an object: enumerating an object's keys
// and looking each up by name was most of a small op's native call.
#pragma once
#include <napi.h>

#include <string>

#include "../kernels/kernel.h"

namespace keras::binding {

// Integral numbers become ints, arrays of integral numbers int lists; null/undefined
// values are skipped. Anything else is a TypeError naming the op and the attribute.
kernels::Attrs parse_attrs(Napi::Env env, const std::string& op, const Napi::Value& value);

}  // namespace keras::binding
