// Per-ISA row functions of the elementwise kernels (reductions have their own table,
// reduction.h). The CPU
// drivers (elementwise.cc) handle shapes, broadcasting and threads, and call
// these on runs of elements; each ISA builds one constant table from the same
// templates (elementwise_kernels.h).
#pragma once
#include <cstdint>

#include "../kernels/elementwise_ops.h"

namespace keras::cpu {

constexpr int kNumDTypes = 4;  // engine::DType order: float32, float64, int32, bool

// out[i] = op(x[i * x_stride]) for i < n; out is contiguous. from_memory: x and out stream from
// memory (tensors larger than the last-level cache), which picks the loop shape (the same values).
using UnaryRowFn = void (*)(int64_t n, const void* x, int64_t x_stride, void* out, bool from_memory);
// out[i] = op(a[i * a_stride], b[i * b_stride]); a stride of 0 broadcasts. stream: out may be
// written around the caches (streaming stores, for an output larger than they are; the same values).
using BinaryRowFn = void (*)(int64_t n, const void* a, int64_t a_stride, const void* b, int64_t b_stride, void* out,
                             bool stream);

// out[i] = cond[i * sc] ? a[i * sa] : b[i * sb], each stride 0 (a broadcast value) or 1,
// cond as bytes (bool), at where[dtype][sc * 4 + sa * 2 + sb].
using WhereRowFn = void (*)(int64_t n, const uint8_t* cond, const void* a, const void* b, void* out);
constexpr int kWhereStrides = 8;

struct ElementwiseTable {
  UnaryRowFn unary[kernels::kNumUnaryOps][kNumDTypes];
  BinaryRowFn binary[kernels::kNumBinaryOps][kNumDTypes];
  WhereRowFn where[kNumDTypes][kWhereStrides];
};

extern const ElementwiseTable kAvx512Elementwise;
extern const ElementwiseTable kAvx2Elementwise;
extern const ElementwiseTable kPortableElementwise;

}  // namespace keras::cpu
