// CPU drivers of the elementwise and reduction kernels: broadcasting, merging
// of contiguous dims, and splitting over the thread pool. The per-element work
// is the active ISA's row functions (elementwise_table.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <variant>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "../kernels/elementwise.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "loop_nest.h"

namespace keras::cpu {
namespace {

using namespace loops;

const ElementwiseTable& table() { return *active_kernels().elementwise; }

// Whether out is larger than the last-level cache: its operands and itself stream from memory. Such
// an output reaches its consumer from memory anyway, so binary ops write it around the caches
// (streaming stores: no read of each line first); unary math ops take one vector a step.
bool past_last_level_cache(const TensorView& out) {
  return engine::past_last_level_cache(out.numel() * int64_t(engine::dtype_size(out.dtype)));
}

// Elements of a run below which binary ops and the float32 -> bool cast keep plain stores (see binary_cpu).
constexpr int64_t kStreamingRun = 4096;

template <kernels::UnaryOp OP>
void unary_cpu(const kernels::KernelContext&, const std::vector<TensorView>& inputs,
               const std::vector<TensorView>& outputs, const kernels::Attrs&) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const UnaryRowFn fn = table().unary[int(OP)][int(x.dtype)];
  if (small_flat_output(out)) {
    if (const int64_t step = flat_step(x, out); step >= 0) return fn(out.numel(), x.data, step, out.data, false);
  }
  const LoopNest nest = collapse(out.shape, {x.strides, out.strides});
  const int64_t x_step = nest.strides[0].back();
  const bool from_memory = past_last_level_cache(out);
  for_each_run(nest, [&](int64_t n, const int64_t* off) {
    fn(n, byte_ptr(x, off[0]), x_step, byte_ptr(out, off[1]), from_memory);
  });
}

// Elements of a run of whole rows (binary_rows): as the fused chains' tiles.
constexpr int64_t kRowRunBytes = 8192;

// A contiguous operand against a short row broadcast over the leading dims (a bias [c] over
// [n, h, w, c]), out contiguous: runs of whole rows against the row repeated over one run, instead
// of one row function call per row ([64,26,26,32] + [32] float32, 2 threads: 0.31-0.52 -> 0.10-0.18
// ms). False, doing nothing, for any other layout.
bool binary_rows(BinaryRowFn fn, const LoopNest& nest, const TensorView& a, const TensorView& b, const TensorView& out) {
  if (nest.sizes.size() != 2) return false;
  const int64_t rows = nest.sizes[0], width = nest.sizes[1];
  const auto& sa = nest.strides[0];
  const auto& sb = nest.strides[1];
  const auto& so = nest.strides[2];
  const bool row_b = sa[0] == width && sa[1] == 1 && sb[0] == 0 && sb[1] == 1;
  const bool row_a = sb[0] == width && sb[1] == 1 && sa[0] == 0 && sa[1] == 1;
  const int64_t esize = int64_t(engine::dtype_size(a.dtype));
  const int64_t per_run = kRowRunBytes / esize / width;  // rows a run
  // Below two runs the row calls cost less than filling the run ([2, 10] + [10]: 1.5 vs 2.1 us).
  if (!(row_a || row_b) || so[0] != width || so[1] != 1 || per_run < 2 || rows < 2 * per_run) return false;
  const TensorView& row = row_b ? b : a;
  const std::vector<char> repeated = repeated_row(row.data, width * esize, per_run * width * esize);
  const char* whole = static_cast<const char*>((row_b ? a : b).data);
  char* o = static_cast<char*>(out.data);
  const int64_t out_size = int64_t(engine::dtype_size(out.dtype));  // bool for comparisons
  const int64_t runs = (rows + per_run - 1) / per_run;
  engine::thread_pool().parallel_for(runs, std::max<int64_t>(1, kElementsPerItem / (per_run * width)), [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const int64_t first = k * per_run * width, n = std::min(per_run, rows - k * per_run) * width;
      const char* w = whole + first * esize;
      if (row_b) fn(n, w, 1, repeated.data(), 1, o + first * out_size, false);
      else fn(n, repeated.data(), 1, w, 1, o + first * out_size, false);
    }
  });
  return true;
}

