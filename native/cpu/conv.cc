// CPU convolutions, channels_last over 1-3 spatial dims (viewed as 3, like the
// js kernels), float32 and float64.
//
// Forward and input-gradient run one indirect GEMM (conv_kernels.h): output
// pixels are the GEMM rows and read the input through per-tap pointers, so no
// im2col copy is made. The input gradient is written as the transposed
// convolution (a gather over dy for every dx pixel), which needs no scatter-add
// and so splits over threads freely. The filter gradient is im2col^T x dy through
// the packed GEMM, per thread on chunks of output rows, summed at the end.
// Depthwise convolutions (one input and one output channel per group) use direct
// loops vectorized over channels instead of GEMMs of width 1; their filter gradient
// keeps every tap's sums in registers over runs of rows (conv_kernels.h). First layers (a few
// channels a tap) read the pixels whose windows lie inside the input at the window's
// fixed offsets, a row of output pixels at a time, in both the forward and the filter
// gradient: with 1-3 channels a tap, looking up taps and gathering patches cost more
// than the multiplies ([64,28,28,1] * [3,3,1,32], 1 thread: forward 3.0x, filter
// gradient 2.8x faster).
#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "../engine/allocator.h"
#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "gemm.h"
#include "isa.h"
#include "simd/streaming.h"
#include "workspace.h"

