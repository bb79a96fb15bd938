// LSTM and GRU cell rows over an ISA tag, one template for float32 and float64: the activations are
// vector_math's sigmoid and tanh (those of the elementwise ops), a row's last columns go
// through the same code in partial vectors. Include only from rnn_<isa>.cc, after the ISA's
// simd header.
#pragma once
#include <cstdint>

#include "rnn.h"
#include "simd/vector_math.h"

namespace keras::cpu {
namespace rnn_detail {

// `count` lanes (kWidth for a whole vector) from or to p.
template <class V>
typename V::Reg load(const typename V::T* p, int count) {
  return count == V::kWidth ? V::loadu(p) : V::load_first(p, count);
}
template <class V>
void store(typename V::T* p, typename V::Reg v, int count) {
  if (count == V::kWidth) V::storeu(p, v);
  else V::store_first(p, v, count);
}

template <class V>
void forward(const typename V::T* x, const typename V::T* rec, const typename V::T* c, typename V::T* h,
             typename V::T* c_new, typename V::T* acts, int64_t rows, int64_t units) {
  using vector_math::sigmoid;
  using vector_math::tanh;
  for (int64_t r = 0; r < rows; ++r) {
    const auto *xr = x + r * 4 * units, *rr = rec + r * 4 * units, *cr = c + r * units;
    auto *a = acts + r * 5 * units, *cn = c_new + r * units, *hr = h + r * units;
    for (int64_t k = 0; k < units; k += V::kWidth) {
      const int n = int(units - k < V::kWidth ? units - k : V::kWidth);
      // Gate b's pre-activation: x + rec in block b.
      const auto z = [&](int64_t b) { return V::add(load<V>(xr + b * units + k, n), load<V>(rr + b * units + k, n)); };
      const auto i = sigmoid<V>(z(0)), f = sigmoid<V>(z(1)), g = tanh<V>(z(2)), o = sigmoid<V>(z(3));
      const auto next = V::add(V::mul(f, load<V>(cr + k, n)), V::mul(i, g));
      const auto t = tanh<V>(next);
      store<V>(a + k, i, n);
      store<V>(a + units + k, f, n);
      store<V>(a + 2 * units + k, g, n);
      store<V>(a + 3 * units + k, o, n);
      store<V>(a + 4 * units + k, t, n);
      store<V>(cn + k, next, n);
      store<V>(hr + k, V::mul(o, t), n);
    }
  }
}

template <class V>
void backward(const typename V::T* acts, const typename V::T* c, const typename V::T* dh, const typename V::T* dc,
              typename V::T* dz, typename V::T* dc_prev, int64_t rows, int64_t units) {
  const auto one = V::set1(typename V::T(1));
  for (int64_t r = 0; r < rows; ++r) {
    const auto *a = acts + r * 5 * units, *cr = c + r * units, *dhr = dh + r * units, *dcr = dc + r * units;
    auto *dzr = dz + r * 4 * units, *dcp = dc_prev + r * units;
    for (int64_t k = 0; k < units; k += V::kWidth) {
      const int n = int(units - k < V::kWidth ? units - k : V::kWidth);
      const auto i = load<V>(a + k, n), f = load<V>(a + units + k, n), g = load<V>(a + 2 * units + k, n);
      const auto o = load<V>(a + 3 * units + k, n), t = load<V>(a + 4 * units + k, n);
      const auto dhk = load<V>(dhr + k, n);
      // dc~ = dc + dh o (1 - t^2)
      const auto d = V::add(load<V>(dcr + k, n), V::mul(V::mul(dhk, o), V::sub(one, V::mul(t, t))));
      store<V>(dzr + k, V::mul(V::mul(d, g), V::mul(i, V::sub(one, i))), n);
      store<V>(dzr + units + k, V::mul(V::mul(d, load<V>(cr + k, n)), V::mul(f, V::sub(one, f))), n);
      store<V>(dzr + 2 * units + k, V::mul(V::mul(d, i), V::sub(one, V::mul(g, g))), n);
      store<V>(dzr + 3 * units + k, V::mul(V::mul(dhk, t), V::mul(o, V::sub(one, o))), n);
      store<V>(dcp + k, V::mul(d, f), n);
    }
  }
}

template <class V>
void gru_forward(const typename V::T* x, const typename V::T* rec, const typename V::T* rb, const typename V::T* h,
                 typename V::T* h_new, typename V::T* acts, int64_t rows, int64_t units) {
  using vector_math::sigmoid;
  using vector_math::tanh;
  const auto one = V::set1(typename V::T(1));
  for (int64_t r = 0; r < rows; ++r) {
    const auto *xr = x + r * 3 * units, *rr = rec + r * 3 * units, *hr = h + r * units;
    auto *a = acts + r * 3 * units, *out = h_new + r * units;
    for (int64_t k = 0; k < units; k += V::kWidth) {
      const int n = int(units - k < V::kWidth ? units - k : V::kWidth);
      // Block b of rec + rb, rounded as the add it replaces.
      const auto biased = [&](int64_t b) { return V::add(load<V>(rr + b * units + k, n), load<V>(rb + b * units + k, n)); };
      const auto z = sigmoid<V>(V::add(load<V>(xr + k, n), biased(0)));
      const auto reset = sigmoid<V>(V::add(load<V>(xr + units + k, n), biased(1)));
      const auto hh = tanh<V>(V::add(load<V>(xr + 2 * units + k, n), V::mul(reset, biased(2))));
      store<V>(a + k, z, n);
      store<V>(a + units + k, reset, n);
      store<V>(a + 2 * units + k, hh, n);
      store<V>(out + k, V::add(V::mul(z, load<V>(hr + k, n)), V::mul(V::sub(one, z), hh)), n);
    }
  }
}

template <class V>
void gru_backward(const typename V::T* acts, const typename V::T* rec, const typename V::T* rb, const typename V::T* h,
                  const typename V::T* dh, typename V::T* dx, typename V::T* drec, typename V::T* dh_prev, int64_t rows,
                  int64_t units) {
  const auto one = V::set1(typename V::T(1));
  for (int64_t r = 0; r < rows; ++r) {
    const auto *a = acts + r * 3 * units, *rr = rec + r * 3 * units, *hr = h + r * units, *dhr = dh + r * units;
    auto *dxr = dx + r * 3 * units, *drr = drec + r * 3 * units, *dhp = dh_prev + r * units;
    for (int64_t k = 0; k < units; k += V::kWidth) {
      const int n = int(units - k < V::kWidth ? units - k : V::kWidth);
      const auto z = load<V>(a + k, n), reset = load<V>(a + units + k, n), hh = load<V>(a + 2 * units + k, n);
      const auto d = load<V>(dhr + k, n);
      const auto pz = V::mul(V::mul(d, V::sub(load<V>(hr + k, n), hh)), V::mul(z, V::sub(one, z)));
      const auto ph = V::mul(V::mul(d, V::sub(one, z)), V::sub(one, V::mul(hh, hh)));
      const auto rec_h = V::add(load<V>(rr + 2 * units + k, n), load<V>(rb + 2 * units + k, n));
      const auto pr = V::mul(V::mul(ph, rec_h), V::mul(reset, V::sub(one, reset)));
      store<V>(dxr + k, pz, n);
      store<V>(dxr + units + k, pr, n);
      store<V>(dxr + 2 * units + k, ph, n);
      store<V>(drr + k, pz, n);
      store<V>(drr + units + k, pr, n);
      store<V>(drr + 2 * units + k, V::mul(ph, reset), n);
      store<V>(dhp + k, V::mul(d, z), n);
    }
  }
}

template <class V>
constexpr RnnRows<typename V::T> rows_of() {
  return {{&forward<V>, &backward<V>}, {&gru_forward<V>, &gru_backward<V>}};
}

}  // namespace rnn_detail

template <class Isa>
constexpr RnnIsaTable make_rnn_table(const char* isa) {
  return {isa, rnn_detail::rows_of<typename Isa::template Vec<float>>(), rnn_detail::rows_of<typename Isa::template Vec<double>>()};
}

}  // namespace keras::cpu
