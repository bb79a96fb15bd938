// float32 softmax rows over an ISA tag, in float lanes but the sum. Three passes over a
// row, which stays in L1 between them: its min and max (the pass that waits on memory);
// p = e^(x - c), c of the row's choosing (vector_math::exp), stored to y and summed; then
// y = p / sum as one multiply-add per vector (logSoftmax: y = x - max - log(sum)). The
// middle pass computes from L1, so the next row is prefetched during it. Past that, the
// cost is lane operations per element: each step below is as few as exactness allows.
//
// Accuracy (test/native/softmax.test.ts: every element against the js kernel, which
// computes in double and rounds once, and 4096-wide rows against float64):
// - softmax, max in [-84, 88]: p = e^x 2^k (Shift::kPow2): x is exact, p within exp's 1 ulp.
// - Else, and logSoftmax always: x - max rounded in float would cost up to 104 * 2^-24
//   relative in the exp; its rounding error is recovered exactly (TwoSum) and applied as
//   e^(d + err) = e^d (1 + err): each p within 1.5 ulps, the max's own p exactly 1.
// - The sum in double (softmax: of float pairs of p, 2^-24 relative at most), so it is
//   within the weighted mean of the p errors, which average out.
// - softmax: 1/sum as hi + lo (two floats holding the double 1/sum): one rounding, as js.
// - logSoftmax: x - (max + log(sum)) in float, the constant as two floats (1 ulp), or in
//   double where log(sum) is tiny beside it.
// Measured on 4096-wide rows of x in +-4 (+-60): softmax within 1.6 (1.8) ulps of float64
// on avx512, 2.0 (2.1) on the portable path; logSoftmax within 1.0.
#pragma once
#include <cmath>
#include <cstdint>

#include "simd/vector_math.h"
#include "softmax.h"

namespace keras::cpu {
namespace softmax_detail {

struct Range {
  float max, min;
};

// The row's max and min; the min lets a row whose values all lie where exp needs no
// clamp skip it (two lane ops of the exp pass, which computes, where this pass waits on
// memory). A NaN is passed over here (acc < NaN is false), which costs nothing:
// e^(NaN - max) makes the sum, and so every output of the row, NaN, as js's Math.max
// does. Four accumulators each: one would wait on its own compare each vector.
template <class Isa>
Range row_range(const float* x, int64_t n) {
  using F = typename Isa::template Vec<float>;
  constexpr int W = F::kWidth, kAcc = 4;
  Range r{-INFINITY, INFINITY};
  int64_t k = 0;
  if (n >= kAcc * W) {
    typename F::Reg hi[kAcc], lo[kAcc];
    for (int a = 0; a < kAcc; ++a) hi[a] = lo[a] = F::loadu(x + a * W);
    auto take = [&](int a, typename F::Reg v) {
      hi[a] = F::select_less(hi[a], v, v, hi[a]);
      lo[a] = F::select_less(v, lo[a], v, lo[a]);
    };
    for (k = kAcc * W; k + kAcc * W <= n; k += kAcc * W)
      for (int a = 0; a < kAcc; ++a) take(a, F::loadu(x + k + a * W));
    for (; k + W <= n; k += W) take(0, F::loadu(x + k));
    for (int a = 1; a < kAcc; ++a) {
      take(0, hi[a]);
      take(0, lo[a]);
    }
    alignas(64) float his[W], los[W];
    F::storeu(his, hi[0]);
    F::storeu(los, lo[0]);
    for (int i = 0; i < W; ++i) {
      r.max = (his[i] > r.max || his[i] != his[i]) ? his[i] : r.max;
      r.min = los[i] < r.min ? los[i] : r.min;
    }
  }
  for (; k < n; ++k) {
    r.max = (x[k] > r.max || x[k] != x[k]) ? x[k] : r.max;
    r.min = x[k] < r.min ? x[k] : r.min;
  }
  return r;
}

// How a row forms its p, by its max m (finite). Softmax needs p only up to a common
// factor; logSoftmax's log(sum) near 0 needs the max's own term to be exactly 1.
enum class Shift {
  kPow2,       // softmax, -84 <= m <= 88: p = e^x 2^kPow2 (in exp's one rounding), x exact
  kRecovered,  // p = e^(x - m): x - m rounded in float, its rounding error recovered exactly
  kLargeMax,   // |m| >= 2^24: p = e^(x - m), exact wherever p is not 0
};

constexpr int kNoPow2 = 1;

// kPow2 for a softmax row's max, kNoPow2 where the row takes another Shift: 2^kPow2 brings
// e^m into [1, e^48], so p is normal wherever p / sum is (x >= m - 87.3; below, p / sum
// is subnormal anyway), and n p fits well inside float (n < 2^32: see row_exp_sum).
// (Templates over Isa, as every function here: a copy compiled with AVX flags must not be
// the one the linker keeps for another path.)
template <class Isa>
int pow2_for_max(float m) {
  if (m >= 0 && m <= 48) return 0;
  if (m > 48 && m <= 88) return -64;
  if (m >= -40 && m < 0) return 64;
  if (m >= -84 && m < -40) return 128;
  return kNoPow2;
}

// kNarrow: every x of the row lies where the exp needs no clamp (narrow_enough).
template <class F, Shift kShift, int kPow2, bool kNarrow>
struct RowExp {
  using Reg = typename F::Reg;
  Reg lo, hi, neg_m;

