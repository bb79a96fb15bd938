// CPU kernels of the fused LSTM and GRU cells (lib/backends/js/nn.ts is the reference): batch rows
// split over the thread pool, each block run by the active ISA's row functions (rnn_kernels.h);
// the gradient reuses the forward's activations; the sequence ops run every timestep in one call.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../engine/thread_pool.h"
#include "conv.h"
#include "cpu_kernels.h"
#include "gemm.h"
#include "isa.h"
#include "rnn.h"

namespace keras::cpu {
namespace {

using engine::DType;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::TensorView;

template <class T>
const RnnRows<T>& cell_rows() {
  return rows_of<T>(for_active_isa(kRnnAvx512, kRnnAvx2, kRnnPortable));
}

// Rows per work item: about 8K gate values, so a [32, 4 * 128] cell runs on two threads. In a
// train step the gradient reads the forward's activations from 50 timesteps back (out of L2),
// and two threads pull them faster: with 16K (one thread) the LSTM step took 4-8% longer, with
// 4K longer again.
int64_t grain_for(int64_t units) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, 4 * units)); }

template <class T>
void lstm_cell(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t batch = out[0].shape[0], units = out[0].shape[1];
  std::vector<T> xs, rs, cs;
  const T *x = contiguous_data<T>(in[0], xs), *rec = contiguous_data<T>(in[1], rs), *c = contiguous_data<T>(in[2], cs);
  T *h = out[0].as<T>(), *c_new = out[1].as<T>(), *acts = out[2].as<T>();
  engine::thread_pool().parallel_for(batch, grain_for(units), [&](int64_t begin, int64_t end) {
    const int64_t g = begin * 4 * units;
    cell_rows<T>().lstm.forward(x + g, rec + g, c + begin * units, h + begin * units, c_new + begin * units,
                                acts + begin * 5 * units, end - begin, units);
  }, ctx.max_threads);
}

template <class T>
void lstm_cell_grad(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t batch = out[1].shape[0], units = out[1].shape[1];
  std::vector<T> as, cs, dhs, dcs;
  const T *acts = contiguous_data<T>(in[0], as), *c = contiguous_data<T>(in[1], cs);
  const T *dh = contiguous_data<T>(in[2], dhs), *dc = contiguous_data<T>(in[3], dcs);
  T *dz = out[0].as<T>(), *dc_prev = out[1].as<T>();
  engine::thread_pool().parallel_for(batch, grain_for(units), [&](int64_t begin, int64_t end) {
    cell_rows<T>().lstm.backward(acts + begin * 5 * units, c + begin * units, dh + begin * units, dc + begin * units,
                                 dz + begin * 4 * units, dc_prev + begin * units, end - begin, units);
  }, ctx.max_threads);
}

template <class T>
void gru_cell(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t batch = out[0].shape[0], units = out[0].shape[1];
  std::vector<T> xs, rs, hs, bs;
  const T *x = contiguous_data<T>(in[0], xs), *rec = contiguous_data<T>(in[1], rs), *h = contiguous_data<T>(in[2], hs);
  const T* rb = contiguous_data<T>(in[3], bs);
  T *h_new = out[0].as<T>(), *acts = out[1].as<T>();
  engine::thread_pool().parallel_for(batch, grain_for(units), [&](int64_t begin, int64_t end) {
    cell_rows<T>().gru.forward(x + begin * 3 * units, rec + begin * 3 * units, rb, h + begin * units, h_new + begin * units,
                               acts + begin * 3 * units, end - begin, units);
  }, ctx.max_threads);
}

template <class T>
void gru_cell_grad(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t batch = out[2].shape[0], units = out[2].shape[1];
  std::vector<T> as, rs, hs, dhs, bs;
  const T *acts = contiguous_data<T>(in[0], as), *rec = contiguous_data<T>(in[1], rs);
  const T *h = contiguous_data<T>(in[2], hs), *dh = contiguous_data<T>(in[3], dhs), *rb = contiguous_data<T>(in[4], bs);
  T *dx = out[0].as<T>(), *drec = out[1].as<T>(), *dh_prev = out[2].as<T>();
  engine::thread_pool().parallel_for(batch, grain_for(units), [&](int64_t begin, int64_t end) {
    const int64_t g = begin * 3 * units;
    cell_rows<T>().gru.backward(acts + g, rec + g, rb, h + begin * units, dh + begin * units, dx + g, drec + g,
                                dh_prev + begin * units, end - begin, units);
  }, ctx.max_threads);
}