namespace keras::cpu {

using kernels::Attrs;
using kernels::KernelContext;
using kernels::OpError;
using kernels::TensorView;

Window make_window(int64_t n, const kernels::Shape& in_spatial, const kernels::Shape& out_spatial,
                   const std::vector<int64_t>& k, const std::vector<int64_t>& strides,
                   const std::vector<int64_t>& dilation, const std::vector<int64_t>& padding) {
  Window w;
  w.n = n;
  const size_t nsp = in_spatial.size(), lead = 3 - nsp;
  for (size_t i = 0; i < nsp; ++i) {
    w.in[lead + i] = in_spatial[i];
    w.out[lead + i] = out_spatial[i];
    w.k[lead + i] = k[i];
    w.s[lead + i] = strides[i];
    w.d[lead + i] = dilation[i];
    w.p[lead + i] = padding[2 * i];
  }
  for (int64_t kd = 0; kd < w.k[0]; ++kd) {
    for (int64_t kh = 0; kh < w.k[1]; ++kh) {
      for (int64_t kw = 0; kw < w.k[2]; ++kw) {
        w.offsets.push_back((kd * w.d[0] * w.in[1] + kh * w.d[1]) * w.in[2] + kw * w.d[2]);
        w.out_offsets.push_back((kd * w.d[0] * w.out[1] + kh * w.d[1]) * w.out[2] + kw * w.d[2]);
      }
    }
  }
  return w;
}

namespace {

// window_taps for output pixel (od, oh, ow). A window inside the input (almost every pixel)
// takes its taps as the first one plus w.offsets, with no bounds check per tap: those checks
// cost more than the arithmetic of a first layer (1-3 channels a tap); recomputing the
// offsets per pixel instead measured 1.1-1.5x the time of a [64,28,28,1] conv there.
int64_t window_taps_at(const Window& w, int64_t od, int64_t oh, int64_t ow, int64_t* in_pixel) {
  const int64_t id0 = od * w.s[0] - w.p[0], ih0 = oh * w.s[1] - w.p[1], iw0 = ow * w.s[2] - w.p[2];
  if (id0 >= 0 && id0 + (w.k[0] - 1) * w.d[0] < w.in[0] && ih0 >= 0 && ih0 + (w.k[1] - 1) * w.d[1] < w.in[1] &&
      iw0 >= 0 && iw0 + (w.k[2] - 1) * w.d[2] < w.in[2]) {
    const int64_t first = (id0 * w.in[1] + ih0) * w.in[2] + iw0, taps = w.taps();
    for (int64_t t = 0; t < taps; ++t) in_pixel[t] = first + w.offsets[size_t(t)];
    return taps;
  }
  int64_t valid = 0, t = 0;
  for (int64_t kd = 0; kd < w.k[0]; ++kd) {
    const int64_t id = id0 + kd * w.d[0];
    const bool in_d = id >= 0 && id < w.in[0];
    for (int64_t kh = 0; kh < w.k[1]; ++kh) {
      const int64_t ih = ih0 + kh * w.d[1];
      const bool in_h = in_d && ih >= 0 && ih < w.in[1];
      for (int64_t kw = 0; kw < w.k[2]; ++kw, ++t) {
        const int64_t iw = iw0 + kw * w.d[2];
        if (in_h && iw >= 0 && iw < w.in[2]) {
          in_pixel[t] = (id * w.in[1] + ih) * w.in[2] + iw;
          ++valid;
        } else {
          in_pixel[t] = -1;
        }
      }
    }
  }
  return valid;
}

}  // namespace

int64_t window_taps(const Window& w, int64_t q, int64_t* in_pixel) {
  return window_taps_at(w, q / (w.out[2] * w.out[1]), q / w.out[2] % w.out[1], q % w.out[2], in_pixel);
}

namespace {

// The output coordinate that reads input coordinate i through tap k, or -1.
inline int64_t transposed_coord(int64_t i, int64_t k, int64_t s, int64_t d, int64_t p, int64_t out) {
  const int64_t num = i + p - k * d;
  if (num < 0) return -1;
  // Stride 1 skips the divisions: this runs for every (row, tap) of the input gradient.
  if (s == 1) return num < out ? num : -1;
  if (num % s != 0) return -1;
  const int64_t o = num / s;
  return o < out ? o : -1;
}


// For input pixel (id, ih, iw) of one image: for every tap, the output pixel that
// reads it through that tap, or -1 when none does (padding, or a stride skips it).
int64_t window_taps_transposed_at(const Window& w, int64_t id, int64_t ih, int64_t iw, int64_t* out_pixel) {
  // Stride 1 and every tap inside the output (most pixels): the first tap's pixel less
  // w.out_offsets, as window_taps_at does for a window inside the input.
  if (w.s[0] == 1 && w.s[1] == 1 && w.s[2] == 1) {
    const int64_t od = id + w.p[0], oh = ih + w.p[1], ow = iw + w.p[2];
    if (od < w.out[0] && od - (w.k[0] - 1) * w.d[0] >= 0 && oh < w.out[1] && oh - (w.k[1] - 1) * w.d[1] >= 0 &&
        ow < w.out[2] && ow - (w.k[2] - 1) * w.d[2] >= 0) {
      const int64_t first = (od * w.out[1] + oh) * w.out[2] + ow, taps = w.taps();
      for (int64_t t = 0; t < taps; ++t) out_pixel[t] = first - w.out_offsets[size_t(t)];
      return taps;
    }
  }
  int64_t valid = 0, t = 0;
  for (int64_t kd = 0; kd < w.k[0]; ++kd) {
    const int64_t od = transposed_coord(id, kd, w.s[0], w.d[0], w.p[0], w.out[0]);
    for (int64_t kh = 0; kh < w.k[1]; ++kh) {
      const int64_t oh = od < 0 ? -1 : transposed_coord(ih, kh, w.s[1], w.d[1], w.p[1], w.out[1]);
      for (int64_t kw = 0; kw < w.k[2]; ++kw, ++t) {
        const int64_t ow = oh < 0 ? -1 : transposed_coord(iw, kw, w.s[2], w.d[2], w.p[2], w.out[2]);
        if (ow >= 0) {
          out_pixel[t] = (od * w.out[1] + oh) * w.out[2] + ow;
          ++valid;
        } else {
          out_pixel[t] = -1;
        }
      }
    }
  }
  return valid;
}

// Coordinates (n, d, h, w) of consecutive flat pixel indices over dims `dims`,
// stepped without dividing when the next index follows the last.
struct PixelCursor {
  const int64_t* dims;
  int64_t last = -2, n = 0, d = 0, h = 0, w = 0;
  void seek(int64_t index) {
    if (index == last + 1) {
      if (++w == dims[2]) {
        w = 0;
        if (++h == dims[1]) {
          h = 0;
          if (++d == dims[0]) {
            d = 0;
            ++n;
          }
        }
      }
    } else {
      const int64_t per = dims[0] * dims[1] * dims[2];
      n = index / per;
      const int64_t q = index % per;
      d = q / (dims[1] * dims[2]);
      h = q / dims[2] % dims[1];
      w = q % dims[2];
    }
    last = index;
  }
};

// The output pixels of window row `row` (the flat index of (n, od, oh)) whose windows lie
// inside the input: ow in [lo, hi), empty when the row's d or h taps leave it. `first`: the
// input pixel (batch included) of ow = lo's first tap; ow + 1 moves it by the stride s[2].
struct InteriorRun {
  int64_t lo = 0, hi = 0, first = 0;
};

InteriorRun interior_run(const Window& w, int64_t row) {
  const int64_t oh = row % w.out[1], od = row / w.out[1] % w.out[0], n = row / (w.out[1] * w.out[0]);
  const int64_t id0 = od * w.s[0] - w.p[0], ih0 = oh * w.s[1] - w.p[1];
  if (id0 < 0 || id0 + (w.k[0] - 1) * w.d[0] >= w.in[0] || ih0 < 0 || ih0 + (w.k[1] - 1) * w.d[1] >= w.in[1]) return {};
  // ow * s - p >= 0 and ow * s - p + (k - 1) d <= in - 1.
  const int64_t s = w.s[2], p = w.p[2], last = w.in[2] - 1 - (w.k[2] - 1) * w.d[2] + p;
  const int64_t lo = p <= 0 ? 0 : (p + s - 1) / s;
  const int64_t hi = last < 0 ? 0 : std::min(w.out[2], last / s + 1);
  if (hi <= lo) return {};
  return {lo, hi, n * w.in_pixels() + (id0 * w.in[1] + ih0) * w.in[2] + lo * s - p};
}

}  // namespace

const ConvIsaTable& conv_kernels() { return for_active_isa(kConvAvx512, kConvAvx2, kConvPortable); }

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct ConvParams {
  Window win;
  int64_t cin = 0, cout = 0, groups = 1;
  int64_t cin_g() const { return cin / groups; }
  int64_t cout_g() const { return cout / groups; }
};

// The conv attrs over the given geometry: x spatial `in`, y spatial `out`, kernel spatial `k`.
ConvParams conv_params(const char* op, const Attrs& attrs, int64_t n, const kernels::Shape& in,
                       const kernels::Shape& out, const kernels::Shape& k, int64_t cin, int64_t cout) {
  const size_t nsp = in.size();
  const auto strides = attrs.get_ints(op, "strides", std::vector<int64_t>(nsp, 1));
  const auto dilation = attrs.get_ints(op, "dilation", std::vector<int64_t>(nsp, 1));
  const auto padding = attrs.get_ints(op, "padding", std::vector<int64_t>(2 * nsp, 0));
  ConvParams c;
  c.win = make_window(n, in, out, std::vector<int64_t>(k.begin(), k.end()), strides, dilation, padding);
  c.cin = cin;
  c.cout = cout;
  c.groups = attrs.get_int(op, "groups", 1);
  return c;
}

// Threads for a job of `flops`: one per ~1 MFLOP at least, so small convs stay on the caller.
int chunk_grain(int64_t items, double flops_per_item) {
  const double per = std::max(1.0, flops_per_item);
  return int(std::max<int64_t>(1, std::min<int64_t>(items, int64_t(1e6 / per))));
}

// Below a few channels per tap the kernel's per-tap pointer reloads dominate: run_igemm
// gathers such patches instead (first layers: 3 input channels), padding as zeros.
bool gathers_patches(int64_t ntaps, int64_t red) { return red < 8 && ntaps > 1 && ntaps * red <= 4096; }

// Runs the indirect GEMM over `rows` GEMM rows. `locate(rows, count, pix)` fills,
// for each listed row i and tap t, pix[i*taps + t] with the pixel base pointer
// (channel 0 of that pixel) or null for padding.
// Group g reads channels [g*red, (g+1)*red) of those pixels and writes columns
// [g*cols, (g+1)*cols) of out (row stride ldc). packed: [groups][panels][taps][red][NR].
// `order`, when given, lists the rows in the order they are grouped into tiles
// (rows that share their valid taps together); tiles of rows not evenly spaced
// are computed aside and copied out.
template <class T, class Locate>
void run_igemm(const KernelContext& ctx, int64_t rows, int64_t ntaps, int64_t red, int64_t cols, int64_t groups,
               const T* packed, T* out, int64_t ldc, const Locate& locate, const int64_t* order = nullptr) {
  const IgemmKernel<T>& kernel = igemm_kernel<T>(conv_kernels());
  const int mr = kernel.mr;
  const int64_t nr = kernel.nr, panels = ceil_div(cols, nr);
  Scratch<T> zeros(std::max<int64_t>(red, 1), true);
  const int64_t tiles = ceil_div(rows, mr);
  const double tile_flops = 2.0 * double(mr) * double(ntaps * red) * double(panels * nr * groups);
  const int64_t patch = ntaps * red;
  const bool gather = gathers_patches(ntaps, red);
  engine::thread_pool().parallel_for(tiles, chunk_grain(tiles, tile_flops), [&](int64_t begin, int64_t end) {
    std::vector<const T*> pix(size_t(mr * ntaps)), ind(size_t(mr * std::max<int64_t>(ntaps, 1)));
    std::vector<const T*> wp(size_t(std::max<int64_t>(ntaps, 1)));
    std::vector<int64_t> tap_of(size_t(std::max<int64_t>(ntaps, 1)));
    int64_t row_of[32];
    std::vector<T> patches(gather ? size_t(mr * patch) : 0);
    alignas(64) T tile_out[16 * 64];  // >= MR x NR of every table entry
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t t0 = tile * mr, nrows = std::min<int64_t>(mr, rows - t0);
      for (int64_t i = 0; i < nrows; ++i) row_of[i] = order ? order[t0 + i] : t0 + i;
      // Rows evenly spaced (consecutive, or one phase of a strided input gradient: every
      // s-th pixel of an image row) are written in place with a row stride of step * ldc.
      const int64_t step = nrows > 1 ? row_of[1] - row_of[0] : 1;
      bool evenly_spaced = step > 0;
      for (int64_t i = 2; i < nrows; ++i) evenly_spaced &= row_of[i] == row_of[0] + i * step;
      const int64_t r0 = row_of[0];
      locate(row_of, nrows, pix.data());
      std::fill(pix.begin() + nrows * ntaps, pix.end(), nullptr);
      for (int64_t g = 0; g < groups; ++g) {
        // The tile's taps (tap_of) over `depth` reduction values each, ind[q*mr + i]
        // pointing at row i's values for tap q.
        int64_t nt = 0, depth = red;
        if (gather) {
          // Few channels per tap: copy the tile's patches into one contiguous
          // row each (zeros for padding) and run them as a single long tap.
          for (int64_t i = 0; i < mr; ++i) {
            T* dst = patches.data() + i * patch;
            for (int64_t t = 0; t < ntaps; ++t) {
              const T* p = pix[size_t(i * ntaps + t)];
              // A fixed trip count (red < 8): unrolled moves instead of a memcpy call per tap.
              const T* src = p ? p + g * red : nullptr;
              T* to = dst + t * red;
              if (red == 1) {  // one channel (a grey image): a single move
                to[0] = src ? src[0] : T(0);
                continue;
              }
#pragma GCC unroll 8
              for (int64_t r = 0; r < 8; ++r) {
                if (r < red) to[r] = src ? src[r] : T(0);
              }
            }
            ind[size_t(i)] = dst;
          }
          tap_of[0] = 0;
          nt = 1;
          depth = patch;
        } else {
          // Taps every row of the tile reads as padding are dropped.
          for (int64_t t = 0; t < ntaps; ++t) {
            bool any = false;
            for (int64_t i = 0; i < mr; ++i) {
              const T* p = pix[size_t(i * ntaps + t)];
              ind[size_t(nt * mr + i)] = p ? p + g * red : zeros.get();
              any |= p != nullptr;
            }
            if (any) tap_of[size_t(nt++)] = t;
          }
        }
        for (int64_t j = 0; j < panels; ++j) {
          const T* panel = packed + (g * panels + j) * ntaps * red * nr;
          for (int64_t q = 0; q < nt; ++q) wp[size_t(q)] = panel + tap_of[size_t(q)] * depth * nr;
          const int64_t ncols = std::min<int64_t>(nr, cols - j * nr);
          if (evenly_spaced) {
            kernel.run(nt, depth, ind.data(), wp.data(), out + r0 * ldc + g * cols + j * nr, step * ldc, nrows, ncols);
            continue;
          }
          kernel.run(nt, depth, ind.data(), wp.data(), tile_out, nr, mr, nr);
          for (int64_t i = 0; i < nrows; ++i) {
            std::copy_n(tile_out + i * nr, ncols, out + row_of[i] * ldc + g * cols + j * nr);
          }
        }
      }
    }
  }, ctx.max_threads);
}

// Whether a convolution's GEMM columns (cout for the forward, cin for the input gradient)
// are so few that run_dots beats the indirect GEMM, whose tiles are NR columns wide
// whatever cols is (a 1-channel input gradient spent 31 of 32 FMAs on padding).
template <class T>
bool few_columns(int64_t cols) {
  return cols * 4 <= igemm_kernel<T>(conv_kernels()).nr;
}

