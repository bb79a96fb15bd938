// CPU kernels of gather, scatterAdd, sort and topK. Indices are data: every one is
// bounds-checked (negative ones wrap once) before any output is written, and a
// bad one is a ValueError naming the op, the index and the axis size.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "cpu_kernels.h"
#include "gather.h"
#include "isa.h"
#include "simd/streaming.h"

namespace keras::cpu {
namespace {

using engine::DType;
using engine::Shape;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::OpError;
using kernels::TensorView;

constexpr int64_t kParallelBytes = 1 << 18;
constexpr int64_t kBytesPerItem = 1 << 16;

bool contiguous(const TensorView& t) {
  if (t.numel() == 0) return true;  // nothing to read
  int64_t expected = 1;
  for (size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

void require_contiguous(const char* op, const TensorView& t) {
  // Every tensor the binding hands over is dense; a strided view would be a new caller.
  if (!contiguous(t)) throw std::invalid_argument(std::string(op) + ": expected a dense input");
}

template <class Fn>
void parallel_items(int64_t items, int64_t item_bytes, int max_threads, Fn&& fn) {
  if (items <= 0) return;
  const int64_t bytes = std::max<int64_t>(1, item_bytes);
  const int64_t grain = items * bytes < kParallelBytes ? items : std::max<int64_t>(1, kBytesPerItem / bytes);
  engine::thread_pool().parallel_for(items, grain, fn, max_threads);
}

int normalized_axis(int64_t axis, int rank) { return int(axis < 0 ? axis + rank : axis); }

// Resolved (wrapped, checked) indices; throws naming `op` at the first bad one.
std::vector<int64_t> checked_indices(const char* op, const TensorView& indices, int64_t dim, int axis) {
  const int32_t* idx = indices.as<int32_t>();
  const int64_t m = indices.numel();
  std::vector<int64_t> out(static_cast<size_t>(m));
  for (int64_t k = 0; k < m; ++k) {
    int64_t j = idx[k];
    if (j < 0) j += dim;
    if (j < 0 || j >= dim) {
      throw OpError("ValueError", std::string(op) + ": index " + std::to_string(idx[k]) + " is out of bounds for axis " +
                                      std::to_string(axis) + " with size " + std::to_string(dim));
    }
    out[size_t(k)] = j;
  }
  return out;
}

// Runs of consecutive indices (idx[k + 1] = idx[k] + 1), cut into pieces of at most
// max_bytes: each piece is one block copy (a roll is two runs per row, a take of a
// range one). Offsets and lengths in bytes of a row of `row` bytes per index.
struct GatherPiece {
  int64_t dst, src, bytes;
};

// None (an empty list) when there would be more than max_pieces.
std::vector<GatherPiece> gather_pieces(const std::vector<int64_t>& idx, int64_t row, int64_t max_bytes,
                                       int64_t max_pieces) {
  std::vector<GatherPiece> pieces;
  const int64_t m = int64_t(idx.size());
  const int64_t per_piece = std::max<int64_t>(1, max_bytes / std::max<int64_t>(1, row));  // indices
  for (int64_t k = 0; k < m;) {
    int64_t end = k + 1;
    while (end < m && end - k < per_piece && idx[size_t(end)] == idx[size_t(end - 1)] + 1) ++end;
    if (int64_t(pieces.size()) == max_pieces) return {};
    pieces.push_back({k * row, idx[size_t(k)] * row, (end - k) * row});
    k = end;
  }
  // Copied in source order: the reads then run on from one piece to the next, a stream the
  // hardware prefetchers follow, and the writes land where they may.
  std::stable_sort(pieces.begin(), pieces.end(), [](const GatherPiece& a, const GatherPiece& b) { return a.src < b.src; });
  return pieces;
}

// Single elements (inner == 1, indices mostly not consecutive): items are chunks of an
// output row, gathered by the ISA's element gathers (gather_kernels.h) with int32 indices.
// The indices visit the source row in their own order, which the hardware prefetchers cannot
// follow, so each load of a new line waited on memory: while gathering row o an item requests
// the same share of row o + 1 into L2, when the indices are dense enough to touch most of its
// lines ([4096, 4096] float32 by a permutation of 4096 along the last axis: CPU time 0.59x;
// into L1, where the current row and the index list already fill it, was slower). An output
// past the last-level cache is streamed around the caches: its lines are then not read
// first (the figures: gather_kernels.h).
template <class T>
void gather_elements(const KernelContext& ctx, const T* src, T* dst, const std::vector<int64_t>& idx, int64_t outer,
                     int64_t dim) {
  const int64_t m = int64_t(idx.size());
  if (dim > std::numeric_limits<int32_t>::max()) {  // an axis past int32 indices: a plain loop
    parallel_items(outer, m * int64_t(sizeof(T)), ctx.max_threads, [&](int64_t begin, int64_t end) {
      for (int64_t oi = begin; oi < end; ++oi)
        for (int64_t k = 0; k < m; ++k) dst[oi * m + k] = src[oi * dim + idx[size_t(k)]];
    });
    return;
  }
  const std::vector<int32_t> idx32(idx.begin(), idx.end());
  const GatherIsaTable& table = for_active_isa(kGatherAvx512, kGatherAvx2, kGatherPortable);
  const GatherElementsFn run = sizeof(T) == 1 ? table.bytes1 : sizeof(T) == 4 ? table.bytes4 : table.bytes8;
  const bool prefetch = outer > 1 && m * 16 >= dim;
  const bool stream = engine::past_last_level_cache(outer * m * int64_t(sizeof(T)));
  const double row_bytes = double(dim) * double(sizeof(T));
  const int64_t chunk = std::min<int64_t>(m, 4096);
  const int64_t chunks = (m + chunk - 1) / chunk;
  parallel_items(outer * chunks, chunk * int64_t(sizeof(T)), ctx.max_threads, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t oi = item / chunks, k0 = (item % chunks) * chunk, k1 = std::min(m, k0 + chunk);
      const T* from = src + oi * dim;
      // This chunk's share of the next row: the lines its indices' share of the row covers.
      const char* next = prefetch && oi + 1 < outer ? reinterpret_cast<const char*>(from + dim) : nullptr;
      const int64_t first = int64_t(double(k0) * row_bytes / double(m)) & ~int64_t(63);
      const int64_t last = int64_t(double(k1) * row_bytes / double(m));
      run(from, idx32.data() + k0, dst + oi * m + k0, k1 - k0, next ? next + first : nullptr, last - first, stream);
    }
  });
}

// gather: out[o, k, i] = x[o, idx[k], i] with o the dims before the axis and i those after.
void gather_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                const Attrs& attrs) {
  const TensorView& x = in[0];
  const TensorView& indices = in[1];
  const TensorView& o = out[0];
  require_contiguous("gather", x);
  require_contiguous("gather", indices);
  const int axis = normalized_axis(attrs.get_int("gather", "axis", 0), x.rank());
  const int64_t dim = x.shape[size_t(axis)];
  const int64_t outer = engine::shape_numel(Shape(x.shape.begin(), x.shape.begin() + axis));
  const int64_t inner = engine::shape_numel(Shape(x.shape.begin() + axis + 1, x.shape.end()));
  if (outer == 0) return;  // as the js kernel: no row, nothing read, nothing checked
  const std::vector<int64_t> idx = checked_indices("gather", indices, dim, axis);
  const int64_t m = int64_t(idx.size());
  if (o.numel() == 0) return;
  const size_t elem = engine::dtype_size(x.dtype);
  const int64_t row = inner * int64_t(elem);
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(o.data);
  // Runs of 16 elements or more on average are block copies, shorter ones element loads;
  // rows are block copies too, unless the list of pieces would take more than 1/16 of the
  // output (small rows, indices mostly apart): then one copy per index, in index order.
  const int64_t max_pieces = std::min(inner == 1 ? m / 16 : m, o.numel() * int64_t(elem) / (16 * int64_t(sizeof(GatherPiece))));
  const std::vector<GatherPiece> pieces = gather_pieces(idx, row, kBytesPerItem, max_pieces);
  if (pieces.empty() && inner == 1) {
    switch (elem) {
      case 1: return gather_elements(ctx, reinterpret_cast<const uint8_t*>(src), reinterpret_cast<uint8_t*>(dst), idx, outer, dim);
      case 4: return gather_elements(ctx, reinterpret_cast<const uint32_t*>(src), reinterpret_cast<uint32_t*>(dst), idx, outer, dim);
      default: return gather_elements(ctx, reinterpret_cast<const uint64_t*>(src), reinterpret_cast<uint64_t*>(dst), idx, outer, dim);
    }
  }
  // An output past the last-level cache is written around it (memcpy would read each line first).
  const bool stream = engine::past_last_level_cache(o.numel() * int64_t(elem));
  if (pieces.empty()) {
    parallel_items(outer * m, row, ctx.max_threads, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t oi = item / m, k = item % m;
        copy_bytes(dst + item * row, src + (oi * dim + idx[size_t(k)]) * row, size_t(row), stream);
      }
      if (stream) stream_fence();
    });
    return;
  }
  const int64_t count = int64_t(pieces.size());
  const int64_t src_row = dim * row, dst_row = m * row;
  parallel_items(outer * count, dst_row / count, ctx.max_threads, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t oi = item / count;
      const GatherPiece& p = pieces[size_t(item % count)];
      copy_bytes(dst + oi * dst_row + p.dst, src + oi * src_row + p.src, size_t(p.bytes), stream);
    }
    if (stream) stream_fence();
  });
}