template <kernels::BinaryOp OP>
void binary_cpu(const kernels::KernelContext&, const std::vector<TensorView>& inputs,
                const std::vector<TensorView>& outputs, const kernels::Attrs&) {
  const TensorView& a = inputs[0];
  const TensorView& b = inputs[1];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const BinaryRowFn fn = table().binary[int(OP)][int(a.dtype)];
  if (small_flat_output(out)) {
    const int64_t a_step = flat_step(a, out), b_step = flat_step(b, out);
    if (a_step >= 0 && b_step >= 0) return fn(out.numel(), a.data, a_step, b.data, b_step, out.data, false);
  }
  const LoopNest nest =
      collapse(out.shape, {broadcast_strides(a, out.shape), broadcast_strides(b, out.shape), out.strides});
  if (binary_rows(fn, nest, a, b, out)) return;
  const int64_t a_step = nest.strides[0].back(), b_step = nest.strides[1].back();
  // A row function with streaming stores fences once per run, which waits for its lines to reach
  // memory: short runs (a bias row of 64 or 128 channels over NHWC) took 3-6x the time of plain stores.
  const bool stream = past_last_level_cache(out) && nest.sizes.back() >= kStreamingRun;
  for_each_run(nest, [&](int64_t n, const int64_t* off) {
    fn(n, byte_ptr(a, off[0]), a_step, byte_ptr(b, off[1]), b_step, byte_ptr(out, off[2]), stream);
  });
}

void where_cpu(const kernels::KernelContext&, const std::vector<TensorView>& inputs,
               const std::vector<TensorView>& outputs, const kernels::Attrs&) {
  const TensorView& cond = inputs[0];
  const TensorView& a = inputs[1];
  const TensorView& b = inputs[2];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const LoopNest nest = collapse(out.shape, {broadcast_strides(cond, out.shape), broadcast_strides(a, out.shape),
                                             broadcast_strides(b, out.shape), out.strides});
  const int64_t sc = nest.strides[0].back(), sa = nest.strides[1].back(), sb = nest.strides[2].back();
  const auto unit = [](int64_t s) { return s == 0 || s == 1; };
  const WhereRowFn unit_row = unit(sc) && unit(sa) && unit(sb) ? table().where[int(a.dtype)][sc * 4 + sa * 2 + sb] : nullptr;
  with_element_type(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    for_each_run(nest, [&](int64_t n, const int64_t* off) {
      const uint8_t* c = static_cast<const uint8_t*>(cond.data) + off[0];
      const T* x = static_cast<const T*>(a.data) + off[1];
      const T* y = static_cast<const T*>(b.data) + off[2];
      T* o = static_cast<T*>(out.data) + off[3];
      if (unit_row) return unit_row(n, c, x, y, o);
      for (int64_t i = 0; i < n; ++i) o[i] = c[i * sc] ? x[i * sa] : y[i * sb];
    });
  });
}

// Elements a cast converts per step: a float-to-int32 cast checks a block's range before converting it
// (64: the check's cost is amortized, and one value out of range sends few elements the slow way).
constexpr int64_t kCastBlock = 64;

// Whether every x[i] has |x[i]| < 2^31 (so not NaN or infinite), where truncation is ToInt32. Read
// from the exponent bits: adding kCarry to the exponent field carries into the sign bit exactly when
// the exponent is 31 or more. Integer and/add/or vectorize on SSE2, where double compares reduced to
// a flag do not (GCC 12 leaves that loop scalar).
template <class F>
bool within_int32(const F* x, int64_t n) {
  using U = std::conditional_t<sizeof(F) == 8, uint64_t, uint32_t>;
  constexpr int kMantissa = std::numeric_limits<F>::digits - 1;
  constexpr U kExponentBits = U(std::numeric_limits<F>::max_exponent * 2 - 1);  // 0x7ff, 0xff
  constexpr U kBias = U(std::numeric_limits<F>::max_exponent - 1);
  constexpr U kField = kExponentBits << kMantissa;
  constexpr U kCarry = (kExponentBits + 1 - (kBias + 31)) << kMantissa;
  U over = 0;
  for (int64_t i = 0; i < n; ++i) {
    U bits;
    std::memcpy(&bits, x + i, sizeof bits);
    over |= (bits & kField) + kCarry;
  }
  return over >> (8 * sizeof(U) - 1) == 0;
}