// run_igemm's product for few columns: each output value is one dot product over its
// row's taps (row_ops().dot_sum, vectorized along the `red` values of a tap), with the
// weights of one (column, tap) contiguous. Same `locate` and weight(t, r, g, col).
template <class T, class Locate, class Weight>
void run_dots(const KernelContext& ctx, int64_t rows, int64_t ntaps, int64_t red, int64_t cols, int64_t groups,
              const Weight& weight, T* out, int64_t ldc, const Locate& locate) {
  const RowOps<T>& ops = row_ops<T>(conv_kernels());
  Scratch<T> by_column(groups * cols * ntaps * red);
  T* wt = by_column.get();
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t col = 0; col < cols; ++col) {
      for (int64_t t = 0; t < ntaps; ++t) {
        for (int64_t r = 0; r < red; ++r) *wt++ = weight(t, r, g, col);
      }
    }
  }
  constexpr int64_t kRowsPerLocate = 32;
  const double row_flops = 2.0 * double(ntaps * red * cols * groups);
  engine::thread_pool().parallel_for(rows, chunk_grain(rows, row_flops), [&](int64_t begin, int64_t end) {
    std::vector<const T*> pix(static_cast<size_t>(kRowsPerLocate * ntaps)), a(static_cast<size_t>(ntaps)),
        w(static_cast<size_t>(ntaps));
    std::vector<int64_t> taps(static_cast<size_t>(ntaps));
    int64_t row_ids[kRowsPerLocate];
    for (int64_t r0 = begin; r0 < end; r0 += kRowsPerLocate) {
      const int64_t n = std::min(kRowsPerLocate, end - r0);
      for (int64_t i = 0; i < n; ++i) row_ids[i] = r0 + i;
      locate(row_ids, n, pix.data());
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t g = 0; g < groups; ++g) {
          int64_t count = 0;
          for (int64_t t = 0; t < ntaps; ++t) {
            const T* p = pix[size_t(i * ntaps + t)];
            if (!p) continue;
            a[size_t(count)] = p + g * red;
            taps[size_t(count++)] = t;
          }
          for (int64_t col = 0; col < cols; ++col) {
            const T* column = by_column.get() + (g * cols + col) * ntaps * red;
            for (int64_t q = 0; q < count; ++q) w[size_t(q)] = column + taps[size_t(q)] * red;
            out[(r0 + i) * ldc + g * cols + col] = ops.dot_sum(a.data(), w.data(), count, red);
          }
        }
      }
    }
  }, ctx.max_threads);
}

// packed[g][panel][t][r][jj] = weight(t, r, g, panel*NR + jj), zero past `cols`.
template <class T, class Weight>
void pack_weights(int64_t nr, int64_t ntaps, int64_t red, int64_t cols, int64_t groups, T* packed,
                  const Weight& weight) {
  const int64_t panels = ceil_div(cols, nr);
  T* dst = packed;
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t j = 0; j < panels; ++j) {
      for (int64_t t = 0; t < ntaps; ++t) {
        for (int64_t r = 0; r < red; ++r, dst += nr) {
          for (int64_t jj = 0; jj < nr; ++jj) {
            const int64_t col = j * nr + jj;
            dst[jj] = col < cols ? weight(t, r, g, col) : T(0);
          }
        }
      }
    }
  }
}

bool is_depthwise(const ConvParams& c) { return c.groups > 1 && c.cin_g() == 1 && c.cout_g() == 1; }

// A 1x1 window with stride 1 and no padding in one group: each result pixel is its source
// pixel times the weights, so the whole convolution is one matrix product over all pixels,
// which the packed GEMM runs nearer peak than the indirect GEMM's one-tap tiles
// ([32,28,28,128] 1x1 -> 256: 10.0 -> 9.2 ms on 1 thread as a matmul).
bool is_pointwise(const ConvParams& c) {
  const Window& w = c.win;
  for (int j = 0; j < 3; ++j) {
    if (w.k[j] != 1 || w.s[j] != 1 || w.p[j] != 0 || w.in[j] != w.out[j]) return false;
  }
  return c.groups == 1;
}

// c[m, n] (row-major) = a x b by the packed GEMM on at most `threads` threads: element (i, p)
// of a at a[i * a_rows + p * a_cols], element (p, j) of b at b[p * b_rows + j * b_cols].
template <class T>
void matrix_product(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_rows, int64_t a_cols, const T* b,
                    int64_t b_rows, int64_t b_cols, T* c, int threads) {
  GemmBatch<T> g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.a_row_stride = a_rows;
  g.a_col_stride = a_cols;
  g.b = b;
  g.b_row_stride = b_rows;
  g.b_col_stride = b_cols;
  g.c = c;
  g.c_row_stride = n;
  gemm<T>(g, threads);
}

// ---------------------------------------------------------------- forward and input gradient

// The forward and the input gradient are the same gather: each row, a pixel of
// the result, sums the source pixels its taps reach times those taps' weights.
// The forward reads x through the window (rows: output pixels); the input
// gradient reads dy through the transposed window (rows: input pixels).
struct GatherSweep {
  const Window& win;
  bool transposed;
  const int64_t* row_dims() const { return transposed ? win.in : win.out; }
  int64_t row_pixels() const { return transposed ? win.in_pixels() : win.out_pixels(); }
  int64_t source_pixels() const { return transposed ? win.out_pixels() : win.in_pixels(); }
  // The source pixel of every tap of the row pixel at (d, h, w) of one image, or -1.
  void taps_at(int64_t d, int64_t h, int64_t w, int64_t* pixel) const {
    if (transposed) {
      window_taps_transposed_at(win, d, h, w, pixel);
    } else {
      window_taps_at(win, d, h, w, pixel);
    }
  }
};

// The rows of a sweep grouped by the taps that reach inside the source, in run_igemm's
// `order`: it drops a tap only when every row of a tile reads it as padding, so tiles of
// rows in natural order multiplied zeros for every edge pixel among them (a 3x3 input
// gradient of a 13x13 image: 40% of its products). Per dim, coordinates with the same
// valid taps form a class; rows are listed class by class (a class of d, h and w), the
// classes with the most taps first, then by image and position, over blocks of images whose
// rows and sources (row_channels and source_channels of T a pixel) fill at most half of L2:
// a class spans every image of
// its block, and each block's lines are written while they are still cached (over the whole
// batch, a stride-2 input gradient of [32,56,56,64] fetched every line of dx once per class:
// 25.0 -> 21.7 ms). The threads claim tiles in that order, so within a block the cheap tiles
// come last and even out the threads' ends (the other way round, a 'same' 32x32 input
// gradient ran 8% slower). Empty (natural order) unless
// grouping saves at least an eighth of the products: the tiles of the largest class still
// cross its runs of rows, computed aside and copied out, and a 'same' 32x32 forward (4% of
// its products on padding) ran 0-3% slower grouped.
template <class T>
std::vector<int64_t> rows_by_taps(const GatherSweep& sweep, int64_t row_channels, int64_t source_channels) {
  const Window& w = sweep.win;
  const int64_t* dims = sweep.row_dims();
  std::vector<std::vector<int64_t>> members[3];  // [dim][class] -> coordinates
  std::vector<int64_t> taps[3];                  // [dim][class] -> valid taps along dim
  bool grouped = false;
  for (int j = 0; j < 3; ++j) {
    std::map<std::vector<bool>, size_t> class_of;
    for (int64_t c = 0; c < dims[j]; ++c) {
      // Tap k of row coordinate c reaches the source (x for the forward, dy for the input gradient).
      auto reaches = [&](int64_t k) {
        if (sweep.transposed) return transposed_coord(c, k, w.s[j], w.d[j], w.p[j], w.out[j]) >= 0;
        const int64_t i = c * w.s[j] - w.p[j] + k * w.d[j];
        return i >= 0 && i < w.in[j];
      };
      std::vector<bool> valid(size_t(w.k[j]));
      for (int64_t k = 0; k < w.k[j]; ++k) valid[size_t(k)] = reaches(k);
      const int64_t count = std::count(valid.begin(), valid.end(), true);
      const auto [at, added] = class_of.emplace(std::move(valid), members[j].size());
      if (added) {
        members[j].emplace_back();
        taps[j].push_back(count);
      }
      members[j][at->second].push_back(c);
    }
    grouped |= members[j].size() > 1;
  }
  std::vector<int64_t> order;
  if (!grouped) return order;
  int64_t products = 0;  // tap products of one image's rows, of every tap
  for (int j = 0; j < 3; ++j) {
    int64_t sum = 0;
    for (size_t c = 0; c < members[j].size(); ++c) sum += int64_t(members[j][c].size()) * taps[j][c];
    products = j == 0 ? sum : products * sum;
  }
  if (products * 8 > 7 * sweep.row_pixels() * w.taps()) return order;
  struct Class {
    size_t d, h, w;
    int64_t taps;
  };
  std::vector<Class> classes;
  for (size_t d = 0; d < members[0].size(); ++d) {
    for (size_t h = 0; h < members[1].size(); ++h) {
      for (size_t x = 0; x < members[2].size(); ++x) classes.push_back({d, h, x, taps[0][d] * taps[1][h] * taps[2][x]});
    }
  }
  std::stable_sort(classes.begin(), classes.end(), [](const Class& a, const Class& b) { return a.taps > b.taps; });
  const int64_t per_image = sweep.row_pixels();
  const int64_t image_bytes =
      (per_image * row_channels + sweep.source_pixels() * source_channels) * int64_t(sizeof(T));
  const int64_t block = std::max<int64_t>(1, engine::cpu_info().l2_bytes / 2 / std::max<int64_t>(image_bytes, 1));
  order.reserve(size_t(w.n * per_image));
  for (int64_t n0 = 0; n0 < w.n; n0 += block) {
    for (const Class& c : classes) {
      for (int64_t n = n0; n < std::min(w.n, n0 + block); ++n) {
        for (const int64_t d : members[0][c.d]) {
          for (const int64_t h : members[1][c.h]) {
            const int64_t base = n * per_image + (d * dims[1] + h) * dims[2];
            for (const int64_t x : members[2][c.w]) order.push_back(base + x);
          }
        }
      }
    }
  }
  return order;
}

