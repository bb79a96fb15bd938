// CPU data-movement kernels: reshape, transpose, broadcastTo, slice, reverse,
// concatenate, pad. All but concatenate and pad are one strided copy (a view of
// the input read through strides, written densely): dims are merged where both
// sides walk them contiguously, runs that are contiguous on both sides are
// memcpy'd (by streaming stores into an output past the last-level cache),
// transposes go through tiles handed to the active ISA's block transposes
// (transpose_kernels.h: micro-tiles in registers, or an L1 buffer on the portable
// path), and the work is split over the thread pool by bytes. Element types only
// matter by size (1, 4, 8 bytes).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "simd/streaming.h"
#include "transpose.h"

namespace keras::cpu {
namespace {

using engine::Shape;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::TensorView;

// Below this many bytes a copy runs on the calling thread.
constexpr int64_t kParallelBytes = 1 << 18;
// Bytes per work item: large enough to amortize dispatch.
constexpr int64_t kBytesPerItem = 1 << 16;
// The active ISA's block transposes.
const TransposeIsaTable& transpose_kernels() {
  return for_active_isa(kTransposeAvx512, kTransposeAvx2, kTransposePortable);
}

int threads_of(const KernelContext& ctx) { return ctx.max_threads; }

// An iteration space, outer to inner, with source and destination element strides.
struct Nest {
  Shape size, src, dst;
};

// Drops size-1 dims and merges neighbours both sides walk contiguously.
Nest collapse(const Shape& shape, const Shape& src, const Shape& dst) {
  Nest n;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!n.size.empty() && n.src.back() == src[d] * shape[d] && n.dst.back() == dst[d] * shape[d]) {
      n.size.back() *= shape[d];
      n.src.back() = src[d];
      n.dst.back() = dst[d];
    } else {
      n.size.push_back(shape[d]);
      n.src.push_back(src[d]);
      n.dst.push_back(dst[d]);
    }
  }
  if (n.size.empty()) {
    n.size.push_back(1);
    n.src.push_back(0);
    n.dst.push_back(0);
  }
  return n;
}

// Element offsets of flat index `item` over dims [0, count) of the nest.
void offsets_of(const Nest& n, size_t count, int64_t item, int64_t* src, int64_t* dst) {
  *src = 0;
  *dst = 0;
  for (size_t d = count; d-- > 0;) {
    const int64_t i = item % n.size[d];
    item /= n.size[d];
    *src += i * n.src[d];
    *dst += i * n.dst[d];
  }
}

// dst[i] = last[-i] for i in [begin, end).
template <class T>
void reverse_span(int64_t begin, int64_t end, const T* last, T* dst) {
  int64_t k = begin;
#if defined(__SSE2__)
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    constexpr int64_t kLanes = 16 / int64_t(sizeof(T));
    constexpr int kReverse = sizeof(T) == 4 ? 0x1B : 0x4E;  // dword order 3 2 1 0, or the two qwords swapped
    for (; k + kLanes <= end; k += kLanes) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(last - k - (kLanes - 1)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k), _mm_shuffle_epi32(v, kReverse));
    }
  }
#endif
  for (; k < end; ++k) dst[k] = last[-k];
}

// dst[i] = last[-i] for i < count: dst written upwards, the source read downwards. Each
// run read downwards is a new stream the hardware prefetchers are slow to find (rows of a
// flip along the last axis lie one above the other), so while this run is copied the next
// one, whose lowest address is next_low (or null), is prefetched upwards, a line per line
// written (of the same length). [4096, 4096] float32 flipped along the last axis, one thread:
// rows read downwards 2.4x the time of memcpy'd rows, read upwards and written downwards
// 1.8x, written upwards with the next row prefetched 1.35x. Four- and eight-byte elements
// move 16 bytes a step (SSE2 shuffles, baseline x86-64).
template <class T>
void reverse_run(int64_t count, const T* last, T* dst, const char* next_low) {
  if (!next_low) return reverse_span(0, count, last, dst);
  constexpr int64_t kLine = 64 / int64_t(sizeof(T));  // elements per prefetched line
  for (int64_t i = 0; i < count; i += kLine) {
    __builtin_prefetch(next_low + i * int64_t(sizeof(T)));
    reverse_span(i, std::min(count, i + kLine), last, dst);
  }
}

