// Vector helpers shared by the normalization row kernels (norm_kernels.h and
// batch_norm_kernels.h), over an ISA's Vec<double>: float32 values are converted on load
// and store, so sums run in double as the js reference does. Both kernel headers are
// instantiated in the same per-ISA translation unit (norm_<isa>.cc), so these templates
// exist once per ISA (see test/native/isa_isolation.test.ts).
#pragma once
#include <cstdint>
#include <type_traits>

namespace keras::cpu::norm_simd {

template <class V, class T>
typename V::Reg load(const T* p) {
  if constexpr (std::is_same_v<T, float>) return V::load_float(p);
  else return V::loadu(p);
}

template <class V, class T>
void store(T* p, typename V::Reg v) {
  if constexpr (std::is_same_v<T, float>) V::store_float(p, v);
  else V::storeu(p, v);
}

template <class V>
double hsum(typename V::Reg r) {
  alignas(64) double lanes[V::kWidth];
  V::storeu(lanes, r);
  double s = 0;
  for (int i = 0; i < V::kWidth; ++i) s += lanes[i];
  return s;
}

// Folds step(acc, k) over the full vectors of a run from *k on, with four independent
// accumulators (one would make the loop wait on the add latency), then merges them.
template <class V, class Acc, class Step, class Merge>
Acc reduce_run(int64_t n, int64_t* k, Acc zero, Step step, Merge merge) {
  constexpr int W = V::kWidth;
  Acc a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  for (; *k + 4 * W <= n; *k += 4 * W) {
    a0 = step(a0, *k);
    a1 = step(a1, *k + W);
    a2 = step(a2, *k + 2 * W);
    a3 = step(a3, *k + 3 * W);
  }
  for (; *k + W <= n; *k += W) a0 = step(a0, *k);
  return merge(merge(a0, a1), merge(a2, a3));
}

// Sums of d = x[k] - shift and of d^2 over a run, in double lanes: one pass for the moments
// (var = E[d^2] - E[d]^2 does not cancel when the shift is a value of the run).
template <class V, class T>
void shifted_sums(const T* x, int64_t n, double shift, double* s1, double* s2) {
  using Reg = typename V::Reg;
  struct Sums {
    Reg d, dd;
  };
  const auto sv = V::set1(shift);
  int64_t k = 0;
  const Sums sums = reduce_run<V>(n, &k, Sums{V::zero(), V::zero()}, [&](Sums acc, int64_t i) {
    const Reg d = V::sub(load<V>(x + i), sv);
    return Sums{V::add(acc.d, d), V::fmadd(d, d, acc.dd)};
  }, [](Sums a, Sums b) { return Sums{V::add(a.d, b.d), V::add(a.dd, b.dd)}; });
  double r1 = hsum<V>(sums.d), r2 = hsum<V>(sums.dd);
  for (; k < n; ++k) {
    const double d = double(x[k]) - shift;
    r1 += d;
    r2 += d * d;
  }
  *s1 = r1;
  *s2 = r2;
}

}  // namespace keras::cpu::norm_simd