// Depthwise (one channel per group): dst[r] = sum over the taps t reaching row r
// of src[pixel(r, t)] * w[t], elementwise over the `ch` channels. With stride and dilation 1
// (1-D or 2-D; the forward and the input gradient), the pixels of a row whose windows lie
// inside the source's columns go through depthwise_run over their window rows inside it (each
// source pixel loaded once for all the results it reaches); the others, and every other
// sweep, pixel by pixel over their taps.
template <class T>
void depthwise_gather(const KernelContext& ctx, const GatherSweep& sweep, const T* src, const T* w, T* dst,
                      int64_t ch) {
  const RowOps<T>& ops = row_ops<T>(conv_kernels());
  const Window& win = sweep.win;
  const int64_t taps = win.taps(), rows = win.n * sweep.row_pixels();
  // A thread's taps of one pixel: their source pixels, then the pairs dot_rows sums.
  struct PixelTaps {
    std::vector<int64_t> pix;
    std::vector<const T*> pa, pb;
  };
  auto pixel_taps = [taps] { return PixelTaps{std::vector<int64_t>(size_t(taps)), std::vector<const T*>(size_t(taps)),
                                              std::vector<const T*>(size_t(taps))}; };
  auto pixels = [&](int64_t b, int64_t e, PixelTaps& scratch) {
    std::vector<int64_t>& pix = scratch.pix;
    std::vector<const T*>&pa = scratch.pa, &pb = scratch.pb;
    PixelCursor at{sweep.row_dims()};
    for (int64_t r = b; r < e; ++r) {
      at.seek(r);
      sweep.taps_at(at.d, at.h, at.w, pix.data());
      const T* image = src + at.n * sweep.source_pixels() * ch;
      int64_t count = 0;
      for (int64_t t = 0; t < taps; ++t) {
        if (pix[size_t(t)] < 0) continue;
        pa[size_t(count)] = image + pix[size_t(t)] * ch;
        pb[size_t(count++)] = w + t * ch;
      }
      ops.dot_rows(dst + r * ch, false, count, pa.data(), pb.data(), ch);
    }
  };
  const bool runs = win.k[0] == 1 && win.in[0] == 1 && win.out[0] == 1 && win.p[0] == 0 && win.s[1] == 1 &&
                    win.s[2] == 1 && win.d[1] == 1 && win.d[2] == 1 && ch % ops.lanes == 0 &&
                    (win.k[2] == 3 || win.k[2] == 5 || win.k[2] == 7);
  if (!runs) {
    engine::thread_pool().parallel_for(rows, chunk_grain(rows, 2.0 * double(taps * ch)), [&](int64_t b, int64_t e) {
      PixelTaps scratch = pixel_taps();
      pixels(b, e, scratch);
    }, ctx.max_threads);
    return;
  }
  // Rows of the result (h, w) and of the source it reads (sh, sw); the window of a result pixel
  // starts at source pixel (h, w) - pad forward, (h, w) + pad - (k - 1) in the input gradient,
  // whose taps read it backwards: there the kernel runs over flipped weights, summing each
  // window in the source's order, the reverse of the pixel-by-pixel path's (the last bits can
  // differ; the reverse order in the kernel, reading the source backwards, ran 10-25% slower).
  const bool back = sweep.transposed;
  const int64_t* dims = sweep.row_dims();
  const int64_t* source = back ? win.out : win.in;
  const int64_t rh = dims[1], rw = dims[2], sh = source[1], sw = source[2];
  const int64_t kh = win.k[1], kw = win.k[2];
  const int64_t shift_h = back ? win.p[1] - (kh - 1) : -win.p[1], shift_w = back ? win.p[2] - (kw - 1) : -win.p[2];
  std::vector<T> flipped(back ? size_t(taps * ch) : 0);
  for (int64_t t = 0; back && t < taps; ++t) std::copy_n(w + (taps - 1 - t) * ch, ch, flipped.data() + t * ch);
  const T* weights = back ? flipped.data() : w;
  // Result columns whose windows lie inside the source's columns.
  const int64_t lo = std::clamp<int64_t>(-shift_w, 0, rw), hi = std::clamp<int64_t>(sw - kw - shift_w + 1, lo, rw);
  const int64_t pixel_rows = win.n * rh;
  // Source and result past the last-level cache together: the result is written around the
  // caches (no read for ownership; what the next op reads first would be gone from them by the
  // time this one ends). [32,56,56,64] 3x3, 25.7 MB each: 2.72 -> 2.15-2.57 ms.
  const bool stream = engine::past_last_level_cache((win.n * sh * sw + rows) * ch * int64_t(sizeof(T))) &&
                      reinterpret_cast<uintptr_t>(dst) % (size_t(ops.lanes) * sizeof(T)) == 0;
  engine::thread_pool().parallel_for(pixel_rows, chunk_grain(pixel_rows, 2.0 * double(taps * ch * rw)),
                                     [&](int64_t b, int64_t e) {
    PixelTaps scratch = pixel_taps();
    for (int64_t pr = b; pr < e; ++pr) {
      const int64_t n = pr / rh, h = pr - n * rh, first = pr * rw;
      // The window rows inside the source (a row at the top or bottom edge has fewer).
      const int64_t top = h + shift_h, r0 = std::max<int64_t>(0, -top), r1 = std::min(kh, sh - top);
      if (r1 <= r0 || hi == lo) {
        pixels(first, first + rw, scratch);
        continue;
      }
      pixels(first, first + lo, scratch);
      const T* x = src + ((n * sh + top + r0) * sw + (lo + shift_w)) * ch;
      T* y = dst + (first + lo) * ch;
      const int64_t done =
          ops.depthwise_run(int(kw), r1 - r0, x, sw * ch, weights + r0 * kw * ch, y, ch, hi - lo, stream);
      pixels(first + lo + done, first + rw, scratch);
    }
    if (stream) stream_fence();
  }, ctx.max_threads);
}

// Entries of a gather locator's tap table at most (int32 each): past this the rows' taps
// are computed row by row (an image's worth of taps per row of it, 4 MiB).
constexpr int64_t kMaxTapTable = int64_t(1) << 20;

// The source pixel of every tap of every row pixel of one image ([row pixel][tap], -1 for
// padding): the same for every image, so listed once per call. Empty past kMaxTapTable
// entries or 64 taps (the rows' taps are then computed row by row).
std::vector<int32_t> image_tap_table(const GatherSweep& sweep) {
  const int64_t taps = sweep.win.taps(), per_image = sweep.row_pixels();
  std::vector<int32_t> table;
  if (per_image * taps <= kMaxTapTable && taps <= 64) {
    table.resize(size_t(per_image * taps));
    PixelCursor at{sweep.row_dims()};
    int64_t pix[64];
    for (int64_t q = 0; q < per_image; ++q) {
      at.seek(q);
      sweep.taps_at(at.d, at.h, at.w, pix);
      for (int64_t t = 0; t < taps; ++t) table[size_t(q * taps + t)] = int32_t(pix[t]);
    }
  }
  return table;
}

