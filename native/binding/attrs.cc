#include "attrs.h"

#include <cmath>
#include <vector>

namespace keras::binding {
namespace {

// A JS number as an attribute: integral values become ints. -0 stays a double: as an
// int64 it would be 0, and fill would store +0 where js stores -0.
kernels::AttrValue number_attr(double d) {
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18 && !(d == 0 && std::signbit(d))) {
    return int64_t(d);
  }
  return d;
}

kernels::AttrValue list_attr(Napi::Env env, const std::string& op, const std::string& name, const Napi::Array& array) {
  const uint32_t length = array.Length();
  std::vector<double> values(length);
  bool integral = true;
  for (uint32_t j = 0; j < length; ++j) {
    Napi::Value e = array.Get(j);
    if (!e.IsNumber()) throw Napi::TypeError::New(env, op + ": attribute '" + name + "' must hold numbers");
    const double d = e.As<Napi::Number>().DoubleValue();
    integral = integral && std::isfinite(d) && d == std::trunc(d);
    values[j] = d;
  }
  if (integral) return std::vector<int64_t>(values.begin(), values.end());
  return values;
}

// A JS string (an attribute name, a short value) in one call where it fits a buffer on the
// stack; Utf8Value asks V8 twice (length, then the bytes), which was a third of a small matmul's
// attribute parsing.
std::string short_string(Napi::Env env, const Napi::Value& value) {
  char buffer[64];
  size_t length = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf8(env, value, buffer, sizeof buffer, &length), std::string());
  // V8 stops before a character that does not fit whole (up to 4 bytes in UTF-8): a string this
  // close to the end may have been cut short.
  if (length + 4 < sizeof buffer) return std::string(buffer, length);
  return value.As<Napi::String>().Utf8Value();
}

}  // namespace

kernels::Attrs parse_attrs(Napi::Env env, const std::string& op, const Napi::Value& value) {
  kernels::Attrs attrs;
  if (value.IsUndefined() || value.IsNull()) return attrs;
  if (!value.IsArray()) throw Napi::TypeError::New(env, op + ": attrs must be an array of names and values");
  Napi::Array list = value.As<Napi::Array>();
  const uint32_t length = list.Length();
  if (length % 2 != 0) throw Napi::TypeError::New(env, op + ": attrs must alternate names and values (odd length " + std::to_string(length) + ")");
  attrs.reserve(length / 2);
  for (uint32_t i = 0; i < length; i += 2) {
    Napi::Value key = list.Get(i);
    if (!key.IsString()) throw Napi::TypeError::New(env, op + ": attrs[" + std::to_string(i) + "] must be an attribute name");
    std::string name = short_string(env, key);
    Napi::Value v = list.Get(i + 1);
    switch (v.Type()) {
      case napi_undefined:
      case napi_null:
        break;
      case napi_boolean:
        attrs.set(std::move(name), v.As<Napi::Boolean>().Value());
        break;
      case napi_number:
        attrs.set(std::move(name), number_attr(v.As<Napi::Number>().DoubleValue()));
        break;
      case napi_string:
        attrs.set(std::move(name), short_string(env, v));
        break;
      default:
        if (!v.IsArray()) throw Napi::TypeError::New(env, op + ": attribute '" + name + "' has an unsupported type");
        attrs.set(name, list_attr(env, op, name, v.As<Napi::Array>()));
    }
  }
  return attrs;
}

}  // namespace keras::binding
