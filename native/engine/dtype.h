// Element types the engine stores. Names match lib/dtype.ts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace keras::engine {

enum class DType : uint8_t { Float32, Float64, Int32, Bool };

inline size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int32: return 4;
    case DType::Bool: return 1;
  }
  return 1;
}

inline const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int32: return "int32";
    case DType::Bool: return "bool";
  }
  return "unknown";
}

inline bool parse_dtype(const std::string& name, DType* out) {
  if (name == "float32") *out = DType::Float32;
  else if (name == "float64") *out = DType::Float64;
  else if (name == "int32") *out = DType::Int32;
  else if (name == "bool") *out = DType::Bool;
  else return false;
  return true;
}

}  // namespace keras::engine
