// The per-ISA row functions of the fused optimizer updates (optimizer_kernels.h, instantiated in
// optimizer_<isa>.cc; driven by optimizer.cc).
#pragma once
#include <cstdint>

namespace keras::cpu {

// Adam's scalars in the element type: alpha (the step's learning rate with both bias
// corrections), 1 - beta1, 1 - beta2 and epsilon.
template <class T>
struct AdamScalars {
  T alpha, momentum_rate, velocity_rate, epsilon;
};

template <class T>
struct OptimizerRows {
  // For n elements: m' = m + (g - m) momentum_rate, v' = v + (g^2 - v) velocity_rate,
  // p' = p - (m' alpha) / (sqrt(v') + epsilon), each op rounded to T (no fused multiply-adds),
  // as lib/ops/optimizer.ts defines adamUpdate. An output may be its own input (in place).
  void (*adam)(const T* p, const T* g, const T* m, const T* v, const AdamScalars<T>& s, T* p_out, T* m_out, T* v_out,
               int64_t n);
};

struct OptimizerIsaTable {
  const char* isa;
  OptimizerRows<float> f32;
  OptimizerRows<double> f64;
};

extern const OptimizerIsaTable kOptimizerAvx512;
extern const OptimizerIsaTable kOptimizerAvx2;
extern const OptimizerIsaTable kOptimizerPortable;

}  // namespace keras::cpu