// next_low: where a reversed run's successor starts (see reverse_run). stream: contiguous
// runs by streaming stores.
template <class T>
void copy_run(int64_t count, const T* src, int64_t ss, T* dst, int64_t ds, const char* next_low, bool stream) {
  if (ss == 1 && ds == 1) {
    copy_bytes(dst, src, size_t(count) * sizeof(T), stream);
  } else if (ss == 0 && ds == 1) {
    std::fill(dst, dst + count, *src);
  } else if (ss == -1 && ds == 1) {
    reverse_run(count, src, dst, next_low);
  } else if (ds == 1) {
    for (int64_t i = 0; i < count; ++i) dst[i] = src[i * ss];
  } else {
    for (int64_t i = 0; i < count; ++i) dst[i * ds] = src[i * ss];
  }
}

// Runs fn(begin, end) over `items` items of `item_bytes` each, in parallel when large.
template <class Fn>
void parallel_items(int64_t items, int64_t item_bytes, int max_threads, Fn&& fn) {
  if (items <= 0) return;
  const int64_t total = items * std::max<int64_t>(1, item_bytes);
  const int64_t grain = total < kParallelBytes ? items : std::max<int64_t>(1, kBytesPerItem / std::max<int64_t>(1, item_bytes));
  engine::thread_pool().parallel_for(items, grain, fn, max_threads);
}

template <class T>
void strided_copy_typed(const Nest& n, const T* src, T* dst, int max_threads) {
  const size_t rank = n.size.size();
  const int64_t inner = n.size.back();
  const int64_t ss = n.src.back(), ds = n.dst.back();
  // A transpose: the destination runs along the last dim, the source along another.
  if (rank >= 2 && ds == 1 && ss != 1 && ss != 0) {
    size_t k = rank;
    for (size_t d = 0; d + 1 < rank; ++d) {
      if (n.src[d] == 1) k = d;
    }
    if (k < rank && n.size[k] >= 8 && inner >= 8) {
      Nest outer;  // every dim but k and the last
      for (size_t d = 0; d + 1 < rank; ++d) {
        if (d == k) continue;
        outer.size.push_back(n.size[d]);
        outer.src.push_back(n.src[d]);
        outer.dst.push_back(n.dst[d]);
      }
      const int64_t outer_count = engine::shape_numel(outer.size);
      // Tiles of the kernel's block shape, taken along the source rows first (the next
      // line of the same rows): those rows' pages stay in the TLB (walking down whole
      // columns of a [4096, 4096] float32 input touched a new page for every line and
      // ran at 3/4 of this speed).
      const TransposeIsaTable& kernels = transpose_kernels();
      const int64_t tile_i = kernels.tile_row_bytes / int64_t(sizeof(T)), tile_j = kernels.tile_rows;
      const int64_t tiles_k = (n.size[k] + tile_i - 1) / tile_i, tiles_j = (inner + tile_j - 1) / tile_j;
      const int64_t dk = n.dst[k];
      const TransposeBlockFn block = sizeof(T) == 1 ? kernels.bytes1 : sizeof(T) == 4 ? kernels.bytes4 : kernels.bytes8;
      // An output larger than the last-level cache is written around it.
      const bool stream = engine::past_last_level_cache(engine::shape_numel(n.size) * int64_t(sizeof(T)));
      parallel_items(outer_count * tiles_k * tiles_j, tile_i * tile_j * int64_t(sizeof(T)), max_threads,
                     [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          const int64_t tk = item % tiles_k, tj = (item / tiles_k) % tiles_j, o = item / (tiles_j * tiles_k);
          int64_t so = 0, dof = 0;
          offsets_of(outer, outer.size.size(), o, &so, &dof);
          const int64_t i0 = tk * tile_i, ni = std::min(n.size[k], i0 + tile_i) - i0;
          const int64_t j0 = tj * tile_j, nj = std::min(inner, j0 + tile_j) - j0;
          // The tile read as nj source rows of ni elements, written as ni rows of nj.
          block(src + so + i0 + j0 * ss, ss, dst + dof + i0 * dk + j0, dk, nj, ni, stream);
        }
      });
      return;
    }
  }
  // Rows of the last dim; a long row is cut in pieces so few rows still spread over threads.
  const int64_t rows = engine::shape_numel(n.size) / std::max<int64_t>(1, inner);
  const int64_t row_bytes = inner * int64_t(sizeof(T));
  const int64_t pieces = rows * row_bytes >= kParallelBytes ? std::max<int64_t>(1, row_bytes / kBytesPerItem) : 1;
  const int64_t piece = (inner + pieces - 1) / pieces;
  // The source of item's run (its first element read) and its length.
  auto source = [&](int64_t item, int64_t* count) {
    const int64_t j0 = (item % pieces) * piece;
    int64_t so = 0, dof = 0;
    offsets_of(n, rank - 1, item / pieces, &so, &dof);
    *count = std::min(piece, inner - j0);
    return src + so + j0 * ss;
  };
  // (A 32 MiB output, the left half of [4096, 4096] float32 on a 32 MiB L3, ran alike streamed or not.)
  const bool stream = engine::past_last_level_cache(rows * row_bytes);
  parallel_items(rows * pieces, piece * int64_t(sizeof(T)), max_threads, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t row = item / pieces, j0 = (item % pieces) * piece;
      int64_t so = 0, dof = 0;
      offsets_of(n, rank - 1, row, &so, &dof);
      const int64_t count = std::min(piece, inner - j0);
      const char* next_low = nullptr;
      if (ss == -1 && item + 1 < end) {
        int64_t next_count = 0;
        const T* next_last = source(item + 1, &next_count);
        // Not where the read goes on anyway (the pieces of one run, walked downwards).
        const T* first = src + so + j0 * ss - (count - 1);
        if (next_count == count && next_last != first - 1) {
          next_low = reinterpret_cast<const char*>(next_last - (next_count - 1));
        }
      }
      if (count > 0) copy_run(count, src + so + j0 * ss, ss, dst + dof + j0 * ds, ds, next_low, stream);
    }
    if (stream) stream_fence();
  });
}

