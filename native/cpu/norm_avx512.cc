// avx512 instantiation of the layer- and batch-normalization rows (norm_kernels.h,
// batch_norm_kernels.h), in one object so their shared helpers exist once per ISA.
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "norm_kernels.h"
#include "batch_norm_kernels.h"

namespace keras::cpu {

constexpr NormIsaTable kNormAvx512Table = make_norm_table<avx512::Isa>("avx512");
const NormIsaTable kNormAvx512 = kNormAvx512Table;

constexpr BatchNormIsaTable kBatchNormAvx512Table = make_batch_norm_table<avx512::Isa>("avx512");
const BatchNormIsaTable kBatchNormAvx512 = kBatchNormAvx512Table;

}  // namespace keras::cpu
