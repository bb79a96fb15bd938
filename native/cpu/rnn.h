// The per-ISA row functions of the fused LSTM and GRU cells (rnn_kernels.h, instantiated in
// rnn_<isa>.cc; driven by rnn.cc). Rows are batch rows; units is the state width.
#pragma once
#include <cstdint>

namespace keras::cpu {

template <class T>
struct LstmCellRows {
  // For `rows` consecutive rows, z = x + rec ([4 * units] each): acts = (i, f, g, o, t)
  // [5 * units] with i, f, o the sigmoids and g the tanh of z's blocks, c_new = f c + i g,
  // t = tanh(c_new), h = o t.
  void (*forward)(const T* x, const T* rec, const T* c, T* h, T* c_new, T* acts, int64_t rows, int64_t units);
  // The gradient from those activations (lib/ops/rnn.ts): dz [4 * units] and dc_prev per row.
  void (*backward)(const T* acts, const T* c, const T* dh, const T* dc, T* dz, T* dc_prev, int64_t rows, int64_t units);
};

template <class T>
struct GruCellRows {
  // For `rows` consecutive rows, with rec' = rec + rb (rb [3 * units], the same for every row):
  // acts = (z, r, hh) [3 * units] with z, r the sigmoids of x + rec's first two blocks and
  // hh = tanh(x_h + r rec'_h); h_new = z h + (1 - z) hh.
  void (*forward)(const T* x, const T* rec, const T* rb, const T* h, T* h_new, T* acts, int64_t rows, int64_t units);
  // The gradient from those activations (lib/ops/rnn.ts): dx and drec [3 * units], dh_prev per row.
  void (*backward)(const T* acts, const T* rec, const T* rb, const T* h, const T* dh, T* dx, T* drec, T* dh_prev,
                   int64_t rows, int64_t units);
};

template <class T>
struct RnnRows {
  LstmCellRows<T> lstm;
  GruCellRows<T> gru;
};

struct RnnIsaTable {
  const char* isa;
  RnnRows<float> f32;
  RnnRows<double> f64;
};

extern const RnnIsaTable kRnnAvx512;
extern const RnnIsaTable kRnnAvx2;
extern const RnnIsaTable kRnnPortable;

}  // namespace keras::cpu
