// Shape/dtype inference of the elementwise and reduction ops (lists in elementwise_ops.h).
#pragma once
#include <cstdint>

#include "elementwise_ops.h"
#include "kernel.h"

namespace keras::kernels {

// numpy broadcasting of two shapes; throws OpError naming the op and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Sorted, non-negative reduction axes from attrs (absent: all axes); throws
// OpError for out-of-range or repeated axes.
std::vector<int> reduction_axes(const char* op, const Attrs& attrs, int rank);

// The `axis` attr of argmax/argmin/cumsum/cumprod, made non-negative; throws OpError.
int reduction_axis(const char* op, const Attrs& attrs, const Shape& shape);

// Elementwise (unary, binary, where, cast, fullLike, identity, stopGradient) and
// reduction (sum ... all, argmax, argmin, cumsum, cumprod) ops.
void define_elementwise_ops(KernelRegistry& registry);

}  // namespace keras::kernels
