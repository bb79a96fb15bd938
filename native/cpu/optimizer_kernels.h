// The fused optimizer updates over an ISA tag, one template for float32 and float64: every
// value stays in registers from its loads to its stores (a dozen elementwise passes wrote each
// intermediate to a tile and read it back). The last elements go through the same code in a
// partial vector. Include only from optimizer_<isa>.cc, after the ISA's simd header.
#pragma once
#include <algorithm>
#include <cstdint>

#include "optimizer.h"
#include "simd/vector_math.h"

namespace keras::cpu {
namespace optimizer_detail {

template <class V>
void adam(const typename V::T* p, const typename V::T* g, const typename V::T* m, const typename V::T* v,
          const AdamScalars<typename V::T>& s, typename V::T* p_out, typename V::T* m_out, typename V::T* v_out,
          int64_t n) {
  using vector_math::rounded;
  const auto alpha = V::set1(s.alpha), momentum_rate = V::set1(s.momentum_rate);
  const auto velocity_rate = V::set1(s.velocity_rate), epsilon = V::set1(s.epsilon);
  for (int64_t i = 0; i < n; i += V::kWidth) {
    const int count = int(std::min<int64_t>(V::kWidth, n - i));
    const auto load = [&](const typename V::T* x) { return count == V::kWidth ? V::loadu(x + i) : V::load_first(x + i, count); };
    const auto store = [&](typename V::T* x, typename V::Reg r) {
      if (count == V::kWidth) V::storeu(x + i, r);
      else V::store_first(x + i, r, count);
    };
    const auto gi = load(g), mi = load(m), vi = load(v), pi = load(p);
    const auto m_next = V::add(mi, rounded(V::mul(V::sub(gi, mi), momentum_rate)));
    const auto v_next = V::add(vi, rounded(V::mul(V::sub(rounded(V::mul(gi, gi)), vi), velocity_rate)));
    const auto step = V::div(rounded(V::mul(m_next, alpha)), V::add(V::sqrt(v_next), epsilon));
    store(m_out, m_next);
    store(v_out, v_next);
    store(p_out, V::sub(pi, step));
  }
}

}  // namespace optimizer_detail

template <class Isa>
constexpr OptimizerIsaTable make_optimizer_table(const char* isa) {
  using F32 = typename Isa::template Vec<float>;
  using F64 = typename Isa::template Vec<double>;
  return {isa, {&optimizer_detail::adam<F32>}, {&optimizer_detail::adam<F64>}};
}

}  // namespace keras::cpu