// Copies `shape` elements read from src (element strides src_strides, which may be
// 0 or negative) to dst (element strides dst_strides).
void strided_copy(size_t elem, const Shape& shape, const void* src, const Shape& src_strides, void* dst,
                  const Shape& dst_strides, int max_threads) {
  if (engine::shape_numel(shape) == 0) return;
  const Nest n = collapse(shape, src_strides, dst_strides);
  switch (elem) {
    case 1: return strided_copy_typed(n, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), max_threads);
    case 4: return strided_copy_typed(n, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), max_threads);
    case 8: return strided_copy_typed(n, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), max_threads);
    default: throw std::logic_error("strided_copy: unsupported element size");
  }
}

size_t elem_size(const TensorView& t) { return engine::dtype_size(t.dtype); }

const char* bytes_at(const TensorView& t, int64_t element_offset) {
  return static_cast<const char*>(t.data) + element_offset * int64_t(elem_size(t));
}

bool contiguous(const TensorView& t) {
  if (t.numel() == 0) return true;  // nothing to read
  int64_t expected = 1;
  for (size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

// out = x read through (per output dim) `strides` from element `offset` of x.
void copy_view(const KernelContext& ctx, const TensorView& x, int64_t offset, const Shape& strides,
               const TensorView& out) {
  strided_copy(elem_size(x), out.shape, bytes_at(x, offset), strides, out.data, out.strides, threads_of(ctx));
}

// reshape: a copy of the values in row-major order (the JS adapter may make it a view instead).
void reshape_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                 const Attrs&) {
  const TensorView& x = in[0];
  if (contiguous(x)) {
    strided_copy(elem_size(x), {x.numel()}, x.data, {1}, out[0].data, {1}, threads_of(ctx));
  } else {
    // Row-major order of x first, then the bytes are the reshaped output.
    strided_copy(elem_size(x), x.shape, x.data, x.strides, out[0].data, engine::contiguous_strides(x.shape),
                 threads_of(ctx));
  }
}

void transpose_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                   const Attrs& attrs) {
  const TensorView& x = in[0];
  const std::vector<int64_t> perm = attrs.get_ints("transpose", "perm", {});
  Shape strides;
  for (int64_t p : perm) strides.push_back(x.strides[size_t(p)]);
  copy_view(ctx, x, 0, strides, out[0]);
}

void broadcast_to_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                      const Attrs&) {
  const TensorView& x = in[0];
  const Shape& shape = out[0].shape;
  Shape strides(shape.size(), 0);
  const size_t lead = shape.size() - x.shape.size();
  for (size_t d = 0; d < x.shape.size(); ++d) strides[d + lead] = x.shape[d] == 1 ? 0 : x.strides[d];
  copy_view(ctx, x, 0, strides, out[0]);
}