// run_igemm's `locate` for a sweep over `src` (channels per pixel: src_channels), from the
// image's tap table: computed per row, the coordinates' divisions and the taps' bounds were ~3%
// of a small CNN's train step.
template <class T>
auto gather_locator(const GatherSweep& sweep, const T* src, int64_t src_channels) {
  const int64_t taps = sweep.win.taps(), per_image = sweep.row_pixels();
  std::vector<int32_t> table = image_tap_table(sweep);
  return [&sweep, src, src_channels, taps, per_image, table = std::move(table)](const int64_t* rows, int64_t count,
                                                                                  const T** out) {
    const int64_t image_stride = sweep.source_pixels() * src_channels;
    if (!table.empty()) {
      for (int64_t i = 0; i < count; ++i, out += taps) {
        const int64_t n = rows[i] / per_image;
        const int32_t* p = table.data() + (rows[i] - n * per_image) * taps;
        const T* image = src + n * image_stride;
        for (int64_t t = 0; t < taps; ++t) out[t] = p[t] < 0 ? nullptr : image + p[t] * src_channels;
      }
      return;
    }
    int64_t pix[64];
    std::vector<int64_t> heap;
    int64_t* p = pix;
    if (taps > 64) {
      heap.resize(size_t(taps));
      p = heap.data();
    }
    PixelCursor at{sweep.row_dims()};
    for (int64_t i = 0; i < count; ++i, out += taps) {
      at.seek(rows[i]);
      sweep.taps_at(at.d, at.h, at.w, p);
      const T* image = src + at.n * image_stride;
      for (int64_t t = 0; t < taps; ++t) out[t] = p[t] < 0 ? nullptr : image + p[t] * src_channels;
    }
  };
}

// The fraction of output pixels whose windows lie wholly inside the input.
double inside_fraction(const Window& w) {
  double fraction = 1;
  for (int j = 0; j < 3; ++j) {
    int64_t inside = 0;
    for (int64_t o = 0; o < w.out[j]; ++o) {
      const int64_t first = o * w.s[j] - w.p[j];
      inside += first >= 0 && first + (w.k[j] - 1) * w.d[j] < w.in[j];
    }
    fraction *= w.out[j] > 0 ? double(inside) / double(w.out[j]) : 1.0;
  }
  return fraction;
}

// Output pixel m's patch (batch included) into row: every tap's `red` channels of x from
// channel `first` on (x has cin channels a pixel), zeros for padding, taps in order. `at` and
// `pix` (taps entries) are the caller's scratch.
template <class T>
void patch_row(const Window& win, const T* x, int64_t cin, int64_t first, int64_t red, int64_t m, PixelCursor& at,
               int64_t* pix, T* row) {
  at.seek(m);
  window_taps_at(win, at.d, at.h, at.w, pix);
  const T* image = x + at.n * win.in_pixels() * cin + first;
  for (int64_t t = 0; t < win.taps(); ++t) {
    const int64_t p = pix[t];
    if (red == 1) {  // one channel: a move, not a memcpy call
      row[t] = p >= 0 ? image[p * cin] : T(0);
    } else if (p >= 0) {
      std::memcpy(row + t * red, image + p * cin, sizeof(T) * size_t(red));
    } else {
      std::fill_n(row + t * red, red, T(0));
    }
  }
}

// The patches of output pixels [m0, m0 + count) of one group's convolution: row m - m0 of dst
// is patch_row of all cin channels.
template <class T>
void gather_patches(const KernelContext& ctx, const Window& win, const T* x, int64_t cin, int64_t m0, int64_t count,
                    T* dst) {
  const int64_t kg = win.taps() * cin;
  engine::thread_pool().parallel_for(count, std::max<int64_t>(1, 16384 / kg), [&](int64_t b, int64_t e) {
    PixelCursor at{win.out};
    std::vector<int64_t> pix(static_cast<size_t>(win.taps()));
    for (int64_t m = m0 + b; m < m0 + e; ++m) patch_row(win, x, cin, 0, cin, m, at, pix.data(), dst + (m - m0) * kg);
  }, ctx.max_threads);
}

// Blocks of output pixels whose patches take at most 32 MB: calls block(m0, count, patches)
// with the block's patches gathered (one group's convolution).
template <class T, class Block>
void for_patch_blocks(const KernelContext& ctx, const Window& win, const T* x, int64_t cin, const Block& block) {
  const int64_t rows = win.n * win.out_pixels(), kg = win.taps() * cin;
  const int64_t size = std::max<int64_t>(1, std::min(rows, (int64_t(32) << 20) / (kg * int64_t(sizeof(T)))));
  Scratch<T> patches(size * kg);
  for (int64_t m0 = 0; m0 < rows; m0 += size) {
    const int64_t count = std::min(size, rows - m0);
    gather_patches<T>(ctx, win, x, cin, m0, count, patches.get());
    block(m0, count, patches.get());
  }
}

template <class T>
void conv_forward(const KernelContext& ctx, const ConvParams& c, const T* x, const T* w, T* y) {
  const GatherSweep sweep{c.win, false};
  if (is_depthwise(c)) return depthwise_gather<T>(ctx, sweep, x, w, y, c.cout);
  // y = x w over all pixels.
  if (is_pointwise(c)) {
    const int64_t pixels = c.win.n * c.win.in_pixels();
    return matrix_product<T>(pixels, c.cout, c.cin, x, c.cin, 1, w, c.cout, 1, y, ctx.max_threads);
  }
  const IgemmKernel<T>& kernel = igemm_kernel<T>(conv_kernels());
  const int64_t taps = c.win.taps(), red = c.cin_g(), cols = c.cout_g();
  const int64_t rows = c.win.n * c.win.out_pixels();
  const auto weight = [&](int64_t t, int64_t r, int64_t g, int64_t col) { return w[(t * red + r) * c.cout + g * cols + col]; };
  if (few_columns<T>(cols)) return run_dots<T>(ctx, rows, taps, red, cols, c.groups, weight, y, c.cout, gather_locator(sweep, x, c.cin));
  // Small images with weights past 6x L2 (7x7 pixels, 512 -> 512 channels 3x3: 9.4 MB): y =
  // patches w by the packed GEMM, block by block of rows, where the indirect GEMM fell to 55-75%
  // of the 2-thread peak ([16,7,7,512] -> 512: the GEMM 1.13-1.40x on 2 threads, 1.09x on 1;
  // neither its grouping of rows by taps nor dropping it changed that). With fewer edge rows the
  // indirect GEMM stays ahead ([32,14,14,512] -> 512, 27% of the rows: GEMM 0.89x), as with
  // smaller weights ([32,7,7,256] -> 512, 4.7 MB: 1.08x and 0.94x).
  if (c.groups == 1 && red >= 8 && taps * red * cols * int64_t(sizeof(T)) > 6 * engine::cpu_info().l2_bytes &&
      inside_fraction(c.win) < 0.6) {
    for_patch_blocks<T>(ctx, c.win, x, c.cin, [&](int64_t m0, int64_t count, const T* patches) {
      matrix_product<T>(count, cols, taps * red, patches, taps * red, 1, w, c.cout, 1, y + m0 * c.cout, ctx.max_threads);
    });
    return;
  }
  Scratch<T> packed(c.groups * ceil_div(cols, kernel.nr) * kernel.nr * taps * red);
  pack_weights<T>(kernel.nr, taps, red, cols, c.groups, packed.get(), weight);
  // Few channels a tap (first layers) in one group: the pixels inside the input run as window
  // rows, MR consecutive pixels a tile reading x at fixed offsets, with no per-row taps to look
  // up and no patches to gather ([64,28,28,1] * [3,3,1,32]: see the commit). The rest (padding,
  // rows shorter than a tile) go through the indirect GEMM as before.
  if (red < 8 && taps > 1 && c.groups == 1) {
    const Window& win = c.win;
    const int64_t mr = kernel.mr, nr = kernel.nr, panels = ceil_div(cols, nr), width = win.out[2];
    const int64_t window_rows = win.n * win.out[0] * win.out[1];
    std::vector<int64_t> tap_offsets(static_cast<size_t>(taps)), rest;
    for (int64_t t = 0; t < taps; ++t) tap_offsets[size_t(t)] = win.offsets[size_t(t)] * c.cin;
    for (int64_t r = 0; r < window_rows; ++r) {
      InteriorRun run = interior_run(win, r);
      if (run.hi - run.lo < mr) run = {};
      for (int64_t ow = 0; ow < width; ++ow) {
        if (ow < run.lo || ow >= run.hi) rest.push_back(r * width + ow);
      }
    }
    const double row_flops = 2.0 * double(width) * double(taps * red) * double(panels * nr);
    engine::thread_pool().parallel_for(window_rows, chunk_grain(window_rows, row_flops), [&](int64_t b, int64_t e) {
      std::vector<const T*> wp(static_cast<size_t>(taps));
      for (int64_t r = b; r < e; ++r) {
        const InteriorRun run = interior_run(win, r);
        if (run.hi - run.lo < mr) continue;
        for (int64_t j = 0; j < panels; ++j) {
          const T* panel = packed.get() + j * taps * red * nr;
          for (int64_t t = 0; t < taps; ++t) wp[size_t(t)] = panel + t * red * nr;
          const int64_t ncols = std::min<int64_t>(nr, cols - j * nr);
          // Tiles of MR pixels; the last one shifted back to end the run (it recomputes the
          // overlap, the same values, rather than a shorter tile).
          for (int64_t ow0 = run.lo; ow0 < run.hi; ow0 += mr) {
            const int64_t ow = std::min(ow0, run.hi - mr);
            const T* base = x + (run.first + (ow - run.lo) * win.s[2]) * c.cin;
            kernel.window_run(taps, red, base, win.s[2] * c.cin, tap_offsets.data(), wp.data(),
                              y + (r * width + ow) * c.cout + j * nr, c.cout, ncols);
          }
        }
      }
    }, ctx.max_threads);
    if (!rest.empty()) {
      run_igemm<T>(ctx, int64_t(rest.size()), taps, red, cols, c.groups, packed.get(), y, c.cout,
                   gather_locator(sweep, x, c.cin), rest.data());
    }
    return;
  }
  // Padding: pixels grouped by their taps inside x (see rows_by_taps); gathered patches hold
  // the padding's zeros whatever the order.
  const std::vector<int64_t> order =
      gathers_patches(taps, red) ? std::vector<int64_t>() : rows_by_taps<T>(sweep, c.cout, c.cin);
  run_igemm<T>(ctx, rows, taps, red, cols, c.groups, packed.get(), y, c.cout, gather_locator(sweep, x, c.cin),
               order.empty() ? nullptr : order.data());
}