// o[i] = x[i] converted as the js backend stores it, for n <= kCastBlock contiguous elements.
template <class In, class Out>
void cast_block(const In* __restrict x, Out* __restrict o, int64_t n) {
  if constexpr (std::is_same_v<Out, uint8_t> && std::is_same_v<In, double>) {
    // x != 0 (NaN too) on the bits: the low word or the high word without its sign bit is set. GCC 12
    // leaves double compares narrowed to bytes scalar on SSE2; these 32-bit integer ops vectorize
    // (2.4x faster in L1).
    for (int64_t i = 0; i < n; ++i) {
      uint64_t bits;
      std::memcpy(&bits, x + i, sizeof bits);
      o[i] = (uint32_t(bits) | uint32_t(bits >> 32) << 1) != 0;
    }
  } else if constexpr (std::is_same_v<Out, uint8_t>) {
    for (int64_t i = 0; i < n; ++i) o[i] = x[i] != 0;  // NaN != 0 too; bool inputs of 2 become 1
  } else if constexpr (std::is_same_v<Out, int32_t> && std::is_floating_point_v<In>) {
    if (within_int32(x, n)) {
      for (int64_t i = 0; i < n; ++i) o[i] = int32_t(x[i]);  // cvttps2dq / cvttpd2dq
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = js_convert<int32_t>(double(x[i]));
    }
  } else {
    // Exact, or one rounding to nearest (float64 or int32 to float32), as a TypedArray store.
    for (int64_t i = 0; i < n; ++i) o[i] = Out(x[i]);
  }
}

// One run of a cast: n elements of x at stride sx to the contiguous o, a block at a time (a strided
// block is gathered first, so the conversion stays one vectorized loop).
template <class In, class Out>
void cast_run(int64_t n, const In* x, int64_t sx, Out* o) {
  alignas(16) In gathered[kCastBlock];
  for (int64_t i = 0; i < n; i += kCastBlock) {
    const int64_t m = std::min(kCastBlock, n - i);
    const In* src = x + i * sx;
    if (sx != 1) {
      for (int64_t k = 0; k < m; ++k) gathered[k] = src[k * sx];
      src = gathered;
    }
    cast_block(src, o + i, m);
  }
}

#if defined(__SSE2__)
// float32 -> bool, n contiguous elements, the output written by streaming stores past a plain head
// (to its 16-byte boundary) and before a plain tail; fenced once, before the run is reported done.
// cmpneqps is true for NaN and false for -0, as x != 0. Where the output is larger than the last-level
// cache this one pays (the bool output is a fifth of the bytes moved, and a plain store reads its
// line first): 16M elements, 2 threads, CPU time 2.83-3.04 ms against 3.62-3.95 with plain stores
// (standalone, median of 40); for casts to 4-byte outputs streaming was slower (see full_like_cpu).
void nonzero_streamed(const float* x, uint8_t* o, int64_t n) {
  const int64_t head = std::min<int64_t>(n, int64_t((16 - reinterpret_cast<uintptr_t>(o) % 16) % 16));
  cast_block(x, o, head);
  const __m128 zero = _mm_setzero_ps();
  const __m128i one = _mm_set1_epi8(1);
  int64_t i = head;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_castps_si128(_mm_cmpneq_ps(_mm_loadu_ps(x + i), zero));
    const __m128i b = _mm_castps_si128(_mm_cmpneq_ps(_mm_loadu_ps(x + i + 4), zero));
    const __m128i c = _mm_castps_si128(_mm_cmpneq_ps(_mm_loadu_ps(x + i + 8), zero));
    const __m128i d = _mm_castps_si128(_mm_cmpneq_ps(_mm_loadu_ps(x + i + 12), zero));
    // All-ones lanes narrow to -1 bytes (signed saturation), masked to 1.
    const __m128i bytes = _mm_packs_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d));
    _mm_stream_si128(reinterpret_cast<__m128i*>(o + i), _mm_and_si128(bytes, one));
  }
  cast_block(x + i, o + i, n - i);
  _mm_sfence();
}
#endif

// cast: the js backend's rules (bool: x != 0, so NaN is true; int32: truncate and wrap; float32:
// round to nearest), in vectorized blocks over the thread pool. Plain stores even past the last-level
// cache, but for float32 -> bool (nonzero_streamed): streaming ones measured slower on our Zen-class
// machine for 4-byte outputs (see full_like_cpu).
void cast_cpu(const kernels::KernelContext&, const std::vector<TensorView>& inputs,
              const std::vector<TensorView>& outputs, const kernels::Attrs&) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  with_element_type(x.dtype, [&](auto in_tag) {
    using In = decltype(in_tag);
    with_element_type(out.dtype, [&](auto out_tag) {
      using Out = decltype(out_tag);
      if (small_flat_output(out)) {
        if (const int64_t step = flat_step(x, out); step >= 0) {
          return cast_run(out.numel(), static_cast<const In*>(x.data), step, static_cast<Out*>(out.data));
        }
      }
      const LoopNest nest = collapse(out.shape, {x.strides, out.strides});
      const int64_t sx = nest.strides[0].back();
      [[maybe_unused]] const bool stream = past_last_level_cache(out);
      for_each_run(nest, [&](int64_t n, const int64_t* off) {
        const In* src = static_cast<const In*>(x.data) + off[0];
        Out* dst = static_cast<Out*>(out.data) + off[1];
#if defined(__SSE2__)
        if constexpr (std::is_same_v<In, float> && std::is_same_v<Out, uint8_t>) {
          if (stream && sx == 1 && n >= kStreamingRun) return nonzero_streamed(src, dst, n);
        }
#endif
        cast_run(n, src, sx, dst);
      });
    });
  });
}

