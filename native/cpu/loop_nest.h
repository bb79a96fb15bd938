// Iteration helpers shared by the CPU elementwise and reduction drivers (not by
// ISA translation units): merging dims into long contiguous runs, and splitting
// runs over the thread pool.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../engine/thread_pool.h"
#include "../kernels/kernel.h"

namespace keras::cpu::loops {

using engine::DType;
using engine::Shape;
using kernels::TensorView;

// Below this many elements a kernel runs on the calling thread.
constexpr int64_t kParallelElements = 32768;
// Elements per work item when rows are long: big enough to amortize dispatch.
constexpr int64_t kElementsPerItem = 16384;

inline char* byte_ptr(const TensorView& t, int64_t element_offset) {
  return static_cast<char*>(t.data) + element_offset * int64_t(engine::dtype_size(t.dtype));
}

// An iteration space: sizes from outer to inner, and each operand's stride per dim.
struct LoopNest {
  Shape sizes;
  std::vector<Shape> strides;  // [operand][dim]
};

// Drops size-1 dims and merges neighbours that every operand walks contiguously,
// so the innermost dim is as long as possible.
inline LoopNest collapse(const Shape& shape, const std::vector<Shape>& strides) {
  LoopNest nest;
  nest.strides.resize(strides.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !nest.sizes.empty();
    for (size_t k = 0; merge && k < strides.size(); ++k) {
      merge = nest.strides[k].back() == strides[k][d] * shape[d];
    }
    if (merge) {
      nest.sizes.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); ++k) nest.strides[k].back() = strides[k][d];
    } else {
      nest.sizes.push_back(shape[d]);
      for (size_t k = 0; k < strides.size(); ++k) nest.strides[k].push_back(strides[k][d]);
    }
  }
  if (nest.sizes.empty()) {  // a scalar: one run of one element
    nest.sizes.push_back(1);
    for (auto& s : nest.strides) s.push_back(0);
  }
  return nest;
}

// Calls run(n, offsets) over runs of the innermost dim, in parallel. offsets[k] is
// operand k's element offset of the run's first element.
template <class Run>
void for_each_run(const LoopNest& nest, Run run) {
  const size_t operands = nest.strides.size();
  const size_t rank = nest.sizes.size();
  const int64_t inner = nest.sizes.back();
  const int64_t total = engine::shape_numel(nest.sizes);
  const int64_t rows = total / inner;
  const int64_t chunks_per_row = total >= kParallelElements ? std::max<int64_t>(1, inner / kElementsPerItem) : 1;
  const int64_t chunk = (inner + chunks_per_row - 1) / chunks_per_row;
  const int64_t items = rows * chunks_per_row;
  const int64_t grain = total >= kParallelElements ? std::max<int64_t>(1, kElementsPerItem / chunk) : items;
  engine::thread_pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> offsets(operands);
    for (int64_t item = begin; item < end; ++item) {
      int64_t row = item / chunks_per_row;
      const int64_t j0 = (item % chunks_per_row) * chunk;
      for (size_t k = 0; k < operands; ++k) offsets[k] = j0 * nest.strides[k][rank - 1];
      for (size_t d = rank - 1; d-- > 0;) {
        const int64_t index = row % nest.sizes[d];
        row /= nest.sizes[d];
        for (size_t k = 0; k < operands; ++k) offsets[k] += index * nest.strides[k][d];
      }
      run(std::min(chunk, inner - j0), offsets.data());
    }
  });
}

// `shape`'s strides broadcast against `out_shape`: aligned right, 0 on broadcast dims.
inline Shape broadcast_strides(const TensorView& t, const Shape& out_shape) {
  Shape strides(out_shape.size(), 0);
  const size_t offset = out_shape.size() - t.shape.size();
  for (size_t d = 0; d < t.shape.size(); ++d) {
    strides[d + offset] = t.shape[d] == 1 ? 0 : t.strides[d];
  }
  return strides;
}

// The step of `t` along a flat walk of `out` when one run covers it: 1 when t is
// contiguous with out's shape, 0 when it is one element; -1 otherwise. Small ops
// with every operand flat run as one call: building a loop nest (a handful of
// vectors) costs more than adding a few numbers.
inline int64_t flat_step(const TensorView& t, const TensorView& out) {
  if (t.numel() == 1) return 0;
  if (t.shape != out.shape) return -1;
  int64_t expected = 1;
  for (size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return -1;
    expected *= t.shape[d];
  }
  return 1;
}

// True when `out` is small enough for the calling thread alone and is contiguous.
inline bool small_flat_output(const TensorView& out) { return out.numel() < kParallelElements && flat_step(out, out) >= 0; }

// A row of row_bytes repeated to fill total_bytes (whole rows): a row broadcast over the leading
// dims, read as a contiguous operand by runs of whole rows (binary ops, fused chains).
inline std::vector<char> repeated_row(const void* row, int64_t row_bytes, int64_t total_bytes) {
  std::vector<char> out(static_cast<size_t>(total_bytes));
  for (int64_t at = 0; at < total_bytes; at += row_bytes) std::memcpy(out.data() + at, row, size_t(row_bytes));
  return out;
}

// The value a JS TypedArray of element type Out stores for the number d (what
// the js backend's kernels do implicitly). Bool (Uint8Array) wraps modulo 256.
template <class Out>
inline Out js_convert(double d) {
  if constexpr (std::is_same_v<Out, float>) {
    return float(d);
  } else if constexpr (std::is_same_v<Out, double>) {
    return d;
  } else {
    // Below 2^63 in magnitude the truncation fits an int64, whose low bits are it modulo 2^32
    // (2^8); the fmod path (a cast's whole cost once: 3% of a copy's speed) is left for the huge,
    // infinite and NaN.
    if (std::fabs(d) < 9223372036854775808.0) return Out(uint64_t(int64_t(d)));
    const double modulus = std::is_same_v<Out, int32_t> ? 4294967296.0 : 256.0;
    double t = std::isfinite(d) ? std::fmod(std::trunc(d), modulus) : 0;
    if (t < 0) t += modulus;
    if (std::is_same_v<Out, int32_t> && t >= 2147483648.0) t -= 4294967296.0;
    return Out(t);
  }
}

// Stores a double the way a JS TypedArray would (see elementwise_kernels.h).
inline void store_js(const TensorView& out, int64_t index, double value) {
  switch (out.dtype) {
    case DType::Float32: static_cast<float*>(out.data)[index] = float(value); break;
    case DType::Float64: static_cast<double*>(out.data)[index] = value; break;
    case DType::Int32: static_cast<int32_t*>(out.data)[index] = js_convert<int32_t>(value); break;
    case DType::Bool: static_cast<uint8_t*>(out.data)[index] = value != 0 ? 1 : 0; break;
  }
}

// Calls fn(T{}) with T the C++ element type of dtype (bool is uint8_t).
template <class Fn>
inline void with_element_type(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::Float32: return fn(float{});
    case DType::Float64: return fn(double{});
    case DType::Int32: return fn(int32_t{});
    case DType::Bool: return fn(uint8_t{});
  }
}

}  // namespace keras::cpu::loops