template <class T>
void conv_input_grad(const KernelContext& ctx, const ConvParams& c, const T* dy, const T* w, T* dx) {
  const Window& win = c.win;
  const GatherSweep sweep{win, true};
  if (is_depthwise(c)) return depthwise_gather<T>(ctx, sweep, dy, w, dx, c.cout);
  // dx = dy w^T over all pixels: weight (co, ci) at w[ci * cout + co].
  if (is_pointwise(c)) {
    const int64_t pixels = c.win.n * c.win.in_pixels();
    return matrix_product<T>(pixels, c.cin, c.cout, dy, c.cout, 1, w, 1, c.cout, dx, ctx.max_threads);
  }
  // dx[i, g, ci] = sum over taps t and co of dy[o(i, t), g, co] * w[t, ci, g, co]:
  // reduction over co (cout_g per tap), columns ci.
  const IgemmKernel<T>& kernel = igemm_kernel<T>(conv_kernels());
  const int64_t taps = win.taps(), red = c.cout_g(), cols = c.cin_g();
  const int64_t in_pix = win.in_pixels(), rows = win.n * in_pix;
  const auto weight = [&](int64_t t, int64_t r, int64_t g, int64_t col) { return w[(t * cols + col) * c.cout + g * red + r]; };
  if (few_columns<T>(cols)) return run_dots<T>(ctx, rows, taps, red, cols, c.groups, weight, dx, c.cin, gather_locator(sweep, dy, c.cout));
  Scratch<T> packed(c.groups * ceil_div(cols, kernel.nr) * kernel.nr * taps * red);
  pack_weights<T>(kernel.nr, taps, red, cols, c.groups, packed.get(), weight);
  // Edge pixels, and with a stride each phase (position modulo the stride), are reached by
  // fewer taps: grouped so that tiles drop those taps instead of multiplying zeros.
  const std::vector<int64_t> order =
      gathers_patches(taps, red) ? std::vector<int64_t>() : rows_by_taps<T>(sweep, c.cin, c.cout);
  run_igemm<T>(ctx, rows, taps, red, cols, c.groups, packed.get(), dx, c.cin, gather_locator(sweep, dy, c.cout),
               order.empty() ? nullptr : order.data());
}

// ---------------------------------------------------------------- filter gradient

// The filter gradient's register tile for one convolution: nv vectors of columns,
// chosen so that tiles cover the columns with the least overhang (ties: wider).
template <class T>
struct OuterPlan {
  OuterFn<T> run = nullptr;
  WindowOuterFn<T> window_run = nullptr;
  int64_t mr = 0, nr = 0;
};

// No plan (run null) when the channels are narrower than one tile.
template <class T>
OuterPlan<T> outer_plan(const OuterKernels<T>& kernels, int64_t rows, int64_t cols) {
  int best = 0;
  int64_t best_cover = 0;
  for (int nv = 1; nv <= kernels.max_nv && nv * kernels.lanes <= cols; ++nv) {
    if (rows < kernels.mr[nv - 1]) continue;
    const int64_t nr = int64_t(nv) * kernels.lanes, cover = ceil_div(cols, nr) * nr;
    if (best_cover == 0 || cover <= best_cover) {
      best = nv;
      best_cover = cover;
    }
  }
  if (best == 0) return {};
  return {kernels.run[best - 1], kernels.window_run[best - 1], kernels.mr[best - 1], int64_t(best) * kernels.lanes};
}

// tile(i0, j0, first_row, first_col) for each register tile of the plan over rows x cols;
// edge tiles are shifted back inside the channels and skip (first_row, first_col) what
// their neighbour adds. Column blocks outer: a block's slice of b stays in L1 while every
// row block streams past it.
template <class T, class Tile>
void for_outer_tiles(const OuterPlan<T>& plan, int64_t rows, int64_t cols, const Tile& tile) {
  for (int64_t bj = 0; bj < ceil_div(cols, plan.nr); ++bj) {
    const int64_t j0 = std::min(bj * plan.nr, cols - plan.nr);
    for (int64_t bi = 0; bi < ceil_div(rows, plan.mr); ++bi) {
      const int64_t i0 = std::min(bi * plan.mr, rows - plan.mr);
      tile(i0, j0, bi * plan.mr - i0, bj * plan.nr - j0);
    }
  }
}

// dst[i, j] += sum over q < count of a[q][i] * b[q][j], for i < rows and j < cols
// (dst row stride ldd), tile by tile.
template <class T>
void add_outer_products(const OuterPlan<T>& plan, int64_t count, const T* const* a, int64_t rows, const T* const* b,
                        int64_t cols, T* dst, int64_t ldd) {
  for_outer_tiles(plan, rows, cols, [&](int64_t i0, int64_t j0, int64_t first_row, int64_t first_col) {
    plan.run(count, a, i0, b, j0, dst + i0 * ldd + j0, ldd, first_row, first_col);
  });
}