void slice_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
               const Attrs& attrs) {
  const TensorView& x = in[0];
  const std::vector<int64_t> begin = attrs.get_ints("slice", "begin", {});
  int64_t offset = 0;
  for (size_t d = 0; d < begin.size(); ++d) offset += begin[d] * x.strides[d];
  if (out[0].numel() == 0) return;  // begin may sit at the end of an axis
  copy_view(ctx, x, offset, x.strides, out[0]);
}

void reverse_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                 const Attrs& attrs) {
  const TensorView& x = in[0];
  if (x.numel() == 0) return;
  Shape strides = x.strides;
  std::vector<bool> flip(x.shape.size(), false);
  for (int64_t a : attrs.get_ints("reverse", "axes", {})) flip[size_t(a < 0 ? a + x.rank() : a)] = true;
  int64_t offset = 0;
  for (size_t d = 0; d < flip.size(); ++d) {
    if (!flip[d]) continue;
    offset += (x.shape[d] - 1) * x.strides[d];
    strides[d] = -x.strides[d];
  }
  copy_view(ctx, x, offset, strides, out[0]);
}

// concatenate: each output row (the dims before the axis) is the inputs' rows side by side.
void concatenate_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                     const Attrs& attrs) {
  const TensorView& o = out[0];
  if (o.numel() == 0) return;
  int64_t axis = attrs.get_int("concatenate", "axis", 0);
  if (axis < 0) axis += o.rank();
  const size_t elem = elem_size(o);
  int64_t inner = 1;
  for (size_t d = size_t(axis) + 1; d < o.shape.size(); ++d) inner *= o.shape[d];
  const int64_t outer = engine::shape_numel(Shape(o.shape.begin(), o.shape.begin() + axis));
  const int64_t out_row = o.shape[size_t(axis)] * inner * int64_t(elem);
  bool all_contiguous = true;
  for (const auto& t : in) all_contiguous = all_contiguous && contiguous(t);
  if (!all_contiguous) {
    // One strided copy per input.
    int64_t start = 0;
    for (const auto& t : in) {
      strided_copy(elem, t.shape, t.data, t.strides, static_cast<char*>(o.data) + start * inner * int64_t(elem),
                   o.strides, threads_of(ctx));
      start += t.shape[size_t(axis)];
    }
    return;
  }
  std::vector<int64_t> row_bytes, row_offset;
  int64_t at = 0;
  for (const auto& t : in) {
    row_bytes.push_back(t.shape[size_t(axis)] * inner * int64_t(elem));
    row_offset.push_back(at);
    at += row_bytes.back();
  }
  const bool stream = engine::past_last_level_cache(outer * out_row);
  if (outer == 1) {
    // One output row: its bytes split over threads in pieces, each copying the parts of the
    // inputs it overlaps. (A copy per input, each split over threads, paid a hand-off per
    // input: an RNN's 50 timesteps of [32, 128] took 100 us in a train step.)
    const int64_t pieces = (out_row + kBytesPerItem - 1) / kBytesPerItem;
    parallel_items(pieces, kBytesPerItem, threads_of(ctx), [&](int64_t begin, int64_t end) {
      const int64_t lo = begin * kBytesPerItem, hi = std::min(out_row, end * kBytesPerItem);
      auto first = std::upper_bound(row_offset.begin(), row_offset.end(), lo) - row_offset.begin() - 1;
      for (size_t i = size_t(first); i < in.size() && row_offset[i] < hi; ++i) {
        const int64_t from = std::max(lo, row_offset[i]), to = std::min(hi, row_offset[i] + row_bytes[i]);
        if (to > from) {
          copy_bytes(static_cast<char*>(o.data) + from, static_cast<const char*>(in[i].data) + (from - row_offset[i]),
                     size_t(to - from), stream);
        }
      }
      if (stream) stream_fence();
    });
    return;
  }
  parallel_items(outer, out_row, threads_of(ctx), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      char* dst = static_cast<char*>(o.data) + r * out_row;
      for (size_t i = 0; i < in.size(); ++i) {
        if (row_bytes[i]) {
          copy_bytes(dst + row_offset[i], static_cast<const char*>(in[i].data) + r * row_bytes[i], size_t(row_bytes[i]), stream);
        }
      }
    }
    if (stream) stream_fence();
  });
}