// a += b as the js backend's TypedArray does: float32 rounds once (exact through
// double), int32 and bool (Uint8Array) wrap.
template <class T>
inline T add_js(T a, T b) {
  if constexpr (std::is_same_v<T, int32_t>) {
    return int32_t(uint32_t(a) + uint32_t(b));
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return uint8_t(unsigned(a) + unsigned(b));
  } else {
    return a + b;
  }
}

// scatterAdd: out[o, idx[k], i] += updates[o, k, i], in k order for each element
// (so float sums round as the js kernel's). Parallel over (o, i) blocks, never over k.
template <class T>
void scatter_add_typed(const KernelContext& ctx, const std::vector<int64_t>& idx, const TensorView& updates,
                       const TensorView& o, int axis, int64_t dim) {
  const int64_t outer = engine::shape_numel(Shape(o.shape.begin(), o.shape.begin() + axis));
  const int64_t inner = engine::shape_numel(Shape(o.shape.begin() + axis + 1, o.shape.end()));
  const int64_t m = int64_t(idx.size());
  const T* upd = updates.as<T>();
  T* res = o.as<T>();
  if (m == 0 || inner == 0) {
    std::memset(res, 0, size_t(o.numel()) * sizeof(T));
    return;
  }
  // Work items: (outer row, range of destination rows, block of inner columns). Each
  // item zeroes its own destinations, then walks every k adding only into them, so one
  // output row (outer == 1: an embedding gradient) still splits over threads, and the
  // zeroing with it (a serial memset of the whole output first was a pass more over it:
  // 64 rows into 10000 of 512 B, 56 -> 31-41 us).
  const int threads = std::max(1, ctx.max_threads > 0 ? std::min(ctx.max_threads, engine::thread_pool().num_threads())
                                                      : engine::thread_pool().num_threads());
  const int64_t ranges = outer >= 4 * threads ? 1 : std::max<int64_t>(1, std::min<int64_t>(dim, 4 * threads));
  const int64_t span = (dim + ranges - 1) / ranges;
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(inner, 16384 / int64_t(sizeof(T))));
  const int64_t blocks = (inner + block - 1) / block;
  // An item's bytes: its share of the updates read and its rows of the output written.
  const int64_t work = (m / ranges + span) * std::min(block, inner) * int64_t(sizeof(T));
  parallel_items(outer * ranges * blocks, work, ctx.max_threads, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t b = item % blocks, rg = (item / blocks) % ranges, oi = item / (blocks * ranges);
      const int64_t c0 = b * block, c1 = std::min(inner, c0 + block);
      const int64_t r0 = rg * span, r1 = std::min(dim, r0 + span);
      if (r0 >= r1) continue;
      T* rows = res + (oi * dim + r0) * inner;
      if (c1 - c0 == inner) {
        std::memset(rows, 0, size_t((r1 - r0) * inner) * sizeof(T));
      } else {
        for (int64_t r = 0; r < r1 - r0; ++r) std::fill(rows + r * inner + c0, rows + r * inner + c1, T(0));
      }
      for (int64_t k = 0; k < m; ++k) {
        const int64_t j = idx[size_t(k)];
        if (j < r0 || j >= r1) continue;
        T* to = res + (oi * dim + j) * inner;
        const T* from = upd + (oi * m + k) * inner;
        for (int64_t c = c0; c < c1; ++c) to[c] = add_js(to[c], from[c]);
      }
    }
  });
}

