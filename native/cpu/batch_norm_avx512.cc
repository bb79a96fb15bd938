// avx512 instantiation of the fused batch normalization rows (batch_norm_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "batch_norm_kernels.h"

namespace keras::cpu {

constexpr BatchNormIsaTable kBatchNormAvx512Table = make_batch_norm_table<avx512::Isa>("avx512");
const BatchNormIsaTable kBatchNormAvx512 = kBatchNormAvx512Table;

}  // namespace keras::cpu