// Plain stores even for outputs past the last-level cache: on our Zen-class machine a 64 MiB fill
// took 2.6-3.1 ms with plain SSE stores and 4.2-4.6 ms with SSE2 streaming ones (3.2-4.5 ms with
// 64-byte AVX-512 ones), 2 threads, min of 40; streamed cast outputs were slower likewise. Measured
// again as CPU time (standalone, 2 threads, one fence a thread task, medians of 30-60 alternations,
// 4 runs): plain 2.2-2.7 ms (copy of the same bytes 3.7-4.7: 0.57x), AVX-512 streaming 2.5-3.4,
// SSE2 streaming 3.2-4.6, clzero 2.0-3.4, rep stos 2.0-3.5, one line in 2, 4 or 8 streamed
// 2.4-4.1; no page faults either way (the caching allocator hands the freed block back).
void full_like_cpu(const kernels::KernelContext& ctx, const std::vector<TensorView>&,
                   const std::vector<TensorView>& outputs, const kernels::Attrs& attrs) {
  const TensorView& out = outputs[0];
  const bool* flag = std::get_if<bool>(attrs.find("value"));
  const double value = flag ? (*flag ? 1.0 : 0.0) : attrs.get_float(ctx.op_name, "value", 0);
  with_element_type(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T fill = js_convert<T>(value);
    T* data = static_cast<T*>(out.data);
    const int64_t n = out.numel();
    engine::thread_pool().parallel_for(n, kElementsPerItem, [&](int64_t begin, int64_t end) {
      std::fill(data + begin, data + end, fill);
    });
  });
}

// identity / stopGradient: a copy (outputs own fresh buffers; gradients differ only in autodiff).
void copy_cpu(const kernels::KernelContext&, const std::vector<TensorView>& inputs,
              const std::vector<TensorView>& outputs, const kernels::Attrs&) {
  const TensorView& x = inputs[0];
  const TensorView& out = outputs[0];
  if (out.numel() == 0) return;
  const LoopNest nest = collapse(out.shape, {x.strides, out.strides});
  const int64_t sx = nest.strides[0].back();
  const size_t size = engine::dtype_size(x.dtype);
  with_element_type(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    for_each_run(nest, [&](int64_t n, const int64_t* off) {
      const T* src = static_cast<const T*>(x.data) + off[0];
      T* dst = static_cast<T*>(out.data) + off[1];
      if (sx == 1) {
        std::memcpy(dst, src, size_t(n) * size);
      } else {
        for (int64_t i = 0; i < n; ++i) dst[i] = src[i * sx];
      }
    });
  });
}

}  // namespace

void register_elementwise(kernels::KernelRegistry& registry) {
  registry.register_kernel("where", engine::Device::CPU, where_cpu);
  registry.register_kernel("cast", engine::Device::CPU, cast_cpu);
  registry.register_kernel("fullLike", engine::Device::CPU, full_like_cpu);
  registry.register_kernel("identity", engine::Device::CPU, copy_cpu);
  registry.register_kernel("stopGradient", engine::Device::CPU, copy_cpu);
#define KERAS_REGISTER_UNARY(name, Enum, kind) \
  registry.register_kernel(#name, engine::Device::CPU, unary_cpu<kernels::UnaryOp::Enum>);
#define KERAS_REGISTER_BINARY(name, Enum, kind) \
  registry.register_kernel(#name, engine::Device::CPU, binary_cpu<kernels::BinaryOp::Enum>);
  KERAS_UNARY_OPS(KERAS_REGISTER_UNARY)
  KERAS_BINARY_OPS(KERAS_REGISTER_BINARY)
#undef KERAS_REGISTER_UNARY
#undef KERAS_REGISTER_BINARY
}

}  // namespace keras::cpu
