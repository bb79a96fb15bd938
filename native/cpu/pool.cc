// CPU max and average pooling (and their gradients), channels_last over 1-3
// spatial dims. Every output pixel walks its window's valid taps (a table made once
// per call from window_taps) and combines whole channel rows with the vectorized
// row loops of conv_kernels.h.
// Gradients scatter into their image, so they split over the batch.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"

namespace keras::cpu {
namespace {

using kernels::Attrs;
using kernels::KernelContext;
using kernels::TensorView;

// x spatial `in`, pooled spatial `out`.
Window pool_window(const char* op, const Attrs& attrs, int64_t n, const kernels::Shape& in, const kernels::Shape& out) {
  const size_t nsp = in.size();
  const auto pool = attrs.get_ints(op, "poolSize", std::vector<int64_t>(nsp, 1));
  const auto strides = attrs.get_ints(op, "strides", pool);
  const auto padding = attrs.get_ints(op, "padding", std::vector<int64_t>(2 * nsp, 0));
  return make_window(n, in, out, pool, strides, std::vector<int64_t>(nsp, 1), padding);
}

kernels::Shape spatial(const TensorView& t) { return kernels::Shape(t.shape.begin() + 1, t.shape.end() - 1); }

int chunk_grain(double work_per_item) { return int(std::max(1.0, 65536.0 / std::max(1.0, work_per_item))); }

// Every output pixel's window: the input pixels of its taps that are not padding, in tap
// order. The same for every image, so made once per call: computed per window and image,
// the coordinates' divisions cost as much as a 2x2 window's work.
struct WindowTable {
  int64_t taps = 0;
  std::vector<int64_t> pixels;  // taps per output pixel, the first `counts[q]` valid
  std::vector<int64_t> counts;
  const int64_t* of(int64_t q) const { return pixels.data() + q * taps; }
};

WindowTable window_table(const Window& w) {
  WindowTable table;
  table.taps = w.taps();
  table.pixels.resize(size_t(w.out_pixels() * table.taps));
  table.counts.resize(size_t(w.out_pixels()));
  for (int64_t q = 0; q < w.out_pixels(); ++q) {
    int64_t* pix = table.pixels.data() + q * table.taps;
    window_taps(w, q, pix);
    int64_t count = 0;
    for (int64_t t = 0; t < table.taps; ++t) {
      if (pix[t] >= 0) pix[count++] = pix[t];
    }
    table.counts[size_t(q)] = count;
  }
  return table;
}

template <class T>
void max_pool(const KernelContext& ctx, const Window& w, int64_t ch, const T* x, T* y) {
  const int64_t taps = w.taps(), in_pix = w.in_pixels(), out_pix = w.out_pixels(), rows = w.n * out_pix;
  const RowOps<T>* ops = nullptr;
  if constexpr (!std::is_same_v<T, int32_t>) ops = &row_ops<T>(conv_kernels());
  const WindowTable windows = window_table(w);
  engine::thread_pool().parallel_for(rows, chunk_grain(double(taps * ch)), [&](int64_t b, int64_t e) {
    std::vector<const T*> x_rows(static_cast<size_t>(taps));
    for (int64_t r = b; r < e; ++r) {
      const int64_t q = r % out_pix, count = windows.counts[size_t(q)];
      const int64_t* pix = windows.of(q);
      const T* xi = x + r / out_pix * in_pix * ch;
      for (int64_t t = 0; t < count; ++t) x_rows[size_t(t)] = xi + pix[t] * ch;
      T* yr = y + r * ch;
      if (count == 0) {
        // An empty window (padding only): -inf, which the js kernel's int32 store makes 0.
        std::fill_n(yr, ch, std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : T(0));
      } else if constexpr (std::is_same_v<T, int32_t>) {
        for (int64_t c = 0; c < ch; ++c) {
          T best = x_rows[0][c];
          for (int64_t t = 1; t < count; ++t) best = std::max(best, x_rows[size_t(t)][c]);
          yr[c] = best;
        }
      } else {
        ops->window_max(yr, x_rows.data(), count, ch);
      }
    }
  }, ctx.max_threads);
}

// Windows that share no input pixel (strides at least the pool size: the usual 2x2 pools)
// write each covered pixel's gradient once: the pixels no window covers (the last row of
// an odd size), which alone need zeros; none when windows overlap.
std::optional<std::vector<int64_t>> pixels_outside_disjoint_windows(const Window& w, const WindowTable& windows) {
  for (int j = 0; j < 3; ++j) {
    if (w.s[j] < w.k[j]) return std::nullopt;
  }
  std::vector<bool> covered(size_t(w.in_pixels()));
  for (int64_t q = 0; q < w.out_pixels(); ++q) {
    for (int64_t t = 0; t < windows.counts[size_t(q)]; ++t) covered[size_t(windows.of(q)[t])] = true;
  }
  std::vector<int64_t> outside;
  for (int64_t p = 0; p < w.in_pixels(); ++p) {
    if (!covered[size_t(p)]) outside.push_back(p);
  }
  return outside;
}

template <class T>
void max_pool_grad(const KernelContext& ctx, const Window& w, int64_t ch, const T* x, const T* dy, T* dx, bool positive_only) {
  const int64_t taps = w.taps(), in_pix = w.in_pixels(), out_pix = w.out_pixels();
  const RowOps<T>& ops = row_ops<T>(conv_kernels());
  // Disjoint windows store their gradients, with no zeroing pass and no reads of dx
  // (maxPoolGrad [64,26,26,32] 0.30-0.35 -> 0.27-0.29 ms); overlapping ones add into a
  // zeroed image.
  const WindowTable windows = window_table(w);
  const auto outside = pixels_outside_disjoint_windows(w, windows);
  engine::thread_pool().parallel_for(w.n, chunk_grain(double(out_pix * taps * ch)), [&](int64_t b, int64_t e) {
    std::vector<const T*> x_rows(static_cast<size_t>(taps));
    std::vector<T*> dx_rows(static_cast<size_t>(taps));
    for (int64_t n = b; n < e; ++n) {
      const T* xi = x + n * in_pix * ch;
      T* dxi = dx + n * in_pix * ch;
      if (outside) {
        for (const int64_t p : *outside) std::fill_n(dxi + p * ch, ch, T(0));
      } else {
        std::fill_n(dxi, in_pix * ch, T(0));
      }
      for (int64_t q = 0; q < out_pix; ++q) {
        // A window of padding only takes no gradient.
        const int64_t count = windows.counts[size_t(q)];
        const int64_t* pix = windows.of(q);
        for (int64_t t = 0; t < count; ++t) {
          x_rows[size_t(t)] = xi + pix[t] * ch;
          dx_rows[size_t(t)] = dxi + pix[t] * ch;
        }
        if (outside) {
          // The window two along the row: its lines fetched while this one computes (the
          // input is usually cold: activations from the forward pass long ago). As integers:
          // at a row's end the address lies past it, or past the image (prefetches do not fault).
          const uintptr_t ahead = uintptr_t(2 * w.s[2] * ch) * sizeof(T);
          for (int64_t t = 0; t < count; ++t) {
            const uintptr_t at = reinterpret_cast<uintptr_t>(x_rows[size_t(t)]) + ahead;
            for (uintptr_t b = 0; b < uintptr_t(ch) * sizeof(T); b += 64) __builtin_prefetch(reinterpret_cast<const void*>(at + b));
          }
        }
        if (count > 0) {
          ops.window_max_grad(dx_rows.data(), x_rows.data(), count, dy + (n * out_pix + q) * ch, ch, !outside, positive_only);
        }
      }
    }
  }, ctx.max_threads);
}

template <class T>
void avg_pool(const KernelContext& ctx, const Window& w, int64_t ch, const T* x, T* y) {
  const int64_t taps = w.taps(), in_pix = w.in_pixels(), out_pix = w.out_pixels(), rows = w.n * out_pix;
  const RowOps<T>& ops = row_ops<T>(conv_kernels());
  const WindowTable windows = window_table(w);
  engine::thread_pool().parallel_for(rows, chunk_grain(double(taps * ch)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t n = r / out_pix, q = r % out_pix, count = windows.counts[size_t(q)];
      const int64_t* pix = windows.of(q);
      T* yr = y + r * ch;
      std::fill_n(yr, ch, T(0));
      for (int64_t t = 0; t < count; ++t) ops.add(yr, x + (n * in_pix + pix[t]) * ch, ch);
      // Padding is not counted; an empty window gives 0 * inf = NaN, as in js.
      const T inv = T(1) / T(count);
      for (int64_t c = 0; c < ch; ++c) yr[c] *= inv;
    }
  }, ctx.max_threads);
}

template <class T>
void avg_pool_grad(const KernelContext& ctx, const Window& w, int64_t ch, const T* dy, T* dx) {
  const int64_t taps = w.taps(), in_pix = w.in_pixels(), out_pix = w.out_pixels();
  const RowOps<T>& ops = row_ops<T>(conv_kernels());
  const WindowTable windows = window_table(w);
  engine::thread_pool().parallel_for(w.n, chunk_grain(double(out_pix * taps * ch)), [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      T* dxi = dx + n * in_pix * ch;
      std::fill_n(dxi, in_pix * ch, T(0));
      for (int64_t q = 0; q < out_pix; ++q) {
        const int64_t count = windows.counts[size_t(q)];
        const int64_t* pix = windows.of(q);
        const T inv = T(1) / T(count);
        const T* dyr = dy + (n * out_pix + q) * ch;
        for (int64_t t = 0; t < count; ++t) ops.axpy(dxi + pix[t] * ch, inv, dyr, ch);
      }
    }
  }, ctx.max_threads);
}