// Every timestep in one call (lstmSequence, gruSequence, and their gradients last step first):
// each step's recurrent product h rk as matmul runs it (the same gemm), then the cell as above,
// its activations kept for the gradient where asked (saveActivations). A batch's rows are independent through time, so each thread runs every
// timestep of its own block of rows, with no synchronization between timesteps (the steps op by
// op meet twice a step: after the product and after the cell). Zen 5, 2 threads, 50 steps of
// 128 units, in-process medians against one block: batch 8 0.67x (LSTM) and 0.82x (GRU), batch 32
// 0.63x and 0.63x, batch 128 0.48x and 0.74x. With fewer than kSequenceRowsPerThread rows a
// thread, one block, its products and cells split per step as matmul and the cell ops split them.
constexpr int64_t kSequenceRowsPerThread = 4;

// rows(begin, end, threads) runs the sequence for batch rows [begin, end) on `threads`.
template <class Rows>
void sequence_row_blocks(const KernelContext& ctx, int64_t batch, const Rows& rows) {
  auto& pool = engine::thread_pool();
  const int threads = ctx.max_threads > 0 ? std::min(ctx.max_threads, pool.num_threads()) : pool.num_threads();
  const int64_t blocks = std::clamp<int64_t>(batch / kSequenceRowsPerThread, 1, threads);
  if (blocks == 1) return rows(0, batch, ctx.max_threads);
  pool.parallel_for(blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) rows(b * batch / blocks, (b + 1) * batch / blocks, 1);
  }, int(blocks));
}

// c = a rk (the recurrent product: a the states h, [rows, units]) or, `transposed`, c = a rk^T (its
// gradient w.r.t. h: a the gate gradients, [rows, width]), rk [units, width], rows contiguous; as
// matmul (with transposeB) sets up the same product.
template <class T>
void times_recurrent_kernel(const T* a, const T* rk, T* c, int64_t rows, int64_t units, int64_t width, bool transposed, int threads) {
  GemmBatch<T> g;
  g.m = rows;
  g.k = transposed ? width : units;
  g.n = transposed ? units : width;
  g.a = a;
  g.a_row_stride = g.k;
  g.b = rk;
  g.b_row_stride = transposed ? 1 : width;
  g.b_col_stride = transposed ? width : 1;
  g.c = c;
  g.c_row_stride = g.n;
  gemm<T>(g, threads);
}