template <class T>
void conv_filter_grad(const KernelContext& ctx, const ConvParams& c, const T* x, const T* dy, T* dw) {
  const Window& win = c.win;
  const int64_t taps = win.taps(), in_pix = win.in_pixels(), out_pix = win.out_pixels();
  const int64_t rows = win.n * out_pix;
  const int64_t red = c.cin_g(), cols = c.cout_g(), kg = taps * red;
  const int64_t dw_size = taps * c.cin_g() * c.cout;
  engine::ThreadPool& pool = engine::thread_pool();
  const int threads = ctx.max_threads > 0 ? std::min(ctx.max_threads, pool.num_threads()) : pool.num_threads();
  // 1x1, stride 1, no padding, dw past half of L1: a slot's sums are one packed GEMM. The
  // outer-product tiles below reload dw's tiles every chunk of rows, and a chunk's pixels per
  // column block: [32,28,28,128] 1x1 ->256 7.2 -> 5.8 ms, 128 -> 256 channels ... 512 -> 128 by
  // 10-23%; with dw in L1 they win (32 -> 64 channels: 1.35 -> 1.45 ms as a GEMM).
  const engine::CpuInfo& cpu = engine::cpu_info();
  const int64_t dw_bytes = dw_size * int64_t(sizeof(T));
  const bool pointwise = is_pointwise(c) && dw_bytes > cpu.l1d_bytes / 2;
  const bool depthwise = is_depthwise(c);
  const OuterKernels<T>& outer = igemm_kernel<T>(conv_kernels()).outer;
  // Channels of at least one register tile: read x and dy in place; fewer, and a
  // tile would reach past a pixel's channels: im2col rows (all taps of a pixel).
  const OuterPlan<T> direct = depthwise ? OuterPlan<T>{} : outer_plan(outer, red, cols);
  const OuterPlan<T> merged = depthwise || direct.run ? OuterPlan<T>{} : outer_plan(outer, kg, cols);
  const bool im2col = !depthwise && !direct.run;
  // Few channels a tap in one group: pixels inside the input read x at fixed offsets.
  const bool windows = merged.run && c.groups == 1;
  // Where dw is past twice L2, one packed GEMM over patches gathered in memory: the row chunks
  // below give each slot partial sums of all of dw and read and write its tiles every chunk
  // ([32,7,7,256] -> 512, 4.7 MB of dw: 1.41x on 2 threads, 1.21x on 1; at 1.2 MB level with
  // them, below that slower).
  const bool patch_product = direct.run && !pointwise && c.groups == 1 && dw_bytes > 2 * cpu.l2_bytes;
  if (patch_product) {
    // dw = patches^T dy by the packed GEMM, threaded inside, block by block of rows (none for
    // an empty batch: an empty sum).
    if (rows == 0) std::fill_n(dw, dw_size, T(0));
    for_patch_blocks<T>(ctx, win, x, c.cin, [&](int64_t m0, int64_t count, const T* patches) {
      GemmBatch<T> gb;
      gb.m = kg;
      gb.n = cols;
      gb.k = count;
      gb.beta = m0 > 0 ? T(1) : T(0);
      gb.a = patches;
      gb.a_row_stride = 1;
      gb.a_col_stride = kg;
      gb.b = dy + m0 * c.cout;
      gb.b_row_stride = c.cout;
      gb.b_col_stride = 1;
      gb.c = dw;
      gb.c_row_stride = c.cout;
      gemm<T>(gb, threads);
    });
    return;
  }
  // Row chunks: a chunk's rows of one tap's pixels and of dy fit L1 per register-tile
  // column block (and an im2col chunk stays in L2): 128 rows, or, for the tiles over x and
  // dy in place, fewer where dy's rows would span over two thirds of L1. Rows 128 channels
  // apart fall in half of L1's sets, and 128 of them evicted each other ([32,28,28,64] -> 128
  // in 64-row chunks: 1.17x as fast on 2 threads, 1.22x at stride 2).
  const int64_t dy_row_bytes = c.cout * int64_t(sizeof(T));
  const int64_t chunk =
      direct.run && !pointwise ? std::clamp<int64_t>(cpu.l1d_bytes * 2 / 3 / dy_row_bytes / 16 * 16, 48, 128) : 128;
  const int64_t chunks = ceil_div(rows, chunk);
  const double flops = 2.0 * double(rows) * double(kg) * double(c.cout);
  // Slots are fixed row ranges with their own partial sums (the result does not
  // depend on which thread ran which); a few per thread balance a busy core.
  // Partial sums cost memory: at most ~64 MB of them (large filters use fewer slots).
  const int64_t memory_cap = std::max<int64_t>(1, (int64_t(64) << 20) / std::max<int64_t>(1, dw_bytes));
  const int64_t slots =
      std::max<int64_t>(1, std::min<int64_t>({int64_t(threads) * 4, chunks, int64_t(flops / 2e6) + 1, memory_cap}));
  // Slot 0 sums straight into dw, the others into partial sums in dw's layout
  // [taps, cin_g, cout], added to it at the end (in slot order, so the rounding
  // is the same on any thread count).
  Scratch<T> partial((slots - 1) * dw_size);
  // Each tap's pixel, and the patch's (tap, channel) entries, as element offsets from a pixel's first tap.
  std::vector<int64_t> tap_offsets(static_cast<size_t>(taps));
  for (int64_t t = 0; t < taps; ++t) tap_offsets[size_t(t)] = win.offsets[size_t(t)] * c.cin;
  std::vector<int64_t> patch_offsets(static_cast<size_t>(kg));
  for (int64_t t = 0; t < taps; ++t) {
    for (int64_t r = 0; r < red; ++r) patch_offsets[size_t(t * red + r)] = win.offsets[size_t(t)] * c.cin + r;
  }
  // The rows' taps from one image's table, as the forward's locator: computed per row, each
  // row paid a cursor's divisions and the taps' bounds.
  const std::vector<int32_t> image_taps = image_tap_table(GatherSweep{win, false});
  pool.parallel_for(slots, 1, [&](int64_t sb, int64_t se) {
    std::vector<int64_t> pix(static_cast<size_t>(taps));
    std::vector<T> col(im2col ? size_t(chunk * kg) : 0);
    std::vector<int64_t> table(im2col ? 0 : size_t(chunk * taps));
    std::vector<const T*> a_ptr(static_cast<size_t>(chunk)), b_ptr(static_cast<size_t>(chunk));
    std::vector<const T*> run_src(depthwise ? size_t(chunk * taps) : 0);  // a depthwise run's pixels, [row][tap]
    std::vector<int64_t> list(static_cast<size_t>(chunk));
    // table[(m - m0) * taps + t]: the input pixel (batch included) of row m's tap t, or -1.
    PixelCursor at{win.out};
    // Rows [m0, m1) into the table from its row m0 - origin on.
    auto fill_table = [&](int64_t m0, int64_t m1, int64_t origin) {
      if (!image_taps.empty()) {
        int64_t n = m0 / out_pix, q = m0 - n * out_pix;
        for (int64_t m = m0; m < m1; ++m) {
          int64_t* entry = &table[size_t((m - origin) * taps)];
          const int32_t* in_image = image_taps.data() + q * taps;
          for (int64_t t = 0; t < taps; ++t) entry[t] = in_image[t] < 0 ? -1 : n * in_pix + in_image[t];
          if (++q == out_pix) {
            q = 0;
            ++n;
          }
        }
        return;
      }
      for (int64_t m = m0; m < m1; ++m) {
        int64_t* entry = &table[size_t((m - origin) * taps)];
        at.seek(m);
        window_taps_at(win, at.d, at.h, at.w, entry);
        const int64_t base = at.n * in_pix;
        for (int64_t t = 0; t < taps; ++t) entry[t] += entry[t] < 0 ? 0 : base;
      }
    };
    // The rows of [m0, m1) whose tap t reads a pixel: a_ptr at its channels
    // [offset, ...) of x, b_ptr at the row of dy (from channel b_offset on).
    auto gather_tap = [&](int64_t m0, int64_t m1, int64_t t, int64_t a_offset, int64_t b_offset) {
      int64_t count = 0;
      for (int64_t m = m0; m < m1; ++m) {
        const int64_t p = table[size_t((m - m0) * taps + t)];
        if (p < 0) continue;
        a_ptr[size_t(count)] = x + p * c.cin + a_offset;
        b_ptr[size_t(count++)] = dy + m * c.cout + b_offset;
      }
      return count;
    };
    const RowOps<T>& ops = row_ops<T>(conv_kernels());
    for (int64_t slot = sb; slot < se; ++slot) {
      T* acc = slot == 0 ? dw : partial.get() + (slot - 1) * dw_size;
      const int64_t c0 = chunks * slot / slots, c1 = chunks * (slot + 1) / slots;
      if (pointwise) {
        // acc = x^T dy over the slot's pixels, x read transposed in place.
        const int64_t m0 = c0 * chunk;
        matrix_product<T>(c.cin, c.cout, std::min(rows, c1 * chunk) - m0, x + m0 * c.cin, 1, c.cin, dy + m0 * c.cout,
                          c.cout, 1, acc, 1);
        continue;
      }
      std::fill_n(acc, dw_size, T(0));
      for (int64_t ck = c0; ck < c1; ++ck) {
        const int64_t m0 = ck * chunk, m1 = std::min(rows, m0 + chunk);
        if (direct.run) {
          fill_table(m0, m1, m0);
          for (int64_t g = 0; g < c.groups; ++g) {
            for (int64_t t = 0; t < taps; ++t) {
              const int64_t count = gather_tap(m0, m1, t, g * red, g * cols);
              if (count > 0) {
                add_outer_products(direct, count, a_ptr.data(), red, b_ptr.data(), cols, acc + t * red * c.cout + g * cols,
                                   c.cout);
              }
            }
          }
          continue;
        }
        if (depthwise) {
          // dw[t] += sum over the chunk's rows m of x[pixel(m, t)] * dy[m], the rows in order
          // through depthwise_filter (each tap's accumulators in registers over a run of rows):
          // along a window row, the pixels whose windows lie inside x at the taps' fixed
          // offsets; runs of other rows whose taps all read pixels through a table of their
          // pointers (the table filled for those rows only); a row with padding taps alone.
          // Building every row's pointers had taken about as long as the products.
          int64_t run = m0;
          auto flush = [&](int64_t end) {
            if (end == run) return;
            for (int64_t m = run; m < end; ++m) {
              for (int64_t t = 0; t < taps; ++t) {
                run_src[size_t((m - run) * taps + t)] = x + table[size_t((m - m0) * taps + t)] * c.cin;
              }
            }
            DepthwiseTaps<T> src;
            src.table = run_src.data();
            ops.depthwise_filter(end - run, taps, src, dy + run * c.cout, acc, c.cout);
          };
          for (int64_t m = m0; m < m1;) {
            const int64_t r = m / win.out[2], row_start = r * win.out[2];
            const InteriorRun inside = interior_run(win, r);
            const int64_t hi = std::min(m1, row_start + inside.hi);
            if (m >= row_start + inside.lo && m < hi) {
              flush(m);
              DepthwiseTaps<T> src;
              src.base = x + (inside.first + (m - row_start - inside.lo) * win.s[2]) * c.cin;
              src.step = win.s[2] * c.cin;
              src.offsets = tap_offsets.data();
              ops.depthwise_filter(hi - m, taps, src, dy + m * c.cout, acc, c.cout);
              run = m = hi;
              continue;
            }
            fill_table(m, m + 1, m0);
            const int64_t* entry = &table[size_t((m - m0) * taps)];
            if (std::all_of(entry, entry + taps, [](int64_t p) { return p >= 0; })) {
              ++m;
              continue;
            }
            flush(m);
            run = m + 1;
            const T* dy_row = dy + m * c.cout;
            for (int64_t t = 0; t < taps; ++t) {
              if (entry[t] < 0) continue;
              const T* x_row = x + entry[t] * c.cin;
              ops.dot_rows(acc + t * c.cout, true, 1, &x_row, &dy_row, c.cout);
            }
            ++m;
          }
          flush(m1);
          continue;
        }
        for (int64_t g = 0; g < c.groups; ++g) {
          // The chunk's pixels inside the input, run by run along window rows, read x at
          // fixed offsets (no im2col rows); `listed` keeps the others for the im2col below.
          int64_t listed = 0;
          for (int64_t m = m0; m < m1;) {
            const int64_t r = m / win.out[2], row_end = std::min(m1, (r + 1) * win.out[2]);
            const InteriorRun run = windows ? interior_run(win, r) : InteriorRun{};
            const int64_t lo = std::max(m, r * win.out[2] + run.lo), hi = std::min(row_end, r * win.out[2] + run.hi);
            if (hi > lo) {
              const T* a_base = x + (run.first + (lo - r * win.out[2] - run.lo) * win.s[2]) * c.cin;
              for_outer_tiles(merged, kg, cols, [&](int64_t i0, int64_t j0, int64_t first_row, int64_t first_col) {
                merged.window_run(hi - lo, a_base, win.s[2] * c.cin, patch_offsets.data() + i0, dy + lo * c.cout + j0,
                                  c.cout, acc + i0 * c.cout + j0, c.cout, first_row, first_col);
              });
            }
            for (; m < row_end; ++m) {
              if (m < lo || m >= hi) list[size_t(listed++)] = m;
            }
          }
          for (int64_t k = 0; k < listed; ++k) {
            patch_row(win, x, c.cin, g * red, red, list[size_t(k)], at, pix.data(), col.data() + k * kg);
          }
          // acc[(t, ci), g*cols + co] += col^T (kg x rows) * dy (rows x cols).
          if (merged.run) {
            // Few channels per tap but a register tile in all: the im2col rows
            // in place of the pixels, all taps merged.
            for (int64_t q = 0; q < listed; ++q) {
              a_ptr[size_t(q)] = col.data() + q * kg;
              b_ptr[size_t(q)] = dy + list[size_t(q)] * c.cout + g * cols;
            }
            if (listed > 0) add_outer_products(merged, listed, a_ptr.data(), kg, b_ptr.data(), cols, acc + g * cols, c.cout);
            continue;
          }
          GemmBatch<T> gb;
          gb.m = kg;
          gb.n = cols;
          gb.k = m1 - m0;
          gb.beta = T(1);
          gb.a = col.data();
          gb.a_row_stride = 1;
          gb.a_col_stride = kg;
          gb.b = dy + m0 * c.cout + g * cols;
          gb.b_row_stride = c.cout;
          gb.b_col_stride = 1;
          gb.c = acc + g * cols;
          gb.c_row_stride = c.cout;
          gemm<T>(gb, 1);
        }
      }
    }
  }, threads);
  if (slots == 1) return;
  // dw += the other slots' sums, split over threads by ranges of dw.
  pool.parallel_for(dw_size, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t s = 1; s < slots; ++s) {
      const T* other = partial.get() + (s - 1) * dw_size;
      for (int64_t i = b; i < e; ++i) dw[i] += other[i];
    }
  }, threads);
}

