// float32 softmax rows over an ISA tag, in float lanes but the sum. Three steps per row,
// which stays in L1 between them: its min and max; p = e^(x - c), c of the row's choosing
// (vector_math::exp), stored to y and summed; then y = p / sum as one multiply-add per
// vector (logSoftmax: y = x - max - log(sum)). The exp pass computes from L1, so it also
// reads the next row's min and max from memory (softmax and logSoftmax alike), and
// softmax's scales the previous row's p
// (a pass of its own left memory idle). Past that, the cost is lane operations
// per element: each step below is as few as exactness allows. An output past the
// last-level cache is written by streaming stores where its rows start on lines: softmax's
// p wait in two rows of scratch instead of y, logSoftmax's last pass streams y; y's lines
// are then not read first ([4096, 4096], 2 threads, % of copy: softmax 61-65 -> 77-91,
// logSoftmax 55-69 -> 77-80).
//
// Accuracy (test/native/softmax.test.ts: every element against the js kernel, which
// computes in double and rounds once, and 4096-wide rows against float64):
// - softmax, max in [-84, 88]: p = e^x 2^k (Shift::kPow2): x is exact, p within exp's 1 ulp.
// - logSoftmax and the cross-entropy, max in [-84, 88]: the same p (exp's Horner form where fmadd
//   rounds once: within 0.73 ulp), summed in float packs
//   (2^-23 relative), then scaled by e^-max 2^-k in double; where log(sum) is near 0 (sum
//   under 16), the max's own term is recomputed out of its pack and taken as exactly 1
//   (log_sum_pow2).
// - Else: x - max rounded in float would cost up to 104 * 2^-24
//   relative in the exp; its rounding error is recovered exactly (TwoSum) and applied as
//   e^(d + err) = e^d (1 + err): each p within 1.5 ulps, the max's own p exactly 1.
// - The sum in double (softmax: of float pairs of p, 2^-24 relative at most), so it is
//   within the weighted mean of the p errors, which average out.
// - softmax: 1/sum as hi + lo (two floats holding the double 1/sum): one rounding, as js.
// - logSoftmax: x - (max + log(sum)) in float, the constant as two floats (1 ulp), or in
//   double where log(sum) is tiny beside it.
// Measured on 4096-wide rows of x in +-4 (+-60): softmax within 1.6 (1.8) ulps of float64
// on avx512, 2.0 (2.1) on the portable path; logSoftmax within 1.01 (1.0), the cross-entropy
// 0.50 (0.50) on every path (256 rows).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "simd/pack.h"
#include "simd/streaming.h"
#include "simd/vector_math.h"
#include "softmax.h"

namespace keras::cpu {
namespace softmax_detail {

struct Range {
  float max, min;
};

// The max and min of a row x; the min lets a row whose values all lie where exp needs no
// clamp skip it (two lane ops of the exp pass, which computes, where this pass waits on
// memory). Dropping the min (and the clamp: a wrong result for -inf) measured 0.98-0.99x
// the cross-entropy's time in cache, none from memory; a lower-only clamp in its place is
// the same op count, so the min stays. A NaN is passed over here (at_least and at_most keep the accumulator), which
// costs nothing: e^(NaN - max) makes the sum, and so every output of the row, NaN, as
// js's Math.max does. Four accumulators each: one would wait on its own max each vector.
// Blocks of four vectors are taken in order from x[0], by the row's own pass (row_range)
// or by the previous row's exp pass (exp_sum_lanes): the same steps, so the same Range.
template <class F>
struct RangeAcc {
  using Reg = typename F::Reg;
  static constexpr int W = F::kWidth, kAcc = 4, kBlock = kAcc * W;
  const float* x;
  int64_t done = 0;  // elements taken, whole blocks
  Reg hi[kAcc], lo[kAcc];