void scatter_add_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                     const Attrs& attrs) {
  const TensorView& indices = in[0];
  const TensorView& updates = in[1];
  const TensorView& o = out[0];
  require_contiguous("scatterAdd", indices);
  require_contiguous("scatterAdd", updates);
  const int axis = normalized_axis(attrs.get_int("scatterAdd", "axis", 0), updates.rank());
  const int64_t dim = attrs.get_int("scatterAdd", "dimSize", 0);
  const int64_t outer = engine::shape_numel(Shape(o.shape.begin(), o.shape.begin() + axis));
  // As the js kernel: indices are only read (and checked) when there is a row to add into.
  const std::vector<int64_t> idx = outer > 0 ? checked_indices("scatterAdd", indices, dim, axis) : std::vector<int64_t>();
  if (o.numel() == 0) return;
  switch (o.dtype) {
    case DType::Float32: return scatter_add_typed<float>(ctx, idx, updates, o, axis, dim);
    case DType::Float64: return scatter_add_typed<double>(ctx, idx, updates, o, axis, dim);
    case DType::Int32: return scatter_add_typed<int32_t>(ctx, idx, updates, o, axis, dim);
    case DType::Bool: return scatter_add_typed<uint8_t>(ctx, idx, updates, o, axis, dim);
  }
}