void max_pool_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                  const Attrs& attrs) {
  const TensorView &x = in[0], &y = out[0];
  if (y.numel() == 0) return;
  const Window w = pool_window("maxPool", attrs, x.shape[0], spatial(x), spatial(y));
  const int64_t ch = x.shape.back();
  switch (x.dtype) {
    case engine::DType::Float64: {
      std::vector<double> s;
      return max_pool<double>(ctx, w, ch, contiguous_data<double>(x, s), y.as<double>());
    }
    case engine::DType::Int32: {
      std::vector<int32_t> s;
      return max_pool<int32_t>(ctx, w, ch, contiguous_data<int32_t>(x, s), y.as<int32_t>());
    }
    default: {
      std::vector<float> s;
      return max_pool<float>(ctx, w, ch, contiguous_data<float>(x, s), y.as<float>());
    }
  }
}

void max_pool_grad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in,
                       const std::vector<TensorView>& out, const Attrs& attrs) {
  const TensorView &x = in[0], &dy = in[1], &dx = out[0];
  if (dx.numel() == 0) return;
  const Window w = pool_window("maxPoolGrad", attrs, x.shape[0], spatial(x), spatial(dy));
  const int64_t ch = x.shape.back();
  const bool positive_only = attrs.get_bool("maxPoolGrad", "positiveMax", false);
  if (x.dtype == engine::DType::Float64) {
    std::vector<double> s1, s2;
    return max_pool_grad<double>(ctx, w, ch, contiguous_data<double>(x, s1), contiguous_data<double>(dy, s2),
                                 dx.as<double>(), positive_only);
  }
  std::vector<float> s1, s2;
  max_pool_grad<float>(ctx, w, ch, contiguous_data<float>(x, s1), contiguous_data<float>(dy, s2), dx.as<float>(),
                       positive_only);
}

