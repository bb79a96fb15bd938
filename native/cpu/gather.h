// Per-ISA element gathers along a row for gather's single-element case (indexing.cc): the
// tables are instantiated from gather_kernels.h in gather_<isa>.cc.
#pragma once
#include <cstdint>

namespace keras::cpu {

// dst[i] = src[idx[i]] for i < n; every idx[i] a valid index of src (checked by the caller).
// Elements only matter by size: bit patterns are moved unchanged. Meanwhile the lines of
// [ahead, ahead + ahead_bytes) are requested into L2, spread over the run (ahead null: none):
// the next source row's share, whose lines the indices will touch in no order the hardware
// prefetchers follow. stream: dst may bypass the caches (an output larger than they are).
using GatherElementsFn = void (*)(const void* src, const int32_t* idx, void* dst, int64_t n, const void* ahead,
                                  int64_t ahead_bytes, bool stream);

struct GatherIsaTable {
  const char* isa;
  GatherElementsFn bytes1, bytes4, bytes8;  // by element size
};

extern const GatherIsaTable kGatherAvx512;
extern const GatherIsaTable kGatherAvx2;
extern const GatherIsaTable kGatherPortable;

}  // namespace keras::cpu