template <class T>
inline bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}

// A value with its index in the row: what sort and topK order.
template <class T>
struct Item {
  T v;
  int32_t i;
};

// The descending order of sort and topK on numbers: larger first, ties (-0 and 0 among
// them) lower index first. A strict total order once the NaNs are set aside.
template <class T>
inline bool before_descending(const Item<T>& a, const Item<T>& b) {
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}

// The radix key of a value: its unsigned order is the sort order (descending: every bit
// of a number's key flipped), -0 and 0 share a key so that they tie (each keeps its
// sign: values are read back from the row by index), and NaN gets the largest key, so
// the NaNs come last in index order in either direction. Floats: the sign-flip trick
// (negatives inverted, positives with the sign bit set; +-inf stay below all ones);
// int32: the sign bit flipped; bool: itself. Branchless, so the loop building the keys
// vectorizes.
template <class T>
using RadixKey = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;

template <class T>
inline RadixKey<T> sort_key(T v, RadixKey<T> flip) {
  using Key = RadixKey<T>;
  if constexpr (std::is_floating_point_v<T>) {
    constexpr int top = 8 * int(sizeof(Key)) - 1;
    Key bits;
    std::memcpy(&bits, &v, sizeof(bits));
    bits = v == T(0) ? Key(0) : bits;
    const Key negative = Key(0) - (bits >> top);  // all ones for a negative number
    const Key key = (bits ^ (negative | (Key(1) << top))) ^ flip;
    return v != v ? ~Key(0) : key;
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return (uint32_t(v) ^ 0x80000000u) ^ flip;
  } else {
    return Key(v) ^ flip;
  }
}

template <class Key>
struct KeyIndex {
  Key key;
  int32_t i;
};

