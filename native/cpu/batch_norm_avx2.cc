// avx2 instantiation of the fused batch normalization rows (batch_norm_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "batch_norm_kernels.h"

namespace keras::cpu {

constexpr BatchNormIsaTable kBatchNormAvx2Table = make_batch_norm_table<avx2::Isa>("avx2");
const BatchNormIsaTable kBatchNormAvx2 = kBatchNormAvx2Table;

}  // namespace keras::cpu