  explicit RangeAcc(const float* row) : x(row) {
    for (int a = 0; a < kAcc; ++a) hi[a] = lo[a] = F::zero();
  }
  // hi < v ? v : hi and v < lo ? v : lo, one instruction each.
  void take(int a, Reg v) {
    hi[a] = F::at_least(hi[a], v);
    lo[a] = F::at_most(lo[a], v);
  }
  // x[done, done + kBlock): the first block starts the accumulators.
  void block() {
    for (int a = 0; a < kAcc; ++a) {
      const Reg v = F::loadu(x + done + a * W);
      if (done == 0) hi[a] = lo[a] = v;
      else take(a, v);
    }
    done += kBlock;
  }
  // The rest of a row of n.
  Range finish(int64_t n) {
    Range r{-INFINITY, INFINITY};
    int64_t k = 0;
    if (n >= W) {
      while (done + kBlock <= n) block();
      if (done == 0) {  // a row under a block: its first vector starts the accumulator
        hi[0] = lo[0] = F::loadu(x);
        k = W;
      } else {
        for (int a = 1; a < kAcc; ++a) {
          take(0, hi[a]);
          take(0, lo[a]);
        }
        k = done;
      }
      for (; k + W <= n; k += W) take(0, F::loadu(x + k));
      // lo holds NaN in the lanes hi does. Folded in lanes: a scalar pass over them, a
      // branch per lane, was most of a 64-float row's range.
      r.max = F::any_nan(hi[0]) ? std::numeric_limits<float>::quiet_NaN() : F::max_lane(hi[0]);
      r.min = F::min_lane(lo[0]);
    }
    for (; k < n; ++k) {
      r.max = (x[k] > r.max || x[k] != x[k]) ? x[k] : r.max;
      r.min = x[k] < r.min ? x[k] : r.min;
    }
    return r;
  }
};

template <class Isa>
using RangeOf = RangeAcc<typename Isa::template Vec<float>>;

template <class Isa>
Range row_range(const float* x, int64_t n) {
  return RangeOf<Isa>(x).finish(n);
}

// How a row forms its p, by its max m (finite). Softmax needs p only up to a common
// factor; logSoftmax's log(sum) near 0 needs the max's own term to be exactly 1.
enum class Shift {
  kPow2,       // -84 <= m <= 88: p = e^x 2^kPow2 (in exp's one rounding), x exact
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

// kNarrow: every x of the row lies where the exp needs no clamp (narrow_enough). kLogSum:
// kPow2's p by exp's Horner form (logSoftmax, cross-entropy) where fmadd rounds once (without,
// Horner's last step rounds twice: 1.03 ulps), else by vector_math::exp (softmax).
template <class F, Shift kShift, int kPow2, bool kNarrow, bool kLogSum = false>
struct RowExp {
  using Reg = typename F::Reg;
  Reg lo, hi, neg_m;

  explicit RowExp(float m)
      // kRecovered: x below lo has e^(x - m) = 0 in float; clamping it there keeps x - m
      // finite (x = -inf) and inside the range of exp's unclamped form (|m| < 2^24: lo - m
      // is within 1 of -112).
      : lo(F::set1(float(double(m) - 112))), hi(F::set1(m)), neg_m(F::set1(-m)) {}

