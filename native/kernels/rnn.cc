// Shape/dtype inference of the fused LSTM cell, as lib/ops/rnn.ts defines it:
//   lstmCell [x, rec, c] -> [h, c', acts]: x and rec [batch, 4 * units] the input and recurrent
//     projections (their sum the gates' pre-activations, Keras' order i, f, c, o), c [batch,
//     units] the previous carry; h and c' [batch, units]; acts [batch, 5 * units] the
//     activations i, f, g, o and tanh(c');
//   lstmCellGrad [acts, c, dh, dc] -> [dz, dcPrev]: dh and dc [batch, units];
//   gruCell [x, rec, h, rb] -> [h', acts]: x and rec [batch, 3 * units] (z, r, h blocks), h and h'
//     [batch, units], rb [3 * units] the recurrent bias (added to rec), acts [batch, 3 * units]
//     (z, r, hh);
//   gruCellGrad [acts, rec, h, dh, rb] -> [dx, drec, dhPrev];
//   lstmSequence [xs, rk, h0, c0] -> [hs, cT, acts, cs] and gruSequence [xs, rk, h0, rb] -> [hs,
//     acts, recs]: every timestep of the cell over xs [steps, batch, blocks * units] (time-major
//     input projections), rk [units, blocks * units] the recurrent kernel; hs [steps, batch,
//     units] each step's h, cT the last carry; with saveActivations, what the gradient reads:
//     the LSTM's acts [steps, batch, 5 * units] and carries cs [steps, batch, units], the GRU's
//     acts and recurrent products recs [steps, batch, 3 * units] (else each [0]);
//   lstmSequenceGrad [acts, cs, c0, rk, dhs, dcT] -> [dxs, dh0, dc0] and gruSequenceGrad [acts,
//     recs, hs, h0, rk, rb, dhs] -> [dxs, drecs, dh0]: backpropagation through the steps.
#include <string>

#include "kernel.h"

