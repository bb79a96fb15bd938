#include "attrs.h"

#include <cmath>
#include <vector>

namespace keras::binding {

kernels::Attrs parse_attrs(Napi::Env env, const std::string& op, const Napi::Value& value) {
  kernels::Attrs attrs;
  if (value.IsUndefined() || value.IsNull()) return attrs;
  if (!value.IsObject()) throw Napi::TypeError::New(env, op + ": attrs must be an object");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array names = object.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).ToString();
    Napi::Value v = object.Get(name);
    if (v.IsUndefined() || v.IsNull()) continue;
    if (v.IsBoolean()) {
      attrs.set(name, v.As<Napi::Boolean>().Value());
    } else if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      // -0 stays a double: as an int64 it would be 0, and fill would store +0 where js stores -0.
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18 && !(d == 0 && std::signbit(d))) {
        attrs.set(name, int64_t(d));
      } else {
        attrs.set(name, d);
      }
    } else if (v.IsString()) {
      attrs.set(name, v.As<Napi::String>().Utf8Value());
    } else if (v.IsArray()) {
      Napi::Array array = v.As<Napi::Array>();
      std::vector<double> values;
      bool integral = true;
      for (uint32_t j = 0; j < array.Length(); ++j) {
        Napi::Value e = array.Get(j);
        if (!e.IsNumber()) throw Napi::TypeError::New(env, op + ": attribute '" + name + "' must hold numbers");
        double d = e.As<Napi::Number>().DoubleValue();
        integral = integral && std::isfinite(d) && d == std::trunc(d);
        values.push_back(d);
      }
      if (integral) {
        attrs.set(name, std::vector<int64_t>(values.begin(), values.end()));
      } else {
        attrs.set(name, values);
      }
    } else {
      throw Napi::TypeError::New(env, op + ": attribute '" + name + "' has an unsupported type");
    }
  }
  return attrs;
}

}  // namespace keras::binding
