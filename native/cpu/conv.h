// Shared pieces of the CPU convolution and pooling kernels: the window geometry
// (every op seen as 3 spatial dims, 1D/2D getting leading size-1 dims, as the js
// kernels do) and the per-ISA table of the inner loops (conv_kernels.h,
// instantiated in conv_<isa>.cc).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/kernel.h"

namespace keras::cpu {

// A window sweep over (D, H, W): input and output extents, kernel size, stride,
// dilation and the padding before each dim (negative crops).
struct Window {
  int64_t n = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
  // Each tap's input pixel less the first tap's (tap order kd, kh, kw), for windows inside
  // the input (make_window fills it).
  std::vector<int64_t> offsets;
  // The transposed sweep's (an input pixel's taps, stride 1): each tap's output pixel less
  // the first tap's, subtracted (tap k reads output pixel i + p - k * d).
  std::vector<int64_t> out_offsets;
  int64_t in_pixels() const { return in[0] * in[1] * in[2]; }
  int64_t out_pixels() const { return out[0] * out[1] * out[2]; }
  int64_t taps() const { return k[0] * k[1] * k[2]; }
};

// `padding` is the flattened [before0, after0, before1, after1, ...] list.
Window make_window(int64_t n, const kernels::Shape& in_spatial, const kernels::Shape& out_spatial,
                   const std::vector<int64_t>& k, const std::vector<int64_t>& strides,
                   const std::vector<int64_t>& dilation, const std::vector<int64_t>& padding);

// For output pixel q of one image: the input pixel of every tap (tap order kd, kh,
// kw), or -1 where the tap falls in the padding. Returns how many are valid.
int64_t window_taps(const Window& w, int64_t q, int64_t* in_pixel);

// rows[t*MR + i] points at the `cin` reduction values of row i for tap t (zeros
// for padding), weights[t] at that tap's packed cin x NR weight block. Computes
// C[0:nrows, 0:ncols] = sum over taps and channels, C with row stride ldc.
template <class T>
using IgemmFn = void (*)(int64_t ntaps, int64_t cin, const T* const* rows, const T* const* weights, T* c,
                         int64_t ldc, int64_t nrows, int64_t ncols);

// IgemmFn's rows as one window row: MR consecutive output pixels whose windows lie inside
// the input, row i of tap t at base + tap_offsets[t] + i * step; all MR rows are stored.
template <class T>
using WindowIgemmFn = void (*)(int64_t ntaps, int64_t cin, const T* base, int64_t step, const int64_t* tap_offsets,
                               const T* const* weights, T* c, int64_t ldc, int64_t ncols);

// The filter gradient's im2col^T x dy with both operands read in place through
// per-row pointers, added into c (row stride ldc):
//   c[i, j] += sum over q < count of a[q][a_off + i] * b[q][b_off + j]
// for rows first_row <= i < MR and columns first_col <= j < NR; the skipped rows
// and columns belong to a neighbouring tile (edge tiles are shifted back inside
// the channels, so no read passes a pixel's last channel).
template <class T>
using OuterFn = void (*)(int64_t count, const T* const* a, int64_t a_off, const T* const* b, int64_t b_off, T* c,
                         int64_t ldc, int64_t first_row, int64_t first_col);

// OuterFn over consecutive output pixels of one window row: a[q][i] is
// a_base[q * a_step + offsets[i]], b[q] is b_base + q * b_step.
template <class T>
using WindowOuterFn = void (*)(int64_t count, const T* a_base, int64_t a_step, const int64_t* offsets, const T* b_base,
                               int64_t b_step, T* c, int64_t ldc, int64_t first_row, int64_t first_col);

// Filter-gradient tiles: mr[nv - 1] rows (input channels, broadcast) by nv vectors of
// output-gradient channels, nv = 1..max_nv chosen per convolution so the tiles
// cover the output channels with the least overhang.
constexpr int kMaxOuterVectors = 4;
template <class T>
struct OuterKernels {
  int lanes, max_nv;
  int mr[kMaxOuterVectors];
  OuterFn<T> run[kMaxOuterVectors];  // run[nv - 1]
  WindowOuterFn<T> window_run[kMaxOuterVectors];
};

template <class T>
struct IgemmKernel {
  const char* name;
  int mr, nr;
  IgemmFn<T> run;
  WindowIgemmFn<T> window_run;
  OuterKernels<T> outer;
};

// Where row m's taps read their pixels in a depthwise filter gradient: table[m * taps + t]
// when there is a table, else base + m * step + offsets[t] (consecutive pixels of a window row
// inside the input: no table of pointers to build).
template <class T>
struct DepthwiseTaps {
  const T* const* table = nullptr;
  const T* base = nullptr;
  int64_t step = 0;
  const int64_t* offsets = nullptr;
};

// Vectorized rows over channels.
template <class T>
struct RowOps {
  int lanes;  // elements of a vector register
  void (*fma)(T* y, const T* a, const T* b, int64_t n);  // y += a * b
  // y = (accumulate ? y : 0) + sum over q < count of a[q] * b[q], elementwise over n:
  // a depthwise conv row over all its taps, with y kept in registers.
  void (*dot_rows)(T* y, bool accumulate, int64_t count, const T* const* a, const T* const* b, int64_t n);
  // Depthwise output pixels along a row, windows of stride and dilation 1 inside the input:
  // y[o] = sum over the kh x kw taps of x + (r * row_step + (o + k) * ch) times w + (r * kw + k)
  // * ch, elementwise over ch channels (a whole number of vectors), for o < count. Returns the
  // pixels done: count, or 0 for a kw it has no kernel for. stream: y written by streaming
  // stores (y aligned to the register; the caller fences).
  int64_t (*depthwise_run)(int kw, int64_t kh, const T* x, int64_t row_step, const T* w, T* y, int64_t ch,
                           int64_t count, bool stream);
  // The depthwise filter gradient of `rows` rows whose taps all read pixels: dw + t * n +=
  // sum over m < rows of row m's pixel of tap t (src) times dy + m * n, elementwise over n channels, the
  // rows in order (the roundings of dot_rows over the same rows, tap by tap).
  void (*depthwise_filter)(int64_t rows, int64_t taps, const DepthwiseTaps<T>& src, const T* dy, T* dw, int64_t n);
  // The sum over q < count of the dot product of a[q] and b[q] (n values each): one
  // output value of a convolution with few output columns, over its taps.
  T (*dot_sum)(const T* const* a, const T* const* b, int64_t count, int64_t n);
  void (*axpy)(T* y, T s, const T* x, int64_t n);        // y += s * x
  void (*add)(T* y, const T* x, int64_t n);              // y += x
  // y = the max over rows[t < count]: a later row wins when greater or NaN over a number.
  void (*window_max)(T* y, const T* const* rows, int64_t count, int64_t n);
  // dx_rows[t] += dy where x_rows[t] is the row window_max takes, channel by channel;
  // without `accumulate`, dx_rows[t] = that or 0 (windows that share no pixel). positive_only:
  // a channel whose max is not > 0 routes nothing (maxPoolGrad's positiveMax).
  void (*window_max_grad)(T* const* dx_rows, const T* const* x_rows, int64_t count, const T* dy, int64_t n,
                          bool accumulate, bool positive_only);
};

struct ConvIsaTable {
  const char* isa;
  IgemmKernel<float> f32_igemm;
  IgemmKernel<double> f64_igemm;
  RowOps<float> f32_rows;
  RowOps<double> f64_rows;
};

extern const ConvIsaTable kConvAvx512;
extern const ConvIsaTable kConvAvx2;
extern const ConvIsaTable kConvPortable;

// The table of the ISA path in use (follows set_isa).
const ConvIsaTable& conv_kernels();

template <class T>
const IgemmKernel<T>& igemm_kernel(const ConvIsaTable& t);
template <>
inline const IgemmKernel<float>& igemm_kernel<float>(const ConvIsaTable& t) {
  return t.f32_igemm;
}
template <>
inline const IgemmKernel<double>& igemm_kernel<double>(const ConvIsaTable& t) {
  return t.f64_igemm;
}
template <class T>
const RowOps<T>& row_ops(const ConvIsaTable& t);
template <>
inline const RowOps<float>& row_ops<float>(const ConvIsaTable& t) {
  return t.f32_rows;
}
template <>
inline const RowOps<double>& row_ops<double>(const ConvIsaTable& t) {
  return t.f64_rows;
}

// The values of a view in row-major order: its own memory when contiguous, else
// a copy kept in `storage`.
template <class T>
const T* contiguous_data(const kernels::TensorView& v, std::vector<T>& storage) {
  if (v.is_contiguous()) return v.as<T>();
  storage.resize(size_t(v.numel()));
  std::vector<int64_t> index(size_t(v.rank()), 0);
  const T* src = v.as<T>();
  for (int64_t i = 0; i < v.numel(); ++i) {
    int64_t offset = 0;
    for (int d = 0; d < v.rank(); ++d) offset += index[size_t(d)] * v.strides[size_t(d)];
    storage[size_t(i)] = src[offset];
    for (int d = v.rank() - 1; d >= 0; --d) {
      if (++index[size_t(d)] < v.shape[size_t(d)]) break;
      index[size_t(d)] = 0;
    }
  }
  return storage.data();
}

}  // namespace keras::cpu