  Reg operator()(Reg x) const {
    if constexpr (kShift == Shift::kPow2 && kLogSum && F::kFusedMultiplyAdd) return vector_math::exp<F, kPow2, !kNarrow, true>(x);
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

// Floats ahead of the range blocks at which an exp pass requests the next row's lines.
constexpr int64_t kRowAhead = 1024;

// The address `offset` floats past p (0 for null), for prefetches: past the end of the
// data they request lines nobody reads, and no pointer is formed there.
template <class Isa>
uintptr_t address(const float* p, int64_t offset = 0) {
  return p ? reinterpret_cast<uintptr_t>(p) + uintptr_t(offset) * sizeof(float) : 0;
}

// A softmax row whose p wait for their scale by 1/sum: y = p * (hi + lo), hi + lo the
// double inv as two floats (one rounding, as js), inv itself for the scalar tail. The
// next row's exp pass scales them as it goes (memory works for the next rows meanwhile;
// a pass of its own left it idle), up to `done`; finish_scale the rest. The p wait in y
// itself, or (stream) in scratch, whence they are streamed to y: y's lines are then
// written without first being read.
struct PendingScale {
  float* y = nullptr;  // null: none
  const float* p = nullptr;
  int64_t n = 0, done = 0;
  double inv = 0;
  float hi = 0, lo = 0;
  bool stream = false;
};

// Scales the pending row's vectors [from, to) (whole vectors; rows on lines when streamed).
template <class Isa>
void scale_span(const PendingScale& s, int64_t from, int64_t to) {
  using F = typename Isa::template Vec<float>;
  const auto hi = F::set1(s.hi), lo = F::set1(s.lo);
  auto scaled = [&](int64_t k) {
    const auto p = F::loadu(s.p + k);
    return F::fmadd(p, hi, F::mul(p, lo));
  };
  if (s.stream) {
    for (int64_t k = from; k < to; k += F::kWidth) StreamingStores<F>::store(s.y + k, scaled(k));
  } else {
    for (int64_t k = from; k < to; k += F::kWidth) F::storeu(s.y + k, scaled(k));
  }
}

template <class Isa>
void finish_scale(PendingScale* s) {
  using F = typename Isa::template Vec<float>;
  if (!s->y) return;
  const int64_t vectors = s->done + (s->n - s->done) / F::kWidth * F::kWidth;
  scale_span<Isa>(*s, s->done, vectors);
  for (int64_t k = vectors; k < s->n; ++k) s->y[k] = float(double(s->p[k]) * s->inv);
  s->y = nullptr;
}

// How exp_sum_lanes lays out a row's p: packs of K vectors (Pack<F, K>: K exp chains
// interleave), each kPer vectors of a pack summed in float into one stash entry.
// - softmax (kStore): K = 2, not MathPack's four on AVX-512: its loop also stores p and reads
//   the next row from memory, which long steps overlap badly (as the unary math ops,
//   elementwise_kernels.h). Both addons in one process, 4096 x 4096, 2 threads: 0.60-0.71x the
//   time of four; 1 thread 1.08x. Entries are pairs (one rounding, 2^-24 of the pair at most:
//   its outputs need the sum to 2^-24 relative).
// - log-sum rows (logSoftmax, cross-entropy): MathPack, no stores. kPow2 rows sum a whole pack
//   per entry (two roundings on AVX-512: the sum to 2^-23 relative; log_sum_pow2 recomputes
//   the entry holding the max); other rows stash every p as it is (their max's p is exactly
//   1, which a float sum would round away). 64 rows x 4096 in L1/L2, 1 thread, cross-entropy
//   (vector_math::exp): kPow2 with pairs at K = 2 0.73x the time of kRecovered, with packs of
//   four 0.69x. Tried since on the log-sum rows (both addons in one process, 64 x 4096, 1
//   thread, avx512 CPU time): K = 2 1.02-1.03x, K = 8 1.18-1.34x; entries of two packs (half
//   the stash and double adds, one more float rounding) 0.94-0.96x (avx2 0.97x) in cache but
//   no gain from memory (4096 x 4096, 2 threads: 0.97-1.03x, as base against itself): left
//   as is. With no stash at all (a wrong sum) 0.93-0.94x: the drain's ceiling.
template <class Isa, bool kStore, Shift kShift>
struct LaneLayout {
  using F = typename Isa::template Vec<float>;
  static constexpr int K = kStore ? 2 : MathPack<F>::kWidth / F::kWidth;
  using P = Pack<F, K>;
  static constexpr int kPer = kStore ? 2 : kShift == Shift::kPow2 ? K : 1;  // vectors per stash entry
  static_assert(K % kPer == 0 && (kPer & (kPer - 1)) == 0, "a pack is whole entries of 2^j vectors");
  // The entry of p[0, kPer): a pairwise tree of float adds.
  static typename F::Reg entry(const typename F::Reg* p) {
    typename F::Reg s[kPer];
    for (int v = 0; v < kPer; ++v) s[v] = p[v];
    for (int w = 1; w < kPer; w *= 2)
      for (int v = 0; v < kPer; v += 2 * w) s[v] = F::add(s[v], s[v + w]);
    return s[0];
  }
};

// sum(p) over the vectors from x[0], p stored to e when kStore; returns the sum and sets
// *done to the elements covered. This pass computes from L1, so it is when memory is
// free to work: the lines at address `next` (0 for none; the next row) are prefetched
// meanwhile, 4 KiB before the range blocks read them, into L2: a core has few L1 misses in
// flight, too few to keep memory busy, and L2 holds more ([4096, 4096], 2 threads, % of copy
// over three alternations, against prefetches into L1: logsumexp 67-71 -> 81-87, the
// cross-entropy 59-69 -> 78-83, logSoftmax 91-93 -> 105-108, softmax 95-100 -> 102-121;
// 4 KiB ahead stays: 2 KiB read slower, 8 KiB level), `out` (0, or where a later pass writes the row) is
// brought in, and `ahead` (null, or the next row's Range) takes its blocks,
// whose loads wait on memory beside the exp's arithmetic.
//
// The exp runs on packs (LaneLayout): flatten inlines the math, or the pack is slower than
// one register. Each lane takes the same instructions as on F, so p does not depend on where
// the row's tail falls.
//
// The sum: kStash entries wait in a stash, as floats, and are added in double lanes
// together (a store read back at once would stall on store forwarding; this predates
// Vec<double>::widen, and widening in registers has not been measured here).
template <class Isa, bool kStore, Shift kShift, int kPow2, bool kNarrow>
__attribute__((flatten)) double exp_sum_lanes(const float* x, int64_t n, float m, float* e, uintptr_t next,
                                              uintptr_t out, int64_t* done, RangeOf<Isa>* ahead,
                                              PendingScale* pending) {
  using Layout = LaneLayout<Isa, kStore, kShift>;
  using F = typename Isa::template Vec<float>;
  using P = typename Layout::P;
  using D = typename Isa::template Vec<double>;
  constexpr int W = F::kWidth, K = Layout::K, kLine = 64 / sizeof(float), kStash = 8;
  constexpr int kPer = Layout::kPer;
  static_assert(kStash % (K / kPer) == 0, "a chunk is whole packs");
  constexpr int kEntries = K / kPer;  // stash entries per pack
  constexpr int64_t kChunk = int64_t(kStash) * kPer * W;
  const RowExp<P, kShift, kPow2, kNarrow, !kStore> pack_term(m);
  const RowExp<F, kShift, kPow2, kNarrow, !kStore> term(m);
  static_assert(kChunk % RangeAcc<F>::kBlock == 0, "a chunk is whole range blocks");
  RangeAcc<F> range = ahead ? *ahead : RangeAcc<F>(nullptr);  // a local: kept in registers
  // The row's tail fills up to kStash + kPer - 2 entries: whole packs (at most kStash - K/kPer
  // entries), entries of kPer vectors (K/kPer - 1) and single vectors (kPer - 1). AVX-512 log-sum
  // rows (kPer = K = 4) reach 10, which a stash of kStash overran on the stack (n mod 512 >= 480).
  constexpr int kStashCapacity = kStash + kPer - 1;
  alignas(64) float stash[kStashCapacity * W];
  typename D::Reg acc[2] = {D::zero(), D::zero()};
  auto drain = [&](int entries) {
    for (int i = 0; i < entries * W; i += 2 * D::kWidth) {  // W is a multiple of 2 D::kWidth
      acc[0] = D::add(acc[0], D::load_float(stash + i));
      acc[1] = D::add(acc[1], D::load_float(stash + i + D::kWidth));
    }
  };
  // One pack from x[k] into stash entries from `slot`.
  auto pack = [&](int64_t k, int slot) {
    for (int j = 0; j < P::kWidth; j += kLine) {
      const uintptr_t offset = uintptr_t(k + j) * sizeof(float);
      if (next) __builtin_prefetch(reinterpret_cast<const void*>(next + offset), 0, 1);
      if (out) __builtin_prefetch(reinterpret_cast<const void*>(out + offset), 1);
    }
    const auto p = pack_term(P::loadu(x + k));
    if constexpr (kStore) P::storeu(e + k, p);
    for (int i = 0; i < kEntries; ++i) F::storeu(stash + (slot + i) * W, Layout::entry(p.r + i * kPer));
  };
  int64_t k = 0;
  const bool scaling = pending && pending->y && pending->n == n;
  for (; k + kChunk <= n; k += kChunk) {
    for (int i = 0; i < kStash; i += kEntries) pack(k + i * kPer * W, i);
    if (ahead)
      for (int b = 0; b < kChunk; b += RangeAcc<F>::kBlock) range.block();
    if (scaling) scale_span<Isa>(*pending, k, k + kChunk);
    drain(kStash);
  }
  if (ahead) *ahead = range;
  if (scaling) pending->done = k;
  int used = 0;
  for (; k + P::kWidth <= n; k += P::kWidth, used += kEntries) pack(k, used);
  // Under a pack left: entries of kPer vectors, then one vector each.
  for (; k + kPer * W <= n; k += kPer * W) {
    typename F::Reg p[kPer];
    for (int v = 0; v < kPer; ++v) {
      p[v] = term(F::loadu(x + k + v * W));
      if constexpr (kStore) F::storeu(e + k + v * W, p[v]);
    }
    F::storeu(stash + used++ * W, Layout::entry(p));
  }
  for (; k + W <= n; k += W) {
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

// For a kPow2 log-sum row whose first x equal to its max m lies at index i < done (the
// vectors exp_sum_lanes covered): the stash entry that p_i went into, less its other members
// summed in double, so that sum - excess is the sum of every other p with no float rounding
// of p_i beside them. The entry is recomputed by the same instructions (so the same bits).
template <class Isa, int kPow2, bool kNarrow>
__attribute__((flatten)) double max_entry_excess(const float* x, int64_t n, float m, int64_t i) {
  using Layout = LaneLayout<Isa, false, Shift::kPow2>;
  using F = typename Isa::template Vec<float>;
  using P = typename Layout::P;
  constexpr int W = F::kWidth, K = Layout::K;
  static_assert(Layout::kPer == K, "exp_sum_lanes' order: whole packs, one entry each, then single vectors");
  alignas(64) float entry[W];
  const int lane = int(i % W);
  if (i >= n / P::kWidth * P::kWidth) {  // a single vector's: p_i alone
    F::storeu(entry, RowExp<F, Shift::kPow2, kPow2, kNarrow, true>(m)(F::loadu(x + i / W * W)));
    return entry[lane];
  }
  const int64_t base = i / P::kWidth * P::kWidth;
  const auto v = RowExp<P, Shift::kPow2, kPow2, kNarrow, true>(m)(P::loadu(x + base));
  alignas(64) float p[K * W];
  P::storeu(p, v);
  F::storeu(entry, Layout::entry(v.r));
  double excess = entry[lane];
  for (int r = 0; r < K; ++r)
    if (r != (i - base) / W) excess -= double(p[r * W + lane]);
  return excess;
}

// The first index in [0, end) whose x >= m, or end: with m the row's max, the first x equal
// to it (a NaN is never taken). A compare per vector until the vector that holds it.
template <class Isa>
int64_t first_at_least(const float* x, int64_t end, float m) {
  using F = typename Isa::template Vec<float>;
  const auto below = F::set1(std::nextafter(m, -INFINITY));
  int64_t k = 0;
  while (k + F::kWidth <= end && !F::any_less(below, F::loadu(x + k))) k += F::kWidth;
  while (k < end && !(x[k] >= m)) ++k;
  return k;
}

// Whether every x in [min, max] lies where the exp of kShift (kPow2) needs no clamp:
// exp's own bounds for kPow2, and x - max >= -112 for kRecovered (lo in RowExp).
template <class Isa, Shift kShift, int kPow2>
bool narrow_enough(Range r) {
  if constexpr (kShift == Shift::kPow2) return r.min >= -104.0 - kPow2 * 0.6931471805599453;
  return double(r.min) >= double(r.max) - 112;
}

template <class Isa, bool kStore, Shift kShift, int kPow2 = 0>
double exp_sum_by_range(const float* x, int64_t n, Range r, float* e, uintptr_t next, uintptr_t out,
                        int64_t* done, RangeOf<Isa>* ahead, PendingScale* pending) {
  if (kShift != Shift::kLargeMax && narrow_enough<Isa, kShift, kPow2>(r))
    return exp_sum_lanes<Isa, kStore, kShift, kPow2, true>(x, n, r.max, e, next, out, done, ahead, pending);
  return exp_sum_lanes<Isa, kStore, kShift, kPow2, false>(x, n, r.max, e, next, out, done, ahead, pending);
}

// sum(p) in double; with kStore (softmax), also stores each p (a float) to e.
template <class Isa, bool kStore>
double row_exp_sum(const float* x, int64_t n, Range r, float* e, uintptr_t next, uintptr_t out,
                   RangeOf<Isa>* ahead = nullptr, PendingScale* pending = nullptr) {
  const float m = r.max;
  int64_t k = 0;
  double s = 0, shift = m;  // the scalar steps form p = e^(x - shift) 2^pow2, as the lanes do
  int pow2 = 0;
  // A row whose max is +-inf or NaN has no finite differences: the scalar steps give js's NaN/0.
  if (std::isfinite(m)) {
    // n < 2^32 keeps a kPow2 sum under 2^102, so 1/sum and its low part are normal floats.
    const int scale = kStore && n < (int64_t(1) << 32) ? pow2_for_max<Isa>(m) : kNoPow2;
    // A row shorter than a vector is all tail: the lanes' setup would cover nothing.
    if (n >= Isa::template Vec<float>::kWidth) {
      switch (scale) {
        case 0: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, 0>(x, n, r, e, next, out, &k, ahead, pending); break;
        case -64: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, -64>(x, n, r, e, next, out, &k, ahead, pending); break;
        case 64: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, 64>(x, n, r, e, next, out, &k, ahead, pending); break;
        case 128: s = exp_sum_by_range<Isa, kStore, Shift::kPow2, 128>(x, n, r, e, next, out, &k, ahead, pending); break;
        default:
          s = std::fabs(m) < 16777216.0f
                  ? exp_sum_by_range<Isa, kStore, Shift::kRecovered>(x, n, r, e, next, out, &k, ahead, pending)
                  : exp_sum_by_range<Isa, kStore, Shift::kLargeMax>(x, n, r, e, next, out, &k, ahead, pending);
      }
    }
    if (scale != kNoPow2) {
      shift = 0;
      pow2 = scale;
    }
  }
  for (; k < n; ++k) {
    const double v = pow2 ? std::ldexp(std::exp(double(x[k]) - shift), pow2) : std::exp(double(x[k]) - shift);
    s += v;
    if constexpr (kStore) e[k] = float(v);
  }
  return s;
}

// log(sum(e^(x - m))) of a kPow2 row: the lanes' sum of p = e^x 2^kPow2, scaled by e^-m 2^-kPow2
// in double, the scalar tail's e^(x - m) in double. The max's own p is then within an ulp of
// e^m 2^kPow2, not exactly 1, and its stash entry adds its pack's other p to it in float: up
// to 2^-22 of its 1, where the other p carry 2^-22 of their own. From a sum of 16 up, that
// moves log(sum) >= 2.77 by 2^-26 at most; under it (log(sum) near 0 needs sum - 1 to a few ulps) the
// max's entry is recomputed and its p taken as exactly 1 (a compare per vector to find it,
// then one pack). The tail's e^(x - m) is exact for x = m already.
template <class Isa, int kPow2, bool kNarrow>
double log_sum_pow2(const float* x, int64_t n, float m, uintptr_t next, uintptr_t out, RangeOf<Isa>* ahead) {
  int64_t done = 0;
  // (A row shorter than a vector is all tail, as in row_exp_sum.)
  const double lanes = n >= Isa::template Vec<float>::kWidth
                           ? exp_sum_lanes<Isa, false, Shift::kPow2, kPow2, kNarrow>(x, n, m, nullptr, next, out, &done, ahead, nullptr)
                           : 0;
  const double scale = std::ldexp(std::exp(-double(m)), -kPow2);
  double tail = 0;
  bool max_in_tail = false;
  for (int64_t k = done; k < n; ++k) {
    tail += std::exp(double(x[k]) - m);
    max_in_tail |= x[k] == m;
  }
  const double s = lanes * scale + tail;
  if (!(s < 16) || max_in_tail) return std::log(s);
  const int64_t i = first_at_least<Isa>(x, done, m);
  if (i == done) return std::log(s);  // (not reached: the max is x[k] for some k)
  return std::log((lanes - max_entry_excess<Isa, kPow2, kNarrow>(x, n, m, i)) * scale + 1 + tail);
}

template <class Isa, int kPow2>
double log_sum_pow2_by_range(const float* x, int64_t n, Range r, uintptr_t next, uintptr_t out, RangeOf<Isa>* ahead) {
  if (narrow_enough<Isa, Shift::kPow2, kPow2>(r)) return log_sum_pow2<Isa, kPow2, true>(x, n, r.max, next, out, ahead);
  return log_sum_pow2<Isa, kPow2, false>(x, n, r.max, next, out, ahead);
}

// log(sum(e^(x - m))) of a row with Range r, for logSoftmax and the cross-entropy: kPow2 where
// softmax takes it (the cross-entropy of 64 rows x 4096 in L1/L2, 1 thread: 0.62x the time of
// kRecovered), else kRecovered / kLargeMax, each p as it is beside the max's exact 1.
template <class Isa>
double row_log_sum(const float* x, int64_t n, Range r, uintptr_t next, uintptr_t out, RangeOf<Isa>* ahead) {
  const float m = r.max;
  if (std::isfinite(m) && n < (int64_t(1) << 32)) {
    switch (pow2_for_max<Isa>(m)) {
      case 0: return log_sum_pow2_by_range<Isa, 0>(x, n, r, next, out, ahead);
      case -64: return log_sum_pow2_by_range<Isa, -64>(x, n, r, next, out, ahead);
      case 64: return log_sum_pow2_by_range<Isa, 64>(x, n, r, next, out, ahead);
      case 128: return log_sum_pow2_by_range<Isa, 128>(x, n, r, next, out, ahead);
    }
  }
  return std::log(row_exp_sum<Isa, false>(x, n, r, nullptr, next, out, ahead));
}

// logSoftmax of one row with its Range r. Its exp pass also takes the range blocks of
// `ahead` (the next row, or null), as softmax_row's does.
// stream: y by streaming stores (its rows on lines), not brought in beforehand.
template <class Isa>
void log_row(const float* x, float* y, int64_t n, Range r, RangeOf<Isa>* ahead, bool stream) {
  using F = typename Isa::template Vec<float>;
  using D = typename Isa::template Vec<double>;
  const float m = r.max;
  int64_t k = 0;
  const uintptr_t next = ahead ? address<Isa>(ahead->x, kRowAhead) : 0;
  const double ls = row_log_sum<Isa>(x, n, r, next, stream ? 0 : address<Isa>(y), ahead);
  const double c = double(m) + ls;
  if (ls * 1024 >= std::fabs(c)) {
    // x - c in float lanes, c as two floats: (x - c_hi) is within 2^-14 of y (c_lo is
    // at most 2^-24 |c| <= 2^-14 log(sum) <= 2^-14 |y|), so y is within 1 ulp.
    const float c_hi = float(c), c_lo = float(c - c_hi);
    const auto hi = F::set1(c_hi), lo = F::set1(c_lo);
    if (stream) {
      for (; k + F::kWidth <= n; k += F::kWidth) StreamingStores<F>::store(y + k, F::sub(F::sub(F::loadu(x + k), hi), lo));
    } else {
      for (; k + F::kWidth <= n; k += F::kWidth) F::storeu(y + k, F::sub(F::sub(F::loadu(x + k), hi), lo));
    }
  } else {
    // log(sum) tiny beside c (a dominant entry, whose output is -log(sum)): x - m - log(sum)
    // in double, two subtractions as js, so that output keeps its digits.
    const auto mv = D::set1(m), lv = D::set1(ls);
    for (; k + D::kWidth <= n; k += D::kWidth) D::store_float(y + k, D::sub(D::sub(D::load_float(x + k), mv), lv));
  }
  for (; k < n; ++k) y[k] = float(double(x[k]) - m - ls);
}

// softmax of one row with its Range r: its p to y, left to `pending` for their scale
// (first the previous row's, which its exp pass scales as it goes). Its exp pass also
// takes the range blocks of `ahead` (the next row, or null), whose lines come from memory
// while the exp computes (a pass of its own would wait on them): 2 rows in L2, 4.1 -> 3.7
// ns per 16 floats.
// `p`: where the row's p wait, y itself or (stream: y streamed from there) scratch.
template <class Isa>
void softmax_row(const float* x, float* y, float* p, int64_t n, Range r, RangeOf<Isa>* ahead, PendingScale* pending,
                 bool stream) {
  // The next row's lines are requested kRowAhead floats before the range blocks read them;
  // y's 4 KiB ahead of the p stores (medians of the time from memory against 4 KiB: 1 and
  // 2 KiB 1.06x, 6 and 8 KiB 1.01x). Past the row's end these are the next row's lines, or
  // prefetches that never fault.
  constexpr int64_t kOutAhead = 1024;
  const uintptr_t next = ahead ? address<Isa>(ahead->x, kRowAhead) : 0;
  const uintptr_t out = n > 512 && !stream ? address<Isa>(y, kOutAhead) : 0;  // the rows it prefetched for before
  const double inv = 1 / row_exp_sum<Isa, true>(x, n, r, p, next, out, ahead, pending);
  finish_scale<Isa>(pending);
  const float inv_hi = float(inv);
  *pending = PendingScale{y, p, n, 0, inv, inv_hi, float(inv - inv_hi), stream};
}

// Rows of at most this many floats stream their softmax through scratch (two rows of it).
constexpr int64_t kMaxStreamedRow = 1 << 16;

// Rows one after the other; a row's Range comes from the previous row's exp pass (the
// first row's from a pass of its own), the same value either way.
template <class Isa>
void f32_rows(const float* x, float* y, int64_t rows, int64_t n, bool log, bool stream) {
  using F = typename Isa::template Vec<float>;
  if (n == 0) return;
  // Streamed only where every row starts on a line (and is whole vectors).
  stream = stream && reinterpret_cast<uintptr_t>(y) % 64 == 0 && n % 16 == 0 && (log || n <= kMaxStreamedRow);
  std::vector<float> scratch(stream && !log ? size_t(2 * n) : 0);
  Range r = row_range<Isa>(x, n);
  PendingScale pending;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = x + i * n;
    const float* next = i + 1 < rows ? row + n : nullptr;
    RangeOf<Isa> ahead(next);
    if (log) {
      log_row<Isa>(row, y + i * n, n, r, next ? &ahead : nullptr, stream);
    } else {
      float* p = stream ? scratch.data() + (i % 2) * n : y + i * n;
      softmax_row<Isa>(row, y + i * n, p, n, r, next ? &ahead : nullptr, &pending, stream);
    }
    if (next) r = ahead.finish(n);
  }
  finish_scale<Isa>(&pending);
  if (stream) StreamingStores<F>::fence();
}

// Rows as f32_rows takes them, each row's exp pass taking the next row's range.
template <class Isa>
void f32_lse_rows(const float* x, int64_t rows, int64_t n, double* m, double* lse) {
  Range r = row_range<Isa>(x, n);
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = x + i * n;
    const float* next = i + 1 < rows ? row + n : nullptr;
    RangeOf<Isa> ahead(next);
    m[i] = r.max;
    lse[i] = row_log_sum<Isa>(row, n, r, next ? address<Isa>(next, kRowAhead) : 0, 0, next ? &ahead : nullptr);
    if (next) r = ahead.finish(n);
  }
}

// softmax's gradient (kLog false) or logSoftmax's (kLog true, y = logSoftmax(x)), row by row:
// s = sum(y dy) or sum(dy) in double lanes (two accumulators), then dx = y (dy - s), or
// dy - exp(y) s with exp(y) a float, in double, rounded once; the row stays in L1 between its
// two passes.
template <class Isa, bool kLog>
__attribute__((flatten)) void f32_grad_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t n) {
  using D = typename Isa::template Vec<double>;
  constexpr int W = D::kWidth;
  // One term of s.
  const auto term = [](typename D::Reg acc, const float* yk, const float* dyk) {
    return kLog ? D::add(acc, D::load_float(dyk)) : D::fmadd(D::load_float(yk), D::load_float(dyk), acc);
  };
  for (int64_t r = 0; r < rows; ++r, y += n, dy += n, dx += n) {
    typename D::Reg acc[2] = {D::zero(), D::zero()};
    int64_t k = 0;
    for (; k + 2 * W <= n; k += 2 * W) {
      acc[0] = term(acc[0], y + k, dy + k);
      acc[1] = term(acc[1], y + k + W, dy + k + W);
    }
    for (; k + W <= n; k += W) acc[0] = term(acc[0], y + k, dy + k);
    alignas(64) double lanes[W];
    D::storeu(lanes, D::add(acc[0], acc[1]));
    double s = 0;
    for (int i = 0; i < W; ++i) s += lanes[i];
    for (; k < n; ++k) s += kLog ? double(dy[k]) : double(y[k]) * double(dy[k]);
    const auto sv = D::set1(s);
    if constexpr (kLog) {
      // exp(y) in float lanes, vector_math's exp as the exp op's (in double lanes it took 1.3x
      // the four ops it replaces on [2048, 8192]); the rest in double, rounded once.
      using F = typename Isa::template Vec<float>;
      static_assert(F::kWidth == 2 * W, "a float vector is two double vectors");
      // Whole packs (the exp's chains side by side, as the exp op runs them), then vectors.
      const auto finish = [&](int64_t at, typename F::Reg e) {
        typename D::Reg half[2];
        D::widen(e, &half[0], &half[1]);
        for (int h = 0; h < 2; ++h) D::store_float(dx + at + h * W, D::sub(D::load_float(dy + at + h * W), D::mul(half[h], sv)));
      };
      using P = MathPack<F>;
      for (k = 0; k + P::kWidth <= n; k += P::kWidth) {
        const auto e = vector_math::exp<P>(P::loadu(y + k));
        for (int v = 0; v < P::kWidth / F::kWidth; ++v) finish(k + v * F::kWidth, e.r[v]);
      }
      for (; k + F::kWidth <= n; k += F::kWidth) finish(k, vector_math::exp<F>(F::loadu(y + k)));
      if (k < n) {  // the tail by the same exp, in a partial vector
        const int count = int(n - k);
        alignas(64) float e[F::kWidth];
        F::storeu(e, vector_math::exp<F>(F::load_first(y + k, count)));
        for (int i = 0; i < count; ++i) dx[k + i] = float(double(dy[k + i]) - double(e[i]) * s);
      }
    } else {
      for (k = 0; k + W <= n; k += W) D::store_float(dx + k, D::mul(D::load_float(y + k), D::sub(D::load_float(dy + k), sv)));
      for (; k < n; ++k) dx[k] = float(grad_term<false>(double(y[k]), double(dy[k]), s));
    }
  }
}

}  // namespace softmax_detail

template <class Isa>
constexpr SoftmaxIsaTable make_softmax_table(const char* isa) {
  return SoftmaxIsaTable{isa, softmax_detail::f32_rows<Isa>, softmax_detail::f32_lse_rows<Isa>, softmax_detail::f32_grad_rows<Isa, false>,
                         softmax_detail::f32_grad_rows<Isa, true>};
}

}  // namespace keras::cpu