// out = a + b over n values (the gradients' sums of two contributions to one h, rounded as one add).
template <class T>
void add_values(const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

template <class T>
void lstm_sequence(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t steps = out[0].shape[0], batch = out[1].shape[0], units = out[1].shape[1], width = 4 * units;
  std::vector<T> xss, rks, h0s, c0s;
  const T *xs = contiguous_data<T>(in[0], xss), *rk = contiguous_data<T>(in[1], rks);
  const T *h0 = contiguous_data<T>(in[2], h0s), *c0 = contiguous_data<T>(in[3], c0s);
  T *hs = out[0].as<T>(), *c_last = out[1].as<T>();
  if (steps == 0) {
    std::copy(c0, c0 + batch * units, c_last);
    return;
  }
  // saveActivations: every step's activations and carry go to the outputs acts and cs (for
  // lstmSequenceGrad); else to scratch reused from step to step.
  T *saved_acts = out[2].numel() > 0 ? out[2].as<T>() : nullptr, *saved_cs = out[3].numel() > 0 ? out[3].as<T>() : nullptr;
  sequence_row_blocks(ctx, batch, [&](int64_t begin, int64_t end, int threads) {
    const int64_t rows = end - begin;
    std::vector<T> rec(size_t(rows * width)), scratch_acts(saved_acts ? 0 : size_t(rows * 5 * units));
    std::vector<T> carries(saved_cs ? 0 : size_t(2 * rows * units));
    const T *h = h0 + begin * units, *c = c0 + begin * units;
    for (int64_t t = 0; t < steps; ++t) {
      times_recurrent_kernel(h, rk, rec.data(), rows, units, width, false, threads);
      const int64_t row = t * batch + begin;
      const T* x = xs + row * width;
      T* h_new = hs + row * units;
      T* acts = saved_acts ? saved_acts + row * 5 * units : scratch_acts.data();
      T* c_new = saved_cs ? saved_cs + row * units : t + 1 == steps ? c_last + begin * units : carries.data() + (t % 2) * rows * units;
      engine::thread_pool().parallel_for(rows, grain_for(units), [&](int64_t r0, int64_t r1) {
        cell_rows<T>().lstm.forward(x + r0 * width, rec.data() + r0 * width, c + r0 * units, h_new + r0 * units,
                                    c_new + r0 * units, acts + r0 * 5 * units, r1 - r0, units);
      }, threads);
      h = h_new;
      c = c_new;
    }
    if (saved_cs) std::copy(c, c + rows * units, c_last + begin * units);
  });
}

// Backpropagation through an lstmSequence's steps from its saved activations and carries, last
// step first: dh_t = dhs[t] + the next step's dz rk^T, then the cell's gradient (dz into dxs[t],
// and the carry's); rows in blocks over threads as the forward. The recurrent kernel's gradient,
// h_{t-1}^T dz summed over the steps, is one product of all of them (lib/ops/rnn.ts).
template <class T>
void lstm_sequence_grad(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t steps = in[0].shape[0], batch = out[1].shape[0], units = out[1].shape[1], width = 4 * units;
  std::vector<T> as, css, c0s, rks, dhss, dcs;
  const T *acts = contiguous_data<T>(in[0], as), *cs = contiguous_data<T>(in[1], css), *c0 = contiguous_data<T>(in[2], c0s);
  const T *rk = contiguous_data<T>(in[3], rks), *dhs = contiguous_data<T>(in[4], dhss), *dc_last = contiguous_data<T>(in[5], dcs);
  T *dxs = out[0].as<T>(), *dh0 = out[1].as<T>(), *dc0 = out[2].as<T>();
  sequence_row_blocks(ctx, batch, [&](int64_t begin, int64_t end, int threads) {
    const int64_t rows = end - begin, n = rows * units;
    const size_t count = size_t(n);
    std::vector<T> dh(count), from_next(count, T(0)), dc(dc_last + begin * units, dc_last + begin * units + n), dc_prev(count);
    for (int64_t t = steps - 1; t >= 0; --t) {
      const int64_t row = t * batch + begin;
      add_values(dhs + row * units, from_next.data(), dh.data(), n);
      const T* c_prev = t > 0 ? cs + (row - batch) * units : c0 + begin * units;
      const T* a = acts + row * 5 * units;
      T* dz = dxs + row * width;
      engine::thread_pool().parallel_for(rows, grain_for(units), [&](int64_t r0, int64_t r1) {
        cell_rows<T>().lstm.backward(a + r0 * 5 * units, c_prev + r0 * units, dh.data() + r0 * units, dc.data() + r0 * units,
                                     dz + r0 * width, dc_prev.data() + r0 * units, r1 - r0, units);
      }, threads);
      std::swap(dc, dc_prev);
      times_recurrent_kernel(dz, rk, from_next.data(), rows, units, width, true, threads);
    }
    std::copy(from_next.begin(), from_next.end(), dh0 + begin * units);
    std::copy(dc.begin(), dc.end(), dc0 + begin * units);
  });
}

template <class T>
void gru_sequence(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t steps = out[0].shape[0], batch = out[0].shape[1], units = out[0].shape[2], width = 3 * units;
  std::vector<T> xss, rks, h0s, bs;
  const T *xs = contiguous_data<T>(in[0], xss), *rk = contiguous_data<T>(in[1], rks);
  const T *h0 = contiguous_data<T>(in[2], h0s), *rb = contiguous_data<T>(in[3], bs);
  T* hs = out[0].as<T>();
  // saveActivations: every step's activations and recurrent product go to the outputs acts and
  // recs (for gruSequenceGrad); else to scratch reused from step to step.
  T *saved_acts = out[1].numel() > 0 ? out[1].as<T>() : nullptr, *saved_recs = out[2].numel() > 0 ? out[2].as<T>() : nullptr;
  sequence_row_blocks(ctx, batch, [&](int64_t begin, int64_t end, int threads) {
    const int64_t rows = end - begin;
    std::vector<T> scratch_rec(saved_recs ? 0 : size_t(rows * width)), scratch_acts(saved_acts ? 0 : size_t(rows * width));
    const T* h = h0 + begin * units;
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t row = t * batch + begin;
      T* rec = saved_recs ? saved_recs + row * width : scratch_rec.data();
      T* acts = saved_acts ? saved_acts + row * width : scratch_acts.data();
      times_recurrent_kernel(h, rk, rec, rows, units, width, false, threads);
      const T* x = xs + row * width;
      T* h_new = hs + row * units;
      engine::thread_pool().parallel_for(rows, grain_for(units), [&](int64_t r0, int64_t r1) {
        cell_rows<T>().gru.forward(x + r0 * width, rec + r0 * width, rb, h + r0 * units, h_new + r0 * units,
                                   acts + r0 * width, r1 - r0, units);
      }, threads);
      h = h_new;
    }
  });
}