void avg_pool_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                  const Attrs& attrs) {
  const TensorView &x = in[0], &y = out[0];
  if (y.numel() == 0) return;
  const Window w = pool_window("avgPool", attrs, x.shape[0], spatial(x), spatial(y));
  const int64_t ch = x.shape.back();
  if (x.dtype == engine::DType::Float64) {
    std::vector<double> s;
    return avg_pool<double>(ctx, w, ch, contiguous_data<double>(x, s), y.as<double>());
  }
  std::vector<float> s;
  avg_pool<float>(ctx, w, ch, contiguous_data<float>(x, s), y.as<float>());
}

void avg_pool_grad_cpu(const KernelContext& ctx, const std::vector<TensorView>& in,
                       const std::vector<TensorView>& out, const Attrs& attrs) {
  const TensorView &dy = in[0], &dx = out[0];
  if (dx.numel() == 0) return;
  const Window w = pool_window("avgPoolGrad", attrs, dy.shape[0], spatial(dx), spatial(dy));
  const int64_t ch = dy.shape.back();
  if (dy.dtype == engine::DType::Float64) {
    std::vector<double> s;
    return avg_pool_grad<double>(ctx, w, ch, contiguous_data<double>(dy, s), dx.as<double>());
  }
  std::vector<float> s;
  avg_pool_grad<float>(ctx, w, ch, contiguous_data<float>(dy, s), dx.as<float>());
}

}  // namespace

void register_pool(kernels::KernelRegistry& registry) {
  registry.register_kernel("maxPool", engine::Device::CPU, max_pool_cpu);
  registry.register_kernel("maxPoolGrad", engine::Device::CPU, max_pool_grad_cpu);
  registry.register_kernel("avgPool", engine::Device::CPU, avg_pool_cpu);
  registry.register_kernel("avgPoolGrad", engine::Device::CPU, avg_pool_grad_cpu);
}

}  // namespace keras::cpu