// ---------------------------------------------------------------- kernels

template <class T>
void dispatch_forward(const KernelContext& ctx, const TensorView& x, const TensorView& k, const TensorView& y,
                      const Attrs& attrs) {
  const int nsp = x.rank() - 2;
  const kernels::Shape in(x.shape.begin() + 1, x.shape.end() - 1), out(y.shape.begin() + 1, y.shape.end() - 1);
  const kernels::Shape ks(k.shape.begin(), k.shape.begin() + nsp);
  const ConvParams c = conv_params("conv", attrs, x.shape[0], in, out, ks, x.shape.back(), k.shape.back());
  std::vector<T> xs, ws;
  conv_forward<T>(ctx, c, contiguous_data<T>(x, xs), contiguous_data<T>(k, ws), y.as<T>());
}

template <class T>
void dispatch_input_grad(const KernelContext& ctx, const TensorView& dy, const TensorView& k, const TensorView& dx,
                         const Attrs& attrs) {
  const int nsp = dy.rank() - 2;
  const kernels::Shape in(dx.shape.begin() + 1, dx.shape.end() - 1), out(dy.shape.begin() + 1, dy.shape.end() - 1);
  const kernels::Shape ks(k.shape.begin(), k.shape.begin() + nsp);
  const ConvParams c =
      conv_params("convBackpropInput", attrs, dy.shape[0], in, out, ks, dx.shape.back(), dy.shape.back());
  std::vector<T> dys, ws;
  conv_input_grad<T>(ctx, c, contiguous_data<T>(dy, dys), contiguous_data<T>(k, ws), dx.as<T>());
}

template <class T>
void dispatch_filter_grad(const KernelContext& ctx, const TensorView& x, const TensorView& dy, const TensorView& dw,
                          const Attrs& attrs) {
  const int nsp = x.rank() - 2;
  const kernels::Shape in(x.shape.begin() + 1, x.shape.end() - 1), out(dy.shape.begin() + 1, dy.shape.end() - 1);
  const kernels::Shape ks(dw.shape.begin(), dw.shape.begin() + nsp);
  const ConvParams c =
      conv_params("convBackpropFilter", attrs, x.shape[0], in, out, ks, x.shape.back(), dy.shape.back());
  std::vector<T> xs, dys;
  conv_filter_grad<T>(ctx, c, contiguous_data<T>(x, xs), contiguous_data<T>(dy, dys), dw.as<T>());
}

void conv_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
              const Attrs& attrs) {
  if (out[0].numel() == 0) return;
  if (in[0].dtype == engine::DType::Float64) return dispatch_forward<double>(ctx, in[0], in[1], out[0], attrs);
  dispatch_forward<float>(ctx, in[0], in[1], out[0], attrs);
}

void conv_backprop_input_cpu(const KernelContext& ctx, const std::vector<TensorView>& in,
                             const std::vector<TensorView>& out, const Attrs& attrs) {
  if (out[0].numel() == 0) return;
  if (in[0].dtype == engine::DType::Float64) return dispatch_input_grad<double>(ctx, in[0], in[1], out[0], attrs);
  dispatch_input_grad<float>(ctx, in[0], in[1], out[0], attrs);
}

void conv_backprop_filter_cpu(const KernelContext& ctx, const std::vector<TensorView>& in,
                              const std::vector<TensorView>& out, const Attrs& attrs) {
  if (out[0].numel() == 0) return;
  if (in[0].dtype == engine::DType::Float64) return dispatch_filter_grad<double>(ctx, in[0], in[1], out[0], attrs);
  dispatch_filter_grad<float>(ctx, in[0], in[1], out[0], attrs);
}

}  // namespace

void register_conv(kernels::KernelRegistry& registry) {
  registry.register_kernel("conv", engine::Device::CPU, conv_cpu);
  registry.register_kernel("convBackpropInput", engine::Device::CPU, conv_backprop_input_cpu);
  registry.register_kernel("convBackpropFilter", engine::Device::CPU, conv_backprop_filter_cpu);
}

}  // namespace keras::cpu
