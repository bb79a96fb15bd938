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
// loops vectorized over channels instead of GEMMs of width 1.
#include <algorithm>
#include <cstring>
#include <string>

#include "../engine/allocator.h"
#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "gemm.h"
#include "isa.h"

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
  return w;
}

namespace {

// window_taps for output pixel (od, oh, ow).
int64_t window_taps_at(const Window& w, int64_t od, int64_t oh, int64_t ow, int64_t* in_pixel) {
  int64_t valid = 0, t = 0;
  for (int64_t kd = 0; kd < w.k[0]; ++kd) {
    const int64_t id = od * w.s[0] - w.p[0] + kd * w.d[0];
    const bool in_d = id >= 0 && id < w.in[0];
    for (int64_t kh = 0; kh < w.k[1]; ++kh) {
      const int64_t ih = oh * w.s[1] - w.p[1] + kh * w.d[1];
      const bool in_h = in_d && ih >= 0 && ih < w.in[1];
      for (int64_t kw = 0; kw < w.k[2]; ++kw, ++t) {
        const int64_t iw = ow * w.s[2] - w.p[2] + kw * w.d[2];
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


// window_taps_transposed for input pixel (id, ih, iw).
int64_t window_taps_transposed_at(const Window& w, int64_t id, int64_t ih, int64_t iw, int64_t* out_pixel) {
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

}  // namespace

int64_t window_taps_transposed(const Window& w, int64_t i, int64_t* out_pixel) {
  return window_taps_transposed_at(w, i / (w.in[2] * w.in[1]), i / w.in[2] % w.in[1], i % w.in[2], out_pixel);
}

const ConvIsaTable& conv_kernels() {
  const std::string isa = active_kernels().isa;
  if (isa == "avx512") return kConvAvx512;
  if (isa == "avx2") return kConvAvx2;
  return kConvPortable;
}

namespace {

// Aligned scratch from the engine allocator, freed on every path out.
template <class T>
class Scratch {
 public:
  explicit Scratch(int64_t count, bool zero = false)
      : bytes_(sizeof(T) * size_t(std::max<int64_t>(count, 1))),
        data_(static_cast<T*>(engine::host_allocator().allocate(bytes_))) {
    if (zero) std::memset(static_cast<void*>(data_), 0, bytes_);
  }
  ~Scratch() { engine::host_allocator().deallocate(data_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* get() const { return data_; }

 private:
  size_t bytes_;
  T* data_;
};

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

// Runs the indirect GEMM over `rows` GEMM rows. `locate(rows, count, pix)` fills,
// for each listed row i and tap t, pix[i*taps + t] with the pixel base pointer
// (channel 0 of that pixel) or null for padding.
// Group g reads channels [g*red, (g+1)*red) of those pixels and writes columns
// [g*cols, (g+1)*cols) of out (row stride ldc). packed: [groups][panels][taps][red][NR].
// `order`, when given, lists the rows in the order they are grouped into tiles
// (rows that share their valid taps together); tiles of non-consecutive rows
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
  // Below a few channels per tap the kernel's per-tap pointer reloads dominate:
  // gather such patches instead (first layers: 3 input channels).
  const int64_t patch = ntaps * red;
  const bool gather = red < 8 && ntaps > 1 && patch <= 4096;
  engine::thread_pool().parallel_for(tiles, chunk_grain(tiles, tile_flops), [&](int64_t begin, int64_t end) {
    std::vector<const T*> pix(size_t(mr * ntaps)), ind(size_t(mr * std::max<int64_t>(ntaps, 1)));
    std::vector<const T*> wp(size_t(std::max<int64_t>(ntaps, 1)));
    std::vector<int64_t> tap_of(size_t(std::max<int64_t>(ntaps, 1)));
    int64_t row_of[32];
    std::vector<T> patches(gather ? size_t(mr * patch) : 0);
    alignas(64) T tile_out[16 * 64];  // >= MR x NR of every table entry
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t t0 = tile * mr, nrows = std::min<int64_t>(mr, rows - t0);
      bool consecutive = true;
      for (int64_t i = 0; i < nrows; ++i) {
        row_of[i] = order ? order[t0 + i] : t0 + i;
        consecutive &= row_of[i] == row_of[0] + i;
      }
      const int64_t r0 = row_of[0];
      locate(row_of, nrows, pix.data());
      std::fill(pix.begin() + nrows * ntaps, pix.end(), nullptr);
      for (int64_t g = 0; g < groups; ++g) {
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
#pragma GCC unroll 8
              for (int64_t r = 0; r < 8; ++r) {
                if (r < red) to[r] = src ? src[r] : T(0);
              }
            }
            ind[size_t(i)] = dst;
          }
          for (int64_t j = 0; j < panels; ++j) {
            const T* panel = packed + (g * panels + j) * ntaps * red * nr;
            const int64_t ncols = std::min<int64_t>(nr, cols - j * nr);
            if (consecutive) {
              kernel.run(1, patch, ind.data(), &panel, out + r0 * ldc + g * cols + j * nr, ldc, nrows, ncols);
              continue;
            }
            kernel.run(1, patch, ind.data(), &panel, tile_out, nr, mr, nr);
            for (int64_t i = 0; i < nrows; ++i) {
              std::copy_n(tile_out + i * nr, ncols, out + row_of[i] * ldc + g * cols + j * nr);
            }
          }
          continue;
        }
        // Taps every row of the tile reads as padding are dropped.
        int64_t nt = 0;
        for (int64_t t = 0; t < ntaps; ++t) {
          bool any = false;
          for (int64_t i = 0; i < mr; ++i) {
            const T* p = pix[size_t(i * ntaps + t)];
            ind[size_t(nt * mr + i)] = p ? p + g * red : zeros.get();
            any |= p != nullptr;
          }
          if (any) tap_of[size_t(nt++)] = t;
        }
        for (int64_t j = 0; j < panels; ++j) {
          const T* panel = packed + (g * panels + j) * ntaps * red * nr;
          for (int64_t q = 0; q < nt; ++q) wp[size_t(q)] = panel + tap_of[size_t(q)] * red * nr;
          const int64_t ncols = std::min<int64_t>(nr, cols - j * nr);
          if (consecutive) {
            kernel.run(nt, red, ind.data(), wp.data(), out + r0 * ldc + g * cols + j * nr, ldc, nrows, ncols);
            continue;
          }
          kernel.run(nt, red, ind.data(), wp.data(), tile_out, nr, mr, nr);
          for (int64_t i = 0; i < nrows; ++i) {
            std::copy_n(tile_out + i * nr, ncols, out + row_of[i] * ldc + g * cols + j * nr);
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

// ---------------------------------------------------------------- forward

template <class T>
void conv_forward(const KernelContext& ctx, const ConvParams& c, const T* x, const T* w, T* y) {
  const Window& win = c.win;
  const int64_t taps = win.taps(), in_pix = win.in_pixels(), out_pix = win.out_pixels();
  const int64_t rows = win.n * out_pix;
  if (is_depthwise(c)) {
    const RowOps<T>& ops = row_ops<T>(conv_kernels());
    const int64_t ch = c.cout;
    engine::thread_pool().parallel_for(rows, chunk_grain(rows, 2.0 * double(taps * ch)), [&](int64_t b, int64_t e) {
      std::vector<int64_t> pix(static_cast<size_t>(taps));
      std::vector<const T*> pa(static_cast<size_t>(taps)), pb(static_cast<size_t>(taps));
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / out_pix;
        window_taps(win, r % out_pix, pix.data());
        int64_t count = 0;
        for (int64_t t = 0; t < taps; ++t) {
          if (pix[size_t(t)] < 0) continue;
          pa[size_t(count)] = x + (n * in_pix + pix[size_t(t)]) * ch;
          pb[size_t(count++)] = w + t * ch;
        }
        ops.dot_rows(y + r * ch, false, count, pa.data(), pb.data(), ch);
      }
    }, ctx.max_threads);
    return;
  }
  const IgemmKernel<T>& kernel = igemm_kernel<T>(conv_kernels());
  const int64_t red = c.cin_g(), cols = c.cout_g();
  Scratch<T> packed(c.groups * ceil_div(cols, kernel.nr) * kernel.nr * taps * red);
  pack_weights<T>(kernel.nr, taps, red, cols, c.groups, packed.get(), [&](int64_t t, int64_t r, int64_t g, int64_t col) {
    return w[(t * red + r) * c.cout + g * cols + col];
  });
  auto locate = [&](const int64_t* rows, int64_t count, const T** out) {
    int64_t pix[64];
    std::vector<int64_t> heap;
    int64_t* p = pix;
    if (taps > 64) {
      heap.resize(size_t(taps));
      p = heap.data();
    }
    PixelCursor at{win.out};
    for (int64_t i = 0; i < count; ++i, out += taps) {
      at.seek(rows[i]);
      window_taps_at(win, at.d, at.h, at.w, p);
      const T* image = x + at.n * in_pix * c.cin;
      for (int64_t t = 0; t < taps; ++t) out[t] = p[t] < 0 ? nullptr : image + p[t] * c.cin;
    }
  };
  run_igemm<T>(ctx, rows, taps, red, cols, c.groups, packed.get(), y, c.cout, locate);
}

// ---------------------------------------------------------------- input gradient

template <class T>
void conv_input_grad(const KernelContext& ctx, const ConvParams& c, const T* dy, const T* w, T* dx) {
  const Window& win = c.win;
  const int64_t taps = win.taps(), in_pix = win.in_pixels(), out_pix = win.out_pixels();
  const int64_t rows = win.n * in_pix;
  if (is_depthwise(c)) {
    const RowOps<T>& ops = row_ops<T>(conv_kernels());
    const int64_t ch = c.cout;
    engine::thread_pool().parallel_for(rows, chunk_grain(rows, 2.0 * double(taps * ch)), [&](int64_t b, int64_t e) {
      std::vector<int64_t> pix(static_cast<size_t>(taps));
      std::vector<const T*> pa(static_cast<size_t>(taps)), pb(static_cast<size_t>(taps));
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / in_pix;
        window_taps_transposed(win, r % in_pix, pix.data());
        int64_t count = 0;
        for (int64_t t = 0; t < taps; ++t) {
          if (pix[size_t(t)] < 0) continue;
          pa[size_t(count)] = dy + (n * out_pix + pix[size_t(t)]) * ch;
          pb[size_t(count++)] = w + t * ch;
        }
        ops.dot_rows(dx + r * ch, false, count, pa.data(), pb.data(), ch);
      }
    }, ctx.max_threads);
    return;
  }
  // dx[i, g, ci] = sum over taps t and co of dy[o(i, t), g, co] * w[t, ci, g, co]:
  // reduction over co (cout_g per tap), columns ci.
  const IgemmKernel<T>& kernel = igemm_kernel<T>(conv_kernels());
  const int64_t red = c.cout_g(), cols = c.cin_g();
  Scratch<T> packed(c.groups * ceil_div(cols, kernel.nr) * kernel.nr * taps * red);
  pack_weights<T>(kernel.nr, taps, red, cols, c.groups, packed.get(), [&](int64_t t, int64_t r, int64_t g, int64_t col) {
    return w[(t * cols + col) * c.cout + g * red + r];
  });
  auto locate = [&](const int64_t* rows, int64_t count, const T** out) {
    int64_t pix[64];
    std::vector<int64_t> heap;
    int64_t* p = pix;
    if (taps > 64) {
      heap.resize(size_t(taps));
      p = heap.data();
    }
    PixelCursor at{win.in};
    for (int64_t i = 0; i < count; ++i, out += taps) {
      at.seek(rows[i]);
      window_taps_transposed_at(win, at.d, at.h, at.w, p);
      const T* image = dy + at.n * out_pix * c.cout;
      for (int64_t t = 0; t < taps; ++t) out[t] = p[t] < 0 ? nullptr : image + p[t] * c.cout;
    }
  };
  // With a stride, a dx pixel is reached only by the taps of its phase (position
  // modulo the stride): tiles of one phase drop the other taps instead of
  // multiplying zeros. Rows ordered by (phase, image, position in the phase grid).
  std::vector<int64_t> order;
  if (win.s[0] * win.s[1] * win.s[2] > 1) {
    order.reserve(size_t(rows));
    for (int64_t pd = 0; pd < std::min(win.s[0], win.in[0]); ++pd) {
      for (int64_t ph = 0; ph < std::min(win.s[1], win.in[1]); ++ph) {
        for (int64_t pw = 0; pw < std::min(win.s[2], win.in[2]); ++pw) {
          for (int64_t n = 0; n < win.n; ++n) {
            for (int64_t id = pd; id < win.in[0]; id += win.s[0]) {
              for (int64_t ih = ph; ih < win.in[1]; ih += win.s[1]) {
                for (int64_t iw = pw; iw < win.in[2]; iw += win.s[2]) {
                  order.push_back(n * in_pix + (id * win.in[1] + ih) * win.in[2] + iw);
                }
              }
            }
          }
        }
      }
    }
  }
  run_igemm<T>(ctx, rows, taps, red, cols, c.groups, packed.get(), dx, c.cin, locate,
               order.empty() ? nullptr : order.data());
}

// ---------------------------------------------------------------- filter gradient

template <class T>
void conv_filter_grad(const KernelContext& ctx, const ConvParams& c, const T* x, const T* dy, T* dw) {
  const Window& win = c.win;
  const int64_t taps = win.taps(), in_pix = win.in_pixels(), out_pix = win.out_pixels();
  const int64_t rows = win.n * out_pix;
  const int64_t red = c.cin_g(), cols = c.cout_g(), kg = taps * red;
  const int64_t dw_size = taps * c.cin_g() * c.cout;
  engine::ThreadPool& pool = engine::thread_pool();
  int threads = ctx.max_threads > 0 ? std::min(ctx.max_threads, pool.num_threads()) : pool.num_threads();
  // Row chunks: 128 rows of one tap's pixels and of dy fit L1 per register-tile
  // column block (and an im2col chunk stays in L2).
  const int64_t chunk = 128;
  const int64_t chunks = ceil_div(rows, chunk);
  const double flops = 2.0 * double(rows) * double(kg) * double(c.cout);
  // Slots are fixed row ranges with their own partial sums (the result does not
  // depend on which thread ran which); a few per thread balance a busy core.
  // Partial sums cost memory: at most ~64 MB of them (large filters use fewer slots).
  const int64_t memory_cap = std::max<int64_t>(1, (int64_t(64) << 20) / std::max<int64_t>(1, dw_size * int64_t(sizeof(T))));
  const int64_t slots =
      std::max<int64_t>(1, std::min<int64_t>({int64_t(threads) * 4, chunks, int64_t(flops / 2e6) + 1, memory_cap}));
  // Per-slot partial sums in the output's layout [taps, cin_g, cout].
  Scratch<T> partial(slots * dw_size, true);
  const bool depthwise = is_depthwise(c);
  const IgemmKernel<T>& kernel = igemm_kernel<T>(conv_kernels());
  const int64_t mr = kernel.outer_mr, nr = kernel.outer_nr;
  // Channels of at least one register tile: read x and dy in place (outer_microkernel);
  // fewer, and the tile would reach past a pixel's channels: im2col + GEMM.
  const bool direct = !depthwise && red >= mr && cols >= nr;
  pool.parallel_for(slots, 1, [&](int64_t sb, int64_t se) {
    std::vector<int64_t> pix(static_cast<size_t>(taps));
    std::vector<T> col(depthwise || direct ? 0 : size_t(chunk * kg));
    std::vector<int64_t> table(direct || depthwise ? size_t(chunk * taps) : 0);
    std::vector<const T*> a_ptr(static_cast<size_t>(chunk)), b_ptr(static_cast<size_t>(chunk));
    alignas(64) T tile[16 * 64];  // >= MR x NR of every table entry
    // table[(m - m0) * taps + t]: the input pixel (batch included) of row m's tap t, or -1.
    auto fill_table = [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) {
        int64_t* entry = &table[size_t((m - m0) * taps)];
        window_taps(win, m % out_pix, entry);
        const int64_t base = (m / out_pix) * in_pix;
        for (int64_t t = 0; t < taps; ++t) entry[t] += entry[t] < 0 ? 0 : base;
      }
    };
    const RowOps<T>& ops = row_ops<T>(conv_kernels());
    for (int64_t slot = sb; slot < se; ++slot) {
      T* acc = partial.get() + slot * dw_size;
      const int64_t c0 = chunks * slot / slots, c1 = chunks * (slot + 1) / slots;
      for (int64_t ck = c0; ck < c1; ++ck) {
        const int64_t m0 = ck * chunk, m1 = std::min(rows, m0 + chunk);
        if (direct) {
          fill_table(m0, m1);
          for (int64_t g = 0; g < c.groups; ++g) {
            for (int64_t t = 0; t < taps; ++t) {
              int64_t count = 0;
              for (int64_t m = m0; m < m1; ++m) {
                const int64_t p = table[size_t((m - m0) * taps + t)];
                if (p < 0) continue;
                a_ptr[size_t(count)] = x + p * c.cin + g * red;
                b_ptr[size_t(count++)] = dy + m * c.cout + g * cols;
              }
              if (count == 0) continue;
              // Edge blocks are shifted back inside the channels; their overlap is not stored twice.
              // Output-channel blocks outer: the chunk's slice of dy for one block stays in L1
              // while every input-channel block streams past it.
              for (int64_t bj = 0; bj < ceil_div(cols, nr); ++bj) {
                const int64_t co0 = std::min(bj * nr, cols - nr), skip_j = bj * nr - co0;
                for (int64_t bi = 0; bi < ceil_div(red, mr); ++bi) {
                  const int64_t ci0 = std::min(bi * mr, red - mr), skip_i = bi * mr - ci0;
                  kernel.outer(count, a_ptr.data(), ci0, b_ptr.data(), co0, tile);
                  for (int64_t i = skip_i; i < mr; ++i) {
                    T* dst = acc + (t * red + ci0 + i) * c.cout + g * cols + co0;
                    for (int64_t j = skip_j; j < nr; ++j) dst[j] += tile[i * nr + j];
                  }
                }
              }
            }
          }
          continue;
        }
        if (depthwise) {
          // dw[t] += sum over the chunk's rows m of x[pixel(m, t)] * dy[m], per tap.
          const int64_t ch = c.cout;
          fill_table(m0, m1);
          for (int64_t t = 0; t < taps; ++t) {
            int64_t count = 0;
            for (int64_t m = m0; m < m1; ++m) {
              const int64_t p = table[size_t((m - m0) * taps + t)];
              if (p < 0) continue;
              a_ptr[size_t(count)] = x + p * ch;
              b_ptr[size_t(count++)] = dy + m * ch;
            }
            ops.dot_rows(acc + t * ch, true, count, a_ptr.data(), b_ptr.data(), ch);
          }
          continue;
        }
        for (int64_t g = 0; g < c.groups; ++g) {
          for (int64_t m = m0; m < m1; ++m) {
            const int64_t n = m / out_pix;
            window_taps(win, m % out_pix, pix.data());
            T* row = col.data() + (m - m0) * kg;
            for (int64_t t = 0; t < taps; ++t) {
              if (pix[size_t(t)] >= 0) {
                std::memcpy(row + t * red, x + (n * in_pix + pix[size_t(t)]) * c.cin + g * red, sizeof(T) * size_t(red));
              } else {
                std::fill_n(row + t * red, red, T(0));
              }
            }
          }
          // acc[(t, ci), g*cols + co] += col^T (kg x rows) * dy (rows x cols).
          if (kg >= mr && cols >= nr) {
            // Few channels per tap but a register tile in all: the outer-product
            // kernel over the im2col rows, all taps merged.
            const int64_t count = m1 - m0;
            for (int64_t q = 0; q < count; ++q) {
              a_ptr[size_t(q)] = col.data() + q * kg;
              b_ptr[size_t(q)] = dy + (m0 + q) * c.cout + g * cols;
            }
            for (int64_t bi = 0; bi < ceil_div(kg, mr); ++bi) {
              const int64_t k0 = std::min(bi * mr, kg - mr), skip_i = bi * mr - k0;
              for (int64_t bj = 0; bj < ceil_div(cols, nr); ++bj) {
                const int64_t co0 = std::min(bj * nr, cols - nr), skip_j = bj * nr - co0;
                kernel.outer(count, a_ptr.data(), k0, b_ptr.data(), co0, tile);
                for (int64_t i = skip_i; i < mr; ++i) {
                  T* dst = acc + (k0 + i) * c.cout + g * cols + co0;
                  for (int64_t j = skip_j; j < nr; ++j) dst[j] += tile[i * nr + j];
                }
              }
            }
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
  T* first = partial.get();
  for (int64_t s = 1; s < slots; ++s) {
    const T* other = partial.get() + s * dw_size;
    for (int64_t i = 0; i < dw_size; ++i) first[i] += other[i];
  }
  std::memcpy(dw, first, sizeof(T) * size_t(dw_size));
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