// Stable LSD radix sort of items[0, m) by key, kBits of it per pass; tmp is as long. A
// pass whose digit is the same in every key moves nothing and is skipped (int32 of a
// small range, bool). Returns the buffer holding the result.
template <int kBits, class Key>
const KeyIndex<Key>* radix_sort(KeyIndex<Key>* items, KeyIndex<Key>* tmp, size_t m) {
  constexpr int passes = (8 * int(sizeof(Key)) + kBits - 1) / kBits;
  constexpr uint32_t digits = 1u << kBits;
  constexpr Key mask = Key(digits - 1);
  std::vector<uint32_t> counts(size_t(passes) * digits, 0);  // a histogram per pass
  for (size_t j = 0; j < m; ++j) {
    for (int p = 0; p < passes; ++p) ++counts[p * digits + ((items[j].key >> (kBits * p)) & mask)];
  }
  KeyIndex<Key>* from = items;
  KeyIndex<Key>* to = tmp;
  for (int p = 0; p < passes; ++p) {
    uint32_t* count = counts.data() + p * digits;
    if (count[(from[0].key >> (kBits * p)) & mask] == m) continue;
    uint32_t at = 0;
    for (uint32_t b = 0; b < digits; ++b) {
      const uint32_t c = count[b];
      count[b] = at;
      at += c;
    }
    for (size_t j = 0; j < m; ++j) to[count[(from[j].key >> (kBits * p)) & mask]++] = from[j];
    std::swap(from, to);
  }
  return from;
}

// Rows shorter than this sort by comparison: the radix histograms cost more than they
// save. CPU time of std::sort over the radix sort, float32, one thread: rows of 16 0.4,
// 32 0.9, 64 2.4, 128 3.7, 4096 11.
constexpr int64_t kRadixMinRow = 64;
// Rows from this long take 11-bit digits (3 passes over float32 keys instead of 4):
// float32 rows of 4096 1.2x, float64 1.1x, int32 1.2x.
constexpr int64_t kRadixWideDigitsRow = 1024;

// Buffers of one thread's rows.
template <class T>
struct SortScratch {
  std::vector<Item<T>> items;
  std::vector<KeyIndex<RadixKey<T>>> keys;
};

// One row in sort order into out_v/out_i[0, n): the numbers sorted, then the NaNs in
// index order. Stable order is the order of (value, index) pairs: a strict total order
// once the NaNs are set aside, so an unstable sort of the pairs gives exactly the stable
// result, and so does the stable radix sort of keys laid out in index order.
template <class T>
void sort_row(const T* row, int64_t n, bool descending, T* out_v, int32_t* out_i, SortScratch<T>& scratch) {
  if (n >= kRadixMinRow) {
    using Key = RadixKey<T>;
    std::vector<KeyIndex<Key>>& keys = scratch.keys;
    keys.resize(2 * size_t(n));
    const Key flip = descending ? ~Key(0) : Key(0);
    for (int64_t i = 0; i < n; ++i) keys[size_t(i)] = {sort_key(row[i], flip), int32_t(i)};
    const KeyIndex<Key>* sorted = n >= kRadixWideDigitsRow ? radix_sort<11>(keys.data(), keys.data() + n, size_t(n))
                                                           : radix_sort<8>(keys.data(), keys.data() + n, size_t(n));
    for (int64_t j = 0; j < n; ++j) {
      out_v[j] = row[sorted[j].i];
      out_i[j] = sorted[j].i;
    }
    return;
  }
  std::vector<Item<T>>& items = scratch.items;
  items.resize(size_t(n));
  size_t numbers = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!is_nan(row[i])) items[numbers++] = {row[i], int32_t(i)};
  }
  if (descending) {
    std::sort(items.begin(), items.begin() + numbers, before_descending<T>);
  } else {
    std::sort(items.begin(), items.begin() + numbers, [](const Item<T>& a, const Item<T>& b) {
      return a.v < b.v || (a.v == b.v && a.i < b.i);
    });
  }
  for (size_t j = 0; j < numbers; ++j) {
    out_v[j] = items[j].v;
    out_i[j] = items[j].i;
  }
  size_t at = numbers;
  for (int64_t i = 0; i < n; ++i) {
    if (is_nan(row[i])) {
      out_v[at] = row[i];
      out_i[at++] = int32_t(i);
    }
  }
}

// sort: stable along the last axis, NaN last in both directions; rows in parallel.
template <class T>
void sort_typed(const KernelContext& ctx, const TensorView& x, const TensorView& values, const TensorView& indices,
                bool descending) {
  const int64_t n = x.shape.back();
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  const T* src = x.as<T>();
  T* vals = values.as<T>();
  int32_t* inds = indices.as<int32_t>();
  parallel_items(rows, n * int64_t(sizeof(T) + 4) * 8, ctx.max_threads, [&](int64_t begin, int64_t end) {
    SortScratch<T> scratch;
    for (int64_t r = begin; r < end; ++r) sort_row(src + r * n, n, descending, vals + r * n, inds + r * n, scratch);
  });
}