// The value a JS TypedArray of element type T stores for the number v.
template <class T>
T js_store(double v) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return T(v);
  } else {
    const double modulus = std::is_same_v<T, int32_t> ? 4294967296.0 : 256.0;
    double t = std::isfinite(v) ? std::fmod(std::trunc(v), modulus) : 0;
    if (t < 0) t += modulus;
    if (std::is_same_v<T, int32_t> && t >= 2147483648.0) t -= 4294967296.0;
    return T(t);
  }
}

// pad: output rows over the dims up to the last padded one; each is constant, or
// constant + a contiguous input block + constant.
template <class T>
void pad_typed(const KernelContext& ctx, const TensorView& x, const TensorView& o, const std::vector<int64_t>& p,
               double constant) {
  const T fill = js_store<T>(constant);
  T* dst = static_cast<T*>(o.data);
  const T* src = static_cast<const T*>(x.data);
  const int rank = o.rank();
  int last = -1;  // last padded dim
  for (int d = 0; d < rank; ++d) {
    if (p[size_t(2 * d)] || p[size_t(2 * d + 1)]) last = d;
  }
  if (last < 0) {
    strided_copy(sizeof(T), x.shape, x.data, x.strides, o.data, o.strides, threads_of(ctx));
    return;
  }
  int64_t block = 1;  // unpadded trailing dims: copied whole
  for (int d = last + 1; d < rank; ++d) block *= o.shape[size_t(d)];
  const int64_t out_row = o.shape[size_t(last)] * block, in_row = x.shape[size_t(last)] * block;
  const int64_t before = p[size_t(2 * last)] * block;
  const int64_t rows = engine::shape_numel(Shape(o.shape.begin(), o.shape.begin() + last));
  const bool stream = engine::past_last_level_cache(rows * out_row * int64_t(sizeof(T)));
  parallel_items(rows, out_row * int64_t(sizeof(T)), threads_of(ctx), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      T* row = dst + r * out_row;
      // Which input row this is, if every outer index lies inside the input.
      int64_t rest = r, in_index = 0, in_stride = 1;
      bool inside = true;
      for (int d = last - 1; d >= 0 && inside; --d) {
        const int64_t i = rest % o.shape[size_t(d)] - p[size_t(2 * d)];
        rest /= o.shape[size_t(d)];
        inside = i >= 0 && i < x.shape[size_t(d)];
        in_index += i * in_stride;
        in_stride *= x.shape[size_t(d)];
      }
      if (!inside || in_row == 0) {
        std::fill(row, row + out_row, fill);
        continue;
      }
      std::fill(row, row + before, fill);
      copy_bytes(row + before, src + in_index * in_row, size_t(in_row) * sizeof(T), stream);
      std::fill(row + before + in_row, row + out_row, fill);
    }
    if (stream) stream_fence();
  });
}

void pad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
             const Attrs& attrs) {
  const TensorView& o = out[0];
  if (o.numel() == 0) return;
  const std::vector<int64_t> p = attrs.get_ints("pad", "paddings", {});
  const double constant = attrs.get_float("pad", "constantValue", 0);
  // The row walk reads x densely; a strided view is made dense first.
  TensorView x = in[0];
  std::vector<char> dense;
  if (!contiguous(x)) {
    dense.resize(size_t(x.numel()) * elem_size(x));
    strided_copy(elem_size(x), x.shape, x.data, x.strides, dense.data(), engine::contiguous_strides(x.shape),
                 threads_of(ctx));
    x.data = dense.data();
    x.strides = engine::contiguous_strides(x.shape);
  }
  switch (o.dtype) {
    case engine::DType::Float32: return pad_typed<float>(ctx, x, o, p, constant);
    case engine::DType::Float64: return pad_typed<double>(ctx, x, o, p, constant);
    case engine::DType::Int32: return pad_typed<int32_t>(ctx, x, o, p, constant);
    case engine::DType::Bool: return pad_typed<uint8_t>(ctx, x, o, p, constant);
  }
}

}  // namespace

void register_shape(kernels::KernelRegistry& registry) {
  const auto cpu = engine::Device::CPU;
  registry.register_kernel("reshape", cpu, reshape_cpu);
  registry.register_kernel("transpose", cpu, transpose_cpu);
  registry.register_kernel("broadcastTo", cpu, broadcast_to_cpu);
  registry.register_kernel("slice", cpu, slice_cpu);
  registry.register_kernel("reverse", cpu, reverse_cpu);
  registry.register_kernel("concatenate", cpu, concatenate_cpu);
  registry.register_kernel("pad", cpu, pad_cpu);
}

}  // namespace keras::cpu