// Backpropagation through a gruSequence's steps from its saved activations and products, last
// step first: dh_t = dhs[t] + what step t + 1 passed back, then the cell's gradient (dx into
// dxs[t], drec into drecs[t]), and h_{t-1} receives the cell's dh plus drec rk^T. The recurrent
// kernel's and bias's gradients sum drecs over the steps (lib/ops/rnn.ts).
template <class T>
void gru_sequence_grad(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  const int64_t steps = in[0].shape[0], batch = out[2].shape[0], units = out[2].shape[1], width = 3 * units;
  std::vector<T> as, rs, hss, h0s, rks, bs, dhss;
  const T *acts = contiguous_data<T>(in[0], as), *recs = contiguous_data<T>(in[1], rs), *hs = contiguous_data<T>(in[2], hss);
  const T *h0 = contiguous_data<T>(in[3], h0s), *rk = contiguous_data<T>(in[4], rks), *rb = contiguous_data<T>(in[5], bs);
  const T* dhs = contiguous_data<T>(in[6], dhss);
  T *dxs = out[0].as<T>(), *drecs = out[1].as<T>(), *dh0 = out[2].as<T>();
  sequence_row_blocks(ctx, batch, [&](int64_t begin, int64_t end, int threads) {
    const int64_t rows = end - begin, n = rows * units;
    const size_t count = size_t(n);
    std::vector<T> dh(count), from_next(count, T(0)), dh_cell(count), product(count);
    for (int64_t t = steps - 1; t >= 0; --t) {
      const int64_t row = t * batch + begin;
      add_values(dhs + row * units, from_next.data(), dh.data(), n);
      const T* h_prev = t > 0 ? hs + (row - batch) * units : h0 + begin * units;
      const T *a = acts + row * width, *rec = recs + row * width;
      T *dx = dxs + row * width, *drec = drecs + row * width;
      engine::thread_pool().parallel_for(rows, grain_for(units), [&](int64_t r0, int64_t r1) {
        cell_rows<T>().gru.backward(a + r0 * width, rec + r0 * width, rb, h_prev + r0 * units, dh.data() + r0 * units,
                                    dx + r0 * width, drec + r0 * width, dh_cell.data() + r0 * units, r1 - r0, units);
      }, threads);
      times_recurrent_kernel(drec, rk, product.data(), rows, units, width, true, threads);
      add_values(dh_cell.data(), product.data(), from_next.data(), n);
    }
    std::copy(from_next.begin(), from_next.end(), dh0 + begin * units);
  });
}

using CellFn = void (*)(const KernelContext&, const std::vector<TensorView>&, const std::vector<TensorView>&);

// A cell's cpu kernel: its float32 or float64 form; nothing to do when output `kCounted` (a
// state) is empty.
template <CellFn F32, CellFn F64, int kCounted>
void cell_kernel(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                 const Attrs&) {
  if (out[kCounted].numel() == 0) return;
  (in[0].dtype == DType::Float64 ? F64 : F32)(ctx, in, out);
}

}  // namespace

void register_rnn(kernels::KernelRegistry& registry) {
  registry.register_kernel("lstmCell", engine::Device::CPU, cell_kernel<lstm_cell<float>, lstm_cell<double>, 0>);
  registry.register_kernel("lstmCellGrad", engine::Device::CPU, cell_kernel<lstm_cell_grad<float>, lstm_cell_grad<double>, 1>);
  registry.register_kernel("gruCell", engine::Device::CPU, cell_kernel<gru_cell<float>, gru_cell<double>, 0>);
  registry.register_kernel("gruCellGrad", engine::Device::CPU, cell_kernel<gru_cell_grad<float>, gru_cell_grad<double>, 2>);
  registry.register_kernel("lstmSequence", engine::Device::CPU, cell_kernel<lstm_sequence<float>, lstm_sequence<double>, 1>);
  registry.register_kernel("lstmSequenceGrad", engine::Device::CPU, cell_kernel<lstm_sequence_grad<float>, lstm_sequence_grad<double>, 1>);
  registry.register_kernel("gruSequence", engine::Device::CPU, cell_kernel<gru_sequence<float>, gru_sequence<double>, 0>);
  registry.register_kernel("gruSequenceGrad", engine::Device::CPU, cell_kernel<gru_sequence_grad<float>, gru_sequence_grad<double>, 2>);
}

}  // namespace keras::cpu