// topK's selection of one row: a heap of the best k seen so far (worst on top), scanning
// in index order. A later element beats the worst exactly when its value is greater (on
// a tie the lower index, the one in the heap, wins; NaN is never greater), so most of a
// row is rejected by one compare against the threshold, a block of 128 bytes per
// branch (any_greater). Gives up (false) on a row with fewer than k numbers
// (NaN fills the rest) and after n / kTopKMaxReplacements replacements (a rising row
// replaces at every element, each ~2 log k compares: sorting the row is cheaper).
constexpr int64_t kTopKBlockBytes = 128;
constexpr int64_t kTopKMaxReplacements = 16;

// Whether any of the kTopKBlockBytes at p is greater than the threshold: 16-byte vector
// compares (the baseline's SSE2 on x86-64; GCC/clang vector extensions, since the plain
// loop stayed scalar) or-ed together before one branch. NaN compares false.
template <class T>
struct Vector16;  // a 16-byte vector of T (the attribute does not apply to a dependent type)
template <>
struct Vector16<float> {
  typedef float type __attribute__((vector_size(16)));
};
template <>
struct Vector16<double> {
  typedef double type __attribute__((vector_size(16)));
};
template <>
struct Vector16<int32_t> {
  typedef int32_t type __attribute__((vector_size(16)));
};
template <>
struct Vector16<uint8_t> {
  typedef uint8_t type __attribute__((vector_size(16)));
};

template <class T>
inline bool any_greater(const T* p, T threshold) {
  using Vec = typename Vector16<T>::type;
  static_assert(sizeof(Vec) == 16);
  using Mask = decltype(Vec{} > Vec{});
  constexpr int lanes = 16 / int(sizeof(T));
  Mask any{};
  for (int v = 0; v < int(kTopKBlockBytes / 16); ++v) {
    Vec x;
    std::memcpy(&x, p + v * lanes, 16);
    any |= x > threshold;
  }
  uint64_t halves[2];
  std::memcpy(halves, &any, 16);
  return (halves[0] | halves[1]) != 0;
}

// Puts item in place of the heap's top (its worst) and sifts it down: one pass where
// std::pop_heap + std::push_heap take two. The heap is std's, ordered by before_descending.
template <class T>
void replace_worst(Item<T>* heap, size_t k, const Item<T>& item) {
  size_t hole = 0;
  for (;;) {
    size_t child = 2 * hole + 1;
    if (child >= k) break;
    if (child + 1 < k && before_descending(heap[child], heap[child + 1])) ++child;
    if (!before_descending(item, heap[child])) break;
    heap[hole] = heap[child];
    hole = child;
  }
  heap[hole] = item;
}

template <class T>
bool heap_top_k(const T* row, int64_t n, int64_t k, std::vector<Item<T>>& heap) {
  constexpr int64_t block = kTopKBlockBytes / int64_t(sizeof(T));
  int64_t i = 0, filled = 0;
  for (; i < n && filled < k; ++i) {
    if (!is_nan(row[i])) heap[size_t(filled++)] = {row[i], int32_t(i)};
  }
  if (filled < k) return false;
  std::make_heap(heap.begin(), heap.begin() + k, before_descending<T>);
  T threshold = heap.front().v;
  int64_t replacements_left = n / kTopKMaxReplacements;
  auto offer = [&](int64_t at) {
    if (!(row[at] > threshold)) return true;
    replace_worst(heap.data(), size_t(k), Item<T>{row[at], int32_t(at)});
    threshold = heap.front().v;
    return --replacements_left >= 0;
  };
  for (; i < n && i % block != 0; ++i) {
    if (!offer(i)) return false;
  }
  for (; i + block <= n; i += block) {
    if (!any_greater(row + i, threshold)) continue;
    for (int64_t j = 0; j < block; ++j) {
      if (!offer(i + j)) return false;
    }
  }
  for (; i < n; ++i) {
    if (!offer(i)) return false;
  }
  std::sort(heap.begin(), heap.begin() + k, before_descending<T>);
  return true;
}