  explicit RowExp(float m)
      // kRecovered: x below lo has e^(x - m) = 0 in float; clamping it there keeps x - m
      // finite (x = -inf) and inside the range of exp's unclamped form (|m| < 2^24: lo - m
      // is within 1 of -112).
      : lo(F::set1(float(double(m) - 112))), hi(F::set1(m)), neg_m(F::set1(-m)) {}

  Reg operator()(Reg x) const {
    if constexpr (kShift == Shift::kPow2) return vector_math::exp<F, kPow2, !kNarrow>(x);
    // Any x within 104 of m is within a factor 2 of it: x - m is exact (Sterbenz), and
    // the rest gives 0 through exp's clamp.
    if constexpr (kShift == Shift::kLargeMax) return vector_math::exp<F>(F::add(x, neg_m));
    const Reg xc = kNarrow ? x : F::clamp(x, lo, hi);  // NaN stays NaN
    const Reg d = F::add(xc, neg_m);
    const Reg b = F::sub(d, xc);
    const Reg err = F::add(F::sub(xc, F::sub(d, b)), F::sub(neg_m, b));  // d + err = x - m exactly
    const Reg v = vector_math::exp<F, 0, false>(d);
    return F::fmadd(v, err, v);
  }
};

// sum(p) over the vectors from x[0], p stored to e when kStore; returns the sum and sets
// *done to the elements covered. This pass computes from L1, so it is when memory is
// free to work: `next` (the next row, or null) is prefetched meanwhile (to L2: L1 holds
// this row's x and y), or the next row's first pass would wait on it with nothing to
// overlap, and `out` (null, or where a later pass writes the row) is brought in.
//
// The sum: kStash vectors wait in a stash, as floats, and are added in double lanes
// together (Vec has no register float-to-double widening, and a store read back at once
// would stall on store forwarding). softmax (kStore) stashes p in float pairs (one
// rounding, 2^-24 of the pair at most: its outputs need the sum to 2^-24 relative);
// logSoftmax and the cross-entropy stash every p as it is: log(sum) near 0 (one
// dominant entry) needs sum - 1 to a few ulps.
template <class Isa, bool kStore, Shift kShift, int kPow2, bool kNarrow>
double exp_sum_lanes(const float* x, int64_t n, float m, float* e, const float* next, const float* out,
                     int64_t* done) {
  using F = typename Isa::template Vec<float>;
  using D = typename Isa::template Vec<double>;
  constexpr int W = F::kWidth, kLine = 64 / sizeof(float), kStash = 8;
  constexpr int kPer = kStore ? 2 : 1;  // vectors per stash entry
  constexpr int64_t kChunk = int64_t(kStash) * kPer * W;
  const RowExp<F, kShift, kPow2, kNarrow> term(m);
  alignas(64) float stash[kStash * W];
  typename D::Reg acc[2] = {D::zero(), D::zero()};
  auto drain = [&](int entries) {
    for (int i = 0; i < entries * W; i += 2 * D::kWidth) {  // W is a multiple of 2 D::kWidth
      acc[0] = D::add(acc[0], D::load_float(stash + i));
      acc[1] = D::add(acc[1], D::load_float(stash + i + D::kWidth));
    }
  };
  auto entry = [&](int64_t k, int slot) {
    for (int j = 0; j < kPer * W; j += kLine) {
      if (next) __builtin_prefetch(next + k + j, 0, 2);
      if (out) __builtin_prefetch(out + k + j, 1);
    }
    auto sum = term(F::loadu(x + k));
    if constexpr (kStore) F::storeu(e + k, sum);
    for (int v = 1; v < kPer; ++v) {
      const auto p = term(F::loadu(x + k + v * W));
      if constexpr (kStore) F::storeu(e + k + v * W, p);
      sum = F::add(sum, p);
    }
    F::storeu(stash + slot * W, sum);
  };
  int64_t k = 0;
  for (; k + kChunk <= n; k += kChunk) {
    for (int i = 0; i < kStash; ++i) entry(k + i * kPer * W, i);
    drain(kStash);
  }
  int used = 0;
  for (; k + kPer * W <= n; k += kPer * W) entry(k, used++);
  for (; k + W <= n; k += W) {  // one vector left (kPer 2)
    const auto p = term(F::loadu(x + k));
    if constexpr (kStore) F::storeu(e + k, p);
    F::storeu(stash + used++ * W, p);
  }
  drain(used);
  *done = k;
  alignas(64) double sums[D::kWidth];
  D::storeu(sums, D::add(acc[0], acc[1]));
  double s = 0;
  for (int i = 0; i < D::kWidth; ++i) s += sums[i];
  return s;
}

// Whether every x in [min, max] lies where the exp of kShift (kPow2) needs no clamp:
// exp's own bounds for kPow2, and x - max >= -112 for kRecovered (lo in RowExp).
template <class Isa, Shift kShift, int kPow2>
bool narrow_enough(Range r) {
  if constexpr (kShift == Shift::kPow2) return r.min >= -104.0 - kPow2 * 0.6931471805599453;
  return double(r.min) >= double(r.max) - 112;
}

template <class Isa, bool kStore, Shift kShift, int kPow2 = 0>
double exp_sum_by_range(const float* x, int64_t n, Range r, float* e, const float* next, const float* out,
                        int64_t* done) {
  if (kShift != Shift::kLargeMax && narrow_enough<Isa, kShift, kPow2>(r))
    return exp_sum_lanes<Isa, kStore, kShift, kPow2, true>(x, n, r.max, e, next, out, done);
  return exp_sum_lanes<Isa, kStore, kShift, kPow2, false>(x, n, r.max, e, next, out, done);
}

// sum(p) in double; with kStore (softmax), also stores each p (a float) to e.
template <class Isa, bool kStore>
double row_exp_sum(const float* x, int64_t n, Range r, float* e, const float* next, const float* out) {
  const float m = r.max;
  int64_t k = 0;
  double s = 0, shift = m;  // the scalar steps form p = e^(x - shift) 2^pow2, as the lanes do
  int pow2 = 0;
  // A row whose max is +-inf or NaN has no finite differences: the scalar steps give js's NaN/0.
  if (std::isfinite(m)) {
    // n < 2^32 keeps a kPow2 sum under 2^102, so 1/sum and its low part are normal floats.
    const int scale = kStore && n < (int64_t(1) << 32) ? pow2_for_max<Isa>(m) : kNoPow2;
    switch (scale) {
      case 0: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, 0>(x, n, r, e, next, out, &k); break;
      case -64: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, -64>(x, n, r, e, next, out, &k); break;
      case 64: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, 64>(x, n, r, e, next, out, &k); break;
      case 128: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, 128>(x, n, r, e, next, out, &k); break;
      default:
        s = std::fabs(m) < 16777216.0f ? exp_sum_by_range<Isa, kStore, Shift::kRecovered>(x, n, r, e, next, out, &k)
                                       : exp_sum_by_range<Isa, kStore, Shift::kLargeMax>(x, n, r, e, next, out, &k);
    }
    if (scale != kNoPow2) {
      shift = 0;
      pow2 = scale;
    }
  }
  for (; k < n; ++k) {
    const double v = std::ldexp(std::exp(double(x[k]) - shift), pow2);
    s += v;
    if constexpr (kStore) e[k] = float(v);
  }
  return s;
}

template <class Isa>
void f32_row(const float* x, float* y, int64_t n, bool log, const float* next) {
  using F = typename Isa::template Vec<float>;
  using D = typename Isa::template Vec<double>;
  if (n == 0) return;
  const Range r = row_range<Isa>(x, n);
  const float m = r.max;
  int64_t k = 0;
  if (log) {
    const double ls = std::log(row_exp_sum<Isa, false>(x, n, r, nullptr, next, y));
    const double c = double(m) + ls;
    if (ls * 1024 >= std::fabs(c)) {
      // x - c in float lanes, c as two floats: (x - c_hi) is within 2^-14 of y (c_lo is
      // at most 2^-24 |c| <= 2^-14 log(sum) <= 2^-14 |y|), so y is within 1 ulp.
      const float c_hi = float(c), c_lo = float(c - c_hi);
      const auto hi = F::set1(c_hi), lo = F::set1(c_lo);
      for (; k + F::kWidth <= n; k += F::kWidth) F::storeu(y + k, F::sub(F::sub(F::loadu(x + k), hi), lo));
    } else {
      // log(sum) tiny beside c (a dominant entry, whose output is -log(sum)): x - m - log(sum)
      // in double, two subtractions as js, so that output keeps its digits.
      const auto mv = D::set1(m), lv = D::set1(ls);
      for (; k + D::kWidth <= n; k += D::kWidth) D::store_float(y + k, D::sub(D::sub(D::load_float(x + k), mv), lv));
    }
    for (; k < n; ++k) y[k] = float(double(x[k]) - m - ls);
    return;
  }
  // p goes to y as the pass runs: y's lines are requested 1 KiB ahead of those stores
  // (past the row's end, the next row's, or a prefetch that never faults).
  const double inv = 1 / row_exp_sum<Isa, true>(x, n, r, y, next, n > 512 ? y + 256 : nullptr);
  const float inv_hi = float(inv), inv_lo = float(inv - inv_hi);
  const auto hi = F::set1(inv_hi), lo = F::set1(inv_lo);
  for (; k + F::kWidth <= n; k += F::kWidth) {
    const auto p = F::loadu(y + k);
    F::storeu(y + k, F::fmadd(p, hi, F::mul(p, lo)));
  }
  for (; k < n; ++k) y[k] = float(double(y[k]) * inv);
}

template <class Isa>
double f32_lse(const float* x, int64_t n, double* m, const float* next) {
  const Range r = row_range<Isa>(x, n);
  *m = r.max;
  return std::log(row_exp_sum<Isa, false>(x, n, r, nullptr, next, nullptr));
}

}  // namespace softmax_detail

template <class Isa>
constexpr SoftmaxIsaTable make_softmax_table(const char* isa) {
  return SoftmaxIsaTable{isa, softmax_detail::f32_row<Isa>, softmax_detail::f32_lse<Isa>};
}

}  // namespace keras::cpu
