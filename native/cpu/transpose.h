// Per-ISA 2-D block transposes for the data-movement kernels (shape.cc): the
// tables are instantiated from transpose_kernels.h in transpose_<isa>.cc.
#pragma once
#include <cstdint>

namespace keras::cpu {

// dst[c * dst_stride + r] = src[r * src_stride + c] for r < rows, c < cols; strides
// in elements. Elements only matter by size: bit patterns are moved unchanged.
// stream: the output may bypass the caches (for outputs larger than they are).
using TransposeBlockFn = void (*)(const void* src, int64_t src_stride, void* dst, int64_t dst_stride, int64_t rows,
                                  int64_t cols, bool stream);

struct TransposeIsaTable {
  const char* isa;
  TransposeBlockFn bytes1, bytes4, bytes8;  // by element size
  // The blocks to hand it: this many source rows by this many bytes of each.
  int64_t tile_rows, tile_row_bytes;
};

extern const TransposeIsaTable kTransposeAvx512;
extern const TransposeIsaTable kTransposeAvx2;
extern const TransposeIsaTable kTransposePortable;

}  // namespace keras::cpu