namespace keras::kernels {
namespace {

using engine::dtype_name;
using engine::format_shape;

// in[0] (names[0]) is float [batch, blocks * units]; in[1 .. like_main] have its dtype and shape,
// the others its dtype and shape [batch, units], which is returned.
Shape check_cell(const char* op, const std::vector<TensorSpec>& in, const char* const* names, int64_t blocks,
                 const char* what, size_t like_main = 0) {
  const TensorSpec& main = in[0];
  if (main.dtype != DType::Float32 && main.dtype != DType::Float64) {
    throw OpError("DTypeError", std::string(op) + ": " + names[0] + " must be float32 or float64, received " +
                                    dtype_name(main.dtype) + " " + format_shape(main.shape));
  }
  if (main.shape.size() != 2 || main.shape[1] % blocks != 0) {
    throw OpError("ShapeError", std::string(op) + ": " + names[0] + " must be [batch, " + std::to_string(blocks) + " * units] (" +
                                    what + " side by side), received " + format_shape(main.shape));
  }
  const Shape state{main.shape[0], main.shape[1] / blocks};
  for (size_t k = 1; k < in.size(); ++k) {
    if (in[k].dtype != main.dtype) {
      throw OpError("DTypeError", std::string(op) + ": " + names[k] + " must be " + dtype_name(main.dtype) + " like " + names[0] +
                                      ", received " + dtype_name(in[k].dtype) + " " + format_shape(in[k].shape));
    }
    const Shape& want = k <= like_main ? main.shape : state;
    if (in[k].shape != want) {
      throw OpError("ShapeError", std::string(op) + ": " + names[k] + " must be " + format_shape(want) + " for " + names[0] + " " +
                                      format_shape(main.shape) + ", received " + format_shape(in[k].shape));
    }
  }
  return state;
}

std::vector<TensorSpec> infer_lstm_cell(const std::vector<TensorSpec>& in, const Attrs&) {
  static const char* const names[] = {"x", "rec", "c"};
  const Shape state = check_cell("lstmCell", in, names, 4, "the gates i, f, c, o", 1);
  return {{in[0].dtype, state}, {in[0].dtype, state}, {in[0].dtype, {state[0], 5 * state[1]}}};
}

std::vector<TensorSpec> infer_lstm_cell_grad(const std::vector<TensorSpec>& in, const Attrs&) {
  static const char* const names[] = {"acts", "c", "dh", "dc"};
  const Shape state = check_cell("lstmCellGrad", in, names, 5, "i, f, g, o and tanh(c')");
  return {{in[0].dtype, {state[0], 4 * state[1]}}, {in[0].dtype, state}};
}

// The GRU cells' last input, the recurrent bias rb: in[0]'s dtype, [3 * units].
Shape check_gru_cell(const char* op, const std::vector<TensorSpec>& in, const char* const* names, const char* what) {
  const Shape state = check_cell(op, {in.begin(), in.end() - 1}, names, 3, what, 1);
  const TensorSpec& rb = in.back();
  if (rb.dtype != in[0].dtype || rb.shape != Shape{3 * state[1]}) {
    throw OpError("ShapeError", std::string(op) + ": rb must be " + dtype_name(in[0].dtype) + " " + format_shape(Shape{3 * state[1]}) +
                                    " for " + names[0] + " " + format_shape(in[0].shape) + ", received " + dtype_name(rb.dtype) + " " +
                                    format_shape(rb.shape));
  }
  return state;
}

std::vector<TensorSpec> infer_gru_cell(const std::vector<TensorSpec>& in, const Attrs&) {
  static const char* const names[] = {"x", "rec", "h"};
  const Shape state = check_gru_cell("gruCell", in, names, "the gates z, r, h");
  return {{in[0].dtype, state}, {in[0].dtype, in[0].shape}};
}

std::vector<TensorSpec> infer_gru_cell_grad(const std::vector<TensorSpec>& in, const Attrs&) {
  static const char* const names[] = {"acts", "rec", "h", "dh"};
  const Shape state = check_gru_cell("gruCellGrad", in, names, "z, r and hh");
  return {{in[0].dtype, in[0].shape}, {in[0].dtype, in[0].shape}, {in[0].dtype, state}};
}

// The sequence ops' xs [steps, batch, blocks * units] and rk [units, blocks * units]: their state
// shape [batch, units], the states checked as the cell checks them (in[2..] after xs and rk).
Shape check_sequence(const char* op, const std::vector<TensorSpec>& in, const char* const* names, int64_t blocks,
                     const char* what) {
  const TensorSpec& xs = in[0];
  if (xs.dtype != DType::Float32 && xs.dtype != DType::Float64) {
    throw OpError("DTypeError", std::string(op) + ": xs must be float32 or float64, received " + dtype_name(xs.dtype) + " " +
                                    format_shape(xs.shape));
  }
  if (xs.shape.size() != 3 || xs.shape[2] % blocks != 0) {
    throw OpError("ShapeError", std::string(op) + ": xs must be [steps, batch, " + std::to_string(blocks) + " * units] (" + what +
                                    " side by side), received " + format_shape(xs.shape));
  }
  // One step's rows stand for xs in the cell's checks.
  std::vector<TensorSpec> cell{{xs.dtype, {xs.shape[1], xs.shape[2]}}};
  cell.insert(cell.end(), in.begin() + 2, in.end());
  const Shape state = check_cell(op, cell, names, blocks, what);
  const TensorSpec& rk = in[1];
  const Shape want{state[1], xs.shape[2]};
  if (rk.dtype != xs.dtype || rk.shape != want) {
    throw OpError("ShapeError", std::string(op) + ": rk must be " + dtype_name(xs.dtype) + " " + format_shape(want) + " for xs " +
                                    format_shape(xs.shape) + ", received " + dtype_name(rk.dtype) + " " + format_shape(rk.shape));
  }
  return state;
}

// The sequence gradients' inputs: in[0] float [steps, batch, blocks * units]; in[k] has its dtype
// and shape want(k, steps, batch, units).
template <class Want>
void check_sequence_grad(const char* op, const std::vector<TensorSpec>& in, const char* const* names, int64_t blocks, const Want& want) {
  const TensorSpec& first = in[0];
  if ((first.dtype != DType::Float32 && first.dtype != DType::Float64) || first.shape.size() != 3 || first.shape[2] % blocks != 0) {
    throw OpError("ShapeError", std::string(op) + ": " + names[0] + " must be float32 or float64 [steps, batch, " + std::to_string(blocks) +
                                    " * units], received " + dtype_name(first.dtype) + " " + format_shape(first.shape));
  }
  const int64_t steps = first.shape[0], batch = first.shape[1], units = first.shape[2] / blocks;
  for (size_t k = 1; k < in.size(); ++k) {
    const Shape expected = want(k, steps, batch, units);
    if (in[k].dtype != first.dtype || in[k].shape != expected) {
      throw OpError("ShapeError", std::string(op) + ": " + names[k] + " must be " + dtype_name(first.dtype) + " " +
                                      format_shape(expected) + " for " + names[0] + " " + format_shape(first.shape) + ", received " +
                                      dtype_name(in[k].dtype) + " " + format_shape(in[k].shape));
    }
  }
}

std::vector<TensorSpec> infer_lstm_sequence(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  static const char* const names[] = {"xs[t]", "h0", "c0"};
  const Shape state = check_sequence("lstmSequence", in, names, 4, "the gates i, f, c, o");
  const int64_t steps = in[0].shape[0];
  const bool save = attrs.get_bool("lstmSequence", "saveActivations", false);
  const DType dtype = in[0].dtype;
  return {{dtype, {steps, state[0], state[1]}},
          {dtype, state},
          {dtype, save ? Shape{steps, state[0], 5 * state[1]} : Shape{0}},
          {dtype, save ? Shape{steps, state[0], state[1]} : Shape{0}}};
}

// lstmSequenceGrad [acts, cs, c0, rk, dhs, dcT]: acts [steps, batch, 5 * units], cs and dhs
// [steps, batch, units], c0 and dcT [batch, units], rk [units, 4 * units].
std::vector<TensorSpec> infer_lstm_sequence_grad(const std::vector<TensorSpec>& in, const Attrs&) {
  static const char* const names[] = {"acts", "cs", "c0", "rk", "dhs", "dcT"};
  check_sequence_grad("lstmSequenceGrad", in, names, 5, [](size_t k, int64_t steps, int64_t batch, int64_t units) -> Shape {
    if (k == 2 || k == 5) return {batch, units};
    if (k == 3) return {units, 4 * units};
    return {steps, batch, units};
  });
  const int64_t steps = in[0].shape[0], batch = in[0].shape[1], units = in[0].shape[2] / 5;
  return {{in[0].dtype, {steps, batch, 4 * units}}, {in[0].dtype, {batch, units}}, {in[0].dtype, {batch, units}}};
}

std::vector<TensorSpec> infer_gru_sequence(const std::vector<TensorSpec>& in, const Attrs& attrs) {
  static const char* const names[] = {"xs[t]", "h0"};
  const Shape state = check_sequence("gruSequence", {in.begin(), in.end() - 1}, names, 3, "the gates z, r, h");
  const TensorSpec& rb = in.back();
  if (rb.dtype != in[0].dtype || rb.shape != Shape{3 * state[1]}) {
    throw OpError("ShapeError", std::string("gruSequence: rb must be ") + dtype_name(in[0].dtype) + " " +
                                    format_shape(Shape{3 * state[1]}) + " for xs " + format_shape(in[0].shape) + ", received " +
                                    dtype_name(rb.dtype) + " " + format_shape(rb.shape));
  }
  const Shape saved = attrs.get_bool("gruSequence", "saveActivations", false) ? in[0].shape : Shape{0};
  return {{in[0].dtype, {in[0].shape[0], state[0], state[1]}}, {in[0].dtype, saved}, {in[0].dtype, saved}};
}

// gruSequenceGrad [acts, recs, hs, h0, rk, rb, dhs]: acts and recs [steps, batch, 3 * units], hs and
// dhs [steps, batch, units], h0 [batch, units], rk [units, 3 * units], rb [3 * units].
std::vector<TensorSpec> infer_gru_sequence_grad(const std::vector<TensorSpec>& in, const Attrs&) {
  static const char* const names[] = {"acts", "recs", "hs", "h0", "rk", "rb", "dhs"};
  check_sequence_grad("gruSequenceGrad", in, names, 3, [](size_t k, int64_t steps, int64_t batch, int64_t units) -> Shape {
    if (k == 1) return {steps, batch, 3 * units};
    if (k == 3) return {batch, units};
    if (k == 4) return {units, 3 * units};
    if (k == 5) return {3 * units};
    return {steps, batch, units};
  });
  const Shape& gates = in[0].shape;
  return {{in[0].dtype, gates}, {in[0].dtype, gates}, {in[0].dtype, {gates[1], gates[2] / 3}}};
}

}  // namespace

void define_rnn_ops(KernelRegistry& registry) {
  registry.define_op("lstmCell", 3, infer_lstm_cell);
  registry.define_op("lstmCellGrad", 4, infer_lstm_cell_grad);
  registry.define_op("gruCell", 4, infer_gru_cell);
  registry.define_op("gruCellGrad", 5, infer_gru_cell_grad);
  registry.define_op("lstmSequence", 4, infer_lstm_sequence);
  registry.define_op("lstmSequenceGrad", 6, infer_lstm_sequence_grad);
  registry.define_op("gruSequence", 4, infer_gru_sequence);
  registry.define_op("gruSequenceGrad", 7, infer_gru_sequence_grad);
}

}  // namespace keras::kernels