// topK: the first k of the descending sort, per row; rows in parallel. Selection when k
// is at most n / kTopKSelectRatio, else (or when the selection gives up) the row's sort.
// CPU time of the selection over the radix sort, random float32 rows of 4096: k = 1
// 0.03, 8 0.13, 16 0.22, 32 0.42; k = 64 1.3 (its ~k ln(n/k) = 266 replacements pass
// the limit). A random row replaces ~k ln(n/k) < n/30 times under this ratio.
constexpr int64_t kTopKSelectRatio = 128;

template <class T>
void top_k_typed(const KernelContext& ctx, const TensorView& x, const TensorView& values, const TensorView& indices,
                 int64_t k) {
  const int64_t n = x.shape.back();
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  if (k == 0 || rows == 0) return;
  const T* src = x.as<T>();
  T* vals = values.as<T>();
  int32_t* inds = indices.as<int32_t>();
  const bool select = k <= n / kTopKSelectRatio;
  parallel_items(rows, n * int64_t(sizeof(T)), ctx.max_threads, [&](int64_t begin, int64_t end) {
    std::vector<Item<T>> best(static_cast<size_t>(select ? k : 0));
    SortScratch<T> scratch;
    std::vector<T> sorted_v;
    std::vector<int32_t> sorted_i;
    for (int64_t r = begin; r < end; ++r) {
      const T* row = src + r * n;
      if (select && heap_top_k(row, n, k, best)) {
        for (int64_t j = 0; j < k; ++j) {
          vals[r * k + j] = best[size_t(j)].v;
          inds[r * k + j] = best[size_t(j)].i;
        }
      } else {
        sorted_v.resize(size_t(n));
        sorted_i.resize(size_t(n));
        sort_row(row, n, true, sorted_v.data(), sorted_i.data(), scratch);
        std::copy_n(sorted_v.data(), k, vals + r * k);
        std::copy_n(sorted_i.data(), k, inds + r * k);
      }
    }
  });
}

void sort_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
              const Attrs& attrs) {
  const TensorView& x = in[0];
  require_contiguous("sort", x);
  if (x.shape.back() > 2147483647) throw OpError("ValueError", "sort: the sorted axis is too long for int32 indices");
  const bool descending = attrs.get_bool("sort", "descending", false);
  switch (x.dtype) {
    case DType::Float32: return sort_typed<float>(ctx, x, out[0], out[1], descending);
    case DType::Float64: return sort_typed<double>(ctx, x, out[0], out[1], descending);
    case DType::Int32: return sort_typed<int32_t>(ctx, x, out[0], out[1], descending);
    case DType::Bool: return sort_typed<uint8_t>(ctx, x, out[0], out[1], descending);
  }
}

void top_k_cpu(const KernelContext& ctx, const std::vector<TensorView>& in, const std::vector<TensorView>& out,
               const Attrs& attrs) {
  const TensorView& x = in[0];
  require_contiguous("topK", x);
  if (x.shape.back() > 2147483647) throw OpError("ValueError", "topK: the axis is too long for int32 indices");
  const int64_t k = out[0].shape.back();  // checked against the axis by the op definition
  switch (x.dtype) {
    case DType::Float32: return top_k_typed<float>(ctx, x, out[0], out[1], k);
    case DType::Float64: return top_k_typed<double>(ctx, x, out[0], out[1], k);
    case DType::Int32: return top_k_typed<int32_t>(ctx, x, out[0], out[1], k);
    case DType::Bool: return top_k_typed<uint8_t>(ctx, x, out[0], out[1], k);
  }
}

}  // namespace

void register_indexing(kernels::KernelRegistry& registry) {
  registry.register_kernel("gather", engine::Device::CPU, gather_cpu);
  registry.register_kernel("scatterAdd", engine::Device::CPU, scatter_add_cpu);
  registry.register_kernel("sort", engine::Device::CPU, sort_cpu);
  registry.register_kernel("topK", engine::Device::CPU, top_k_cpu);
}

}  // namespace keras::cpu
